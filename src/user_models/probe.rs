//! What a recogniser's graph does, measured by running it: the shapes of its tensors (for the
//! gradient builder) and whether the built gradient agrees with finite differences.

use std::collections::HashMap;
use std::path::Path;

use ndarray::{Array2, Array4, ArrayView4, Axis, Ix2};
use ort::session::Session;
use ort::value::TensorRef;
use prost::Message;

use super::grad::{Shapes, TARGET};
use super::onnx::{ModelProto, ValueInfo, dtype};
use super::wrap::{EMBEDDING, INPUT};
use crate::align::FACE_SIZE;
use crate::models::ModelStore;
use crate::{Error, Result};

/// Faces the probe runs at once: two, so a graph that only takes one face fails here.
const PROBE_BATCH: usize = 2;

fn refuse(path: &Path, reason: impl Into<String>) -> Error {
    Error::Recogniser {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Every tensor's shape in a run of `model` on two faces, with every computed tensor made an
/// output (its element type followed through the graph, as ONNX Runtime wants it declared).
pub fn measure_shapes(
    store: &ModelStore,
    path: &Path,
    model: &ModelProto,
    faces: ArrayView4<f32>,
) -> Result<Shapes> {
    let mut probe = model.clone();
    let g = probe.graph.as_mut().expect("wrap checked the graph");
    let mut types: HashMap<String, i32> = g
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.data_type))
        .collect();
    types.insert(INPUT.into(), dtype::FLOAT);
    for n in &g.node {
        let first = n.input.first().and_then(|i| types.get(i)).copied();
        let t = match n.op_type.as_str() {
            "Shape" | "Size" => Some(dtype::INT64),
            "Cast" => n.attr("to").map(|a| a.i as i32),
            "Constant" => n
                .attr("value")
                .and_then(|a| a.t.as_ref())
                .map(|t| t.data_type),
            "Greater" | "Less" | "Equal" => Some(dtype::BOOL),
            _ => first,
        };
        if let Some(t) = t {
            for o in &n.output {
                types.insert(o.clone(), t);
            }
        }
    }
    g.output = g
        .node
        .iter()
        .flat_map(|n| n.output.iter())
        .filter_map(|o| types.get(o).map(|&t| ValueInfo::untyped_shape(o, t)))
        .collect();
    let mut session = store.session_from_bytes(path, &probe.encode_to_vec())?;
    let outputs = session.run(ort::inputs![INPUT => TensorRef::from_array_view(faces)?])?;
    let mut shapes = Shapes::from([(
        INPUT.to_string(),
        faces.shape().iter().map(|&d| d as i64).collect(),
    )]);
    for (name, value) in &outputs {
        if let Some(shape) = value.dtype().tensor_shape() {
            shapes.insert(name.to_string(), shape.to_vec());
        }
    }
    let embedding = shapes
        .get(EMBEDDING)
        .ok_or_else(|| refuse(path, "it gave no embedding"))?;
    match embedding.as_slice() {
        [n, d] if *n == faces.shape()[0] as i64 && (32..=8192).contains(d) => Ok(shapes),
        other => Err(refuse(
            path,
            format!(
                "for {} faces it gives an output of shape {other:?}, not one embedding a face",
                faces.shape()[0]
            ),
        )),
    }
}

/// The faces the probe and the gradient check run on: the two public-domain portraits' aligned
/// crops (`models/decoys`), built into the program so that real faces, not noise, are at hand
/// wherever it runs (the app's bundle leaves that folder out).
const PROBE_FACES: [&[u8]; PROBE_BATCH] = [
    include_bytes!("../../models/decoys/obama.png"),
    include_bytes!("../../models/decoys/biden.png"),
];

pub fn probe_faces() -> Array4<f32> {
    let mut faces = Array4::<f32>::zeros((PROBE_BATCH, 3, FACE_SIZE, FACE_SIZE));
    for (k, png) in PROBE_FACES.iter().enumerate() {
        let img = image::load_from_memory(png)
            .expect("the built-in probe faces are PNG")
            .to_rgb8();
        for (x, y, p) in img.enumerate_pixels() {
            if (x as usize) < FACE_SIZE && (y as usize) < FACE_SIZE {
                for c in 0..3 {
                    faces[[k, c, y as usize, x as usize]] = f32::from(p[c]) / 255.0;
                }
            }
        }
    }
    faces
}

/// How the built gradient compares with central differences of its own loss.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GradientCheck {
    /// Along the gradient itself: |difference − gradient| / |gradient|.
    pub along_gradient: f32,
    /// Along random unit directions, the worst |difference − gradient·d| in units of what such a
    /// direction sees of the gradient, |gradient| / √pixels.
    pub random_directions: f32,
    /// The largest difference between the gradient graph's embedding and the plain model's.
    pub embedding_difference: f32,
}

