//! Photos as phones save them: HEIC (8- and 10-bit, rotated, with a thumbnail, a burst, a depth
//! map) and AVIF, made from the public-domain portraits by `tests/fixtures/heif/make_heif.py`.
#![cfg(target_os = "linux")]

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixture, store};
use facecloak::internals::detect::Detector;
use facecloak::internals::io::load_photo;
use image::RgbImage;
use image::imageops::{FilterType, resize};

/// Mean absolute difference of two images of one size, in 0..255 levels.
fn mean_abs(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

/// The JPEG portrait the fixtures were made from, at their size.
fn source(name: &str, crop_height: u32, size: (u32, u32)) -> RgbImage {
    let img = load_photo(&fixture(name)).unwrap().rgb;
    let top = image::imageops::crop_imm(&img, 0, 0, img.width(), crop_height).to_image();
    resize(&top, size.0, size.1, FilterType::Lanczos3)
}

#[test]
fn heic_and_avif_decode_upright_in_their_true_colours() {
    let obama = source("obama.jpg", 1137, (455, 568));
    for (name, limit) in [
        ("obama.heic", 3.0),
        ("obama.avif", 4.0),
        // Stored a quarter-turn anticlockwise with an irot box (and EXIF orientation 6, which
        // must not turn it a second time).
        ("obama-rotated.heic", 3.0),
        // Two images: the primary (Obama) is the one read.
        ("burst.heic", 4.0),
        // The primary with a depth map (Biden's crop, of another size): the depth map is not read.
        ("with-depth.heic", 4.0),
    ] {
        let photo = load_photo(&fixture(&format!("heif/{name}"))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(photo.rgb.dimensions(), (455, 568), "{name}");
        let diff = mean_abs(&photo.rgb, &obama);
        assert!(diff < limit, "{name}: {diff:.2} levels from its source");
        assert_eq!(photo.format, image::ImageFormat::Jpeg, "{name}");
        assert!(photo.read_as.is_some(), "{name}");
    }
    // 10 bits a channel come out as 8, at the same brightness.
    let photo = load_photo(&fixture("heif/biden-10bit.heic")).unwrap();
    let biden = source("biden.jpg", 1100, (485, 550));
    let diff = mean_abs(&photo.rgb, &biden);
    assert!(diff < 3.0, "10-bit: {diff:.2} levels from its source");
}

/// Colours declared in Display P3 by an nclx box alone are brought into sRGB: greys stay as they
/// are, colours come out more saturated than the same numbers read as sRGB.
#[test]
fn wide_gamut_colours_are_converted_to_srgb() {
    let srgb = load_photo(&fixture("heif/obama.avif")).unwrap().rgb;
    let p3 = load_photo(&fixture("heif/obama-p3.avif")).unwrap();
    assert!(p3.icc.is_none());
    let p3 = p3.rgb;
    let spread = |p: &image::Rgb<u8>| {
        let (lo, hi) = (p.0.iter().min().unwrap(), p.0.iter().max().unwrap());
        f64::from(hi - lo)
    };
    let (mut grey_diff, mut greys, mut sat_srgb, mut sat_p3) = (0.0, 0, 0.0, 0.0);
    for (a, b) in srgb.pixels().zip(p3.pixels()) {
        sat_srgb += spread(a);
        sat_p3 += spread(b);
        if spread(a) < 6.0 {
            greys += 1;
            grey_diff +=
                a.0.iter()
                    .zip(b.0)
                    .map(|(x, y)| f64::from(x.abs_diff(y)))
                    .sum::<f64>()
                    / 3.0;
        }
    }
    assert!(greys > 1000, "{greys} grey pixels");
    let grey_diff = grey_diff / f64::from(greys);
    assert!(grey_diff < 2.0, "greys moved by {grey_diff:.2} levels");
    assert!(
        sat_p3 > 1.1 * sat_srgb,
        "saturation {sat_p3} against {sat_srgb}"
    );
}

#[test]
fn the_faces_of_heic_and_avif_photos_are_found() {
    let mut detector = Detector::new(&store()).unwrap();
    for name in [
        "obama.heic",
        "obama.avif",
        "obama-rotated.heic",
        "biden-10bit.heic",
    ] {
        let photo = load_photo(&fixture(&format!("heif/{name}"))).unwrap();
        let faces = detector.detect(&photo.rgb).unwrap();
        assert_eq!(faces.len(), 1, "{name}");
        assert!(faces[0].score > 0.9, "{name}: score {}", faces[0].score);
        // Upright: the eyes above the mouth.
        let eyes = (faces[0].five[0][1] + faces[0].five[1][1]) / 2.0;
        let mouth = (faces[0].five[3][1] + faces[0].five[4][1]) / 2.0;
        assert!(eyes < mouth, "{name}: eyes at {eyes}, mouth at {mouth}");
    }
}

#[test]
fn a_cloaked_heic_is_written_as_a_jpeg_and_carries_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("IMG_0001.heic");
    std::fs::copy(fixture("heif/obama-rotated.heic"), &input).unwrap();
    let original = std::fs::read(&input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_facecloak"))
        .args(["cloak", "--mode", "low", "--json", "--keep-metadata"])
        .arg(&input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 HEIC/AVIF photo written as JPEG"),
        "{stderr}"
    );
    // The photo's record, after the face's progress record.
    let record: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|r| r["event"] == "done")
        .expect("a done record");
    assert_eq!(record["converted_from"], "HEIC", "{record}");
    let output = dir.path().join("cloaked/IMG_0001.cloaked.jpg");
    assert_eq!(Path::new(record["output"].as_str().unwrap()), output);
    let bytes = std::fs::read(&output).unwrap();
    assert_eq!(
        image::guess_format(&bytes).unwrap(),
        image::ImageFormat::Jpeg
    );
    let cloaked = load_photo(&output).unwrap();
    assert_eq!(cloaked.rgb.dimensions(), (455, 568), "written upright");
    // The HEIC's EXIF item is read and rebuilt from the allow-list: the camera kept, the
    // orientation upright (the pixels are), no thumbnail.
    let exif = cloaked.exif.expect("the allowed EXIF tags are kept");
    let parsed = exif::Reader::new().read_raw(exif).unwrap();
    let model = parsed
        .get_field(exif::Tag::Model, exif::In::PRIMARY)
        .map(|f| f.display_value().to_string());
    assert_eq!(model.as_deref(), Some("\"Canon EOS 5D Mark III\""));
    let orientation = parsed
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0));
    assert!(matches!(orientation, None | Some(1)), "{orientation:?}");
    assert!(parsed.fields().all(|f| f.ifd_num == exif::In::PRIMARY));
    // One JPEG frame: no second image (a thumbnail or the burst's others) rides along.
    let starts = bytes.windows(2).filter(|w| *w == [0xFF, 0xD8]).count();
    assert_eq!(starts, 1);
    assert_eq!(
        std::fs::read(&input).unwrap(),
        original,
        "original untouched"
    );
}

