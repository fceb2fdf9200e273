//! Face detection (UltraFace) and landmarks (68 points, reduced to the five alignment points).

use image::RgbImage;
use ndarray::{Array4, ArrayViewD};
use ort::session::Session;
use ort::value::TensorRef;
use serde::Serialize;

mod windows;

use crate::geometry::FaceBox;
use crate::models::{DETECTOR, LANDMARKS, ModelStore};
use crate::{Error, Result};
use windows::{Pyramid, window_input, windows};

const LMK_SIZE: usize = 64;
/// The least score a face found in a window smaller than the whole photo needs.
const FINER_MIN_SCORE: f32 = 0.9;
/// Boxes narrower than this (photo pixels) found in smaller windows are chance patterns in
/// texture far more often than faces, and far too small to cloak (eyes to mouth about 12 px).
const MIN_WINDOWED_WIDTH: f32 = 32.0;

/// One detected face, in photo pixel coordinates.
#[derive(Debug, Clone, Serialize)]
pub struct Face {
    pub bbox: FaceBox,
    pub score: f32,
    /// Left eye, right eye, nose tip, left and right mouth corners (as seen in the photo).
    pub five: [[f32; 2]; 5],
    pub landmarks: Vec<[f32; 2]>,
}

#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Minimum detector confidence.
    pub min_score: f32,
    /// Boxes overlapping a better one by more than this IoU are dropped.
    pub nms_iou: f32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            min_score: 0.7,
            nms_iou: 0.3,
        }
    }
}

pub struct Detector {
    detector: Session,
    landmarks: Session,
    pub options: DetectOptions,
}

impl Detector {
    pub fn new(store: &ModelStore) -> Result<Self> {
        Ok(Self {
            detector: store.session(DETECTOR.file)?,
            landmarks: store.session(LANDMARKS.file)?,
            options: DetectOptions::default(),
        })
    }

    /// Every face in the photo, best first.
    pub fn detect(&mut self, img: &RgbImage) -> Result<Vec<Face>> {
        let boxes = self.boxes(img)?;
        boxes
            .into_iter()
            .map(|(bbox, score)| self.face(img, bbox, score))
            .collect()
    }

    /// Runs the detector over a pyramid of overlapping windows (`windows`), so a small face in a
    /// big photo is seen at a size the detector knows, and merges what the windows found.
    fn boxes(&mut self, img: &RgbImage) -> Result<Vec<(FaceBox, f32)>> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        let mut found = Vec::new();
        let all = windows(img.width(), img.height());
        let pyramid = Pyramid::new(img, &all);
        for (i, window) in all.iter().enumerate() {
            let input = window_input(&pyramid, window);
            let outputs = self
                .detector
                .run(ort::inputs!["input" => TensorRef::from_array_view(&input)?])?;
            let scores = outputs["scores"].try_extract_array::<f32>()?;
            let raw = outputs["boxes"].try_extract_array::<f32>()?;
            // The many small windows of a big photo give chance patterns many more tries: a
            // face found there must score higher (real ones score above 0.99).
            let min_score = if i == 0 {
                self.options.min_score
            } else {
                self.options.min_score.max(FINER_MIN_SCORE)
            };
            for (b, score) in candidates(&scores, &raw, min_score) {
                // A face cut by a window edge inside the photo is found whole by a neighbour.
                let bbox = window.to_photo(&b, w, h);
                if !window.cuts(&b) && (i == 0 || bbox.width() >= MIN_WINDOWED_WIDTH) {
                    found.push((bbox, score));
                }
            }
        }
        found.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(nms(found, self.options.nms_iou))
    }

    fn face(&mut self, img: &RgbImage, bbox: FaceBox, score: f32) -> Result<Face> {
        let FaceBox([x1, y1, x2, y2]) = bbox;
        let (bw, bh) = ((x2 - x1).max(1.0), (y2 - y1).max(1.0));
        let mut input = Array4::<f32>::zeros((1, 1, LMK_SIZE, LMK_SIZE));
        let (sx, sy) = (bw / LMK_SIZE as f32, bh / LMK_SIZE as f32);
        for y in 0..LMK_SIZE {
            for x in 0..LMK_SIZE {
                let px = x1 + (x as f32 + 0.5) * sx - 0.5;
                let py = y1 + (y as f32 + 0.5) * sy - 0.5;
                input[[0, 0, y, x]] = grey_bilinear(img, px, py) / 256.0;
            }
        }
        let outputs = self
            .landmarks
            .run(ort::inputs!["input" => TensorRef::from_array_view(&input)?])?;
        let out = outputs["output"].try_extract_array::<f32>()?;
        let flat: Vec<f32> = out.iter().copied().collect();
        if flat.len() != 136 {
            return Err(Error::ModelShape {
                path: LANDMARKS.file.into(),
                reason: format!("expected 136 landmark values, got {}", flat.len()),
            });
        }
        let landmarks: Vec<[f32; 2]> = flat
            .chunks(2)
            .map(|p| [p[0] * bw + x1, p[1] * bh + y1])
            .collect();
        Ok(Face {
            bbox,
            score,
            five: five_points(&landmarks),
            landmarks,
        })
    }
}

