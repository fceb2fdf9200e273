//! The differentiable map from a region of the full-resolution photo to the 112×112 face crop.
//!
//! Each crop pixel is a weighted sum of photo pixels under a tent kernel as wide as one crop pixel
//! (at least one photo pixel), so a downscale averages instead of aliasing. The map is linear and
//! sparse: `forward` applies it, `transpose` carries a crop gradient back to every photo pixel that
//! contributed, which keeps the perturbation at the photo's own resolution and free of blocks.

use ndarray::{Array3, ArrayView3};

use crate::align::FACE_SIZE;
use crate::geometry::{Rect, Similarity};

/// The photo region a face crop reads from (with the kernel's reach), clipped to the photo.
pub fn footprint(to_face: &Similarity, width: u32, height: u32) -> Rect {
    let inv = to_face.inverse();
    let reach = kernel_radius(to_face) + 1.0;
    let last = FACE_SIZE as f32;
    let corners = [[0.0, 0.0], [last, 0.0], [0.0, last], [last, last]].map(|p| inv.apply(p));
    let min_x = corners.iter().map(|p| p[0]).fold(f32::INFINITY, f32::min) - reach;
    let max_x = corners
        .iter()
        .map(|p| p[0])
        .fold(f32::NEG_INFINITY, f32::max)
        + reach;
    let min_y = corners.iter().map(|p| p[1]).fold(f32::INFINITY, f32::min) - reach;
    let max_y = corners
        .iter()
        .map(|p| p[1])
        .fold(f32::NEG_INFINITY, f32::max)
        + reach;
    let x0 = min_x.floor().clamp(0.0, (width - 1) as f32) as u32;
    let y0 = min_y.floor().clamp(0.0, (height - 1) as f32) as u32;
    let x1 = max_x.ceil().clamp(0.0, (width - 1) as f32) as u32;
    let y1 = max_y.ceil().clamp(0.0, (height - 1) as f32) as u32;
    Rect {
        x: x0,
        y: y0,
        w: x1 - x0 + 1,
        h: y1 - y0 + 1,
    }
}

fn kernel_radius(to_face: &Similarity) -> f32 {
    (1.0 / to_face.scale()).max(1.0)
}

/// The sparse linear map from a region (3×h×w, planar) to the face crop (3×112×112).
pub struct Resampler {
    region: Rect,
    /// For crop pixel i, its taps are `taps[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    /// (index into the region's h×w plane, weight).
    taps: Vec<(u32, f32)>,
}

impl Resampler {
    /// `to_face` maps photo coordinates to crop coordinates; `region` must lie inside the photo.
    /// Taps that fall outside the region read its nearest edge pixel.
    pub fn new(to_face: &Similarity, region: Rect) -> Self {
        let inv = to_face.inverse();
        let r = kernel_radius(to_face);
        let reach = r.ceil() as i64;
        let mut starts = Vec::with_capacity(FACE_SIZE * FACE_SIZE + 1);
        let mut taps = Vec::new();
        let (rw, rh) = (i64::from(region.w), i64::from(region.h));
        for v in 0..FACE_SIZE {
            for u in 0..FACE_SIZE {
                starts.push(taps.len() as u32);
                let [sx, sy] = inv.apply([u as f32, v as f32]);
                let (sx, sy) = (sx - region.x as f32, sy - region.y as f32);
                let (cx, cy) = (sx.round() as i64, sy.round() as i64);
                let first = taps.len();
                let mut total = 0.0;
                for y in cy - reach..=cy + reach {
                    let wy = 1.0 - ((y as f32 - sy).abs() / r);
                    if wy <= 0.0 {
                        continue;
                    }
                    for x in cx - reach..=cx + reach {
                        let wx = 1.0 - ((x as f32 - sx).abs() / r);
                        if wx <= 0.0 {
                            continue;
                        }
                        let idx = y.clamp(0, rh - 1) * rw + x.clamp(0, rw - 1);
                        taps.push((idx as u32, wx * wy));
                        total += wx * wy;
                    }
                }
                for t in &mut taps[first..] {
                    t.1 /= total;
                }
            }
        }
        starts.push(taps.len() as u32);
        Self {
            region,
            starts,
            taps,
        }
    }

