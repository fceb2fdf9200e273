//! What a batch did, in figures and in the words every front end shows: the CLI's last lines,
//! the app's notice and its desktop notification.

use serde::Serialize;

use super::faces_word;
use super::report::{FaceReport, FileReport, Report};
use crate::visibility::rating;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Summary {
    pub done: usize,
    pub not_protected: usize,
    pub skipped: usize,
    pub failed: usize,
    pub cancelled: bool,
    pub seconds: f64,
    /// Photos cloaked with some faces too small to cloak.
    pub partly: usize,
    /// HEIC/AVIF photos written as JPEG.
    pub converted: usize,
    /// Faces cloaked, and their SSIMULACRA2 at feed size (median, worst).
    pub faces: usize,
    pub median_quality: Option<f64>,
    pub worst_quality: Option<f64>,
    /// Faces that no local recogniser still matches to the original, and those only some do.
    pub matched_by_none: usize,
    pub matched_by_some: usize,
    /// The whole batch in one line ("3 cloaked (…), 1 NOT protected (see above), …").
    pub line: String,
    /// The local check over every face, when any was cloaked.
    pub local_check: Option<String>,
    /// The least-protected face's words (its `protection`): would a clean photo still find it,
    /// in a small gallery and at a scraper's scale, and its local check.
    pub outlook: Option<String>,
}

impl Report {
    /// The batch's summary; `also_skipped` counts inputs a front end set aside before the run
    /// (a folder that could not be read, say), which it reports as skipped.
    pub fn summary(&self, also_skipped: usize) -> Summary {
        let faces: Vec<&FaceReport> = self.done.iter().flat_map(|d| &d.faces).collect();
        let mut scores: Vec<f64> = faces.iter().map(|f| f.quality.display).collect();
        scores.sort_by(f64::total_cmp);
        let median_quality = scores.get(scores.len() / 2).copied();
        let worst_quality = scores.first().copied();
        let fooled = |f: &FaceReport| f.local_check.iter().filter(|c| !c.still_matches).count();
        let matched_by_none = faces
            .iter()
            .filter(|f| !f.local_check.is_empty() && fooled(f) == f.local_check.len())
            .count();
        let matched_by_some = faces
            .iter()
            .filter(|f| fooled(f) > 0 && fooled(f) < f.local_check.len())
            .count();
        let mut s = Summary {
            done: self.done.len(),
            not_protected: self.not_protected.len(),
            skipped: self.skipped.len() + also_skipped,
            failed: self.failed.len(),
            cancelled: self.cancelled,
            seconds: self.seconds,
            partly: self.done.iter().filter(|d| !d.fully_protected()).count(),
            converted: self
                .done
                .iter()
                .filter(|d| d.converted_from.is_some())
                .count(),
            faces: faces.len(),
            median_quality,
            worst_quality,
            matched_by_none,
            matched_by_some,
            line: String::new(),
            local_check: None,
            outlook: faces
                .iter()
                .min_by_key(|f| fooled(f))
                .map(|f| f.protection.clone()),
        };
        s.line = s.words();
        s.local_check = (!faces.is_empty()).then(|| {
            format!(
                "local check (do this computer's recognisers still match each face to its \
                 original?): {matched_by_none} of {} matched by none, {matched_by_some} by \
                 only some",
                faces_word(faces.len())
            )
        });
        s
    }
}

impl Summary {
    fn words(&self) -> String {
        let quality = match (self.median_quality, self.worst_quality) {
            (Some(median), Some(worst)) => format!(
                " ({}; face quality at feed size: median {median:.0} ({}), worst {worst:.0} ({}))",
                faces_word(self.faces),
                rating(median),
                rating(worst)
            ),
            _ => String::new(),
        };
        let partly = match self.partly {
            0 => String::new(),
            n => format!(", {n} of them partly"),
        };
        let converted = match self.converted {
            0 => String::new(),
            1 => ", 1 HEIC/AVIF photo written as JPEG".to_string(),
            n => format!(", {n} HEIC/AVIF photos written as JPEG"),
        };
        let not_protected = match self.not_protected {
            0 => String::new(),
            n => format!(", {n} NOT protected (see above)"),
        };
        format!(
            "{} cloaked{quality}{partly}{converted}{not_protected}, {} skipped, {} failed in {:.1}s{}",
            self.done,
            self.skipped,
            self.failed,
            self.seconds,
            if self.cancelled {
                " — stopped before the end"
            } else {
                ""
            }
        )
    }
}

impl FileReport {
    /// The face whose change shows most (lowest SSIMULACRA2 at feed size).
    pub fn most_visible_face(&self) -> Option<&FaceReport> {
        self.faces
            .iter()
            .min_by(|a, b| a.quality.display.total_cmp(&b.quality.display))
    }

    /// The face the fewest local recognisers are fooled by.
    pub fn least_protected_face(&self) -> Option<&FaceReport> {
        self.faces
            .iter()
            .min_by_key(|f| f.local_check.iter().filter(|c| !c.still_matches).count())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::report::NotProtected;
    use super::*;

    #[test]
    fn the_line_names_unprotected_photos_and_a_stop() {
        let mut report = Report {
            seconds: 3.04,
            ..Report::default()
        };
        for name in ["a.jpg", "b.jpg"] {
            report.not_protected.push(NotProtected {
                input: PathBuf::from(name),
                reason: "no face found".into(),
                too_small: Vec::new(),
                too_small_numbers: Vec::new(),
            });
        }
        report.failed.push(("c.jpg".into(), "broken".into()));
        report
            .skipped
            .push(("d.jpg".into(), "already cloaked".into()));
        let s = report.summary(2);
        assert_eq!(
            s.line,
            "0 cloaked, 2 NOT protected (see above), 3 skipped, 1 failed in 3.0s"
        );
        assert!(s.local_check.is_none() && s.median_quality.is_none());
        report.cancelled = true;
        assert!(
            report
                .summary(0)
                .line
                .ends_with(" — stopped before the end")
        );
    }
}
