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
    if t.floor > 0.0 && score_at(1.0) < t.floor {
        let (mut lo, mut hi) = (0.0f32, 1.0f32);
        for _ in 0..6 {
            let mid = 0.5 * (lo + hi);
            if score_at(mid) >= t.floor {
                lo = mid
            } else {
                hi = mid
            }
        }
        kept = lo;
    }
    Fitted {
        quality: face_quality(&original, &with(kept), face, t.photo_size.0, t.photo_size.1),
        kept,
    }
}
