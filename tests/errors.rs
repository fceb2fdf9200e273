//! Broken installations give one clear error naming what is wrong and how to fix it.

use std::path::Path;
use std::process::{Command, Output};

fn facecloak(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_facecloak"));
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("facecloak runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn missing_runtime_library_says_what_to_run() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("libonnxruntime.so");
    let out = facecloak(&["models"], &[("FACECLOAK_ORT_LIB", &missing)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("ONNX Runtime library not found"), "{err}");
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("models/fetch-runtime"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_file_that_is_not_the_runtime_library_is_refused_clearly() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"not a shared library").unwrap();
    let out = facecloak(&["models"], &[("FACECLOAK_ORT_LIB", &fake)]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("could not load ONNX Runtime from"), "{err}");
    assert!(err.contains(&fake.display().to_string()), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_corrupt_model_file_is_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for entry in std::fs::read_dir(&models).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "onnx") {
            std::fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let detector = tmp.path().join("ultraface-rfb320.onnx");
    let bytes = std::fs::read(&detector).unwrap();
    std::fs::write(&detector, &bytes[..bytes.len() / 3]).unwrap();
    let photo = fixture("obama.jpg");
    let out = facecloak(&["detect", &photo], &[("FACECLOAK_MODELS", tmp.path())]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("cannot load model"), "{err}");
    assert!(err.contains(&detector.display().to_string()), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn an_unreadable_photo_is_named_and_the_others_still_run() {
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("holiday.jpg");
    std::fs::write(&bogus, b"this is a text file, not a JPEG").unwrap();
    let good = fixture("obama.jpg");
    let out = facecloak(&["detect", bogus.to_str().unwrap(), &good], &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains(&bogus.display().to_string()), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["faces"].as_array().unwrap().len(), 1);
}