/// The detector's input for the whole photo (letterboxed, aspect kept): what the fuzz target
/// exercises at any size.
pub fn detector_input(img: &RgbImage) -> Array4<f32> {
    let whole = &windows(img.width(), img.height())[..1];
    window_input(&Pyramid::new(img, whole), &whole[0])
}

/// Boxes scoring at least `min_score`, as fractions of the detector's input.
fn candidates(
    scores: &ArrayViewD<f32>,
    boxes: &ArrayViewD<f32>,
    min_score: f32,
) -> Vec<([f32; 4], f32)> {
    let n = scores.shape()[1];
    (0..n)
        .filter_map(|i| {
            let s = scores[[0, i, 1]];
            (s >= min_score).then(|| {
                let b = [0, 1, 2, 3].map(|k| boxes[[0, i, k]].clamp(0.0, 1.0));
                (b, s)
            })
        })
        .collect()
}

/// Greedy non-maximum suppression over boxes sorted best first. Two boxes where one holds the
/// other's centre, or most of it, are one face: a finer window can find part of a big face (its
/// mouth and chin) as a face of its own, sometimes scoring as high. The larger box is kept.
fn nms(sorted: Vec<(FaceBox, f32)>, max_iou: f32) -> Vec<(FaceBox, f32)> {
    let mut kept: Vec<(FaceBox, f32)> = Vec::new();
    for cand in sorted {
        match kept.iter().position(|k| {
            k.0.iou(&cand.0) > max_iou
                || k.0.covered(&cand.0) > 0.5
                || k.0.holds_centre(&cand.0)
                || cand.0.holds_centre(&k.0)
        }) {
            None => kept.push(cand),
            Some(i) if cand.0.area() > 1.5 * kept[i].0.area() => kept[i] = cand,
            Some(_) => {}
        }
    }
    kept
}

/// The 68-point scheme's eye, nose and mouth points, as the faceplugin reference reduces them.
fn five_points(p: &[[f32; 2]]) -> [[f32; 2]; 5] {
    let mean = |idx: &[usize]| {
        let n = idx.len() as f32;
        let (x, y) = idx
            .iter()
            .fold((0.0, 0.0), |(x, y), &i| (x + p[i][0], y + p[i][1]));
        [x / n, y / n]
    };
    [
        mean(&[37, 38, 40, 41]),
        mean(&[43, 44, 46, 47]),
        p[30],
        mean(&[48, 60]),
        mean(&[54, 64]),
    ]
}

/// Luma (BT.601, as the landmark model was trained with) sampled bilinearly, edges clamped.
fn grey_bilinear(img: &RgbImage, x: f32, y: f32) -> f32 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    let g = |xx: i64, yy: i64| {
        let p = img.get_pixel(xx.clamp(0, w - 1) as u32, yy.clamp(0, h - 1) as u32);
        0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2])
    };
    g(x0, y0) * (1.0 - fx) * (1.0 - fy)
        + g(x0 + 1, y0) * fx * (1.0 - fy)
        + g(x0, y0 + 1) * (1.0 - fx) * fy
        + g(x0 + 1, y0 + 1) * fx * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let boxes = vec![
            (FaceBox([0.0, 0.0, 10.0, 10.0]), 0.9),
            (FaceBox([1.0, 1.0, 11.0, 11.0]), 0.8),
            (FaceBox([20.0, 20.0, 30.0, 30.0]), 0.7),
        ];
        let kept = nms(boxes, 0.3);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].1, 0.9);
        assert_eq!(kept[1].1, 0.7);
    }

    /// The mouth and chin of a big face, found by a finer window as a face of its own (seen on
    /// a portrait enlarged to 4 MP), is dropped whichever scored higher; the whole face stays.
    #[test]
    fn nms_drops_part_of_a_face_found_as_a_face() {
        let whole = FaceBox([711.0, 185.0, 1202.0, 711.0]);
        let part = FaceBox([800.0, 518.0, 1143.0, 814.0]);
        for (a, b) in [((whole, 0.99), (part, 0.98)), ((part, 0.99), (whole, 0.98))] {
            let kept = nms(vec![a, b], 0.3);
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].0, whole);
        }
    }
}
