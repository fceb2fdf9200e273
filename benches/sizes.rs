//! `cargo bench --bench sizes`: seconds per photo and per face and peak memory of
//! `facecloak cloak` (default mode, default workers) on photos of 1, 4, 16 and 24 MP, with one
//! face (the sample portrait enlarged) and with twenty (a composed group photo), and an album of
//! three 48 MP portraits cloaked in one run (memory with every worker busy). Each case runs in
//! its own process, so its peak resident memory is its own. Prints a Markdown table and the
//! figures as JSON.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use facecloak::bench::compose::{self, Head};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::ModelStore;

const SIZES_MP: [f64; 4] = [1.0, 4.0, 16.0, 24.0];

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let portrait = facecloak::internals::io::load_rgb(&fixtures.join("obama.jpg"))?;
    let mut detector = Detector::new(&ModelStore::locate(None)?)?;
    let heads = ["obama.jpg", "biden.jpg"]
        .iter()
        .map(|name| {
            let img = facecloak::internals::io::load_rgb(&fixtures.join(name))?;
            Head::cut(&mut detector, &img)?.ok_or_else(|| format!("{name}: no face").into())
        })
        .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    let dir = tempfile::tempdir()?;

    let mut rows = Vec::new();
    println!(
        "| photos | faces cloaked | seconds per photo | seconds per face | one face on one core (s) | peak RSS (MiB) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut cases: Vec<(String, Vec<image::RgbImage>)> = Vec::new();
    for faces in [1u32, 20] {
        for mp in SIZES_MP {
            let photo = if faces == 1 {
                compose::resized_to(&portrait, mp)
            } else {
                // 3:2, the shape of most cameras' photos; faces fill 30–45 % of a grid cell.
                let w = (mp * 1e6 * 1.5).sqrt() as u32;
                let h = w * 2 / 3;
                let cell = (w / 5) as f32;
                compose::group(&heads, (w, h), faces, (0.3 * cell, 0.45 * cell)).0
            };
            let label = format!("{} × {} ({mp} MP)", photo.width(), photo.height());
            cases.push((label, vec![photo]));
        }
    }
    let big = compose::resized_to(&portrait, 48.0);
    let label = format!("3 × {} × {} (48 MP) in one run", big.width(), big.height());
    cases.push((label, vec![big.clone(), big.clone(), big]));

    for (n, (label, photos)) in cases.iter().enumerate() {
        let case = dir.path().join(format!("case{n}"));
        std::fs::create_dir(&case)?;
        for (i, photo) in photos.iter().enumerate() {
            photo.save(case.join(format!("photo{i}.jpg")))?;
        }
        let measured = measure(
            Command::new(env!("CARGO_BIN_EXE_facecloak"))
                .arg("cloak")
                .arg("--json")
                .arg("-o")
                .arg(dir.path().join(format!("out{n}")))
                .arg(&case),
        )?;
        let mut records = measured
            .stdout
            .lines()
            .map(serde_json::from_str)
            .collect::<Result<Vec<serde_json::Value>, _>>()?;
        // One record per photo; the faces' progress and the batch's summary are not photos.
        records.retain(|r| r["event"] != "face_cloaked" && r["event"] != "summary");
        if records.len() != photos.len() || records.iter().any(|r| r["event"] != "done") {
            return Err(
                format!("{label}: not every photo was cloaked: {}", measured.stdout).into(),
            );
        }
        let face_seconds: Vec<f64> = records
            .iter()
            .flat_map(|r| r["faces"].as_array().into_iter().flatten())
            .filter_map(|f| f["seconds"].as_f64())
            .collect();
        let cloaked = face_seconds.len();
        let per_photo = if photos.len() == 1 {
            records[0]["seconds"].as_f64().unwrap_or(f64::NAN)
        } else {
            measured.wall / photos.len() as f64
        };
        let one_face = face_seconds.iter().sum::<f64>() / cloaked.max(1) as f64;
        let rss = measured
            .peak_rss_mib
            .map_or("–".into(), |m| format!("{m:.0}"));
        println!(
            "| {label} | {cloaked} | {per_photo:.1} | {:.2} | {one_face:.2} | {rss} |",
            per_photo * photos.len() as f64 / cloaked.max(1) as f64,
        );
        rows.push(serde_json::json!({
            "case": label,
            "photos": photos.len(),
            "faces_cloaked": cloaked,
            "seconds_per_photo": per_photo,
            "seconds_one_face_one_core": one_face,
            "wall_seconds": measured.wall,
            "peak_rss_mib": measured.peak_rss_mib,
        }));
    }
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}

struct Measured {
    stdout: String,
    wall: f64,
    peak_rss_mib: Option<f64>,
}

/// Runs a command to its end; its peak resident memory where the platform reports it.
fn measure(cmd: &mut Command) -> Result<Measured, Box<dyn std::error::Error>> {
    let t = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn()?;
    let pid = child.id();
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut stdout = String::new();
    let peak = std::thread::scope(|s| -> std::io::Result<Option<f64>> {
        let watcher = s.spawn(|| {
            let mut peak = None;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak_rss_mib(pid).or(peak);
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            peak
        });
        let read = child
            .stdout
            .take()
            .map(|mut out| std::io::Read::read_to_string(&mut out, &mut stdout));
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        read.transpose()?;
        Ok(watcher.join().unwrap_or(None))
    })?;
    if !child.wait()?.success() {
        return Err(format!("facecloak failed: {stdout}").into());
    }
    Ok(Measured {
        stdout,
        wall: t.elapsed().as_secs_f64(),
        peak_rss_mib: peak,
    })
}

/// The process's own high-water resident memory. Read from /proc while it runs: the rusage a
/// parent gets back also counts the parent's own memory at the moment it spawned the child.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
