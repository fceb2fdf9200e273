//! Where the detector looks. UltraFace sees 320×240 pixels and finds faces from about 12 of them
//! up, so squeezing a 24 MP photo into it loses every face under ~250 px. Instead it looks at a
//! pyramid of 4:3 windows: the whole photo (letterboxed, aspect kept), then windows half as wide
//! at each level down to 960 px wide, each level overlapping by a quarter of a window so every
//! face small enough for that level lies whole inside one of its windows. A face of width F is
//! whole in some window of a level whose width is at least 4F, and is at least 12 detector pixels
//! in a window up to 27F wide; levels at most halving keep those ranges overlapping.

use image::RgbImage;
use image::imageops::{self, FilterType};
use ndarray::Array4;

use crate::geometry::FaceBox;

pub(super) const DET_W: u32 = 320;
pub(super) const DET_H: u32 = 240;
/// The finest level's window width: a 40 px face is 13 detector pixels there, still found
/// (tests/detect.rs); 640 found no more faces and took twice the runs.
const FINEST: f32 = 960.0;

/// A 4:3 window of the photo, in photo pixels; it may reach past the photo (letterbox).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Window {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    /// Whether each edge (left, top, right, bottom) lies inside the photo, where it can cut a face.
    inner: [bool; 4],
}

impl Window {
    fn h(&self) -> f32 {
        self.w * DET_H as f32 / DET_W as f32
    }

    /// A box (fractions of the window) to photo pixels, clamped to the photo.
    pub fn to_photo(self, b: &[f32; 4], width: f32, height: f32) -> FaceBox {
        let h = self.h();
        FaceBox([
            (self.x + b[0] * self.w).clamp(0.0, width),
            (self.y + b[1] * h).clamp(0.0, height),
            (self.x + b[2] * self.w).clamp(0.0, width),
            (self.y + b[3] * h).clamp(0.0, height),
        ])
    }

    /// Whether a box (fractions of the window) touches an edge of the window that lies inside
    /// the photo, so the face may be cut.
    pub fn cuts(&self, b: &[f32; 4]) -> bool {
        const MARGIN: f32 = 0.01;
        let touches = [
            b[0] <= MARGIN,
            b[1] <= MARGIN,
            b[2] >= 1.0 - MARGIN,
            b[3] >= 1.0 - MARGIN,
        ];
        touches.iter().zip(self.inner).any(|(t, inner)| *t && inner)
    }
}

/// Every window to look at, the whole photo first.
pub(super) fn windows(width: u32, height: u32) -> Vec<Window> {
    let (pw, ph) = (width.max(1) as f32, height.max(1) as f32);
    let aspect = DET_H as f32 / DET_W as f32;
    let whole_w = pw.max(ph / aspect);
    let mut sizes = vec![whole_w];
    let mut s = whole_w / 2.0;
    while s >= 2.0 * FINEST {
        sizes.push(s);
        s /= 2.0;
    }
    if whole_w > FINEST * 1.25 {
        sizes.push(FINEST);
    }
    let mut out = Vec::new();
    for (level, &w) in sizes.iter().enumerate() {
        let h = w * aspect;
        if level == 0 {
            // Centred, so the letterbox bars split evenly.
            out.push(Window {
                x: (pw - w) / 2.0,
                y: (ph - h) / 2.0,
                w,
                inner: [false; 4],
            });
            continue;
        }
        for y in starts(ph, h) {
            for x in starts(pw, w) {
                out.push(Window {
                    x,
                    y,
                    w,
                    inner: [x > 0.0, y > 0.0, x + w < pw, y + h < ph],
                });
            }
        }
    }
    out
}

/// Window origins along one side: a stride of three quarters of a window, the last window flush
/// with the far edge (or one window, centred, if the side is shorter than a window).
fn starts(side: f32, window: f32) -> Vec<f32> {
    if side <= window {
        return vec![(side - window) / 2.0];
    }
    let n = ((side - window) / (0.75 * window)).ceil() as usize + 1;
    let step = (side - window) / (n - 1) as f32;
    (0..n).map(|i| i as f32 * step).collect()
}

/// The photo halved again and again, so a window is cut from the level nearest its scale and
/// a 24 MP photo is filtered once, not once per window.
pub(super) struct Pyramid<'a> {
    base: &'a RgbImage,
    halves: Vec<RgbImage>,
}

impl<'a> Pyramid<'a> {
    pub fn new(base: &'a RgbImage, windows: &[Window]) -> Self {
        let widest = windows.iter().map(|w| w.w).fold(0.0, f32::max);
        let mut halves: Vec<RgbImage> = Vec::new();
        // Halve while even the widest window is shrunk by at least the next factor: then every
        // window is cut from a level at most twice its detector size, and resizing it is cheap.
        let mut factor = 2.0;
        while widest / DET_W as f32 >= factor {
            let prev = halves.last().unwrap_or(base);
            if prev.width() < 2 || prev.height() < 2 {
                break;
            }
            halves.push(halve(prev));
            factor *= 2.0;
        }
        Self { base, halves }
    }

