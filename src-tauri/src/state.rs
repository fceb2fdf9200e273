//! What the app holds while it runs, shared by its commands.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use facecloak::Engine;

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
    /// The models the face picker, before/after and Start share.
    pub engine: EngineSlot,
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

/// The core's engine, loaded on first use and kept for the app's life: the views that find a
/// photo's faces again (the picker before Start, before/after once done) and every Start use
/// its sessions instead of loading the models each time.
#[derive(Default)]
pub struct EngineSlot {
    engine: Mutex<Option<Arc<Engine>>>,
}

impl EngineSlot {
    /// The engine, loaded now if this is the first call; a failed load is tried again next time
    /// (the user may have fixed the installation).
    pub fn get(&self, resources: Option<&Path>) -> facecloak::Result<Arc<Engine>> {
        // Held while loading, so two first calls do not both load the models.
        let mut slot = self.engine.locked();
        if let Some(engine) = &*slot {
            return Ok(engine.clone());
        }
        // Recognisers the user added take part in every cloak and local check, as in the CLI.
        let added = facecloak::user_models::folder();
        let engine = Arc::new(Engine::new(resources, added.as_deref())?);
        *slot = Some(engine.clone());
        Ok(engine)
    }

    /// Drops the engine, so the next use loads it again: after the user added or removed a
    /// recogniser, which changes what every cloak is optimised against. A batch still holding
    /// the old one finishes with it.
    pub fn reset(&self) {
        *self.engine.locked() = None;
    }
}
