//! How much of a change the face can take: the share of it that keeps the face at the mode's
//! visibility floor (SSIMULACRA2 at feed size). The optimiser asks during the descent, to resize
//! its budget to what the floor allows, and once more at the end, as the last guard.

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

/// The judged part of a face (its padded box), prepared once so each trial costs one
/// SSIMULACRA2 of the face at feed size.
pub(super) struct Scorer<'a> {
    target: &'a Target<'a>,
    original: RgbImage,
    face: Rect,
    judged: Rect,
    view: View,
    reference: RgbImage,
}

impl<'a> Scorer<'a> {
    pub(super) fn new(t: &'a Target<'a>) -> Self {
        // Only the padded face box is judged, so only it is rebuilt for each trial.
        let (w, h) = t.original.dimensions();
        let judged = t.face.padded(FACE_PADDING, w, h);
        let original =
            image::imageops::crop_imm(t.original, judged.x, judged.y, judged.w, judged.h)
                .to_image();
        let face = Rect {
            x: t.face.x - judged.x,
            y: t.face.y - judged.y,
            ..t.face
        };
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
        Self {
            target: t,
            original,
            face,
            judged,
            view,
            reference,
        }
    }

    /// The share of `change` (at most `most`) whose face score keeps the floor, landing within a
    /// point above it when the floor binds; `most` itself when it keeps the floor too.
    pub(super) fn share(&self, change: &Change, most: f32) -> f32 {
        let floor = self.target.floor;
        if floor <= 0.0 {
            return most;
        }
        let delta = change.rect(self.judged);
        let score = |k: f32| {
            ssimulacra2(
                &self.reference,
                &self.view.of(&apply_scaled(&self.original, delta.view(), k)),
            )
        };
        let at_most = score(most);
        if at_most >= floor {
            return most;
        }
        if most > 1.0 {
            let at_one = score(1.0);
            if at_one >= floor {
                return search(score, floor, (1.0, at_one), (most, at_most));
            }
            return search(score, floor, (0.0, 100.0), (1.0, at_one));
        }
        search(score, floor, (0.0, 100.0), (most, at_most))
    }

    /// The face's visibility with `k · change` applied.
    pub(super) fn quality(&self, change: &Change, k: f32) -> FaceQuality {
        let delta = change.rect(self.judged);
        let (w, h) = self.target.photo_size;
        face_quality(
            &self.original,
            &apply_scaled(&self.original, delta.view(), k),
            self.face,
            w,
            h,
        )
    }
}

/// The share of `change` that keeps the face at the floor, and the face's visibility with it.
pub(super) fn fit_quality(t: &Target, change: &Change) -> Fitted {
    let scorer = Scorer::new(t);
    let kept = scorer.share(change, 1.0);
    Fitted {
        quality: scorer.quality(change, kept),
        kept,
    }
}

/// How close above the floor a fitted face may land: every SSIMULACRA2 trial costs as much as
/// the rest of a small face's work, so the search stops within this band instead of refining
/// the share to a fixed precision.
const BAND: f64 = 1.0;

/// The largest share found between `lo` (whose score keeps the floor) and `hi` (whose score
/// does not) that keeps the floor. The score falls smoothly with the share, so regula falsi
/// (Illinois) lands in the band in two or three trials where bisection took six.
fn search(
    score: impl Fn(f32) -> f64,
    floor: f64,
    (mut lo, mut s_lo): (f32, f64),
    (mut hi, mut s_hi): (f32, f64),
) -> f32 {
    let target = floor + 0.5 * BAND;
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
            let kept = search(counted, floor, (0.0, 100.0), (1.0, score(1.0)));
            let s = score(kept);
            assert!(s >= floor, "{s} under {floor} (curve {curve})");
            assert!(s < floor + BAND || trials.get() == 6, "{s} (curve {curve})");
            assert!(trials.get() <= 6);
        }
    }

    #[test]
    fn the_search_also_finds_a_share_past_the_whole_change() {
        // A change too weak to reach the floor: the share grows past 1 toward it.
        let score = |k: f32| 100.0 - 20.0 * f64::from(k);
        let kept = search(score, 70.0, (1.0, score(1.0)), (2.0, score(2.0)));
        let s = score(kept);
        assert!(kept > 1.0 && (70.0..71.0).contains(&s), "{kept} scores {s}");
    }
}
