use std::path::PathBuf;

/// Everything that can go wrong, each naming the file involved so a user can act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "ONNX Runtime library not found (looked in: {}). Run `models/fetch-runtime` in the FaceCloak \
         source tree, or set FACECLOAK_ORT_LIB to the path of ONNX Runtime {} ({})",
        list(.searched), crate::runtime::ORT_VERSION, crate::runtime::LIBRARY_NAME
    )]
    RuntimeMissing { searched: Vec<PathBuf> },

    #[error(
        "could not load ONNX Runtime from {}: {reason}. FaceCloak needs ONNX Runtime {}; run \
         `models/fetch-runtime` or point FACECLOAK_ORT_LIB at the right library",
        .path.display(), crate::runtime::ORT_VERSION
    )]
    RuntimeLoad { path: PathBuf, reason: String },

    #[error("model folder not found (looked in: {}); set FACECLOAK_MODELS to the folder holding the .onnx files", list(.searched))]
    ModelsMissing { searched: Vec<PathBuf> },

    #[error("cannot load model {}: {source}", .path.display())]
    Model { path: PathBuf, source: ort::Error },

    #[error("model {} does not produce what FaceCloak expects: {reason}", .path.display())]
    ModelShape { path: PathBuf, reason: String },

    #[error("cannot add {} as a recogniser: {reason}", .path.display())]
    Recogniser { path: PathBuf, reason: String },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: {reason}", .path.display())]
    Unsupported { path: PathBuf, reason: String },

    #[error("{}: cannot write: {source}", .path.display())]
    Encode {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    #[error("{}: cannot decode image: {source}", .path.display())]
    Decode {
        path: PathBuf,
        source: image::ImageError,
    },

    #[error("stopped at the user's request")]
    Cancelled,

    #[error(transparent)]
    Ort(#[from] ort::Error),

    #[error(transparent)]
    Shape(#[from] ndarray::ShapeError),

    #[error("cannot write the JSON report: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
