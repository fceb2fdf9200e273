//! The cloaking engine end to end: real models, real photos, files on disk.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::{fixture, store};
use facecloak::internals::batch::{Event, Options, Report, cloak_batch};
use facecloak::internals::cloak::Mode;
use facecloak::internals::detect::Detector;
use facecloak::internals::models::{Role, recognisers, surrogates};
use image::metadata::Orientation;
use image::{DynamicImage, ImageFormat, RgbImage};

/// The Obama portrait at half size: the same face, cloaked in a fraction of the time.
fn small_portrait() -> RgbImage {
    let img = facecloak::internals::io::load_rgb(&fixture("obama.jpg")).unwrap();
    image::imageops::resize(
        &img,
        img.width() / 2,
        img.height() / 2,
        image::imageops::FilterType::Triangle,
    )
}

fn save_jpeg(img: &RgbImage, path: &Path, exif: Option<&[u8]>) {
    std::fs::write(path, common::jpeg_bytes(img, exif)).unwrap();
}

fn run(inputs: &[PathBuf], options: &Options) -> (Report, Vec<Event>) {
    let events = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let report = cloak_batch(inputs, options, |e| events.lock().unwrap().push(e), &stop).unwrap();
    (report, events.into_inner().unwrap())
}

fn low(out: &Path) -> Options {
    Options {
        mode: Mode::Low,
        out_dir: Some(out.to_path_buf()),
        ..Options::default()
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".tmp") || n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn mid_mode_moves_every_face_within_its_visibility_floor() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = [fixture("obama.jpg"), fixture("biden.jpg")];
    let before: Vec<Vec<u8>> = inputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let options = Options {
        out_dir: Some(tmp.path().to_path_buf()),
        ..Options::default()
    };
    let (report, _) = run(&inputs, &options);
    assert_eq!(report.done.len(), 2, "{report:?}");
    let floor = Mode::Mid.params().min_quality;
    for file in &report.done {
        assert_eq!(file.faces.len(), 1, "{}", file.input.display());
        let face = &file.faces[0];
        // Every local model judged the face, and every surrogate sees it move (the cloak is not
        // a no-op)…
        let local = recognisers().iter().filter(|r| !r.evaluation_only).count();
        assert_eq!(face.local_check.len(), local);
        for check in face
            .local_check
            .iter()
            .filter(|c| c.role == Role::Surrogate)
        {
            assert!(
                check.similarity < 0.97,
                "{}: {} similarity {}",
                file.input.display(),
                check.model,
                check.similarity
            );
        }
        // The words answer the user's question from the evaluation's shares for this mode,
        // then give the face's own local check.
        let measured = Mode::Mid.measured(false);
        let found = format!(
            "it did for {:.0} % of people",
            100.0 * (1.0 - measured.worst)
        );
        assert!(
            face.protection.contains(&found) && face.protection.ends_with("local models"),
            "{}",
            face.protection
        );
        assert!(face.verdict.contains("small gallery"), "{}", face.verdict);
        // …and the face stays at its visibility floor at feed size.
        assert!(
            face.quality.display >= floor - 0.5,
            "{}: face SSIMULACRA2 {:.1} under {floor}",
            file.input.display(),
            face.quality.display
        );
        assert!(file.ssim < 1.0, "photo SSIM {}", file.ssim);
        // The written file is a full-size JPEG of the same dimensions.
        let out = image::open(&file.output).unwrap();
        let orig = image::open(&file.input).unwrap();
        assert_eq!(out.width(), orig.width());
        assert_eq!(out.height(), orig.height());
        assert_eq!(
            image::ImageFormat::from_path(&file.output).unwrap(),
            ImageFormat::Jpeg
        );
        let size_ratio = std::fs::metadata(&file.output).unwrap().len() as f64
            / std::fs::metadata(&file.input).unwrap().len() as f64;
        assert!(size_ratio <= 2.0, "output is {size_ratio:.2}× the input");
    }
    for (p, b) in inputs.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(p).unwrap(),
            b,
            "{} was modified",
            p.display()
        );
    }
    assert!(leftovers(tmp.path()).is_empty());
}

/// A minimal little-endian EXIF block holding only an orientation tag.
fn exif_with_orientation(o: u16) -> Vec<u8> {
    let mut t = vec![
        b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0,
    ];
    t.extend_from_slice(&o.to_le_bytes());
    t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    t
}

fn inverse(o: Orientation) -> Orientation {
    match o {
        Orientation::Rotate90 => Orientation::Rotate270,
        Orientation::Rotate270 => Orientation::Rotate90,
        other => other,
    }
}

