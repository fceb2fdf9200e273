//! What a batch tells its front end: events as photos move along, and the report at the end.

use std::path::PathBuf;

use serde::Serialize;

use crate::geometry::FaceBox;
use crate::pathname;
use crate::verify::ModelCheck;
use crate::visibility::FaceQuality;

/// How the cloak changed one face.
#[derive(Debug, Clone, Serialize)]
pub struct FaceReport {
    /// The face's number in its photo (from 1, in the detector's order, as `facecloak detect`
    /// prints it and `--faces` takes it).
    pub number: usize,
    pub bbox: FaceBox,
    /// Every local recogniser's verdict: does it still match the cloaked face to the original?
    pub local_check: Vec<ModelCheck>,
    /// Would a clean photo of the person still find this face, in a small gallery and among a
    /// scraper's billions: how often it did in the evaluation for this mode, and `local_check`
    /// in words ("…; not matched by 1 of 6 local models").
    pub protection: String,
    /// The same answer short enough for a row ("likely still found in a small gallery; even
    /// odds of being found among a scraper's billions").
    pub verdict: String,
    /// How visible the change is on this face (SSIMULACRA2 at feed size and at 100 %).
    pub quality: FaceQuality,
    /// `quality.display` in plain words: invisible, slight or visible.
    pub rating: &'static str,
    /// Time this face took to cloak.
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    #[serde(serialize_with = "pathname::serialize")]
    pub input: PathBuf,
    #[serde(serialize_with = "pathname::serialize")]
    pub output: PathBuf,
    pub faces: Vec<FaceReport>,
    /// The input's format when the output is in another one: a HEIC or AVIF photo is written
    /// as a JPEG (`<stem>.cloaked.jpg`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converted_from: Option<String>,
    /// Boxes of faces found but too small to cloak, left unchanged and so not protected.
    pub too_small: Vec<FaceBox>,
    /// Their numbers, in the same order.
    pub too_small_numbers: Vec<usize>,
    /// SSIM of the whole photo (luma).
    pub ssim: f64,
    pub psnr: f64,
    pub seconds: f64,
}

impl FileReport {
    /// Every face the user chose was cloaked.
    pub fn fully_protected(&self) -> bool {
        self.too_small.is_empty()
    }
}

/// A photo left as it was although it may show someone: no face was found, or every face was
/// too small to cloak. Unlike a skip (already cloaked, or no face chosen), the person posting
/// it must know it is not protected.
#[derive(Debug, Clone, Serialize)]
pub struct NotProtected {
    #[serde(serialize_with = "pathname::serialize")]
    pub input: PathBuf,
    pub reason: String,
    /// Boxes of the faces too small to cloak (x1, y1, x2, y2 in photo pixels).
    pub too_small: Vec<FaceBox>,
    /// Their numbers, in the same order.
    pub too_small_numbers: Vec<usize>,
}

/// Progress of a batch, one event at a time (a few per photo, and one per face cloaked).
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
    /// Another of the photo's chosen faces is cloaked: `done` of the `of` it will cloak, so a
    /// group photo's progress moves every few seconds instead of once a minute.
    FaceCloaked {
        #[serde(serialize_with = "pathname::serialize")]
        input: PathBuf,
        done: usize,
        of: usize,
    },
    Done(FileReport),
    NotProtected(NotProtected),
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

impl Event {
    /// The photo the event is about.
    pub fn input(&self) -> &PathBuf {
        match self {
            Event::Started { input }
            | Event::FacesFound { input, .. }
            | Event::FaceCloaked { input, .. }
            | Event::Skipped { input, .. }
            | Event::Failed { input, .. } => input,
            Event::Done(r) => &r.input,
            Event::NotProtected(n) => &n.input,
        }
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub done: Vec<FileReport>,
    pub not_protected: Vec<NotProtected>,
    #[serde(serialize_with = "pathname::serialize_pairs")]
    pub skipped: Vec<(PathBuf, String)>,
    #[serde(serialize_with = "pathname::serialize_pairs")]
    pub failed: Vec<(PathBuf, String)>,
    /// The batch was stopped before every photo was handled.
    pub cancelled: bool,
    pub seconds: f64,
}

impl Report {
    /// Files out of the `total` given with an outcome.
    pub(super) fn handled(&self) -> usize {
        self.done.len() + self.not_protected.len() + self.skipped.len() + self.failed.len()
    }

    pub(super) fn record(&mut self, event: &Event) {
        match event {
            Event::Done(f) => self.done.push(f.clone()),
            Event::NotProtected(n) => self.not_protected.push(n.clone()),
            Event::Skipped { input, reason } => self.skipped.push((input.clone(), reason.clone())),
            Event::Failed { input, error } => self.failed.push((input.clone(), error.clone())),
            Event::Started { .. } | Event::FacesFound { .. } | Event::FaceCloaked { .. } => {}
        }
    }
}
