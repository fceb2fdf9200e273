//! Five-point similarity alignment onto the 112×112 template every recogniser shares.

use image::RgbImage;
use ndarray::Array3;
use serde::Serialize;

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

/// x' = a·x − b·y + tx, y' = b·x + a·y + ty: rotation, uniform scale and translation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// The least-squares similarity taking `src` points onto `dst` points.
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Self {
        assert_eq!(src.len(), dst.len());
        let n = src.len() as f64;
        let mean = |pts: &[[f32; 2]]| {
            let (sx, sy) = pts.iter().fold((0.0, 0.0), |(x, y), p| {
                (x + f64::from(p[0]), y + f64::from(p[1]))
            });
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (f64::from(s[0]) - msx, f64::from(s[1]) - msy);
            let (dx, dy) = (f64::from(d[0]) - mdx, f64::from(d[1]) - mdy);
            num_a += sx * dx + sy * dy;
            num_b += sx * dy - sy * dx;
            den += sx * sx + sy * sy;
        }
        let (a, b) = if den > 0.0 {
            (num_a / den, num_b / den)
        } else {
            (1.0, 0.0)
        };
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        Self {
            a: a as f32,
            b: b as f32,
            tx: tx as f32,
            ty: ty as f32,
        }
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    /// Scale factor (template pixels per photo pixel).
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    pub fn inverse(&self) -> Self {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Self {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_a_known_similarity() {
        let m = Similarity {
            a: 0.8,
            b: -0.3,
            tx: 12.0,
            ty: -5.0,
        };
        let src = [
            [10.0, 20.0],
            [50.0, 22.0],
            [30.0, 40.0],
            [15.0, 60.0],
            [48.0, 61.0],
        ];
        let dst: Vec<[f32; 2]> = src.iter().map(|p| m.apply(*p)).collect();
        let e = Similarity::estimate(&src, &dst);
        for (got, want) in [(e.a, m.a), (e.b, m.b), (e.tx, m.tx), (e.ty, m.ty)] {
            assert!((got - want).abs() < 1e-3, "{e:?} vs {m:?}");
        }
    }

    #[test]
    fn inverse_undoes_the_transform() {
        let m = Similarity {
            a: 1.7,
            b: 0.4,
            tx: -30.0,
            ty: 8.0,
        };
        let p = [123.0, -45.0];
        let q = m.inverse().apply(m.apply(p));
        assert!(
            (q[0] - p[0]).abs() < 1e-3 && (q[1] - p[1]).abs() < 1e-3,
            "{q:?}"
        );
    }
}
