//! Development probe: equal-error-rate thresholds of every recogniser on a folder of <identity>/<photo>.
use facecloak::internals::align::{face_transform, warp_face};
use facecloak::internals::detect::Detector;
use facecloak::internals::models::{ModelStore, recognisers};
use facecloak::internals::recognise::{Recogniser, pair_scores};

fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let store = ModelStore::locate(None).unwrap();
    let mut det = Detector::new(&store).unwrap();
    let mut people: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    people.sort();
    let (mut faces, mut labels) = (Vec::new(), Vec::new());
    for (id, p) in people.iter().enumerate() {
        let mut files: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files.iter().take(6) {
            let img = facecloak::internals::io::load_rgb(f).unwrap();
            if let Some(face) = det.detect(&img).unwrap().first() {
                faces.push(warp_face(&img, &face_transform(&face.five)));
                labels.push(id);
            }
        }
    }
    let views: Vec<_> = faces.iter().map(|f| f.view()).collect();
    let batch = ndarray::stack(ndarray::Axis(0), &views).unwrap();
    for info in recognisers() {
        let mut r = Recogniser::new(&store, info).unwrap();
        let emb = ndarray::concatenate(
            ndarray::Axis(0),
            &(0..batch.shape()[0])
                .step_by(64)
                .map(|i| {
                    r.embed(batch.slice(ndarray::s![i..(i + 64).min(batch.shape()[0]), .., .., ..]))
                        .unwrap()
                })
                .collect::<Vec<_>>()
                .iter()
                .map(|a| a.view())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let (same, diff) = pair_scores(&emb, &labels);
        let mut best = (1.0f32, 0.0f32);
        for k in 0..200 {
            let t = -0.2 + k as f32 * 0.006;
            let frr = same.iter().filter(|&&s| s < t).count() as f32 / same.len() as f32;
            let far = diff.iter().filter(|&&d| d >= t).count() as f32 / diff.len() as f32;
            if (frr - far).abs() < best.0 {
                best = ((frr - far).abs(), t);
            }
        }
        let t = best.1;
        let frr = same.iter().filter(|&&s| s < t).count() as f32 / same.len() as f32;
        let far = diff.iter().filter(|&&d| d >= t).count() as f32 / diff.len() as f32;
        println!(
            "{}: faces {} same {} diff {} EER threshold {t:.3} (FRR {frr:.3}, FAR {far:.3})",
            info.name,
            labels.len(),
            same.len(),
            diff.len()
        );
    }
}
