//! FaceCloak's desktop window: a thin shell over the `facecloak` core. Heavy work runs off the
//! main thread (async command → blocking task → the core's rayon batch); progress reaches the page
//! through a channel, a few events per photo; a batch that ends while the window is in the
//! background says so in a desktop notification.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod bindings;
mod commands;
mod faces;
mod queue;
mod settings;
mod state;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tauri::{DragDropEvent, Emitter, Manager, WindowEvent};

use crate::queue::Queue;
pub use crate::state::AppState;
use crate::state::{EngineSlot, Locked};

/// What the user dropped, picked or opened the app with goes through here, and nowhere else.
pub fn add_user_paths(app: &tauri::AppHandle, paths: &[PathBuf]) -> commands::Added {
    let state = app.state::<AppState>();
    let (added, problems) = state.queue.locked().add(paths);
    let result = commands::Added {
        items: added,
        problems: problems
            .into_iter()
            .map(|(p, why)| format!("{}: {why}", p.display()))
            .collect(),
    };
    // Rows appear at once; the page asks for thumbnails of the rows it shows, so a 2000-photo
    // drop costs nothing until scrolled to.
    let _ = app.emit("queue-added", &result);
    result
}

fn main() {
    facecloak::tune_allocator();
    let settings_path = settings::path();
    let (settings, notice) = settings::load(&settings_path);
    let (width, height) = settings.window;
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState {
            queue: Mutex::new(Queue::default()),
            settings: Mutex::new(settings),
            settings_path,
            notice: Mutex::new(notice),
            stop: Arc::new(AtomicBool::new(false)),
            running: AtomicBool::new(false),
            engine: EngineSlot::default(),
        })
        .setup(move |app| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.set_size(tauri::LogicalSize::new(width.max(720), height.max(480)));
            }
            // Photos given on the command line ("Open with FaceCloak") are treated as dropped.
            let opened: Vec<PathBuf> = std::env::args_os()
                .skip(1)
                .map(PathBuf::from)
                .filter(|p| p.exists())
                .collect();
            if !opened.is_empty() {
                let handle = app.handle().clone();
                std::thread::spawn(move || add_user_paths(&handle, &opened));
            }
            Ok(())
        })
        .on_window_event(|window, event| match event {
            WindowEvent::DragDrop(DragDropEvent::Drop { paths, .. }) => {
                let (handle, paths) = (window.app_handle().clone(), paths.clone());
                // Thumbnails take a moment per photo: never on the event loop.
                std::thread::spawn(move || add_user_paths(&handle, &paths));
            }
            WindowEvent::Resized(size) => {
                if let Ok(scale) = window.scale_factor() {
                    let logical = size.to_logical::<u32>(scale);
                    let state = window.state::<AppState>();
                    state.settings.locked().window = (logical.width, logical.height);
                }
            }
            WindowEvent::CloseRequested { .. } => {
                let state = window.state::<AppState>();
                state.stop.store(true, Ordering::SeqCst);
                let s = state.settings.locked().clone();
                let _ = settings::save(&state.settings_path, &s);
            }
            _ => {}
        })
        .invoke_handler(tauri::generate_handler![
            commands::state,
            commands::pick_photos,
            commands::pick_output,
            commands::reset_output,
            commands::set_mode,
            commands::set_keep_metadata,
            commands::set_keep_heif,
            commands::add_recogniser,
            commands::remove_recogniser,
            commands::thumbnail,
            commands::requeue,
            faces::face_pair,
            commands::start,
            commands::cancel,
            commands::clear,
            commands::remove,
            faces::before_after,
            faces::faces,
            faces::set_face,
            commands::open_output,
        ])
        .run(tauri::generate_context!())
        .expect("FaceCloak could not start its window");
}
