//! The model files FaceCloak ships, where they are found, and the one place sessions are built.

use std::path::{Path, PathBuf};

use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use serde::{Deserialize, Serialize};

use crate::{Error, Result, runtime};

/// Set this to a folder of model files to override every other location.
pub const MODELS_ENV: &str = "FACECLOAK_MODELS";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// A recogniser the user added (`facecloak models add`): a surrogate of every cloak, unless
    /// the user leaves added ones out.
    Added,
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
    /// Only the evaluation loads it (its weights' licence allows research use): never a
    /// surrogate, never in the local check, never shipped.
    pub evaluation_only: bool,
}

pub const DETECTOR: ModelInfo = ModelInfo {
    name: "ultraface",
    file: "ultraface-rfb320.onnx",
    role: Role::Detector,
    summary: "UltraFace RFB-320 face detector (320×240 RGB, (px-127)/128)",
    grad_file: None,
    embedding_dim: None,
    match_threshold: None,
    evaluation_only: false,
};

pub const LANDMARKS: ModelInfo = ModelInfo {
    name: "landmarks68",
    file: "landmarks68.onnx",
    role: Role::Landmarks,
    summary: "68-point landmarks on a 64×64 grey face crop",
    grad_file: None,
    embedding_dim: None,
    match_threshold: None,
    evaluation_only: false,
};

/// Every face recogniser FaceCloak has, each with a gradient graph, so any of them can be a
/// surrogate of a cloak (`Params::surrogates` says which) and the evaluation can hold each out in
/// turn. The roles say what the shipped modes do with them.
pub const RECOGNISERS: [ModelInfo; 7] = [
    ModelInfo {
        name: "mobilefacenet",
        file: "mobilefacenet.onnx",
        role: Role::Surrogate,
        summary: "MobileFaceNet (PReLU), 512-d embedding",
        grad_file: Some("mobilefacenet.grad.onnx"),
        embedding_dim: Some(512),
        match_threshold: Some(0.202),
        evaluation_only: false,
    },
    ModelInfo {
        name: "mobileface",
        file: "mobileface.onnx",
        role: Role::Surrogate,
        summary: "MobileFace (becauseofAI), 256-d embedding",
        grad_file: Some("mobileface.grad.onnx"),
        embedding_dim: Some(256),
        match_threshold: Some(0.178),
        evaluation_only: false,
    },
    ModelInfo {
        name: "faceres",
        file: "faceres.onnx",
        role: Role::Surrogate,
        summary: "HSE FaceRes (MobileNet, 224×224 inside), 1024-d",
        grad_file: Some("faceres.grad.onnx"),
        embedding_dim: Some(1024),
        match_threshold: Some(0.520),
        evaluation_only: false,
    },
    ModelInfo {
        name: "facenet",
        file: "facenet.onnx",
        role: Role::Surrogate,
        summary: "FaceNet Inception-ResNet-v1 (CASIA-WebFace, 160×160 inside), 512-d",
        grad_file: Some("facenet.grad.onnx"),
        embedding_dim: Some(512),
        match_threshold: Some(0.442),
        evaluation_only: false,
    },
    ModelInfo {
        name: "facenet-ms",
        file: "facenet-ms.onnx",
        role: Role::Surrogate,
        summary: "FaceNet Inception-ResNet-v1 (MS-Celeb-1M, Keras, 160×160 inside), 128-d",
        grad_file: Some("facenet-ms.grad.onnx"),
        embedding_dim: Some(128),
        match_threshold: Some(0.328),
        evaluation_only: false,
    },
    ModelInfo {
        name: "mobilefacenet-ms1m",
        file: "mobilefacenet-ms1m.onnx",
        role: Role::Surrogate,
        summary: "sirius-ai MobileFaceNet (PReLU, MS1M), 192-d",
        grad_file: Some("mobilefacenet-ms1m.grad.onnx"),
        embedding_dim: Some(192),
        match_threshold: Some(0.300),
        evaluation_only: false,
    },
    ModelInfo {
        name: "insightface-mbf",
        file: "insightface-mbf.onnx",
        role: Role::Judge,
        summary: "InsightFace MobileFaceNet (ArcFace, WebFace600K), 512-d; evaluation only",
        grad_file: None,
        embedding_dim: Some(512),
        match_threshold: Some(0.145),
        evaluation_only: true,
    },
];

