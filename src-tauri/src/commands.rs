//! The commands the page may call. None takes a path: photos are referred to by queue id, and
//! files and folders are chosen in native dialogs opened from here.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

use facecloak::Mode;
use facecloak::user_models::{self, AddedModel};
use facecloak::{Event, Options, Progress, Summary};
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use crate::queue::{Item, RunProgress, Update, data_url};
use crate::settings::{self, Settings};
use crate::state::Locked;
use crate::{AppState, add_user_paths};

#[derive(Debug, Clone, Serialize, TS)]
pub struct Added {
    pub items: Vec<Item>,
    /// Plain-words reasons for what could not be added.
    pub problems: Vec<String>,
}

#[derive(Serialize, TS)]
pub struct StateView {
    settings: Settings,
    notice: Option<String>,
    items: Vec<Item>,
    running: bool,
    modes: Vec<ModeView>,
    /// The recognisers the user added, which every cloak is also made against.
    recognisers: Vec<AddedModel>,
}

/// A strength as the settings list it, in the core's words with its measured figures.
#[derive(Serialize, TS)]
pub struct ModeView {
    name: Mode,
    summary: String,
    default: bool,
}

#[tauri::command]
pub fn state(state: State<'_, AppState>) -> StateView {
    StateView {
        settings: state.settings.locked().clone(),
        notice: state.notice.locked().take(),
        items: state.queue.locked().items().to_vec(),
        running: state.running.load(Ordering::SeqCst),
        modes: Mode::ALL
            .iter()
            .map(|&m| ModeView {
                name: m,
                summary: m.summary(),
                default: m == Mode::default(),
            })
            .collect(),
        recognisers: added_recognisers(),
    }
}

fn added_recognisers() -> Vec<AddedModel> {
    user_models::folder()
        .map(|dir| user_models::installed(&dir))
        .unwrap_or_default()
}

const BUSY: &str = "Wait for the batch to finish, or cancel it, first.";

/// Asks for a recogniser's .onnx file and adds it as `facecloak models add` does: checked, its
/// gradient graph built; every later cloak is also made against it.
#[tauri::command]
pub async fn add_recogniser(app: AppHandle) -> Result<Vec<AddedModel>, String> {
    let state = app.state::<AppState>();
    if state.running.load(Ordering::SeqCst) {
        return Err(BUSY.into());
    }
    let mut dialog = app
        .dialog()
        .file()
        .set_title("Add a recogniser")
        .add_filter("ONNX face recognisers", &["onnx"]);
    // Such files arrive as downloads; the dialog opens there rather than on recent files.
    if let Some(dir) = dirs::download_dir().or_else(dirs::home_dir) {
        dialog = dialog.set_directory(dir);
    }
    let Some(picked) = dialog.blocking_pick_file() else {
        return Ok(added_recognisers());
    };
    let file = picked.into_path().map_err(|e| e.to_string())?;
    let dir = user_models::folder().ok_or("No data folder is known for this user.")?;
    let resources = app.path().resource_dir().ok();
    tauri::async_runtime::spawn_blocking(move || {
        let store = facecloak::ModelStore::locate(resources.as_deref())?;
        user_models::add(&store, &dir, &file, &user_models::AddOptions::default())
    })
    .await
    .map_err(|e| format!("Adding the recogniser stopped unexpectedly: {e}"))?
    .map_err(|e| e.to_string())?;
    state.engine.reset();
    Ok(added_recognisers())
}

#[tauri::command]
pub fn remove_recogniser(
    state: State<'_, AppState>,
    name: String,
) -> Result<Vec<AddedModel>, String> {
    if state.running.load(Ordering::SeqCst) {
        return Err(BUSY.into());
    }
    let dir = user_models::folder().ok_or("No data folder is known for this user.")?;
    user_models::remove(&dir, &name).map_err(|e| e.to_string())?;
    state.engine.reset();
    Ok(added_recognisers())
}

#[tauri::command]
pub async fn pick_photos(app: AppHandle) -> Added {
    let picked = app
        .dialog()
        .file()
        .set_title("Add photos")
        .add_filter("Photos", &facecloak::EXTENSIONS)
        .blocking_pick_files()
        .unwrap_or_default();
    let paths: Vec<PathBuf> = picked
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .collect();
    add_user_paths(&app, &paths)
}

fn save(state: &AppState, update: impl FnOnce(&mut Settings)) -> Result<Settings, String> {
    let mut s = state.settings.locked();
    update(&mut s);
    settings::save(&state.settings_path, &s)?;
    Ok(s.clone())
}

#[tauri::command]
pub async fn pick_output(app: AppHandle, state: State<'_, AppState>) -> Result<Settings, String> {
    match app
        .dialog()
        .file()
        .set_title("Save cloaked photos in")
        .blocking_pick_folder()
    {
        Some(folder) => {
            let folder = folder.into_path().map_err(|e| e.to_string())?;
            save(&state, |s| s.out_dir = Some(folder))
        }
        None => Ok(state.settings.locked().clone()),
    }
}

#[tauri::command]
pub fn reset_output(state: State<'_, AppState>) -> Result<Settings, String> {
    save(&state, |s| s.out_dir = None)
}

#[tauri::command]
pub fn set_mode(state: State<'_, AppState>, mode: Mode) -> Result<Settings, String> {
    save(&state, |s| s.mode = mode)
}

#[tauri::command]
pub fn set_keep_metadata(state: State<'_, AppState>, on: bool) -> Result<Settings, String> {
    save(&state, |s| s.keep_metadata = on)
}

