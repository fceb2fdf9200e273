//! Which of a photo's faces to cloak.

use crate::detect::Face;

/// Which of a photo's faces to cloak: `all`, the `largest`, or a list of numbers as
/// `facecloak detect` prints them (`1,3`; from 1, in the detector's order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FaceChoice {
    #[default]
    All,
    Largest,
    Numbers(Vec<usize>),
}

impl std::str::FromStr for FaceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "all" => Ok(Self::All),
            "largest" => Ok(Self::Largest),
            list => list
                .split(',')
                .map(|n| match n.trim().parse::<usize>() {
                    Ok(n) if n >= 1 => Ok(n),
                    _ => Err(format!(
                        "`{s}`: expected all, largest or face numbers from 1 (e.g. 1,3)"
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Self::Numbers),
        }
    }
}

impl FaceChoice {
    /// The chosen faces with their numbers (from 1, in the detector's order).
    pub(super) fn pick<'a>(&self, faces: &'a [Face]) -> Vec<(usize, &'a Face)> {
        let numbered = faces.iter().enumerate().map(|(i, f)| (i + 1, f));
        match self {
            Self::All => numbered.collect(),
            Self::Largest => numbered
                .max_by(|a, b| face_size(a.1).total_cmp(&face_size(b.1)))
                .into_iter()
                .collect(),
            Self::Numbers(numbers) => numbered.filter(|(n, _)| numbers.contains(n)).collect(),
        }
    }
}

/// Eyes-to-mouth distance, the face's scale in photo pixels.
pub fn face_size(face: &Face) -> f32 {
    let [le, re, _, lm, rm] = face.five;
    let eyes = [(le[0] + re[0]) / 2.0, (le[1] + re[1]) / 2.0];
    let mouth = [(lm[0] + rm[0]) / 2.0, (lm[1] + rm[1]) / 2.0];
    (eyes[0] - mouth[0]).hypot(eyes[1] - mouth[1])
}
