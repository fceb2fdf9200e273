//! The views of one photo's faces: the picker before Start, and before/after once cloaked. Both
//! find the faces again on the original (a fraction of a second) rather than keeping every
//! photo's detections in memory for a 2000-photo queue.

use std::path::PathBuf;
use std::sync::PoisonError;

use facecloak::ModelStore;
use facecloak::{Detector, Face};
use facecloak::{FaceReport, Options};
use serde::Serialize;
use tauri::{AppHandle, Manager, State};

use crate::AppState;
use crate::queue::{Item, data_url};

/// Long side of the whole photo as the views show it.
const SCREEN: u32 = 1600;

#[derive(Serialize)]
pub struct FaceBox {
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

#[derive(Serialize)]
pub struct FacesView {
    /// The photo at screen size, as a JPEG data URL.
    image: String,
    /// The cloaked photo at the same size, in before/after.
    cloaked: Option<String>,
    /// The photo's own size, which the boxes are in.
    width: u32,
    height: u32,
    faces: Vec<FaceBox>,
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
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
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
        let q = state.queue.lock().unwrap_or_else(PoisonError::into_inner);
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
    let (image, after, width, height, found) = tauri::async_runtime::spawn_blocking(move || {
        let store = ModelStore::locate(resources.as_deref())?;
        let photo = facecloak::load_rgb(&input)?;
        let found = Detector::new(&store)?.detect(&photo)?;
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
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
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
fn boxes(found: &[Face], off: &[usize], reports: &[FaceReport]) -> Vec<FaceBox> {
    let min = Options::default().min_face_px;
    found
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let report = reports.iter().find(|r| overlap(&r.bbox, &f.bbox) > 0.5);
            FaceBox {
                number: i + 1,
                bbox: f.bbox,
                on: !off.contains(&(i + 1)),
                too_small: facecloak::face_size(f) < min,
                quality: report.map(|r| r.quality.display),
                rating: report.map(|r| r.rating),
                protection: report.map(|r| r.protection.clone()),
            }
        })
        .collect()
}

/// Intersection over union of two boxes.
fn overlap(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let area = |r: &[f32; 4]| (r[2] - r[0]) * (r[3] - r[1]);
    let inter = w * h;
    inter / (area(a) + area(b) - inter).max(f32::EPSILON)
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
        .ok_or_else(gone)
}

#[derive(Serialize)]
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
        let q = state.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (item, report) = q.report(id).ok_or("That photo has not been cloaked yet.")?;
        (item.path.clone(), report.output.clone())
    };
    let (before, after, quality) = tauri::async_runtime::spawn_blocking(move || {
        facecloak::preview::face_pair(&input, &output, &bbox)
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
    use super::overlap;

    #[test]
    fn boxes_of_the_same_face_overlap_and_neighbours_do_not() {
        let a = [100.0, 100.0, 200.0, 220.0];
        assert!((overlap(&a, &a) - 1.0).abs() < 1e-6);
        assert!(overlap(&a, &[102.0, 98.0, 203.0, 221.0]) > 0.9);
        assert_eq!(overlap(&a, &[210.0, 100.0, 300.0, 220.0]), 0.0);
    }
}
