//! Cloaking many photos: inputs expanded, photos in parallel on a pool of workers (each with its
//! own sessions), progress as events, a stop flag honoured within about a second, and a report.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::cloak::{Cloaker, Mode};
use crate::detect::{Detector, Face};
use crate::io::load_photo;
use crate::models::ModelStore;
use crate::naming::Plan;
use crate::output::{
    OUTPUT_EXTENSIONS, WriteOptions, encode, output_format, remove_stale_temps, write_atomic,
};
use crate::visibility::FaceQuality;
use crate::{Error, Result, pathname, quality};

pub use crate::naming::{OUTPUT_DIR, OUTPUT_MARK, is_output};
/// File extensions picked up when a folder is given.
pub const EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp", "gif"];

#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// Where outputs go; `None` puts them in `cloaked/` beside each input.
    pub out_dir: Option<PathBuf>,
    pub overwrite: bool,
    pub keep_metadata: bool,
    /// Record mode and seed in each output.
    pub tag: bool,
    pub seed: u64,
    /// Photos cloaked at once; 0 means one per core.
    pub jobs: usize,
    /// Faces whose eyes-to-mouth distance is below this many pixels are left alone.
    pub min_face_px: f32,
    /// Which of each photo's faces to cloak.
    pub faces: FaceChoice,
    /// Where the models and runtime live when bundled (the desktop app's resources).
    pub resource_dir: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: Mode::default(),
            out_dir: None,
            overwrite: false,
            keep_metadata: false,
            tag: false,
            seed: 0,
            jobs: 0,
            min_face_px: 20.0,
            faces: FaceChoice::All,
            resource_dir: None,
        }
    }
}

/// Which of a photo's faces to cloak: `all`, the `largest`, or a list of numbers as
/// `facecloak detect` prints them (`1,3`; from 1, in the detector's order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FaceChoice {
    #[default]
    All,
    Largest,
    Numbers(Vec<usize>),
}

impl std::str::FromStr for FaceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "all" => Ok(Self::All),
            "largest" => Ok(Self::Largest),
            list => list
                .split(',')
                .map(|n| match n.trim().parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(format!(
                        "`{s}`: expected all, largest or face numbers from 1 (e.g. 1,3)"
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Self::Numbers),
        }
    }
}

impl FaceChoice {
    fn pick<'a>(&self, faces: &'a [Face]) -> Vec<&'a Face> {
        match self {
            Self::All => faces.iter().collect(),
            Self::Largest => faces
                .iter()
                .max_by(|a, b| face_size(a).total_cmp(&face_size(b)))
                .into_iter()
                .collect(),
            Self::Numbers(numbers) => faces
                .iter()
                .enumerate()
                .filter(|(i, _)| numbers.contains(&(i + 1)))
                .map(|(_, f)| f)
                .collect(),
        }
    }
}

/// How the cloak changed one face.
#[derive(Debug, Clone, Serialize)]
pub struct FaceReport {
    pub bbox: [f32; 4],
    /// Per surrogate: cosine similarity of the cloaked face's embedding to the original's.
    pub similarity: Vec<(String, f32)>,
    /// How visible the change is on this face (SSIMULACRA2 at feed size and at 100 %).
    pub quality: FaceQuality,
    /// `quality.display` in plain words: invisible, slight or visible.
    pub rating: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    #[serde(serialize_with = "pathname::serialize")]
    pub input: PathBuf,
    #[serde(serialize_with = "pathname::serialize")]
    pub output: PathBuf,
    pub faces: Vec<FaceReport>,
    /// Faces found but too small to be recognised, left unchanged.
    pub faces_too_small: usize,
    /// SSIM of the whole photo (luma).
    pub ssim: f64,
    pub psnr: f64,
    pub seconds: f64,
}