    pub fn region(&self) -> Rect {
        self.region
    }

    /// Region (3×h×w) → crop (3×112×112).
    pub fn forward(&self, region: ArrayView3<f32>) -> Array3<f32> {
        let plane = (self.region.w * self.region.h) as usize;
        let src = region.as_slice().expect("region is contiguous");
        let mut out = Array3::<f32>::zeros((3, FACE_SIZE, FACE_SIZE));
        let dst = out.as_slice_mut().expect("contiguous");
        let n = FACE_SIZE * FACE_SIZE;
        for i in 0..n {
            let taps = &self.taps[self.starts[i] as usize..self.starts[i + 1] as usize];
            for c in 0..3 {
                let base = &src[c * plane..(c + 1) * plane];
                dst[c * n + i] = taps.iter().map(|&(j, w)| base[j as usize] * w).sum();
            }
        }
        out
    }

    /// Crop gradient (3×112×112) → region gradient (3×h×w), added into `acc`.
    pub fn transpose_add(&self, grad: ArrayView3<f32>, acc: &mut Array3<f32>) {
        let plane = (self.region.w * self.region.h) as usize;
        let g = grad.as_slice().expect("grad is contiguous");
        let dst = acc.as_slice_mut().expect("contiguous");
        let n = FACE_SIZE * FACE_SIZE;
        for i in 0..n {
            let taps = &self.taps[self.starts[i] as usize..self.starts[i + 1] as usize];
            for c in 0..3 {
                let gi = g[c * n + i];
                let base = &mut dst[c * plane..(c + 1) * plane];
                for &(j, w) in taps {
                    base[j as usize] += gi * w;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pseudo_random(len: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..len)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect()
    }

    /// <W x, g> = <x, Wᵀ g> for a downscaling and an upscaling face.
    #[test]
    fn transpose_is_the_adjoint_of_forward() {
        for scale in [0.3f32, 1.7] {
            let t = Similarity {
                a: scale * 0.96,
                b: scale * 0.28,
                tx: -20.0,
                ty: 5.0,
            };
            let region = footprint(&t, 2000, 2000);
            let rs = Resampler::new(&t, region);
            let plane = (region.w * region.h) as usize;
            let x = Array3::from_shape_vec(
                (3, region.h as usize, region.w as usize),
                pseudo_random(3 * plane, 1),
            )
            .unwrap();
            let g = Array3::from_shape_vec(
                (3, FACE_SIZE, FACE_SIZE),
                pseudo_random(3 * FACE_SIZE * FACE_SIZE, 2),
            )
            .unwrap();
            let wx = rs.forward(x.view());
            let mut wtg = Array3::zeros(x.raw_dim());
            rs.transpose_add(g.view(), &mut wtg);
            let lhs: f64 = wx
                .iter()
                .zip(g.iter())
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            let rhs: f64 = x
                .iter()
                .zip(wtg.iter())
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            assert!(
                (lhs - rhs).abs() < 1e-6 * lhs.abs(),
                "scale {scale}: {lhs} vs {rhs}"
            );
        }
    }

    /// A constant region maps to the same constant: the weights of every crop pixel sum to one.
    #[test]
    fn weights_sum_to_one() {
        let t = Similarity {
            a: 0.4,
            b: 0.0,
            tx: 0.0,
            ty: 0.0,
        };
        let region = footprint(&t, 1000, 1000);
        let rs = Resampler::new(&t, region);
        let x = Array3::from_elem((3, region.h as usize, region.w as usize), 0.25f32);
        assert!(rs.forward(x.view()).iter().all(|v| (v - 0.25).abs() < 1e-5));
    }
}
