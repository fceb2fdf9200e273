//! Reading the primary image of a HEIF/AVIF file through libheif.

use std::path::Path;

use image::{GrayImage, RgbImage};
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};

use super::{HeifKind, gamut};
use crate::io::{Photo, within_limit};
use crate::{Error, Result};

/// The primary image's width and height, from the file's boxes (nothing is decoded).
pub fn primary_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let ctx = HeifContext::read_from_bytes(bytes).ok()?;
    let handle = ctx.primary_image_handle().ok()?;
    Some((handle.width(), handle.height()))
}

/// Decodes the primary image of a HEIF/AVIF file.
pub fn decode(bytes: &[u8], path: &Path, kind: HeifKind) -> Result<Photo> {
    let bad = |what: &str, e: libheif_rs::HeifError| Error::Unsupported {
        path: path.to_path_buf(),
        reason: format!("the {} {what}: {}", kind.name(), e.message),
    };
    let lib = LibHeif::new();
    let ctx = HeifContext::read_from_bytes(bytes).map_err(|e| bad("cannot be read", e))?;
    let handle = ctx
        .primary_image_handle()
        .map_err(|e| bad("has no primary image", e))?;
    within_limit(handle.width(), handle.height(), path)?;
    let alpha = handle.has_alpha_channel();
    let chroma = if alpha {
        RgbChroma::Rgba
    } else {
        RgbChroma::Rgb
    };
    let image = lib
        .decode(&handle, ColorSpace::Rgb(chroma), None)
        .map_err(|e| bad("cannot be decoded", e))?;
    let plane = image
        .planes()
        .interleaved
        .ok_or_else(|| Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!("the {} decoded to no RGB image", kind.name()),
        })?;
    let channels = if alpha { 4 } else { 3 };
    let (pw, ph) = (plane.width as usize, plane.height as usize);
    if plane.storage_bits_per_pixel != 8 * channels as u8
        || plane.stride < pw * channels
        || plane.data.len() < plane.stride * ph.saturating_sub(1) + pw * channels
    {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!("the {} decoded to an unexpected pixel layout", kind.name()),
        });
    }
    let row = |y: usize| &plane.data[y * plane.stride..y * plane.stride + pw * channels];
    let mut rgb = Vec::with_capacity(pw * ph * 3);
    let mut a = alpha.then(|| Vec::with_capacity(pw * ph));
    for y in 0..ph {
        for px in row(y).chunks_exact(channels) {
            rgb.extend_from_slice(&px[..3]);
            if let Some(a) = a.as_mut() {
                a.push(px[3]);
            }
        }
    }
    let invalid = || Error::Unsupported {
        path: path.to_path_buf(),
        reason: format!("the {} decoded to an inconsistent size", kind.name()),
    };
    let mut rgb = RgbImage::from_raw(plane.width, plane.height, rgb).ok_or_else(invalid)?;
    let alpha = match a {
        Some(a) => Some(GrayImage::from_raw(plane.width, plane.height, a).ok_or_else(invalid)?),
        None => None,
    };
    // An ICC profile travels with the pixels. An nclx profile has no bytes to carry: libheif has
    // already used its matrix to make RGB, and colours in a wider gamut are brought into sRGB,
    // which is how a JPEG without a profile is read.
    let icc = handle.color_profile_raw().map(|p| p.data);
    if icc.is_none()
        && let Some(m) = handle.color_profile_nclx().and_then(|n| wide_gamut(&n))
    {
        gamut::convert(&mut rgb, &m);
    }
    Ok(Photo {
        rgb,
        alpha,
        // Written as a JPEG, which every site takes, unless the user keeps the format
        // (`output::encode_heif`).
        format: image::ImageFormat::Jpeg,
        icc,
        exif: exif_block(&handle),
        read_as: Some(kind),
    })
}

/// The conversion into sRGB for an nclx profile whose primaries are not sRGB's, when its
/// transfer is an SDR one (PQ and HLG photos would need tone mapping, which is not done).
fn wide_gamut(nclx: &libheif_rs::ColorProfileNCLX) -> Option<[[f64; 3]; 3]> {
    use libheif_rs::TransferCharacteristics as T;
    if matches!(
        nclx.transfer_characteristics(),
        T::ITU_R_BT_2100_0_PQ | T::ITU_R_BT_2100_0_HLG
    ) {
        return None;
    }
    let xy = |x: f32, y: f32| [f64::from(x), f64::from(y)];
    gamut::matrix_to_srgb(&gamut::Primaries {
        red: xy(nclx.color_primary_red_x(), nclx.color_primary_red_y()),
        green: xy(nclx.color_primary_green_x(), nclx.color_primary_green_y()),
        blue: xy(nclx.color_primary_blue_x(), nclx.color_primary_blue_y()),
        white: xy(nclx.color_primary_white_x(), nclx.color_primary_white_y()),
    })
}

/// The EXIF item's TIFF structure: the item starts with the offset of the TIFF header.
fn exif_block(handle: &libheif_rs::ImageHandle) -> Option<Vec<u8>> {
    let mut ids = [0; 4];
    let n = handle.metadata_block_ids(&mut ids, b"Exif");
    let data = handle.metadata(*ids[..n].first()?).ok()?;
    let offset = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    data.get(4usize.checked_add(offset)?..)
        .filter(|t| t.len() >= 8)
        .map(<[u8]>::to_vec)
}
