//! Five-point similarity alignment onto the 112×112 template every recogniser shares.

use image::RgbImage;
use ndarray::Array3;

use crate::geometry::Similarity;

/// Side of the aligned face crop.
pub const FACE_SIZE: usize = 112;

/// Where the eyes, nose tip and mouth corners land in the 112×112 crop (the ArcFace template).
pub const TEMPLATE: [[f32; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// The transform from photo coordinates into the 112×112 crop, given the five landmarks.
pub fn face_transform(five: &[[f32; 2]; 5]) -> Similarity {
    Similarity::estimate(five, &TEMPLATE)
}

/// Samples the aligned face as CHW RGB floats in [0, 1], bilinearly; outside the photo reads as
/// the nearest edge pixel so borders do not pull the embedding toward black.
pub fn warp_face(img: &RgbImage, to_face: &Similarity) -> Array3<f32> {
    let inv = to_face.inverse();
    let (w, h) = (img.width() as i64, img.height() as i64);
    let raw = img.as_raw();
    let mut out = Array3::<f32>::zeros((3, FACE_SIZE, FACE_SIZE));
    for y in 0..FACE_SIZE {
        for x in 0..FACE_SIZE {
            let [sx, sy] = inv.apply([x as f32, y as f32]);
            let (x0, y0) = (sx.floor(), sy.floor());
            let (fx, fy) = (sx - x0, sy - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let px = |xx: i64, yy: i64, c: usize| {
                let xx = xx.clamp(0, w - 1) as usize;
                let yy = yy.clamp(0, h - 1) as usize;
                f32::from(raw[(yy * w as usize + xx) * 3 + c])
            };
            for c in 0..3 {
                let v = px(x0, y0, c) * (1.0 - fx) * (1.0 - fy)
                    + px(x0 + 1, y0, c) * fx * (1.0 - fy)
                    + px(x0, y0 + 1, c) * (1.0 - fx) * fy
                    + px(x0 + 1, y0 + 1, c) * fx * fy;
                out[[c, y, x]] = v / 255.0;
            }
        }
    }
    out
}
