//! A batch's progress counted in faces: a group photo of twenty faces is twenty times the work of
//! a portrait, so a count of photos says little about what is left. Every front shows the same
//! count (the CLI's bar and ETA, the app's rows).

use std::collections::HashMap;
use std::path::PathBuf;

use super::Event;

/// What is done and what is left, from the batch's events.
#[derive(Debug, Clone)]
pub struct Progress {
    photos: usize,
    tallies: HashMap<PathBuf, Tally>,
    photos_finished: usize,
}

/// One photo: its units of work (each face to cloak, or one when it has none) and those done.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    units: usize,
    done: usize,
    faces: Option<(usize, usize)>,
    finished: bool,
}

impl Progress {
    /// Progress of a batch of `photos` photos, none started.
    pub fn new(photos: usize) -> Self {
        Self {
            photos,
            tallies: HashMap::new(),
            photos_finished: 0,
        }
    }

    pub fn apply(&mut self, event: &Event) {
        let tally = self.tallies.entry(event.input().clone()).or_default();
        match event {
            Event::Started { .. } => tally.units = tally.units.max(1),
            Event::FacesFound { faces, .. } => tally.units = (*faces).max(1),
            Event::FaceCloaked { done, of, .. } => {
                tally.units = tally.units.max(*of);
                tally.done = tally.done.max(*done);
                tally.faces = Some((*done, *of));
            }
            Event::Done(_)
            | Event::NotProtected(_)
            | Event::Skipped { .. }
            | Event::Failed { .. } => {
                tally.units = tally.units.max(1);
                tally.done = tally.units;
                tally.faces = None;
                if !tally.finished {
                    tally.finished = true;
                    self.photos_finished += 1;
                }
            }
        }
    }

    /// Units of work done: faces cloaked, and one for each photo finished without a face.
    pub fn done(&self) -> u64 {
        self.tallies.values().map(|t| t.done as u64).sum()
    }

    /// Units of work in the whole batch: those of the photos whose faces are known, and for the
    /// others as many as those photos had on average (one each before any is known).
    pub fn total(&self) -> u64 {
        let known: Vec<&Tally> = self.tallies.values().filter(|t| t.units > 0).collect();
        let units: usize = known.iter().map(|t| t.units).sum();
        let unknown = self.photos.saturating_sub(known.len());
        let per_photo = if known.is_empty() {
            1.0
        } else {
            units as f64 / known.len() as f64
        };
        (units as f64 + unknown as f64 * per_photo).round() as u64
    }

    /// Photos with an outcome, of all the batch's.
    pub fn photos(&self) -> (usize, usize) {
        (self.photos_finished, self.photos)
    }

    /// For a photo being cloaked: faces done so far, of those it will cloak.
    pub fn faces_of(&self, input: &PathBuf) -> Option<(usize, usize)> {
        self.tallies.get(input)?.faces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> PathBuf {
        PathBuf::from(name)
    }

    #[test]
    fn a_group_photo_moves_per_face_and_the_rest_is_estimated_from_it() {
        let mut p = Progress::new(3);
        assert_eq!((p.done(), p.total()), (0, 3));
        p.apply(&Event::Started { input: path("a") });
        p.apply(&Event::FacesFound {
            input: path("a"),
            faces: 20,
        });
        // Twenty faces known, two photos of twenty faces each expected.
        assert_eq!((p.done(), p.total()), (0, 60));
        for done in 1..=5 {
            p.apply(&Event::FaceCloaked {
                input: path("a"),
                done,
                of: 20,
            });
        }
        assert_eq!(p.done(), 5);
        assert_eq!(p.faces_of(&path("a")), Some((5, 20)));
        p.apply(&Event::Failed {
            input: path("b"),
            error: "truncated".into(),
        });
        // b counted one unit, done: the estimate for c is now the mean of 20 and 1.
        assert_eq!(p.done(), 6);
        assert_eq!(p.total(), 21 + 11);
        assert_eq!(p.photos(), (1, 3));
        assert_eq!(p.faces_of(&path("b")), None);
    }
}
