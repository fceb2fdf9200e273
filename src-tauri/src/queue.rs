//! The queue of photos the user chose. Only paths the user dropped or picked ever enter it, and
//! the page refers to photos by id alone, so no command can be pointed at an arbitrary file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use facecloak::{Event, FaceChoice, FileReport};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(rename_all = "lowercase")]
pub enum Status {
    Waiting,
    Working,
    Done,
    /// Left as it was though it may show someone: no face found, or faces too small to cloak.
    #[serde(rename = "not_protected")]
    #[ts(rename = "not_protected")]
    NotProtected,
    Skipped,
    Failed,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct Item {
    pub id: u32,
    pub name: String,
    #[serde(serialize_with = "facecloak::serialize_path")]
    pub path: PathBuf,
    /// A small JPEG as a data URL.
    pub thumbnail: Option<String>,
    pub status: Status,
    /// The reason for a skip or failure, or a summary when done.
    pub detail: Option<String>,
    pub faces: Option<usize>,
    /// The least-hidden face's SSIMULACRA2 at feed size (people look at faces, not photos).
    pub face_quality: Option<f64>,
    /// That score in the core's words (invisible, slight, visible).
    pub face_rating: Option<&'static str>,
    /// The least-protected face's verdict from the core, short enough for a row: would a clean
    /// photo still find it in a small gallery and among a scraper's billions (the evaluation's
    /// shares for this strength). The before/after view has the full words.
    pub protection: Option<String>,
    /// Faces found but too small to cloak, so not protected.
    pub too_small: usize,
    /// Faces (numbered from 1, as the detector orders them) the user switched off.
    pub faces_off: Vec<usize>,
    pub seconds: Option<f64>,
    /// While the photo is being cloaked: its faces done so far, of those it will cloak.
    pub cloaked_faces: Option<FaceCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct FaceCount {
    pub done: usize,
    pub of: usize,
}

/// The run's progress in the core's units (faces; `facecloak::Progress`), for the time left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct RunProgress {
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

/// What the page receives as a run goes: the photo that changed, and the run's progress.
#[derive(Debug, Clone, Serialize, TS)]
pub struct Update {
    pub item: Item,
    pub run: RunProgress,
}

#[derive(Default)]
pub struct Queue {
    items: Vec<Item>,
    next: u32,
    reports: HashMap<u32, FileReport>,
    /// Finished photos sent back to be cloaked again, with the output they were saved as, which
    /// the next run replaces.
    redo: HashMap<PathBuf, PathBuf>,
}

pub fn data_url(jpeg: &[u8]) -> String {
    format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(jpeg)
    )
}

impl Queue {
    /// Adds what the user dropped or picked: folders are expanded, duplicates and earlier
    /// outputs ignored. Returns the new items and the paths that could not be used, with why.
    pub fn add(&mut self, paths: &[PathBuf]) -> (Vec<Item>, Vec<(PathBuf, String)>) {
        let (photos, problems) = facecloak::collect_inputs(paths, true);
        let known: Vec<PathBuf> = self.items.iter().map(|i| canonical(&i.path)).collect();
        let mut added = Vec::new();
        for path in photos {
            if known.contains(&canonical(&path)) {
                continue;
            }
            self.next += 1;
            let item = Item {
                id: self.next,
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                thumbnail: None,
                path,
                status: Status::Waiting,
                detail: None,
                faces: None,
                face_quality: None,
                face_rating: None,
                protection: None,
                too_small: 0,
                faces_off: Vec::new(),
                seconds: None,
                cloaked_faces: None,
            };
            self.items.push(item.clone());
            added.push(item);
        }
        (added, problems)
    }

    /// Stores a thumbnail made outside the lock; returns the updated item.
    pub fn set_thumbnail(&mut self, id: u32, thumbnail: String) -> Option<Item> {
        let item = self.items.iter_mut().find(|i| i.id == id)?;
        item.thumbnail = Some(thumbnail);
        Some(item.clone())
    }

    /// Records the faces found when the user looked at a photo's faces.
    pub fn set_found(&mut self, id: u32, faces: usize) -> Option<Item> {
        let item = self.items.iter_mut().find(|i| i.id == id)?;
        item.faces = Some(faces);
        item.faces_off.retain(|&n| n <= faces);
        Some(item.clone())
    }

