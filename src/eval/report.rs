//! The evaluation as Markdown tables.

use std::fmt::Write;

use super::{
    EvalReport, GALLERY_SIZES, Purifier, Stage, StageResult, at_scale_of, held_out_cells, run_for,
    scale_headline, worst_and_median,
};
use crate::models::RECOGNISERS;
use crate::models::Role;

fn pct(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

pub fn markdown(r: &EvalReport) -> String {
    let purifiers: Vec<Purifier> = unique(
        r.results
            .iter()
            .flat_map(|v| v.protection.iter().map(|j| j.purifier)),
    );
    let mut s = header(r);
    s += &visibility_section(r);
    s += &photos_section(r);
    s += &protection_section(r, &purifiers);
    s += &published_section(r, &purifiers);
    s += &scale_section(r);
    s += &pipeline_section(r);
    let _ = writeln!(s, "\nRun time {:.0} s.", r.seconds);
    s
}

/// What was measured on which photos, and the frontier chart.
fn header(r: &EvalReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Dataset `{}`, **{:?} half** ({} identities: {}).\n{} photos in the gallery, {} of them of {} protected people; {} photos without a detectable face.\n",
        r.dataset.display(),
        r.half,
        r.half_identities.len(),
        r.half_identities.join(", "),
        r.photos,
        r.protected_photos,
        r.protected_identities,
        r.photos_without_face
    );
    // The two pictures `facecloak eval` writes beside this file: read them before the tables.
    s += "![protection against visibility](frontier.png)\n\n";
    s
}

/// How much each variant's cloaks show on the protected photos' faces.
fn visibility_section(r: &EvalReport) -> String {
    let mut s = String::new();
    s += "### Visibility (faces of protected photos)\n\nSSIMULACRA2 of the face box padded by 20 %, at feed size (long side at most 1080 px, photos under 480 px enlarged to it) and at 100 %; \"enlarged\" is the yardstick before round six (every photo enlarged to a 1080 px long side).\n\n";
    s += "| variant | without | size | faces | feed median | feed p10 | feed min | 100 % median | 100 % p10 | enlarged median | face SSIM median | s / face |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    for v in &r.results {
        let q = &v.visibility;
        let _ = writeln!(
            s,
            "| {} | {} | ×{} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.4} | {:.2} |",
            v.variant,
            v.held_out.unwrap_or(""),
            v.upscale,
            q.faces,
            q.median_display,
            q.p10_display,
            q.min_display,
            q.median_full,
            q.p10_full,
            q.median_enlarged,
            q.median_face_ssim,
            q.seconds_per_face
        );
    }
    s
}

/// The fixtures' and real portraits' faces, which are only looked at, with the contact sheet.
fn photos_section(r: &EvalReport) -> String {
    let mut s = String::new();
    if r.photo_faces.is_empty() {
        return s;
    }
    s += "\n### Visibility on fixtures and real portraits (feed / 100 %)\n\n| photo |";
    let variants = unique(r.photo_faces.iter().map(|f| f.variant.as_str()));
    let photos = unique(r.photo_faces.iter().map(|f| f.photo.as_str()));
    for v in &variants {
        let _ = write!(s, " {v} |");
    }
    s += "\n|---|";
    s += &"---|".repeat(variants.len());
    s += "\n";
    for p in &photos {
        let _ = write!(s, "| {p} |");
        for v in &variants {
            let cells: Vec<String> = r
                .photo_faces
                .iter()
                .filter(|f| f.photo == *p && f.variant == *v)
                .map(|f| format!("{:.0} / {:.0}", f.quality.display, f.quality.full))
                .collect();
            let _ = write!(s, " {} |", cells.join(", "));
        }
        s += "\n";
    }
    s += "\nEach photo's face at feed size: the original, then each variant in the order above.\n\n![contact sheet](contact-sheet.png)\n";
    s
}

