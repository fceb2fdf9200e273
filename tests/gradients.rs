//! Every recogniser's gradient graph must agree with its plain model and with finite differences
//! (between them they exercise every backward rule: PReLU and depthwise convolutions, FaceRes's
//! ×2 bilinear Resize, the FaceNets' 112 → 160 Resize, prewhitening, max pooling and
//! concatenation).

mod common;

use common::gradcheck::fixture_faces;
use common::gradcheck::{graph_agrees_with_model, graph_matches_finite_differences};
use common::store;
use facecloak::internals::models::{ModelInfo, RECOGNISERS};

fn surrogates() -> Vec<&'static ModelInfo> {
    RECOGNISERS
        .iter()
        .filter(|r| r.grad_file.is_some())
        .collect()
}

#[test]
fn gradient_graph_embedding_and_loss_match_the_model() {
    let store = store();
    let faces = fixture_faces(&store);
    for info in surrogates() {
        graph_agrees_with_model(&store, info, &faces);
    }
}

#[test]
fn gradient_matches_central_finite_differences() {
    let store = store();
    let faces = fixture_faces(&store);
    for info in surrogates() {
        graph_matches_finite_differences(&store, info, &faces);
    }
}
