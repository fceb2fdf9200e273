//! Recognisers the user adds (`facecloak models add`, the app's **Add a recogniser…**).
//!
//! FaceCloak may not ship a modern recogniser (the ones trained on large web datasets come
//! under non-commercial terms), but a user may have one for their own use. Its file is read as
//! released, checked, put onto FaceCloak's input convention ([`wrap`]), and its gradient graph
//! is built here in Rust ([`grad`]) and checked against finite differences ([`probe`]). Both
//! graphs are kept in the user's data folder; nothing is ever downloaded.

mod grad;
mod onnx;
mod probe;
mod wrap;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use prost::Message;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use probe::GradientCheck;
pub use wrap::Convention;

use crate::models::{ModelInfo, ModelStore, RECOGNISERS, Role};
use crate::output::write_atomic;
use crate::{Error, Result};

/// Set this to a folder to keep added recognisers there instead of the user's data folder.
pub const USER_MODELS_ENV: &str = "FACECLOAK_USER_MODELS";

/// Larger than any face recogniser released (a ResNet-100 is about 250 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// At most this many added recognisers take part (the ensemble's mask has 32 bits).
pub const MAX_ADDED: usize = 8;

/// A recogniser FaceCloak has measured, known by the SHA-256 of its file as released.
struct Known {
    sha256: &'static str,
    what: &'static str,
    /// The equal-error cosine on `../shared/faces` (517 faces, 89 people), measured by
    /// `examples/calibrate.rs` (models/README.md).
    threshold: f32,
    /// The evaluation-only judge built from the same file, if any: added, it is no longer held
    /// out of the cloak.
    judge: Option<&'static str>,
}

const KNOWN: &[Known] = &[Known {
    sha256: "9cc6e4a75f0e2bf0b1aed94578f144d15175f357bdc05e815e5c4a02b319eb4f",
    what: "InsightFace buffalo_s w600k_mbf.onnx",
    threshold: 0.145,
    judge: Some("insightface-mbf"),
}];

/// The match threshold assumed for a recogniser FaceCloak has not measured: ArcFace-trained
/// recognisers match faces of one person from a cosine of about 0.15–0.3.
pub const ASSUMED_THRESHOLD: f32 = 0.25;

/// The folder added recognisers live in: `FACECLOAK_USER_MODELS`, or `recognisers/` in the
/// user's data folder (`~/.local/share/facecloak/` on Linux).
pub fn folder() -> Option<PathBuf> {
    std::env::var_os(USER_MODELS_ENV)
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|d| d.join("facecloak").join("recognisers")))
}

/// One added recogniser, as its `<name>.json` describes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AddedModel {
    pub name: String,
    /// The file the user added, by name, and its SHA-256.
    pub source: String,
    pub sha256: String,
    /// How it wants its input, in words (`RGB, (x − 127.5) / 127.5`).
    pub input: String,
    #[cfg_attr(feature = "ts", ts(skip))]
    pub convention: Convention,
    pub embedding_dim: usize,
    pub match_threshold: f32,
    /// Where the threshold comes from: measured by FaceCloak for this file, given by the user,
    /// or assumed.
    pub threshold_from: String,
    #[cfg_attr(feature = "ts", ts(skip))]
    pub check: GradientCheck,
}

impl AddedModel {
    pub fn file(&self) -> String {
        format!("{}.onnx", self.name)
    }

    pub fn grad_file(&self) -> String {
        format!("{}.grad.onnx", self.name)
    }

    /// The evaluation's judge that is this very network, if any (the evaluation then counts it
    /// white-box, not held out).
    pub fn same_as_judge(&self) -> Option<&'static str> {
        KNOWN
            .iter()
            .find(|k| k.sha256 == self.sha256)
            .and_then(|k| k.judge)
    }

    /// This recogniser as the rest of FaceCloak sees every recogniser. Interned: the same model
    /// gives the same `&'static` description however often it is loaded, so a long-lived app
    /// that reloads its engine holds one copy of each.
    pub fn info(&self) -> &'static ModelInfo {
        static INTERNED: Mutex<Vec<(AddedModel, &'static ModelInfo)>> = Mutex::new(Vec::new());
        let mut interned = INTERNED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, info)) = interned.iter().find(|(m, _)| m == self) {
            return info;
        }
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let info: &'static ModelInfo = Box::leak(Box::new(ModelInfo {
            name: leak(self.name.clone()),
            file: leak(self.file()),
            role: Role::Added,
            summary: leak(format!(
                "added by you from {}, {}-d, input {}",
                self.source, self.embedding_dim, self.input
            )),
            grad_file: Some(leak(self.grad_file())),
            embedding_dim: Some(self.embedding_dim),
            match_threshold: Some(self.match_threshold),
            evaluation_only: false,
        }));
        interned.push((self.clone(), info));
        info
    }
}

/// What `add` is told besides the file.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// The name it is listed and used under; by default the file's stem.
    pub name: Option<String>,
    /// How it wants its input; by default InsightFace's (RGB, (x − 127.5) / 127.5).
    pub convention: Option<Convention>,
    /// The cosine at which it counts two faces as one person, when FaceCloak has not measured it.
    pub threshold: Option<f32>,
}

