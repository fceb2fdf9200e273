//! What people see: how much a cloak changes the face, judged where they look (the face box and a
//! little around it) at the size a feed shows the photo and at 100 %, with SSIMULACRA2 — a
//! perceptual metric on which 90 is visually lossless, 70 is about a JPEG at quality 75, 50 is
//! clearly visible.

use image::RgbImage;
use image::imageops::{FilterType, crop_imm, resize};
use serde::{Deserialize, Serialize};
use ssimulacra2::{ColorPrimaries, Rgb, TransferCharacteristic, compute_frame_ssimulacra2};

use crate::geometry::Rect;

/// Long side of a photo as a feed shows it: larger photos are judged scaled down to it.
pub const DISPLAY_LONG_SIDE: f32 = 1080.0;

/// Largest side of the window judged at 100 %: a screen shows about this much of a face when a
/// person zooms in, and judging a 2000 px face whole would cost seconds. Faces up to about 360 px
/// wide (every face in the evaluation) are judged whole.
pub const FULL_WINDOW: u32 = 512;

/// Share of the face box added on every side before judging it.
pub const FACE_PADDING: f32 = 0.2;

/// How visible a cloak is on one face.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceQuality {
    /// SSIMULACRA2 of the padded face box at feed size: the photo scaled down to a 1080 px long
    /// side, small photos enlarged to 480 px ([`display_scale`]).
    pub display: f64,
    /// SSIMULACRA2 of the padded face box at 100 % (its middle [`FULL_WINDOW`] px on a big face).
    pub full: f64,
}

impl FaceQuality {
    /// A plain-words rating of the feed-size score (bands in the README).
    pub fn rating(&self) -> &'static str {
        rating(self.display)
    }
}

/// "invisible" from 80, "slight" from 65, "visible" below.
pub fn rating(score: f64) -> &'static str {
    if score >= 80.0 {
        "invisible"
    } else if score >= 65.0 {
        "slight"
    } else {
        "visible"
    }
}

/// A photo whose long side is shorter is judged enlarged to it ([`display_scale`]).
pub const SMALLEST_DISPLAY_SIDE: f32 = 480.0;

/// Scale at which a `width`×`height` photo is judged as a feed shows it. A phone shows a photo
/// about 12° wide (a 65 mm screen at 30 cm), so a photo pixel of a 750 px photo spans about one
/// minute of arc, less than a desktop screen's pixel at arm's length (about 1.5'), the viewing
/// SSIMULACRA2 was calibrated for: such photos are judged at their own size. Larger photos are
/// judged scaled down to a 1080 px long side (their pixels span less still), and only photos
/// under 480 px, whose pixels a phone draws larger than that, are enlarged, to 480 px. Before
/// round six every photo was enlarged to 1080 px, which judged a 750 px photo as through a
/// magnifier (docs/evaluation.md).
pub fn display_scale(width: u32, height: u32) -> f32 {
    let long = width.max(height).max(1) as f32;
    if long > DISPLAY_LONG_SIDE {
        DISPLAY_LONG_SIDE / long
    } else if long < SMALLEST_DISPLAY_SIDE {
        SMALLEST_DISPLAY_SIDE / long
    } else {
        1.0
    }
}

/// The yardstick before round six: photos smaller than 1080 px enlarged to it before scoring.
/// Kept so the evaluation can show what changed.
pub fn enlarged_display_scale(width: u32, height: u32) -> f32 {
    DISPLAY_LONG_SIDE / width.max(height).max(1) as f32
}

