//! `facecloak models` and `facecloak detect`.

use std::path::PathBuf;
use std::process::ExitCode;

use facecloak::Detector;
use facecloak::internals::models::{self, ModelStore};
use serde::Serialize;

#[derive(Serialize)]
struct Port {
    name: String,
    shape: String,
}

#[derive(Serialize)]
struct ModelListing {
    name: &'static str,
    role: models::Role,
    #[serde(serialize_with = "facecloak::serialize_path")]
    file: PathBuf,
    summary: &'static str,
    match_threshold: Option<f32>,
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

pub fn list_models(json: bool, added: Option<PathBuf>) -> facecloak::Result<ExitCode> {
    let mut store = ModelStore::locate(None)?;
    if let Some(dir) = &added {
        store = store.with_added(dir);
    }
    let mut listing = Vec::new();
    let added_models = store
        .recognisers()
        .into_iter()
        .filter(|r| r.role == models::Role::Added);
    for info in models::all().into_iter().chain(added_models) {
        for file in std::iter::once(info.file).chain(info.grad_file) {
            let session = store.session(file)?;
            listing.push(ModelListing {
                name: info.name,
                role: info.role,
                file: store.path(file),
                summary: info.summary,
                match_threshold: info.match_threshold,
                inputs: ports(session.inputs()),
                outputs: ports(session.outputs()),
            });
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&listing)?);
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
    #[serde(serialize_with = "facecloak::serialize_path")]
    photo: PathBuf,
    width: u32,
    height: u32,
    faces: Vec<Numbered>,
}

/// A face with the number `facecloak cloak --faces` knows it by.
#[derive(Serialize)]
struct Numbered {
    number: usize,
    #[serde(flatten)]
    face: facecloak::Face,
}

pub fn detect(photos: &[PathBuf]) -> facecloak::Result<ExitCode> {
    let store = ModelStore::locate(None)?;
    let mut detector = Detector::new(&store)?;
    let mut failed = false;
    let mut results = Vec::new();
    for photo in photos {
        match facecloak::load_rgb(photo).and_then(|img| Ok((detector.detect(&img)?, img))) {
            Ok((faces, img)) => results.push(Detection {
                photo: photo.clone(),
                width: img.width(),
                height: img.height(),
                faces: (1..)
                    .zip(faces)
                    .map(|(number, face)| Numbered { number, face })
                    .collect(),
            }),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&results)?);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
