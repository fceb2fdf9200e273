//! Cloaking many photos: inputs expanded, photos opened by a few threads as memory allows, their
//! faces cloaked in parallel on one pool of workers (each with its own sessions), progress as
//! events, a stop flag honoured within about a second, and a report.

mod choice;
mod engine;
mod inputs;
mod photo;
mod pool;
mod progress;
mod report;
mod summary;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

pub use self::choice::{FaceChoice, face_size};
pub use self::engine::Engine;
pub use self::inputs::collect_inputs;
use self::pool::MemoryGate;
pub use self::progress::Progress;
pub use self::report::{Event, FaceReport, FileReport, NotProtected, Report};
pub use self::summary::Summary;
use crate::cloak::Mode;
use crate::detect::Face;
use crate::naming::Plan;
use crate::output::{OUTPUT_EXTENSIONS, remove_stale_temps};
use crate::{Error, Result};

pub use crate::naming::{OUTPUT_DIR, OUTPUT_MARK, is_output};
/// File extensions picked up when a folder is given.
pub const EXTENSIONS: [&str; 12] = [
    "jpg", "jpeg", "png", "webp", "tif", "tiff", "bmp", "gif", "heic", "heif", "hif", "avif",
];

#[derive(Debug, Clone)]
pub struct Options {
    pub mode: Mode,
    /// Where outputs go; `None` puts them in `cloaked/` beside each input.
    pub out_dir: Option<PathBuf>,
    pub overwrite: bool,
    /// Photos cloaked again into the output they were saved as, which is replaced even without
    /// `overwrite`: the app's re-cloak after the user changed which faces to cloak. The earlier
    /// path is kept because a run's names depend on the photos in it.
    pub redo: HashMap<PathBuf, PathBuf>,
    pub keep_metadata: bool,
    /// Write HEIC and AVIF photos in their own format instead of as JPEG.
    pub keep_heif: bool,
    /// Record mode and seed in each output.
    pub tag: bool,
    pub seed: u64,
    /// Faces cloaked at once (and at most this many photos open); 0 means one per core.
    pub jobs: usize,
    /// Faces whose eyes-to-mouth distance is below this many pixels are too small to cloak:
    /// they are left alone and reported as not protected.
    pub min_face_px: f32,
    /// Which of each photo's faces to cloak.
    pub faces: FaceChoice,
    /// Per photo, a choice that overrides `faces` (the app's face switches).
    pub choices: HashMap<PathBuf, FaceChoice>,
    /// Where the models and runtime live when bundled (the desktop app's resources).
    pub resource_dir: Option<PathBuf>,
    /// The folder of recognisers the user added (`facecloak models add`), which then take part
    /// in the cloak and the local check; `None` leaves them out.
    pub added_models: Option<PathBuf>,
}

impl Options {
    fn replaces(&self, input: &Path) -> bool {
        self.overwrite || self.redo.contains_key(input)
    }

    /// Whether a face is too small to cloak (eyes to mouth under `min_face_px`): it is left as
    /// it was and reported as not protected.
    pub fn too_small(&self, face: &Face) -> bool {
        face_size(face) < self.min_face_px
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: Mode::default(),
            out_dir: None,
            overwrite: false,
            redo: HashMap::new(),
            keep_metadata: false,
            keep_heif: false,
            tag: false,
            seed: 0,
            jobs: 0,
            min_face_px: 20.0,
            faces: FaceChoice::All,
            choices: HashMap::new(),
            resource_dir: None,
            added_models: None,
        }
    }
}

/// Bytes of memory the photos open at once may take, beside the sessions' own (the size
/// benchmark in the README measures the peak both make).
const PHOTO_MEMORY_BUDGET: u64 = 1 << 30;

/// What a photo costs in memory per pixel while it is worked on: decoded, the detector's
/// pyramid, the cloaked copy and the encoded output (measured with the size benchmark).
const BYTES_PER_PIXEL: u64 = 16;

/// What every thread of a batch shares.
struct Shared<'a, P> {
    engine: &'a Engine,
    /// Runs the faces of every open photo, so a photo with twenty faces uses every core.
    faces: rayon::ThreadPool,
    memory: MemoryGate,
    plan: Plan,
    options: &'a Options,
    progress: &'a P,
    stop: &'a AtomicBool,
}