    /// The coarsest level still at least as sharp as `scale` (detector pixels per photo pixel)
    /// needs, and its size relative to the photo.
    fn level(&self, scale: f32) -> (&RgbImage, f32) {
        let mut best = (self.base, 1.0);
        for (i, img) in self.halves.iter().enumerate() {
            let k = 0.5f32.powi(i as i32 + 1);
            if k >= scale {
                best = (img, k);
            }
        }
        best
    }
}

/// Each pixel the mean of a 2×2 block (a trailing odd row or column is dropped): the cheapest
/// filter that does not alias, and pixel centres stay at exactly half the coordinates.
fn halve(img: &RgbImage) -> RgbImage {
    let (w, h) = (img.width() / 2, img.height() / 2);
    let src = img.as_raw();
    let stride = img.width() as usize * 3;
    let mut out = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h as usize {
        let (top, bottom) = (&src[2 * y * stride..], &src[(2 * y + 1) * stride..]);
        for x in 0..w as usize {
            for c in 0..3 {
                let i = 6 * x + c;
                let sum = u16::from(top[i])
                    + u16::from(top[i + 3])
                    + u16::from(bottom[i])
                    + u16::from(bottom[i + 3]);
                out.push(((sum + 2) / 4) as u8);
            }
        }
    }
    RgbImage::from_raw(w, h, out).expect("buffer sized to the image")
}

/// The detector's input for one window: the photo under it resized to 320×240 (grey, the
/// detector's zero, where the window reaches past the photo), RGB, (px − 127) / 128.
pub(super) fn window_input(pyramid: &Pyramid, win: &Window) -> Array4<f32> {
    let scale = DET_W as f32 / win.w;
    let (img, k) = pyramid.level(scale);
    let (wx, wy, ww, wh) = (win.x * k, win.y * k, win.w * k, win.h() * k);
    let scale = scale / k;
    // The part of the level inside the window, and where it lands in the detector's input.
    let x0 = (wx.max(0.0).floor() as u32).min(img.width().saturating_sub(1));
    let y0 = (wy.max(0.0).floor() as u32).min(img.height().saturating_sub(1));
    let x1 = ((wx + ww).min(img.width() as f32).ceil() as u32).clamp(x0 + 1, img.width().max(1));
    let y1 = ((wy + wh).min(img.height() as f32).ceil() as u32).clamp(y0 + 1, img.height().max(1));
    let mut input = Array4::<f32>::zeros((1, 3, DET_H as usize, DET_W as usize));
    if img.width() == 0 || img.height() == 0 || x1 <= x0 || y1 <= y0 {
        return input;
    }
    let dx = (((x0 as f32 - wx) * scale).round().max(0.0) as u32).min(DET_W - 1);
    let dy = (((y0 as f32 - wy) * scale).round().max(0.0) as u32).min(DET_H - 1);
    let tw = (((x1 - x0) as f32 * scale).round() as u32).clamp(1, DET_W - dx);
    let th = (((y1 - y0) as f32 * scale).round() as u32).clamp(1, DET_H - dy);
    let part = imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    let small = imageops::resize(&part, tw, th, FilterType::Triangle);
    for (x, y, p) in small.enumerate_pixels() {
        let (xx, yy) = ((x + dx) as usize, (y + dy) as usize);
        for c in 0..3 {
            input[[0, c, yy, xx]] = (f32::from(p[c]) - 127.0) / 128.0;
        }
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_photo_is_seen_whole_and_a_big_one_in_overlapping_tiles() {
        let small = windows(250, 250);
        assert_eq!(small.len(), 1);
        let big = windows(6000, 4000);
        assert!(big.len() > 50 && big.len() < 150, "{}", big.len());
        // Every point of the photo is inside some finest window, away from its cutting edges.
        let finest: Vec<&Window> = big.iter().filter(|w| w.w == FINEST).collect();
        for (px, py) in [
            (0.0, 0.0),
            (5999.0, 3999.0),
            (3000.0, 2000.0),
            (1234.0, 3210.0),
        ] {
            assert!(finest.iter().any(|w| {
                let m = w.w / 8.0;
                px >= w.x + m * f32::from(u8::from(w.inner[0]))
                    && px <= w.x + w.w - m * f32::from(u8::from(w.inner[2]))
                    && py >= w.y + m * f32::from(u8::from(w.inner[1]))
                    && py <= w.y + w.h() - m * f32::from(u8::from(w.inner[3]))
            }));
        }
    }

    #[test]
    fn the_whole_photo_keeps_its_aspect() {
        let tall = RgbImage::from_pixel(100, 400, image::Rgb([255, 255, 255]));
        let whole = windows(100, 400);
        let input = window_input(&Pyramid::new(&tall, &whole), &whole[0]);
        // Centre column white, far left and right grey letterbox.
        assert!(input[[0, 0, 120, 160]] > 0.9);
        assert_eq!(input[[0, 0, 120, 5]], 0.0);
        assert_eq!(input[[0, 0, 120, 315]], 0.0);
    }
}
