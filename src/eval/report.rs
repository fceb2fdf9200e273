//! The evaluation as Markdown tables.

use std::fmt::Write;

use super::{EvalReport, Purifier};
use crate::models::Role;

fn pct(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

pub fn markdown(r: &EvalReport) -> String {
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
    s += "### Visibility (faces of protected photos)\n\nSSIMULACRA2 of the face box padded by 20 %, at feed size (long side 1080 px) and at 100 %.\n\n";
    s += "| variant | size | faces | feed median | feed p10 | feed min | 100 % median | 100 % p10 | face SSIM median | s / face |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for v in &r.results {
        let q = &v.visibility;
        let _ = writeln!(
            s,
            "| {} | ×{} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.4} | {:.2} |",
            v.variant,
            v.upscale,
            q.faces,
            q.median_display,
            q.p10_display,
            q.min_display,
            q.median_full,
            q.p10_full,
            q.median_face_ssim,
            q.seconds_per_face
        );
    }
    if !r.photo_faces.is_empty() {
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
    }
    s += "\n### Protection: rank-1 (top-5) protected\n\nA person is protected when a clean photo's nearest gallery face is someone else. Held-out judges never take part in making a cloak.\n\n";
    let purifiers: Vec<Purifier> = unique(
        r.results
            .iter()
            .flat_map(|v| v.protection.iter().map(|j| j.purifier)),
    );
    s += "| variant | size | judge | role |";
    for p in &purifiers {
        let _ = write!(s, " {} |", p.name());
    }
    s += " still verified | own distance |\n|---|---|---|---|";
    s += &"---|".repeat(purifiers.len() + 2);
    s += "\n";
    for (up, rows) in &r.unprotected {
        for j in rows {
            let _ = writeln!(
                s,
                "| unprotected | ×{up} | {} | {} | {} ({}) |{} {} | {:.3} |",
                j.judge,
                role(j.role),
                pct(j.protection.rank1),
                pct(j.protection.top5),
                " |".repeat(purifiers.len().saturating_sub(1)),
                pct(j.protection.verification),
                j.protection.own_distance
            );
        }
    }
    for v in &r.results {
        for judge in unique(v.protection.iter().map(|j| j.judge)) {
            let rows: Vec<_> = v.protection.iter().filter(|j| j.judge == judge).collect();
            let _ = write!(
                s,
                "| {} | ×{} | {judge} | {} |",
                v.variant,
                v.upscale,
                role(rows[0].role)
            );
            for p in &purifiers {
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
                " {} | {:.3} |",
                pct(first.protection.verification),
                first.protection.own_distance
            );
        }
    }
    let _ = writeln!(s, "\nRun time {:.0} s.", r.seconds);
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
        Role::Surrogate => "surrogate",
        _ => "",
    }
}
