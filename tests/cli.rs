//! The `facecloak` command line: exit codes, JSON records, summaries.

mod common;

use std::path::Path;
use std::process::{Command, Output};

/// The CLI with no recogniser of the user's (their folder may hold some on a developer's
/// machine), unless a test gives one.
fn facecloak(args: &[&str]) -> Output {
    facecloak_with(
        args,
        &std::env::temp_dir().join("facecloak-tests-no-added-models"),
    )
}

fn facecloak_with(args: &[&str], added: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facecloak"))
        .args(args)
        .env("FACECLOAK_USER_MODELS", added)
        .output()
        .expect("facecloak runs")
}

/// `--json` output: one record per photo, a line each, then the batch's summary (left out here);
/// the records of faces cloaked along the way are left out too (`face_records`).
fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    let mut records = all_records(stdout);
    let summary = records.pop().expect("a summary record");
    assert_eq!(summary["event"], "summary", "{stdout}");
    records.retain(|r| r["event"] != "face_cloaked");
    records
}

fn all_records(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The last `--json` line: the summary the terminal shows, as a record.
fn json_summary(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.lines().last().expect("a summary record")).unwrap()
}

fn small_portrait(path: &Path) {
    let img = image::open(format!(
        "{}/tests/fixtures/obama.jpg",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    img.resize(455, 569, image::imageops::FilterType::Triangle)
        .to_rgb8()
        .save(path)
        .unwrap();
}

#[test]
fn cloak_writes_outputs_prints_json_records_and_check_reads_them() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = tmp.path().join("me.jpg");
    small_portrait(&photo);
    let out = facecloak(&["cloak", "--mode", "low", "--json", photo.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records = json_lines(&stdout);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["event"], "done");
    let cloaked = tmp.path().join("cloaked/me.cloaked.jpg");
    assert_eq!(records[0]["output"], cloaked.to_str().unwrap());
    let summary = json_summary(&stdout);
    assert_eq!(summary["done"], 1, "{summary}");
    assert_eq!(summary["faces"], 1, "{summary}");
    let line = summary["line"].as_str().unwrap();
    assert!(line.starts_with("1 cloaked"), "{line}");
    assert!(String::from_utf8_lossy(&out.stderr).contains(line));

    let check = facecloak(&[
        "check",
        "--json",
        photo.to_str().unwrap(),
        cloaked.to_str().unwrap(),
    ]);
    assert_eq!(check.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&check.stdout).unwrap();
    let models = report["faces"][0]["models"].as_array().unwrap();
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "mobilefacenet",
            "mobileface",
            "faceres",
            "facenet",
            "facenet-ms",
            "mobilefacenet-ms1m"
        ]
    );
    let ssim = report["ssim"].as_f64().unwrap();
    assert!(ssim > 0.9 && ssim < 1.0, "SSIM {ssim}");
}

