//! Face recognisers: plain embeddings, and the gradient graphs the cloak is optimised with.

use ndarray::{Array1, Array2, Array4, ArrayView2, ArrayView4, Ix1, Ix2, Ix4};
use ort::session::Session;
use ort::value::TensorRef;

use crate::align::FACE_SIZE;
use crate::models::{ModelInfo, ModelStore};
use crate::{Error, Result};

/// A recogniser's forward pass: aligned faces (N×3×112×112, RGB in [0, 1]) to embeddings.
pub struct Recogniser {
    pub info: &'static ModelInfo,
    session: Session,
    /// Set when the plain model is not installed and its gradient graph (which also gives the
    /// embedding) stands in: the app ships only gradient graphs of the large surrogates.
    target_dim: Option<usize>,
}

impl Recogniser {
    pub fn new(store: &ModelStore, info: &'static ModelInfo) -> Result<Self> {
        let (file, target_dim) = match info.grad_file {
            Some(grad) if !store.path(info.file).is_file() && store.path(grad).is_file() => {
                (grad, Some(info.embedding_dim.unwrap_or(1)))
            }
            _ => (info.file, None),
        };
        let session = store.session(file)?;
        check_face_input(&session, store, file)?;
        Ok(Self {
            info,
            session,
            target_dim,
        })
    }

    /// Whether this recogniser's model (or its gradient graph) is installed.
    pub fn installed(store: &ModelStore, info: &ModelInfo) -> bool {
        store.path(info.file).is_file() || info.grad_file.is_some_and(|g| store.path(g).is_file())
    }

    pub fn embed(&mut self, faces: ArrayView4<f32>) -> Result<Array2<f32>> {
        let image = TensorRef::from_array_view(faces)?;
        let outputs = match self.target_dim {
            None => self.session.run(ort::inputs!["image" => image])?,
            Some(dim) => {
                let dummy = Array2::<f32>::ones((faces.shape()[0], dim));
                self.session.run(ort::inputs![
                    "image" => image,
                    "target" => TensorRef::from_array_view(dummy.view())?,
                ])?
            }
        };
        Ok(outputs["embedding"]
            .try_extract_array::<f32>()?
            .into_dimensionality::<Ix2>()?
            .to_owned())
    }
}

/// One evaluation of a gradient graph.
pub struct Gradient {
    pub embedding: Array2<f32>,
    /// Cosine similarity of each embedding to its target.
    pub loss: Array1<f32>,
    /// d loss / d face, per face.
    pub grad: Array4<f32>,
}

/// A surrogate's gradient graph: faces and target embeddings in; embedding, cosine loss and its
/// gradient with respect to the face out.
pub struct GradientGraph {
    pub info: &'static ModelInfo,
    session: Session,
}

impl GradientGraph {
    pub fn new(store: &ModelStore, info: &'static ModelInfo) -> Result<Self> {
        let file = info.grad_file.ok_or_else(|| Error::ModelShape {
            path: store.path(info.file),
            reason: format!("{} has no gradient graph", info.name),
        })?;
        let session = store.session(file)?;
        check_face_input(&session, store, file)?;
        Ok(Self { info, session })
    }

    pub fn eval(&mut self, faces: ArrayView4<f32>, targets: ArrayView2<f32>) -> Result<Gradient> {
        let outputs = self.session.run(ort::inputs![
            "image" => TensorRef::from_array_view(faces)?,
            "target" => TensorRef::from_array_view(targets)?,
        ])?;
        Ok(Gradient {
            embedding: outputs[0]
                .try_extract_array::<f32>()?
                .into_dimensionality::<Ix2>()?
                .to_owned(),
            loss: outputs["loss"]
                .try_extract_array::<f32>()?
                .into_dimensionality::<Ix1>()?
                .to_owned(),
            grad: outputs["grad"]
                .try_extract_array::<f32>()?
                .into_dimensionality::<Ix4>()?
                .to_owned(),
        })
    }
}

/// A corrupt or mismatched model file is caught at load time, not as a wrong answer later.
fn check_face_input(session: &Session, store: &ModelStore, file: &str) -> Result<()> {
    let ok = session.inputs().first().is_some_and(|input| {
        input.name() == "image"
            && input.dtype().tensor_shape().is_some_and(|s| {
                s.len() == 4 && s[1] == 3 && s[2] == FACE_SIZE as i64 && s[3] == FACE_SIZE as i64
            })
    });
    if ok {
        Ok(())
    } else {
        Err(Error::ModelShape {
            path: store.path(file),
            reason: "input is not `image` N×3×112×112".into(),
        })
    }
}

/// Cosine similarity of two embeddings.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        ab += f64::from(x) * f64::from(y);
        aa += f64::from(x) * f64::from(x);
        bb += f64::from(y) * f64::from(y);
    }
    (ab / (aa.sqrt() * bb.sqrt()).max(1e-12)) as f32
}

/// Cosine similarities of every pair of embeddings (rows), split into same-label and
/// different-label pairs.
pub fn pair_scores(emb: &ndarray::Array2<f32>, labels: &[usize]) -> (Vec<f32>, Vec<f32>) {
    let (mut same, mut diff) = (Vec::new(), Vec::new());
    for i in 0..labels.len() {
        for j in i + 1..labels.len() {
            let row = |k: usize| {
                emb.row(k)
                    .to_slice()
                    .expect("rows of an owned array are contiguous")
            };
            let c = cosine(row(i), row(j));
            if labels[i] == labels[j] {
                same.push(c)
            } else {
                diff.push(c)
            }
        }
    }
    (same, diff)
}
