//! The fixed split of evaluation identities: every parameter is chosen on the tuning half, and
//! only the test half's figures are published.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Half {
    Tune,
    Test,
}

impl std::str::FromStr for Half {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tune" => Ok(Half::Tune),
            "test" => Ok(Half::Test),
            _ => Err(format!("`{s}` is not a half (tune or test)")),
        }
    }
}

/// Which half an identity belongs to, from its folder name alone (FNV-1a parity), so adding or
/// removing other people never moves anyone across the split.
pub fn half_of(identity: &str) -> Half {
    if super::content_hash(identity.as_bytes()).is_multiple_of(2) {
        Half::Tune
    } else {
        Half::Test
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_stable_and_uses_both_halves() {
        assert_eq!(half_of("Barack_Obama"), half_of("Barack_Obama"));
        let names = [
            "Abdullah_Gul",
            "Alejandro_Toledo",
            "Alex_Lacamoire",
            "Amelie_Mauresmo",
            "Barack_Obama",
            "Joe_Biden",
            "John_A",
            "John_B",
        ];
        let tune = names.iter().filter(|n| half_of(n) == Half::Tune).count();
        assert!(tune > 0 && tune < names.len());
    }
}
