//! Measuring both halves of the promise on people the cloak was never tuned on: protection
//! against held-out judges (`protect`) after what platforms do to photos (`purify`), and
//! visibility on the face at feed size (`visibility`), on LFW-size faces and on the same
//! photos enlarged to portrait size. Identities are split once (`split`); parameters are chosen
//! on the tuning half and only the test half is published.

mod chart;
mod cloaks;
mod dataset;
mod embed;
mod pipeline;
mod protect;
mod purify;
mod report;
mod saved;
mod scale;
mod split;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use image::RgbImage;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use chart::contact_sheet;
pub use chart::frontier;
use dataset::Photo;
pub use pipeline::{Stage, StageResult};
pub use protect::Protection;
pub use purify::Purifier;
pub use report::markdown;
pub use scale::{AtScale, GALLERY_SIZES, Tail};
pub use split::{Half, half_of};

use crate::Result;
use crate::cloak::{Cloaker, Mode, Params, content_hash};
use crate::detect::{Detector, Face};
use crate::models::{ModelStore, RECOGNISERS, Role, recognisers};
use crate::visibility::{FACE_PADDING, FaceQuality, display_scale};

/// Bump when the optimiser or the detector changes, so cached cloaks and embeddings are not
/// reused across versions.
pub const ENGINE_VERSION: u32 = 6;

/// A named optimiser setting: a mode, or a mode with one knob changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Variant {
    pub name: String,
    pub params: Params,
}