/// Cloaks every photo, calling `progress` as each one moves along. Returns an error only when
/// nothing can run at all (models or runtime missing); a photo's own problem is reported in its
/// event and the batch goes on. Loads the models for this batch alone; a front end that runs
/// many keeps an [`Engine`].
pub fn cloak_batch(
    inputs: &[PathBuf],
    options: &Options,
    progress: impl Fn(Event) + Sync,
    stop: &AtomicBool,
) -> Result<Report> {
    Engine::new(
        options.resource_dir.as_deref(),
        options.added_models.as_deref(),
    )?
    .cloak_batch(inputs, options, progress, stop)
}

fn run(
    engine: &Engine,
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
    let cannot_start = |e: String| Error::Unsupported {
        path: PathBuf::new(),
        reason: format!("cannot start workers: {e}"),
    };
    let shared = Shared {
        engine,
        faces: rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| cannot_start(e.to_string()))?,
        memory: MemoryGate::new(PHOTO_MEMORY_BUDGET),
        plan: Plan::new(inputs, options.out_dir.as_deref()),
        options,
        progress: &progress,
        stop,
    };
    for dir in shared.plan.dirs() {
        remove_stale_temps(&dir);
    }

    let report = Mutex::new(Report::default());
    let next = AtomicUsize::new(0);
    // Photo threads only open, detect and save; they wait while their faces are cloaked, so a
    // photo is never opened just because a thread would otherwise be idle.
    let photo_threads = jobs.min(inputs.len()).max(1);
    std::thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..photo_threads {
            let started = std::thread::Builder::new().spawn_scoped(scope, || {
                while let Some(input) = inputs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Some(event) = cloak_one(&shared, input) else {
                        continue;
                    };
                    report
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .record(&event);
                    progress(event);
                }
            });
            spawned += usize::from(started.is_ok());
        }
        if spawned == 0 {
            return Err(cannot_start("no thread could be started".into()));
        }
        Ok(())
    })?;

    let mut report = report.into_inner().unwrap_or_else(PoisonError::into_inner);
    report.cancelled = stop.load(Ordering::Relaxed) && report.handled() < inputs.len();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Handles one photo; `None` when it was interrupted by a stop request.
fn cloak_one<P: Fn(Event) + Sync>(shared: &Shared<P>, input: &Path) -> Option<Event> {
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
    if !shared.options.replaces(input)
        && let Some(existing) = existing_output(input, &shared.plan)
    {
        return skipped(format!(
            "already cloaked as {} (use --overwrite to redo it)",
            existing.display()
        ));
    }
    // A photo waiting for memory is not yet being worked on.
    let _memory = shared.memory.enter(photo_bytes(input));
    (shared.progress)(Event::Started {
        input: input.to_path_buf(),
    });
    match photo::process(shared, input) {
        Ok(event) => Some(event),
        Err(Error::Cancelled) => None,
        Err(e) => Some(Event::Failed {
            input: input.to_path_buf(),
            error: e.to_string(),
        }),
    }
}

/// What opening the photo will cost, from its header (for a HEIC or AVIF, its boxes); a photo
/// whose size cannot be read is counted as 24 MP (it will most likely fail to open anyway).
fn photo_bytes(input: &Path) -> u64 {
    let pixels = image::ImageReader::open(input)
        .and_then(|r| r.with_guessed_format())
        .ok()
        .and_then(|r| r.into_dimensions().ok())
        .or_else(|| crate::heif::dimensions(input))
        .map_or(24_000_000, |(w, h)| u64::from(w) * u64::from(h));
    pixels * BYTES_PER_PIXEL
}

fn existing_output(input: &Path, plan: &Plan) -> Option<PathBuf> {
    OUTPUT_EXTENSIONS
        .iter()
        .map(|ext| plan.output(input, ext))
        .find(|p| p.exists())
}

/// "1 face" or "3 faces".
pub fn faces_word(n: usize) -> String {
    if n == 1 {
        "1 face".into()
    } else {
        format!("{n} faces")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    #[test]
    fn a_photo_is_costed_at_its_own_size_heic_and_avif_included() {
        for name in [
            "obama.jpg",
            "heif/obama.heic",
            "heif/obama.avif",
            "heif/burst.heic",
        ] {
            let path = fixture(name);
            let photo = crate::io::decode_photo(&std::fs::read(&path).unwrap(), &path).unwrap();
            let (w, h) = photo.rgb.dimensions();
            assert_eq!(
                photo_bytes(&path),
                u64::from(w) * u64::from(h) * BYTES_PER_PIXEL,
                "{name}"
            );
        }
        let notes = fixture("SOURCES.md");
        assert_eq!(photo_bytes(&notes), 24_000_000 * BYTES_PER_PIXEL);
    }
}