    /// Switches face `number` of a photo on or off for the next run.
    pub fn set_face(&mut self, id: u32, number: usize, on: bool) -> Option<Item> {
        let item = self.items.iter_mut().find(|i| i.id == id)?;
        item.faces_off.retain(|&n| n != number);
        if !on {
            item.faces_off.push(number);
            item.faces_off.sort_unstable();
        }
        Some(item.clone())
    }

    /// The photos with faces switched off, and the faces left on in each.
    pub fn choices(&self) -> HashMap<PathBuf, FaceChoice> {
        self.items
            .iter()
            .filter(|i| !i.faces_off.is_empty())
            .map(|i| {
                let found = i.faces.unwrap_or(0);
                let on = (1..=found).filter(|n| !i.faces_off.contains(n)).collect();
                (i.path.clone(), FaceChoice::Numbers(on))
            })
            .collect()
    }

    pub fn path(&self, id: u32) -> Option<PathBuf> {
        Some(self.items.iter().find(|i| i.id == id)?.path.clone())
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Photos still to do (waiting, or failed and worth another try); with `only`, that photo
    /// alone if it is still to do.
    pub fn pending(&self, only: Option<u32>) -> Vec<PathBuf> {
        self.items
            .iter()
            .filter(|i| only.is_none_or(|id| i.id == id))
            .filter(|i| matches!(i.status, Status::Waiting | Status::Failed))
            .map(|i| i.path.clone())
            .collect()
    }

    /// Sends a finished or failed photo back to waiting (retry, or re-cloak after a change of
    /// faces); `None` when it is not in the list or is being worked on.
    pub fn requeue(&mut self, id: u32) -> Option<Item> {
        let item = self
            .items
            .iter_mut()
            .find(|i| i.id == id && i.status != Status::Working)?;
        if let Some(report) = self.reports.remove(&id) {
            self.redo.insert(item.path.clone(), report.output);
        }
        item.status = Status::Waiting;
        item.detail = None;
        item.face_quality = None;
        item.face_rating = None;
        item.protection = None;
        item.seconds = None;
        Some(item.clone())
    }

    /// Photos whose earlier output the next run replaces, with that output.
    pub fn redo(&self) -> HashMap<PathBuf, PathBuf> {
        self.redo.clone()
    }

    /// Takes one photo off the list, unless it is being worked on; whether it was removed.
    pub fn remove(&mut self, id: u32) -> bool {
        let before = self.items.len();
        self.items
            .retain(|i| i.id != id || i.status == Status::Working);
        self.reports.remove(&id);
        self.forget_redo();
        self.items.len() < before
    }

    /// A photo taken off the list and added again later starts afresh: it never replaces the
    /// output of its earlier visit.
    fn forget_redo(&mut self) {
        let items = &self.items;
        self.redo.retain(|p, _| items.iter().any(|i| i.path == *p));
    }

    /// Drops every photo that is not being worked on.
    pub fn clear(&mut self) {
        self.items.retain(|i| i.status == Status::Working);
        self.forget_redo();
    }

    pub fn report(&self, id: u32) -> Option<(&Item, &FileReport)> {
        let item = self.items.iter().find(|i| i.id == id)?;
        Some((item, self.reports.get(&id)?))
    }

    /// Applies a batch event; returns the item it changed.
    pub fn apply(&mut self, event: &Event) -> Option<Item> {
        let input = event.input();
        let item = self.items.iter_mut().find(|i| i.path == *input)?;
        match event {
            Event::Started { .. } => item.status = Status::Working,
            Event::FacesFound { faces, .. } => item.faces = Some(*faces),
            Event::FaceCloaked { done, of, .. } => {
                item.cloaked_faces = Some(FaceCount {
                    done: *done,
                    of: *of,
                })
            }
            Event::NotProtected(n) => {
                item.status = Status::NotProtected;
                item.too_small = n.too_small.len();
                item.detail = Some(n.reason.clone());
            }
            Event::Skipped { reason, .. } => {
                item.status = Status::Skipped;
                item.detail = Some(reason.clone());
            }
            Event::Failed { error, .. } => {
                item.status = Status::Failed;
                item.detail = Some(error.clone());
            }
            Event::Done(r) => {
                item.status = Status::Done;
                // Faces left out are not in the report, yet they keep their numbers.
                let reported = r.faces.len() + r.too_small.len() + item.faces_off.len();
                item.faces = Some(item.faces.unwrap_or(0).max(reported));
                self.redo.remove(&item.path);
                item.too_small = r.too_small.len();
                let shown = r.most_visible_face();
                item.face_quality = shown.map(|f| f.quality.display);
                item.face_rating = shown.map(|f| f.rating);
                item.protection = r.least_protected_face().map(|f| f.verdict.clone());
                item.seconds = Some(r.seconds);
                item.detail = Some(format!("saved as {}", r.output.display()));
                self.reports.insert(item.id, r.clone());
            }
        }
        if item.status != Status::Working {
            item.cloaked_faces = None;
        }
        Some(item.clone())
    }

    /// Photos that were being worked on when a run stopped go back to waiting.
    pub fn settle(&mut self) {
        for i in &mut self.items {
            if i.status == Status::Working {
                i.status = Status::Waiting;
                i.cloaked_faces = None;
            }
        }
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/obama.jpg")
    }

    #[test]
    fn adding_expands_folders_and_ignores_duplicates_and_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("me.jpg");
        std::fs::copy(fixture(), &photo).unwrap();
        std::fs::create_dir(dir.path().join("cloaked")).unwrap();
        std::fs::copy(fixture(), dir.path().join("cloaked/me.cloaked.jpg")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
        let mut q = Queue::default();
        let (added, problems) = q.add(&[dir.path().to_path_buf()]);
        assert_eq!(added.len(), 1);
        assert!(problems.is_empty());
        assert!(
            added[0].thumbnail.is_none(),
            "thumbnails are made after the rows appear"
        );
        let thumb = data_url(&facecloak::preview::thumbnail(&photo, 96).unwrap());
        assert!(thumb.starts_with("data:image/jpeg;base64,"));
        let updated = q.set_thumbnail(added[0].id, thumb.clone()).unwrap();
        assert_eq!(updated.thumbnail, Some(thumb));
        let (again, _) = q.add(&[photo.clone(), dir.path().to_path_buf()]);
        assert!(again.is_empty());
        assert_eq!(q.pending(None), vec![photo]);
    }

    /// The rows the window is sent carry a name that is not UTF-8 instead of failing to serialise.
    #[cfg(unix)]
    #[test]
    fn rows_with_names_that_are_not_utf8_reach_the_window() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9.jpg"));
        std::fs::copy(fixture(), &photo).unwrap();
        let mut q = Queue::default();
        let (added, problems) = q.add(std::slice::from_ref(&photo));
        assert!(problems.is_empty());
        let row = serde_json::to_value(&added[0]).expect("a row serialises");
        assert_eq!(row["name"], "caf\u{fffd}.jpg");
        assert!(
            row["path"]["raw_hex"]
                .as_str()
                .unwrap()
                .ends_with("636166e92e6a7067")
        );
        let failed = q
            .apply(&Event::Failed {
                input: photo.clone(),
                error: "disk full".into(),
            })
            .unwrap();
        assert!(serde_json::to_string(&failed).is_ok());
    }

