//! Speed measurements (`facecloak bench`, `cargo bench`): seconds per face per mode, time per
//! stage, forward+backward per surrogate, and throughput with one core and with all of them.

pub mod compose;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde_json::json;

use crate::align::{face_transform, warp_face};
use crate::cloak::{Cloaker, Mode};
use crate::detect::Detector;
use crate::models::{ModelStore, Role};
use crate::output::{WriteOptions, encode, output_format};
use crate::recognise::GradientGraph;

/// The sample portrait the benchmark uses unless told otherwise.
pub fn default_photo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/obama.jpg")
}

/// Runs the benchmark on the first face of `photo`; `faces` faces per throughput measurement;
/// with `added`, the recognisers a user added there take part, as they do in a cloak.
pub fn run(
    photo: &Path,
    modes: &[Mode],
    faces: usize,
    added: Option<&Path>,
) -> crate::Result<serde_json::Value> {
    let photo = photo.to_path_buf();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut store = ModelStore::locate(None)?;
    if let Some(dir) = added {
        store = store.with_added(dir);
    }
    let never = AtomicBool::new(false);

    let t = Instant::now();
    let decoded = crate::io::load_photo(&photo)?;
    let decode_s = t.elapsed().as_secs_f64();
    let mut detector = Detector::new(&store)?;
    let t = Instant::now();
    let found = detector.detect(&decoded.rgb)?;
    let detect_s = t.elapsed().as_secs_f64();
    let face = found.first().ok_or_else(|| crate::Error::Unsupported {
        path: photo.clone(),
        reason: "no face to benchmark with".into(),
    })?;
    let t = Instant::now();
    let (format, _) = output_format(decoded.format);
    encode(&decoded, &decoded.rgb, format, &WriteOptions::default())?;
    let encode_s = t.elapsed().as_secs_f64();

    // Forward+backward per surrogate, one face and a batch of two, one thread.
    let crop = warp_face(&decoded.rgb, &face_transform(&face.five)).insert_axis(Axis(0));
    let pair = ndarray::concatenate(Axis(0), &[crop.view(), crop.view()]).expect("same shapes");
    let mut per_model = serde_json::Map::new();
    let surrogates = store
        .recognisers()
        .into_iter()
        .filter(|r| matches!(r.role, Role::Surrogate | Role::Added));
    for info in surrogates {
        let mut g = GradientGraph::new(&store, info)?;
        let dim = info.embedding_dim.unwrap_or(1);
        let mut time = |batch: &ndarray::Array4<f32>| -> crate::Result<f64> {
            let target = Array2::<f32>::ones((batch.shape()[0], dim));
            g.eval(batch.view(), target.view())?;
            let t = Instant::now();
            for _ in 0..10 {
                g.eval(batch.view(), target.view())?;
            }
            Ok(t.elapsed().as_secs_f64() / 10.0)
        };
        let one = time(&crop)?;
        let two = time(&pair)?;
        per_model.insert(
            info.name.into(),
            json!({ "seconds_batch_1": one, "seconds_batch_2": two }),
        );
    }

    // Seconds per face per mode, one face on one core (as the batch runs each photo).
    let mut per_mode = serde_json::Map::new();
    let mut cloaker = Cloaker::new(&store)?;
    for &mode in modes {
        let t = Instant::now();
        cloaker.cloak_face(&decoded.rgb, face, &mode.params_with(&store), 0, &never)?;
        per_mode.insert(mode.name().into(), json!(t.elapsed().as_secs_f64()));
    }

    // Throughput: `faces` faces in mid mode with one worker, then one worker per core.
    let mid = Mode::Mid.params_with(&store);
    let throughput = |workers: usize| -> crate::Result<f64> {
        let single = store.clone().with_intra_threads(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(workers)
            .build()
            .expect("thread pool");
        let t = Instant::now();
        pool.install(|| {
            (0..faces).into_par_iter().try_for_each_init(
                || Cloaker::new(&single),
                |cloaker, i| {
                    let cloaker = cloaker.as_mut().map_err(|e| crate::Error::Unsupported {
                        path: PathBuf::new(),
                        reason: e.to_string(),
                    })?;
                    cloaker
                        .cloak_face(&decoded.rgb, face, &mid, i as u64, &never)
                        .map(|_| ())
                },
            )
        })?;
        Ok(faces as f64 / t.elapsed().as_secs_f64())
    };
    let one = throughput(1)?;
    let all = throughput(cores)?;

    let report = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "photo": photo,
        "size": [decoded.rgb.width(), decoded.rgb.height()],
        "cores": cores,
        "stages_seconds": { "decode": decode_s, "detect": detect_s, "encode": encode_s },
        "seconds_per_face": per_mode,
        "forward_backward_seconds": per_model,
        "throughput_faces_per_second": { "one_core": one, "all_cores": all, "scaling": all / one },
    });
    Ok(report)
}
