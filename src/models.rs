//! The model files FaceCloak ships, where they are found, and the one place sessions are built.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use serde::Serialize;

use crate::{Error, Result, runtime};

/// Set this to a folder of model files to override every other location.
pub const MODELS_ENV: &str = "FACECLOAK_MODELS";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Finds face boxes.
    Detector,
    /// 68 facial landmarks inside a face box.
    Landmarks,
    /// A recogniser the cloak is optimised against (it has a gradient graph).
    Surrogate,
    /// A recogniser kept out of every optimisation path, used only to measure protection.
    Judge,
}

/// One shipped model. Provenance and licences are in `models/README.md`.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub name: &'static str,
    pub file: &'static str,
    pub role: Role,
    pub summary: &'static str,
    /// The gradient graph, for surrogates.
    pub grad_file: Option<&'static str>,
    /// Embedding size, for recognisers.
    pub embedding_dim: Option<usize>,
    /// Cosine similarity at or above which two faces count as the same person: the equal-error
    /// threshold measured by `examples/calibrate.rs` on `../shared/faces` (517 faces, 89 people).
    pub match_threshold: Option<f32>,
}

pub const DETECTOR: ModelInfo = ModelInfo {
    name: "ultraface",
    file: "ultraface-rfb320.onnx",
    role: Role::Detector,
    summary: "UltraFace RFB-320 face detector (320×240 RGB, (px-127)/128)",
    grad_file: None,
    embedding_dim: None,
    match_threshold: None,
};

pub const LANDMARKS: ModelInfo = ModelInfo {
    name: "landmarks68",
    file: "landmarks68.onnx",
    role: Role::Landmarks,
    summary: "68-point landmarks on a 64×64 grey face crop",
    grad_file: None,
    embedding_dim: None,
    match_threshold: None,
};

pub const SURROGATES: [ModelInfo; 2] = [
    ModelInfo {
        name: "mobilefacenet",
        file: "mobilefacenet.onnx",
        role: Role::Surrogate,
        summary: "MobileFaceNet (PReLU), 512-d embedding",
        grad_file: Some("mobilefacenet.grad.onnx"),
        embedding_dim: Some(512),
        match_threshold: Some(0.202),
    },
    ModelInfo {
        name: "mobileface",
        file: "mobileface.onnx",
        role: Role::Surrogate,
        summary: "MobileFace (becauseofAI), 256-d embedding",
        grad_file: Some("mobileface.grad.onnx"),
        embedding_dim: Some(256),
        match_threshold: Some(0.178),
    },
];

/// Recognisers kept out of every optimisation path: they only measure how well a cloak transfers
/// to models it never saw. Two architectures, so one judge's blind spot does not flatter a cloak.
pub const JUDGES: [ModelInfo; 2] = [
    ModelInfo {
        name: "faceres",
        file: "faceres.onnx",
        role: Role::Judge,
        summary: "HSE FaceRes (MobileNet, 224×224 inside), 1024-d; held out of the ensemble",
        grad_file: None,
        embedding_dim: Some(1024),
        match_threshold: Some(0.520),
    },
    ModelInfo {
        name: "facenet",
        file: "facenet.onnx",
        role: Role::Judge,
        summary: "FaceNet Inception-ResNet-v1 (CASIA-WebFace, 160×160 inside), 512-d; held out of the ensemble",
        grad_file: None,
        embedding_dim: Some(512),
        match_threshold: Some(0.442),
    },
];

/// FaceRes as a third surrogate, for the leave-one-out experiment (knob `faceres`): its gradient
/// graph is built where it is used (`models/build --local`), and with it in the ensemble only
/// FaceNet is still held out.
pub const FACERES_SURROGATE: ModelInfo = ModelInfo {
    role: Role::Surrogate,
    grad_file: Some("faceres.grad.onnx"),
    summary: "HSE FaceRes as a surrogate (experiment only)",
    ..JUDGES[0]
};

/// Every recogniser: the surrogates, then the held-out judges.
pub fn recognisers() -> Vec<&'static ModelInfo> {
    SURROGATES.iter().chain(JUDGES.iter()).collect()
}

/// Every shipped model, in the order `facecloak models` lists them.
pub fn all() -> Vec<&'static ModelInfo> {
    let mut v = vec![&DETECTOR, &LANDMARKS];
    v.extend(recognisers());
    v
}

/// Where the models are and how sessions over them are configured.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    /// `dir` and the folders searched after it: a file missing from `dir` (the app's bundled
    /// resources leave out the evaluation-only judge) is taken from the next folder that has it.
    searched: Vec<PathBuf>,
    resource_dir: Option<PathBuf>,
    intra_threads: usize,
}

impl ModelStore {
    /// Finds the model folder: `FACECLOAK_MODELS`, `models/` next to the executable, the app's
    /// bundled resources, then the source tree's `models/`.
    pub fn locate(resource_dir: Option<&Path>) -> Result<Self> {
        let mut searched = Vec::new();
        if let Some(dir) = std::env::var_os(MODELS_ENV) {
            searched.push(PathBuf::from(dir));
        } else {
            if let Some(exe_dir) = std::env::current_exe()
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
            {
                searched.push(exe_dir.join("models"));
            }
            if let Some(res) = resource_dir {
                searched.push(res.join("models"));
            }
            searched.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
        }
        let Some(first) = searched
            .iter()
            .position(|d| d.join(DETECTOR.file).is_file())
        else {
            return Err(Error::ModelsMissing { searched });
        };
        let searched = searched.split_off(first);
        Ok(Self {
            dir: searched[0].clone(),
            searched,
            resource_dir: resource_dir.map(Path::to_path_buf),
            intra_threads: 1,
        })
    }

    /// Threads each session may use inside one run. Keep (parallel sessions × this) ≤ cores.
    pub fn with_intra_threads(mut self, threads: usize) -> Self {
        self.intra_threads = threads.max(1);
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.searched
            .iter()
            .map(|d| d.join(file))
            .find(|p| p.is_file())
            .unwrap_or_else(|| self.dir.join(file))
    }

    /// The one session builder: every model is opened here, with the same runtime and threading.
    pub fn session(&self, file: &str) -> Result<Session> {
        let env = runtime::environment(self.resource_dir.as_deref())?;
        let path = self.path(file);
        if !path.is_file() {
            return Err(Error::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "model file not found"),
            });
        }
        let model_err = |source: ort::Error| Error::Model {
            path: path.clone(),
            source,
        };
        Session::builder(env)
            .map_err(model_err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| model_err(e.into()))?
            .with_intra_threads(self.intra_threads)
            .map_err(|e| model_err(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| model_err(e.into()))?
            .commit_from_file(&path)
            .map_err(model_err)
    }
}