/// Progress of a batch, one event at a time (never more than a few per photo).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        #[serde(serialize_with = "pathname::serialize")]
        input: PathBuf,
    },
    FacesFound {
        #[serde(serialize_with = "pathname::serialize")]
        input: PathBuf,
        faces: usize,
    },
    Done(FileReport),
    Skipped {
        #[serde(serialize_with = "pathname::serialize")]
        input: PathBuf,
        reason: String,
    },
    Failed {
        #[serde(serialize_with = "pathname::serialize")]
        input: PathBuf,
        error: String,
    },
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub done: Vec<FileReport>,
    #[serde(serialize_with = "pathname::serialize_pairs")]
    pub skipped: Vec<(PathBuf, String)>,
    #[serde(serialize_with = "pathname::serialize_pairs")]
    pub failed: Vec<(PathBuf, String)>,
    /// The batch was stopped before every photo was handled.
    pub cancelled: bool,
    pub seconds: f64,
}

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

/// One worker's sessions: detector and surrogate ensemble.
struct Worker {
    detector: Detector,
    cloaker: Cloaker,
}

impl Worker {
    fn new(store: &ModelStore) -> Result<Self> {
        Ok(Self {
            detector: Detector::new(store)?,
            cloaker: Cloaker::new(store)?,
        })
    }
}

/// Cloaks every photo, calling `progress` as each one moves along. Returns an error only when
/// nothing can run at all (models or runtime missing); a photo's own problem is reported in its
/// event and the batch goes on.
pub fn cloak_batch(
    inputs: &[PathBuf],
    options: &Options,
    progress: impl Fn(Event) + Sync,
    stop: &AtomicBool,
) -> Result<Report> {
    let started = Instant::now();
    let jobs = if options.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.jobs
    };
    let workers = jobs.min(inputs.len()).max(1);
    // One thread per session: the models are small, and two intra-op threads made a mid-mode face
    // slower (3.6 s against 2.7 s on two cores), so cores are used by cloaking photos in parallel.
    let store = ModelStore::locate(options.resource_dir.as_deref())?.with_intra_threads(1);
    // Load one worker up front, so a broken installation fails the batch once, clearly.
    let pool = Mutex::new(vec![Worker::new(&store)?]);
    let plan = Plan::new(inputs, options.out_dir.as_deref());
    for dir in plan.dirs() {
        remove_stale_temps(&dir);
    }

    let report = Mutex::new(Report::default());
    let run = || {
        inputs.par_iter().for_each(|input| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let worker = pool
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()
                .map(Ok)
                .unwrap_or_else(|| Worker::new(&store));
            let event = match worker {
                Ok(mut worker) => {
                    let event = cloak_one(&mut worker, input, &plan, options, &progress, stop);
                    pool.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(worker);
                    event
                }
                Err(e) => Some(Event::Failed {
                    input: input.clone(),
                    error: e.to_string(),
                }),
            };
            let Some(event) = event else { return };
            {
                let mut r = report.lock().unwrap_or_else(PoisonError::into_inner);
                match &event {
                    Event::Done(f) => r.done.push(f.clone()),
                    Event::Skipped { input, reason } => {
                        r.skipped.push((input.clone(), reason.clone()))
                    }
                    Event::Failed { input, error } => r.failed.push((input.clone(), error.clone())),
                    _ => {}
                }
            }
            progress(event);
        })
    };
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .map_err(|e| Error::Unsupported {
            path: PathBuf::new(),
            reason: format!("cannot start workers: {e}"),
        })?
        .install(run);

    let mut report = report.into_inner().unwrap_or_else(PoisonError::into_inner);
    report.cancelled = stop.load(Ordering::Relaxed)
        && report.done.len() + report.skipped.len() + report.failed.len() < inputs.len();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Handles one photo; `None` when it was interrupted by a stop request.
