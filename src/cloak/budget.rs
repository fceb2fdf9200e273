//! Where the cloak may change the face, and by how much: a per-pixel luma budget that is larger
//! in texture (where contrast masking hides change) than on flat skin, and fades to nothing
//! outside an ellipse around the face so no seam shows at a box edge.

use ndarray::{Array2, Array3};

use crate::geometry::{Rect, Similarity};

/// Per-pixel budget: the mode's largest change, scaled down on flat areas (where noise shows) and
/// feathered to zero outside an ellipse around the face (so there is no seam at a box edge).
pub(super) fn budget_map(
    x0: &Array3<f32>,
    to_face: &Similarity,
    r: Rect,
    max_change: f32,
    texture_floor: f32,
) -> Array2<f32> {
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
        let texture = texture_floor + (1.0 - texture_floor) * (std[[y, x]] / 0.06).min(1.0);
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