/// Every judge's verdict on every variant (with leave-one-out, each run's held-out judge).
fn protection_section(r: &EvalReport, purifiers: &[Purifier]) -> String {
    let mut s = String::new();
    s += "\n### Protection: rank-1 (top-5) protected\n\nA person is protected when a clean photo's nearest gallery face is someone else. Held-out judges never take part in making a cloak. *Cloaked probe*: the share of a person's cloaked photos whose nearest gallery face is not another of their cloaked photos (the investigator searching with a photo they found; low means the cloaks find each other; for `unprotected`, clean photos finding each other).\n\n";
    let hold_out = r.results.iter().any(|v| v.held_out.is_some());
    if hold_out {
        s += "Each variant was cloaked once per recogniser, optimised with its other surrogates and judged by the one left out; surrogates' own (white-box) rows are in `report.json`.\n\n";
    }
    s += "| variant | without | size | judge | role |";
    for p in purifiers {
        let _ = write!(s, " {} |", p.name());
    }
    s += " still verified | own distance | cloaked probe |\n|---|---|---|---|---|";
    s += &"---|".repeat(purifiers.len() + 3);
    s += "\n";
    for (up, rows) in &r.unprotected {
        for j in rows {
            let _ = writeln!(
                s,
                "| unprotected | | ×{up} | {} | {} | {} ({}) |{} {} | {:.3} | {} |",
                j.judge,
                role(Role::Judge),
                pct(j.protection.rank1),
                pct(j.protection.top5),
                " |".repeat(purifiers.len().saturating_sub(1)),
                pct(j.protection.verification),
                j.protection.own_distance,
                j.protection
                    .cloaked_probe_rank1
                    .map(pct)
                    .unwrap_or_default()
            );
        }
    }
    for v in &r.results {
        for judge in unique(v.protection.iter().map(|j| j.judge)) {
            let rows: Vec<_> = v.protection.iter().filter(|j| j.judge == judge).collect();
            // With leave-one-out, each run reports the judge it held out; the variant's own run
            // the recognisers outside its whole ensemble.
            let reported = match v.held_out {
                Some(held) => held == judge,
                None => rows[0].role == Role::Judge,
            };
            if hold_out && !reported {
                continue;
            }
            let _ = write!(
                s,
                "| {} | {} | ×{} | {judge} | {} |",
                v.variant,
                v.held_out.unwrap_or(""),
                v.upscale,
                role(rows[0].role)
            );
            for p in purifiers {
                match rows.iter().find(|j| j.purifier == *p) {
                    Some(j) => {
                        let _ = write!(
                            s,
                            " {} ({}) |",
                            pct(j.protection.rank1),
                            pct(j.protection.top5)
                        );
                    }
                    None => s += " |",
                }
            }
            let first = rows[0];
            let _ = writeln!(
                s,
                " {} | {:.3} | {} |",
                pct(first.protection.verification),
                first.protection.own_distance,
                first
                    .protection
                    .cloaked_probe_rank1
                    .map(pct)
                    .unwrap_or_default()
            );
        }
    }
    s
}

/// The figure published for each variant: its worst held-out cell, with the median.
fn published_section(r: &EvalReport, purifiers: &[Purifier]) -> String {
    let mut s = String::new();
    s += "\n### Published figures: worst (median) held-out cell, rank-1 protected\n\nBeside them, at a scraper's scale (extrapolated, unpurified): the share of people *not* found within the first 50 of 3·10¹⁰ faces by the held-out judge that finds most, and the median false-accept rate of their best own score under that judge (how far past the measured pairs the extrapolation reaches).\n\n| variant | size |";
    for p in purifiers {
        let _ = write!(s, " {} |", p.name());
    }
    s += " not found in 50 of 3·10¹⁰ | judge | FAR of best own |\n|---|---|";
    s += &"---|".repeat(purifiers.len() + 3);
    s += "\n";
    let mut seen = Vec::new();
    for v in &r.results {
        if seen.contains(&(v.variant.as_str(), v.upscale)) {
            continue;
        }
        seen.push((v.variant.as_str(), v.upscale));
        let _ = write!(s, "| {} | ×{} |", v.variant, v.upscale);
        for p in purifiers {
            match worst_and_median(&held_out_cells(r, &v.variant, v.upscale, *p)) {
                Some((worst, median)) => {
                    let _ = write!(s, " {} ({}) |", pct(worst), pct(median));
                }
                None => s += " |",
            }
        }
        match scale_headline(r, &v.variant, v.upscale) {
            Some((judge, not_found, far)) => {
                let far = far.map_or_else(String::new, |f| format!("{f:.1e}"));
                let _ = write!(s, " {} | {judge} | {far} |", pct(not_found));
            }
            None => s += " | | |",
        }
        s += "\n";
    }
    s
}

/// The distinct items, in order of first appearance.
fn unique<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Judge => "**held out**",
        Role::Surrogate | Role::Added => "surrogate",
        _ => "",
    }
}

