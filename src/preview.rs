//! Small images for a user interface: thumbnails of photos and the face before and after.

use std::path::Path;

use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::Result;
use crate::geometry::FaceBox;

/// JPEG bytes of a thumbnail whose long edge is `max` pixels (upright, as the photo is shown).
pub fn thumbnail(path: &Path, max: u32) -> Result<Vec<u8>> {
    let img = crate::io::load_rgb(path)?;
    Ok(jpeg(&shrink(&img, max)))
}

/// JPEG bytes of a photo already decoded, its long edge at most `max` pixels: the photo as a
/// screen shows it.
pub fn screen(img: &RgbImage, max: u32) -> Vec<u8> {
    jpeg(&shrink(img, max))
}

fn shrink(img: &RgbImage, max: u32) -> RgbImage {
    let long = img.width().max(img.height());
    if long <= max {
        return img.clone();
    }
    let s = max as f32 / long as f32;
    let (w, h) = (
        (img.width() as f32 * s).round().max(1.0),
        (img.height() as f32 * s).round().max(1.0),
    );
    imageops::resize(img, w as u32, h as u32, FilterType::Triangle)
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    // Previews are at most screen-sized: encoding to memory cannot fail.
    crate::output::jpeg_bytes(img, 90, true).unwrap_or_default()
}

/// The face box (with a margin) from the original and the cloaked photo, at 100 % zoom, as JPEG
/// bytes, with the face's SSIMULACRA2 at feed size (0 when the two photos differ in size, so a
/// mismatch never reads as invisible).
pub fn face_pair(
    original: &Path,
    cloaked: &Path,
    bbox: &FaceBox,
) -> Result<(Vec<u8>, Vec<u8>, f64)> {
    let a = crate::io::load_rgb(original)?;
    let b = crate::io::load_rgb(cloaked)?;
    let (w, h) = a.dimensions();
    let r = bbox
        .grown(0.15 * bbox.width().max(bbox.height()))
        .rect(w, h);
    let crop = |img: &RgbImage| imageops::crop_imm(img, r.x, r.y, r.w, r.h).to_image();
    let quality = if a.dimensions() == b.dimensions() {
        crate::visibility::feed_score(&a, &b, bbox.rect(w, h))
    } else {
        0.0
    };
    Ok((jpeg(&crop(&a)), jpeg(&crop(&b)), quality))
}