impl Variant {
    pub fn mode(mode: Mode) -> Self {
        Self {
            name: mode.name().to_string(),
            params: mode.params(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub dataset: PathBuf,
    pub half: Half,
    pub variants: Vec<Variant>,
    /// Protected identities at most (those of the half with ≥ 3 photos, in name order).
    pub identities: Option<usize>,
    /// Photos per protected identity at most.
    pub photos: Option<usize>,
    /// Enlargements to evaluate at: 1 = the photos as they are, 3 = portrait-size faces.
    pub upscales: Vec<u32>,
    pub purifiers: Vec<Purifier>,
    /// Leave-one-out: each variant is cloaked once per recogniser, optimised with the variant's
    /// other surrogates and judged by the one left out. Without it, a variant's judges are the
    /// recognisers outside its ensemble.
    pub hold_out: bool,
    /// Photos cloaked only to judge visibility (fixtures, real portraits).
    pub visibility_photos: Vec<PathBuf>,
    /// Where cloaked photos and clean embeddings are cached between runs.
    pub cache: PathBuf,
    pub seed: u64,
    /// A folder of recognisers added as a user adds them (`facecloak models add`): every
    /// variant is then run in the configuration "with a user's recogniser", named
    /// `<variant>+<added>`, with them among its surrogates.
    pub added: Option<PathBuf>,
}

/// Visibility of one variant over the protected photos (faces' SSIMULACRA2 and SSIM).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Visibility {
    pub faces: usize,
    pub median_display: f64,
    pub p10_display: f64,
    pub min_display: f64,
    pub median_full: f64,
    pub p10_full: f64,
    /// Median with the yardstick before round six (every photo enlarged to a 1080 px long side).
    pub median_enlarged: f64,
    pub median_face_ssim: f64,
    pub seconds_per_face: f64,
}

/// One judge's verdict on one variant after one purifier (read back from a saved report by
/// `saved`).
#[derive(Debug, Clone, Serialize)]
pub struct JudgeResult {
    pub judge: &'static str,
    pub role: Role,
    pub purifier: Purifier,
    #[serde(flatten)]
    pub protection: Protection,
    /// Share of probes a clean photo still finds in galleries of N faces (extrapolated).
    pub at_scale: Vec<AtScale>,
    /// The median false-accept rate of the probes' best own score: the share of strangers the
    /// judge's impostor tail puts above it (how far past the measured pairs the extrapolation
    /// reaches: about 1/pairs is the last measured).
    #[serde(default)]
    pub best_own_far: Option<f64>,
}

/// One variant at one size: its visibility and every judge's verdicts (read back from a saved
/// report by `saved`).
#[derive(Debug, Clone, Serialize)]
pub struct VariantResult {
    pub variant: String,
    /// With leave-one-out, the recogniser this run left out of the variant's ensemble.
    pub held_out: Option<&'static str>,
    /// The recognisers this run's cloaks were optimised against.
    pub surrogates: Vec<&'static str>,
    pub upscale: u32,
    pub visibility: Visibility,
    pub protection: Vec<JudgeResult>,
    /// Every judge at each stage from the optimiser's crop to the posted photo (empty in
    /// reports from before it was measured).
    pub pipeline: Vec<StageResult>,
}

/// One face of a visibility-only photo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhotoFace {
    pub variant: String,
    pub photo: String,
    pub quality: FaceQuality,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EvalReport {
    #[serde(serialize_with = "crate::pathname::serialize")]
    pub dataset: PathBuf,
    pub half: Half,
    /// The half's identities (all of them, whether or not they had enough photos to protect).
    pub half_identities: Vec<String>,
    pub protected_identities: usize,
    pub protected_photos: usize,
    pub photos: usize,
    pub photos_without_face: usize,
    /// The unprotected baseline per enlargement.
    pub unprotected: Vec<(u32, Vec<JudgeResult>)>,
    /// Each judge's fitted impostor tail per enlargement (for the extrapolation to a
    /// scraper's gallery), in [`RECOGNISERS`] order.
    pub tails: Vec<(u32, Vec<Option<Tail>>)>,
    pub results: Vec<VariantResult>,
    pub photo_faces: Vec<PhotoFace>,
    /// The visibility-only photos' first faces at feed size: original, then each variant.
    #[serde(skip)]
    pub contact_sheet: RgbImage,
    pub seconds: f64,
}

/// One report from several runs over the same photos (say, a leave-one-out run of the default
/// mode and a plain run of the others, kept as their `report.json`): their results side by
/// side, each enlargement's baseline once. The contact sheet is not kept in `report.json`, so
/// the merged report has none.
pub fn merge(reports: Vec<EvalReport>) -> Result<EvalReport> {
    let mut parts = reports.into_iter();
    let Some(mut out) = parts.next() else {
        return Err(merge_err("no reports to merge".into()));
    };
    for r in parts {
        if r.half != out.half
            || r.half_identities != out.half_identities
            || r.protected_photos != out.protected_photos
            || r.photos != out.photos
        {
            return Err(merge_err(format!(
                "the reports were run on different photos ({:?} half, {} protected photos of {} \
                 against {:?}, {} of {})",
                r.half, r.protected_photos, r.photos, out.half, out.protected_photos, out.photos
            )));
        }
        for (up, rows) in r.unprotected {
            if !out.unprotected.iter().any(|(u, _)| *u == up) {
                out.unprotected.push((up, rows));
            }
        }
        for (up, tails) in r.tails {
            if !out.tails.iter().any(|(u, _)| *u == up) {
                out.tails.push((up, tails));
            }
        }
        // A variant run twice (say, a mode's whole pool in a plain run and again in a
        // leave-one-out run) measured the same cloaks of the same photos: keep the first.
        let fresh: Vec<VariantResult> = r
            .results
            .into_iter()
            .filter(|v| !out.results.iter().any(|o| same_run(o, v)))
            .collect();
        out.results.extend(fresh);
        // A variant run twice cloaked the same visibility photos the same way: keep one.
        let seen: Vec<String> = out.photo_faces.iter().map(|f| f.variant.clone()).collect();
        out.photo_faces.extend(
            r.photo_faces
                .into_iter()
                .filter(|f| !seen.contains(&f.variant)),
        );
        out.seconds += r.seconds;
    }
    out.unprotected.sort_by_key(|(u, _)| *u);
    out.tails.sort_by_key(|(u, _)| *u);
    out.results.sort_by_key(|v| v.upscale);
    Ok(out)
}

fn same_run(a: &VariantResult, b: &VariantResult) -> bool {
    a.variant == b.variant
        && a.held_out == b.held_out
        && a.upscale == b.upscale
        && a.surrogates == b.surrogates
}

fn merge_err(reason: String) -> crate::Error {
    crate::Error::Unsupported {
        path: PathBuf::new(),
        reason,
    }
}

/// The recognisers' names as a key: a cache of clean embeddings holds one per recogniser.
fn recogniser_key() -> u32 {
    let names: Vec<&str> = RECOGNISERS.iter().map(|r| r.name).collect();
    content_hash(names.join(",").as_bytes()) as u32
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Every recogniser's verdict; those in `surrogates` (a mask over [`RECOGNISERS`]) are white-box.
fn judge_all(
    photos: &[Photo],
    clean: &[embed::Embeddings],
    own: &HashMap<usize, embed::Embeddings>,
    purifier: Purifier,
    surrogates: u32,
    tails: &[Option<Tail>],
) -> Vec<JudgeResult> {
    let identity: Vec<usize> = photos.iter().map(|p| p.identity).collect();
    let protected: Vec<bool> = photos.iter().map(|p| p.protected).collect();
    recognisers()
        .iter()
        .enumerate()
        .map(|(j, info)| {
            let protection = protect::measure(
                j,
                info.match_threshold.unwrap_or(0.5),
                &identity,
                &protected,
                clean,
                own,
            );
            JudgeResult {
                judge: info.name,
                role: if surrogates & (1 << j) != 0 {
                    Role::Surrogate
                } else {
                    Role::Judge
                },
                purifier,
                at_scale: tails[j]
                    .as_ref()
                    .map(|t| scale::at_scale(t, &protection.best_own))
                    .unwrap_or_default(),
                best_own_far: tails[j]
                    .as_ref()
                    .and_then(|t| scale::median_survival(t, &protection.best_own)),
                protection,
            }
        })
        .collect()
}

/// Each judge's impostor tail: every pair of clean photos of two different people.
fn impostor_tails(photos: &[Photo], clean: &[embed::Embeddings]) -> Vec<Option<Tail>> {
    (0..RECOGNISERS.len())
        .map(|j| {
            let mut scores = Vec::new();
            for a in 0..photos.len() {
                let Some(ea) = &clean[a] else { continue };
                for b in a + 1..photos.len() {
                    if photos[a].identity == photos[b].identity {
                        continue;
                    }
                    if let Some(eb) = &clean[b] {
                        scores.push(crate::recognise::cosine(&ea[j], &eb[j]));
                    }
                }
            }
            Tail::fit(scores)
        })
        .collect()
}

fn tools(store: &ModelStore) -> Result<(Detector, Cloaker)> {
    Ok((Detector::new(store)?, Cloaker::new(store)?))
}

fn flatten_err(e: &crate::Error) -> crate::Error {
    crate::Error::Unsupported {
        path: PathBuf::new(),
        reason: e.to_string(),
    }
}

/// Runs the evaluation. `progress` receives one line per stage.
pub fn run(opts: &EvalOptions, progress: impl Fn(&str) + Sync) -> Result<EvalReport> {
    let started = Instant::now();
    let mut store = ModelStore::locate(None)?;
    let clean_cache = opts.cache.clone();
    std::fs::create_dir_all(&opts.cache).map_err(dataset::io_err(&opts.cache))?;
    let added = opts
        .added
        .as_deref()
        .map(crate::user_models::installed)
        .unwrap_or_default();
    let with_added;
    let opts = if let (Some(dir), false) = (&opts.added, added.is_empty()) {
        store = store.with_added(dir);
        with_added = with_added_recognisers(opts, &store, &added);
        std::fs::create_dir_all(&with_added.cache).map_err(dataset::io_err(&with_added.cache))?;
        &with_added
    } else {
        opts
    };
    // An added recogniser that is one of the judges makes that judge white-box.
    let stand_ins = added
        .iter()
        .filter_map(|m| m.same_as_judge())
        .filter_map(crate::models::recogniser_index)
        .fold(0u32, |m, j| m | 1 << j);
    let (files, half_identities) = dataset::scan(opts)?;
    let originals = dataset::load(&files);
    let protected_photos = originals.iter().filter(|p| p.protected).count();
    progress(&format!(
        "{} photos; {protected_photos} photos of protected people ({:?} half)",
        originals.len(),
        opts.half
    ));

    let mut unprotected = Vec::new();
    let mut tails = Vec::new();
    let mut results = Vec::new();
    let mut photos_without_face = 0;
    for &up in &opts.upscales {
        let photos = dataset::enlarged(&originals, up);
        let refs: Vec<&RgbImage> = photos.iter().map(|p| &p.image).collect();
        let clean = embed::embed_cached(
            &store,
            &refs,
            &clean_cache.join(format!(
                "clean-v{ENGINE_VERSION}-{:08x}-x{up}.json",
                recogniser_key()
            )),
        )?;
        photos_without_face = clean.iter().filter(|e| e.is_none()).count();
        progress(&format!(
            "×{up}: clean photos embedded ({photos_without_face} without a face)"
        ));
        let scene = Scene {
            prot: (0..photos.len()).filter(|&i| photos[i].protected).collect(),
            tail: impostor_tails(&photos, &clean),
            photos,
            clean,
            up,
        };
        let baseline: HashMap<usize, embed::Embeddings> = scene
            .prot
            .iter()
            .map(|&i| (i, scene.clean[i].clone()))
            .collect();
        unprotected.push((
            up,
            judge_all(
                &scene.photos,
                &scene.clean,
                &baseline,
                Purifier::None,
                0,
                &scene.tail,
            ),
        ));
        for (variant, held_out) in runs(opts) {
            let result = run_variant(&store, &scene, &variant, held_out, stand_ins, opts)?;
            progress(&format!(
                "×{up} {}{}: face SSIMULACRA2 at feed size median {:.1}, p10 {:.1}; {:.2} s/face",
                variant.name,
                held_out
                    .map(|j| format!(" without {j}"))
                    .unwrap_or_default(),
                result.visibility.median_display,
                result.visibility.p10_display,
                result.visibility.seconds_per_face
            ));
            results.push(result);
        }
        tails.push((up, scene.tail));
    }

    let (photo_faces, contact_sheet) = visibility_photos(&store, opts)?;
    Ok(EvalReport {
        dataset: opts.dataset.clone(),
        half: opts.half,
        half_identities,
        protected_identities: originals
            .iter()
            .filter(|p| p.protected)
            .map(|p| p.identity)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        protected_photos,
        photos: originals.len(),
        photos_without_face,
        unprotected,
        tails,
        results,
        photo_faces,
        contact_sheet,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The photos of one enlargement, as every variant there is judged on them.
struct Scene {
    photos: Vec<Photo>,
    clean: Vec<embed::Embeddings>,
    /// The protected photos' indices.
    prot: Vec<usize>,
    tail: Vec<Option<Tail>>,
    up: u32,
}

/// One variant (with a recogniser left out of its ensemble, or not): its cloaks, how much they
/// show, and every judge's verdict after each purifier.
fn run_variant(
    store: &ModelStore,
    scene: &Scene,
    variant: &Variant,
    held_out: Option<&'static str>,
    stand_ins: u32,
    opts: &EvalOptions,
) -> Result<VariantResult> {
    let cloaked = cloaks::cloak_all(store, &scene.photos, &scene.prot, &variant.params, opts)?;
    let mut protection = Vec::new();
    let mut posted = None;
    for &purifier in &opts.purifiers {
        let processed: Vec<RgbImage> = cloaked
            .par_iter()
            .map(|c| purifier.apply(&c.posted))
            .collect();
        let refs: Vec<&RgbImage> = processed.iter().collect();
        let emb = embed::embed_all(store, &refs)?;
        if purifier == Purifier::None {
            posted = Some(emb.clone());
        }
        let own = scene.prot.iter().copied().zip(emb).collect();
        protection.extend(judge_all(
            &scene.photos,
            &scene.clean,
            &own,
            purifier,
            variant.params.surrogates | stand_ins,
            &scene.tail,
        ));
    }
    let posted = match posted {
        Some(p) => p,
        None => {
            let refs: Vec<&RgbImage> = cloaked.iter().map(|c| &c.posted).collect();
            embed::embed_all(store, &refs)?
        }
    };
    let pipeline = pipeline::measure(
        store,
        scene,
        &cloaked,
        posted,
        variant.params.surrogates | stand_ins,
    )?;
    Ok(VariantResult {
        variant: variant.name.clone(),
        held_out,
        surrogates: names_of(store, variant.params.surrogates),
        upscale: scene.up,
        visibility: cloaks::visibility(&cloaked),
        protection,
        pipeline,
    })
}

/// The cloaks an evaluation makes: each variant as it is (whose judges are the recognisers
/// outside its ensemble) and, with leave-one-out, once more per member of its ensemble with that
/// one taken out (a run whose ensemble would be empty is left out).
fn runs(opts: &EvalOptions) -> Vec<(Variant, Option<&'static str>)> {
    let mut out = Vec::new();
    for v in &opts.variants {
        out.push((v.clone(), None));
        if !opts.hold_out {
            continue;
        }
        for (j, judge) in RECOGNISERS.iter().enumerate() {
            let mut held = v.clone();
            held.params.surrogates &= !(1 << j);
            if held.params.surrogates != v.params.surrogates && held.params.surrogates != 0 {
                out.push((held, Some(judge.name)));
            }
        }
    }
    out
}

/// The configuration "with a user's recogniser": every variant with the added recognisers among
/// its surrogates, under its name joined to theirs; its cloaks cached apart, by the added files'
/// checksums, since the parameters alone do not say which recognisers those are.
fn with_added_recognisers(
    opts: &EvalOptions,
    store: &ModelStore,
    added: &[crate::user_models::AddedModel],
) -> EvalOptions {
    let names: Vec<&str> = added.iter().map(|m| m.name.as_str()).collect();
    let sums: Vec<&str> = added.iter().map(|m| m.sha256.as_str()).collect();
    EvalOptions {
        variants: opts
            .variants
            .iter()
            .map(|v| Variant {
                name: format!("{}+{}", v.name, names.join("+")),
                params: v.params.with_added(store),
            })
            .collect(),
        cache: opts.cache.join(format!(
            "added-{:016x}",
            content_hash(sums.join(",").as_bytes())
        )),
        ..opts.clone()
    }
}

/// The names of the recognisers in a mask over the store's recognisers.
fn names_of(store: &ModelStore, mask: u32) -> Vec<&'static str> {
    store
        .recognisers()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| r.name)
        .collect()
}

/// One visibility-only photo cloaked with one variant: its faces' scores, and its first face at
/// feed size before and after, for the contact sheet.
struct PhotoCloak {
    faces: Vec<PhotoFace>,
    tiles: Option<(RgbImage, RgbImage)>,
}

/// Cloaks every face of the visibility-only photos with every variant; returns the scores and
/// the contact sheet (one row per photo with a face: original, then each variant).
fn visibility_photos(store: &ModelStore, opts: &EvalOptions) -> Result<(Vec<PhotoFace>, RgbImage)> {
    let jobs: Vec<(&PathBuf, &Variant)> = opts
        .visibility_photos
        .iter()
        .flat_map(|p| opts.variants.iter().map(move |v| (p, v)))
        .collect();
    let done: Vec<PhotoCloak> = jobs
        .par_iter()
        .map_init(
            || tools(store),
            |t, (path, variant)| -> Result<PhotoCloak> {
                let (det, cloaker) = t.as_mut().map_err(|e| flatten_err(e))?;
                let Ok(img) = crate::io::load_rgb(path) else {
                    return Ok(PhotoCloak {
                        faces: Vec::new(),
                        tiles: None,
                    });
                };
                let faces: Vec<Face> = det.detect(&img)?;
                let refs: Vec<&Face> = faces.iter().collect();
                let never = AtomicBool::new(false);
                let c = cloaker.cloak_photo(&img, &refs, &variant.params, opts.seed, &never)?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let tiles = faces.first().map(|f| {
                    let (w, h) = img.dimensions();
                    let view = crate::visibility::View {
                        rect: f.bbox.rect(w, h).padded(FACE_PADDING, w, h),
                        scale: display_scale(w, h),
                    };
                    (view.of(&img), view.of(&c.image))
                });
                Ok(PhotoCloak {
                    faces: c
                        .faces
                        .iter()
                        .map(|f| PhotoFace {
                            variant: variant.name.clone(),
                            photo: name.clone().unwrap_or_default(),
                            quality: f.quality,
                        })
                        .collect(),
                    tiles,
                })
            },
        )
        .collect::<Result<_>>()?;
    // Jobs are photo-major: each photo's variants are consecutive.
    let rows: Vec<Vec<RgbImage>> = done
        .chunks(opts.variants.len().max(1))
        .filter_map(|photo| {
            let mut row = vec![photo.first()?.tiles.as_ref()?.0.clone()];
            for v in photo {
                row.push(v.tiles.as_ref()?.1.clone());
            }
            Some(row)
        })
        .collect();
    let faces = done.into_iter().flat_map(|p| p.faces).collect();
    Ok((faces, contact_sheet(&rows)))
}

/// Rank-1 protection of one variant (or `unprotected`, the no-cloak baseline) at one
/// enlargement, judge and purifier; with leave-one-out, from the run that held that judge out.
pub fn rank1(
    r: &EvalReport,
    variant: &str,
    upscale: u32,
    judge: &str,
    purifier: Purifier,
) -> Option<f64> {
    judge_row(r, variant, upscale, judge, purifier).map(|j| j.protection.rank1)
}

/// One judge's result for one variant (or `unprotected`), enlargement and purifier; with
/// leave-one-out, from the run that held the judge out.
fn judge_row<'a>(
    r: &'a EvalReport,
    variant: &str,
    upscale: u32,
    judge: &str,
    purifier: Purifier,
) -> Option<&'a JudgeResult> {
    let rows = if variant == "unprotected" {
        &r.unprotected.iter().find(|(u, _)| *u == upscale)?.1
    } else {
        &run_for(r, variant, upscale, judge)?.protection
    };
    rows.iter()
        .find(|j| j.judge == judge && j.purifier == purifier)
}

/// The run of `variant` at `upscale` that says most about `judge`: the one that held it out,
/// else the variant's only run.
pub(super) fn run_for<'a>(
    r: &'a EvalReport,
    variant: &str,
    upscale: u32,
    judge: &str,
) -> Option<&'a VariantResult> {
    let all: Vec<&VariantResult> = r
        .results
        .iter()
        .filter(|v| v.variant == variant && v.upscale == upscale)
        .collect();
    all.iter()
        .find(|v| v.held_out == Some(judge))
        .or_else(|| all.iter().find(|v| v.held_out.is_none()))
        .copied()
}

