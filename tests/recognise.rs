//! Every recogniser, run through FaceCloak's own detection and alignment, tells people apart on
//! real photos. This catches a broken conversion, normalisation or alignment, which would leave the
//! cloak optimising against noise.

mod common;

use common::{aligned_face, batch, shared_faces, store};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::recognisers;
use facecloak::internals::recognise::{Recogniser, pair_scores};

const IDENTITIES: usize = 12;
const PHOTOS: usize = 4;

#[test]
fn recognisers_separate_identities_on_shared_faces() {
    let Some(dir) = shared_faces() else {
        return;
    };
    let store = store();
    let mut det = Detector::new(&store).unwrap();
    let mut people: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && std::fs::read_dir(p)
                    .map(|r| r.count() >= PHOTOS)
                    .unwrap_or(false)
        })
        .collect();
    people.sort();
    let mut faces = Vec::new();
    let mut labels = Vec::new();
    for (id, person) in people.iter().take(IDENTITIES).enumerate() {
        for n in 1..=PHOTOS {
            faces.push(aligned_face(&mut det, &person.join(format!("{n}.jpg"))));
            labels.push(id);
        }
    }
    let faces = batch(&faces);
    for info in recognisers() {
        let emb = Recogniser::new(&store, info)
            .unwrap()
            .embed(faces.view())
            .unwrap();
        let (same, diff) = pair_scores(&emb, &labels);
        // AUC: how often a same-person pair scores above a different-person pair.
        let wins: usize = same
            .iter()
            .map(|s| diff.iter().filter(|d| s > d).count())
            .sum();
        let auc = wins as f64 / (same.len() * diff.len()) as f64;
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
        eprintln!(
            "{}: AUC {auc:.3}, same {:.3}, different {:.3}",
            info.name,
            mean(&same),
            mean(&diff)
        );
        assert!(
            auc > 0.9,
            "{}: AUC {auc:.3} — the model cannot tell these people apart",
            info.name
        );
    }
}
