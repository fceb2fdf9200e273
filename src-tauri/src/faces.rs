//! The views of one photo's faces: the picker before Start, and before/after once cloaked. Both
//! find the faces again on the original with the app's one detector (a fraction of a second)
//! rather than keeping every photo's detections in memory for a 2000-photo queue.

use std::path::PathBuf;

use facecloak::Face;
use facecloak::{FaceReport, Options};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};
use ts_rs::TS;

use crate::AppState;
use crate::queue::{Item, data_url};
use crate::state::Locked;

/// Long side of the whole photo as the views show it.
const SCREEN: u32 = 1600;

/// A face as the picker draws it: its number, box and switch, and once cloaked its scores.
#[derive(Serialize, TS)]
pub struct PickerFace {
    number: usize,
    bbox: [f32; 4],
    on: bool,
    /// Too small to cloak: it stays as it is whatever the switch says.
    too_small: bool,
    /// For a cloaked face: its SSIMULACRA2 at feed size, that in words, and the local check.
    quality: Option<f64>,
    rating: Option<&'static str>,
    protection: Option<String>,
}

#[derive(Serialize, TS)]
pub struct FacesView {
    /// The photo at screen size, as a JPEG data URL.
    image: String,
    /// The cloaked photo at the same size, in before/after.
    cloaked: Option<String>,
    /// The photo's own size, which the boxes are in.
    width: u32,
    height: u32,
    faces: Vec<PickerFace>,
    item: Item,
}

fn gone() -> String {
    "That photo is no longer in the list.".into()
}

/// Finds a photo's faces so the user can switch them on and off before Start.
#[tauri::command]
pub async fn faces(app: AppHandle, id: u32) -> Result<FacesView, String> {
    let path = app
        .state::<AppState>()
        .queue
        .locked()
        .path(id)
        .ok_or_else(gone)?;
    view(&app, id, path, None).await
}

/// A finished photo before and after, whole and at screen size, with its faces outlined and
/// each cloaked face's quality and local check.
#[tauri::command]
pub async fn before_after(app: AppHandle, id: u32) -> Result<FacesView, String> {
    let state = app.state::<AppState>();
    let (input, cloaked) = {
        let q = state.queue.locked();
        let (item, report) = q.report(id).ok_or("That photo has not been cloaked yet.")?;
        (
            item.path.clone(),
            (report.output.clone(), report.faces.clone()),
        )
    };
    view(&app, id, input, Some(cloaked)).await
}

async fn view(
    app: &AppHandle,
    id: u32,
    input: PathBuf,
    cloaked: Option<(PathBuf, Vec<FaceReport>)>,
) -> Result<FacesView, String> {
    let resources = app.path().resource_dir().ok();
    let handle = app.clone();
    let (image, after, width, height, found) = tauri::async_runtime::spawn_blocking(move || {
        let photo = facecloak::load_rgb(&input)?;
        let found = handle
            .state::<AppState>()
            .engine
            .get(resources.as_deref())?
            .detect(&photo)?;
        let after = match cloaked {
            Some((output, reports)) => {
                let img = facecloak::load_rgb(&output)?;
                Some((data_url(&facecloak::preview::screen(&img, SCREEN)), reports))
            }
            None => None,
        };
        let image = data_url(&facecloak::preview::screen(&photo, SCREEN));
        Ok::<_, facecloak::Error>((image, after, photo.width(), photo.height(), found))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let item = app
        .state::<AppState>()
        .queue
        .locked()
        .set_found(id, found.len())
        .ok_or_else(gone)?;
    let reports = after.as_ref().map_or(&[][..], |(_, r)| r.as_slice());
    let faces = boxes(&found, &item.faces_off, reports);
    Ok(FacesView {
        image,
        cloaked: after.map(|(url, _)| url),
        width,
        height,
        faces,
        item,
    })
}

/// Each face found, numbered as the batch numbers them, with its report when it was cloaked.
fn boxes(found: &[Face], off: &[usize], reports: &[FaceReport]) -> Vec<PickerFace> {
    let options = Options::default();
    found
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let number = i + 1;
            let report = reports.iter().find(|r| r.number == number);
            PickerFace {
                number,
                bbox: f.bbox.0,
                on: !off.contains(&number),
                too_small: options.too_small(f),
                quality: report.map(|r| r.quality.display),
                rating: report.map(|r| r.rating),
                protection: report.map(|r| r.protection.clone()),
            }
        })
        .collect()
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
        .locked()
        .set_face(id, number, on)
        .ok_or_else(gone)
}

#[derive(Serialize, TS)]
pub struct FacePair {
    before: String,
    after: String,
    /// The face's SSIMULACRA2 at feed size.
    quality: f64,
}

/// One face of a finished photo, before and after, at 100 %. The box only says where to crop.
#[tauri::command]
pub async fn face_pair(
    state: State<'_, AppState>,
    id: u32,
    bbox: [f32; 4],
) -> Result<FacePair, String> {
    let (input, output) = {
        let q = state.queue.locked();
        let (item, report) = q.report(id).ok_or("That photo has not been cloaked yet.")?;
        (item.path.clone(), report.output.clone())
    };
    let (before, after, quality) = tauri::async_runtime::spawn_blocking(move || {
        facecloak::preview::face_pair(&input, &output, &facecloak::FaceBox(bbox))
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    Ok(FacePair {
        before: data_url(&before),
        after: data_url(&after),
        quality,
    })
}

#[cfg(test)]
mod tests {
    use super::{Face, boxes};

    fn face(x: f32, size: f32) -> Face {
        Face {
            bbox: facecloak::FaceBox([x, 0.0, x + size, size]),
            score: 1.0,
            five: [
                [x + 0.3 * size, 0.4 * size],
                [x + 0.7 * size, 0.4 * size],
                [x + 0.5 * size, 0.6 * size],
                [x + 0.35 * size, 0.8 * size],
                [x + 0.65 * size, 0.8 * size],
            ],
            landmarks: Vec::new(),
        }
    }

    #[test]
    fn faces_are_numbered_in_the_detector_order_with_the_core_size_rule() {
        let found = [face(0.0, 200.0), face(300.0, 20.0)];
        let view = boxes(&found, &[2], &[]);
        let numbers: Vec<usize> = view.iter().map(|b| b.number).collect();
        assert_eq!(numbers, [1, 2]);
        assert!(view[0].on && !view[1].on);
        assert!(!view[0].too_small && view[1].too_small);
        assert!(view.iter().all(|b| b.quality.is_none()));
    }
}
