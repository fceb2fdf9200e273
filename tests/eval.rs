//! A small run of the protection evaluation: the held-out judge must be fooled more by the cloak
//! than by random noise of the same SSIM. A regression in the optimiser fails here.

mod common;

use common::shared_faces;
use facecloak::cloak::Mode;
use facecloak::eval::{EvalOptions, PostProcess, own_distance, run};
use facecloak::models::JUDGE;

#[test]
fn cloak_beats_the_noise_baseline_on_the_held_out_judge() {
    let cache = tempfile::tempdir().unwrap();
    let opts = EvalOptions {
        dataset: shared_faces(),
        modes: vec![Mode::Low],
        identities: Some(4),
        photos: Some(3),
        cache: cache.path().to_path_buf(),
        seed: 0,
    };
    let report = run(&opts, |line| eprintln!("{line}")).unwrap();
    assert_eq!(report.protected_identities, 4);
    let cloak = own_distance(&report, "low", "cloak", JUDGE.name).unwrap();
    let noise = own_distance(&report, "low", "noise", JUDGE.name).unwrap();
    let clean = own_distance(&report, "none", "unprotected", JUDGE.name).unwrap();
    eprintln!(
        "{} own distance: clean {clean:.3}, noise {noise:.3}, cloak {cloak:.3}",
        JUDGE.name
    );
    assert!(
        cloak > noise + 0.02,
        "cloak {cloak:.3} does not beat noise {noise:.3}"
    );
    let rank1 = |gallery: &str| {
        report
            .protection
            .iter()
            .find(|(m, p)| {
                m == "low"
                    && p.gallery == gallery
                    && p.judge == JUDGE.name
                    && p.post == PostProcess::None
            })
            .map(|(_, p)| p.rank1)
            .unwrap()
    };
    assert!(
        rank1("cloak") >= rank1("noise"),
        "rank-1: cloak {} < noise {}",
        rank1("cloak"),
        rank1("noise")
    );
    let q = &report.quality[0];
    assert!(q.mean_ssim > 0.95, "mean SSIM {}", q.mean_ssim);
}
