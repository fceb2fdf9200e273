//! The models a batch runs, loaded once: a front end that cloaks more than once (the desktop
//! app's Start, its face picker and before/after) keeps one engine instead of loading the
//! sessions for every run and view.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard, PoisonError};

use image::RgbImage;

use super::pool::Pool;
use super::{Event, Options, Report};
use crate::Result;
use crate::cloak::{Cloaker, Mode, Params};
use crate::detect::{Detector, Face};
use crate::models::ModelStore;
use crate::verify::Verifier;

/// Idle sessions of every model, shared by the threads of a batch and kept between batches.
pub struct Engine {
    store: ModelStore,
    detectors: Pool<Detector>,
    cloakers: Pool<Cloaker>,
    /// One set of recognisers for the local check, shared: the largest judge alone holds a few
    /// hundred megabytes, and a check takes a fraction of a second.
    verifier: Mutex<Verifier>,
}

impl Engine {
    /// Finds the models and the runtime (`resource_dir`: the desktop app's bundled resources)
    /// and opens one session of each, so a broken installation fails here, once, clearly.
    /// `added`: the folder of recognisers the user added, which then take part in every cloak
    /// and local check (`None`: the shipped ones alone).
    pub fn new(resource_dir: Option<&Path>, added: Option<&Path>) -> Result<Self> {
        // One thread per session: the models are small, and two intra-op threads made a mid-mode
        // face slower (3.6 s against 2.7 s on two cores), so cores are used by cloaking faces in
        // parallel.
        let mut store = ModelStore::locate(resource_dir)?.with_intra_threads(1);
        if let Some(dir) = added {
            store = store.with_added(dir);
        }
        Ok(Self {
            detectors: Pool::new(Detector::new(&store)?),
            cloakers: Pool::new(Cloaker::new(&store)?),
            verifier: Mutex::new(Verifier::new(&store)?),
            store,
        })
    }

    /// A mode's settings with the recognisers the user added among the surrogates.
    pub fn params(&self, mode: Mode) -> Params {
        mode.params_with(&self.store)
    }

    /// The recognisers the user added that take part in this engine's cloaks.
    pub fn added(&self) -> Vec<&'static str> {
        self.store
            .recognisers()
            .into_iter()
            .filter(|r| r.role == crate::models::Role::Added)
            .map(|r| r.name)
            .collect()
    }

    /// Every face in the photo, best first, numbered by their place here (from 1) as a batch
    /// numbers them.
    pub fn detect(&self, photo: &RgbImage) -> Result<Vec<Face>> {
        self.detectors
            .with(|| Detector::new(&self.store), |d| d.detect(photo))
    }

    /// [`cloak_batch`](super::cloak_batch) with these sessions.
    pub fn cloak_batch(
        &self,
        inputs: &[PathBuf],
        options: &Options,
        progress: impl Fn(Event) + Sync,
        stop: &AtomicBool,
    ) -> Result<Report> {
        super::run(self, inputs, options, progress, stop)
    }

    /// Runs `job` with an idle cloaker, or a new one when every one is busy.
    pub(super) fn with_cloaker<R>(&self, job: impl FnOnce(&mut Cloaker) -> Result<R>) -> Result<R> {
        self.cloakers.with(|| Cloaker::new(&self.store), job)
    }

    pub(super) fn verifier(&self) -> MutexGuard<'_, Verifier> {
        self.verifier.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
