//! A small run of the evaluation on the tuning half: the strongest mode must move clean photos
//! away from their cloaked ones for every judge no cloak is made with and protect at least as
//! many people as no cloak, while keeping every face at its visibility floor. A regression in the optimiser or
//! the harness fails here.

mod common;

use common::shared_faces;
use facecloak::eval::{EvalOptions, Half, Purifier, Stage, Variant, own_distance, rank1, run};
use facecloak::internals::cloak::Mode;
use facecloak::internals::models::{judges, recognisers};

#[test]
fn high_mode_moves_faces_away_for_every_held_out_judge() {
    let Some(dataset) = shared_faces() else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let opts = EvalOptions {
        dataset,
        half: Half::Tune,
        variants: vec![Variant::mode(Mode::High)],
        identities: Some(4),
        photos: Some(3),
        upscales: vec![1],
        purifiers: vec![Purifier::None],
        hold_out: false,
        visibility_photos: Vec::new(),
        cache: cache.path().to_path_buf(),
        seed: 0,
        added: None,
    };
    let report = run(&opts, |line| eprintln!("{line}")).unwrap();
    assert_eq!(report.protected_identities, 4);
    for judge in judges() {
        let cloak = own_distance(&report, "high", judge.name).unwrap();
        let clean = own_distance(&report, "unprotected", judge.name).unwrap();
        eprintln!(
            "{} own distance: clean {clean:.3}, cloak {cloak:.3}",
            judge.name
        );
        assert!(
            cloak > clean + 0.02,
            "{}: cloak {cloak:.3} does not move faces from clean {clean:.3}",
            judge.name
        );
        let base = report.unprotected[0]
            .1
            .iter()
            .find(|j| j.judge == judge.name)
            .unwrap()
            .protection
            .rank1;
        let r = rank1(&report, "high", 1, judge.name, Purifier::None).unwrap();
        assert!(
            r >= base,
            "{}: rank-1 {r} under unprotected {base}",
            judge.name
        );
    }
    // Each stage from the optimiser's crop to the posted photo is judged, by every recogniser,
    // and for the held-out judge the cloak shows at every stage.
    let pipeline = &report.results[0].pipeline;
    assert_eq!(pipeline.len(), 3 * recognisers().len());
    for stage in Stage::ALL {
        for judge in judges() {
            let cell = pipeline
                .iter()
                .find(|c| c.stage == stage && c.judge == judge.name)
                .unwrap();
            assert!(cell.own_cosine < 0.98, "{cell:?}");
        }
    }
    let floor = Mode::High.params().min_quality;
    let v = &report.results[0].visibility;
    assert!(
        v.min_display >= floor - 0.5,
        "a face at {:.1} under the floor {floor}",
        v.min_display
    );
}

/// The published report is a merge of several runs; merging it with itself must add nothing, so
/// a variant two runs both measured (a mode's whole pool, say) is counted once.
#[test]
fn merging_a_report_with_itself_keeps_each_run_once() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/evaluation.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let report: facecloak::eval::EvalReport = serde_json::from_str(&text).unwrap();
    assert!(!report.results.is_empty());
    let merged = facecloak::eval::merge(vec![report.clone(), report.clone()]).unwrap();
    assert_eq!(merged.results.len(), report.results.len());
    assert_eq!(merged.photo_faces.len(), report.photo_faces.len());
}
