//! A recogniser the user adds, tried with InsightFace's `w600k_mbf.onnx` exactly as its registry
//! package ships it (scripts/setup unpacks the package for the evaluation's judge): its graphs
//! are built, its embeddings are the evaluation judge's, its gradient agrees with finite
//! differences, it changes the cloak, and files that are not such a recogniser are refused
//! with the reason.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use common::gradcheck::{fixture_faces, graph_agrees_with_model, graph_matches_finite_differences};
use common::{fixture, released_w600k_mbf, store};
use facecloak::internals::models::{RECOGNISERS, recogniser_index};
use facecloak::internals::recognise::{GradientGraph, Recogniser, cosine};
use facecloak::user_models::{self, AddOptions};
use facecloak::{Engine, Error, Options};

fn added(dir: &Path) -> user_models::AddedModel {
    user_models::add(&store(), dir, &released_w600k_mbf(), &AddOptions::default())
        .expect("w600k_mbf.onnx is added")
}

#[test]
fn w600k_mbf_is_added_with_its_measured_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let m = added(dir.path());
    assert_eq!(m.name, "w600k-mbf");
    assert_eq!(m.embedding_dim, 512);
    assert_eq!(m.match_threshold, 0.145);
    assert!(
        m.threshold_from.starts_with("measured"),
        "{}",
        m.threshold_from
    );
    assert_eq!(m.input, "RGB, (x − 127.5) / 127.5");
    assert_eq!(user_models::installed(dir.path()), vec![m.clone()]);
    // The same name again is refused; under another name the same file is a second recogniser.
    let again = user_models::add(
        &store(),
        dir.path(),
        &released_w600k_mbf(),
        &AddOptions::default(),
    );
    assert!(
        matches!(&again, Err(Error::Recogniser { reason, .. }) if reason.contains("already added")),
        "{again:?}"
    );
    user_models::remove(dir.path(), "w600k-mbf").unwrap();
    assert!(user_models::installed(dir.path()).is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "every file removed"
    );
}

#[test]
fn added_embeddings_equal_the_evaluation_judges_and_the_gradient_is_right() {
    let dir = tempfile::tempdir().unwrap();
    added(dir.path());
    let store = store().with_added(dir.path());
    let info = *store
        .recognisers()
        .iter()
        .find(|r| r.name == "w600k-mbf")
        .expect("the store lists the added recogniser");
    assert_eq!(store.recognisers().len(), RECOGNISERS.len() + 1);
    let faces = fixture_faces(&store);
    // The judge was built from the same file by models/tools/insightface.py (opset 11 → 18 by
    // ONNX's converter): the Rust port must see faces exactly as it does.
    let judge = &RECOGNISERS[recogniser_index("insightface-mbf").unwrap()];
    let theirs = Recogniser::new(&store, judge)
        .unwrap()
        .embed(faces.view())
        .unwrap();
    let ours = Recogniser::new(&store, info)
        .unwrap()
        .embed(faces.view())
        .unwrap();
    for i in 0..2 {
        let c = cosine(
            ours.row(i).as_slice().unwrap(),
            theirs.row(i).as_slice().unwrap(),
        );
        assert!(c > 0.99999, "face {i}: cosine {c} to the judge's embedding");
    }
    graph_agrees_with_model(&store, info, &faces);
    graph_matches_finite_differences(&store, info, &faces);

    // Told the file wants BGR, the same network sees a face with its channels swapped as the
    // RGB one sees the face itself.
    let bgr = AddOptions {
        name: Some("w600k-mbf-bgr".into()),
        convention: Some(user_models::Convention::parse("127.5/127.5,bgr").unwrap()),
        ..AddOptions::default()
    };
    user_models::add(&store, dir.path(), &released_w600k_mbf(), &bgr).unwrap();
    let store = store.with_added(dir.path());
    let swapped_info = *store
        .recognisers()
        .iter()
        .find(|r| r.name == "w600k-mbf-bgr")
        .unwrap();
    let mut swapped = faces.clone();
    swapped.invert_axis(ndarray::Axis(1));
    let swapped = swapped.as_standard_layout().to_owned();
    let via_bgr = Recogniser::new(&store, swapped_info)
        .unwrap()
        .embed(swapped.view())
        .unwrap();
    for i in 0..2 {
        let c = cosine(
            ours.row(i).as_slice().unwrap(),
            via_bgr.row(i).as_slice().unwrap(),
        );
        assert!(
            c > 0.99999,
            "face {i}: cosine {c} through the BGR convention"
        );
    }
    graph_matches_finite_differences(&store, swapped_info, &faces);
}

