//! The descent itself: projected, momentum-smoothed steps on the working grid.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, Array3, Array4, Axis, s};

use super::ensemble::{Ensemble, Targets};
use super::params::Params;
use super::views::{SplitMix, View, blur, gaussian, jitter, jpeg_roundtrip};
use crate::align::FACE_SIZE;
use crate::geometry::{Rect, Similarity};
use crate::warp::Resampler;
use crate::{Error, Result};

/// One face's problem, on the working grid.
pub(super) struct Problem<'a> {
    pub x0: &'a Array3<f32>,
    pub budget: &'a Array2<f32>,
    /// Working grid → crop.
    pub to_face: Similarity,
    pub rect: Rect,
    /// Where each surrogate's embedding is steered from (and to).
    pub targets: &'a Targets,
}

/// Returns the perturbation (3×h×w on the working grid), within the budget and the pixel range.
pub(super) fn optimise(
    ensemble: &mut Ensemble,
    problem: &Problem,
    p: &Params,
    rng: &mut SplitMix,
    stop: &AtomicBool,
) -> Result<Array3<f32>> {
    let x0 = problem.x0;
    let mut delta = Array3::<f32>::zeros(x0.raw_dim());
    let mut velocity = Array3::<f32>::zeros(x0.raw_dim());
    let step = p.rate * (3.0 / p.steps as f32).max(0.05);
    // σ in working pixels: the knob is in crop pixels, and a working pixel is 1/scale of them.
    let lowpass = p.lowpass / problem.to_face.scale();
    // A smoothed perturbation moves only along smoothed gradients (the blur is its own
    // adjoint), so the step is taken in the low-frequency space it is projected onto.
    let sigma = p.smooth.max(p.lowpass) / problem.to_face.scale();
    let kinds: &[View] = match p.views {
        1 => &[View::Plain],
        2 => &[View::Jpeg, View::Plain],
        _ => &View::ALL,
    };
    for step_no in 0..p.steps {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let x = (x0 + &delta).mapv(|v| v.clamp(0.0, 1.0));
        let views: Vec<(Resampler, View)> = (0..p.samples)
            .map(|k| {
                let view = kinds[(step_no * p.samples + k) % kinds.len()];
                let t = jitter(&problem.to_face, p.jitter, rng);
                (Resampler::new(&t, problem.rect), view)
            })
            .collect();
        // Scale invariance (SIM): each view is also seen darkened by powers of two, a cheap
        // stand-in for more models; the gradient sums over the copies.
        let copies = p.scales.max(1);
        let mut batch = Array4::<f32>::zeros((p.samples * copies, 3, FACE_SIZE, FACE_SIZE));
        for (k, (rs, view)) in views.iter().enumerate() {
            let crop = match view {
                View::Plain => rs.forward(x.view()),
                View::Blurred => blur(&rs.forward(x.view())),
                // Re-encoding is not differentiable: its gradient is taken as the identity's
                // (BPDA), which still steers the cloak toward what survives a JPEG upload.
                View::Jpeg => rs.forward(jpeg_roundtrip(&x, 70 + (rng.next() % 26) as u8).view()),
            };
            for i in 0..copies {
                let dim = 0.5f32.powi(i as i32);
                batch
                    .slice_mut(s![k * copies + i, .., .., ..])
                    .assign(&(&crop * dim));
            }
        }
        let crop_grad = ensemble.gradient(batch.view(), problem.targets)?;
        let mut grad = Array3::<f32>::zeros(x0.raw_dim());
        for (k, (rs, view)) in views.iter().enumerate() {
            let mut g = crop_grad.slice(s![k * copies, .., .., ..]).to_owned();
            for i in 1..copies {
                let dim = 0.5f32.powi(i as i32);
                g.scaled_add(dim, &crop_grad.slice(s![k * copies + i, .., .., ..]));
            }
            let g = if *view == View::Blurred { blur(&g) } else { g };
            rs.transpose_add(g.view(), &mut grad);
        }
        let grad = gaussian(&grad, sigma);
        // Momentum on L1-normalised gradients (MI-FGSM): steps keep a direction that works
        // across views instead of chasing each view's noise.
        let l1 = grad.iter().map(|g| g.abs()).sum::<f32>() / grad.len() as f32;
        velocity.mapv_inplace(|v| v * p.momentum);
        velocity.scaled_add(1.0 / l1.max(1e-12), &grad);
        descend(&mut delta, &velocity, problem.budget, x0, step, p);
        if lowpass > 0.0 {
            delta = gaussian(&delta, lowpass);
            project(&mut delta, problem.budget, x0, peak(p));
        }
    }
    Ok(delta)
}

