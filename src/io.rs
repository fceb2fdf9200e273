//! Reading photos: decoding with sane limits, turning them upright, keeping what must be written back.

use std::path::Path;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::{Error, Result};

/// Largest image FaceCloak will decode: 100 megapixels, which also bounds memory per photo.
pub const MAX_PIXELS: u64 = 100_000_000;

/// A decoded photo, upright, with what the output needs from the original.
pub struct Photo {
    pub rgb: RgbImage,
    /// The alpha channel, when the photo has one (it is written back unchanged).
    pub alpha: Option<GrayImage>,
    pub format: ImageFormat,
    pub icc: Option<Vec<u8>>,
    /// Raw EXIF (TIFF structure), as found.
    pub exif: Option<Vec<u8>>,
}

/// Decodes a photo and applies its EXIF orientation, so faces are upright.
pub fn load_photo(path: &Path) -> Result<Photo> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let decode_err = |source| Error::Decode {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = ImageReader::open(path)
        .map_err(io_err)?
        .with_guessed_format()
        .map_err(io_err)?;
    let format = reader.format().ok_or_else(|| Error::Unsupported {
        path: path.to_path_buf(),
        reason: "not an image FaceCloak can read (JPEG, PNG, WebP, TIFF, BMP or GIF)".into(),
    })?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_err)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "{w}×{h} pixels is over the {} megapixel limit",
                MAX_PIXELS / 1_000_000
            ),
        });
    }
    // Missing or broken metadata is no reason to refuse a photo.
    let icc = decoder.icc_profile().ok().flatten();
    let exif = decoder.exif_metadata().ok().flatten();
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(decode_err)?;
    img.apply_orientation(orientation);
    let alpha = img.color().has_alpha().then(|| {
        let rgba = img.to_rgba8();
        GrayImage::from_fn(rgba.width(), rgba.height(), |x, y| {
            image::Luma([rgba.get_pixel(x, y)[3]])
        })
    });
    Ok(Photo {
        rgb: img.into_rgb8(),
        alpha,
        format,
        icc,
        exif,
    })
}

/// Decodes a photo as upright 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    Ok(load_photo(path)?.rgb)
}
