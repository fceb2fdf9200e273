//! Development probe: writes every photo's first face, aligned onto the shared 112×112 template,
//! as `<out>/<identity>/<photo>.png`, for checking a candidate recogniser's preprocessing outside
//! the project (models/tools). `crops DATASET OUT [UPSCALE]`.
use std::path::Path;

use facecloak::internals::align::{face_transform, warp_face};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::ModelStore;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dataset, out) = (Path::new(&args[0]), Path::new(&args[1]));
    let store = ModelStore::locate(None).unwrap();
    let mut det = Detector::new(&store).unwrap();
    let mut people: Vec<_> = std::fs::read_dir(dataset)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    for person in people {
        let dir = out.join(person.file_name().unwrap());
        std::fs::create_dir_all(&dir).unwrap();
        let mut files: Vec<_> = std::fs::read_dir(&person)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let Ok(img) = facecloak::internals::io::load_rgb(&f) else {
                continue;
            };
            let Some(face) = det.detect(&img).unwrap().into_iter().next() else {
                continue;
            };
            let crop = warp_face(&img, &face_transform(&face.five));
            let png = image::RgbImage::from_fn(112, 112, |x, y| {
                image::Rgb(std::array::from_fn(|c| {
                    (crop[[c, y as usize, x as usize]] * 255.0)
                        .round()
                        .clamp(0.0, 255.0) as u8
                }))
            });
            png.save(dir.join(f.file_stem().unwrap()).with_extension("png"))
                .unwrap();
        }
    }
}
