//! Measuring protection the way the literature does: a scraped gallery holds each protected
//! person's *cloaked* photos among everyone else's clean ones, and a clean photo of that person is
//! the probe. The person is protected when the nearest gallery face (by each judge's own cosine
//! similarity) belongs to someone else. Every gallery photo is re-detected and re-aligned by the
//! judge's pipeline, as a scraper would, after optional platform processing (JPEG, resizing).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use image::RgbImage;
use ndarray::Axis;
use rayon::prelude::*;
use serde::Serialize;

use crate::align::{face_transform, warp_face};
use crate::cloak::{Cloaker, Mode, bbox_rect};
use crate::detect::Detector;
use crate::models::{JUDGE, ModelInfo, ModelStore, Role, SURROGATES};
use crate::recognise::{Recogniser, cosine};
use crate::{Result, quality};

/// Bump when the optimiser changes, so cached cloaks are not reused across versions.
pub const ENGINE_VERSION: u32 = 1;

#[derive(Debug, Clone)]
pub struct EvalOptions {
    pub dataset: PathBuf,
    pub modes: Vec<Mode>,
    /// Protected identities at most (those with ≥ 3 photos, in name order).
    pub identities: Option<usize>,
    /// Photos per protected identity at most.
    pub photos: Option<usize>,
    /// Where cloaked photos are cached between runs.
    pub cache: PathBuf,
    pub seed: u64,
}

/// What upload platforms do to a photo before anyone scrapes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PostProcess {
    None,
    Jpeg85,
    Jpeg70,
    /// Long edge at most 1080 px, then JPEG 85.
    Resize1080Jpeg85,
}

impl PostProcess {
    pub const ALL: [PostProcess; 4] = [
        PostProcess::None,
        PostProcess::Jpeg85,
        PostProcess::Jpeg70,
        PostProcess::Resize1080Jpeg85,
    ];

    pub fn apply(self, img: &RgbImage) -> RgbImage {
        match self {
            PostProcess::None => img.clone(),
            PostProcess::Jpeg85 => jpeg(img, 85),
            PostProcess::Jpeg70 => jpeg(img, 70),
            PostProcess::Resize1080Jpeg85 => {
                let long = img.width().max(img.height());
                if long <= 1080 {
                    return jpeg(img, 85);
                }
                let s = 1080.0 / long as f32;
                let (w, h) = (
                    (img.width() as f32 * s).round() as u32,
                    (img.height() as f32 * s).round() as u32,
                );
                jpeg(
                    &image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle),
                    85,
                )
            }
        }
    }
}

/// An encode and decode at a JPEG quality (4:2:0, as platforms do).
pub fn jpeg(img: &RgbImage, quality: u8) -> RgbImage {
    crate::output::reencode_jpeg(img, quality).expect("evaluation photos fit one JPEG")
}

/// Protection measured by one judge under one condition.
#[derive(Debug, Clone, Serialize)]
pub struct Protection {
    pub judge: &'static str,
    pub role: Role,
    /// `unprotected`, `noise`, or `cloak`.
    pub gallery: &'static str,
    pub post: PostProcess,
    pub probes: usize,
    /// Share of probes whose nearest gallery face is someone else.
    pub rank1: f64,
    /// Share of probes with none of their own photos among the five nearest.
    pub top5: f64,
    /// Share of (clean probe, own gallery photo) pairs the judge would still call a match.
    pub verification: f64,
    /// Mean cosine distance from a probe to the nearest of its own gallery photos.
    pub own_distance: f64,
    /// Gallery photos of protected people in which the judge found no face at all.
    pub faces_lost: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModeQuality {
    pub mode: Mode,
    pub photos: usize,
    pub mean_ssim: f64,
    pub min_ssim: f64,
    pub mean_face_ssim: f64,
    pub mean_psnr: f64,
    pub seconds_per_face: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub dataset: PathBuf,
    pub identities: usize,
    pub protected_identities: usize,
    pub photos: usize,
    pub photos_without_face: usize,
    pub quality: Vec<ModeQuality>,
    /// Per mode (and `none` for the baselines).
    pub protection: Vec<(String, Protection)>,
    pub seconds: f64,
}

struct Photo {
    identity: usize,
    protected: bool,
    path: PathBuf,
    image: RgbImage,
}

fn scan(opts: &EvalOptions) -> Result<(Vec<Photo>, usize)> {
    let io_err = |source| crate::Error::Io {
        path: opts.dataset.clone(),
        source,
    };
    let mut people: Vec<PathBuf> = std::fs::read_dir(&opts.dataset)
        .map_err(io_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    let mut photos = Vec::new();
    let mut protected_count = 0;
    for (id, dir) in people.iter().enumerate() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io_err)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.retain(|f| f.is_file());
        files.sort();
        let protected = files.len() >= 3 && opts.identities.is_none_or(|n| protected_count < n);
        if protected {
            protected_count += 1;
            if let Some(k) = opts.photos {
                files.truncate(k.max(3));
            }
        }
        for path in files {
            // Unreadable files are left out of the evaluation rather than ending it.
            if let Ok(image) = crate::io::load_rgb(&path) {
                photos.push(Photo {
                    identity: id,
                    protected,
                    path,
                    image,
                });
            }
        }
    }
    Ok((photos, people.len()))
}