/// The recognisers the shipped modes optimise against.
pub fn surrogates() -> impl Iterator<Item = &'static ModelInfo> {
    RECOGNISERS.iter().filter(|r| r.role == Role::Surrogate)
}

/// The recognisers the shipped modes never optimise against: they only measure transfer.
pub fn judges() -> impl Iterator<Item = &'static ModelInfo> {
    RECOGNISERS.iter().filter(|r| r.role == Role::Judge)
}

/// Every recogniser, in [`RECOGNISERS`] order.
pub fn recognisers() -> Vec<&'static ModelInfo> {
    RECOGNISERS.iter().collect()
}

/// The index of a recogniser in [`RECOGNISERS`], by name.
pub fn recogniser_index(name: &str) -> Option<usize> {
    RECOGNISERS.iter().position(|r| r.name == name)
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
    /// Recognisers the user added, after the shipped ones in [`ModelStore::recognisers`].
    added: Vec<&'static ModelInfo>,
}

impl ModelStore {
    /// Finds the model folder: `FACECLOAK_MODELS`, `models/` next to the executable, the app's
    /// bundled resources, then, in debug builds only, the source tree's `models/`.
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
            #[cfg(debug_assertions)]
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
            added: Vec::new(),
        })
    }

    /// With the recognisers the user added in `dir` (see [`crate::user_models`]) taking part.
    pub fn with_added(mut self, dir: &Path) -> Self {
        self.added = crate::user_models::installed(dir)
            .iter()
            .map(|m| m.info())
            .collect();
        if !self.added.is_empty() {
            self.searched.push(dir.to_path_buf());
        }
        self
    }

    /// Every recogniser: the shipped ones in [`RECOGNISERS`] order, then those the user added.
    /// A cloak's [`crate::Params::surrogates`] mask counts bits in this order.
    pub fn recognisers(&self) -> Vec<&'static ModelInfo> {
        RECOGNISERS
            .iter()
            .chain(self.added.iter().copied())
            .collect()
    }

    /// The recognisers the user added, as a [`crate::Params::surrogates`] mask.
    pub fn added_mask(&self) -> u32 {
        (0..self.added.len()).fold(0, |m, i| m | 1 << (RECOGNISERS.len() + i))
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
        let path = self.path(file);
        if !path.is_file() {
            return Err(Error::Io {
                path,
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "model file not found"),
            });
        }
        self.open(&path, |b| b.commit_from_file(&path))
    }

    /// A session over a model held in memory (one being built or checked); `path` names it in
    /// errors.
    pub fn session_from_bytes(&self, path: &Path, bytes: &[u8]) -> Result<Session> {
        self.open(path, |b| b.commit_from_memory(bytes))
    }

    fn open(
        &self,
        path: &Path,
        commit: impl FnOnce(&mut SessionBuilder) -> ort::Result<Session>,
    ) -> Result<Session> {
        let env = runtime::environment(self.resource_dir.as_deref())?;
        let model_err = |source: ort::Error| Error::Model {
            path: path.to_path_buf(),
            source,
        };
        let mut builder = Session::builder(env)
            .map_err(model_err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| model_err(e.into()))?
            .with_intra_threads(self.intra_threads)
            .map_err(|e| model_err(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| model_err(e.into()))?
            // The gradient graphs see batches of varying size, for which a memory pattern only
            // holds buffers: off, the sizes bench peaked 100-210 MiB lower and ran no slower with
            // byte-identical cloaks. Turning the CPU arena off saved twice that but cost 20-50 %
            // more time on group photos (README, Speed and memory).
            .with_memory_pattern(false)
            .map_err(|e| model_err(e.into()))?;
        commit(&mut builder).map_err(model_err)
    }
}
