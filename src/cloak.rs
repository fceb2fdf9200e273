//! The cloak itself: a perturbation per face, optimised against the surrogate ensemble at the
//! photo's own resolution and shaped so people do not see it.
//!
//! Each step warps the perturbed face region onto the 112×112 template under a slightly jittered
//! alignment (and, for every other sample, a blur), asks every surrogate for the gradient of
//! cos(embedding, original embedding), normalises and sums those gradients, carries the sum back
//! through the warp, and moves the perturbation downhill within a per-pixel budget that is larger
//! in texture than on flat skin and fades out at the edge of the face.

use std::sync::atomic::{AtomicBool, Ordering};

use image::RgbImage;
use ndarray::{Array2, Array3, Array4, Axis, s};
use serde::{Deserialize, Serialize};

use crate::align::{FACE_SIZE, Similarity, face_transform};
use crate::detect::Face;
use crate::models::{ModelStore, SURROGATES};
use crate::output::reencode_jpeg;
use crate::quality;
use crate::recognise::{GradientGraph, cosine};
use crate::warp::{Rect, Resampler, footprint};
use crate::{Error, Result};

/// How strongly to cloak: stronger protection for a more visible change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Mode {
    Low,
    #[default]
    Mid,
    High,
}

/// The knobs a mode sets.
#[derive(Debug, Clone, Copy)]
pub struct ModeParams {
    /// Optimisation steps.
    pub steps: usize,
    /// Samples (jittered views of the face) per step.
    pub samples: usize,
    /// Largest change of any channel of any pixel, in 0..1 units.
    pub max_change: f32,
    /// SSIM (luma) of the face's detector box must stay at or above this.
    pub min_face_ssim: f64,
}

impl Mode {
    /// Chosen with `facecloak eval` (docs/evaluation.md): mid is the weakest setting measured to
    /// keep ≥ 90 % of people unmatched by the held-out judge.
    pub fn params(self) -> ModeParams {
        match self {
            Mode::Low => ModeParams {
                steps: 20,
                samples: 1,
                max_change: 12.0 / 255.0,
                min_face_ssim: 0.95,
            },
            Mode::Mid => ModeParams {
                steps: 40,
                samples: 2,
                max_change: 20.0 / 255.0,
                min_face_ssim: 0.88,
            },
            Mode::High => ModeParams {
                steps: 60,
                samples: 2,
                max_change: 24.0 / 255.0,
                min_face_ssim: 0.85,
            },
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Low => "low",
            Mode::Mid => "mid",
            Mode::High => "high",
        }
    }
}

/// What the cloak did to one face.
#[derive(Debug, Clone, Serialize)]
pub struct FaceResult {
    /// The photo region the perturbation covers.
    #[serde(skip)]
    pub region: Rect,
    /// Perturbation over the region (3×h×w, 0..1 units), already within every budget.
    #[serde(skip)]
    pub delta: Array3<f32>,
    /// Per surrogate: (name, cosine similarity of the cloaked face's embedding to the original's).
    pub similarity: Vec<(String, f32)>,
    /// SSIM of the face's detector box.
    pub face_ssim: f64,
    /// Fraction of the optimised perturbation kept to meet the SSIM budget.
    pub kept: f32,
}

/// A photo with every requested face cloaked.
pub struct CloakedPhoto {
    pub image: RgbImage,
    pub faces: Vec<FaceResult>,
}

impl CloakedPhoto {
    /// The regions the cloak changed.
    pub fn regions(&self) -> Vec<Rect> {
        self.faces.iter().map(|f| f.region).collect()
    }
}

/// The surrogate ensemble, ready to cloak faces (one per worker: sessions are not shared).
pub struct Cloaker {
    graphs: Vec<GradientGraph>,
}

impl Cloaker {
    pub fn new(store: &ModelStore) -> Result<Self> {
        let graphs = SURROGATES
            .iter()
            .map(|info| GradientGraph::new(store, info))
            .collect::<Result<_>>()?;
        Ok(Self { graphs })
    }

