//! The scraped-database protocol: a gallery holds each protected person's *cloaked* photos among
//! everyone else's clean ones; a clean photo of the person is the probe. The person is protected
//! when the nearest gallery face (by the judge's cosine similarity) belongs to someone else.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::embed::Embeddings;
use crate::recognise::cosine;

/// Protection measured by one judge under one condition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Protection {
    pub probes: usize,
    /// Share of probes whose nearest gallery face is someone else.
    pub rank1: f64,
    /// Share of probes with none of their own photos among the five nearest.
    pub top5: f64,
    /// Share of (clean probe, own gallery photo) pairs the judge would still call a match.
    pub verification: f64,
    /// Mean cosine distance from a probe to the nearest of its own gallery photos.
    pub own_distance: f64,
    /// Gallery photos of protected people in which no face was found at all.
    pub faces_lost: usize,
    /// With a *cloaked* photo of the person as the probe (the investigator searches with one of
    /// the photos they found): the share of such probes whose nearest gallery face is not one of
    /// the person's other cloaked photos. Low means the cloaked photos find each other. (`None`
    /// in reports from before it was measured.)
    #[serde(default)]
    pub cloaked_probe_rank1: Option<f64>,
    /// Each probe's similarity to the nearest of its own gallery photos (−1 with none).
    #[serde(skip)]
    pub best_own: Vec<f32>,
}

/// `identity[i]` and `protected[i]` describe photo i; `clean[i]` is its clean embedding; `own`
/// replaces the protected photos' gallery embeddings.
pub fn measure(
    judge: usize,
    threshold: f32,
    identity: &[usize],
    protected: &[bool],
    clean: &[Embeddings],
    own: &HashMap<usize, Embeddings>,
) -> Protection {
    let (mut probes, mut rank1, mut top5, mut pairs, mut matches, mut dist) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0.0);
    let mut best_own = Vec::new();
    for p in 0..identity.len() {
        let Some(probe) = clean[p].as_ref().filter(|_| protected[p]) else {
            continue;
        };
        let probe = &probe[judge];
        let mut gallery: Vec<(f32, bool)> = Vec::with_capacity(identity.len());
        for g in 0..identity.len() {
            if g == p {
                continue;
            }
            let same = identity[g] == identity[p];
            let emb = if same {
                own.get(&g).and_then(|e| e.as_ref())
            } else {
                clean[g].as_ref()
            };
            if let Some(e) = emb {
                gallery.push((cosine(probe, &e[judge]), same));
            }
        }
        probes += 1;
        gallery.sort_by(|a, b| b.0.total_cmp(&a.0));
        if gallery.first().is_none_or(|g| !g.1) {
            rank1 += 1;
        }
        if gallery.iter().take(5).all(|g| !g.1) {
            top5 += 1;
        }
        let own_sims: Vec<f32> = gallery.iter().filter(|g| g.1).map(|g| g.0).collect();
        pairs += own_sims.len();
        matches += own_sims.iter().filter(|s| **s >= threshold).count();
        let best = own_sims.iter().copied().fold(-1.0f32, f32::max);
        best_own.push(best);
        dist += 1.0 - f64::from(best);
    }
    let n = probes.max(1) as f64;
    let cloaked_probe_rank1 = Some(cloaked_probes(judge, identity, protected, clean, own));
    Protection {
        probes,
        rank1: rank1 as f64 / n,
        top5: top5 as f64 / n,
        verification: matches as f64 / pairs.max(1) as f64,
        own_distance: dist / n,
        faces_lost: own.values().filter(|e| e.is_none()).count(),
        cloaked_probe_rank1,
        best_own,
    }
}

/// Each protected person's cloaked photos in turn as the probe, against the same gallery less
/// that photo: the share whose nearest face is someone else's.
fn cloaked_probes(
    judge: usize,
    identity: &[usize],
    protected: &[bool],
    clean: &[Embeddings],
    own: &HashMap<usize, Embeddings>,
) -> f64 {
    let (mut probes, mut missed) = (0usize, 0usize);
    for p in (0..identity.len()).filter(|&p| protected[p]) {
        let Some(probe) = own.get(&p).and_then(|e| e.as_ref()) else {
            continue;
        };
        let best = (0..identity.len())
            .filter(|&g| g != p)
            .filter_map(|g| {
                let same = identity[g] == identity[p];
                let e = if same {
                    own.get(&g).and_then(|e| e.as_ref())
                } else {
                    clean[g].as_ref()
                };
                e.map(|e| (cosine(&probe[judge], &e[judge]), same))
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        probes += 1;
        if best.is_none_or(|b| !b.1) {
            missed += 1;
        }
    }
    missed as f64 / probes.max(1) as f64
}