/// The extrapolation to a scraper's gallery: per judge, the share of people a clean probe still
/// finds at rank 1 and within the first 50 among N faces, with no cloak and with each variant
/// (from the run that held the judge out), on unpurified photos at the largest enlargement.
fn scale_section(r: &EvalReport) -> String {
    let mut s = String::new();
    let Some(up) = r.results.iter().map(|v| v.upscale).max() else {
        return s;
    };
    let Some((_, tails)) = r.tails.iter().find(|(u, _)| *u == up) else {
        return s;
    };
    let variants = unique(r.results.iter().map(|v| v.variant.as_str()));
    let _ = write!(
        s,
        "\n### At a scraper's scale (extrapolated)\n\nShare of people a clean photo still finds among N faces: rank 1 / within the first 50 (faces ×{up}, unpurified). \
         Each judge's impostor scores (every pair of clean photos of two different people) get a generalised Pareto tail fitted to their top 1 %; the strangers scoring above a person's best own photo are then taken as Poisson with mean N · P(impostor > that score). \
         **This is an extrapolation** far beyond the pairs measured (about 10⁵ here against 3·10¹⁰ faces), and the rows with no cloak show whether a judge could find people at that scale at all.\n\n| judge | tail ξ / σ | variant |"
    );
    for n in GALLERY_SIZES {
        let _ = write!(s, " {n:.0e} |");
    }
    s += "\n|---|---|---|";
    s += &"---|".repeat(GALLERY_SIZES.len());
    s += "\n";
    for (j, info) in RECOGNISERS.iter().enumerate() {
        let Some(tail) = tails.get(j).copied().flatten() else {
            continue;
        };
        for v in std::iter::once("unprotected").chain(variants.iter().copied()) {
            let Some(cells) = at_scale_of(r, v, up, info.name, Purifier::None) else {
                continue;
            };
            if v != "unprotected"
                && !held_out_cells(r, v, up, Purifier::None)
                    .iter()
                    .any(|c| c.0 == info.name)
            {
                continue;
            }
            let _ = write!(
                s,
                "| {} | {:.2} / {:.3} | {v} |",
                info.name, tail.xi, tail.sigma
            );
            for c in cells {
                let _ = write!(
                    s,
                    " {:.0} / {:.0} % |",
                    100.0 * c.found_top1,
                    100.0 * c.found_top50
                );
            }
            s += "\n";
        }
    }
    s
}

/// What the way from the optimiser's crop to the posted photo keeps: per variant, each judge
/// from the run that held it out, then the variant's own surrogates white-box (from the run with
/// its whole ensemble): the mean cosine of each cloaked photo to itself clean and rank-1
/// protection at each stage.
fn pipeline_section(r: &EvalReport) -> String {
    let mut s = String::new();
    if r.results.iter().all(|v| v.pipeline.is_empty()) {
        return s;
    }
    s += "\n### What the pipeline keeps\n\nThe same cloaks judged where the optimiser worked (*crop*: the pasted-back face aligned by the clean photo's landmarks, nothing written), after the judge finds and aligns the face itself (*re-detected*, lossless) and as posted (the JPEG FaceCloak writes, read back). Cosine: each cloaked photo to the same photo clean, mean (1 is no change); the share of the crop's cosine drop that reaches the posted photo is *kept*. Held-out rows come from the run that left the judge out; surrogate rows are white-box, from the run with the whole ensemble.\n\n| variant | size | judge | role | cosine crop / re-detected / posted | kept | rank-1 crop / re-detected / posted |\n|---|---|---|---|---|---|---|\n";
    let mut seen = Vec::new();
    for v in &r.results {
        if seen.contains(&(v.variant.as_str(), v.upscale)) {
            continue;
        }
        seen.push((v.variant.as_str(), v.upscale));
        let whole = r
            .results
            .iter()
            .find(|w| w.variant == v.variant && w.upscale == v.upscale && w.held_out.is_none());
        for white_box in [false, true] {
            for info in RECOGNISERS {
                let run = if white_box {
                    whole
                } else {
                    run_for(r, &v.variant, v.upscale, info.name)
                };
                let Some(run) = run else { continue };
                let cells: Vec<&StageResult> = Stage::ALL
                    .iter()
                    .filter_map(|st| {
                        run.pipeline
                            .iter()
                            .find(|c| c.stage == *st && c.judge == info.name)
                    })
                    .collect();
                let [crop, redetected, posted] = cells.as_slice() else {
                    continue;
                };
                if (crop.role == Role::Judge) == white_box {
                    continue;
                }
                let kept = (1.0 - posted.own_cosine) / (1.0 - crop.own_cosine).max(1e-9);
                let _ = writeln!(
                    s,
                    "| {} | ×{} | {} | {} | {:.3} / {:.3} / {:.3} | {:.0} % | {} / {} / {} |",
                    v.variant,
                    v.upscale,
                    info.name,
                    role(crop.role),
                    crop.own_cosine,
                    redetected.own_cosine,
                    posted.own_cosine,
                    100.0 * kept,
                    pct(crop.rank1),
                    pct(redetected.rank1),
                    pct(posted.rank1)
                );
            }
        }
    }
    s
}
