//! The surrogate ensemble: one loss and one gradient from several recognisers.

use ndarray::{Array2, Array4, ArrayView4};

use crate::Result;
use crate::models::{FACERES_SURROGATE, ModelStore, SURROGATES};
use crate::recognise::GradientGraph;

/// How far below each surrogate's match threshold the optimiser aims, so the cloak survives
/// re-encoding and resizing.
const SAFETY_MARGIN: f32 = 0.15;

/// How sharply the ensemble weights favour the surrogate furthest above its match threshold.
const WEIGHT_TEMPERATURE: f32 = 0.1;

pub(super) struct Ensemble {
    /// The surrogates, then the experiment's FaceRes once a face has asked for it (kept loaded,
    /// so variants that alternate do not load it again).
    graphs: Vec<GradientGraph>,
    /// How many of `graphs` the current face uses.
    active: usize,
    store: ModelStore,
}

impl Ensemble {
    pub(super) fn new(store: &ModelStore) -> Result<Self> {
        let graphs: Vec<GradientGraph> = SURROGATES
            .iter()
            .map(|info| GradientGraph::new(store, info))
            .collect::<Result<_>>()?;
        Ok(Self {
            active: graphs.len(),
            graphs,
            store: store.clone(),
        })
    }

    /// Adds FaceRes to the surrogates, or takes it out again (the `faceres` experiment).
    pub(super) fn with_faceres(&mut self, on: bool) -> Result<()> {
        if on && self.graphs.len() == SURROGATES.len() {
            self.graphs
                .push(GradientGraph::new(&self.store, &FACERES_SURROGATE)?);
        }
        self.active = SURROGATES.len() + usize::from(on);
        Ok(())
    }

    /// Embeddings of aligned faces under every surrogate.
    pub(super) fn embed(&mut self, faces: ArrayView4<f32>) -> Result<Vec<Array2<f32>>> {
        self.graphs[..self.active]
            .iter_mut()
            .map(|g| {
                let dim = g.info.embedding_dim.unwrap_or(1);
                let dummy = Array2::<f32>::ones((faces.shape()[0], dim));
                Ok(g.eval(faces, dummy.view())?.embedding)
            })
            .collect()
    }

    /// d(weighted cosine to the originals)/d(crops) for a batch of views of one face.
    /// Each surrogate's gradient is normalised so none dominates by scale; the one that still
    /// recognises the face best (relative to its threshold) gets the most weight.
    pub(super) fn gradient(
        &mut self,
        batch: ArrayView4<f32>,
        originals: &[Array2<f32>],
    ) -> Result<Array4<f32>> {
        let n = batch.shape()[0];
        let mut total = Array4::<f32>::zeros(batch.raw_dim());
        for (graph, orig) in self.graphs[..self.active].iter_mut().zip(originals) {
            let targets = Array2::from_shape_fn((n, orig.shape()[1]), |(_, j)| orig[[0, j]]);
            let out = graph.eval(batch, targets.view())?;
            let norm = out
                .grad
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt()
                .max(1e-12);
            let threshold = graph.info.match_threshold.unwrap_or(0.3);
            let margin = out.loss.mean().unwrap_or(1.0) - (threshold - SAFETY_MARGIN);
            let weight = (margin / WEIGHT_TEMPERATURE).clamp(-4.0, 4.0).exp();
            total.scaled_add(weight / norm, &out.grad);
        }
        Ok(total)
    }
}
