//! What the way from the optimiser to a scraper's database keeps of a cloak: the same cloaks
//! judged where the optimiser worked (the face aligned as in the clean photo, nothing written),
//! after the judge finds and aligns the face itself, and as posted (the JPEG FaceCloak writes).

use std::collections::HashMap;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::cloaks::Cloaked;
use super::embed::{self, Embeddings};
use super::{Scene, protect};
use crate::Result;
use crate::models::{ModelStore, Role, recognisers};
use crate::recognise::cosine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Aligned by the clean photo's landmarks, lossless: what the optimiser saw.
    Crop,
    /// Found and aligned by the judge's own detection, lossless.
    Redetected,
    /// As written (JPEG) and read back, found and aligned by the judge.
    Posted,
}

impl Stage {
    pub const ALL: [Stage; 3] = [Stage::Crop, Stage::Redetected, Stage::Posted];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Crop => "crop",
            Stage::Redetected => "re-detected",
            Stage::Posted => "posted",
        }
    }
}

/// One judge's view of a variant's cloaks at one stage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageResult {
    pub stage: Stage,
    pub judge: String,
    pub role: Role,
    pub rank1: f64,
    /// Mean cosine of each cloaked photo to the same photo clean (1: the cloak did nothing).
    pub own_cosine: f64,
}

/// Every judge at every stage; `posted` are the embeddings of the cloaks as posted.
pub(super) fn measure(
    store: &ModelStore,
    scene: &Scene,
    cloaked: &[Cloaked],
    posted: Vec<Embeddings>,
    white_box: u32,
) -> Result<Vec<StageResult>> {
    let pairs: Vec<(&RgbImage, &RgbImage)> = scene
        .prot
        .iter()
        .zip(cloaked)
        .map(|(&i, c)| (&c.lossless, &scene.photos[i].image))
        .collect();
    let crop = embed::embed_aligned(store, &pairs)?;
    let lossless: Vec<&RgbImage> = cloaked.iter().map(|c| &c.lossless).collect();
    let redetected = embed::embed_all(store, &lossless)?;
    let identity: Vec<usize> = scene.photos.iter().map(|p| p.identity).collect();
    let protected: Vec<bool> = scene.photos.iter().map(|p| p.protected).collect();
    let mut out = Vec::new();
    for (stage, emb) in Stage::ALL.into_iter().zip([crop, redetected, posted]) {
        let own: HashMap<usize, Embeddings> = scene.prot.iter().copied().zip(emb).collect();
        for (j, info) in recognisers().iter().enumerate() {
            let threshold = info.match_threshold.unwrap_or(0.5);
            let p = protect::measure(j, threshold, &identity, &protected, &scene.clean, &own);
            let cosines: Vec<f64> = scene
                .prot
                .iter()
                .filter_map(|i| {
                    let (c, o) = (scene.clean[*i].as_ref()?, own[i].as_ref()?);
                    Some(f64::from(cosine(&c[j], &o[j])))
                })
                .collect();
            out.push(StageResult {
                stage,
                judge: info.name.to_string(),
                role: if white_box & (1 << j) != 0 {
                    Role::Surrogate
                } else {
                    Role::Judge
                },
                rank1: p.rank1,
                own_cosine: cosines.iter().sum::<f64>() / cosines.len().max(1) as f64,
            });
        }
    }
    Ok(out)
}
