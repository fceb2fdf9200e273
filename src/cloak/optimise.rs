//! The descent itself: projected, momentum-smoothed steps on the working grid.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, Array3, Array4, Axis, s};

use super::ensemble::Ensemble;
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
    /// Each surrogate's embedding of the clean face (1×D).
    pub originals: &'a [Array2<f32>],
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
    let step = (3.0 / p.steps as f32).max(0.05);
    // σ in working pixels: the knob is in crop pixels, and a working pixel is 1/scale of them.
    let lowpass = p.lowpass / problem.to_face.scale();
    // A smoothed perturbation moves only along smoothed gradients (the blur is its own
    // adjoint), so the step is taken in the low-frequency space it is projected onto.
    let sigma = p.smooth.max(p.lowpass) / problem.to_face.scale();
    for step_no in 0..p.steps {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let x = (x0 + &delta).mapv(|v| v.clamp(0.0, 1.0));
        let views: Vec<(Resampler, View)> = (0..p.samples)
            .map(|k| {
                let view = View::ALL[(step_no * p.samples + k) % View::ALL.len()];
                let t = jitter(&problem.to_face, p.jitter, rng);
                (Resampler::new(&t, problem.rect), view)
            })
            .collect();
        let mut batch = Array4::<f32>::zeros((p.samples, 3, FACE_SIZE, FACE_SIZE));
        for (k, (rs, view)) in views.iter().enumerate() {
            let crop = match view {
                View::Plain => rs.forward(x.view()),
                View::Blurred => blur(&rs.forward(x.view())),
                // Re-encoding is not differentiable: its gradient is taken as the identity's
                // (BPDA), which still steers the cloak toward what survives a JPEG upload.
                View::Jpeg => rs.forward(jpeg_roundtrip(&x, 70 + (rng.next() % 26) as u8).view()),
            };
            batch.slice_mut(s![k, .., .., ..]).assign(&crop);
        }
        let crop_grad = ensemble.gradient(batch.view(), problem.originals)?;
        let mut grad = Array3::<f32>::zeros(x0.raw_dim());
        for (k, (rs, view)) in views.iter().enumerate() {
            let g = crop_grad.slice(s![k, .., .., ..]).to_owned();
            let g = if *view == View::Blurred { blur(&g) } else { g };
            rs.transpose_add(g.view(), &mut grad);
        }
        let grad = gaussian(&grad, sigma);
        // Momentum on L1-normalised gradients (MI-FGSM): steps keep a direction that works
        // across views instead of chasing each view's noise.
        let l1 = grad.iter().map(|g| g.abs()).sum::<f32>() / grad.len() as f32;
        velocity.mapv_inplace(|v| v * p.momentum);
        velocity.scaled_add(1.0 / l1.max(1e-12), &grad);
        descend(&mut delta, &velocity, problem.budget, x0, step, p.chroma);
        if lowpass > 0.0 {
            delta = gaussian(&delta, lowpass);
            project(&mut delta, problem.budget, x0);
        }
    }
    Ok(delta)
}

/// One descent step: move against the direction, normalised so a step is a fixed fraction of
/// each pixel's budget, then project back into the budget and the valid pixel range.
fn descend(
    delta: &mut Array3<f32>,
    dir: &Array3<f32>,
    budget: &Array2<f32>,
    x0: &Array3<f32>,
    step: f32,
    chroma: f32,
) {
    let active = budget.iter().filter(|b| **b > 0.0).count().max(1) * 3;
    let rms = (dir.iter().map(|g| g * g).sum::<f32>() / active as f32)
        .sqrt()
        .max(1e-12);
    let luma_step = dir.map_axis(Axis(0), |g| {
        g.iter()
            .map(|v| (v / (2.0 * rms)).clamp(-1.0, 1.0))
            .sum::<f32>()
            / 3.0
    });
    for c in 0..3 {
        let mut d = delta.index_axis_mut(Axis(0), c);
        let g = dir.index_axis(Axis(0), c);
        let x = x0.index_axis(Axis(0), c);
        ndarray::Zip::from(&mut d)
            .and(&g)
            .and(&luma_step)
            .and(budget)
            .and(&x)
            .for_each(|d, &g, &l, &b, &x| {
                let own = (g / (2.0 * rms)).clamp(-1.0, 1.0);
                // Colour blotches show far more than brightness changes: damp the chroma part.
                let shaped = l + chroma * (own - l);
                let moved = *d - step * b * shaped;
                *d = moved.clamp(-b, b).clamp(-x, 1.0 - x);
            });
    }
}

/// Back into each pixel's budget and the valid pixel range.
fn project(delta: &mut Array3<f32>, budget: &Array2<f32>, x0: &Array3<f32>) {
    for c in 0..3 {
        let mut d = delta.index_axis_mut(Axis(0), c);
        let x = x0.index_axis(Axis(0), c);
        ndarray::Zip::from(&mut d)
            .and(budget)
            .and(&x)
            .for_each(|d, &b, &x| *d = d.clamp(-b, b).clamp(-x, 1.0 - x));
    }
}