/// The extrapolation to a scraper's gallery for one variant (or `unprotected`), enlargement,
/// judge and purifier; with leave-one-out, from the run that held the judge out.
pub fn at_scale_of<'a>(
    r: &'a EvalReport,
    variant: &str,
    upscale: u32,
    judge: &str,
    purifier: Purifier,
) -> Option<&'a [AtScale]> {
    judge_row(r, variant, upscale, judge, purifier).map(|j| j.at_scale.as_slice())
}

/// The at-scale figure published beside a variant's worst held-out cell: among the judges it
/// held out, the one that still finds most people within the first 50 of the largest gallery
/// (unpurified): its name, the share it does *not* find, and its median false-accept rate of
/// the probes' best own score.
pub fn scale_headline(
    r: &EvalReport,
    variant: &str,
    upscale: u32,
) -> Option<(&'static str, f64, Option<f64>)> {
    held_out_cells(r, variant, upscale, Purifier::None)
        .into_iter()
        .filter_map(|(judge, _)| {
            let row = judge_row(r, variant, upscale, judge, Purifier::None)?;
            let last = row.at_scale.last()?;
            Some((judge, 1.0 - last.found_top50, row.best_own_far))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

/// Every held-out cell of a variant at one enlargement and purifier: for each recogniser that
/// some run of the variant kept out of its ensemble, its rank-1 protection (from the run that
/// held it out, when there is one).
pub fn held_out_cells(
    r: &EvalReport,
    variant: &str,
    upscale: u32,
    purifier: Purifier,
) -> Vec<(&'static str, f64)> {
    RECOGNISERS
        .iter()
        .filter_map(|info| {
            let run = run_for(r, variant, upscale, info.name)?;
            let row = run
                .protection
                .iter()
                .find(|j| j.judge == info.name && j.purifier == purifier)?;
            (row.role == Role::Judge).then_some((info.name, row.protection.rank1))
        })
        .collect()
}

/// The worst and the median of [`held_out_cells`] (the published figures of a mode).
pub fn worst_and_median(cells: &[(&str, f64)]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = cells.iter().map(|c| c.1).collect();
    v.sort_by(f64::total_cmp);
    let worst = *v.first()?;
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    Some((worst, median))
}

/// Mean own-distance of a variant (or `unprotected`) at the first enlargement for a judge,
/// unpurified.
pub fn own_distance(r: &EvalReport, variant: &str, judge: &str) -> Option<f64> {
    let rows = if variant == "unprotected" {
        &r.unprotected.first()?.1
    } else {
        let up = r.results.first()?.upscale;
        &run_for(r, variant, up, judge)?.protection
    };
    rows.iter()
        .find(|j| j.judge == judge && j.purifier == Purifier::None)
        .map(|j| j.protection.own_distance)
}
