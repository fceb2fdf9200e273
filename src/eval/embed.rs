//! Every recogniser's view of a photo, as a scraper would take it: detect, align the best face,
//! embed. Clean photos' embeddings are cached on disk between runs.

use std::collections::HashMap;
use std::path::Path;

use image::RgbImage;
use ndarray::Axis;
use rayon::prelude::*;

use crate::Result;
use crate::align::{face_transform, warp_face};
use crate::detect::Detector;
use crate::models::{ModelStore, recognisers};
use crate::recognise::Recogniser;

/// One embedding per recogniser (surrogates, then judges); `None` when no face is found.
pub type Embeddings = Option<Vec<Vec<f32>>>;

struct Judges {
    detector: Detector,
    recognisers: Vec<Recogniser>,
}

impl Judges {
    fn new(store: &ModelStore) -> Result<Self> {
        Ok(Self {
            detector: Detector::new(store)?,
            recognisers: recognisers()
                .into_iter()
                .map(|i| Recogniser::new(store, i))
                .collect::<Result<_>>()?,
        })
    }

    fn embed(&mut self, img: &RgbImage) -> Result<Embeddings> {
        self.embed_aligned_as(img, img)
    }

    /// `img`'s face aligned as the first face found in `found_in` is (the same photo before a
    /// change: what the optimiser saw, with no second detection).
    fn embed_aligned_as(&mut self, img: &RgbImage, found_in: &RgbImage) -> Result<Embeddings> {
        let faces = self.detector.detect(found_in)?;
        let Some(face) = faces.first() else {
            return Ok(None);
        };
        let crop = warp_face(img, &face_transform(&face.five)).insert_axis(Axis(0));
        let mut out = Vec::new();
        for r in &mut self.recognisers {
            out.push(r.embed(crop.view())?.row(0).to_vec());
        }
        Ok(Some(out))
    }
}

/// Embeddings of many images, in parallel, one recogniser set per thread.
pub fn embed_all(store: &ModelStore, images: &[&RgbImage]) -> Result<Vec<Embeddings>> {
    images
        .par_iter()
        .map_init(
            || Judges::new(store),
            |j, img| match j {
                Ok(j) => j.embed(img),
                Err(e) => Err(super::flatten_err(e)),
            },
        )
        .collect()
}

/// Embeddings of changed photos, each face aligned where it was found in the photo before the
/// change (`pairs`: changed, original).
pub fn embed_aligned(
    store: &ModelStore,
    pairs: &[(&RgbImage, &RgbImage)],
) -> Result<Vec<Embeddings>> {
    pairs
        .par_iter()
        .map_init(
            || Judges::new(store),
            |j, (img, found_in)| match j {
                Ok(j) => j.embed_aligned_as(img, found_in),
                Err(e) => Err(super::flatten_err(e)),
            },
        )
        .collect()
}

/// Like [`embed_all`] for clean photos, reusing `cache_file` (keyed by each image's content).
pub fn embed_cached(
    store: &ModelStore,
    images: &[&RgbImage],
    cache_file: &Path,
) -> Result<Vec<Embeddings>> {
    let mut cache: HashMap<String, Embeddings> = std::fs::read_to_string(cache_file)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let keys: Vec<String> = images
        .iter()
        .map(|img| format!("{:016x}", super::content_hash(img.as_raw())))
        .collect();
    let missing: Vec<usize> = (0..images.len())
        .filter(|&i| !cache.contains_key(&keys[i]))
        .collect();
    if !missing.is_empty() {
        let todo: Vec<&RgbImage> = missing.iter().map(|&i| images[i]).collect();
        for (i, e) in missing.iter().zip(embed_all(store, &todo)?) {
            cache.insert(keys[*i].clone(), e);
        }
        if let Ok(text) = serde_json::to_string(&cache) {
            let _ = std::fs::write(cache_file, text);
        }
    }
    Ok(keys.iter().map(|k| cache[k].clone()).collect())
}
