//! How each optimisation step sees the face: under a slightly different alignment, and as is,
//! blurred, or re-encoded as JPEG, so the cloak survives what scrapers and platforms do.

use image::RgbImage;
use ndarray::{Array3, Axis};

use crate::align::FACE_SIZE;
use crate::geometry::{Rect, Similarity};
use crate::output::reencode_jpeg;
use crate::planes::{region_planes, write_region};

/// How a step sees the face: as is, blurred (a softer camera or a resize), or after a JPEG
/// re-encode at a random quality (what upload platforms do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    Plain,
    Jpeg,
    Blurred,
}

impl View {
    pub(super) const ALL: [View; 3] = [View::Jpeg, View::Blurred, View::Plain];
}

/// The region after a JPEG encode and decode (4:2:0 below quality 90, as most platforms
/// re-encode; full-resolution chroma above).
pub(super) fn jpeg_roundtrip(x: &Array3<f32>, quality: u8) -> Array3<f32> {
    let (_, h, w) = x.dim();
    let mut img = RgbImage::new(w as u32, h as u32);
    let whole = Rect {
        x: 0,
        y: 0,
        w: w as u32,
        h: h as u32,
    };
    write_region(&mut img, whole, x, &Array3::zeros(x.raw_dim()));
    match reencode_jpeg(&img, quality) {
        Some(decoded) => region_planes(&decoded, whole),
        // A region too large for one JPEG is simply seen as is.
        None => x.clone(),
    }
}

/// A random small change of alignment (±`scale` relative size, ±4° rotation, ±2 crop pixels
/// shift), so the cloak does not depend on the exact alignment or size a scraper's pipeline will
/// use (input diversity).
pub(super) fn jitter(t: &Similarity, scale: f32, rng: &mut SplitMix) -> Similarity {
    let scale = 1.0 + scale * rng.signed();
    let angle = 4f32.to_radians() * rng.signed();
    let (dx, dy) = (2.0 * rng.signed(), 2.0 * rng.signed());
    // Rotate and scale about the crop centre, then shift.
    let c = FACE_SIZE as f32 / 2.0;
    let (a, b) = (scale * angle.cos(), scale * angle.sin());
    let j = Similarity {
        a,
        b,
        tx: c - (a * c - b * c) + dx,
        ty: c - (b * c + a * c) + dy,
    };
    Similarity {
        a: j.a * t.a - j.b * t.b,
        b: j.b * t.a + j.a * t.b,
        tx: j.a * t.tx - j.b * t.ty + j.tx,
        ty: j.b * t.tx + j.a * t.ty + j.ty,
    }
}

/// 5×5 Gaussian blur (σ = 1) of a crop, zero-padded so the operator is its own transpose.
pub(super) fn blur(x: &Array3<f32>) -> Array3<f32> {
    const K: [f32; 5] = [
        0.054_488_685,
        0.244_201_34,
        0.402_619_95,
        0.244_201_34,
        0.054_488_685,
    ];
    // Separable: along rows (axis 2), then along columns (axis 1).
    blur_axis(&blur_axis(x, 2, &K), 1, &K)
}

/// Correlates every line along `axis` with the kernel, zero-padded at the ends.
fn blur_axis(x: &Array3<f32>, axis: usize, k: &[f32]) -> Array3<f32> {
    let half = (k.len() / 2) as i64;
    let mut out = Array3::<f32>::zeros(x.raw_dim());
    for (src, mut dst) in x
        .lanes(Axis(axis))
        .into_iter()
        .zip(out.lanes_mut(Axis(axis)))
    {
        let n = src.len() as i64;
        for (i, d) in dst.iter_mut().enumerate() {
            *d = k
                .iter()
                .enumerate()
                .filter_map(|(j, w)| {
                    let s = i as i64 + j as i64 - half;
                    (0..n).contains(&s).then(|| w * src[s as usize])
                })
                .sum();
        }
    }
    out
}

/// A tiny deterministic generator (SplitMix64): same seed, same cloak.
pub(super) struct SplitMix(pub(super) u64);

impl SplitMix {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    pub(super) fn signed(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Gaussian smoothing of a region with σ in its own pixels (separable, zero-padded, so it is its
/// own transpose): the translation-invariant step of TI-FGSM.
pub(super) fn gaussian(x: &Array3<f32>, sigma: f32) -> Array3<f32> {
    if sigma < 0.3 {
        return x.clone();
    }
    let half = (3.0 * sigma).ceil() as i64;
    let mut k: Vec<f32> = (-half..=half)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f32 = k.iter().sum();
    k.iter_mut().for_each(|w| *w /= total);
    blur_axis(&blur_axis(x, 2, &k), 1, &k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_is_its_own_transpose() {
        let x = Array3::from_shape_fn((3, 9, 7), |(c, y, x)| {
            ((c * 31 + y * 7 + x * 3) % 11) as f32
        });
        let g = Array3::from_shape_fn((3, 9, 7), |(c, y, x)| ((c * 5 + y * 13 + x) % 7) as f32);
        let lhs: f32 = (blur(&x) * &g).sum();
        let rhs: f32 = (&x * &blur(&g)).sum();
        assert!((lhs - rhs).abs() < 1e-3 * lhs.abs(), "{lhs} vs {rhs}");
    }

    #[test]
    fn gaussian_is_its_own_transpose_and_keeps_constants() {
        let x = Array3::from_shape_fn((3, 19, 17), |(c, y, x)| {
            ((c * 31 + y * 7 + x * 3) % 11) as f32
        });
        let g = Array3::from_shape_fn((3, 19, 17), |(c, y, x)| ((c * 5 + y * 13 + x) % 7) as f32);
        let lhs: f32 = (gaussian(&x, 1.5) * &g).sum();
        let rhs: f32 = (&x * &gaussian(&g, 1.5)).sum();
        assert!((lhs - rhs).abs() < 1e-3 * lhs.abs(), "{lhs} vs {rhs}");
        let flat = gaussian(&Array3::from_elem((1, 30, 30), 2.0f32), 1.5);
        assert!((flat[[0, 15, 15]] - 2.0).abs() < 1e-5);
    }

    #[test]
    fn jitter_stays_close_to_the_alignment() {
        let t = Similarity {
            a: 0.3,
            b: 0.05,
            tx: 10.0,
            ty: -4.0,
        };
        let mut rng = SplitMix(3);
        for _ in 0..20 {
            let j = jitter(&t, 0.04, &mut rng);
            let centre = t.inverse().apply([56.0, 56.0]);
            let moved = j.apply(centre);
            assert!(
                (moved[0] - 56.0).abs() < 5.0 && (moved[1] - 56.0).abs() < 5.0,
                "{moved:?}"
            );
            assert!((j.scale() / t.scale() - 1.0).abs() < 0.05);
        }
    }
}
