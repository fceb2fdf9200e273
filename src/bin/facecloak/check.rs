//! `facecloak check`: what a cloak did, per face and per model.

use std::path::Path;
use std::process::ExitCode;

use facecloak::Detector;
use facecloak::Error;
use facecloak::FaceBox;
use facecloak::ModelStore;
use facecloak::internals::geometry::Rect;
use facecloak::internals::quality;
use facecloak::internals::verify::{ModelCheck, Verifier};
use serde::Serialize;

#[derive(Serialize)]
struct FaceCheck {
    bbox: FaceBox,
    face_ssim: f64,
    models: Vec<ModelCheck>,
}

#[derive(Serialize)]
struct CheckReport {
    ssim: f64,
    psnr: f64,
    faces: Vec<FaceCheck>,
}

pub fn run(original: &Path, cloaked: &Path, json: bool) -> facecloak::Result<ExitCode> {
    let a = facecloak::load_rgb(original)?;
    let b = facecloak::load_rgb(cloaked)?;
    if a.dimensions() != b.dimensions() {
        return Err(Error::Unsupported {
            path: cloaked.to_path_buf(),
            reason: format!(
                "is {:?} but the original is {:?}",
                b.dimensions(),
                a.dimensions()
            ),
        });
    }
    let mut store = ModelStore::locate(None)?;
    // The recognisers the user added judge too: they are part of what `cloak` optimises against.
    if let Some(dir) = facecloak::user_models::folder() {
        store = store.with_added(&dir);
    }
    let faces = Detector::new(&store)?.detect(&a)?;
    let mut verifier = Verifier::new(&store)?;
    let mut checks = Vec::new();
    for face in &faces {
        let models = verifier.check(&a, &b, face)?;
        let rect = face.bbox.rect(a.width(), a.height());
        checks.push(FaceCheck {
            bbox: face.bbox,
            face_ssim: quality::ssim_region(&a, &b, rect),
            models,
        });
    }
    let whole = Rect {
        x: 0,
        y: 0,
        w: a.width(),
        h: a.height(),
    };
    let report = CheckReport {
        ssim: quality::ssim_region(&a, &b, whole),
        psnr: quality::psnr(&a, &b),
        faces: checks,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "photo: SSIM {:.4}, PSNR {:.1} dB, {} face(s)",
            report.ssim,
            report.psnr,
            report.faces.len()
        );
        for (i, f) in report.faces.iter().enumerate() {
            println!(
                "face {} at {:?}: face SSIM {:.4}",
                i + 1,
                f.bbox.0.map(|v| v.round()),
                f.face_ssim
            );
            for m in &f.models {
                println!(
                    "  {:<14} {:<9} similarity {:+.3} (match at ≥ {:.3}): {}",
                    m.model,
                    format!("{:?}", m.role).to_lowercase(),
                    m.similarity,
                    m.threshold,
                    if m.still_matches {
                        "still matches"
                    } else {
                        "no longer matches"
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
