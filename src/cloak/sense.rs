//! What the ensemble says about one point of the descent: the gradient of the weighted loss with
//! respect to the working-grid pixels, seen through a few random views of the face.

use ndarray::{Array3, Array4, s};

use super::ensemble::Ensemble;
use super::optimise::{Problem, pick_members};
use super::params::Params;
use super::views::{SplitMix, View, blur, jitter, jpeg_roundtrip};
use crate::Result;
use crate::align::FACE_SIZE;
use crate::warp::Resampler;

/// d(loss)/d(x) on the working grid at the region `x` (3×h×w, already within the pixel range),
/// for step `step_no` (which sets the views' kinds in turn).
pub(super) fn gradient_at(
    ensemble: &mut Ensemble,
    problem: &Problem,
    p: &Params,
    rng: &mut SplitMix,
    x: &Array3<f32>,
    step_no: usize,
) -> Result<Array3<f32>> {
    let kinds: &[View] = match p.views {
        1 => &[View::Plain],
        2 => &[View::Jpeg, View::Plain],
        _ => &View::ALL,
    };
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
            View::Jpeg => rs.forward(jpeg_roundtrip(x, 70 + (rng.next() % 26) as u8).view()),
        };
        for i in 0..copies {
            let dim = 0.5f32.powi(i as i32);
            batch
                .slice_mut(s![k * copies + i, .., .., ..])
                .assign(&(&crop * dim));
        }
    }
    let members = pick_members(&ensemble.added(), p.per_step, p.added_share, rng);
    let crop_grad = ensemble.gradient(batch.view(), problem.targets, &members, p.temperature)?;
    let mut grad = Array3::<f32>::zeros(x.raw_dim());
    for (k, (rs, view)) in views.iter().enumerate() {
        let mut g = crop_grad.slice(s![k * copies, .., .., ..]).to_owned();
        for i in 1..copies {
            let dim = 0.5f32.powi(i as i32);
            g.scaled_add(dim, &crop_grad.slice(s![k * copies + i, .., .., ..]));
        }
        let g = if *view == View::Blurred { blur(&g) } else { g };
        rs.transpose_add(g.view(), &mut grad);
    }
    Ok(grad)
}
