//! Protection at a scraper's scale, extrapolated. Clearview holds tens of billions of faces and an
//! investigator looks through a page of candidates, so the question is how many strangers would
//! score above a person's best own photo in a gallery of N faces. Each judge's impostor scores
//! (every cross-identity pair of clean photos) get a generalised Pareto tail; the strangers above
//! a score are then Poisson with mean N · P(impostor > score). An extrapolation far past the
//! pairs measured, stated as such wherever it is shown.

use serde::{Deserialize, Serialize};

/// Gallery sizes the report extrapolates to (faces).
pub const GALLERY_SIZES: [f64; 9] = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 3e10];

/// Share of impostor scores above the tail's threshold: the tail is fitted to the top 1 %.
const TAIL_SHARE: f64 = 0.01;

/// The upper tail of a judge's impostor scores: P(S > s) for s past `threshold` is
/// `share · (1 + ξ (s − threshold) / σ)^(−1/ξ)`, the generalised Pareto law, fitted by
/// probability-weighted moments (Hosking & Wallis 1987).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Tail {
    pub threshold: f64,
    pub share: f64,
    pub xi: f64,
    pub sigma: f64,
    /// Impostor pairs the tail was fitted to.
    pub pairs: usize,
}

impl Tail {
    /// Fits the tail to `scores` (all impostor pairs); `None` with too few to fit.
    pub fn fit(mut scores: Vec<f32>) -> Option<Self> {
        let pairs = scores.len();
        if pairs < 1000 {
            return None;
        }
        scores.sort_by(|a, b| b.total_cmp(a));
        let k = ((pairs as f64 * TAIL_SHARE) as usize).max(50);
        let threshold = f64::from(scores[k]);
        // Exceedances over the threshold, ascending.
        let mut y: Vec<f64> = scores[..k]
            .iter()
            .map(|&s| f64::from(s) - threshold)
            .collect();
        y.reverse();
        let n = y.len() as f64;
        let a0 = y.iter().sum::<f64>() / n;
        let a1 = y
            .iter()
            .enumerate()
            .map(|(j, v)| v * (n - 1.0 - j as f64) / (n - 1.0))
            .sum::<f64>()
            / n;
        let shape = a0 / (a0 - 2.0 * a1) - 2.0; // Hosking's k = −ξ
        let sigma = 2.0 * a0 * a1 / (a0 - 2.0 * a1);
        (sigma.is_finite() && sigma > 0.0).then_some(Self {
            threshold,
            share: k as f64 / pairs as f64,
            xi: -shape,
            sigma,
            pairs,
        })
    }

    /// P(an impostor scores above `s`); the empirical share below the threshold is not needed,
    /// since a person's own photos score far above it wherever the question matters.
    pub fn survival(&self, s: f64) -> f64 {
        if s <= self.threshold {
            return self.share;
        }
        let z = (s - self.threshold) / self.sigma;
        if self.xi.abs() < 1e-9 {
            return self.share * (-z).exp();
        }
        let base = 1.0 + self.xi * z;
        if base <= 0.0 {
            // Past the end point of a bounded tail (ξ < 0): no impostor scores this high.
            return 0.0;
        }
        self.share * base.powf(-1.0 / self.xi)
    }
}

/// How many people a clean probe still finds in a gallery of N, for each size of
/// [`GALLERY_SIZES`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AtScale {
    pub gallery: f64,
    /// Share of probes whose best own photo outranks every stranger (rank 1).
    pub found_top1: f64,
    /// Share of probes whose best own photo is among the first 50.
    pub found_top50: f64,
}

/// The extrapolation for probes whose best own gallery photo scores `best_own` each.
pub fn at_scale(tail: &Tail, best_own: &[f32]) -> Vec<AtScale> {
    GALLERY_SIZES
        .iter()
        .map(|&n| {
            let (mut top1, mut top50) = (0.0, 0.0);
            for &s in best_own {
                let lambda = n * tail.survival(f64::from(s));
                top1 += (-lambda).exp();
                top50 += poisson_cdf(49, lambda);
            }
            let probes = best_own.len().max(1) as f64;
            AtScale {
                gallery: n,
                found_top1: top1 / probes,
                found_top50: top50 / probes,
            }
        })
        .collect()
}

/// The median over probes of P(an impostor scores above the probe's best own score).
pub fn median_survival(tail: &Tail, best_own: &[f32]) -> Option<f64> {
    let mut far: Vec<f64> = best_own
        .iter()
        .map(|&s| tail.survival(f64::from(s)))
        .collect();
    far.sort_by(f64::total_cmp);
    far.get(far.len() / 2).copied()
}

/// P(X ≤ k) for X Poisson with mean `lambda`, summed in logs so large means do not overflow.
fn poisson_cdf(k: u32, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    let mut term = -lambda; // log P(X = 0)
    let mut total = term.exp();
    for i in 1..=k {
        term += lambda.ln() - f64::from(i).ln();
        total += term.exp();
    }
    total.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exponential_tail_is_recovered_and_extrapolates() {
        // Scores with an exponential upper tail (a GPD with ξ = 0): P(S > s) = e^(−s/0.05).
        let n = 200_000;
        let scores: Vec<f32> = (0..n)
            .map(|i| {
                let u = (i as f64 + 0.5) / n as f64;
                (-0.05 * u.ln()) as f32
            })
            .collect();
        let tail = Tail::fit(scores).unwrap();
        assert!(tail.xi.abs() < 0.05, "ξ {}", tail.xi);
        assert!((tail.sigma - 0.05).abs() < 0.005, "σ {}", tail.sigma);
        let s = 0.8; // e^(−16): far past every measured pair
        let p = tail.survival(s);
        let truth = (-s / 0.05f64).exp();
        assert!((p / truth).ln().abs() < 0.5, "{p} vs {truth}");
    }

    #[test]
    fn a_bounded_tail_finds_nobody_past_its_end() {
        // Uniform scores on [0, 1]: a GPD with ξ = −1, ending at 1.
        let n = 100_000;
        let scores: Vec<f32> = (0..n).map(|i| i as f32 / n as f32).collect();
        let tail = Tail::fit(scores).unwrap();
        assert!((tail.xi + 1.0).abs() < 0.1, "ξ {}", tail.xi);
        assert_eq!(tail.survival(1.2), 0.0);
        let found = at_scale(&tail, &[1.2, 0.9999]);
        // The first probe is found in every gallery; the second only in small ones.
        let last = found.last().unwrap();
        assert!((0.49..=0.51).contains(&last.found_top1), "{last:?}");
        assert!(found[0].found_top1 > 0.9, "{:?}", found[0]);
    }

    #[test]
    fn the_poisson_cdf_is_a_distribution() {
        assert!((poisson_cdf(0, 2.0) - (-2.0f64).exp()).abs() < 1e-12);
        assert!(poisson_cdf(49, 10.0) > 0.999_999);
        assert!(poisson_cdf(49, 1e6) < 1e-12);
    }
}
