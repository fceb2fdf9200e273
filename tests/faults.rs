//! Faults while writing: the process killed mid-run, a full disk, an unwritable or vanishing
//! output folder. Originals stay byte-identical, no partial output survives, a re-run finishes
//! the job without redoing what is done.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use common::fixture;
use facecloak::internals::batch::{Event, Options, cloak_batch};
use facecloak::internals::cloak::Mode;

fn album(dir: &Path, n: usize) -> Vec<(PathBuf, Vec<u8>)> {
    let img = facecloak::internals::io::load_rgb(&fixture("obama.jpg")).unwrap();
    let img = image::imageops::resize(
        &img,
        img.width() / 3,
        img.height() / 3,
        image::imageops::FilterType::Triangle,
    );
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let p = dir.join(format!("photo-{i:02}.jpg"));
            // Each photo differs a little, so each output is its own file.
            let mut v = img.clone();
            v.put_pixel(0, 0, image::Rgb([i as u8, 0, 0]));
            v.save(&p).unwrap();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn originals_unchanged(album: &[(PathBuf, Vec<u8>)]) {
    for (p, bytes) in album {
        assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} changed", p.display());
    }
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(unix)]
#[test]
fn killed_mid_run_leaves_only_whole_outputs_and_a_rerun_completes_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("album");
    let photos = album(&dir, 8);
    let out = dir.join("cloaked");
    let bin = env!("CARGO_BIN_EXE_facecloak");
    let mut child = Command::new(bin)
        .args([
            "cloak",
            "--mode",
            "low",
            "--jobs",
            "1",
            dir.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while files(&out)
        .iter()
        .filter(|f| f.contains(".cloaked."))
        .count()
        < 2
    {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no output appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    originals_unchanged(&photos);
    let finished: Vec<String> = files(&out)
        .into_iter()
        .filter(|f| f.contains(".cloaked."))
        .collect();
    assert!(finished.len() < photos.len(), "the run was not interrupted");
    for f in &finished {
        image::open(out.join(f)).unwrap_or_else(|e| panic!("{f} is not a whole image: {e}"));
    }

    let rerun = Command::new(bin)
        .args(["cloak", "--mode", "low", "--json", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        rerun.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let records: Vec<serde_json::Value> = String::from_utf8(rerun.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let skipped = records.iter().filter(|r| r["event"] == "skipped").count();
    let done = records.iter().filter(|r| r["event"] == "done").count();
    assert_eq!(skipped, finished.len(), "finished photos were redone");
    assert_eq!(done + skipped, photos.len());
    let after = files(&out);
    assert_eq!(after.len(), photos.len(), "leftovers: {after:?}");
    assert!(
        after
            .iter()
            .all(|f| f.contains(".cloaked.") && !f.starts_with('.')),
        "{after:?}"
    );
    originals_unchanged(&photos);
}

/// Mounts a small tmpfs (root only); `None` where this machine does not allow it.
fn small_disk(at: &Path, size: &str) -> Option<Mount> {
    std::fs::create_dir_all(at).unwrap();
    let ok = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            at.to_str().unwrap(),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| Mount(at.to_path_buf()))
}

struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_fails_the_photos_that_do_not_fit_and_leaves_no_partial_file() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = album(&tmp.path().join("album"), 4);
    let disk = tmp.path().join("disk");
    let Some(_mount) = small_disk(&disk, "48k") else {
        eprintln!(
            "SKIPPED: mounting a small tmpfs needs root; this test checks disk-full handling"
        );
        return;
    };
    let inputs: Vec<PathBuf> = photos.iter().map(|(p, _)| p.clone()).collect();
    let options = Options {
        mode: Mode::Low,
        out_dir: Some(disk.clone()),
        jobs: 1,
        ..Options::default()
    };
    let report = cloak_batch(&inputs, &options, |_| {}, &AtomicBool::new(false)).unwrap();
    assert!(
        !report.failed.is_empty(),
        "48 kB held every output: {report:?}"
    );
    for (p, error) in &report.failed {
        assert!(
            error.contains("No space left") || error.contains("space"),
            "{}: {error}",
            p.display()
        );
    }
    let left = files(&disk);
    assert_eq!(left.len(), report.done.len(), "partial files: {left:?}");
    for f in &left {
        image::open(disk.join(f)).unwrap();
    }
    originals_unchanged(&photos);
}

#[test]
fn an_unwritable_output_folder_fails_each_photo_with_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = album(&tmp.path().join("album"), 2);
    // Under /proc nothing can be created, even by root.
    let out = PathBuf::from("/proc/facecloak-cannot-write-here");
    let inputs: Vec<PathBuf> = photos.iter().map(|(p, _)| p.clone()).collect();
    let options = Options {
        mode: Mode::Low,
        out_dir: Some(out.clone()),
        ..Options::default()
    };
    let report = cloak_batch(&inputs, &options, |_| {}, &AtomicBool::new(false)).unwrap();
    assert_eq!(report.failed.len(), 2, "{report:?}");
    for (_, error) in &report.failed {
        assert!(
            error.contains("/proc/facecloak-cannot-write-here"),
            "{error}"
        );
    }
    originals_unchanged(&photos);
}

#[test]
fn an_output_folder_removed_mid_run_is_made_again() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = album(&tmp.path().join("album"), 3);
    let out = tmp.path().join("out");
    let inputs: Vec<PathBuf> = photos.iter().map(|(p, _)| p.clone()).collect();
    let options = Options {
        mode: Mode::Low,
        out_dir: Some(out.clone()),
        jobs: 1,
        ..Options::default()
    };
    let report = cloak_batch(
        &inputs,
        &options,
        |e| {
            if matches!(e, Event::Done(_)) {
                let _ = std::fs::remove_dir_all(&out);
            }
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(report.done.len(), 3, "{report:?}");
    assert!(report.failed.is_empty());
    originals_unchanged(&photos);
}
