//! Photos composed from the sample portraits, for the size benchmark and the tests that need
//! big or crowded photos without committing them.

use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::detect::Detector;

/// A head cut from a portrait, with its face box in the cut's coordinates.
pub struct Head {
    pub image: RgbImage,
    pub face: [f32; 4],
}

impl Head {
    /// The first face of `photo` with half a face of context on each side.
    pub fn cut(detector: &mut Detector, photo: &RgbImage) -> crate::Result<Option<Self>> {
        let Some(face) = detector.detect(photo)?.into_iter().next() else {
            return Ok(None);
        };
        let b = face.bbox.0;
        let (w, h) = (b[2] - b[0], b[3] - b[1]);
        let x = (b[0] - 0.5 * w).max(0.0);
        let y = (b[1] - 0.5 * h).max(0.0);
        let cw = (2.0 * w).min(photo.width() as f32 - x);
        let ch = (2.0 * h).min(photo.height() as f32 - y);
        Ok(Some(Self {
            image: imageops::crop_imm(photo, x as u32, y as u32, cw as u32, ch as u32).to_image(),
            face: [b[0] - x, b[1] - y, b[2] - x, b[3] - y],
        }))
    }
}

/// Where a composed face went: its width and its box's centre, in photo pixels.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    pub width: f32,
    pub centre: [f32; 2],
}

/// A smooth background of colour steps: nothing on it looks like a face.
pub fn background(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let v = 90 + (x / 60 + y / 50) as u8 % 60;
        image::Rgb([v, v.saturating_add(10), v.saturating_sub(10)])
    })
}

/// A group photo: `count` heads (taking turns from `heads`) in a 5-column grid of cells over
/// the background, face widths growing geometrically from `widths.0` to `widths.1`.
pub fn group(
    heads: &[Head],
    (width, height): (u32, u32),
    count: u32,
    widths: (f32, f32),
) -> (RgbImage, Vec<Placed>) {
    let mut photo = background(width, height);
    let rows = count.div_ceil(5).max(1);
    let (cell_w, cell_h) = (width / 5, height / rows);
    let mut placed = Vec::new();
    for i in 0..count {
        let t = if count > 1 {
            i as f32 / (count - 1) as f32
        } else {
            0.0
        };
        let face_width = widths.0 * (widths.1 / widths.0).powf(t);
        let head = &heads[i as usize % heads.len()];
        let b = head.face;
        let k = face_width / (b[2] - b[0]);
        let (w, h) = (
            (head.image.width() as f32 * k) as u32,
            (head.image.height() as f32 * k) as u32,
        );
        let scaled = imageops::resize(&head.image, w, h, FilterType::Lanczos3);
        let (x, y) = (
            (i % 5) * cell_w + cell_w / 12,
            (i / 5) * cell_h + cell_h / 50,
        );
        imageops::replace(&mut photo, &scaled, i64::from(x), i64::from(y));
        placed.push(Placed {
            width: face_width,
            centre: [
                x as f32 + k * (b[0] + b[2]) / 2.0,
                y as f32 + k * (b[1] + b[3]) / 2.0,
            ],
        });
    }
    (photo, placed)
}

/// `photo` enlarged (or shrunk) to about `megapixels`, keeping its shape.
pub fn resized_to(photo: &RgbImage, megapixels: f64) -> RgbImage {
    let k = (megapixels * 1e6 / (photo.width() as f64 * photo.height() as f64)).sqrt();
    let (w, h) = (
        (photo.width() as f64 * k).round() as u32,
        (photo.height() as f64 * k).round() as u32,
    );
    imageops::resize(photo, w, h, FilterType::Lanczos3)
}
