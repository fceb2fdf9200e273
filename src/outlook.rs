//! Each cloaked face's words, answering the user's question: would a clean photo of me still find
//! this one, in a small gallery and among a scraper's billions? Two kinds of evidence, said
//! apart: how often it did for people the evaluation never tuned on (a share of people, for the
//! mode as used, [`Mode::measured`]), and what this face's change did to the recognisers on this
//! computer (the same photo, so a weaker test than a scraper's). Neither promises anything for
//! this face, and the words say how sure each is.

use crate::cloak::{Measured, Mode, pct};
use crate::verify::{ModelCheck, protection_words};

/// One face's words: `full` for where there is room (the before/after view, `--json`), `short`
/// for a row ("likely still found in a small gallery; even odds among a scraper's billions").
#[derive(Debug, Clone, PartialEq)]
pub struct FaceWords {
    pub full: String,
    pub short: String,
}

/// How likely a clean photo is to find the face, as a share of people tested said in words.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Odds {
    Likely,
    Even,
    Unlikely,
}

impl Odds {
    /// `found`: the share of people found. The bands are wide because a share measured on 39
    /// photos is only known to about ±15 points.
    fn of(found: f64) -> Self {
        if found >= 0.6 {
            Odds::Likely
        } else if found > 0.4 {
            Odds::Even
        } else {
            Odds::Unlikely
        }
    }

    fn short(self) -> &'static str {
        match self {
            Odds::Likely => "likely still found",
            Odds::Even => "even odds of being found",
            Odds::Unlikely => "likely not found",
        }
    }
}

/// The words for one face cloaked in `mode`, with (`added`) or without a recogniser the user
/// added, whose local check gave `checks`.
pub fn face_words(mode: Mode, added: bool, checks: &[ModelCheck]) -> FaceWords {
    let local = protection_words(checks);
    let m = mode.measured(added);
    // The small gallery goes by the worst held-out cell: which recogniser a scraper runs is not
    // known, so the words assume the one that found most people.
    let gallery = 1.0 - m.worst;
    let scale = 1.0 - m.at_scale;
    let (g, s) = (Odds::of(gallery), Odds::of(scale));
    let gallery_verb = match g {
        Odds::Likely => "would likely still find",
        Odds::Even => "may still find",
        Odds::Unlikely => "would likely not find",
    };
    let scale_odds = match s {
        Odds::Likely => "it would likely still be",
        Odds::Even => "about even odds it would be",
        Odds::Unlikely => "it would likely not be",
    };
    FaceWords {
        full: format!(
            "a clean photo of you {gallery_verb} this face in a small gallery (it did for {} of \
             people tested, with the recogniser that found most); among a scraper's 3·10¹⁰ \
             faces {scale_odds} in the first 50 ({:.0} ± {:.0} % of people, extrapolated); \
             {local}",
            pct(gallery),
            100.0 * scale,
            100.0 * Measured::margin(scale),
        ),
        short: format!(
            "{} in a small gallery; {} among a scraper's billions",
            g.short(),
            s.short()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Role;

    fn checks(fooled: usize, of: usize) -> Vec<ModelCheck> {
        (0..of)
            .map(|i| ModelCheck {
                model: "m",
                role: Role::Surrogate,
                similarity: 0.0,
                threshold: 0.3,
                still_matches: i >= fooled,
            })
            .collect()
    }

    #[test]
    fn the_words_follow_the_measured_shares() {
        // Every mode and configuration says both scales and the local check.
        for mode in Mode::ALL {
            for added in [false, true] {
                let words = face_words(mode, added, &checks(2, 6));
                assert!(
                    words.full.ends_with("not matched by 2 of 6 local models"),
                    "{words:?}"
                );
                assert!(words.full.contains("small gallery") && words.full.contains("3·10¹⁰"));
                assert!(words.short.contains("small gallery"), "{words:?}");
            }
        }
        // Where the strongest mode protects more, its words say so.
        let (mid, high) = (
            face_words(Mode::Mid, false, &[]),
            face_words(Mode::High, false, &[]),
        );
        assert!(
            mid.short
                .ends_with("even odds of being found among a scraper's billions")
        );
        assert!(
            high.short
                .ends_with("likely not found among a scraper's billions")
        );
    }

    #[test]
    fn odds_follow_the_share_found() {
        assert_eq!(Odds::of(0.92), Odds::Likely);
        assert_eq!(Odds::of(0.46), Odds::Even);
        assert_eq!(Odds::of(0.05), Odds::Unlikely);
        assert!((Measured::margin(0.5) - 0.157).abs() < 0.001);
        assert!(Measured::margin(0.95) < Measured::margin(0.5));
    }
}