#[test]
fn every_exif_orientation_gives_an_upright_face_and_an_upright_output() {
    let tmp = tempfile::tempdir().unwrap();
    let upright = small_portrait();
    let mut det = Detector::new(&store()).unwrap();
    let mut inputs = Vec::new();
    for o in 1..=8u8 {
        let orientation = Orientation::from_exif(o).unwrap();
        let mut stored = DynamicImage::ImageRgb8(upright.clone());
        stored.apply_orientation(inverse(orientation));
        let path = tmp.path().join(format!("orientation-{o}.jpg"));
        save_jpeg(
            &stored.to_rgb8(),
            &path,
            Some(&exif_with_orientation(u16::from(o))),
        );
        let loaded = facecloak::internals::io::load_rgb(&path).unwrap();
        assert_eq!(loaded.dimensions(), upright.dimensions(), "orientation {o}");
        let faces = det.detect(&loaded).unwrap();
        assert_eq!(faces.len(), 1, "orientation {o}");
        let [le, re, nose, lm, _] = faces[0].five;
        assert!(
            le[1] < nose[1] && nose[1] < lm[1] && le[0] < re[0],
            "orientation {o}: {:?}",
            faces[0].five
        );
        inputs.push(path);
    }
    let out = tmp.path().join("out");
    let (report, _) = run(&inputs, &low(&out));
    assert_eq!(report.done.len(), 8, "{report:?}");
    for file in &report.done {
        let img = facecloak::internals::io::load_rgb(&file.output).unwrap();
        assert_eq!(
            img.dimensions(),
            upright.dimensions(),
            "{}",
            file.output.display()
        );
        let faces = det.detect(&img).unwrap();
        assert_eq!(faces.len(), 1);
        let [le, _, nose, lm, _] = faces[0].five;
        assert!(
            le[1] < nose[1] && nose[1] < lm[1],
            "{} is not upright",
            file.output.display()
        );
    }
}

#[test]
fn a_photo_without_a_face_is_reported_not_protected_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let grey = tmp.path().join("wall.png");
    RgbImage::from_pixel(320, 240, image::Rgb([120, 120, 120]))
        .save(&grey)
        .unwrap();
    let out = tmp.path().join("out");
    let (report, events) = run(std::slice::from_ref(&grey), &low(&out));
    assert!(report.done.is_empty());
    assert!(report.skipped.is_empty());
    assert_eq!(report.not_protected.len(), 1);
    assert_eq!(report.not_protected[0].reason, "no face found");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::NotProtected(n) if n.input == grey))
    );
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn the_same_seed_gives_the_same_output_and_another_seed_does_not() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = tmp.path().join("portrait.jpg");
    save_jpeg(&small_portrait(), &photo, None);
    let bytes = |dir: &str, seed: u64| {
        let out = tmp.path().join(dir);
        let (report, _) = run(std::slice::from_ref(&photo), &Options { seed, ..low(&out) });
        std::fs::read(&report.done[0].output).unwrap()
    };
    let a = bytes("a", 7);
    let b = bytes("b", 7);
    let c = bytes("c", 8);
    assert_eq!(a, b, "same seed, different output");
    assert_ne!(a, c, "different seeds, same output");
}

#[test]
fn a_stop_request_ends_the_batch_early_and_leaves_no_partial_files() {
    let tmp = tempfile::tempdir().unwrap();
    let img = small_portrait();
    let inputs: Vec<PathBuf> = (0..6)
        .map(|i| {
            let p = tmp.path().join(format!("p{i}.jpg"));
            save_jpeg(&img, &p, None);
            p
        })
        .collect();
    let out = tmp.path().join("out");
    let stop = Arc::new(AtomicBool::new(false));
    let options = Options {
        mode: Mode::High,
        out_dir: Some(out.clone()),
        jobs: 2,
        ..Options::default()
    };
    let report = cloak_batch(
        &inputs,
        &options,
        |e| {
            if matches!(e, Event::FacesFound { .. }) {
                stop.store(true, Ordering::SeqCst);
            }
        },
        &stop,
    )
    .unwrap();
    assert!(report.cancelled);
    assert!(report.done.len() < inputs.len(), "{report:?}");
    assert!(
        leftovers(&out).is_empty(),
        "partial files: {:?}",
        leftovers(&out)
    );
    for file in &report.done {
        image::open(&file.output).unwrap();
    }
}

