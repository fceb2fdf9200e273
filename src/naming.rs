//! Where each cloaked photo goes, decided for the whole batch before it starts, so two photos
//! never claim one output name.
//!
//! Without an output folder a photo's output is `cloaked/<stem>.cloaked.<ext>` beside it. With
//! one, the inputs' folders are mirrored below it (from the deepest folder they all share), so
//! `album/day1/IMG_0001.jpg` and `album/day2/IMG_0001.jpg` stay apart. Photos that would still
//! share a name — `a.jpg` and `a.jpeg` in one folder, or `a.png` and `a.gif` — keep their whole
//! file name as the stem: `a.jpg.cloaked.jpg`, `a.jpeg.cloaked.jpg`.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// What marks a file as an output (and keeps it from being cloaked again).
pub const OUTPUT_MARK: &str = ".cloaked.";
/// The output folder beside the inputs when none is given.
pub const OUTPUT_DIR: &str = "cloaked";

/// Each input's output folder and name stem.
#[derive(Debug, Default)]
pub struct Plan {
    places: HashMap<PathBuf, (PathBuf, OsString)>,
}

impl Plan {
    pub fn new(inputs: &[PathBuf], out_dir: Option<&Path>) -> Self {
        let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        let parents: Vec<PathBuf> = inputs.iter().map(|i| absolute(folder(i))).collect();
        let root = common_ancestor(&parents);
        let dirs: Vec<PathBuf> = inputs
            .iter()
            .zip(&parents)
            .map(|(input, parent)| match out_dir {
                Some(out) => out.join(parent.strip_prefix(&root).unwrap_or(Path::new(""))),
                None => folder(input).join(OUTPUT_DIR),
            })
            .collect();
        let mut claims: HashMap<(PathBuf, OsString), usize> = HashMap::new();
        for (input, dir) in inputs.iter().zip(&dirs) {
            *claims.entry((dir.clone(), stem(input))).or_default() += 1;
        }
        let places = inputs
            .iter()
            .zip(dirs)
            .map(|(input, dir)| {
                let shared = claims[&(dir.clone(), stem(input))] > 1;
                let name = if shared {
                    input.file_name().unwrap_or_default().to_os_string()
                } else {
                    stem(input)
                };
                (input.clone(), (dir, name))
            })
            .collect();
        Self { places }
    }

    /// The output path of `input` in the format whose extension is `ext`.
    pub fn output(&self, input: &Path, ext: &str) -> PathBuf {
        match self.places.get(input) {
            Some((dir, name)) => dir.join(with_mark(name, ext)),
            // A photo outside the plan gets the rule for a photo alone.
            None => folder(input)
                .join(OUTPUT_DIR)
                .join(with_mark(&stem(input), ext)),
        }
    }

    /// Every output folder of the batch.
    pub fn dirs(&self) -> HashSet<PathBuf> {
        self.places.values().map(|(d, _)| d.clone()).collect()
    }
}

/// Whether a file is itself a FaceCloak output.
pub fn is_output(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().contains(OUTPUT_MARK))
}

fn folder(input: &Path) -> &Path {
    input
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

// Built from the raw file name, so names that are not valid UTF-8 survive unchanged.
fn stem(input: &Path) -> OsString {
    input.file_stem().unwrap_or_default().to_os_string()
}

fn with_mark(name: &OsString, ext: &str) -> OsString {
    let mut name = name.clone();
    name.push(OUTPUT_MARK);
    name.push(ext);
    name
}

fn common_ancestor(dirs: &[PathBuf]) -> PathBuf {
    let mut common = dirs.first().cloned().unwrap_or_default();
    for d in dirs.iter().skip(1) {
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(inputs: &[&str], out: Option<&str>) -> Vec<PathBuf> {
        let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
        let p = Plan::new(&inputs, out.map(Path::new));
        inputs.iter().map(|i| p.output(i, "jpg")).collect()
    }

    #[test]
    fn an_output_folder_mirrors_the_input_folders() {
        let out = plan(
            &[
                "/a/album/day1/IMG_1.jpg",
                "/a/album/day2/IMG_1.jpg",
                "/a/album/x.jpg",
            ],
            Some("/out"),
        );
        assert_eq!(
            out,
            [
                "/out/day1/IMG_1.cloaked.jpg",
                "/out/day2/IMG_1.cloaked.jpg",
                "/out/x.cloaked.jpg"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn without_an_output_folder_outputs_sit_beside_their_inputs() {
        let out = plan(&["/a/day1/IMG_1.jpg", "/a/day2/IMG_1.jpg"], None);
        assert_eq!(
            out,
            [
                "/a/day1/cloaked/IMG_1.cloaked.jpg",
                "/a/day2/cloaked/IMG_1.cloaked.jpg"
            ]
            .map(PathBuf::from)
        );
    }

    #[test]
    fn photos_that_share_a_stem_keep_their_whole_name() {
        let out = plan(&["/a/p.jpg", "/a/p.jpeg", "/a/q.png"], Some("/out"));
        assert_eq!(
            out,
            [
                "/out/p.jpg.cloaked.jpg",
                "/out/p.jpeg.cloaked.jpg",
                "/out/q.cloaked.jpg"
            ]
            .map(PathBuf::from)
        );
        assert!(out.iter().all(|o| is_output(o)));
    }
}