#[test]
fn an_added_recogniser_changes_the_cloak_and_joins_the_local_check() {
    let dir = tempfile::tempdir().unwrap();
    added(dir.path());
    let out = tempfile::tempdir().unwrap();
    let stop = AtomicBool::new(false);
    let (mut outputs, mut words) = (Vec::new(), Vec::new());
    for (k, with) in [None, Some(dir.path())].into_iter().enumerate() {
        let engine = Engine::new(None, with).unwrap();
        let options = Options {
            out_dir: Some(out.path().join(k.to_string())),
            ..Options::default()
        };
        let report = engine
            .cloak_batch(&[fixture("obama.jpg")], &options, |_| {}, &stop)
            .unwrap();
        let face = &report.done[0].faces[0];
        let names: Vec<&str> = face.local_check.iter().map(|c| c.model).collect();
        assert_eq!(names.contains(&"w600k-mbf"), with.is_some(), "{names:?}");
        outputs.push(std::fs::read(&report.done[0].output).unwrap());
        words.push(face.protection.clone());
    }
    assert_ne!(
        outputs[0], outputs[1],
        "the added recogniser changed nothing"
    );
    // With a recogniser added, the face's words give the figures measured with one.
    assert_ne!(words[0], words[1]);
}

/// Bytes that are not such a recogniser fail alone, with the file and the reason.
#[test]
fn files_that_are_not_recognisers_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let store = store();
    let released = std::fs::read(released_w600k_mbf()).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = work.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let huge = work.path().join("huge.onnx");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(3 << 30)
        .unwrap();
    let cases: Vec<(PathBuf, &str)> = vec![
        (
            write("truncated.onnx", &released[..released.len() / 2]),
            "truncated",
        ),
        (write("noise.onnx", &[0xff; 4096]), "not an ONNX model"),
        (write("empty.onnx", b""), "no graph"),
        // The face detector: ops no recogniser needs (and two outputs).
        (
            models.join("ultraface-rfb320.onnx"),
            "cannot differentiate: Exp, Softmax",
        ),
        (models.join("landmarks68.onnx"), "not N×3×112×112"),
        (huge, "larger than any face recogniser"),
        (work.path().join("absent.onnx"), "No such file"),
    ];
    for (file, why) in cases {
        let err = user_models::add(&store, dir.path(), &file, &AddOptions::default())
            .expect_err(&format!("{} was added", file.display()));
        let text = err.to_string();
        assert!(
            text.contains(&*file.to_string_lossy()) && text.contains(why),
            "{}: {text}",
            file.display()
        );
    }
    let named = AddOptions {
        name: Some("faceres".into()),
        ..AddOptions::default()
    };
    let taken = user_models::add(&store, dir.path(), &released_w600k_mbf(), &named).unwrap_err();
    assert!(
        taken
            .to_string()
            .contains("name of a recogniser FaceCloak has"),
        "{taken}"
    );
    assert!(user_models::installed(dir.path()).is_empty());
}

/// The Rust builder is a port of `models/tools/gradgraph.py`: given the shipped surrogates' plain
/// graphs (their input already in [0, 1], so the convention is the identity, 0/255), it must build
/// the gradients the Python builder built, rule for rule (PReLU, ReLU, Abs, Max/Min, depthwise
/// convolutions, MatMul, both Resizes, max pooling, concatenation, prewhitening).
#[test]
fn the_rust_builder_differentiates_the_shipped_surrogates_as_gradgraph_py_does() {
    let dir = tempfile::tempdir().unwrap();
    let base = store();
    let identity = AddOptions {
        convention: Some(user_models::Convention::parse("0/255").unwrap()),
        ..AddOptions::default()
    };
    let shipped: Vec<_> = RECOGNISERS
        .iter()
        .filter(|r| r.grad_file.is_some())
        .collect();
    for info in &shipped {
        let options = AddOptions {
            name: Some(format!("rust-{}", info.name)),
            ..identity.clone()
        };
        user_models::add(&base, dir.path(), &base.path(info.file), &options)
            .unwrap_or_else(|e| panic!("{}: {e}", info.name));
    }
    let store = base.with_added(dir.path());
    let faces = fixture_faces(&store);
    for info in shipped {
        let ours = *store
            .recognisers()
            .iter()
            .find(|r| r.name == format!("rust-{}", info.name))
            .unwrap();
        let target = Recogniser::new(&store, info)
            .unwrap()
            .embed(faces.view())
            .unwrap();
        let target = target.slice(ndarray::s![1..2, ..]).to_owned();
        let x = faces.slice(ndarray::s![0..1, .., .., ..]);
        let theirs = GradientGraph::new(&store, info)
            .unwrap()
            .eval(x, target.view())
            .unwrap();
        let mine = GradientGraph::new(&store, ours)
            .unwrap()
            .eval(x, target.view())
            .unwrap();
        let scale = theirs.grad.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = (&mine.grad - &theirs.grad)
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        assert!(
            diff <= 1e-3 * scale,
            "{}: the Rust gradient differs from gradgraph.py's by {diff} (largest {scale})",
            info.name
        );
        assert!(
            (mine.loss[0] - theirs.loss[0]).abs() < 1e-5,
            "{}",
            info.name
        );
    }
}