    /// Embeddings of aligned faces under every surrogate.
    pub fn embed(&mut self, faces: &Array4<f32>) -> Result<Vec<Array2<f32>>> {
        self.graphs
            .iter_mut()
            .map(|g| {
                let dim = g.info.embedding_dim.unwrap_or(1);
                let dummy = Array2::<f32>::ones((faces.shape()[0], dim));
                Ok(g.eval(faces.view(), dummy.view())?.embedding)
            })
            .collect()
    }

    /// Cloaks each of `faces` (each optimised on the original photo, the perturbations added up).
    /// Face `i` uses seed `seed ^ i·φ`, so a photo's result depends only on the seed.
    pub fn cloak_photo(
        &mut self,
        photo: &RgbImage,
        faces: &[&Face],
        mode: Mode,
        seed: u64,
        stop: &AtomicBool,
    ) -> Result<CloakedPhoto> {
        let mut image = photo.clone();
        let mut results = Vec::with_capacity(faces.len());
        for (i, face) in faces.iter().enumerate() {
            let face_seed = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let result = self.cloak_face(photo, face, mode, face_seed, stop)?;
            add_region(&mut image, result.region, &result.delta);
            results.push(result);
        }
        Ok(CloakedPhoto {
            image,
            faces: results,
        })
    }

    /// Optimises the perturbation for one face.
    pub fn cloak_face(
        &mut self,
        photo: &RgbImage,
        face: &Face,
        mode: Mode,
        seed: u64,
        stop: &AtomicBool,
    ) -> Result<FaceResult> {
        let p = mode.params();
        let to_face = face_transform(&face.five);
        let face_rect = bbox_rect(&face.bbox, photo.width(), photo.height());
        let region = footprint(&to_face, photo.width(), photo.height());
        let x0 = region_planes(photo, region);
        let budget = budget_map(&x0, &to_face, region, p.max_change);
        let base = Resampler::new(&to_face, region);
        let crop0 = base.forward(x0.view()).insert_axis(Axis(0));
        let originals = self.embed(&crop0)?;

        let mut rng = SplitMix(seed);
        let mut delta = Array3::<f32>::zeros(x0.raw_dim());
        let step = (3.0 / p.steps as f32).max(0.05);
        for step_no in 0..p.steps {
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let x = (&x0 + &delta).mapv(|v| v.clamp(0.0, 1.0));
            let views: Vec<(Resampler, View)> = (0..p.samples)
                .map(|k| {
                    let view = View::ALL[(step_no * p.samples + k) % View::ALL.len()];
                    (Resampler::new(&jitter(&to_face, &mut rng), region), view)
                })
                .collect();
            let mut batch = Array4::<f32>::zeros((p.samples, 3, FACE_SIZE, FACE_SIZE));
            for (k, (rs, view)) in views.iter().enumerate() {
                let crop = match view {
                    View::Plain => rs.forward(x.view()),
                    View::Blurred => blur(&rs.forward(x.view())),
                    // Re-encoding is not differentiable: its gradient is taken as the identity's
                    // (BPDA), which still steers the cloak toward what survives a JPEG upload.
                    View::Jpeg => {
                        rs.forward(jpeg_roundtrip(&x, 70 + (rng.next() % 26) as u8).view())
                    }
                };
                batch.slice_mut(s![k, .., .., ..]).assign(&crop);
            }
            let mut crop_grad = Array4::<f32>::zeros(batch.raw_dim());
            for (graph, orig) in self.graphs.iter_mut().zip(&originals) {
                let targets = orig
                    .broadcast((p.samples, orig.shape()[1]))
                    .expect("one row")
                    .to_owned();
                let out = graph.eval(batch.view(), targets.view())?;
                // Gradients are normalised so no surrogate dominates by scale; then the one that
                // still recognises the face best (relative to its threshold) gets the most weight.
                let norm = out
                    .grad
                    .iter()
                    .map(|v| v * v)
                    .sum::<f32>()
                    .sqrt()
                    .max(1e-12);
                let threshold = graph.info.match_threshold.unwrap_or(0.3);
                let margin = out.loss.mean().unwrap_or(1.0) - (threshold - SAFETY_MARGIN);
                let weight = (margin / WEIGHT_TEMPERATURE).clamp(-4.0, 4.0).exp();
                crop_grad.scaled_add(weight / norm, &out.grad);
            }
            let mut grad = Array3::<f32>::zeros(x0.raw_dim());
            for (k, (rs, view)) in views.iter().enumerate() {
                let g = crop_grad.slice(s![k, .., .., ..]).to_owned();
                rs.transpose_add(
                    if *view == View::Blurred { blur(&g) } else { g }.view(),
                    &mut grad,
                );
            }
            descend(&mut delta, &grad, &budget, &x0, step);
        }

        // Quality is judged on a copy of the region alone: copying a 24 MP photo for every
        // SSIM trial would dominate memory and time.
        let sub =
            image::imageops::crop_imm(photo, region.x, region.y, region.w, region.h).to_image();
        let local = Rect {
            x: 0,
            y: 0,
            w: region.w,
            h: region.h,
        };
        let local_face = within(face_rect, region);
        let kept = fit_ssim(&sub, local, local_face, &x0, &mut delta, p.min_face_ssim);
        let cloaked = apply_region(&sub, local, &x0, &delta);
        let face_ssim = quality::ssim_region(&sub, &cloaked, local_face);
        let crop1 = base
            .forward(region_planes(&cloaked, local).view())
            .insert_axis(Axis(0));
        let after = self.embed(&crop1)?;
        let similarity = self
            .graphs
            .iter()
            .zip(originals.iter().zip(&after))
            .map(|(g, (o, a))| {
                (
                    g.info.name.to_string(),
                    cosine(o.row(0).as_slice().unwrap(), a.row(0).as_slice().unwrap()),
                )
            })
            .collect();
        Ok(FaceResult {
            region,
            delta,
            similarity,
            face_ssim,
            kept,
        })
    }
}

