//! What the evaluation measured for each mode, as numbers: the mode summaries and each face's
//! words are written from these, so the two cannot drift apart.

use super::params::Mode;

/// One configuration's published cells (test half: 10 people, 39 probe photos, faces at
/// portrait size; docs/evaluation.md). Shares of people, 0–1; "protected" means a clean photo of
/// the person does not find a cloaked one first, in a gallery of 804 faces.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    /// Rank-1 protected under the held-out recogniser that finds most people (the published
    /// figure), the median one and the one that finds fewest.
    pub worst: f64,
    pub median: f64,
    pub best: f64,
    /// Not found within the first 50 of 3·10¹⁰ faces by the held-out recogniser that finds
    /// most (extrapolated from its impostor tail).
    pub at_scale: f64,
}

/// Probe photos each share was measured on: what the uncertainty of a share is said from.
pub const PROBES: usize = 39;

impl Measured {
    /// Half the width of a 95 % interval around a share measured on [`PROBES`] photos.
    pub fn margin(share: f64) -> f64 {
        1.96 * (share * (1.0 - share) / PROBES as f64).sqrt()
    }
}

impl Mode {
    /// The mode's published figures with the shipped surrogates alone (`added` false) or with a
    /// recogniser the user added (InsightFace's `w600k_mbf` stood in for it; its own cells are
    /// white-box and not counted).
    pub fn measured(self, added: bool) -> Measured {
        let m = |worst, median, best, at_scale| Measured {
            worst,
            median,
            best,
            at_scale,
        };
        match (self, added) {
            (Mode::Low, false) => m(0.051, 0.128, 0.308, 0.256),
            (Mode::Mid, false) => m(0.077, 0.333, 0.564, 0.538),
            (Mode::High, false) => m(0.179, 0.590, 0.974, 0.949),
            (Mode::Low, true) => m(0.077, 0.141, 0.256, 0.282),
            (Mode::Mid, true) => m(0.231, 0.397, 0.590, 0.513),
            (Mode::High, true) => m(0.333, 0.679, 0.897, 0.897),
        }
    }
}

/// "8 %" from 0.077.
pub(crate) fn pct(share: f64) -> String {
    format!("{:.0} %", 100.0 * share)
}

/// "8–56 %".
pub(crate) fn range(low: f64, high: f64) -> String {
    format!("{:.0}–{:.0} %", 100.0 * low, 100.0 * high)
}
