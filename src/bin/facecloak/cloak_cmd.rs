//! `facecloak cloak`: the batch, a progress bar with ETA, a summary, exit codes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use clap::Args;
use facecloak::{Event, FaceBox, FaceChoice, Mode, Options, Progress, Summary};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

#[derive(Args)]
pub struct CloakArgs {
    /// Photos and folders of photos.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Folder for the cloaked photos (default: cloaked/ beside each photo). The inputs'
    /// subfolders are mirrored inside it; photos that would share a name (a.jpg, a.jpeg) keep
    /// their whole file name: a.jpg.cloaked.jpg.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// How strongly to cloak; the figures are from docs/evaluation.md (test half).
    #[arg(long, short, value_parser = crate::modes(), default_value = "mid")]
    mode: Mode,
    /// Look for photos in sub-folders too.
    #[arg(long, short)]
    recursive: bool,
    /// Which faces to cloak: all, largest, or numbers as `facecloak detect` prints them (1,3).
    #[arg(long, default_value = "all", value_parser = clap::value_parser!(FaceChoice))]
    faces: FaceChoice,
    /// Faces cloaked at once, across photos (default: one per CPU core); photos are opened only
    /// as memory allows.
    #[arg(long, short, default_value_t = 0)]
    jobs: usize,
    /// Print one JSON record per photo on stdout (and one per face as it is cloaked), then one
    /// for the summary.
    #[arg(long)]
    json: bool,
    /// Replace outputs that already exist (they are skipped otherwise).
    #[arg(long)]
    overwrite: bool,
    /// Keep allow-listed EXIF (camera, lens, exposure, date, artist, copyright); thumbnails,
    /// serial numbers, maker notes, GPS, XMP and IPTC are always dropped. Off by default.
    #[arg(long)]
    keep_metadata: bool,
    /// Write HEIC and AVIF photos as HEIC and AVIF (quality 92) instead of as JPEG, which every
    /// site takes; other formats keep theirs anyway.
    #[arg(long)]
    keep_heif: bool,
    /// Record mode and seed in each output. Off by default: a tag helps scrapers spot cloaks.
    #[arg(long)]
    tag: bool,
    /// Leave out the recognisers you added with `facecloak models add` (by default every one
    /// takes part in the cloak and the local check).
    #[arg(long)]
    no_user_models: bool,
    /// Seed of the optimiser's randomness: the same seed gives the same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: CloakArgs) -> facecloak::Result<ExitCode> {
    let (inputs, problems) = facecloak::collect_inputs(&args.inputs, args.recursive);
    for (path, reason) in &problems {
        eprintln!("skipped {}: {reason}", path.display());
    }
    if inputs.is_empty() {
        eprintln!("error: no photos to cloak");
        return Ok(ExitCode::from(2));
    }
    let stop = stop_on_ctrl_c();
    let options = Options {
        mode: args.mode,
        out_dir: args.out.clone(),
        overwrite: args.overwrite,
        keep_metadata: args.keep_metadata,
        keep_heif: args.keep_heif,
        tag: args.tag,
        seed: args.seed,
        jobs: args.jobs,
        faces: args.faces,
        added_models: (!args.no_user_models)
            .then(facecloak::user_models::folder)
            .flatten(),
        ..Options::default()
    };

    let bar = progress_bar();
    let json = args.json;
    let progress = Mutex::new(Progress::new(inputs.len()));
    let report = facecloak::cloak_batch(
        &inputs,
        &options,
        |event| show(&event, &bar, &progress, json),
        &stop,
    )?;
    bar.finish_and_clear();

    // People look at faces, so the summary reports the faces' visibility, not the photo's SSIM.
    let summary = report.summary(problems.len());
    eprintln!("{}", summary.line);
    if let Some(local) = &summary.local_check {
        eprintln!("{local}");
    }
    if let Some(outlook) = &summary.outlook {
        eprintln!("least-protected face: {outlook}");
    }
    if json {
        let record = SummaryRecord {
            event: "summary",
            summary: &summary,
        };
        match serde_json::to_string(&record) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: cannot write the summary as JSON: {e}"),
        }
    }
    Ok(if report.failed.is_empty() && !report.cancelled {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The last `--json` line: the batch's summary, tagged like the photos' records.
#[derive(Serialize)]
struct SummaryRecord<'a> {
    event: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// What the terminal shows of one event: the bar moves by faces, and photos left (partly)
/// unprotected, skipped or failed get a line; with --json every outcome and every face cloaked
/// is also a JSON line on stdout.
fn show(event: &Event, bar: &ProgressBar, progress: &Mutex<Progress>, json: bool) {
    {
        let mut p = progress.lock().unwrap_or_else(PoisonError::into_inner);
        p.apply(event);
        bar.set_length(p.total());
        bar.set_position(p.done());
        let (finished, photos) = p.photos();
        let name = event
            .input()
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        bar.set_message(match p.faces_of(event.input()) {
            Some((done, of)) if of > 1 => {
                format!("{finished}/{photos} photos  {name}: face {done} of {of}")
            }
            _ => format!("{finished}/{photos} photos  {name}"),
        });
    }
    if json && !matches!(event, Event::Started { .. } | Event::FacesFound { .. }) {
        // A line that cannot be written is reported; the batch goes on.
        bar.suspend(|| match serde_json::to_string(event) {
            Ok(line) => println!("{line}"),
            Err(e) => eprintln!("error: cannot write an event as JSON: {e}"),
        });
    }
    match event {
        Event::Done(done) => {
            if !json && !done.fully_protected() {
                bar.suspend(|| {
                    eprintln!(
                        "partly protected {}: {} cloaked; {} too small to cloak, left as they were {}",
                        done.input.display(),
                        facecloak::faces_word(done.faces.len()),
                        facecloak::faces_word(done.too_small.len()),
                        boxes_text(&done.too_small_numbers, &done.too_small)
                    )
                });
            }
        }
        Event::NotProtected(n) => {
            if !json {
                bar.suspend(|| {
                    eprintln!(
                        "NOT PROTECTED {}: {}{}",
                        n.input.display(),
                        n.reason,
                        if n.too_small.is_empty() {
                            String::new()
                        } else {
                            format!(" {}", boxes_text(&n.too_small_numbers, &n.too_small))
                        }
                    )
                });
            }
        }
        Event::Skipped { input, reason } => {
            if !json {
                bar.suspend(|| eprintln!("skipped {}: {reason}", input.display()));
            }
        }
        Event::Failed { input, error } => {
            if !json {
                bar.suspend(|| eprintln!("failed {}: {error}", input.display()));
            }
        }
        Event::Started { .. } | Event::FacesFound { .. } | Event::FaceCloaked { .. } => {}
    }
}

/// The stop flag, set by Ctrl-C; a second Ctrl-C while stopping quits at once.
fn stop_on_ctrl_c() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("\nstopping… (outputs already written are kept; nothing partial is left)");
    });
    stop
}

/// A bar over the batch's faces (`Progress`), so the ETA follows the work a group photo holds;
/// with the time gone and left, redrawn four times a second at most.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr_with_hz(4));
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {elapsed} elapsed, ETA {eta}  {msg}")
            .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// "face 2 at (x, y) w×h, …": which faces were left alone and where, so the user can find them.
fn boxes_text(numbers: &[usize], boxes: &[FaceBox]) -> String {
    let list: Vec<String> = numbers
        .iter()
        .zip(boxes)
        .map(|(n, b)| format!("face {n} at {b}"))
        .collect();
    format!("({})", list.join(", "))
}
