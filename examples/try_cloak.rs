//! Development probe: cloak the faces of photos and print what each model and the judge see.
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use facecloak::align::{face_transform, warp_face};
use facecloak::cloak::{Cloaker, Mode, apply_region, region_planes};
use facecloak::detect::Detector;
use facecloak::models::{JUDGE, ModelStore};
use facecloak::recognise::{Recogniser, cosine};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args[0].as_str() {
        "low" => Mode::Low,
        "high" => Mode::High,
        _ => Mode::Mid,
    };
    let store = ModelStore::locate(None).unwrap();
    let mut det = Detector::new(&store).unwrap();
    let mut cloaker = Cloaker::new(&store).unwrap();
    let mut judge = Recogniser::new(&store, &JUDGE).unwrap();
    let stop = AtomicBool::new(false);
    for path in &args[1..] {
        let img = facecloak::io::load_rgb(path.as_ref()).unwrap();
        let faces = det.detect(&img).unwrap();
        let f = &faces[0];
        let t0 = Instant::now();
        let r = cloaker.cloak_face(&img, f, mode, 1, &stop).unwrap();
        let secs = t0.elapsed().as_secs_f32();
        let x0 = region_planes(&img, r.region);
        let out = apply_region(&img, r.region, &x0, &r.delta);
        let t = face_transform(&f.five);
        let a = warp_face(&img, &t).insert_axis(ndarray::Axis(0));
        let b = warp_face(&out, &t).insert_axis(ndarray::Axis(0));
        let ea = judge.embed(a.view()).unwrap();
        let eb = judge.embed(b.view()).unwrap();
        let j = cosine(ea.row(0).as_slice().unwrap(), eb.row(0).as_slice().unwrap());
        println!(
            "{path}: {:.2}s sims {:?} judge {j:.3} face_ssim {:.4} kept {:.2} photo_ssim {:.4}",
            secs,
            r.similarity,
            r.face_ssim,
            r.kept,
            facecloak::quality::ssim_photo(&img, &out, &[r.region])
        );
        if args.len() == 2 {
            out.save("/tmp/cloaked.png").unwrap();
        }
    }
}
