//! Hostile and odd input: every file gets a clear per-file outcome and the batch goes on.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use common::fixture;
use facecloak::internals::batch::{Event, Options, Report, cloak_batch, collect_inputs};
use facecloak::internals::cloak::Mode;
use image::{ImageEncoder, RgbImage};

fn run(inputs: &[PathBuf], out: &Path) -> (Report, Vec<Event>) {
    let events = Mutex::new(Vec::new());
    let options = Options {
        mode: Mode::Low,
        out_dir: Some(out.to_path_buf()),
        ..Options::default()
    };
    let report = cloak_batch(
        inputs,
        &options,
        |e| events.lock().unwrap().push(e),
        &AtomicBool::new(false),
    )
    .unwrap();
    (report, events.into_inner().unwrap())
}

fn portrait(scale: u32) -> RgbImage {
    let img = facecloak::internals::io::load_rgb(&fixture("obama.jpg")).unwrap();
    image::imageops::resize(
        &img,
        img.width() / scale,
        img.height() / scale,
        image::imageops::FilterType::Triangle,
    )
}

/// A PNG whose header claims `w`×`h` pixels, with almost no image data behind it.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32fast::hash(&ihdr).to_be_bytes());
    // A tiny zlib stream as image data, and the end chunk: a bomb looks like a valid file.
    for (kind, data) in [
        (&b"IDAT"[..], &b"\x78\x9c\x03\x00\x00\x00\x00\x01"[..]),
        (b"IEND", b""),
    ] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(data);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(&crc32fast::hash(&chunk).to_be_bytes());
    }
    out
}

/// A HEIF file whose every image claims `w`×`h` pixels (its `ispe` boxes rewritten).
fn heif_claiming(heif: &[u8], w: u32, h: u32) -> Vec<u8> {
    let mut out = heif.to_vec();
    let at: Vec<usize> = heif
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"ispe")
        .map(|(i, _)| i)
        .collect();
    assert!(!at.is_empty());
    for i in at {
        out[i + 8..i + 12].copy_from_slice(&w.to_be_bytes());
        out[i + 12..i + 16].copy_from_slice(&h.to_be_bytes());
    }
    out
}

#[test]
fn broken_and_hostile_files_fail_alone_with_their_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = portrait(3);
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(
            good.as_raw(),
            good.width() as u16,
            good.height() as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(
            good.as_raw(),
            good.width(),
            good.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.jpg", Vec::new(), ""),
        ("truncated.jpg", jpeg[..jpeg.len() / 2].to_vec(), ""),
        ("truncated.png", png[..png.len() / 2].to_vec(), ""),
        (
            "letter.jpg",
            b"Dear friend, this is not a photo.".to_vec(),
            "not an image",
        ),
        (
            "document.jpg",
            b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n".to_vec(),
            "not an image",
        ),
        (
            "bomb.png",
            png_header_only(100_000, 100_000),
            "megapixel limit",
        ),
    ];
    if cfg!(target_os = "linux") {
        let heic = std::fs::read(fixture("heif/obama.heic")).unwrap();
        let mut noise = heic[..32].to_vec();
        noise.extend(b"not the boxes a HEIF file holds ".repeat(64));
        cases.extend([
            ("truncated.heic", heic[..heic.len() / 2].to_vec(), "HEIC"),
            ("noise.heic", noise, "HEIC"),
            (
                "bomb.heic",
                heif_claiming(&heic, 20_000, 20_000),
                "megapixel limit",
            ),
        ]);
    }
    let mut inputs = Vec::new();
    for (name, bytes, _) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
        inputs.push(dir.join(name));
    }
    let ok = dir.join("good.jpg");
    std::fs::write(&ok, &jpeg).unwrap();
    inputs.push(ok.clone());
    let out = dir.join("out");
    let (report, _) = run(&inputs, &out);
    assert_eq!(report.done.len(), 1, "{report:#?}");
    assert_eq!(report.done[0].input, ok);
    assert_eq!(report.failed.len(), cases.len(), "{report:#?}");
    for (name, _, reason) in &cases {
        let path = dir.join(name);
        let (_, error) = report.failed.iter().find(|(p, _)| *p == path).unwrap();
        assert!(
            error.contains(&path.display().to_string()),
            "{name}: {error}"
        );
        assert!(error.contains(reason), "{name}: {error}");
    }
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}

