//! The last guard on visibility: if the optimised change would still show on the face at feed
//! size, it is scaled down until it does not.

use super::grid::Change;
use image::RgbImage;

use crate::geometry::Rect;
use crate::planes::apply_scaled;
use crate::visibility::{
    FACE_PADDING, FaceQuality, View, display_scale, face_quality, ssimulacra2,
};

pub(super) struct Target<'a> {
    /// The face's region of the photo, as it was.
    pub original: &'a RgbImage,
    /// The detector box, in the region's coordinates.
    pub face: Rect,
    /// The whole photo's size, which sets the feed's scale.
    pub photo_size: (u32, u32),
    /// SSIMULACRA2 at feed size the face must keep (0: no floor).
    pub floor: f64,
}

pub(super) struct Fitted {
    pub quality: FaceQuality,
    /// Share of the perturbation kept.
    pub kept: f32,
}

/// The share of `change` (by bisection, to within 1/64) that keeps the face at the floor.
pub(super) fn fit_quality(t: &Target, change: &Change) -> Fitted {
    // Only the padded face box is judged, so only it is rebuilt for each trial.
    let (w, h) = t.original.dimensions();
    let judged = t.face.padded(FACE_PADDING, w, h);
    let original =
        image::imageops::crop_imm(t.original, judged.x, judged.y, judged.w, judged.h).to_image();
    let face = Rect {
        x: t.face.x - judged.x,
        y: t.face.y - judged.y,
        ..t.face
    };
    let delta = change.rect(judged);
    let view = View {
        rect: Rect {
            x: 0,
            y: 0,
            ..judged
        },
        scale: display_scale(t.photo_size.0, t.photo_size.1),
    };
    // The original's side of every comparison is the same: cut and scale it once.
    let reference = view.of(&original);
    let with = |k: f32| apply_scaled(&original, delta.view(), k);
    let score_at = |k: f32| ssimulacra2(&reference, &view.of(&with(k)));
    let mut kept = 1.0f32;
    if t.floor > 0.0 {
        let full = score_at(1.0);
        if full < t.floor {
            kept = search(score_at, t.floor, full);
        }
    }
    Fitted {
        quality: face_quality(&original, &with(kept), face, t.photo_size.0, t.photo_size.1),
        kept,
    }
}

/// How close above the floor a fitted face may land: every SSIMULACRA2 trial costs as much as
/// the rest of a small face's work, so the search stops within this band instead of refining
/// the share to a fixed precision.
const BAND: f64 = 1.0;

/// The largest share found whose score keeps the floor, knowing `score(1) = full < floor` and
/// `score(0) = 100`. The score falls smoothly with the share, so regula falsi (Illinois) lands
/// in the band in two or three trials where bisection took six.
fn search(score: impl Fn(f32) -> f64, floor: f64, full: f64) -> f32 {
    let target = floor + 0.5 * BAND;
    let (mut lo, mut s_lo) = (0.0f32, 100.0f64);
    let (mut hi, mut s_hi) = (1.0f32, full);
    let mut side = 0i8;
    for _ in 0..6 {
        let t = ((s_lo - target) / (s_lo - s_hi)).clamp(0.02, 0.98) as f32;
        let k = lo + t * (hi - lo);
        let s = score(k);
        if s >= floor {
            (lo, s_lo) = (k, s);
            if s < floor + BAND {
                break;
            }
            // Illinois: a side kept twice in a row has its far end's weight halved.
            if side == 1 {
                s_hi = target + 0.5 * (s_hi - target);
            }
            side = 1;
        } else {
            (hi, s_hi) = (k, s);
            if side == -1 {
                s_lo = target + 0.5 * (s_lo - target);
            }
            side = -1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_lands_in_the_band_above_the_floor_in_few_trials() {
        for (floor, curve) in [
            (70.0, 0.6f64),
            (70.0, 1.4),
            (40.0, 1.0),
            (80.0, 2.5),
            (40.0, 0.3),
        ] {
            // Scores falling from 100 at no change to 10 at the whole change, along a power.
            let score = |k: f32| 100.0 - 90.0 * f64::from(k).powf(curve);
            let trials = std::cell::Cell::new(0);
            let counted = |k: f32| {
                trials.set(trials.get() + 1);
                score(k)
            };
            let kept = search(counted, floor, score(1.0));
            let s = score(kept);
            assert!(s >= floor, "{s} under {floor} (curve {curve})");
            assert!(s < floor + BAND || trials.get() == 6, "{s} (curve {curve})");
            assert!(trials.get() <= 6);
        }
    }
}
