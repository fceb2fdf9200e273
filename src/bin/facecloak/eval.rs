//! `facecloak eval`: runs the evaluation and writes its report, chart and contact sheet.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use facecloak::eval::{EvalOptions, EvalReport, Half, Purifier, Variant, markdown};
use facecloak::{Mode, Params};

#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// The photos, as <person>/<photo> (default: ../shared/faces beside the source tree).
    dataset: Option<PathBuf>,
    /// Which half of the identities to protect: `tune` to choose parameters, `test` to publish.
    #[arg(long, value_parser = PossibleValuesParser::new(["tune", "test"]).try_map(|s| s.parse::<Half>()), default_value = "test")]
    half: Half,
    /// Modes to evaluate.
    #[arg(long, value_parser = crate::modes(), value_delimiter = ',', default_values = ["low", "mid", "high"])]
    modes: Vec<Mode>,
    /// Extra variants of the default mode, as NAME:KNOB=VALUE[,KNOB=VALUE…] (knobs: steps,
    /// samples, max_change (1/255 units), texture_floor, chroma, luma, l2, l2_peak, rate, views,
    /// smooth, momentum, lowpass, jitter, min_quality, surrogates (recognisers joined by `+`,
    /// e.g. mobilefacenet+faceres), without (recognisers to leave out), per_step (surrogates
    /// drawn each step; 0 all), decoy (weight of the pull toward a public-domain decoy face),
    /// scales (copies of each view darkened by powers of two), added_share (share of each
    /// step's draws for the recognisers the user added), spread (weight of the pull toward a
    /// direction drawn for each photo, so one person's cloaks move apart)); repeatable.
    #[arg(long = "variant")]
    variants: Vec<String>,
    /// Enlargements to evaluate at (3 gives LFW's 100 px faces portrait size).
    #[arg(long, value_delimiter = ',', default_values = ["1", "3"])]
    upscale: Vec<u32>,
    /// What platforms do before scraping: none, jpeg85, jpeg70, half+jpeg85, blur1.
    #[arg(long, value_delimiter = ',', default_values = ["none", "jpeg85", "jpeg70", "half+jpeg85", "blur1"])]
    purifiers: Vec<String>,
    /// Leave-one-out: cloak each variant once per recogniser, optimised with the variant's other
    /// surrogates, and judge it with the one left out.
    #[arg(long)]
    hold_out: bool,
    /// Photos cloaked only to judge visibility (default: the fixtures and ../shared/portraits).
    #[arg(long = "visibility-photo")]
    visibility_photos: Vec<PathBuf>,
    /// Folder for the report.
    #[arg(long, short, default_value = "eval-report")]
    out: PathBuf,
    /// Protected people at most (those of the half with at least three photos, in name order).
    #[arg(long)]
    identities: Option<usize>,
    /// Photos per protected person at most.
    #[arg(long)]
    photos: Option<usize>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A folder of recognisers added as a user adds them (FACECLOAK_USER_MODELS=DIR facecloak
    /// models add FILE): every variant is run "with a user's recogniser", named
    /// <variant>+<name>, with them among its surrogates.
    #[arg(long, value_name = "DIR")]
    added: Option<PathBuf>,
    /// Evaluate nothing: write one report from the report.json of earlier runs over the same
    /// photos (say, a --hold-out run of one mode and a plain run of the others); repeatable.
    #[arg(long = "from", value_name = "REPORT_JSON")]
    from: Vec<PathBuf>,
}

fn usage(msg: String) -> facecloak::Error {
    facecloak::Error::Unsupported {
        path: PathBuf::new(),
        reason: msg,
    }
}

fn parse_variant(spec: &str) -> facecloak::Result<Variant> {
    let (name, knobs) = spec
        .split_once(':')
        .ok_or_else(|| usage(format!("variant `{spec}`: expected NAME:KNOB=VALUE")))?;
    let mut params = Params::default();
    for k in knobs.split(',') {
        params.set(k).map_err(usage)?;
    }
    Ok(Variant {
        name: name.to_string(),
        params,
    })
}

fn default_visibility_photos(root: &Path) -> Vec<PathBuf> {
    let mut v = vec![
        root.join("tests/fixtures/obama.jpg"),
        root.join("tests/fixtures/biden.jpg"),
    ];
    if let Ok(rd) = std::fs::read_dir(root.join("../shared/portraits")) {
        let mut p: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e != "md"))
            .collect();
        p.sort();
        v.extend(p);
    }
    v
}

/// Reads the report.json of earlier runs and merges them.
fn merged(paths: &[PathBuf]) -> facecloak::Result<EvalReport> {
    let reports = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|source| facecloak::Error::Io {
                path: p.clone(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|e| facecloak::Error::Unsupported {
                path: p.clone(),
                reason: format!("not a report.json of `facecloak eval`: {e}"),
            })
        })
        .collect::<facecloak::Result<Vec<EvalReport>>>()?;
    facecloak::eval::merge(reports)
}

pub fn run(args: EvalArgs) -> facecloak::Result<ExitCode> {
    if !args.from.is_empty() {
        let report = merged(&args.from)?;
        return write(&report, &args.out);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dataset = args.dataset.unwrap_or_else(|| root.join("../shared/faces"));
    let cache = std::env::var_os("FACECLOAK_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/facecloak")))
        .unwrap_or_else(|| PathBuf::from(".facecloak-cache"))
        .join("eval");
    let mut variants: Vec<Variant> = args.modes.iter().map(|m| Variant::mode(*m)).collect();
    for spec in &args.variants {
        variants.push(parse_variant(spec)?);
    }
    let purifiers = args
        .purifiers
        .iter()
        .map(|p| Purifier::parse(p).ok_or_else(|| usage(format!("unknown purifier `{p}`"))))
        .collect::<facecloak::Result<Vec<_>>>()?;
    let visibility_photos = if args.visibility_photos.is_empty() {
        default_visibility_photos(root)
    } else {
        args.visibility_photos
    };
    let opts = EvalOptions {
        dataset,
        half: args.half,
        variants,
        identities: args.identities,
        photos: args.photos,
        upscales: args.upscale,
        purifiers,
        hold_out: args.hold_out,
        visibility_photos,
        cache,
        seed: args.seed,
        added: args.added,
    };
    let report = facecloak::eval::run(&opts, |line| eprintln!("{line}"))?;
    write(&report, &args.out)
}

/// Writes report.json, report.md, frontier.png and (when the report has one) contact-sheet.png.
fn write(report: &EvalReport, out: &Path) -> facecloak::Result<ExitCode> {
    let io_err = |source| facecloak::Error::Io {
        path: out.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(io_err)?;
    let json = serde_json::to_string_pretty(report).map_err(|e| usage(e.to_string()))?;
    std::fs::write(out.join("report.json"), json).map_err(io_err)?;
    let save = |img: &image::RgbImage, name: &str| {
        let path = out.join(name);
        img.save(&path).map_err(|e| facecloak::Error::Encode {
            path: path.clone(),
            source: Box::new(e),
        })
    };
    save(&facecloak::eval::frontier(report), "frontier.png")?;
    if report.contact_sheet.width() > 0 {
        save(&report.contact_sheet, "contact-sheet.png")?;
    }
    let md = markdown(report);
    std::fs::write(out.join("report.md"), &md).map_err(io_err)?;
    println!("{md}");
    eprintln!(
        "report written to {} in {:.0}s",
        out.display(),
        report.seconds
    );
    Ok(ExitCode::SUCCESS)
}