#[test]
fn malformed_exif_never_stops_a_photo() {
    let tmp = tempfile::tempdir().unwrap();
    let img = portrait(3);
    let header = |o: u16, count: u32, offset: u32| {
        let mut t = vec![b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0];
        t.extend_from_slice(&count.to_le_bytes());
        t.extend_from_slice(&o.to_le_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&offset.to_le_bytes());
        t
    };
    let blocks: Vec<(&str, Vec<u8>)> = vec![
        ("orientation-9.jpg", header(9, 1, 0)),
        ("orientation-0.jpg", header(0, 1, 0)),
        ("huge-count.jpg", header(1, u32::MAX, 0)),
        (
            "ifd-past-end.jpg",
            vec![b'I', b'I', 42, 0, 0xF0, 0xFF, 0, 0],
        ),
        ("garbage.jpg", vec![0xAB; 64]),
        (
            "big-endian-short.jpg",
            vec![b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 0xFF],
        ),
    ];
    let inputs: Vec<PathBuf> = blocks
        .iter()
        .map(|(name, exif)| {
            let p = tmp.path().join(name);
            std::fs::write(&p, common::jpeg_bytes(&img, Some(exif))).unwrap();
            p
        })
        .collect();
    let out = tmp.path().join("out");
    let (report, _) = run(&inputs, &out);
    assert_eq!(report.done.len(), blocks.len(), "{report:#?}");
    for file in &report.done {
        assert_eq!(
            image::open(&file.output).unwrap().width(),
            img.width(),
            "{}",
            file.output.display()
        );
    }
    // With --keep-metadata, an unparseable block is dropped, never copied.
    let keep = Options {
        mode: Mode::Low,
        keep_metadata: true,
        out_dir: Some(tmp.path().join("keep")),
        ..Options::default()
    };
    let garbage = tmp.path().join("garbage.jpg");
    let report = cloak_batch(
        std::slice::from_ref(&garbage),
        &keep,
        |_| {},
        &AtomicBool::new(false),
    )
    .unwrap();
    let bytes = std::fs::read(&report.done[0].output).unwrap();
    assert!(!bytes.windows(6).any(|w| w == b"Exif\0\0"));
}

#[test]
fn unusual_pixel_formats_and_shapes_are_handled() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let img = portrait(3);
    // 16-bit RGB PNG.
    let wide = image::ImageBuffer::<image::Rgb<u16>, Vec<u16>>::from_fn(
        img.width(),
        img.height(),
        |x, y| {
            let p = img.get_pixel(x, y);
            image::Rgb([
                u16::from(p[0]) * 257,
                u16::from(p[1]) * 257,
                u16::from(p[2]) * 257,
            ])
        },
    );
    wide.save(dir.join("sixteen.png")).unwrap();
    // Greyscale JPEG.
    image::DynamicImage::ImageRgb8(img.clone())
        .to_luma8()
        .save(dir.join("grey.jpg"))
        .unwrap();
    // CMYK JPEG.
    let cmyk: Vec<u8> = img
        .pixels()
        .flat_map(|p| {
            let [r, g, b] = p.0.map(|v| 255 - v);
            let k = r.min(g).min(b);
            [r - k, g - k, b - k, k]
        })
        .collect();
    jpeg_encoder::Encoder::new_file(dir.join("cmyk.jpg"), 90)
        .unwrap()
        .encode(
            &cmyk,
            img.width() as u16,
            img.height() as u16,
            jpeg_encoder::ColorType::Cmyk,
        )
        .unwrap();
    // Animated GIF: the first frame is cloaked, written as PNG.
    {
        let file = std::fs::File::create(dir.join("animated.gif")).unwrap();
        let mut enc = image::codecs::gif::GifEncoder::new(file);
        let rgba = image::DynamicImage::ImageRgb8(img.clone()).to_rgba8();
        let flipped = image::imageops::flip_horizontal(&rgba);
        enc.encode_frames([image::Frame::new(rgba), image::Frame::new(flipped)])
            .unwrap();
    }
    // Tiny and thin images: no face, so not protected.
    RgbImage::new(1, 1).save(dir.join("dot.png")).unwrap();
    RgbImage::new(1, 900).save(dir.join("line.png")).unwrap();
    RgbImage::new(3000, 2).save(dir.join("strip.bmp")).unwrap();
    let (inputs, problems) = collect_inputs(&[dir.to_path_buf()], false);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(inputs.len(), 7);
    let out = dir.join("out");
    let (report, _) = run(&inputs, &out);
    assert!(report.failed.is_empty(), "{:#?}", report.failed);
    let done: Vec<String> = report
        .done
        .iter()
        .map(|d| d.output.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in [
        "sixteen.cloaked.png",
        "grey.cloaked.jpg",
        "cmyk.cloaked.jpg",
        "animated.cloaked.png",
    ] {
        assert!(
            done.iter().any(|d| d == expected),
            "{expected} missing from {done:?}"
        );
    }
    assert_eq!(report.not_protected.len(), 3, "{:#?}", report.not_protected);
    for n in &report.not_protected {
        assert_eq!(n.reason, "no face found");
    }
}

#[cfg(unix)]
#[test]
fn odd_names_links_loops_and_duplicates() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("album");
    std::fs::create_dir(&dir).unwrap();
    let img = portrait(4);
    let odd = dir.join(std::ffi::OsStr::from_bytes(
        b"caf\xe9 photo with spaces.jpg",
    ));
    img.save_with_format(&odd, image::ImageFormat::Jpeg)
        .unwrap();
    let long = dir.join(format!("{}.jpg", "x".repeat(200)));
    img.save(&long).unwrap();
    std::os::unix::fs::symlink(&long, dir.join("link.jpg")).unwrap();
    std::os::unix::fs::symlink(&dir, dir.join("myself")).unwrap();
    // The same file given twice, once directly and once through the folder.
    let (inputs, problems) = collect_inputs(&[dir.clone(), long.clone(), dir.clone()], true);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    let out = tmp.path().join("out");
    let (report, _) = run(&inputs, &out);
    assert_eq!(report.done.len(), 2, "{report:#?}");
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.as_bytes() == b"caf\xe9 photo with spaces.cloaked.jpg"),
        "{names:?}"
    );
}