    #[test]
    fn events_move_items_through_their_states() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("me.jpg");
        std::fs::copy(fixture(), &photo).unwrap();
        let mut q = Queue::default();
        q.add(std::slice::from_ref(&photo));
        let started = q
            .apply(&Event::Started {
                input: photo.clone(),
            })
            .unwrap();
        assert_eq!(started.status, Status::Working);
        q.settle();
        assert_eq!(q.items()[0].status, Status::Waiting);
        let failed = q
            .apply(&Event::Failed {
                input: photo.clone(),
                error: "disk full".into(),
            })
            .unwrap();
        assert_eq!(
            (failed.status, failed.detail.as_deref()),
            (Status::Failed, Some("disk full"))
        );
        assert_eq!(q.pending(None).len(), 1);
        q.clear();
        assert!(q.items().is_empty());
    }

    #[test]
    fn faces_switched_off_become_the_photo_s_choice_for_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("group.jpg");
        std::fs::copy(fixture(), &photo).unwrap();
        let mut q = Queue::default();
        let id = q.add(std::slice::from_ref(&photo)).0[0].id;
        assert!(q.choices().is_empty(), "every face is cloaked by default");
        q.set_found(id, 3).unwrap();
        q.set_face(id, 2, false).unwrap();
        let item = q.set_face(id, 3, false).unwrap();
        assert_eq!(item.faces_off, vec![2, 3]);
        assert_eq!(q.choices()[&photo], FaceChoice::Numbers(vec![1]));
        q.set_face(id, 3, true).unwrap();
        assert_eq!(q.choices()[&photo], FaceChoice::Numbers(vec![1, 3]));
        q.set_face(id, 1, false).unwrap();
        q.set_face(id, 3, false).unwrap();
        assert_eq!(q.choices()[&photo], FaceChoice::Numbers(vec![]));
        q.set_face(id, 1, true).unwrap();
        q.set_face(id, 2, true).unwrap();
        q.set_face(id, 3, true).unwrap();
        assert!(q.choices().is_empty());
    }

    #[test]
    fn a_row_is_removed_unless_it_is_being_worked_on() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.jpg"), dir.path().join("b.jpg"));
        std::fs::copy(fixture(), &a).unwrap();
        std::fs::copy(fixture(), &b).unwrap();
        let mut q = Queue::default();
        let ids: Vec<u32> = q
            .add(&[a.clone(), b.clone()])
            .0
            .iter()
            .map(|i| i.id)
            .collect();
        q.apply(&Event::Started { input: b.clone() }).unwrap();
        assert!(q.remove(ids[0]));
        assert!(!q.remove(ids[1]), "a photo being cloaked stays");
        assert!(!q.remove(999));
        assert_eq!(q.pending(None), Vec::<PathBuf>::new());
        assert_eq!(q.items().len(), 1);
    }

    #[test]
    fn a_finished_photo_sent_back_replaces_its_output_and_keeps_its_face_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let photo = dir.path().join("pair.jpg");
        std::fs::copy(fixture(), &photo).unwrap();
        let mut q = Queue::default();
        let id = q.add(std::slice::from_ref(&photo)).0[0].id;
        q.set_found(id, 2).unwrap();
        q.set_face(id, 1, false).unwrap();
        let done = |q: &mut Queue| {
            q.apply(&Event::Done(FileReport {
                input: photo.clone(),
                output: dir.path().join("cloaked/pair.cloaked.jpg"),
                faces: Vec::new(),
                converted_from: None,
                too_small: Vec::new(),
                too_small_numbers: Vec::new(),
                ssim: 1.0,
                psnr: 99.0,
                seconds: 1.0,
            }))
            .unwrap()
        };
        // Face 1 left out and face 2 cloaked: the report holds one face, the photo still two.
        q.apply(&Event::FacesFound {
            input: photo.clone(),
            faces: 2,
        });
        assert_eq!(done(&mut q).faces, Some(2));
        assert!(q.redo().is_empty(), "a first run replaces nothing");
        assert_eq!(q.choices()[&photo], FaceChoice::Numbers(vec![2]));

        let again = q.requeue(id).unwrap();
        assert_eq!((again.status, again.detail), (Status::Waiting, None));
        assert!(q.report(id).is_none());
        let output = dir.path().join("cloaked/pair.cloaked.jpg");
        assert_eq!(q.redo(), HashMap::from([(photo.clone(), output)]));
        assert_eq!(q.pending(None), vec![photo.clone()]);
        assert_eq!(q.pending(Some(id + 1)), Vec::<PathBuf>::new());
        done(&mut q);
        assert!(q.redo().is_empty(), "replaced once, then protected again");
        q.requeue(id).unwrap();
        q.remove(id);
        assert!(
            q.redo().is_empty(),
            "a photo taken off the list is forgotten"
        );
        let id = q.add(std::slice::from_ref(&photo)).0[0].id;

        q.apply(&Event::Started {
            input: photo.clone(),
        });
        assert!(q.requeue(id).is_none(), "not while it is being cloaked");
    }
}