/// Float32 and the kinks of PReLU and ReLU leave a little error; a wrong rule gives far more.
/// The same bounds as the shipped surrogates' test (tests/gradients.rs).
const ALONG_TOLERANCE: f32 = 0.05;
const RANDOM_TOLERANCE: f32 = 0.25;

/// Checks the gradient graph against central differences along the gradient itself and four
/// fixed pseudo-random directions, at the first face with the second face's embedding as target.
pub fn check_gradient(
    forward: &mut Session,
    grad: &mut Session,
    path: &Path,
    faces: ArrayView4<f32>,
) -> Result<GradientCheck> {
    let plain = embed(forward, faces)?;
    let face = faces.index_axis(Axis(0), 0).insert_axis(Axis(0)).to_owned();
    let target = plain.row(1).insert_axis(Axis(0)).to_owned();
    let (emb, _, g) = eval(grad, face.view(), target.view())?;
    let embedding_difference = emb
        .row(0)
        .iter()
        .zip(plain.row(0))
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let norm = g.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>().sqrt() as f32;
    if !norm.is_finite() || norm == 0.0 {
        return Err(refuse(path, "its gradient is zero or not finite"));
    }
    let mut directions = vec![g.mapv(|v| v / norm)];
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..4 {
        let mut d = Array4::<f32>::zeros(face.raw_dim());
        d.mapv_inplace(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        });
        let n = d.iter().map(|v| v * v).sum::<f32>().sqrt();
        directions.push(d.mapv(|v| v / n));
    }
    // A step of 0.01 in the image's L2 norm moves no pixel by more than a few thousandths.
    let h = 0.01f32;
    let mut batch = Array4::<f32>::zeros((2 * directions.len(), 3, FACE_SIZE, FACE_SIZE));
    for (k, d) in directions.iter().enumerate() {
        batch
            .index_axis_mut(Axis(0), 2 * k)
            .assign(&(&face + &(d * h)).index_axis(Axis(0), 0));
        batch
            .index_axis_mut(Axis(0), 2 * k + 1)
            .assign(&(&face - &(d * h)).index_axis(Axis(0), 0));
    }
    // The loss is taken from the plain model's embeddings, so the check does not lean on the
    // gradient graph's own forward half.
    let moved = embed(forward, batch.view())?;
    let loss = |row: usize| {
        f64::from(crate::recognise::cosine(
            &moved.row(row).to_vec(),
            &target.row(0).to_vec(),
        ))
    };
    let seen = norm / (g.len() as f32).sqrt();
    let (mut along, mut random) = (0.0f32, 0.0f32);
    for (k, d) in directions.iter().enumerate() {
        let fd = ((loss(2 * k) - loss(2 * k + 1)) / (2.0 * f64::from(h))) as f32;
        let analytic: f32 = g.iter().zip(d.iter()).map(|(a, b)| a * b).sum();
        if k == 0 {
            along = (fd - analytic).abs() / norm;
        } else {
            random = random.max((fd - analytic).abs() / seen);
        }
    }
    if !(along <= ALONG_TOLERANCE && random <= RANDOM_TOLERANCE) {
        return Err(refuse(
            path,
            format!(
                "its built gradient disagrees with finite differences (along it {along:.3}, \
                 random directions {random:.3}); an op is differentiated wrongly"
            ),
        ));
    }
    let scale = plain.row(0).iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if embedding_difference > 1e-4 * scale.max(1.0) {
        return Err(refuse(
            path,
            format!(
                "its gradient graph's embedding differs from the model's by {embedding_difference}"
            ),
        ));
    }
    Ok(GradientCheck {
        along_gradient: along,
        random_directions: random,
        embedding_difference,
    })
}

fn embed(session: &mut Session, faces: ArrayView4<f32>) -> Result<Array2<f32>> {
    let out = session.run(ort::inputs![INPUT => TensorRef::from_array_view(faces)?])?;
    Ok(out[EMBEDDING]
        .try_extract_array::<f32>()?
        .into_dimensionality::<Ix2>()?
        .to_owned())
}

type Evaluated = (Array2<f32>, ndarray::Array1<f32>, Array4<f32>);

fn eval(
    session: &mut Session,
    faces: ArrayView4<f32>,
    targets: ndarray::ArrayView2<f32>,
) -> Result<Evaluated> {
    let out = session.run(ort::inputs![
        INPUT => TensorRef::from_array_view(faces)?,
        TARGET => TensorRef::from_array_view(targets)?,
    ])?;
    Ok((
        out[EMBEDDING]
            .try_extract_array::<f32>()?
            .into_dimensionality::<Ix2>()?
            .to_owned(),
        out["loss"]
            .try_extract_array::<f32>()?
            .into_dimensionality::<ndarray::Ix1>()?
            .to_owned(),
        out["grad"]
            .try_extract_array::<f32>()?
            .into_dimensionality::<ndarray::Ix4>()?
            .to_owned(),
    ))
}
