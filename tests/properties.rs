//! Property tests of the alignment geometry: the similarity transform and its inverse round-trip,
//! estimation recovers a transform from its own points, and the warp's transpose is its adjoint.

use facecloak::internals::align::{FACE_SIZE, TEMPLATE};
use facecloak::internals::geometry::Similarity;
use facecloak::internals::warp::{Resampler, footprint};
use ndarray::Array3;
use proptest::prelude::*;

fn similarity() -> impl Strategy<Value = Similarity> {
    (
        0.05f32..20.0,
        -std::f32::consts::PI..std::f32::consts::PI,
        -2000.0f32..2000.0,
        -2000.0f32..2000.0,
    )
        .prop_map(|(s, angle, tx, ty)| Similarity {
            a: s * angle.cos(),
            b: s * angle.sin(),
            tx,
            ty,
        })
}

proptest! {
    #[test]
    fn inverse_round_trips_points(t in similarity(), x in -5000.0f32..5000.0, y in -5000.0f32..5000.0) {
        let back = t.inverse().apply(t.apply([x, y]));
        let tol = 1e-3 * (1.0 + x.abs().max(y.abs()) + t.tx.abs().max(t.ty.abs()) / t.scale());
        prop_assert!((back[0] - x).abs() < tol && (back[1] - y).abs() < tol, "{:?} → {:?}", [x, y], back);
    }

    #[test]
    fn estimate_recovers_the_transform_of_the_template(t in similarity()) {
        let src: Vec<[f32; 2]> = TEMPLATE.iter().map(|p| t.inverse().apply(*p)).collect();
        let e = Similarity::estimate(&src, &TEMPLATE);
        for (p, q) in src.iter().zip(TEMPLATE.iter()) {
            let got = e.apply(*p);
            prop_assert!((got[0] - q[0]).abs() < 0.05 && (got[1] - q[1]).abs() < 0.05, "{:?} vs {:?}", got, q);
        }
    }

    #[test]
    fn warp_transpose_is_its_adjoint(scale in 0.2f32..3.0, angle in -0.5f32..0.5, seed in 0u32..1000) {
        let t = Similarity { a: scale * angle.cos(), b: scale * angle.sin(), tx: 20.0, ty: -10.0 };
        let region = footprint(&t, 1500, 1500);
        let rs = Resampler::new(&t, region);
        let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut rand = || { s ^= s << 13; s ^= s >> 17; s ^= s << 5; (s % 1000) as f32 / 1000.0 };
        let x = Array3::from_shape_fn((3, region.h as usize, region.w as usize), |_| rand());
        let g = Array3::from_shape_fn((3, FACE_SIZE, FACE_SIZE), |_| rand() - 0.5);
        let mut wtg = Array3::zeros(x.raw_dim());
        rs.transpose_add(g.view(), &mut wtg);
        let lhs: f64 = rs.forward(x.view()).iter().zip(g.iter()).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
        let rhs: f64 = x.iter().zip(wtg.iter()).map(|(a, b)| f64::from(*a) * f64::from(*b)).sum();
        prop_assert!((lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
    }
}