/// Share of the budget flat areas get (texture gets all of it).
const TEXTURE_FLOOR: f32 = 0.35;

/// How far below each surrogate's match threshold the optimiser aims, so the cloak survives
/// re-encoding and resizing.
const SAFETY_MARGIN: f32 = 0.15;

/// How sharply the ensemble weights favour the surrogate furthest above its match threshold.
const WEIGHT_TEMPERATURE: f32 = 0.1;

/// Share of the per-channel step that may differ from the pixel's grey (luma) step.
const CHROMA: f32 = 0.35;

/// One descent step: move against the gradient, normalised so a step is a fixed fraction of each
/// pixel's budget, then project back into the budget and the valid pixel range.
fn descend(
    delta: &mut Array3<f32>,
    grad: &Array3<f32>,
    budget: &Array2<f32>,
    x0: &Array3<f32>,
    step: f32,
) {
    let active = budget.iter().filter(|b| **b > 0.0).count().max(1) * 3;
    let rms = (grad.iter().map(|g| g * g).sum::<f32>() / active as f32)
        .sqrt()
        .max(1e-12);
    let luma_step = grad.map_axis(Axis(0), |g| {
        g.iter()
            .map(|v| (v / (2.0 * rms)).clamp(-1.0, 1.0))
            .sum::<f32>()
            / 3.0
    });
    for c in 0..3 {
        let mut d = delta.index_axis_mut(Axis(0), c);
        let g = grad.index_axis(Axis(0), c);
        let x = x0.index_axis(Axis(0), c);
        ndarray::Zip::from(&mut d)
            .and(&g)
            .and(&luma_step)
            .and(budget)
            .and(&x)
            .for_each(|d, &g, &l, &b, &x| {
                let own = (g / (2.0 * rms)).clamp(-1.0, 1.0);
                // Colour blotches show far more than brightness changes: damp the chroma part.
                let shaped = l + CHROMA * (own - l);
                let moved = *d - step * b * shaped;
                *d = moved.clamp(-b, b).clamp(-x, 1.0 - x);
            });
    }
}

