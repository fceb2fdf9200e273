//! The commands the page may call. None takes a path: photos are referred to by queue id, and
//! files and folders are chosen in native dialogs opened from here.

use std::path::PathBuf;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;

use facecloak::batch::{self, Event, Options};
use facecloak::cloak::Mode;
use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::queue::{Item, data_url};
use crate::settings::{self, Settings};
use crate::{AppState, add_user_paths};

#[derive(Debug, Clone, Serialize)]
pub struct Added {
    pub items: Vec<Item>,
    /// Plain-words reasons for what could not be added.
    pub problems: Vec<String>,
}

#[derive(Serialize)]
pub struct StateView {
    settings: Settings,
    notice: Option<String>,
    items: Vec<Item>,
    running: bool,
}

#[tauri::command]
pub fn state(state: State<'_, AppState>) -> StateView {
    StateView {
        settings: state
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone(),
        notice: state
            .notice
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(),
        items: state
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .items()
            .to_vec(),
        running: state.running.load(Ordering::SeqCst),
    }
}

#[tauri::command]
pub async fn pick_photos(app: AppHandle) -> Added {
    let picked = app
        .dialog()
        .file()
        .set_title("Add photos")
        .add_filter("Photos", &batch::EXTENSIONS)
        .blocking_pick_files()
        .unwrap_or_default();
    let paths: Vec<PathBuf> = picked
        .into_iter()
        .filter_map(|p| p.into_path().ok())
        .collect();
    add_user_paths(&app, &paths)
}