#[test]
fn keep_heif_writes_one_image_with_nothing_uncloaked_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["obama.heic", "with-depth.heic", "obama-rotated.heic"] {
        std::fs::copy(fixture(&format!("heif/{name}")), dir.path().join(name)).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_facecloak"))
        .args(["cloak", "--mode", "low", "--keep-heif", "--keep-metadata"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("written as JPEG"), "{stderr}");
    for name in ["obama", "with-depth", "obama-rotated"] {
        let output = dir.path().join(format!("cloaked/{name}.cloaked.heic"));
        let bytes = std::fs::read(&output).unwrap();
        // The input's thumbnail, depth map and second image are not carried: one image alone.
        let ctx = libheif_rs::HeifContext::read_from_bytes(&bytes).unwrap();
        assert_eq!(ctx.number_of_top_level_images(), 1, "{name}");
        let handle = ctx.primary_image_handle().unwrap();
        assert_eq!(handle.number_of_thumbnails(), 0, "{name}");
        assert!(!handle.has_depth_image(), "{name}");
        let photo = load_photo(&output).unwrap();
        assert_eq!(photo.rgb.dimensions(), (455, 568), "{name}: upright");
        let source = load_photo(&fixture(&format!("heif/{name}.heic"))).unwrap();
        let diff = mean_abs(&photo.rgb, &source.rgb);
        assert!(diff < 4.0, "{name}: {diff:.2} levels from its original");
    }
    let exif = load_photo(&dir.path().join("cloaked/obama-rotated.cloaked.heic"))
        .unwrap()
        .exif
        .expect("the allowed EXIF tags are kept");
    let parsed = exif::Reader::new().read_raw(exif).unwrap();
    assert!(
        parsed
            .get_field(exif::Tag::Model, exif::In::PRIMARY)
            .is_some()
    );
    assert!(parsed.fields().all(|f| f.ifd_num == exif::In::PRIMARY));
}
