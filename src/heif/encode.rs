//! Writing a cloaked photo back as HEIC or AVIF through libheif's encoders (x265, aom), for
//! users who ask to keep the format: one image, no thumbnail, the allowed EXIF and the ICC
//! profile.

use image::RgbImage;
use libheif_rs::{
    Channel, ColorProfileRaw, ColorSpace, CompressionFormat, EncoderQuality, HeifContext, Image,
    LibHeif, RgbChroma, color_profile_types,
};

use super::HeifKind;
use crate::io::Photo;
use crate::{Error, Result};

/// Encoder quality (0–100): high enough that the cloak survives FaceCloak's own encode, as the
/// JPEG's 95 is.
pub const HEIF_QUALITY: u8 = 92;

/// Encodes the cloaked pixels (with the original's alpha and ICC profile, and the EXIF and XMP
/// given, already sanitised) as a one-image HEIC or AVIF file.
pub fn encode(
    photo: &Photo,
    pixels: &RgbImage,
    kind: HeifKind,
    exif: Option<&[u8]>,
    xmp: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let err = |e: libheif_rs::HeifError| Error::Encode {
        path: std::path::PathBuf::new(),
        source: format!("{}: {}", kind.name(), e.message).into(),
    };
    let (w, h) = pixels.dimensions();
    let alpha = photo.alpha.as_ref().filter(|a| a.dimensions() == (w, h));
    let (chroma, channels) = match alpha {
        Some(_) => (RgbChroma::Rgba, 4),
        None => (RgbChroma::Rgb, 3),
    };
    let mut image = Image::new(w, h, ColorSpace::Rgb(chroma)).map_err(err)?;
    image
        .create_plane(Channel::Interleaved, w, h, 8 * channels as u8)
        .map_err(err)?;
    {
        let planes = image.planes_mut();
        let plane = planes.interleaved.ok_or_else(|| Error::Encode {
            path: std::path::PathBuf::new(),
            source: "libheif gave no interleaved plane".into(),
        })?;
        let row = w as usize * channels;
        for (y, src) in pixels.as_raw().chunks_exact(w as usize * 3).enumerate() {
            let dst = &mut plane.data[y * plane.stride..y * plane.stride + row];
            for (x, (d, s)) in dst
                .chunks_exact_mut(channels)
                .zip(src.chunks_exact(3))
                .enumerate()
            {
                d[..3].copy_from_slice(s);
                if let Some(a) = alpha {
                    d[3] = a.get_pixel(x as u32, y as u32)[0];
                }
            }
        }
    }
    if let Some(icc) = &photo.icc {
        image
            .set_color_profile_raw(&ColorProfileRaw::new(
                color_profile_types::PROF,
                icc.clone(),
            ))
            .map_err(err)?;
    }
    let lib = LibHeif::new();
    let format = match kind {
        HeifKind::Heic => CompressionFormat::Hevc,
        HeifKind::Avif => CompressionFormat::Av1,
    };
    let mut encoder = lib.encoder_for_format(format).map_err(err)?;
    encoder
        .set_quality(EncoderQuality::Lossy(HEIF_QUALITY))
        .map_err(err)?;
    let mut ctx = HeifContext::new().map_err(err)?;
    let handle = ctx.encode_image(&image, &mut encoder, None).map_err(err)?;
    if let Some(exif) = exif {
        ctx.add_exif_metadata(&handle, exif).map_err(err)?;
    }
    if let Some(xmp) = xmp {
        ctx.add_xmp_metadata(&handle, xmp).map_err(err)?;
    }
    ctx.write_to_bytes().map_err(err)
}
