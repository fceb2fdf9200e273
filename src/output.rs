//! Writing cloaked photos: the input's format, metadata handled, atomically (temp file + rename).

use std::io::Write;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageEncoder, ImageFormat, RgbaImage};

use crate::heif::HeifKind;
use crate::io::Photo;
use crate::metadata::sanitise_exif;
use crate::{Error, Result};

/// What to carry over from the original and what to add.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Keep the EXIF tags of the allow-list (`metadata`: camera, exposure, date, author; never
    /// location, serial numbers or thumbnails), orientation reset. Default: strip it.
    pub keep_metadata: bool,
    /// Record the mode and seed in the file (XMP for JPEG, a text chunk for PNG).
    pub tag: Option<String>,
    /// Replace an existing output.
    pub overwrite: bool,
}

/// JPEG quality: high enough that the cloak survives our own encode.
pub const JPEG_QUALITY: u8 = 95;

/// Every extension `output_format` and `heif_extension` can give an output.
pub const OUTPUT_EXTENSIONS: [&str; 7] = ["jpg", "webp", "tif", "bmp", "png", "heic", "avif"];

/// The output's format and extension for an input format: the same, except GIF, written as PNG.
pub fn output_format(input: ImageFormat) -> (ImageFormat, &'static str) {
    match input {
        ImageFormat::Jpeg => (ImageFormat::Jpeg, "jpg"),
        ImageFormat::WebP => (ImageFormat::WebP, "webp"),
        ImageFormat::Tiff => (ImageFormat::Tiff, "tif"),
        ImageFormat::Bmp => (ImageFormat::Bmp, "bmp"),
        _ => (ImageFormat::Png, "png"),
    }
}

/// The EXIF block an output carries: the allow-listed tags, when metadata is kept at all.
fn kept_exif(photo: &Photo, opts: &WriteOptions) -> Option<Vec<u8>> {
    if opts.keep_metadata {
        photo.exif.as_deref().and_then(sanitise_exif)
    } else {
        None
    }
}

/// The extension of a HEIC or AVIF photo written in its own format.
pub fn heif_extension(kind: HeifKind) -> &'static str {
    match kind {
        HeifKind::Heic => "heic",
        HeifKind::Avif => "avif",
    }
}

/// Encodes the cloaked pixels of a HEIC or AVIF photo in its own format, with the same
/// metadata rules as `encode`.
pub fn encode_heif(
    photo: &Photo,
    pixels: &image::RgbImage,
    kind: HeifKind,
    opts: &WriteOptions,
) -> Result<Vec<u8>> {
    let exif = kept_exif(photo, opts);
    let xmp = opts.tag.as_deref().map(xmp_packet);
    crate::heif::encode(photo, pixels, kind, exif.as_deref(), xmp.as_deref())
}

/// Encodes the cloaked pixels (with the original's alpha, ICC profile and, if asked, EXIF).
pub fn encode(
    photo: &Photo,
    pixels: &image::RgbImage,
    format: ImageFormat,
    opts: &WriteOptions,
) -> Result<Vec<u8>> {
    let exif = kept_exif(photo, opts);
    let mut buf = Vec::new();
    let enc_err = |e: Box<dyn std::error::Error + Send + Sync>| Error::Encode {
        path: PathBuf::new(),
        source: e,
    };
    match format {
        ImageFormat::Jpeg => {
            let mut enc = jpeg_encoder::Encoder::new(&mut buf, JPEG_QUALITY);
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
            enc.set_optimized_huffman_tables(true);
            if let Some(icc) = &photo.icc {
                enc.add_icc_profile(icc).map_err(|e| enc_err(Box::new(e)))?;
            }
            if let Some(exif) = &exif {
                // EXIF that does not fit one segment is dropped rather than truncated.
                let _ = enc.add_exif_metadata(exif);
            }
            if let Some(tag) = &opts.tag {
                let mut segment = XMP_NAMESPACE.to_vec();
                segment.extend(xmp_packet(tag));
                enc.add_app_segment(1, segment)
                    .map_err(|e| enc_err(Box::new(e)))?;
            }
            enc.encode(
                pixels.as_raw(),
                pixels.width() as u16,
                pixels.height() as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .map_err(|e| enc_err(Box::new(e)))?;
        }
        ImageFormat::Png => {
            let mut enc = image::codecs::png::PngEncoder::new(&mut buf);
            if let Some(icc) = &photo.icc {
                let _ = enc.set_icc_profile(icc.clone());
            }
            if let Some(exif) = exif {
                let _ = enc.set_exif_metadata(exif);
            }
            let img = with_alpha(photo, pixels);
            enc.write_image(
                img.as_bytes(),
                img.width(),
                img.height(),
                img.color().into(),
            )
            .map_err(|e| enc_err(Box::new(e)))?;
            if let Some(tag) = &opts.tag {
                buf = png_with_text(&buf, "FaceCloak", tag);
            }
        }
        other => {
            with_alpha(photo, pixels)
                .write_to(&mut std::io::Cursor::new(&mut buf), other)
                .map_err(|e| enc_err(Box::new(e)))?;
        }
    }
    Ok(buf)
}

fn with_alpha(photo: &Photo, pixels: &image::RgbImage) -> DynamicImage {
    match &photo.alpha {
        Some(alpha) => DynamicImage::ImageRgba8(RgbaImage::from_fn(
            pixels.width(),
            pixels.height(),
            |x, y| {
                let p = pixels.get_pixel(x, y);
                image::Rgba([p[0], p[1], p[2], alpha.get_pixel(x, y)[0]])
            },
        )),
        None => DynamicImage::ImageRgb8(pixels.clone()),
    }
}

/// What starts a JPEG's XMP segment, before the packet.
const XMP_NAMESPACE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

fn xmp_packet(tag: &str) -> Vec<u8> {
    let mut seg = Vec::new();
    seg.extend_from_slice(
        format!(
            "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
             <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
             xmlns:facecloak=\"https://facecloak.invalid/ns/1.0/\" facecloak:FaceCloak=\"{tag}\"/>\
             </rdf:RDF></x:xmpmeta><?xpacket end=\"r\"?>"
        )
        .as_bytes(),
    );
    seg
}

/// Inserts a tEXt chunk right after IHDR.
fn png_with_text(png: &[u8], key: &str, text: &str) -> Vec<u8> {
    let ihdr_end = 8 + 8 + 13 + 4;
    let mut data = key.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(text.as_bytes());
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    let mut body = b"tEXt".to_vec();
    body.extend_from_slice(&data);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    let mut out = png[..ihdr_end].to_vec();
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[ihdr_end..]);
    out
}

