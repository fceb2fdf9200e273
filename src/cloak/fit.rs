//! The last guard on visibility: if the optimised change would still show on the face at feed
//! size, it is scaled down until it does not.

use image::RgbImage;
use ndarray::Array3;

use crate::geometry::Rect;
use crate::planes::apply_region;
use crate::visibility::{
    FACE_PADDING, FaceQuality, View, display_scale, face_quality, ssimulacra2,
};

pub(super) struct Target<'a> {
    /// The face's region of the photo, as it was.
    pub original: &'a RgbImage,
    /// The same region as planes.
    pub x0: &'a Array3<f32>,
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

/// Scales `delta` down (by bisection, to within 1/64) until the face meets the floor.
pub(super) fn fit_quality(t: &Target, delta: &mut Array3<f32>) -> Fitted {
    let whole = Rect {
        x: 0,
        y: 0,
        w: t.original.width(),
        h: t.original.height(),
    };
    let view = View {
        rect: t.face.padded(FACE_PADDING, whole.w, whole.h),
        scale: display_scale(t.photo_size.0, t.photo_size.1),
    };
    // The original's side of every comparison is the same: cut and scale it once.
    let reference = view.of(t.original);
    let score_at = |k: f32| {
        let scaled = delta.mapv(|v| v * k);
        ssimulacra2(
            &reference,
            &view.of(&apply_region(t.original, whole, t.x0, &scaled)),
        )
    };
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
        delta.mapv_inplace(|v| v * lo);
    }
    let cloaked = apply_region(t.original, whole, t.x0, delta);
    Fitted {
        quality: face_quality(t.original, &cloaked, t.face, t.photo_size.0, t.photo_size.1),
        kept,
    }
}
