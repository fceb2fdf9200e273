//! The `facecloak` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use facecloak::detect::Detector;
use facecloak::models::{self, ModelStore};
use serde::Serialize;

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
    /// List the models FaceCloak loads, with their roles and input/output shapes.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Find the faces in photos; prints boxes, five alignment points, 68 landmarks and scores as JSON.
    Detect {
        /// Photos to look at.
        #[arg(required = true)]
        photos: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Models { json } => list_models(json),
        Command::Detect { photos } => detect(&photos),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Serialize)]
struct Port {
    name: String,
    shape: String,
}

#[derive(Serialize)]
struct ModelListing {
    name: &'static str,
    role: models::Role,
    file: PathBuf,
    summary: &'static str,
    inputs: Vec<Port>,
    outputs: Vec<Port>,
}

fn ports(outlets: &[ort::value::Outlet]) -> Vec<Port> {
    outlets
        .iter()
        .map(|o| Port {
            name: o.name().to_string(),
            shape: o
                .dtype()
                .tensor_shape()
                .map_or_else(|| "?".into(), |s| s.to_string()),
        })
        .collect()
}

fn list_models(json: bool) -> facecloak::Result<ExitCode> {
    let store = ModelStore::locate(None)?;
    let mut listing = Vec::new();
    for info in models::all() {
        for file in std::iter::once(info.file).chain(info.grad_file) {
            let session = store.session(file)?;
            listing.push(ModelListing {
                name: info.name,
                role: info.role,
                file: store.path(file),
                summary: info.summary,
                inputs: ports(session.inputs()),
                outputs: ports(session.outputs()),
            });
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&listing).expect("listing serialises")
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("models in {}", store.dir().display());
    for m in &listing {
        let file = m.file.file_name().unwrap_or_default().to_string_lossy();
        println!(
            "{:<10} {:<14} {}  — {}",
            format!("{:?}", m.role).to_lowercase(),
            m.name,
            file,
            m.summary
        );
        for (dir, ports) in [("in ", &m.inputs), ("out", &m.outputs)] {
            for p in ports {
                println!("{:>28} {} {:<22} {}", "", dir, p.name, p.shape);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Detection {
    photo: PathBuf,
    width: u32,
    height: u32,
    faces: Vec<facecloak::detect::Face>,
}

fn detect(photos: &[PathBuf]) -> facecloak::Result<ExitCode> {
    let store = ModelStore::locate(None)?;
    let mut detector = Detector::new(&store)?;
    let mut failed = false;
    let mut results = Vec::new();
    for photo in photos {
        match facecloak::io::load_rgb(photo).and_then(|img| Ok((detector.detect(&img)?, img))) {
            Ok((faces, img)) => results.push(Detection {
                photo: photo.clone(),
                width: img.width(),
                height: img.height(),
                faces,
            }),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&results).expect("detections serialise")
    );
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
