//! Rebuilds `models/decoys/`: the aligned 112×112 faces of the public-domain fixture portraits,
//! which the `decoy` knob steers a cloak toward. `decoys OUT_DIR PHOTO...`
use facecloak::internals::align::{face_transform, warp_face};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::ModelStore;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let store = ModelStore::locate(None).unwrap();
    let mut detector = Detector::new(&store).unwrap();
    for path in &args[1..] {
        let img = facecloak::internals::io::load_rgb(std::path::Path::new(path)).unwrap();
        let face = detector.detect(&img).unwrap().remove(0);
        let crop = warp_face(&img, &face_transform(&face.five));
        let out = image::RgbImage::from_fn(112, 112, |x, y| {
            image::Rgb(std::array::from_fn(|c| {
                (crop[[c, y as usize, x as usize]] * 255.0).round() as u8
            }))
        });
        let stem = std::path::Path::new(path).file_stem().unwrap();
        out.save(
            std::path::Path::new(&args[0])
                .join(stem)
                .with_extension("png"),
        )
        .unwrap();
    }
}