#[tauri::command]
pub fn set_keep_heif(state: State<'_, AppState>, on: bool) -> Result<Settings, String> {
    save(&state, |s| s.keep_heif = on)
}

/// A row's thumbnail, made when the page first shows the row and kept; `None` for a photo that
/// cannot be read (its row says why at Start).
#[tauri::command]
pub async fn thumbnail(app: AppHandle, id: u32) -> Option<String> {
    let state = app.state::<AppState>();
    let path = {
        let q = state.queue.locked();
        let item = q.items().iter().find(|i| i.id == id)?;
        if item.thumbnail.is_some() {
            return item.thumbnail.clone();
        }
        item.path.clone()
    };
    let jpeg =
        tauri::async_runtime::spawn_blocking(move || facecloak::preview::thumbnail(&path, 96))
            .await
            .ok()?
            .ok()?;
    state
        .queue
        .locked()
        .set_thumbnail(id, data_url(&jpeg))?
        .thumbnail
}

/// Sends a finished or failed photo back to the queue: retry, or re-cloak after faces changed.
#[tauri::command]
pub fn requeue(state: State<'_, AppState>, id: u32) -> Result<Item, String> {
    if state.running.load(Ordering::SeqCst) {
        return Err(BUSY.into());
    }
    state
        .queue
        .locked()
        .requeue(id)
        .ok_or_else(|| "That photo is no longer in the list.".into())
}

/// Cloaks every waiting photo, or with `only` that one photo (retry, re-cloak); each change of a
/// photo's state is sent on `on_event`.
#[tauri::command]
pub async fn start(
    app: AppHandle,
    on_event: Channel<Update>,
    only: Option<u32>,
) -> Result<Summary, String> {
    let state = app.state::<AppState>();
    if state.running.swap(true, Ordering::SeqCst) {
        return Err("FaceCloak is already working on the queue.".into());
    }
    state.stop.store(false, Ordering::SeqCst);
    let settings = state.settings.locked().clone();
    let (inputs, choices, redo) = {
        let q = state.queue.locked();
        (q.pending(only), q.choices(), q.redo())
    };
    let options = Options {
        mode: settings.mode,
        out_dir: settings.out_dir,
        keep_metadata: settings.keep_metadata,
        keep_heif: settings.keep_heif,
        choices,
        redo,
        ..Options::default()
    };
    let resources = app.path().resource_dir().ok();
    let handle = app.clone();
    let progress = Mutex::new(Progress::new(inputs.len()));
    let result = tauri::async_runtime::spawn_blocking(move || {
        let state = handle.state::<AppState>();
        let stop = state.stop.clone();
        state.engine.get(resources.as_deref())?.cloak_batch(
            &inputs,
            &options,
            |event: Event| {
                let run = {
                    let mut p = progress.lock().unwrap_or_else(PoisonError::into_inner);
                    p.apply(&event);
                    RunProgress {
                        done: p.done(),
                        total: p.total(),
                    }
                };
                if let Some(item) = state.queue.locked().apply(&event) {
                    let _ = on_event.send(Update { item, run });
                }
            },
            &stop,
        )
    })
    .await
    .map_err(|e| format!("The work stopped unexpectedly: {e}"));
    state.queue.locked().settle();
    state.running.store(false, Ordering::SeqCst);
    let report = result?.map_err(|e| e.to_string())?;
    let summary = report.summary(0);
    notify_if_away(&app, &summary);
    Ok(summary)
}

/// A batch of photos can take an hour: if the user went elsewhere meanwhile, the desktop says
/// when it ended. A desktop without a notification service just gets none.
fn notify_if_away(app: &AppHandle, summary: &Summary) {
    let away = app
        .get_webview_window("main")
        .is_none_or(|w| !w.is_focused().unwrap_or(false));
    if away && !summary.cancelled {
        let _ = app
            .notification()
            .builder()
            .title("FaceCloak has finished")
            .body(&summary.line)
            .show();
    }
}

#[tauri::command]
pub fn cancel(state: State<'_, AppState>) {
    state.stop.store(true, Ordering::SeqCst);
}

/// Takes a photo off the list (not while it is being cloaked).
#[tauri::command]
pub fn remove(state: State<'_, AppState>, id: u32) -> Result<(), String> {
    if state.queue.locked().remove(id) {
        Ok(())
    } else {
        Err("That photo is being cloaked; cancel first to remove it.".into())
    }
}

#[tauri::command]
pub fn clear(state: State<'_, AppState>) -> Vec<Item> {
    let mut q = state.queue.locked();
    q.clear();
    q.items().to_vec()
}

/// Opens the folder a finished photo was saved in, or the chosen output folder.
#[tauri::command]
pub fn open_output(
    app: AppHandle,
    state: State<'_, AppState>,
    id: Option<u32>,
) -> Result<(), String> {
    let folder = match id {
        Some(id) => {
            let q = state.queue.locked();
            let (_, report) = q.report(id).ok_or("That photo has not been cloaked yet.")?;
            report.output.parent().map(PathBuf::from).ok_or("The output has no folder.")?
        }
        None => state.settings.locked().out_dir.clone().ok_or(
            "Cloaked photos go into a \"cloaked\" folder beside each original; open one from a finished photo.",
        )?,
    };
    app.opener()
        .open_path(folder.to_string_lossy(), None::<&str>)
        .map_err(|e| e.to_string())
}
