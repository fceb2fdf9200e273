//! Development probe: what one cloak does to every local recogniser, white-box surrogates
//! included, against the face's SSIMULACRA2 at feed size: where the frontier lies for the
//! optimiser itself. `whitebox PHOTO[:PHOTO...] UPSCALE [KNOB=VALUE,...]...` (each argument after
//! the upscale is one variant of the default mode); prints one tab-separated line per photo and
//! variant.
use std::sync::atomic::AtomicBool;

use facecloak::internals::cloak::{Cloaker, Params};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::ModelStore;
use facecloak::internals::verify::Verifier;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let up: u32 = args[1].parse().unwrap();
    let store = ModelStore::locate(None).unwrap().with_intra_threads(1);
    let mut detector = Detector::new(&store).unwrap();
    let mut cloaker = Cloaker::new(&store).unwrap();
    let mut verifier = Verifier::new(&store).unwrap();
    for path in args[0].split(':') {
        let img = load(path, up);
        let face = detector.detect(&img).unwrap().remove(0);
        probe(&img, &face, &args[2..], path, &mut cloaker, &mut verifier);
    }
}

fn load(path: &str, up: u32) -> image::RgbImage {
    let mut img = facecloak::internals::io::load_rgb(std::path::Path::new(path)).unwrap();
    if up > 1 {
        img = image::imageops::resize(
            &img,
            img.width() * up,
            img.height() * up,
            image::imageops::FilterType::Lanczos3,
        );
    }
    img
}

fn probe(
    img: &image::RgbImage,
    face: &facecloak::internals::detect::Face,
    specs: &[String],
    name: &str,
    cloaker: &mut Cloaker,
    verifier: &mut Verifier,
) {
    let stop = AtomicBool::new(false);
    for spec in specs {
        let mut p = Params::default();
        for k in spec.split(',').filter(|k| !k.is_empty()) {
            p.set(k).unwrap();
        }
        let r = cloaker.cloak_face(img, face, &p, 0, &stop).unwrap();
        let (kept, q, secs) = (r.kept, r.quality, r.seconds);
        let out = facecloak::internals::cloak::combine(img, vec![r]).image;
        let checks = verifier.check(img, &out, face).unwrap();
        let sims: Vec<String> = checks
            .iter()
            .map(|c| format!("{}={:.3}", c.model, c.similarity))
            .collect();
        println!(
            "{name}\t{spec}\t{kept:.2}\t{:.1}\t{:.1}\t{secs:.1}\t{}",
            q.display,
            q.full,
            sims.join("\t")
        );
    }
}
