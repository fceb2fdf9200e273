//! A photo's faces: every chosen face is cloaked or loudly reported as not protected, and a
//! photo's faces cloaked in parallel give the same photo as one at a time.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use common::{group, store};
use facecloak::Engine;
use facecloak::internals::batch::{Event, FaceChoice, Options, cloak_batch};
use facecloak::internals::cloak::Mode;
use facecloak::internals::detect::Detector;
use image::RgbImage;

fn run(inputs: &[PathBuf], options: &Options) -> (facecloak::internals::batch::Report, Vec<Event>) {
    let events = std::sync::Mutex::new(Vec::new());
    let report = cloak_batch(
        inputs,
        options,
        |e| events.lock().unwrap().push(e),
        &AtomicBool::new(false),
    )
    .unwrap();
    (report, events.into_inner().unwrap())
}

fn options(out: &Path, jobs: usize) -> Options {
    Options {
        mode: Mode::Low,
        out_dir: Some(out.to_path_buf()),
        jobs,
        ..Options::default()
    }
}

#[test]
fn faces_too_small_to_cloak_are_reported_not_protected_with_their_boxes() {
    let tmp = tempfile::tempdir().unwrap();
    // One face 36 px wide (eyes to mouth under 20 px), alone; then beside a 260 px face.
    let alone = group(tmp.path(), "alone.png", (900, 600), 1, (36.0, 36.0));
    let pair = group(tmp.path(), "pair.png", (2000, 700), 2, (36.0, 260.0));
    let out = tmp.path().join("out");
    let (report, events) = run(&[alone.clone(), pair.clone()], &options(&out, 0));
    assert!(report.failed.is_empty(), "{:?}", report.failed);

    assert_eq!(report.not_protected.len(), 1, "{report:#?}");
    let np = &report.not_protected[0];
    assert_eq!(np.input, alone);
    assert!(
        np.reason.contains("1 face too small to cloak"),
        "{}",
        np.reason
    );
    assert_eq!(np.too_small.len(), 1);
    assert!(
        (30.0..70.0).contains(&np.too_small[0].width()),
        "box {:?}",
        np.too_small[0]
    );
    assert!(!out.join("alone.cloaked.png").exists());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::NotProtected(n) if n.input == alone))
    );

    // The pair is cloaked, but says which face was left alone.
    assert_eq!(report.done.len(), 1);
    let done = &report.done[0];
    assert_eq!(done.faces.len(), 1);
    assert_eq!(done.too_small.len(), 1);
    assert!(!done.fully_protected());
    assert!(
        done.too_small[0].right() < done.faces[0].bbox.left(),
        "the small face is the left one"
    );
}

/// Also through one engine kept across batches, as the app keeps it: its sessions carry nothing
/// from one batch to the next.
#[test]
fn faces_cloaked_in_parallel_give_the_same_photo_as_one_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = group(tmp.path(), "four.png", (1600, 500), 4, (90.0, 130.0));
    let bytes = |run: usize, report: facecloak::Report| {
        assert_eq!(report.done.len(), 1, "run {run}: {report:#?}");
        assert_eq!(report.done[0].faces.len(), 4);
        std::fs::read(&report.done[0].output).unwrap()
    };
    let one = bytes(
        0,
        run(
            std::slice::from_ref(&photo),
            &options(&tmp.path().join("out0"), 1),
        )
        .0,
    );
    let engine = Engine::new(None, None).unwrap();
    for k in 1..=2 {
        let report = engine
            .cloak_batch(
                std::slice::from_ref(&photo),
                &options(&tmp.path().join(format!("out{k}")), 2),
                |_| {},
                &AtomicBool::new(false),
            )
            .unwrap();
        assert_eq!(
            one,
            bytes(k, report),
            "batch {k} of one engine on two workers differs from a fresh run on one"
        );
    }
    // And every face changed.
    let original = facecloak::internals::io::load_rgb(&photo).unwrap();
    let cloaked: RgbImage = image::load_from_memory(&one).unwrap().to_rgb8();
    let mut det = Detector::new(&store()).unwrap();
    for face in det.detect(&original).unwrap() {
        let [x1, y1, x2, y2] = face.bbox.0.map(|v| v as u32);
        let changed = (y1..y2)
            .flat_map(|y| (x1..x2).map(move |x| (x, y)))
            .filter(|&(x, y)| original.get_pixel(x, y) != cloaked.get_pixel(x, y))
            .count();
        assert!(
            changed > 100,
            "face at {:?} barely changed ({changed} px)",
            face.bbox
        );
    }
}

/// The app's re-cloak: after the user leaves a face out, the photo is cloaked again and its
/// earlier output replaced; without that request an existing output is never touched.
#[test]
fn a_redo_replaces_the_earlier_output_with_the_new_choice_of_faces() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = group(tmp.path(), "pair.png", (1000, 500), 2, (150.0, 150.0));
    let out = tmp.path().join("out");
    let (first, _) = run(std::slice::from_ref(&photo), &options(&out, 1));
    assert_eq!(first.done[0].faces.len(), 2, "{first:#?}");
    let output = first.done[0].output.clone();
    let before = std::fs::read(&output).unwrap();

    let mut again = options(&out, 1);
    again
        .choices
        .insert(photo.clone(), FaceChoice::Numbers(vec![1]));
    let (skipped, _) = run(std::slice::from_ref(&photo), &again);
    assert_eq!(skipped.skipped.len(), 1, "{skipped:#?}");
    assert_eq!(std::fs::read(&output).unwrap(), before);

    again.redo.insert(photo.clone(), output.clone());
    let (redone, _) = run(std::slice::from_ref(&photo), &again);
    assert_eq!(redone.done.len(), 1, "{redone:#?}");
    assert_eq!(redone.done[0].output, output);
    assert_eq!(redone.done[0].faces.len(), 1);
    assert_ne!(std::fs::read(&output).unwrap(), before);
}
