//! The descent itself: projected steps on the working grid, within a budget the visibility floor
//! resizes as it goes.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, Array3, Axis};

use super::ensemble::{Ensemble, Targets};
use super::params::Params;
use super::sense;
use super::views::{SplitMix, gaussian};
use crate::geometry::{Rect, Similarity};
use crate::{Error, Result};

/// One face's problem, on the working grid.
pub(super) struct Problem<'a> {
    pub x0: &'a Array3<f32>,
    /// Working grid → crop.
    pub to_face: Similarity,
    pub rect: Rect,
    /// Where each surrogate's embedding is steered from (and to).
    pub targets: &'a Targets,
}

/// The descent's state, so it can stop between steps, have its budget resized to what the
/// visibility floor allows, and go on.
pub(super) struct Descent {
    /// The perturbation (3×h×w on the working grid), within the budget and the pixel range.
    pub delta: Array3<f32>,
    velocity: Array3<f32>,
    /// Variance tuning's correction: the mean gradient around the last point, less its own.
    variance: Array3<f32>,
    /// Per-pixel budget (scaled with the change when the floor resizes it).
    budget: Array2<f32>,
}

impl Descent {
    pub(super) fn new(x0: &Array3<f32>, budget: Array2<f32>) -> Self {
        Self {
            delta: Array3::zeros(x0.raw_dim()),
            velocity: Array3::zeros(x0.raw_dim()),
            variance: Array3::zeros(x0.raw_dim()),
            budget,
        }
    }

    /// Scales the change and the budget by `k` (the share of the change the floor allows), so
    /// the steps that follow optimise within the budget the face can take.
    pub(super) fn rescale(&mut self, k: f32, x0: &Array3<f32>, p: &Params) {
        self.delta.mapv_inplace(|d| d * k);
        self.budget.mapv_inplace(|b| b * k);
        project(&mut self.delta, &self.budget, x0, peak(p));
    }

    /// Runs steps `steps` of the `p.steps` of the schedule.
    pub(super) fn run(
        &mut self,
        ensemble: &mut Ensemble,
        problem: &Problem,
        p: &Params,
        rng: &mut SplitMix,
        stop: &AtomicBool,
        steps: std::ops::Range<usize>,
    ) -> Result<()> {
        let x0 = problem.x0;
        let step = p.rate * (3.0 / p.steps as f32).max(0.05);
        // σ in working pixels: the knob is in crop pixels, and a working pixel is 1/scale of them.
        let lowpass = p.lowpass / problem.to_face.scale();
        // A smoothed perturbation moves only along smoothed gradients (the blur is its own
        // adjoint), so the step is taken in the low-frequency space it is projected onto.
        let sigma = p.smooth.max(p.lowpass) / problem.to_face.scale();
        for step_no in steps {
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let x = (x0 + &self.delta).mapv(|v| v.clamp(0.0, 1.0));
            let here = sense::gradient_at(ensemble, problem, p, rng, &x, step_no)?;
            let grad = if p.vt > 0 {
                // Variance tuning (VMI, Wang & He 2021): the step also follows how the gradient
                // changes around this point, measured at the last step, which favours changes
                // that work for a neighbourhood of models rather than for these exact ones.
                let tuned = &here + &self.variance;
                let mut around = Array3::<f32>::zeros(x0.raw_dim());
                for _ in 0..p.vt {
                    let nearby = neighbour(&x, &self.budget, p.vt_radius, rng);
                    around += &sense::gradient_at(ensemble, problem, p, rng, &nearby, step_no)?;
                }
                self.variance = around / p.vt as f32 - &here;
                tuned
            } else {
                here
            };
            let grad = gaussian(&grad, sigma);
            // Momentum on L1-normalised gradients (MI-FGSM): steps keep a direction that works
            // across views instead of chasing each view's noise.
            let l1 = grad.iter().map(|g| g.abs()).sum::<f32>() / grad.len() as f32;
            self.velocity.mapv_inplace(|v| v * p.momentum);
            self.velocity.scaled_add(1.0 / l1.max(1e-12), &grad);
            descend(&mut self.delta, &self.velocity, &self.budget, x0, step, p);
            if lowpass > 0.0 {
                self.delta = gaussian(&self.delta, lowpass);
                project(&mut self.delta, &self.budget, x0, peak(p));
            }
        }
        Ok(())
    }
}

