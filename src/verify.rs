//! The local check after cloaking: does each recogniser installed here (all of them surrogates the
//! shipped cloak is optimised against; the evaluation-only judge is left out) still match the
//! cloaked face to the original? A cheap stand-in for "a clean photo of you still finds this one", shown to users
//! per face in plain words; the evaluation measures the real thing against a gallery.

use image::RgbImage;
use ndarray::Axis;
use serde::Serialize;

use crate::Result;
use crate::align::{face_transform, warp_face};
use crate::detect::Face;
use crate::models::{ModelStore, Role};
use crate::recognise::{Recogniser, cosine};

/// One recogniser's verdict on one face.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCheck {
    pub model: &'static str,
    pub role: Role,
    /// Cosine similarity of the cloaked face's embedding to the original's.
    pub similarity: f32,
    /// The similarity at which the model counts two faces as one person.
    pub threshold: f32,
    pub still_matches: bool,
}

/// Sessions of every recogniser whose model is installed (the larger judge is optional).
pub struct Verifier {
    recognisers: Vec<Recogniser>,
}

impl Verifier {
    pub fn new(store: &ModelStore) -> Result<Self> {
        let recognisers = store
            .recognisers()
            .into_iter()
            .filter(|info| !info.evaluation_only && Recogniser::installed(store, info))
            .map(|info| Recogniser::new(store, info))
            .collect::<Result<_>>()?;
        Ok(Self { recognisers })
    }

    /// Each model's verdict on `face`, aligned the same way in both photos (so only the pixels
    /// differ).
    pub fn check(
        &mut self,
        original: &RgbImage,
        cloaked: &RgbImage,
        face: &Face,
    ) -> Result<Vec<ModelCheck>> {
        let t = face_transform(&face.five);
        let a = warp_face(original, &t).insert_axis(Axis(0));
        let b = warp_face(cloaked, &t).insert_axis(Axis(0));
        let mut checks = Vec::with_capacity(self.recognisers.len());
        for r in &mut self.recognisers {
            let (ea, eb) = (r.embed(a.view())?, r.embed(b.view())?);
            let similarity = cosine(&ea.row(0).to_vec(), &eb.row(0).to_vec());
            let threshold = r.info.match_threshold.unwrap_or(0.5);
            checks.push(ModelCheck {
                model: r.info.name,
                role: r.info.role,
                similarity,
                threshold,
                still_matches: similarity >= threshold,
            });
        }
        Ok(checks)
    }
}

/// The check in plain words: "not matched by 1 of 4 local models".
pub fn protection_words(checks: &[ModelCheck]) -> String {
    let fooled = checks.iter().filter(|c| !c.still_matches).count();
    match (fooled, checks.len()) {
        (0, n) => format!("still matched by all {n} local models"),
        (k, n) if k == n => format!("not matched by any of the {n} local models"),
        (k, n) => format!("not matched by {k} of {n} local models"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(still_matches: bool) -> ModelCheck {
        ModelCheck {
            model: "m",
            role: Role::Judge,
            similarity: 0.0,
            threshold: 0.3,
            still_matches,
        }
    }

    #[test]
    fn the_verdict_reads_as_words() {
        assert_eq!(
            protection_words(&[check(true), check(true)]),
            "still matched by all 2 local models"
        );
        assert_eq!(
            protection_words(&[check(false), check(true), check(true)]),
            "not matched by 1 of 3 local models"
        );
        assert_eq!(
            protection_words(&[check(false), check(false)]),
            "not matched by any of the 2 local models"
        );
    }
}
