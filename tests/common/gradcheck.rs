//! The checks every gradient graph must pass, the shipped surrogates' and a user's added
//! recogniser's alike: it agrees with its plain model and with finite differences.
#![allow(dead_code)]

use facecloak::internals::models::{ModelInfo, ModelStore};
use facecloak::internals::recognise::{GradientGraph, Recogniser, cosine};
use ndarray::{Array4, Axis};

use facecloak::internals::detect::Detector;

use super::{Rng, aligned_face, batch, fixture};

/// The two fixture portraits' faces, aligned: the first is the face moved, the second's
/// embedding its target.
pub fn fixture_faces(store: &ModelStore) -> Array4<f32> {
    let mut det = Detector::new(store).unwrap();
    batch(&[
        aligned_face(&mut det, &fixture("obama.jpg")),
        aligned_face(&mut det, &fixture("biden.jpg")),
    ])
}

/// The gradient graph's embedding and loss agree with the plain model's on `faces`.
pub fn graph_agrees_with_model(store: &ModelStore, info: &'static ModelInfo, faces: &Array4<f32>) {
    {
        let mut plain = Recogniser::new(store, info).unwrap();
        let mut graph = GradientGraph::new(store, info).unwrap();
        let emb = plain.embed(faces.view()).unwrap();
        // Target of each face: the other person's embedding.
        let targets = ndarray::concatenate(
            Axis(0),
            &[
                emb.slice(ndarray::s![1..2, ..]),
                emb.slice(ndarray::s![0..1, ..]),
            ],
        )
        .unwrap();
        let out = graph.eval(faces.view(), targets.view()).unwrap();
        let scale = emb.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = (&out.embedding - &emb)
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        assert!(
            diff <= 1e-4 * scale,
            "{}: embedding differs by {diff} (scale {scale})",
            info.name
        );
        for i in 0..2 {
            let expected = cosine(
                emb.row(i).as_slice().unwrap(),
                targets.row(i).as_slice().unwrap(),
            );
            assert!(
                (out.loss[i] - expected).abs() < 1e-4,
                "{}: loss {} vs cosine {expected}",
                info.name,
                out.loss[i]
            );
        }
    }
}

/// Central differences of cos(embedding(x + h·d), target) against the graph's gradient along d.
/// Directions: the gradient itself (where the signal is largest) and random unit directions.
pub fn graph_matches_finite_differences(
    store: &ModelStore,
    info: &'static ModelInfo,
    faces: &Array4<f32>,
) {
    let x = faces.slice(ndarray::s![0..1, .., .., ..]).to_owned();
    {
        let mut plain = Recogniser::new(store, info).unwrap();
        let mut graph = GradientGraph::new(store, info).unwrap();
        let emb = plain.embed(faces.view()).unwrap();
        let target = emb.slice(ndarray::s![1..2, ..]).to_owned();
        let grad = graph.eval(x.view(), target.view()).unwrap().grad;
        let gnorm = grad
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!(gnorm > 1e-6, "{}: gradient is zero", info.name);
        let dim = grad.len() as f64;

        let mut loss_at = |d: &Array4<f32>, h: f32| {
            let moved = &x + &(d * h);
            let e = plain.embed(moved.view()).unwrap();
            f64::from(cosine(
                e.row(0).as_slice().unwrap(),
                target.row(0).as_slice().unwrap(),
            ))
        };
        let mut rng = Rng::new(7);
        let mut directions = vec![grad.mapv(|v| (f64::from(v) / gnorm) as f32)];
        for _ in 0..4 {
            let mut d = grad.mapv(|_| rng.normal() as f32);
            let n = d.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt();
            d.mapv_inplace(|v| (f64::from(v) / n) as f32);
            directions.push(d);
        }
        for (k, d) in directions.iter().enumerate() {
            let h = 1e-2;
            let fd = (loss_at(d, h) - loss_at(d, -h)) / (2.0 * f64::from(h));
            let an: f64 = grad
                .iter()
                .zip(d.iter())
                .map(|(g, v)| f64::from(*g) * f64::from(*v))
                .sum();
            // Along the gradient the derivative is |g|: allow 5%. A random unit direction sees
            // about |g|/sqrt(dim): allow a quarter of that, far below what a wrong gradient gives.
            let tol = if k == 0 {
                0.05 * an.abs()
            } else {
                0.25 * gnorm / dim.sqrt()
            };
            assert!(
                (fd - an).abs() <= tol,
                "{} direction {k}: finite difference {fd:.3e}, gradient {an:.3e}, tolerance {tol:.1e}",
                info.name
            );
        }
    }
}
