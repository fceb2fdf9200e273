//! `facecloak eval`: runs the protection evaluation and writes its report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use facecloak::cloak::Mode;
use facecloak::eval::{EvalOptions, markdown};

pub fn run(
    dataset: Option<PathBuf>,
    modes: Vec<Mode>,
    out: &Path,
    identities: Option<usize>,
    photos: Option<usize>,
    seed: u64,
) -> facecloak::Result<ExitCode> {
    let dataset =
        dataset.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/faces"));
    let cache = std::env::var_os("FACECLOAK_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/facecloak")))
        .unwrap_or_else(|| PathBuf::from(".facecloak-cache"))
        .join("eval");
    let opts = EvalOptions {
        dataset,
        modes,
        identities,
        photos,
        cache,
        seed,
    };
    let report = facecloak::eval::run(&opts, |line| eprintln!("{line}"))?;
    let io_err = |source| facecloak::Error::Io {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io_err)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report).expect("report serialises"),
    )
    .map_err(io_err)?;
    let chart = out.join("protection.png");
    facecloak::eval::plot(&report)
        .save(&chart)
        .map_err(|e| facecloak::Error::Encode {
            path: chart.clone(),
            source: Box::new(e),
        })?;
    let md = markdown(&report);
    std::fs::write(out.join("report.md"), &md).map_err(io_err)?;
    println!("{md}");
    eprintln!(
        "report written to {} in {:.0}s",
        out.display(),
        report.seconds
    );
    Ok(ExitCode::SUCCESS)
}
