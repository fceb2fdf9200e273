//! What platforms and scrapers do to a photo before anyone embeds it.

use image::RgbImage;
use image::imageops::{FilterType, resize};
use serde::{Deserialize, Serialize};

/// A transformation of a posted photo that may wash a cloak out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purifier {
    None,
    Jpeg85,
    Jpeg70,
    /// Half the width and height, then JPEG 85.
    HalfJpeg85,
    /// Gaussian blur, σ = 1 px.
    Blur1,
}

impl Purifier {
    pub const ALL: [Purifier; 5] = [
        Purifier::None,
        Purifier::Jpeg85,
        Purifier::Jpeg70,
        Purifier::HalfJpeg85,
        Purifier::Blur1,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Purifier::None => "none",
            Purifier::Jpeg85 => "jpeg85",
            Purifier::Jpeg70 => "jpeg70",
            Purifier::HalfJpeg85 => "half+jpeg85",
            Purifier::Blur1 => "blur1",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == s)
    }

    pub fn apply(self, img: &RgbImage) -> RgbImage {
        match self {
            Purifier::None => img.clone(),
            Purifier::Jpeg85 => jpeg(img, 85),
            Purifier::Jpeg70 => jpeg(img, 70),
            Purifier::HalfJpeg85 => {
                let (w, h) = ((img.width() / 2).max(1), (img.height() / 2).max(1));
                jpeg(&resize(img, w, h, FilterType::Triangle), 85)
            }
            Purifier::Blur1 => image::imageops::blur(img, 1.0),
        }
    }
}

/// An encode and decode at a JPEG quality (4:2:0 at the purifiers' qualities, as platforms do).
pub fn jpeg(img: &RgbImage, quality: u8) -> RgbImage {
    crate::output::reencode_jpeg(img, quality).unwrap_or_else(|| img.clone())
}
