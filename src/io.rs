//! Reading photos: decoding with sane limits and turning them upright.

use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::{Error, Result};

/// Largest image FaceCloak will decode: 100 megapixels, which also bounds memory per photo.
pub const MAX_PIXELS: u64 = 100_000_000;

/// Decodes a photo and applies its EXIF orientation, so faces are upright.
pub fn load_upright(path: &Path) -> Result<DynamicImage> {
    let decode_err = |source| Error::Decode {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = ImageReader::open(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .with_guessed_format()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 * 2);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_err)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(decode_err(image::ImageError::Limits(
            image::error::LimitError::from_kind(image::error::LimitErrorKind::DimensionError),
        )));
    }
    // A broken orientation tag is no reason to refuse a photo: treat it as upright.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    img.apply_orientation(orientation);
    Ok(img)
}

/// Decodes a photo as upright 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    Ok(load_upright(path)?.into_rgb8())
}
