//! The dataset's photos: one folder per person, split into halves by name, the protected people
//! chosen, loaded and enlarged to the sizes evaluated.

use std::path::{Path, PathBuf};

use image::RgbImage;
use image::imageops::{FilterType, resize};
use rayon::prelude::*;

use super::{EvalOptions, half_of};
use crate::Result;

/// One photo of the dataset: whose, whether that person is protected, and the image (or, before
/// loading, its path).
pub(super) struct Photo<I = RgbImage> {
    pub(super) identity: usize,
    pub(super) protected: bool,
    pub(super) image: I,
}

pub(super) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> crate::Error + '_ {
    move |source| crate::Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// The dataset's photos (as `Photo`s whose image is still to be loaded, by path) and the names
/// of the half's identities.
pub(super) fn scan(opts: &EvalOptions) -> Result<(Vec<Photo<PathBuf>>, Vec<String>)> {
    let people: Vec<PathBuf> = list(&opts.dataset)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    let mut out = Vec::new();
    let mut half_names = Vec::new();
    let mut protected_count = 0;
    for (id, dir) in people.iter().enumerate() {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let mut files: Vec<PathBuf> = list(dir)?.into_iter().filter(|f| f.is_file()).collect();
        let in_half = half_of(&name) == opts.half;
        if in_half {
            half_names.push(name);
        }
        let protected =
            in_half && files.len() >= 3 && opts.identities.is_none_or(|n| protected_count < n);
        if protected {
            protected_count += 1;
            if let Some(k) = opts.photos {
                files.truncate(k.max(3));
            }
        }
        out.extend(files.into_iter().map(|image| Photo {
            identity: id,
            protected,
            image,
        }));
    }
    Ok((out, half_names))
}

fn enlarge(img: &RgbImage, factor: u32) -> RgbImage {
    if factor <= 1 {
        return img.clone();
    }
    resize(
        img,
        img.width() * factor,
        img.height() * factor,
        FilterType::Lanczos3,
    )
}

/// The photos `scan` found, loaded; unreadable files are left out of the evaluation rather than
/// ending it.
pub(super) fn load(files: &[Photo<PathBuf>]) -> Vec<Photo> {
    files
        .par_iter()
        .filter_map(|f| {
            let image = crate::io::load_rgb(&f.image).ok()?;
            Some(Photo {
                identity: f.identity,
                protected: f.protected,
                image,
            })
        })
        .collect()
}

/// Every photo enlarged `factor` times (1: as it is).
pub(super) fn enlarged(photos: &[Photo], factor: u32) -> Vec<Photo> {
    photos
        .par_iter()
        .map(|p| Photo {
            identity: p.identity,
            protected: p.protected,
            image: enlarge(&p.image, factor),
        })
        .collect()
}