fn save(state: &AppState, update: impl FnOnce(&mut Settings)) -> Result<Settings, String> {
    let mut s = state
        .settings
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
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
        None => Ok(state
            .settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()),
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

#[derive(Serialize)]
pub struct Summary {
    done: usize,
    not_protected: usize,
    skipped: usize,
    failed: usize,
    cancelled: bool,
    seconds: f64,
}

/// Cloaks every waiting photo; each change of a photo's state is sent on `on_event`.
#[tauri::command]
pub async fn start(app: AppHandle, on_event: Channel<Item>) -> Result<Summary, String> {
    let state = app.state::<AppState>();
    if state.running.swap(true, Ordering::SeqCst) {
        return Err("FaceCloak is already working on the queue.".into());
    }
    state.stop.store(false, Ordering::SeqCst);
    let settings = state
        .settings
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let inputs = state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pending();
    let choices = state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .choices();
    let options = Options {
        mode: settings.mode,
        out_dir: settings.out_dir,
        choices,
        resource_dir: app.path().resource_dir().ok(),
        ..Options::default()
    };
    let handle = app.clone();
    let result = tauri::async_runtime::spawn_blocking(move || {
        let state = handle.state::<AppState>();
        let stop = state.stop.clone();
        batch::cloak_batch(
            &inputs,
            &options,
            |event: Event| {
                if let Some(item) = state
                    .queue
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .apply(&event)
                {
                    let _ = on_event.send(item);
                }
            },
            &stop,
        )
    })
    .await
    .map_err(|e| format!("The work stopped unexpectedly: {e}"));
    state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .settle();
    state.running.store(false, Ordering::SeqCst);
    let report = result?.map_err(|e| e.to_string())?;
    Ok(Summary {
        done: report.done.len(),
        not_protected: report.not_protected.len(),
        skipped: report.skipped.len(),
        failed: report.failed.len(),
        cancelled: report.cancelled,
        seconds: report.seconds,
    })
}

#[tauri::command]
pub fn cancel(state: State<'_, AppState>) {
    state.stop.store(true, Ordering::SeqCst);
}

/// Takes a photo off the list (not while it is being cloaked).
#[tauri::command]
pub fn remove(state: State<'_, AppState>, id: u32) -> Result<(), String> {
    if state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(id)
    {
        Ok(())
    } else {
        Err("That photo is being cloaked; cancel first to remove it.".into())
    }
}

#[tauri::command]
pub fn clear(state: State<'_, AppState>) -> Vec<Item> {
    let mut q = state.queue.lock().unwrap_or_else(PoisonError::into_inner);
    q.clear();
    q.items().to_vec()
}

#[derive(Serialize)]
pub struct FaceBox {
    number: usize,
    bbox: [f32; 4],
    on: bool,
    /// Too small to cloak: it stays as it is whatever the switch says.
    too_small: bool,
}

#[derive(Serialize)]
pub struct FacesView {
    /// The photo at screen size, as a JPEG data URL.
    image: String,
    /// The photo's own size, which the boxes are in.
    width: u32,
    height: u32,
    faces: Vec<FaceBox>,
    item: Item,
}

/// Finds a photo's faces so the user can switch them on and off before Start.
#[tauri::command]
pub async fn faces(app: AppHandle, id: u32) -> Result<FacesView, String> {
    let state = app.state::<AppState>();
    let path = state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .path(id)
        .ok_or("That photo is no longer in the list.")?;
    let resources = app.path().resource_dir().ok();
    let (image, width, height, found) = tauri::async_runtime::spawn_blocking(move || {
        let store = facecloak::models::ModelStore::locate(resources.as_deref())?;
        let photo = facecloak::io::load_rgb(&path)?;
        let faces = facecloak::detect::Detector::new(&store)?.detect(&photo)?;
        let image = data_url(&facecloak::preview::screen(&photo, 1200));
        Ok::<_, facecloak::Error>((image, photo.width(), photo.height(), faces))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let item = state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .set_found(id, found.len())
        .ok_or("That photo is no longer in the list.")?;
    let min = Options::default().min_face_px;
    let faces = found
        .iter()
        .enumerate()
        .map(|(i, f)| FaceBox {
            number: i + 1,
            bbox: f.bbox,
            on: !item.faces_off.contains(&(i + 1)),
            too_small: batch::face_size(f) < min,
        })
        .collect();
    Ok(FacesView {
        image,
        width,
        height,
        faces,
        item,
    })
}

/// Leaves a face out of the next run, or puts it back.
#[tauri::command]
pub fn set_face(
    state: State<'_, AppState>,
    id: u32,
    number: usize,
    on: bool,
) -> Result<Item, String> {
    state
        .queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .set_face(id, number, on)
        .ok_or_else(|| "That photo is no longer in the list.".into())
}

#[derive(Serialize)]
pub struct BeforeAfter {
    before: String,
    after: String,
    /// The face's SSIMULACRA2 at feed size.
    quality: f64,
}

/// The first face of a finished photo, before and after, at 100 %.
#[tauri::command]
pub async fn before_after(state: State<'_, AppState>, id: u32) -> Result<BeforeAfter, String> {
    let (input, output, bbox) = {
        let q = state.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (item, report) = q.report(id).ok_or("That photo has not been cloaked yet.")?;
        let face = report
            .faces
            .first()
            .ok_or("That photo has no cloaked face.")?;
        (item.path.clone(), report.output.clone(), face.bbox)
    };
    let (before, after, quality) = tauri::async_runtime::spawn_blocking(move || {
        facecloak::preview::face_pair(&input, &output, &bbox)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(BeforeAfter {
        before: data_url(&before),
        after: data_url(&after),
        quality,
    })
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
            let q = state.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let (_, report) = q.report(id).ok_or("That photo has not been cloaked yet.")?;
            report.output.parent().map(PathBuf::from).ok_or("The output has no folder.")?
        }
        None => state.settings.lock().unwrap_or_else(PoisonError::into_inner).out_dir.clone().ok_or(
            "Cloaked photos go into a \"cloaked\" folder beside each original; open one from a finished photo.",
        )?,
    };
    app.opener()
        .open_path(folder.to_string_lossy(), None::<&str>)
        .map_err(|e| e.to_string())
}
