//! Reading photos: decoding with sane limits, turning them upright, keeping what must be written back.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use crate::heif::{self, HeifKind};
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
    /// Set when the photo was a HEIC or AVIF: written back as a JPEG (`format`), or in its own
    /// format when the options keep it (`keep_heif`).
    pub read_as: Option<HeifKind>,
}

/// Reads and decodes a photo file; see [`decode_photo`].
pub fn load_photo(path: &Path) -> Result<Photo> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_photo(&bytes, path)
}

/// Decodes a photo and applies its orientation, so faces are upright. `path` only names the
/// photo in errors. The format is judged by content, not by name: a text file called .jpg is not
/// a JPEG.
pub fn decode_photo(bytes: &[u8], path: &Path) -> Result<Photo> {
    let unsupported = |reason: String| Error::Unsupported {
        path: path.to_path_buf(),
        reason,
    };
    let decode_err = |source| Error::Decode {
        path: path.to_path_buf(),
        source,
    };
    if bytes.is_empty() {
        return Err(unsupported("the file is empty".into()));
    }
    if let Some(kind) = heif::sniff(bytes) {
        return heif::decode(bytes, path, kind);
    }
    let format = image::guess_format(bytes).map_err(|_| {
        unsupported(
            "not an image FaceCloak can read (JPEG, PNG, WebP, TIFF, BMP, GIF, HEIC or AVIF)"
                .into(),
        )
    })?;
    // The JPEG decoder pads a cut-off file with grey; such a photo is refused, not cloaked.
    if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
        return Err(unsupported(
            "the JPEG is truncated (it ends before its last scan does)".into(),
        ));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(decode_err)?;
    let (w, h) = decoder.dimensions();
    within_limit(w, h, path)?;
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
        read_as: None,
    })
}

/// Refuses an image whose header claims more than `MAX_PIXELS`, before anything is decoded.
pub(crate) fn within_limit(w: u32, h: u32, path: &Path) -> Result<()> {
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            reason: format!(
                "{w}×{h} pixels is over the {} megapixel limit",
                MAX_PIXELS / 1_000_000
            ),
        });
    }
    Ok(())
}

/// Whether an end-of-image marker follows the last start-of-scan marker. Inside scan data every
/// 0xFF byte is followed by 0x00 or a restart marker, so neither marker can occur by chance there.
fn jpeg_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

/// Decodes a photo as upright 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<RgbImage> {
    Ok(load_photo(path)?.rgb)
}