fn cloak_one(
    worker: &mut Worker,
    input: &Path,
    plan: &Plan,
    options: &Options,
    progress: &(impl Fn(Event) + Sync),
    stop: &AtomicBool,
) -> Option<Event> {
    let skipped = |reason: String| {
        Some(Event::Skipped {
            input: input.to_path_buf(),
            reason,
        })
    };
    if is_output(input) {
        return skipped("already a FaceCloak output".into());
    }
    // The format is known only after reading, but an existing output can be spotted before.
    if !options.overwrite
        && let Some(existing) = existing_output(input, plan)
    {
        return skipped(format!(
            "already cloaked as {} (use --overwrite to redo it)",
            existing.display()
        ));
    }
    progress(Event::Started {
        input: input.to_path_buf(),
    });
    match process(worker, input, plan, options, progress, stop) {
        Ok(Outcome::Done(report)) => Some(Event::Done(report)),
        Ok(Outcome::Skipped(reason)) => skipped(reason),
        Err(Error::Cancelled) => None,
        Err(e) => Some(Event::Failed {
            input: input.to_path_buf(),
            error: e.to_string(),
        }),
    }
}

fn existing_output(input: &Path, plan: &Plan) -> Option<PathBuf> {
    OUTPUT_EXTENSIONS
        .iter()
        .map(|ext| plan.output(input, ext))
        .find(|p| p.exists())
}

enum Outcome {
    Done(FileReport),
    Skipped(String),
}

/// Eyes-to-mouth distance, the face's scale in photo pixels.
fn face_size(face: &Face) -> f32 {
    let [le, re, _, lm, rm] = face.five;
    let eyes = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    let mouth = [(lm[0] + rm[0]) / 2.0, (lm[1] + rm[1]) / 2.0];
    (eyes[0] - mouth[0]).hypot(eyes[1] - mouth[1])
}

fn process(
    worker: &mut Worker,
    input: &Path,
    plan: &Plan,
    options: &Options,
    progress: &(impl Fn(Event) + Sync),
    stop: &AtomicBool,
) -> Result<Outcome> {
    let started = Instant::now();
    let photo = load_photo(input)?;
    let faces = worker.detector.detect(&photo.rgb)?;
    progress(Event::FacesFound {
        input: input.to_path_buf(),
        faces: faces.len(),
    });
    if faces.is_empty() {
        return Ok(Outcome::Skipped("no face found".into()));
    }
    let chosen = options.faces.pick(&faces);
    if chosen.is_empty() {
        return Ok(Outcome::Skipped(format!(
            "none of the chosen faces is in the photo ({} found)",
            faces.len()
        )));
    }
    let (big, small): (Vec<&Face>, Vec<&Face>) = chosen
        .into_iter()
        .partition(|f| face_size(f) >= options.min_face_px);
    if big.is_empty() {
        return Ok(Outcome::Skipped(format!(
            "{} face(s) too small to be recognised (eyes to mouth under {} px), left alone",
            small.len(),
            options.min_face_px
        )));
    }

    let result =
        worker
            .cloaker
            .cloak_photo(&photo.rgb, &big, &options.mode.params(), options.seed, stop)?;
    let reports = big
        .iter()
        .zip(&result.faces)
        .map(|(face, r)| FaceReport {
            bbox: face.bbox,
            similarity: r.similarity.clone(),
            quality: r.quality,
            rating: r.quality.rating(),
        })
        .collect();
    if stop.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }

    let (format, ext) = output_format(photo.format);
    let output = plan.output(input, ext);
    let write = WriteOptions {
        keep_metadata: options.keep_metadata,
        tag: options
            .tag
            .then(|| format!("mode={} seed={}", options.mode.name(), options.seed)),
        overwrite: options.overwrite,
    };
    let bytes = encode(&photo, &result.image, format, &write).map_err(|e| with_path(e, &output))?;
    write_atomic(&output, &bytes, options.overwrite)?;
    Ok(Outcome::Done(FileReport {
        input: input.to_path_buf(),
        output,
        faces: reports,
        faces_too_small: small.len(),
        ssim: quality::ssim_photo(&photo.rgb, &result.image, &result.regions()),
        psnr: quality::psnr(&photo.rgb, &result.image),
        seconds: started.elapsed().as_secs_f64(),
    }))
}

fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Encode { source, .. } => Error::Encode {
            path: path.to_path_buf(),
            source,
        },
        other => other,
    }
}
