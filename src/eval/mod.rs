//! Measuring both halves of the promise on people the cloak was never tuned on: protection
//! against held-out judges ([`protect`]) after what platforms do to photos ([`purify`]), and
//! visibility on the face at feed size ([`crate::visibility`]), on LFW-size faces and on the same
//! photos enlarged to portrait size. Identities are split once ([`split`]); parameters are chosen
//! on the tuning half and only the test half is published.

mod chart;
mod embed;
mod protect;
mod purify;
mod report;
mod split;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use image::RgbImage;
use image::imageops::{FilterType, resize};
use rayon::prelude::*;
use serde::Serialize;

use chart::contact_sheet;
pub use chart::frontier;
pub use protect::Protection;
pub use purify::Purifier;
pub use report::markdown;
pub use split::{Half, half_of};

use crate::cloak::{Cloaker, Mode, Params};
use crate::detect::{Detector, Face};
use crate::geometry::bbox_rect;
use crate::models::{ModelStore, Role, recognisers};
use crate::visibility::{FACE_PADDING, FaceQuality, display_scale};
use crate::{Result, quality};

/// Bump when the optimiser or the detector changes, so cached cloaks and embeddings are not
/// reused across versions.
pub const ENGINE_VERSION: u32 = 5;

/// A named optimiser setting: a mode, or a mode with one knob changed.
#[derive(Debug, Clone, Serialize)]
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
    /// Photos cloaked only to judge visibility (fixtures, real portraits).
    pub visibility_photos: Vec<PathBuf>,
    /// Where cloaked photos and clean embeddings are cached between runs.
    pub cache: PathBuf,
    pub seed: u64,
}

