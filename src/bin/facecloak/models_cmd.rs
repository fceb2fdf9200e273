//! `facecloak models`: the models FaceCloak loads, and the recognisers a user adds or removes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use facecloak::user_models::{self, AddOptions, Convention};

use crate::inspect;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ModelsArgs {
    #[command(subcommand)]
    action: Option<Action>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Action {
    /// Add a face recogniser of your own (an ONNX file taking N×3×112×112 faces, such as
    /// InsightFace's w600k_r50.onnx or w600k_mbf.onnx): FaceCloak checks it, builds its gradient
    /// graph and then cloaks against it too. Its terms of use are yours to accept; nothing is
    /// downloaded.
    Add {
        /// The recogniser's .onnx file, as released.
        file: PathBuf,
        /// The name it is listed and used under (lower-case letters, digits, dashes); by default
        /// the file's name.
        #[arg(long)]
        name: Option<String>,
        /// How it wants its input: `arcface` (RGB, (x − 127.5) / 127.5, InsightFace's and most
        /// ArcFace exports') or MEAN/STD on 0–255 pixels, with `,bgr` for BGR order.
        #[arg(long, default_value = "arcface", value_parser = Convention::parse)]
        input: Convention,
        /// The cosine similarity at which it counts two faces as one person, if you know it
        /// (FaceCloak knows it for the files it has measured).
        #[arg(long)]
        threshold: Option<f32>,
    },
    /// Remove a recogniser you added.
    Remove {
        /// Its name, as `facecloak models` lists it.
        name: String,
    },
}

fn added_folder() -> facecloak::Result<PathBuf> {
    user_models::folder().ok_or_else(|| facecloak::Error::Unsupported {
        path: PathBuf::new(),
        reason: format!(
            "no data folder is known for this user; set {} to a folder",
            user_models::USER_MODELS_ENV
        ),
    })
}

pub fn run(args: ModelsArgs) -> facecloak::Result<ExitCode> {
    match args.action {
        None => inspect::list_models(args.json, user_models::folder()),
        Some(Action::Add {
            file,
            name,
            input,
            threshold,
        }) => {
            let dir = added_folder()?;
            let store = facecloak::ModelStore::locate(None)?;
            eprintln!(
                "checking {} and building its gradient graph…",
                file.display()
            );
            let options = AddOptions {
                name,
                convention: Some(input),
                threshold,
            };
            let added = user_models::add(&store, &dir, &file, &options)?;
            println!(
                "added `{}` ({}-d embedding, input {}) to {}",
                added.name,
                added.embedding_dim,
                added.input,
                dir.display()
            );
            println!(
                "match threshold {:.3}: {}",
                added.match_threshold, added.threshold_from
            );
            if threshold.is_none() && added.threshold_from.starts_with("assumed") {
                println!(
                    "  (if you know its threshold, remove it and add it again with --threshold)"
                );
            }
            println!(
                "gradient checked against finite differences: error {:.4} along it, {:.3} of \
                 the expected size along random directions",
                added.check.along_gradient, added.check.random_directions
            );
            println!(
                "`facecloak cloak` now cloaks against it too (--no-user-models leaves it out)"
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Action::Remove { name }) => {
            let dir = added_folder()?;
            let removed = user_models::remove(&dir, &name)?;
            println!("removed `{}` from {}", removed.name, dir.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