/// A group photo's progress moves as each face is cloaked, before its record: with `--json`, a
/// `face_cloaked` line per face.
#[test]
fn json_reports_each_face_of_a_group_photo_as_it_is_cloaked() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = tmp.path().join("pair.jpg");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pair.jpg"),
        &photo,
    )
    .unwrap();
    let out = facecloak(&["cloak", "--mode", "low", "--json", photo.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let events: Vec<(String, Option<u64>, Option<u64>)> = all_records(&stdout)
        .iter()
        .map(|r| {
            (
                r["event"].as_str().unwrap().to_string(),
                r["done"].as_u64(),
                r["of"].as_u64(),
            )
        })
        .collect();
    let face = |done| ("face_cloaked".to_string(), Some(done), Some(2));
    assert_eq!(
        events[..2],
        [face(1), face(2)],
        "each of the two faces, in the order they finished: {stdout}"
    );
    assert_eq!(events[2].0, "done", "{stdout}");
    assert_eq!(events.len(), 4, "then the summary: {stdout}");
}

#[test]
fn a_batch_with_a_bad_file_goes_on_and_exits_one() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("broken.jpg");
    std::fs::write(&bad, b"\xFF\xD8\xFF\xE0 truncated").unwrap();
    let empty = tmp.path().join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let wall = tmp.path().join("wall.png");
    image::RgbImage::from_pixel(200, 200, image::Rgb([90, 90, 90]))
        .save(&wall)
        .unwrap();
    let out = facecloak(&["cloak", "--json", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records = json_lines(&stdout);
    assert_eq!(records.len(), 3, "{stdout}");
    for r in &records {
        let input = r["input"].as_str().unwrap();
        match Path::new(input).file_name().unwrap().to_str().unwrap() {
            "broken.jpg" | "empty.png" => {
                assert_eq!(r["event"], "failed", "{r}");
                assert!(r["error"].as_str().unwrap().contains(input), "{r}");
            }
            _ => assert_eq!(r["event"], "not_protected", "{r}"),
        }
    }
    assert!(
        !tmp.path().join("cloaked").exists()
            || std::fs::read_dir(tmp.path().join("cloaked"))
                .unwrap()
                .count()
                == 0
    );
    // In text mode the photo with no face is announced as not protected, apart from the failures.
    let out = facecloak(&["cloak", wall.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("NOT PROTECTED {}: no face found", wall.display())),
        "{stderr}"
    );
    assert!(stderr.contains("0 cloaked, 1 NOT protected"), "{stderr}");
}

#[test]
fn usage_errors_exit_two() {
    assert_eq!(
        facecloak(&["cloak", "--mode", "extreme", "x.jpg"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(facecloak(&["cloak"]).status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nothing-here.jpg");
    let out = facecloak(&["cloak", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing-here.jpg"));
}

/// A file name that is not UTF-8 is any other name: cloaked, reported exactly in `--json` (lossy
/// text beside its raw bytes) and lossily in the text summary, and it never stops the batch.
#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_cloaked_and_reported_in_every_output_mode() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let photo = tmp.path().join(OsStr::from_bytes(b"caf\xe9.jpg"));
    small_portrait(&photo);
    let broken = tmp.path().join(OsStr::from_bytes(b"bad\xff.png"));
    std::fs::write(&broken, b"not a png").unwrap();
    let dir = tmp.path().to_str().unwrap();

    let out = facecloak(&["cloak", "--mode", "low", "--json", dir]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records = json_lines(&stdout);
    assert_eq!(records.len(), 2, "{stdout}");
    let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for r in &records {
        let raw = r["input"]["raw_hex"]
            .as_str()
            .expect("raw form of the name");
        let lossy = r["input"]["lossy"].as_str().unwrap();
        if r["event"] == "done" {
            assert_eq!(raw, hex(photo.as_os_str().as_bytes()));
            assert!(lossy.ends_with("caf\u{fffd}.jpg"), "{r}");
            let written = r["output"]["raw_hex"].as_str().expect("raw output name");
            assert!(written.contains(&hex(b"caf\xe9")), "{r}");
        } else {
            assert_eq!(r["event"], "failed", "{r}");
            assert_eq!(raw, hex(broken.as_os_str().as_bytes()));
        }
    }
    let cloaked = std::fs::read_dir(tmp.path().join("cloaked")).unwrap();
    let names: Vec<_> = cloaked.map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1);
    assert!(names[0].as_bytes().starts_with(b"caf\xe9"), "{names:?}");

    // Text mode: the photo is already done, the broken one is named lossily.
    let out = facecloak(&["cloak", dir]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("bad\u{fffd}.png"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `--keep-metadata` on a photo that carries everything a camera and an editor write: only the
/// allow-list comes through (README, Safety).
#[test]
fn keep_metadata_keeps_the_allow_list_and_drops_what_identifies() {
    use exif::experimental::Writer;
    use exif::{Field, In, Rational, Tag, Value};
    let f = |tag, ifd_num, value| Field {
        tag,
        ifd_num,
        value,
    };
    let text = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let fields = [
        f(Tag::Make, In::PRIMARY, text("Canon")),
        f(Tag::Model, In::PRIMARY, text("EOS R5")),
        f(Tag::Orientation, In::PRIMARY, Value::Short(vec![1])),
        f(Tag::Artist, In::PRIMARY, text("A. Photographer")),
        f(Tag::Copyright, In::PRIMARY, text("(c) A. Photographer")),
        f(
            Tag::DateTimeOriginal,
            In::PRIMARY,
            text("2026:11:25 10:00:00"),
        ),
        f(
            Tag::ExposureTime,
            In::PRIMARY,
            Value::Rational(vec![Rational { num: 1, denom: 250 }]),
        ),
        f(Tag::LensModel, In::PRIMARY, text("RF 85mm F1.2")),
        f(Tag::BodySerialNumber, In::PRIMARY, text("BODY-SERIAL-42")),
        f(Tag::LensSerialNumber, In::PRIMARY, text("LENS-SERIAL-42")),
        f(Tag::CameraOwnerName, In::PRIMARY, text("Owner Name")),
        f(Tag::ImageUniqueID, In::PRIMARY, text("UNIQUE-ID-42")),
        f(
            Tag::MakerNote,
            In::PRIMARY,
            Value::Undefined(b"MAKERNOTE-42".to_vec(), 0),
        ),
        f(Tag::GPSLatitudeRef, In::PRIMARY, text("N")),
        f(
            Tag::GPSLatitude,
            In::PRIMARY,
            Value::Rational(vec![Rational { num: 48, denom: 1 }; 3]),
        ),
        f(Tag::Make, In::THUMBNAIL, text("Canon")),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain.jpg");
    small_portrait(&plain);
    // The thumbnail is a real JPEG of the face: exactly what must not travel with a cloak.
    let mut thumb = Vec::new();
    image::open(&plain)
        .unwrap()
        .thumbnail(80, 100)
        .write_to(
            &mut std::io::Cursor::new(&mut thumb),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let mut w = Writer::new();
    fields.iter().for_each(|f| w.push_field(f));
    w.set_jpeg(&thumb, In::THUMBNAIL);
    let mut tiff = std::io::Cursor::new(Vec::new());
    w.write(&mut tiff, false).unwrap();
    let segment = |marker: u8, payload: &[u8]| {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        s.extend_from_slice(payload);
        s
    };
    let jpeg = std::fs::read(&plain).unwrap();
    let mut rich = jpeg[..2].to_vec();
    rich.extend(segment(
        0xE1,
        &[b"Exif\0\0".as_slice(), tiff.get_ref()].concat(),
    ));
    rich.extend(segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><mwg-rs:Regions>Person Name</mwg-rs:Regions><exif:GPSLatitude>48,1N</exif:GPSLatitude></x:xmpmeta>",
    ));
    rich.extend(segment(
        0xED,
        b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x0c\x1c\x02\x5a\0\x08Paris-42",
    ));
    rich.extend_from_slice(&jpeg[2..]);
    let photo = tmp.path().join("rich.jpg");
    std::fs::write(&photo, &rich).unwrap();

    let out = facecloak(&[
        "cloak",
        "--mode",
        "low",
        "--keep-metadata",
        photo.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let cloaked = std::fs::read(tmp.path().join("cloaked/rich.cloaked.jpg")).unwrap();
    let read = exif::Reader::new()
        .read_from_container(&mut std::io::Cursor::new(&cloaked))
        .expect("kept EXIF");
    let tags: Vec<Tag> = read.fields().map(|f| f.tag).collect();
    for kept in [
        Tag::Make,
        Tag::Model,
        Tag::Artist,
        Tag::Copyright,
        Tag::DateTimeOriginal,
        Tag::ExposureTime,
        Tag::LensModel,
        Tag::Orientation,
    ] {
        assert!(tags.contains(&kept), "{kept} dropped: {tags:?}");
    }
    assert!(read.fields().all(|f| f.ifd_num == In::PRIMARY), "{tags:?}");
    let allowed = tags.len();
    assert_eq!(allowed, 8, "{tags:?}");
    for secret in [
        b"SERIAL-42".as_slice(),
        b"Owner Name",
        b"UNIQUE-ID-42",
        b"MAKERNOTE-42",
        b"Regions",
        b"Paris-42",
        b"Photoshop",
    ] {
        assert!(
            !cloaked.windows(secret.len()).any(|w| w == secret),
            "{} leaked",
            String::from_utf8_lossy(secret)
        );
    }
    // No second JPEG (the thumbnail) hides inside the file.
    let starts = cloaked
        .windows(3)
        .filter(|w| *w == [0xFF, 0xD8, 0xFF])
        .count();
    assert_eq!(starts, 1);
}

/// A card dump with the same names in every folder: `-r -o OUT` mirrors the folders, and names
/// that would still collide in one folder keep their whole file name.
#[test]
fn an_output_folder_mirrors_subfolders_so_names_never_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let album = tmp.path().join("album");
    for rel in [
        "day1/IMG_0001.jpg",
        "day2/IMG_0001.jpg",
        "day2/IMG_0001.jpeg",
    ] {
        let path = album.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        small_portrait(&path);
    }
    let out = tmp.path().join("out");
    let run = facecloak(&[
        "cloak",
        "--mode",
        "low",
        "-r",
        "-o",
        out.to_str().unwrap(),
        album.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{run:?}");
    for rel in [
        "day1/IMG_0001.cloaked.jpg",
        "day2/IMG_0001.jpg.cloaked.jpg",
        "day2/IMG_0001.jpeg.cloaked.jpg",
    ] {
        assert!(out.join(rel).is_file(), "{rel} missing");
    }
    // Run again: everything is found done, nothing is overwritten or renamed.
    let again = facecloak(&[
        "cloak",
        "-r",
        "-o",
        out.to_str().unwrap(),
        album.to_str().unwrap(),
    ]);
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("0 cloaked"),
        "{again:?}"
    );
}

/// `--faces` picks faces by the numbers `facecloak detect` prints, or the largest.
#[test]
fn faces_are_chosen_by_number_or_size() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = |name: &str| {
        image::open(format!(
            "{}/tests/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .to_rgb8()
    };
    // Two people side by side, one of them larger.
    let (a, b) = (fixture("obama.jpg"), fixture("biden.jpg"));
    let a = image::imageops::resize(&a, 400, 500, image::imageops::FilterType::Triangle);
    let b = image::imageops::resize(&b, 340, 425, image::imageops::FilterType::Triangle);
    let mut pair = image::RgbImage::from_pixel(780, 500, image::Rgb([128, 128, 128]));
    image::imageops::replace(&mut pair, &a, 0, 0);
    image::imageops::replace(&mut pair, &b, 430, 60);
    let photo = tmp.path().join("pair.png");
    pair.save(&photo).unwrap();
    let p = photo.to_str().unwrap();

    let detected = facecloak(&["detect", p]);
    let listing: serde_json::Value = serde_json::from_slice(&detected.stdout).unwrap();
    let faces = listing[0]["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 2, "{listing}");
    let numbers: Vec<u64> = faces
        .iter()
        .map(|f| f["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    let width =
        |f: &serde_json::Value| f["bbox"][2].as_f64().unwrap() - f["bbox"][0].as_f64().unwrap();
    let largest = faces
        .iter()
        .max_by(|x, y| width(x).total_cmp(&width(y)))
        .unwrap();

    let cloak = |choice: &str| {
        let out = facecloak(&[
            "cloak",
            "--mode",
            "low",
            "--json",
            "--overwrite",
            "--faces",
            choice,
            p,
        ]);
        let stdout = String::from_utf8(out.stdout).unwrap();
        (out.status.code(), json_lines(&stdout).remove(0))
    };
    let (code, record) = cloak("largest");
    assert_eq!(code, Some(0));
    assert_eq!(record["faces"].as_array().unwrap().len(), 1);
    assert_eq!(record["faces"][0]["bbox"], largest["bbox"]);
    let (_, record) = cloak("2");
    assert_eq!(record["faces"][0]["bbox"], faces[1]["bbox"], "{record}");
    let (_, record) = cloak("3");
    assert_eq!(record["event"], "skipped", "{record}");
    assert!(
        record["reason"]
            .as_str()
            .unwrap()
            .contains("none of the chosen faces")
    );
    let usage = facecloak(&["cloak", "--faces", "0", p]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn faces_too_small_to_cloak_are_announced_with_their_boxes_in_text_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    // One face 36 px wide (eyes to mouth under 20 px) alone; then beside a 260 px face.
    let alone_path = common::group(&dir, "alone.png", (900, 600), 1, (36.0, 36.0));
    let pair_path = common::group(&dir, "pair.png", (2000, 700), 2, (36.0, 260.0));
    let out_dir = tmp.path().join("out");
    let (out_str, dir_str) = (out_dir.to_str().unwrap(), dir.to_str().unwrap());
    let run = |json: bool| {
        let mut args = vec!["cloak", "--mode", "low", "--overwrite", "-o", out_str];
        if json {
            args.push("--json");
        }
        args.push(dir_str);
        facecloak(&args)
    };

    let out = run(true);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let records = json_lines(&stdout);
    assert_eq!(records.len(), 2, "{stdout}");
    let width = |b: &serde_json::Value| b[2].as_f64().unwrap() - b[0].as_f64().unwrap();
    for r in &records {
        let too_small = r["too_small"].as_array().expect("a too_small list");
        assert_eq!(too_small.len(), 1, "{r}");
        assert!((30.0..70.0).contains(&width(&too_small[0])), "{r}");
        if r["input"].as_str().unwrap().ends_with("alone.png") {
            assert_eq!(r["event"], "not_protected", "{r}");
            assert!(r["reason"].as_str().unwrap().contains("too small"), "{r}");
            assert_eq!(r["too_small_numbers"], serde_json::json!([1]), "{r}");
        } else {
            assert_eq!(r["event"], "done", "{r}");
            assert_eq!(r["faces"].as_array().unwrap().len(), 1, "{r}");
            // The pair's two faces keep their detector numbers: one cloaked, one too small.
            let mut numbers = vec![
                r["faces"][0]["number"].as_u64().unwrap(),
                r["too_small_numbers"][0].as_u64().unwrap(),
            ];
            numbers.sort();
            assert_eq!(numbers, [1, 2], "{r}");
        }
    }
    assert!(!out_dir.join("alone.cloaked.png").exists());

    let out = run(false);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = |start: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap_or_else(|| panic!("no `{start}` line in {stderr}"))
            .to_string()
    };
    let alone_line = line(&format!("NOT PROTECTED {}", alone_path.display()));
    assert!(alone_line.contains("too small"), "{alone_line}");
    assert!(alone_line.contains('×'), "no box in {alone_line}");
    assert!(
        alone_line.contains("face 1 at ("),
        "no face number in {alone_line}"
    );
    let pair_line = line(&format!("partly protected {}", pair_path.display()));
    assert!(
        pair_line.contains("1 face cloaked") && pair_line.contains('×'),
        "{pair_line}"
    );
}

/// `models add`, the listing, a cloak with it and `--no-user-models`, `models remove`, through
/// the command line, with InsightFace's w600k_mbf.onnx as its registry package ships it.
#[test]
fn a_recogniser_is_added_listed_used_and_removed_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let added = tmp.path().join("my recognisers");
    let file = common::released_w600k_mbf();
    let out = facecloak_with(&["models", "add", file.to_str().unwrap()], &added);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("added `w600k-mbf` (512-d embedding"),
        "{stdout}"
    );
    assert!(
        stdout.contains("match threshold 0.145: measured"),
        "{stdout}"
    );

    let out = facecloak_with(&["models", "--json"], &added);
    let listing: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let roles: Vec<(&str, &str)> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert!(roles.contains(&("w600k-mbf", "added")), "{roles:?}");

    let photo = tmp.path().join("me.jpg");
    small_portrait(&photo);
    for (flag, models) in [(None, 7), (Some("--no-user-models"), 6)] {
        let mut args = vec!["cloak", "--overwrite", "--json", photo.to_str().unwrap()];
        args.extend(flag);
        let out = facecloak_with(&args, &added);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let records = json_lines(&String::from_utf8(out.stdout).unwrap());
        let checks = records[0]["faces"][0]["local_check"].as_array().unwrap();
        assert_eq!(checks.len(), models, "{flag:?}: {checks:?}");
    }

    let again = facecloak_with(&["models", "add", file.to_str().unwrap()], &added);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already added"));
    let out = facecloak_with(&["models", "remove", "w600k-mbf"], &added);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let gone = facecloak_with(&["models", "remove", "w600k-mbf"], &added);
    assert_eq!(gone.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("no recogniser named `w600k-mbf`"));
}
