//! The `facecloak` command line.

mod check;
mod cloak_cmd;
mod eval;
mod inspect;
mod models_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
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
    Cloak(cloak_cmd::CloakArgs),
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
    /// List the models FaceCloak loads, with their roles and input/output shapes; add a
    /// recogniser of your own, or remove one you added.
    Models(models_cmd::ModelsArgs),
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
        /// A folder of recognisers added as `facecloak models add` adds them (the default
        /// folder, or FACECLOAK_USER_MODELS): they take part, as in a cloak.
        #[arg(long, value_name = "DIR")]
        added: Option<PathBuf>,
    },
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
        Command::Models(args) => models_cmd::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Bench {
            photo,
            modes,
            faces,
            added,
        } => {
            let photo = photo.unwrap_or_else(facecloak::bench::default_photo);
            facecloak::bench::run(&photo, &modes, faces, added.as_deref()).and_then(|report| {
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
