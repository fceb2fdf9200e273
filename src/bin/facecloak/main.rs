//! The `facecloak` command line.

mod check;
mod cloak_cmd;
mod eval;
mod inspect;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use facecloak::FaceChoice;
use facecloak::Mode;

/// The modes as the command line takes them, each with what the evaluation measured: the words
/// come from the core, so the help cannot drift from it.
pub(crate) fn modes() -> impl TypedValueParser<Value = Mode> {
    PossibleValuesParser::new(Mode::ALL.map(|m| PossibleValue::new(m.name()).help(m.summary())))
        .try_map(|s| s.parse::<Mode>())
}

#[derive(Parser)]
#[command(
    name = "facecloak",
    version,
    about = "Cloak the faces in your photos against face-recognition scrapers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Cloak the faces in photos; writes <name>.cloaked.<ext> into a cloaked/ folder beside each
    /// photo (or into --out). Originals are never changed.
    Cloak(CloakArgs),
    /// Find the faces in photos; prints boxes, five alignment points, 68 landmarks and scores as JSON.
    Detect {
        /// Photos to look at.
        #[arg(required = true)]
        photos: Vec<PathBuf>,
    },
    /// Compare an original with its cloaked version: per face and per model, the cosine
    /// similarity of the two and whether the model would still match them; SSIM and PSNR.
    Check {
        original: PathBuf,
        cloaked: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List the models FaceCloak loads, with their roles and input/output shapes.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Measure protection and visibility on a folder of <person>/<photo> (docs/evaluation.md):
    /// clean probes against galleries holding each protected person's cloaked photos, judged by
    /// held-out recognisers after JPEG, resizing and blur; faces' SSIMULACRA2 at feed size and
    /// 100 %. Writes report.json, report.md, frontier.png and contact-sheet.png.
    Eval(eval::EvalArgs),
    /// Measure speed on a photo (default: the sample portrait); prints JSON.
    Bench {
        /// Photo to cloak (its first face is used).
        #[arg(long)]
        photo: Option<PathBuf>,
        /// Modes to time.
        #[arg(long, value_parser = modes(), value_delimiter = ',', default_values = ["low", "mid", "high"])]
        modes: Vec<Mode>,
        /// Faces cloaked per mode and per thread count.
        #[arg(long, default_value_t = 4)]
        faces: usize,
    },
}

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
    #[arg(long, short, value_parser = modes(), default_value = "mid")]
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
    /// Print one JSON record per photo on stdout.
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
    /// Seed of the optimiser's randomness: the same seed gives the same output.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> ExitCode {
    facecloak::tune_allocator();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Cloak(args) => cloak_cmd::run(args),
        Command::Detect { photos } => inspect::detect(&photos),
        Command::Check {
            original,
            cloaked,
            json,
        } => check::run(&original, &cloaked, json),
        Command::Models { json } => inspect::list_models(json),
        Command::Eval(args) => eval::run(args),
        Command::Bench {
            photo,
            modes,
            faces,
        } => {
            let photo = photo.unwrap_or_else(facecloak::bench::default_photo);
            facecloak::bench::run(&photo, &modes, faces).and_then(|report| {
                println!("{}", serde_json::to_string_pretty(&report)?);
                Ok(ExitCode::SUCCESS)
            })
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
