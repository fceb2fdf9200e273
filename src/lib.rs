//! FaceCloak: cloak the faces in photos so face-recognition scrapers cannot match them to you.
//!
//! Each photo is decoded upright (JPEG, PNG, WebP, TIFF, BMP, GIF, HEIC, AVIF), its faces are
//! found and aligned, and a small perturbation is optimised per face against an ensemble of
//! surrogate recognisers run by ONNX Runtime, pasted back at full resolution within a visibility
//! floor, and written in the input's format (HEIC and AVIF as JPEG unless asked), atomically,
//! with metadata by allow-list. Photos and faces run in parallel.
//!
//! The front door is small: [`cloak_batch`] runs a batch with [`Options`] (a [`Mode`] among
//! them), reporting [`Event`]s as it goes and returning a [`Report`] of [`FileReport`]s and their
//! [`FaceReport`]s (each face numbered, with its [`FaceBox`]) and a [`Summary`]; a stop flag ends
//! it between faces. A front end that runs many batches keeps an [`Engine`], whose sessions also
//! find the faces it lets the user choose from ([`FaceChoice`]); [`preview`] makes the small
//! images a window shows.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//!
//! use facecloak::{Event, Mode, Options, cloak_batch, collect_inputs};
//!
//! let (photos, problems) = collect_inputs(&["holiday".into()], false);
//! for (path, why) in &problems {
//!     eprintln!("skipped {}: {why}", path.display());
//! }
//! let options = Options {
//!     mode: Mode::Mid,
//!     ..Options::default()
//! };
//! let stop = AtomicBool::new(false);
//! let report = cloak_batch(
//!     &photos,
//!     &options,
//!     |event| {
//!         if let Event::Done(done) = event {
//!             println!("{} → {}", done.input.display(), done.output.display());
//!         }
//!     },
//!     &stop,
//! )?;
//! println!("{} cloaked, {} failed", report.done.len(), report.failed.len());
//! # Ok::<(), facecloak::Error>(())
//! ```

mod align;
mod batch;
#[cfg(feature = "bench")]
pub mod bench;
mod cloak;
mod detect;
mod error;
#[cfg(feature = "eval")]
pub mod eval;
mod geometry;
mod heif;
mod io;
mod memory;
mod metadata;
mod models;
mod naming;
mod outlook;
mod output;
mod pathname;
mod planes;
pub mod preview;
mod quality;
mod recognise;
mod runtime;
pub mod user_models;
mod verify;
mod visibility;
mod warp;

pub use batch::{
    EXTENSIONS, Engine, Event, FaceChoice, FaceReport, FileReport, NotProtected, Options, Progress,
    Report, Summary, cloak_batch, collect_inputs, faces_word,
};
pub use cloak::{Mode, Params};
pub use detect::{Detector, Face};
pub use error::{Error, Result};
pub use geometry::{FaceBox, Rect};
pub use io::load_rgb;
pub use memory::tune_allocator;
pub use models::ModelStore;
pub use output::write_atomic;
pub use pathname::serialize as serialize_path;

/// Everything else, for the project's own tests, benches, examples, fuzz targets and the CLI's
/// developer commands: not a stable API.
#[doc(hidden)]
pub mod internals {
    macro_rules! open {
        ($($m:ident),*) => {
            $(pub mod $m {
                pub use crate::$m::*;
            })*
        };
    }
    open!(
        align, batch, cloak, detect, error, geometry, heif, io, memory, metadata, models, naming,
        output, pathname, planes, quality, recognise, runtime, verify, visibility, warp
    );
}
