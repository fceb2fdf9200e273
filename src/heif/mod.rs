//! Photos as phones save them: HEIC/HEIF (HEVC inside) and AVIF (AV1 inside), read through the
//! system's libheif. Only the primary image is decoded, upright (libheif applies the file's
//! rotation and mirroring boxes, which take precedence over EXIF's orientation in this format),
//! in 8-bit RGB whatever its bit depth. Depth maps, thumbnails and the other images of a burst
//! are never read, so none of them can reach an output.

use std::fs::File;
use std::io::Read;
use std::path::Path;

#[cfg(target_os = "linux")]
mod decode;
#[cfg(target_os = "linux")]
mod encode;
#[cfg(target_os = "linux")]
mod gamut;

#[cfg(target_os = "linux")]
pub use decode::decode;
#[cfg(target_os = "linux")]
use decode::primary_size;
#[cfg(target_os = "linux")]
pub use encode::encode;

/// Which of the two families a file belongs to, by the brands of its `ftyp` box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeifKind {
    Heic,
    Avif,
}

impl HeifKind {
    pub fn name(self) -> &'static str {
        match self {
            HeifKind::Heic => "HEIC",
            HeifKind::Avif => "AVIF",
        }
    }
}

const HEIC_BRANDS: [&[u8; 4]; 10] = [
    b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1",
];
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];

/// The family of a file that starts with an ISO-BMFF `ftyp` box naming a HEIF or AVIF brand.
pub fn sniff(bytes: &[u8]) -> Option<HeifKind> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return None;
    }
    let size = u32::from_be_bytes(bytes[0..4].try_into().ok()?) as usize;
    let end = size.clamp(16, bytes.len().min(4096));
    // The major brand, then (after the minor version) the compatible ones.
    let brands: Vec<&[u8]> = std::iter::once(&bytes[8..12])
        .chain(bytes[16..end].chunks_exact(4))
        .collect();
    let has = |set: &[&[u8; 4]]| brands.iter().any(|b| set.iter().any(|s| s[..] == **b));
    if has(&AVIF_BRANDS) {
        Some(HeifKind::Avif)
    } else if has(&HEIC_BRANDS) {
        Some(HeifKind::Heic)
    } else {
        None
    }
}

/// The primary image's width and height when `path` is a HEIC or AVIF, from its boxes (the
/// `image` crate reads neither); `None` for any other file. Those boxes may follow the image
/// data, so the whole file is read (libheif-rs 0.20's streaming reader, which would read less,
/// aborts on these fixtures in a debug build: an unsafe slice precondition fails in its `read`).
pub fn dimensions(path: &Path) -> Option<(u32, u32)> {
    let mut head = Vec::new();
    File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    sniff(&head)?;
    primary_size(&std::fs::read(path).ok()?)
}

#[cfg(not(target_os = "linux"))]
use unsupported::primary_size;
#[cfg(not(target_os = "linux"))]
pub use unsupported::{decode, encode};

/// Where libheif is not built in, these photos are refused with a reason, not a build failure.
#[cfg(not(target_os = "linux"))]
mod unsupported {
    use std::path::Path;

    use super::HeifKind;
    use crate::io::Photo;
    use crate::{Error, Result};

    pub fn primary_size(_bytes: &[u8]) -> Option<(u32, u32)> {
        None
    }

    pub fn decode(_bytes: &[u8], path: &Path, kind: HeifKind) -> Result<Photo> {
        Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "{} photos can be read only by FaceCloak for Linux so far; convert it to JPEG first",
                kind.name()
            ),
        })
    }

    pub fn encode(
        _photo: &Photo,
        _pixels: &image::RgbImage,
        kind: HeifKind,
        _exif: Option<&[u8]>,
        _xmp: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        Err(Error::Encode {
            path: std::path::PathBuf::new(),
            source: format!(
                "{} photos can be written only by FaceCloak for Linux so far",
                kind.name()
            )
            .into(),
        })
    }
}
