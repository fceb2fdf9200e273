//! Turning what the user named (photos, folders) into the list of photos to cloak.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{EXTENSIONS, OUTPUT_DIR, is_output};

/// Expands folders (recursively if asked) into photo paths, drops duplicates and earlier outputs.
/// Returns the photos and the arguments that could not be used, with the reason.
pub fn collect_inputs(
    paths: &[PathBuf],
    recursive: bool,
) -> (Vec<PathBuf>, Vec<(PathBuf, String)>) {
    let mut seen = HashSet::new();
    let mut photos = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => problems.push((path.clone(), e.to_string())),
            Ok(m) if m.is_dir() => walk(path, recursive, &mut seen, &mut photos, &mut problems),
            Ok(_) => {
                if is_output(path) {
                    problems.push((path.clone(), "already a FaceCloak output".into()));
                } else if seen.insert(canonical(path)) {
                    photos.push(path.clone());
                }
            }
        }
    }
    (photos, problems)
}

fn walk(
    dir: &Path,
    recursive: bool,
    seen: &mut HashSet<PathBuf>,
    photos: &mut Vec<PathBuf>,
    problems: &mut Vec<(PathBuf, String)>,
) {
    // A folder reached twice (a symlink loop, or given twice) is read once.
    if !seen.insert(canonical(dir)) {
        return;
    }
    let mut entries: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => {
            problems.push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive && path.file_name().is_some_and(|n| n != OUTPUT_DIR) {
                walk(&path, recursive, seen, photos, problems);
            }
        } else if has_photo_extension(&path) && !is_output(&path) && seen.insert(canonical(&path)) {
            photos.push(path);
        }
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn has_photo_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}