/// One descent step: move against the direction, normalised so a step is a fixed fraction of
/// each pixel's budget, then project back into the budget and the valid pixel range.
///
/// With `p.l2 > 0` the budget is an ellipsoid instead of a box: the step is preconditioned by the
/// budget squared (steepest descent in the metric Σ(δ/b)², a second-order model of how SSIM-like
/// metrics see a change: variance-normalised, so texture hides more), and the change is scaled
/// back onto that ellipsoid. Change then goes to the pixels that move the recognisers most
/// instead of filling every pixel's box, which is what makes a box-bounded cloak look like noise.
fn descend(
    delta: &mut Array3<f32>,
    dir: &Array3<f32>,
    budget: &Array2<f32>,
    x0: &Array3<f32>,
    step: f32,
    p: &Params,
) {
    let active = budget.iter().filter(|b| **b > 0.0).count().max(1) * 3;
    let weighted = if p.l2 > 0.0 {
        dir * budget
    } else {
        dir.clone()
    };
    let rms = (weighted.iter().map(|g| g * g).sum::<f32>() / active as f32)
        .sqrt()
        .max(1e-12);
    // Each channel's normalised step, then split into a grey part and what differs from it.
    let clip = if p.l2 > 0.0 { f32::INFINITY } else { 1.0 };
    let own = weighted.mapv(|g| (g / (2.0 * rms)).clamp(-clip, clip));
    let grey = own.sum_axis(Axis(0)) / 3.0;
    for c in 0..3 {
        let mut d = delta.index_axis_mut(Axis(0), c);
        let o = own.index_axis(Axis(0), c);
        ndarray::Zip::from(&mut d)
            .and(&o)
            .and(&grey)
            .and(budget)
            .for_each(|d, &o, &l, &b| {
                // Colour blotches show far more than brightness changes: damp the chroma part.
                let shaped = p.luma * l + p.chroma * (o - l);
                *d -= step * b * shaped;
            });
    }
    if p.l2 > 0.0 {
        let mut energy = 0.0f32;
        for c in 0..3 {
            ndarray::Zip::from(delta.index_axis(Axis(0), c))
                .and(budget)
                .for_each(|&d, &b| {
                    if b > 0.0 {
                        energy += (d / b).powi(2);
                    }
                });
        }
        let norm = (energy / active as f32).sqrt();
        if norm > p.l2 {
            delta.mapv_inplace(|d| d * p.l2 / norm);
        }
    }
    project(delta, budget, x0, peak(p));
}

/// How many budgets a pixel may move: one in a box; with the ellipsoid the box stays as a guard
/// at `l2_peak` budgets.
fn peak(p: &Params) -> f32 {
    if p.l2 > 0.0 { p.l2_peak } else { 1.0 }
}

/// Back into `peak` times each pixel's budget and the valid pixel range.
fn project(delta: &mut Array3<f32>, budget: &Array2<f32>, x0: &Array3<f32>, peak: f32) {
    for c in 0..3 {
        let mut d = delta.index_axis_mut(Axis(0), c);
        let x = x0.index_axis(Axis(0), c);
        ndarray::Zip::from(&mut d)
            .and(budget)
            .and(&x)
            .for_each(|d, &b, &x| *d = d.clamp(-peak * b, peak * b).clamp(-x, 1.0 - x));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planes(seed: usize) -> Array3<f32> {
        Array3::from_shape_fn((3, 12, 10), |(c, y, x)| {
            ((c * 31 + y * 7 + x * 3 + seed) % 11) as f32 / 11.0 - 0.45
        })
    }

    #[test]
    fn the_ellipsoid_keeps_the_change_within_its_radius_and_peak() {
        let p = Params {
            l2: 0.4,
            l2_peak: 2.0,
            chroma: 1.0,
            ..Params::default()
        };
        let x0 = Array3::from_elem((3, 12, 10), 0.5f32);
        let budget = Array2::from_shape_fn((12, 10), |(y, x)| 0.01 + 0.002 * ((x + y) % 5) as f32);
        let mut delta = Array3::zeros(x0.raw_dim());
        for k in 0..30 {
            descend(&mut delta, &planes(k), &budget, &x0, 1.0, &p);
        }
        let mut energy = 0.0;
        for ((_, y, x), d) in delta.indexed_iter() {
            let b = budget[[y, x]];
            assert!(
                d.abs() <= p.l2_peak * b + 1e-6,
                "{d} past {}",
                p.l2_peak * b
            );
            energy += (d / b).powi(2);
        }
        let norm = (energy / delta.len() as f32).sqrt();
        assert!(norm <= p.l2 + 1e-4, "radius {norm} past {}", p.l2);
        // The steps were large enough to reach the surface, not to stop short of it.
        assert!(norm > 0.9 * p.l2, "radius {norm} short of {}", p.l2);
    }

    #[test]
    fn the_box_keeps_every_pixel_within_its_budget() {
        let p = Params {
            l2: 0.0,
            ..Params::default()
        };
        let x0 = Array3::from_elem((3, 12, 10), 0.5f32);
        let budget = Array2::from_elem((12, 10), 0.02f32);
        // The same grey direction every step: pixels it pushes hard end on the box's faces.
        let dir = Array3::from_shape_fn((3, 12, 10), |(_, y, x)| {
            ((y * 7 + x * 3) % 11) as f32 / 11.0 - 0.45
        });
        let mut delta = Array3::zeros(x0.raw_dim());
        for _ in 0..30 {
            descend(&mut delta, &dir, &budget, &x0, 0.5, &p);
        }
        assert!(delta.iter().all(|d| d.abs() <= 0.02 + 1e-6));
        assert!(
            delta.iter().any(|d| d.abs() > 0.019),
            "never reached the box"
        );
    }
}