/// Shrinks the perturbation, if needed, until the SSIM of the face's box meets the floor. Returns
/// the factor kept.
fn fit_ssim(
    photo: &RgbImage,
    region: Rect,
    face: Rect,
    x0: &Array3<f32>,
    delta: &mut Array3<f32>,
    floor: f64,
) -> f32 {
    let ssim_at = |f: f32| {
        let scaled = delta.mapv(|v| v * f);
        quality::ssim_region(photo, &apply_region(photo, region, x0, &scaled), face)
    };
    if ssim_at(1.0) >= floor {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0f32, 1.0f32);
    for _ in 0..7 {
        let mid = 0.5 * (lo + hi);
        if ssim_at(mid) >= floor {
            lo = mid
        } else {
            hi = mid
        }
    }
    delta.mapv_inplace(|v| v * lo);
    lo
}

/// A detector box as a pixel rectangle inside the photo.
pub fn bbox_rect(bbox: &[f32; 4], width: u32, height: u32) -> Rect {
    let x0 = (bbox[0].max(0.0) as u32).min(width - 1);
    let y0 = (bbox[1].max(0.0) as u32).min(height - 1);
    let x1 = (bbox[2].ceil().max(0.0) as u32).clamp(x0 + 1, width);
    let y1 = (bbox[3].ceil().max(0.0) as u32).clamp(y0 + 1, height);
    Rect {
        x: x0,
        y: y0,
        w: x1 - x0,
        h: y1 - y0,
    }
}

/// `inner` clipped to `outer`, in `outer`'s coordinates (at least one pixel).
fn within(inner: Rect, outer: Rect) -> Rect {
    let x0 = inner.x.clamp(outer.x, outer.x + outer.w - 1);
    let y0 = inner.y.clamp(outer.y, outer.y + outer.h - 1);
    let x1 = (inner.x + inner.w).clamp(x0 + 1, outer.x + outer.w);
    let y1 = (inner.y + inner.h).clamp(y0 + 1, outer.y + outer.h);
    Rect {
        x: x0 - outer.x,
        y: y0 - outer.y,
        w: x1 - x0,
        h: y1 - y0,
    }
}

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

/// A copy of the photo with `x0 + delta` written into the region, rounded to 8 bits.
pub fn apply_region(photo: &RgbImage, r: Rect, x0: &Array3<f32>, delta: &Array3<f32>) -> RgbImage {
    let mut out = photo.clone();
    write_region(&mut out, r, x0, delta);
    out
}

