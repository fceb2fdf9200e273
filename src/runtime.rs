//! Finding and loading the ONNX Runtime shared library, once per process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use crate::{Error, Result};

/// The ONNX Runtime release `models/fetch-runtime` installs and `ort`'s `api-30` feature expects.
pub const ORT_VERSION: &str = "1.30.0";

#[cfg(target_os = "windows")]
pub const LIBRARY_NAME: &str = "onnxruntime.dll";
#[cfg(target_os = "macos")]
pub const LIBRARY_NAME: &str = "libonnxruntime.dylib";
#[cfg(not(any(target_os = "windows", target_os = "macos")))]
pub const LIBRARY_NAME: &str = "libonnxruntime.so";

/// Set this to the runtime library's path to override every other location.
pub const LIBRARY_ENV: &str = "FACECLOAK_ORT_LIB";

static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
// ort allows one environment per process, so concurrent first calls must not both build one.
static INIT: Mutex<()> = Mutex::new(());

/// Where the library is looked for, in order: `FACECLOAK_ORT_LIB` (alone, when set), next to the
/// executable, the app's bundled resources, and, in debug builds only, the source tree's
/// `runtime/` (a release binary runs where that tree may not exist).
pub fn library_candidates(resource_dir: Option<&Path>) -> Vec<PathBuf> {
    if let Some(path) = std::env::var_os(LIBRARY_ENV) {
        return vec![PathBuf::from(path)];
    }
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.clone());
        dirs.push(exe_dir.join("runtime"));
    }
    if let Some(res) = resource_dir {
        dirs.push(res.to_path_buf());
        dirs.push(res.join("runtime"));
    }
    #[cfg(debug_assertions)]
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("runtime"));
    dirs.into_iter().map(|d| d.join(LIBRARY_NAME)).collect()
}

/// Loads ONNX Runtime (once) and returns the process-wide environment every session is built in.
pub fn environment(resource_dir: Option<&Path>) -> Result<&'static Environment> {
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(env) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let candidates = library_candidates(resource_dir);
    let path = candidates
        .iter()
        .find(|p| p.is_file())
        .ok_or_else(|| Error::RuntimeMissing {
            searched: candidates.clone(),
        })?;
    let load_err = |reason: String| Error::RuntimeLoad {
        path: path.clone(),
        reason,
    };
    let builder = ort::init_from(path).map_err(|e| load_err(e.to_string()))?;
    let env = builder
        .with_name("facecloak")
        .with_telemetry(false)
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    Ok(ENVIRONMENT.get_or_init(|| env))
}
