//! Moving pixels between 8-bit photos and planar float regions (3×h×w, RGB in [0, 1]), the form
//! the optimiser and the warp work in.

use image::RgbImage;
use ndarray::{Array3, ArrayView3};

use crate::geometry::Rect;

/// The photo's pixels in a region as planar RGB floats in [0, 1] (3×h×w).
pub fn region_planes(photo: &RgbImage, r: Rect) -> Array3<f32> {
    let mut out = Array3::<f32>::zeros((3, r.h as usize, r.w as usize));
    for y in 0..r.h {
        for x in 0..r.w {
            let p = photo.get_pixel(r.x + x, r.y + y);
            for c in 0..3 {
                out[[c, y as usize, x as usize]] = f32::from(p[c]) / 255.0;
            }
        }
    }
    out
}

pub fn write_region(out: &mut RgbImage, r: Rect, x0: &Array3<f32>, delta: &Array3<f32>) {
    for y in 0..r.h as usize {
        for x in 0..r.w as usize {
            let p = out.get_pixel_mut(r.x + x as u32, r.y + y as u32);
            for c in 0..3 {
                p[c] = ((x0[[c, y, x]] + delta[[c, y, x]]).clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }
}

/// `image` with `k · delta` added, rounded to 8 bits.
pub fn apply_scaled(image: &RgbImage, delta: ArrayView3<f32>, k: f32) -> RgbImage {
    let mut out = image.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        for c in 0..3 {
            let v = f32::from(p[c]) + 255.0 * k * delta[[c, y as usize, x as usize]];
            p[c] = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}