fn refuse(path: &Path, reason: impl Into<String>) -> Error {
    Error::Recogniser {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Checks `file`, builds its graphs and keeps them in `dir`. Replaces nothing: a name already
/// taken is an error.
pub fn add(
    store: &ModelStore,
    dir: &Path,
    file: &Path,
    options: &AddOptions,
) -> Result<AddedModel> {
    let name = match &options.name {
        Some(n) => n.clone(),
        None => default_name(file),
    };
    check_name(file, &name)?;
    let present = installed(dir);
    if present.iter().any(|m| m.name == name) {
        return Err(refuse(
            file,
            format!(
                "a recogniser named `{name}` is already added (remove it first, or give another name with --name)"
            ),
        ));
    }
    if present.len() >= MAX_ADDED {
        return Err(refuse(
            file,
            format!("at most {MAX_ADDED} recognisers can be added"),
        ));
    }
    let io = |source| Error::Io {
        path: file.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(file).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(refuse(
            file,
            format!("{} MB is larger than any face recogniser", size >> 20),
        ));
    }
    let bytes = std::fs::read(file).map_err(io)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    let model = onnx::ModelProto::decode(bytes.as_slice())
        .map_err(|e| refuse(file, format!("not an ONNX model, or a truncated one ({e})")))?;
    drop(bytes);
    if model.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(refuse(file, "not an ONNX model: it holds no graph"));
    }
    let convention = options.convention.unwrap_or(Convention::ARCFACE);
    let forward = wrap::wrap(model, &convention).map_err(|r| refuse(file, r))?;
    let faces = probe::probe_faces();
    let shapes = probe::measure_shapes(store, file, &forward, faces.view())?;
    let gradient = grad::gradient_model(&forward, &shapes).map_err(|r| refuse(file, r))?;
    let embedding_dim = shapes[wrap::EMBEDDING][1] as usize;
    let mut forward = forward;
    if let Some(g) = forward.graph.as_mut() {
        g.output = vec![onnx::ValueInfo::tensor(
            wrap::EMBEDDING,
            onnx::dtype::FLOAT,
            &[None, Some(embedding_dim as i64)],
        )];
    }
    let (forward, gradient) = (forward.encode_to_vec(), gradient.encode_to_vec());
    let check = {
        let mut f = store.session_from_bytes(file, &forward)?;
        let mut g = store.session_from_bytes(file, &gradient)?;
        probe::check_gradient(&mut f, &mut g, file, faces.view())?
    };
    let known = KNOWN.iter().find(|k| k.sha256 == sha256);
    let (match_threshold, threshold_from) = match (options.threshold, known) {
        (Some(t), _) => (t, "given when it was added".to_string()),
        (None, Some(k)) => (k.threshold, format!("measured by FaceCloak for {}", k.what)),
        (None, None) => (
            ASSUMED_THRESHOLD,
            "assumed (typical of ArcFace-trained recognisers); give --threshold if you know it"
                .into(),
        ),
    };
    let added = AddedModel {
        name,
        source: file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        sha256,
        input: convention.describe(),
        convention,
        embedding_dim,
        match_threshold,
        threshold_from,
        check,
    };
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    write_atomic(&dir.join(added.file()), &forward, false)?;
    write_atomic(&dir.join(added.grad_file()), &gradient, false)?;
    // The description is written last: a recogniser counts as added once it is there.
    write_atomic(
        &dir.join(format!("{}.json", added.name)),
        &serde_json::to_vec_pretty(&added)?,
        false,
    )?;
    Ok(added)
}

/// The recognisers added in `dir`, by name; a description whose graphs are missing or which
/// cannot be read is left out.
pub fn installed(dir: &Path) -> Vec<AddedModel> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<AddedModel> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| serde_json::from_slice::<AddedModel>(&std::fs::read(&p).ok()?).ok())
        .filter(|m| {
            check_name(dir, &m.name).is_ok()
                && dir.join(m.file()).is_file()
                && dir.join(m.grad_file()).is_file()
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found.truncate(MAX_ADDED);
    found
}

/// Removes an added recogniser's files.
pub fn remove(dir: &Path, name: &str) -> Result<AddedModel> {
    let model = installed(dir)
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| refuse(dir, format!("no recogniser named `{name}` is added here")))?;
    // The description goes first, so a removal cut short leaves no half-listed recogniser.
    for file in [format!("{name}.json"), model.file(), model.grad_file()] {
        let path = dir.join(file);
        std::fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
    }
    Ok(model)
}

fn default_name(file: &Path) -> String {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().to_lowercase());
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_string();
    if name.is_empty() {
        "added".into()
    } else {
        name
    }
}

fn check_name(file: &Path, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    if !ok {
        return Err(refuse(
            file,
            format!(
                "`{name}` is not a usable name (lower-case letters, digits and dashes, up to 40)"
            ),
        ));
    }
    if RECOGNISERS.iter().any(|r| r.name == name) {
        return Err(refuse(
            file,
            format!("`{name}` is the name of a recogniser FaceCloak has; give another with --name"),
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_file_and_are_checked() {
        assert_eq!(default_name(Path::new("/x/w600k_mbf.onnx")), "w600k-mbf");
        assert_eq!(default_name(Path::new("/x/__.onnx")), "added");
        assert!(check_name(Path::new("f"), "w600k-r50").is_ok());
        assert!(check_name(Path::new("f"), "Bad Name").is_err());
        assert!(check_name(Path::new("f"), "faceres").is_err());
        assert!(check_name(Path::new("f"), "../up").is_err());
    }

    #[test]
    fn conventions_are_read_from_words() {
        assert_eq!(Convention::parse("arcface").unwrap(), Convention::ARCFACE);
        let c = Convention::parse("127.5/128,bgr").unwrap();
        assert!(c.bgr && c.mean == [127.5; 3] && c.std == [128.0; 3]);
        assert!(Convention::parse("0/0").is_err());
        assert!(Convention::parse("imagenet").is_err());
    }
}