#[test]
fn outputs_are_not_redone_or_recloaked_and_alpha_survives() {
    let tmp = tempfile::tempdir().unwrap();
    let img = small_portrait();
    let rgba = image::RgbaImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y);
        image::Rgba([p[0], p[1], p[2], (x % 256) as u8])
    });
    let photo = tmp.path().join("portrait.png");
    rgba.save(&photo).unwrap();
    let (report, _) = run(
        std::slice::from_ref(&photo),
        &Options {
            mode: Mode::Low,
            ..Options::default()
        },
    );
    let output = &report.done[0].output;
    assert_eq!(
        output,
        &tmp.path().join("cloaked").join("portrait.cloaked.png")
    );
    let written = image::open(output).unwrap().to_rgba8();
    assert!(
        written
            .pixels()
            .zip(rgba.pixels())
            .all(|(a, b)| a[3] == b[3]),
        "alpha changed"
    );
    // A second run skips the existing output; the output itself is never an input.
    let (again, _) = run(
        &[photo.clone(), output.clone()],
        &Options {
            mode: Mode::Low,
            ..Options::default()
        },
    );
    assert!(again.done.is_empty());
    assert_eq!(again.skipped.len(), 2, "{again:?}");
    for (input, reason) in &again.skipped {
        let expected = if input == output {
            "already a FaceCloak output"
        } else {
            "already cloaked"
        };
        assert!(reason.contains(expected), "{input:?}: {reason}");
    }
    let (inputs, problems) =
        facecloak::internals::batch::collect_inputs(&[tmp.path().to_path_buf()], true);
    assert_eq!(inputs, vec![photo]);
    assert!(problems.is_empty());
}

#[test]
fn metadata_is_stripped_by_default_kept_without_location_on_request_and_tagged_only_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = tmp.path().join("portrait.jpg");
    save_jpeg(&small_portrait(), &photo, Some(&exif_with_orientation(1)));
    let contains = |bytes: &[u8], needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);

    let (plain, _) = run(
        std::slice::from_ref(&photo),
        &low(&tmp.path().join("plain")),
    );
    let bytes = std::fs::read(&plain.done[0].output).unwrap();
    assert!(!contains(&bytes, b"Exif\0\0"), "EXIF not stripped");
    assert!(
        !contains(&bytes, b"FaceCloak"),
        "tagged without being asked"
    );

    let keep = Options {
        keep_metadata: true,
        tag: true,
        ..low(&tmp.path().join("keep"))
    };
    let (kept, _) = run(std::slice::from_ref(&photo), &keep);
    let bytes = std::fs::read(&kept.done[0].output).unwrap();
    assert!(
        contains(&bytes, b"Exif\0\0"),
        "EXIF dropped despite --keep-metadata"
    );
    assert!(contains(&bytes, b"FaceCloak=\"mode=low seed=0\""), "no tag");
}

#[test]
fn a_decoy_pulls_the_cloaked_face_toward_the_other_portrait() {
    use facecloak::internals::align::{TEMPLATE, face_transform, warp_face};
    use facecloak::internals::cloak::{Cloaker, combine};
    use facecloak::internals::recognise::{Recogniser, cosine};

    let store = store();
    let img = small_portrait();
    let face = Detector::new(&store)
        .unwrap()
        .detect(&img)
        .unwrap()
        .remove(0);
    // Of the two decoys Obama's own face is the most like his, so Biden's is the one chosen.
    let decoy = facecloak::internals::io::load_rgb(&store.path("decoys/biden.png")).unwrap();
    let decoy = warp_face(&decoy, &face_transform(&TEMPLATE));
    let mut cloaker = Cloaker::new(&store).unwrap();
    let never = AtomicBool::new(false);
    let likeness = |pull: f32, cloaker: &mut Cloaker| -> f32 {
        let params = facecloak::internals::cloak::Params {
            decoy: pull,
            ..Mode::Mid.params()
        };
        let result = cloaker.cloak_face(&img, &face, &params, 7, &never).unwrap();
        let out = combine(&img, vec![result]).image;
        let cloaked = warp_face(&out, &face_transform(&face.five));
        let faces = common::batch(&[cloaked, decoy.clone()]);
        let members: Vec<_> = surrogates().collect();
        members
            .iter()
            .map(|info| {
                let emb = Recogniser::new(&store, info)
                    .unwrap()
                    .embed(faces.view())
                    .unwrap();
                cosine(
                    emb.row(0).as_slice().unwrap(),
                    emb.row(1).as_slice().unwrap(),
                )
            })
            .sum::<f32>()
            / members.len() as f32
    };
    let (pushed, pulled) = (likeness(0.0, &mut cloaker), likeness(2.0, &mut cloaker));
    eprintln!("cosine to the decoy: {pulled:.3} with the pull, {pushed:.3} without");
    assert!(
        pulled > pushed + 0.1,
        "cosine to the decoy: {pulled:.3} with the pull, {pushed:.3} without"
    );
}
