//! What the app holds while it runs, shared by its commands.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use facecloak::{Detector, Face, ModelStore};

use crate::queue::Queue;
use crate::settings::Settings;

pub struct AppState {
    pub queue: Mutex<Queue>,
    pub settings: Mutex<Settings>,
    pub settings_path: PathBuf,
    /// Shown once in the window: why the settings were reset, if they were.
    pub notice: Mutex<Option<String>>,
    pub stop: Arc<AtomicBool>,
    pub running: AtomicBool,
    /// The detector the face picker and before/after share.
    pub finder: FaceFinder,
}

/// A lock that a panic elsewhere does not spoil: the state it guards stays usable (a queue, the
/// settings), so the window keeps working instead of failing every later command.
pub trait Locked<T> {
    fn locked(&self) -> MutexGuard<'_, T>;
}

impl<T> Locked<T> for Mutex<T> {
    fn locked(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One model store and detector, made on first use and kept, for the views that find a photo's
/// faces again (the picker before Start, before/after once done) instead of loading the models
/// for every view.
#[derive(Default)]
pub struct FaceFinder {
    detector: Mutex<Option<Detector>>,
}

impl FaceFinder {
    pub fn detect(
        &self,
        resources: Option<&std::path::Path>,
        photo: &image::RgbImage,
    ) -> facecloak::Result<Vec<Face>> {
        let mut slot = self.detector.locked();
        let mut detector = match slot.take() {
            Some(d) => d,
            None => Detector::new(&ModelStore::locate(resources)?)?,
        };
        let faces = detector.detect(photo);
        *slot = Some(detector);
        faces
    }
}
