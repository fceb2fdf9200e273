//! The `facecloak` command line: exit codes, JSON records, summaries.

use std::path::Path;
use std::process::{Command, Output};

fn facecloak(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_facecloak"))
        .args(args)
        .output()
        .expect("facecloak runs")
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
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["event"], "done");
    let cloaked = tmp.path().join("cloaked/me.cloaked.jpg");
    assert_eq!(records[0]["output"], cloaked.to_str().unwrap());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 cloaked"));

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
    assert_eq!(names, ["mobilefacenet", "mobileface", "faceres", "facenet"]);
    let ssim = report["ssim"].as_f64().unwrap();
    assert!(ssim > 0.9 && ssim < 1.0, "SSIM {ssim}");
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
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3, "{stdout}");
    for r in &records {
        let input = r["input"].as_str().unwrap();
        match Path::new(input).file_name().unwrap().to_str().unwrap() {
            "broken.jpg" | "empty.png" => {
                assert_eq!(r["event"], "failed", "{r}");
                assert!(r["error"].as_str().unwrap().contains(input), "{r}");
            }
            _ => assert_eq!(r["event"], "skipped", "{r}"),
        }
    }
    assert!(
        !tmp.path().join("cloaked").exists()
            || std::fs::read_dir(tmp.path().join("cloaked"))
                .unwrap()
                .count()
                == 0
    );
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