/// Judges' view of a photo: detect, align the best face, embed. `None` when no face is found.
struct Judges {
    detector: Detector,
    recognisers: Vec<Recogniser>,
}

impl Judges {
    fn new(store: &ModelStore) -> Result<Self> {
        let recognisers = all_judges()
            .into_iter()
            .map(|i| Recogniser::new(store, i))
            .collect::<Result<_>>()?;
        Ok(Self {
            detector: Detector::new(store)?,
            recognisers,
        })
    }

    fn embed(&mut self, img: &RgbImage) -> Result<Option<Vec<Vec<f32>>>> {
        let faces = self.detector.detect(img)?;
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

fn all_judges() -> Vec<&'static ModelInfo> {
    SURROGATES.iter().chain([&JUDGE]).collect()
}

/// Embeddings of many images, in parallel, one judge set per thread.
fn embed_all(store: &ModelStore, images: &[&RgbImage]) -> Result<Vec<Option<Vec<Vec<f32>>>>> {
    images
        .par_iter()
        .map_init(
            || Judges::new(store),
            |j, img| j.as_mut().map_err(clone_err)?.embed(img),
        )
        .collect()
}

fn clone_err(e: &mut crate::Error) -> crate::Error {
    crate::Error::Unsupported {
        path: PathBuf::new(),
        reason: e.to_string(),
    }
}

/// Cloaked versions of the protected photos as posted: JPEG inputs re-encoded at quality 95 with
/// 4:2:0 chroma (a little harsher than FaceCloak's own 4:4:4 output), from the cache when
/// present. Returns image, face SSIM, seconds per face.
fn cloak_all(
    store: &ModelStore,
    photos: &[&Photo],
    mode: Mode,
    opts: &EvalOptions,
) -> Result<Vec<(RgbImage, f64, f64)>> {
    let never = AtomicBool::new(false);
    std::fs::create_dir_all(&opts.cache).map_err(|source| crate::Error::Io {
        path: opts.cache.clone(),
        source,
    })?;
    photos
        .par_iter()
        .map_init(
            || Detector::new(store).and_then(|d| Ok((d, Cloaker::new(store)?))),
            |tools, photo| {
                // The key covers the photo, the mode's parameters, the seed and the engine version.
                let params = format!("{:?}", mode.params());
                let key = format!(
                    "{:016x}-{}-{:08x}-{}-v{ENGINE_VERSION}.png",
                    content_hash(photo.image.as_raw()),
                    mode.name(),
                    content_hash(params.as_bytes()) as u32,
                    opts.seed
                );
                let cached = opts.cache.join(&key);
                let meta = cached.with_extension("json");
                if let (Ok(img), Ok(m)) = (image::open(&cached), std::fs::read_to_string(&meta)) {
                    let v: Vec<f64> = serde_json::from_str(&m).unwrap_or_default();
                    if v.len() == 2 {
                        return Ok((img.into_rgb8(), v[0], v[1]));
                    }
                }
                let (det, cloaker) = tools.as_mut().map_err(clone_err)?;
                let faces = det.detect(&photo.image)?;
                let Some(face) = faces.first() else {
                    return Ok((photo.image.clone(), 1.0, 0.0));
                };
                let t = Instant::now();
                let cloaked =
                    cloaker.cloak_photo(&photo.image, &[face], mode, opts.seed, &never)?;
                let secs = t.elapsed().as_secs_f64();
                let rect = bbox_rect(&face.bbox, photo.image.width(), photo.image.height());
                let posted = if is_jpeg(&photo.path) {
                    jpeg(&cloaked.image, 95)
                } else {
                    cloaked.image
                };
                let face_ssim = quality::ssim_region(&photo.image, &posted, rect);
                let _ = posted.save(&cached);
                let _ = std::fs::write(
                    &meta,
                    serde_json::to_string(&[face_ssim, secs]).unwrap_or_default(),
                );
                Ok((posted, face_ssim, secs))
            },
        )
        .collect()
}

fn is_jpeg(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
}

fn content_hash(bytes: &[u8]) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Gaussian noise in the face box, scaled until the photo's SSIM matches `target`.
fn noise_like(img: &RgbImage, target: f64, seed: u64, detector: &mut Detector) -> Result<RgbImage> {
    let Some(face) = detector.detect(img)?.into_iter().next() else {
        return Ok(img.clone());
    };
    let rect = bbox_rect(&face.bbox, img.width(), img.height());
    let mut state = seed | 1;
    let mut gauss = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u1 = ((state >> 11) as f64 / (1u64 << 53) as f64).max(1e-12);
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let u2 = (state >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    let noise: Vec<f64> = (0..(rect.w * rect.h * 3)).map(|_| gauss()).collect();
    let apply = |sigma: f64| {
        let mut out = img.clone();
        for y in 0..rect.h {
            for x in 0..rect.w {
                let p = out.get_pixel_mut(rect.x + x, rect.y + y);
                for c in 0..3 {
                    let n = noise[((y * rect.w + x) * 3 + c as u32) as usize];
                    p[c] = (f64::from(p[c]) + sigma * n).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
        out
    };
    let (mut lo, mut hi) = (0.0, 64.0);
    for _ in 0..12 {
        let mid = 0.5 * (lo + hi);
        if quality::ssim_photo(img, &apply(mid), &[rect]) > target {
            lo = mid
        } else {
            hi = mid
        }
    }
    Ok(apply(0.5 * (lo + hi)))
}

/// The scraped-database protocol for one judge: clean probes against a gallery in which the
/// protected people's other photos are replaced by `own`.
fn protection(
    judge: usize,
    photos: &[Photo],
    clean: &[Option<Vec<Vec<f32>>>],
    own: &HashMap<usize, Option<Vec<Vec<f32>>>>,
) -> (usize, f64, f64, f64, f64, usize) {
    let info = all_judges()[judge];
    let threshold = info.match_threshold.unwrap_or(0.5);
    let (mut probes, mut rank1, mut top5, mut pairs, mut matches, mut dist) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0.0);
    let lost = own.values().filter(|e| e.is_none()).count();
    for (p, photo) in photos.iter().enumerate() {
        let Some(probe) = clean[p].as_ref().filter(|_| photo.protected) else {
            continue;
        };
        let probe = &probe[judge];
        // (similarity, same person) for every gallery face.
        let mut gallery: Vec<(f32, bool)> = Vec::with_capacity(photos.len());
        for (g, other) in photos.iter().enumerate() {
            if g == p {
                continue;
            }
            let same = other.identity == photo.identity;
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
        dist += 1.0 - f64::from(own_sims.iter().copied().fold(-1.0f32, f32::max));
    }
    let n = probes.max(1) as f64;
    (
        probes,
        rank1 as f64 / n,
        top5 as f64 / n,
        matches as f64 / pairs.max(1) as f64,
        dist / n,
        lost,
    )
}

/// Runs the whole evaluation. `progress` receives one line per stage.
pub fn run(opts: &EvalOptions, progress: impl Fn(&str)) -> Result<EvalReport> {
    let started = Instant::now();
    let store = ModelStore::locate(None)?;
    let (photos, identities) = scan(opts)?;
    let protected: Vec<usize> = (0..photos.len()).filter(|&i| photos[i].protected).collect();
    progress(&format!(
        "{} photos of {identities} people; {} photos of protected people",
        photos.len(),
        protected.len()
    ));

    let images: Vec<&RgbImage> = photos.iter().map(|p| &p.image).collect();
    let clean = embed_all(&store, &images)?;
    let without_face = clean.iter().filter(|e| e.is_none()).count();
    progress(&format!(
        "clean photos embedded ({without_face} without a face)"
    ));

    let mut out: Vec<(String, Protection)> = Vec::new();
    let mut push = |label: &str,
                    gallery: &'static str,
                    post: PostProcess,
                    own: &HashMap<usize, Option<Vec<Vec<f32>>>>| {
        for (j, info) in all_judges().iter().enumerate() {
            let (probes, rank1, top5, verification, own_distance, faces_lost) =
                protection(j, &photos, &clean, own);
            out.push((
                label.to_string(),
                Protection {
                    judge: info.name,
                    role: info.role,
                    gallery,
                    post,
                    probes,
                    rank1,
                    top5,
                    verification,
                    own_distance,
                    faces_lost,
                },
            ));
        }
    };
    let unprotected: HashMap<usize, Option<Vec<Vec<f32>>>> =
        protected.iter().map(|&i| (i, clean[i].clone())).collect();
    push("none", "unprotected", PostProcess::None, &unprotected);

    let mut qualities = Vec::new();
    let mut det = Detector::new(&store)?;
    for &mode in &opts.modes {
        let subset: Vec<&Photo> = protected.iter().map(|&i| &photos[i]).collect();
        let cloaked = cloak_all(&store, &subset, mode, opts)?;
        let ssims: Vec<f64> = subset
            .iter()
            .zip(&cloaked)
            .map(|(p, c)| {
                quality::ssim_region(
                    &p.image,
                    &c.0,
                    crate::warp::Rect {
                        x: 0,
                        y: 0,
                        w: p.image.width(),
                        h: p.image.height(),
                    },
                )
            })
            .collect();
        let psnrs: Vec<f64> = subset
            .iter()
            .zip(&cloaked)
            .map(|(p, c)| quality::psnr(&p.image, &c.0))
            .collect();
        let n = ssims.len().max(1) as f64;
        let timed: Vec<f64> = cloaked.iter().map(|c| c.2).filter(|s| *s > 0.0).collect();
        qualities.push(ModeQuality {
            mode,
            photos: ssims.len(),
            mean_ssim: ssims.iter().sum::<f64>() / n,
            min_ssim: ssims.iter().copied().fold(1.0, f64::min),
            mean_face_ssim: cloaked.iter().map(|c| c.1).sum::<f64>() / n,
            mean_psnr: psnrs.iter().filter(|p| p.is_finite()).sum::<f64>() / n,
            seconds_per_face: if timed.is_empty() {
                0.0
            } else {
                timed.iter().sum::<f64>() / timed.len() as f64
            },
        });
        progress(&format!(
            "{} mode: {} photos cloaked",
            mode.name(),
            cloaked.len()
        ));

        for post in PostProcess::ALL {
            let processed: Vec<RgbImage> = cloaked.iter().map(|c| post.apply(&c.0)).collect();
            let refs: Vec<&RgbImage> = processed.iter().collect();
            let emb = embed_all(&store, &refs)?;
            let own = protected.iter().copied().zip(emb).collect();
            push(mode.name(), "cloak", post, &own);
        }
        let noisy: Vec<RgbImage> = subset
            .iter()
            .zip(&ssims)
            .enumerate()
            .map(|(i, (p, s))| noise_like(&p.image, *s, opts.seed ^ (i as u64 + 1), &mut det))
            .collect::<Result<_>>()?;
        let refs: Vec<&RgbImage> = noisy.iter().collect();
        let emb = embed_all(&store, &refs)?;
        let own = protected.iter().copied().zip(emb).collect();
        push(mode.name(), "noise", PostProcess::None, &own);
        progress(&format!("{} mode: measured", mode.name()));
    }
    Ok(EvalReport {
        dataset: opts.dataset.clone(),
        identities,
        protected_identities: photos
            .iter()
            .filter(|p| p.protected)
            .map(|p| p.identity)
            .collect::<std::collections::HashSet<_>>()
            .len(),
        photos: photos.len(),
        photos_without_face: without_face,
        quality: qualities,
        protection: out,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The report as Markdown tables.
pub fn markdown(r: &EvalReport) -> String {
    let mut s = format!(
        "Dataset `{}`: {} photos of {} people, {} of them protected (≥ 3 photos); {} photos without a detectable face.\n\n",
        r.dataset.display(),
        r.photos,
        r.identities,
        r.protected_identities,
        r.photos_without_face
    );
    s += "| mode | photos | mean SSIM | min SSIM | face SSIM | PSNR dB | s / face |\n|---|---|---|---|---|---|---|\n";
    for q in &r.quality {
        s += &format!(
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.1} | {:.2} |\n",
            q.mode.name(),
            q.photos,
            q.mean_ssim,
            q.min_ssim,
            q.mean_face_ssim,
            q.mean_psnr,
            q.seconds_per_face
        );
    }
    s += "\n| mode | gallery | platform | judge | role | rank-1 protected | top-5 protected | still verified | own distance | faces lost |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for (mode, p) in &r.protection {
        s += &format!(
            "| {mode} | {} | {} | {} | {} | {:.1} % | {:.1} % | {:.1} % | {:.3} | {} |\n",
            p.gallery,
            serde_json::to_value(p.post)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            p.judge,
            format!("{:?}", p.role).to_lowercase(),
            100.0 * p.rank1,
            100.0 * p.top5,
            100.0 * p.verification,
            p.own_distance,
            p.faces_lost
        );
    }
    s
}

/// Mean own-distance per judge for a gallery kind, for quick comparisons (tests, summaries).
pub fn own_distance(r: &EvalReport, mode: &str, gallery: &str, judge: &str) -> Option<f64> {
    r.protection
        .iter()
        .find(|(m, p)| {
            m == mode && p.gallery == gallery && p.judge == judge && p.post == PostProcess::None
        })
        .map(|(_, p)| p.own_distance)
}

/// Rank-1 protection against mean photo SSIM, one line per judge through the modes: the held-out
/// judge (red), the surrogates (blue, green), and the held-out judge after resizing and JPEG 85
/// (grey).
pub fn plot(r: &EvalReport) -> image::RgbImage {
    let mut modes: Vec<&ModeQuality> = r.quality.iter().collect();
    modes.sort_by(|a, b| b.mean_ssim.total_cmp(&a.mean_ssim));
    let rank1 = |mode: Mode, judge: &str, post: PostProcess| {
        r.protection
            .iter()
            .find(|(m, p)| {
                m == mode.name() && p.gallery == "cloak" && p.judge == judge && p.post == post
            })
            .map(|(_, p)| p.rank1)
    };
    let lines = [
        (JUDGE.name, PostProcess::None),
        (SURROGATES[0].name, PostProcess::None),
        (SURROGATES[1].name, PostProcess::None),
        (JUDGE.name, PostProcess::Resize1080Jpeg85),
    ];
    let series: Vec<crate::plot::Series> = lines
        .iter()
        .map(|(judge, post)| crate::plot::Series {
            points: modes
                .iter()
                .filter_map(|q| Some((q.mean_ssim, rank1(q.mode, judge, *post)?)))
                .collect(),
        })
        .collect();
    let low = modes.iter().map(|q| q.mean_ssim).fold(1.0, f64::min);
    let x_min = ((low - 0.005) * 100.0).floor() / 100.0;
    crate::plot::chart(&series, x_min.min(0.98), 1.0)
}