/// SSIMULACRA2 of two same-sized images; 100 when they are too small to judge (under 8 px).
pub fn ssimulacra2(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let (w, h) = a.dimensions();
    if w < 8 || h < 8 {
        return 100.0;
    }
    let frame = |img: &RgbImage| {
        let data = img
            .pixels()
            .map(|p| p.0.map(|v| f32::from(v) / 255.0))
            .collect();
        Rgb::new(
            data,
            w as usize,
            h as usize,
            TransferCharacteristic::SRGB,
            ColorPrimaries::BT709,
        )
    };
    match (frame(a), frame(b)) {
        (Ok(fa), Ok(fb)) => compute_frame_ssimulacra2(fa, fb).unwrap_or(100.0),
        _ => 100.0,
    }
}

/// A rectangle of a photo as shown at a scale: every image is cut and resized the same way, so
/// a reference can be prepared once and compared with many candidates.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub rect: Rect,
    pub scale: f32,
}

impl View {
    pub fn of(&self, img: &RgbImage) -> RgbImage {
        let r = self.rect;
        let c = crop_imm(img, r.x, r.y, r.w, r.h).to_image();
        if (self.scale - 1.0).abs() < 1e-3 {
            return c;
        }
        let w = ((r.w as f32 * self.scale).round() as u32).max(1);
        let h = ((r.h as f32 * self.scale).round() as u32).max(1);
        resize(&c, w, h, FilterType::Triangle)
    }
}

/// SSIMULACRA2 of `rect` in two same-sized images, with both scaled by `scale` first.
pub fn region_score(a: &RgbImage, b: &RgbImage, rect: Rect, scale: f32) -> f64 {
    let view = View { rect, scale };
    ssimulacra2(&view.of(a), &view.of(b))
}

/// The middle of `r`, at most [`FULL_WINDOW`] on a side.
fn centre_window(r: Rect) -> Rect {
    let (w, h) = (r.w.min(FULL_WINDOW), r.h.min(FULL_WINDOW));
    Rect {
        x: r.x + (r.w - w) / 2,
        y: r.y + (r.h - h) / 2,
        w,
        h,
    }
}

/// How visible the change between `original` and `cloaked` is on the face with detector box
/// `face`, within photos of `photo_w`×`photo_h` (the images may be a region of the photo, with
/// `face` in their coordinates).
pub fn face_quality(
    original: &RgbImage,
    cloaked: &RgbImage,
    face: Rect,
    photo_w: u32,
    photo_h: u32,
) -> FaceQuality {
    let padded = face.padded(FACE_PADDING, original.width(), original.height());
    FaceQuality {
        display: region_score(original, cloaked, padded, display_scale(photo_w, photo_h)),
        full: region_score(original, cloaked, centre_window(padded), 1.0),
    }
}

/// [`FaceQuality::display`] alone, for whole photos.
pub fn feed_score(original: &RgbImage, cloaked: &RgbImage, face: Rect) -> f64 {
    let (w, h) = original.dimensions();
    region_score(
        original,
        cloaked,
        face.padded(FACE_PADDING, w, h),
        display_scale(w, h),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn textured(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let v = (128.0 + 60.0 * ((x as f32 / 5.0).sin() * (y as f32 / 7.0).cos())) as u8;
            image::Rgb([v, v.wrapping_add(10), v.wrapping_sub(10)])
        })
    }

    #[test]
    fn identical_faces_score_100_and_noise_scores_lower() {
        let a = textured(200, 160);
        let face = Rect {
            x: 50,
            y: 40,
            w: 100,
            h: 80,
        };
        let same = face_quality(&a, &a, face, 200, 160);
        assert!(same.display > 99.0 && same.full > 99.0, "{same:?}");
        let mut b = a.clone();
        for (i, p) in b.pixels_mut().enumerate() {
            let n = if (i * 7919) % 13 < 6 { 30 } else { -30 };
            p.0 = p.0.map(|v| (i32::from(v) + n).clamp(0, 255) as u8);
        }
        let noisy = face_quality(&a, &b, face, 200, 160);
        assert!(noisy.full < 80.0, "{noisy:?}");
        assert_eq!(rating(noisy.full.min(64.0)), "visible");
        assert_eq!(rating(same.display), "invisible");
    }
}