/// The steps after which the descent stops to resize its budget to the visibility floor:
/// `adapt` of them, spread over the first three quarters so the last steps optimise within
/// the budget the face can take.
pub(super) fn checkpoints(steps: usize, adapt: usize) -> Vec<usize> {
    (1..=adapt)
        .map(|i| steps * 3 * i / (4 * adapt))
        .filter(|&s| s > 0 && s < steps)
        .collect()
}

/// A point near `x`: every pixel moved uniformly within `radius` times its budget.
fn neighbour(
    x: &Array3<f32>,
    budget: &Array2<f32>,
    radius: f32,
    rng: &mut SplitMix,
) -> Array3<f32> {
    let mut out = x.clone();
    for ((_, y, xx), v) in out.indexed_iter_mut() {
        *v = (*v + radius * budget[[y, xx]] * rng.signed()).clamp(0.0, 1.0);
    }
    out
}

/// Which of the ensemble's surrogates a step asks: all of them, or `per_step` drawn at random
/// without replacement. Where some were added by the user (`added[k]`), a share `added_share`
/// of the draws (at least one) is taken from those and the rest from the shipped ones, so a
/// user's modern recogniser gets the weight the evaluation chose however many ship.
pub(super) fn pick_members(
    added: &[bool],
    per_step: usize,
    added_share: f32,
    rng: &mut SplitMix,
) -> Vec<usize> {
    let n = added.len();
    if per_step == 0 || per_step >= n {
        return (0..n).collect();
    }
    let (theirs, ours): (Vec<usize>, Vec<usize>) = (0..n).partition(|&k| added[k]);
    if theirs.is_empty() || ours.is_empty() || added_share <= 0.0 {
        return sample(&(0..n).collect::<Vec<_>>(), per_step, rng);
    }
    let k = ((per_step as f32 * added_share).round() as usize).clamp(1, per_step);
    let k = k.min(theirs.len()).max(per_step.saturating_sub(ours.len()));
    let mut members = sample(&theirs, k, rng);
    members.extend(sample(&ours, per_step - k, rng));
    members
}

/// `count` of `from`, a uniform sample: a partial Fisher–Yates shuffle.
fn sample(from: &[usize], count: usize, rng: &mut SplitMix) -> Vec<usize> {
    let mut all = from.to_vec();
    let count = count.min(all.len());
    for i in 0..count {
        let j = i + (rng.next() % (all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(count);
    all
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

    #[test]
    fn added_recognisers_get_their_share_of_each_steps_draws() {
        let mut rng = SplitMix(7);
        let six = [false; 6];
        let mut seven = six.to_vec();
        seven.push(true);
        let mut with_added = 0;
        for _ in 0..700 {
            // Half of two draws: the added one is in every step, beside one shipped recogniser.
            let m = pick_members(&seven, 2, 0.5, &mut rng);
            assert_eq!(m.len(), 2);
            assert!(m.contains(&6) && m[0] != m[1], "{m:?}");
            // No share: it is drawn like any other, in about two steps of seven.
            with_added += usize::from(pick_members(&seven, 2, 0.0, &mut rng).contains(&6));
        }
        assert!((150..250).contains(&with_added), "{with_added} of 700");
        // Without added recognisers the draw is the uniform one it always was.
        let (mut a, mut b) = (SplitMix(3), SplitMix(3));
        for _ in 0..50 {
            assert_eq!(
                pick_members(&six, 2, 0.5, &mut a),
                sample(&(0..6).collect::<Vec<_>>(), 2, &mut b)
            );
        }
    }

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