/// Visibility of one variant over the protected photos (faces' SSIMULACRA2 and SSIM).
#[derive(Debug, Clone, Serialize)]
pub struct Visibility {
    pub faces: usize,
    pub median_display: f64,
    pub p10_display: f64,
    pub min_display: f64,
    pub median_full: f64,
    pub p10_full: f64,
    pub median_face_ssim: f64,
    pub seconds_per_face: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct JudgeResult {
    pub judge: &'static str,
    pub role: Role,
    pub purifier: Purifier,
    #[serde(flatten)]
    pub protection: Protection,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantResult {
    pub variant: String,
    pub upscale: u32,
    pub visibility: Visibility,
    pub protection: Vec<JudgeResult>,
}

/// One face of a visibility-only photo.
#[derive(Debug, Clone, Serialize)]
pub struct PhotoFace {
    pub variant: String,
    pub photo: String,
    pub quality: FaceQuality,
}

#[derive(Debug, Clone, Serialize)]
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
    pub results: Vec<VariantResult>,
    pub photo_faces: Vec<PhotoFace>,
    /// The visibility-only photos' first faces at feed size: original, then each variant.
    #[serde(skip)]
    pub contact_sheet: RgbImage,
    pub seconds: f64,
}

struct Photo<I = RgbImage> {
    identity: usize,
    protected: bool,
    image: I,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> crate::Error + '_ {
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
fn scan(opts: &EvalOptions) -> Result<(Vec<Photo<PathBuf>>, Vec<String>)> {
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

fn content_hash(bytes: &[u8]) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One cloaked photo as posted (JPEG q95 4:2:0, a little harsher than FaceCloak's own 4:4:4),
/// with its first face's visibility, face-box SSIM and seconds.
struct Cloaked {
    posted: RgbImage,
    quality: FaceQuality,
    face_ssim: f64,
    seconds: f64,
}

fn cloak_cached(
    tools: &mut (Detector, Cloaker),
    image: &RgbImage,
    params: &Params,
    opts: &EvalOptions,
) -> Result<Cloaked> {
    let key = format!(
        "{:016x}-{:08x}-{}-v{ENGINE_VERSION}",
        content_hash(image.as_raw()),
        content_hash(format!("{params:?}").as_bytes()) as u32,
        opts.seed
    );
    let png = opts.cache.join(format!("{key}.png"));
    let meta = opts.cache.join(format!("{key}.json"));
    if let (Ok(img), Ok(m)) = (image::open(&png), std::fs::read_to_string(&meta))
        && let Ok(v) = serde_json::from_str::<[f64; 4]>(&m)
    {
        return Ok(Cloaked {
            posted: img.into_rgb8(),
            quality: FaceQuality {
                display: v[0],
                full: v[1],
            },
            face_ssim: v[2],
            seconds: v[3],
        });
    }
    let (det, cloaker) = tools;
    let faces = det.detect(image)?;
    let Some(face) = faces.first() else {
        return Ok(Cloaked {
            posted: image.clone(),
            quality: FaceQuality {
                display: 100.0,
                full: 100.0,
            },
            face_ssim: 1.0,
            seconds: 0.0,
        });
    };
    let t = Instant::now();
    let never = AtomicBool::new(false);
    let cloaked = cloaker.cloak_photo(image, &[face], params, opts.seed, &never)?;
    let seconds = t.elapsed().as_secs_f64();
    let rect = bbox_rect(&face.bbox, image.width(), image.height());
    let face_ssim = quality::ssim_region(image, &cloaked.image, rect);
    let q = cloaked.faces[0].quality;
    let posted = purify::jpeg(&cloaked.image, 95);
    let _ = posted.save(&png);
    let _ = std::fs::write(
        &meta,
        serde_json::to_string(&[q.display, q.full, face_ssim, seconds]).unwrap_or_default(),
    );
    Ok(Cloaked {
        posted,
        quality: q,
        face_ssim,
        seconds,
    })
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

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn judge_all(
    photos: &[Photo],
    clean: &[embed::Embeddings],
    own: &HashMap<usize, embed::Embeddings>,
    purifier: Purifier,
) -> Vec<JudgeResult> {
    let identity: Vec<usize> = photos.iter().map(|p| p.identity).collect();
    let protected: Vec<bool> = photos.iter().map(|p| p.protected).collect();
    recognisers()
        .iter()
        .enumerate()
        .map(|(j, info)| JudgeResult {
            judge: info.name,
            role: info.role,
            purifier,
            protection: protect::measure(
                j,
                info.match_threshold.unwrap_or(0.5),
                &identity,
                &protected,
                clean,
                own,
            ),
        })
        .collect()
}

/// Runs the evaluation. `progress` receives one line per stage.
pub fn run(opts: &EvalOptions, progress: impl Fn(&str) + Sync) -> Result<EvalReport> {
    let started = Instant::now();
    let store = ModelStore::locate(None)?;
    std::fs::create_dir_all(&opts.cache).map_err(io_err(&opts.cache))?;
    let (files, half_identities) = scan(opts)?;
    let originals: Vec<Photo> = files
        .par_iter()
        // Unreadable files are left out of the evaluation rather than ending it.
        .filter_map(|f| {
            let image = crate::io::load_rgb(&f.image).ok()?;
            Some(Photo {
                identity: f.identity,
                protected: f.protected,
                image,
            })
        })
        .collect();
    let protected_photos = originals.iter().filter(|p| p.protected).count();
    progress(&format!(
        "{} photos; {protected_photos} photos of protected people ({:?} half)",
        originals.len(),
        opts.half
    ));

    let mut unprotected = Vec::new();
    let mut results = Vec::new();
    let mut photos_without_face = 0;
    for &up in &opts.upscales {
        let photos: Vec<Photo> = originals
            .par_iter()
            .map(|p| Photo {
                identity: p.identity,
                protected: p.protected,
                image: enlarge(&p.image, up),
            })
            .collect();
        let refs: Vec<&RgbImage> = photos.iter().map(|p| &p.image).collect();
        let clean = embed::embed_cached(
            &store,
            &refs,
            &opts
                .cache
                .join(format!("clean-v{ENGINE_VERSION}-x{up}.json")),
        )?;
        photos_without_face = clean.iter().filter(|e| e.is_none()).count();
        progress(&format!(
            "×{up}: clean photos embedded ({photos_without_face} without a face)"
        ));
        let prot: Vec<usize> = (0..photos.len()).filter(|&i| photos[i].protected).collect();
        let baseline: HashMap<usize, embed::Embeddings> =
            prot.iter().map(|&i| (i, clean[i].clone())).collect();
        unprotected.push((up, judge_all(&photos, &clean, &baseline, Purifier::None)));

        for variant in &opts.variants {
            let cloaked: Vec<Cloaked> = prot
                .par_iter()
                .map_init(
                    || tools(&store),
                    |t, &i| match t {
                        Ok(t) => cloak_cached(t, &photos[i].image, &variant.params, opts),
                        Err(e) => Err(flatten_err(e)),
                    },
                )
                .collect::<Result<_>>()?;
            let mut display: Vec<f64> = cloaked.iter().map(|c| c.quality.display).collect();
            let mut full: Vec<f64> = cloaked.iter().map(|c| c.quality.full).collect();
            let mut ssim: Vec<f64> = cloaked.iter().map(|c| c.face_ssim).collect();
            for v in [&mut display, &mut full, &mut ssim] {
                v.sort_by(f64::total_cmp);
            }
            let timed: Vec<f64> = cloaked
                .iter()
                .map(|c| c.seconds)
                .filter(|s| *s > 0.0)
                .collect();
            let visibility = Visibility {
                faces: cloaked.len(),
                median_display: percentile(&display, 0.5),
                p10_display: percentile(&display, 0.1),
                min_display: display.first().copied().unwrap_or(f64::NAN),
                median_full: percentile(&full, 0.5),
                p10_full: percentile(&full, 0.1),
                median_face_ssim: percentile(&ssim, 0.5),
                seconds_per_face: timed.iter().sum::<f64>() / timed.len().max(1) as f64,
            };
            let mut protection = Vec::new();
            for &purifier in &opts.purifiers {
                let processed: Vec<RgbImage> = cloaked
                    .par_iter()
                    .map(|c| purifier.apply(&c.posted))
                    .collect();
                let refs: Vec<&RgbImage> = processed.iter().collect();
                let emb = embed::embed_all(&store, &refs)?;
                let own = prot.iter().copied().zip(emb).collect();
                protection.extend(judge_all(&photos, &clean, &own, purifier));
            }
            progress(&format!(
                "×{up} {}: face SSIMULACRA2 at feed size median {:.1}, p10 {:.1}; {:.2} s/face",
                variant.name,
                visibility.median_display,
                visibility.p10_display,
                visibility.seconds_per_face
            ));
            results.push(VariantResult {
                variant: variant.name.clone(),
                upscale: up,
                visibility,
                protection,
            });
        }
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
        results,
        photo_faces,
        contact_sheet,
        seconds: started.elapsed().as_secs_f64(),
    })
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
                        rect: bbox_rect(&f.bbox, w, h).padded(FACE_PADDING, w, h),
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
/// enlargement, judge and purifier.
pub fn rank1(
    r: &EvalReport,
    variant: &str,
    upscale: u32,
    judge: &str,
    purifier: Purifier,
) -> Option<f64> {
    let rows = if variant == "unprotected" {
        &r.unprotected.iter().find(|(u, _)| *u == upscale)?.1
    } else {
        &r.results
            .iter()
            .find(|v| v.variant == variant && v.upscale == upscale)?
            .protection
    };
    rows.iter()
        .find(|j| j.judge == judge && j.purifier == purifier)
        .map(|j| j.protection.rank1)
}

/// Mean own-distance of a variant (or `unprotected`) at ×1 for a judge, unpurified.
pub fn own_distance(r: &EvalReport, variant: &str, judge: &str) -> Option<f64> {
    let rows = if variant == "unprotected" {
        &r.unprotected.first()?.1
    } else {
        &r.results.iter().find(|v| v.variant == variant)?.protection
    };
    rows.iter()
        .find(|j| j.judge == judge && j.purifier == Purifier::None)
        .map(|j| j.protection.own_distance)
}