fn write_region(out: &mut RgbImage, r: Rect, x0: &Array3<f32>, delta: &Array3<f32>) {
    for y in 0..r.h as usize {
        for x in 0..r.w as usize {
            let p = out.get_pixel_mut(r.x + x as u32, r.y + y as u32);
            for c in 0..3 {
                p[c] = ((x0[[c, y, x]] + delta[[c, y, x]]).clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }
}

/// Adds a face's perturbation onto the photo as it is now (faces may overlap; each adds its own).
pub fn add_region(out: &mut RgbImage, r: Rect, delta: &Array3<f32>) {
    let current = region_planes(out, r);
    write_region(out, r, &current, delta);
}

/// Per-pixel budget: the mode's largest change, scaled down on flat areas (where noise shows) and
/// feathered to zero outside an ellipse around the face (so there is no seam at a box edge).
fn budget_map(x0: &Array3<f32>, to_face: &Similarity, r: Rect, max_change: f32) -> Array2<f32> {
    let (h, w) = (r.h as usize, r.w as usize);
    let luma = Array2::from_shape_fn((h, w), |(y, x)| {
        0.299 * x0[[0, y, x]] + 0.587 * x0[[1, y, x]] + 0.114 * x0[[2, y, x]]
    });
    // Texture is measured over about two crop pixels, whatever the photo's resolution.
    let radius = ((2.0 / to_face.scale()).round() as usize).max(1);
    let std = local_std(&luma, radius);
    Array2::from_shape_fn((h, w), |(y, x)| {
        let [u, v] = to_face.apply([(r.x as usize + x) as f32, (r.y as usize + y) as f32]);
        let d = (((u - 56.0) / 46.0).powi(2) + ((v - 60.0) / 56.0).powi(2)).sqrt();
        let feather = smoothstep(1.05, 0.8, d);
        let texture = TEXTURE_FLOOR + (1.0 - TEXTURE_FLOOR) * (std[[y, x]] / 0.06).min(1.0);
        max_change * texture * feather
    })
}

fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Standard deviation in a (2r+1)² box around each pixel, via integral images.
fn local_std(a: &Array2<f32>, r: usize) -> Array2<f32> {
    let (h, w) = a.dim();
    let mut s1 = Array2::<f64>::zeros((h + 1, w + 1));
    let mut s2 = Array2::<f64>::zeros((h + 1, w + 1));
    for y in 0..h {
        for x in 0..w {
            let v = f64::from(a[[y, x]]);
            s1[[y + 1, x + 1]] = v + s1[[y, x + 1]] + s1[[y + 1, x]] - s1[[y, x]];
            s2[[y + 1, x + 1]] = v * v + s2[[y, x + 1]] + s2[[y + 1, x]] - s2[[y, x]];
        }
    }
    Array2::from_shape_fn((h, w), |(y, x)| {
        let (y0, x0, y1, x1) = (
            y.saturating_sub(r),
            x.saturating_sub(r),
            (y + r + 1).min(h),
            (x + r + 1).min(w),
        );
        let n = ((y1 - y0) * (x1 - x0)) as f64;
        let box_sum = |s: &Array2<f64>| s[[y1, x1]] - s[[y0, x1]] - s[[y1, x0]] + s[[y0, x0]];
        let mean = box_sum(&s1) / n;
        ((box_sum(&s2) / n - mean * mean).max(0.0).sqrt()) as f32
    })
}

/// How a step sees the face: as is, blurred (a softer camera or a resize), or after a JPEG
/// re-encode at a random quality (what upload platforms do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Plain,
    Jpeg,
    Blurred,
}

impl View {
    const ALL: [View; 3] = [View::Jpeg, View::Blurred, View::Plain];
}

/// The region after a JPEG encode and decode (4:2:0, as most platforms re-encode).
fn jpeg_roundtrip(x: &Array3<f32>, quality: u8) -> Array3<f32> {
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

/// A random small change of alignment (±4 % scale, ±4° rotation, ±2 crop pixels shift), so the
/// cloak does not depend on the exact alignment a scraper's pipeline will use.
fn jitter(t: &Similarity, rng: &mut SplitMix) -> Similarity {
    let scale = 1.0 + 0.04 * rng.signed();
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
fn blur(x: &Array3<f32>) -> Array3<f32> {
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
fn blur_axis(x: &Array3<f32>, axis: usize, k: &[f32; 5]) -> Array3<f32> {
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
                    let s = i as i64 + j as i64 - 2;
                    (0..n).contains(&s).then(|| w * src[s as usize])
                })
                .sum();
        }
    }
    out
}

/// A tiny deterministic generator (SplitMix64): same seed, same cloak.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn signed(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
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
    fn jitter_stays_close_to_the_alignment() {
        let t = Similarity {
            a: 0.3,
            b: 0.05,
            tx: 10.0,
            ty: -4.0,
        };
        let mut rng = SplitMix(3);
        for _ in 0..20 {
            let j = jitter(&t, &mut rng);
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