/// The image after a JPEG encode and decode at `quality`, as upload platforms re-encode: 4:2:0
/// chroma below quality 90, full-resolution chroma from 90 up (the encoder's own choice). `None`
/// when the image is too large for one JPEG (65535 pixels a side).
pub fn reencode_jpeg(img: &image::RgbImage, quality: u8) -> Option<image::RgbImage> {
    let buf = jpeg_bytes(img, quality, false)?;
    let decoded = image::load_from_memory_with_format(&buf, ImageFormat::Jpeg).ok()?;
    Some(decoded.into_rgb8())
}

/// A plain JPEG of `img` (no metadata), with full-resolution chroma, or else the encoder's choice
/// (4:2:0 below quality 90). `None` when the image is too large for one JPEG (65535 pixels a
/// side).
pub fn jpeg_bytes(img: &image::RgbImage, quality: u8, full_chroma: bool) -> Option<Vec<u8>> {
    let (w, h) = (
        u16::try_from(img.width()).ok()?,
        u16::try_from(img.height()).ok()?,
    );
    let mut buf = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut buf, quality);
    if full_chroma {
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_1_1);
    }
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .ok()?;
    Some(buf)
}

/// Prefix of the temporary files outputs are written through; a crashed run's leftovers carry it.
pub const TEMP_PREFIX: &str = ".facecloak-";
pub const TEMP_SUFFIX: &str = ".tmp";

/// Writes `bytes` to `target` atomically: a temporary file in the same folder, synced, then
/// renamed. Either the whole output appears or nothing does.
pub fn write_atomic(target: &Path, bytes: &[u8], overwrite: bool) -> Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let io_err = |source| Error::Io {
        path: target.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io_err)?;
    // Held until the file is persisted or dropped: the lock, not the process id in the name,
    // is what tells a later run that this temporary file is still being written.
    tmp.as_file().lock().map_err(io_err)?;
    tmp.write_all(bytes).map_err(io_err)?;
    // Temporary files are private; the finished photo gets ordinary permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_err)?;
    }
    tmp.as_file().sync_all().map_err(io_err)?;
    if overwrite {
        tmp.persist(target).map_err(|e| io_err(e.error))?;
    } else {
        tmp.persist_noclobber(target).map_err(|e| io_err(e.error))?;
    }
    Ok(())
}

/// Removes temporary files left in `dir` by FaceCloak runs that are no longer alive (for example
/// killed mid-write), so no partial output survives a crash. A live run holds an exclusive lock
/// on its temporary file (released by the system when the process dies), so a file that can be
/// locked, and has not been touched for a few seconds, belongs to nobody.
pub fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(TEMP_PREFIX)
            && name.ends_with(TEMP_SUFFIX)
            && is_abandoned(&entry.path())
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn is_abandoned(path: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) else {
        return false;
    };
    // The age guards the instant between a writer creating its file and locking it.
    let old = file
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() >= 5);
    old && file.try_lock().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unlocked_old_temporary_files_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            let path = dir.path().join(name);
            let f = std::fs::File::create(&path).unwrap();
            let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
            f.set_modified(old).unwrap();
            (path, f)
        };
        let (abandoned, f) = make(&format!("{TEMP_PREFIX}1-a{TEMP_SUFFIX}"));
        drop(f);
        let (live, f) = make(&format!("{TEMP_PREFIX}2-b{TEMP_SUFFIX}"));
        f.lock().unwrap();
        let (fresh, _f) = make("photo.jpg");
        remove_stale_temps(dir.path());
        assert!(!abandoned.exists(), "a file nobody holds is removed");
        assert!(live.exists(), "a file another writer holds is kept");
        assert!(fresh.exists(), "other files are never touched");
        drop(f);
    }

    #[test]
    fn every_output_extension_is_listed() {
        for f in [
            ImageFormat::Jpeg,
            ImageFormat::Png,
            ImageFormat::WebP,
            ImageFormat::Tiff,
            ImageFormat::Bmp,
            ImageFormat::Gif,
        ] {
            assert!(OUTPUT_EXTENSIONS.contains(&output_format(f).1), "{f:?}");
        }
    }
}
