//! EXIF for outputs, rebuilt from an allow-list: a cloaked photo may carry what photographers
//! want to keep (camera, lens, exposure, date, author, copyright), never what identifies or
//! locates a person — thumbnails (an uncloaked copy of the face), maker notes, serial numbers,
//! owner names, GPS, comments. Copying the block and deleting known-bad tags would leak whatever
//! the list forgot; building a new block from known-good tags cannot.

use exif::experimental::Writer;
use exif::{Field, In, Tag, Value};

/// The tags kept (from the main image only; the thumbnail's IFD is never read).
const KEPT: &[Tag] = &[
    // The camera and the picture.
    Tag::Make,
    Tag::Model,
    Tag::Software,
    Tag::DateTime,
    Tag::Artist,
    Tag::Copyright,
    Tag::XResolution,
    Tag::YResolution,
    Tag::ResolutionUnit,
    // The exposure.
    Tag::ExifVersion,
    Tag::DateTimeOriginal,
    Tag::DateTimeDigitized,
    Tag::OffsetTime,
    Tag::OffsetTimeOriginal,
    Tag::OffsetTimeDigitized,
    Tag::ExposureTime,
    Tag::FNumber,
    Tag::ExposureProgram,
    Tag::PhotographicSensitivity,
    Tag::SensitivityType,
    Tag::ShutterSpeedValue,
    Tag::ApertureValue,
    Tag::BrightnessValue,
    Tag::ExposureBiasValue,
    Tag::MaxApertureValue,
    Tag::MeteringMode,
    Tag::LightSource,
    Tag::Flash,
    Tag::FocalLength,
    Tag::FocalLengthIn35mmFilm,
    Tag::ColorSpace,
    Tag::ExposureMode,
    Tag::WhiteBalance,
    Tag::DigitalZoomRatio,
    Tag::SceneCaptureType,
    Tag::Contrast,
    Tag::Saturation,
    Tag::Sharpness,
    Tag::SubjectDistanceRange,
    // The lens (its serial number is not kept).
    Tag::LensSpecification,
    Tag::LensMake,
    Tag::LensModel,
];

/// Builds the EXIF block (raw TIFF, as it was given) a cloaked photo carries: the allowed tags
/// of the original, with the orientation set to upright since the pixels are written upright.
/// Returns `None` if the block cannot be read; then nothing is kept rather than risk a leak.
pub fn sanitise_exif(exif: &[u8]) -> Option<Vec<u8>> {
    let parsed = exif::Reader::new().read_raw(exif.to_vec()).ok()?;
    let kept: Vec<&Field> = parsed
        .fields()
        .filter(|f| f.ifd_num == In::PRIMARY && KEPT.contains(&f.tag))
        .collect();
    let upright = Field {
        tag: Tag::Orientation,
        ifd_num: In::PRIMARY,
        value: Value::Short(vec![1]),
    };
    let mut writer = Writer::new();
    for field in &kept {
        writer.push_field(field);
    }
    writer.push_field(&upright);
    let mut out = std::io::Cursor::new(Vec::new());
    writer.write(&mut out, parsed.little_endian()).ok()?;
    Some(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(tag: Tag, ifd_num: In, value: Value) -> Field {
        Field {
            tag,
            ifd_num,
            value,
        }
    }

    fn ascii(s: &str) -> Value {
        Value::Ascii(vec![s.as_bytes().to_vec()])
    }

    #[test]
    fn only_allowed_tags_survive_and_orientation_is_upright() {
        let fields = [
            field(Tag::Make, In::PRIMARY, ascii("Canon")),
            field(Tag::Orientation, In::PRIMARY, Value::Short(vec![6])),
            field(Tag::BodySerialNumber, In::PRIMARY, ascii("0123456789")),
            field(
                Tag::MakerNote,
                In::PRIMARY,
                Value::Undefined(vec![7; 64], 0),
            ),
            field(Tag::GPSLatitudeRef, In::PRIMARY, ascii("N")),
            field(Tag::Make, In::THUMBNAIL, ascii("thumb")),
        ];
        let mut w = Writer::new();
        fields.iter().for_each(|f| w.push_field(f));
        let mut buf = std::io::Cursor::new(Vec::new());
        w.write(&mut buf, true).unwrap();
        let out = sanitise_exif(&buf.into_inner()).unwrap();
        let read = exif::Reader::new().read_raw(out).unwrap();
        let tags: Vec<(Tag, In)> = read.fields().map(|f| (f.tag, f.ifd_num)).collect();
        assert_eq!(
            tags,
            [(Tag::Make, In::PRIMARY), (Tag::Orientation, In::PRIMARY)]
        );
        let orientation = read.get_field(Tag::Orientation, In::PRIMARY).unwrap();
        assert_eq!(orientation.value.get_uint(0), Some(1));
    }

    #[test]
    fn unreadable_blocks_are_dropped() {
        assert!(sanitise_exif(b"not exif").is_none());
        assert!(sanitise_exif(b"II*\0\xff\xff\xff\xff").is_none());
    }
}
