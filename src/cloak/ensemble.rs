//! The surrogate ensemble: one loss and one gradient from several recognisers.

use ndarray::{Array2, Array4, ArrayView4, Axis};

use crate::align::FACE_SIZE;
use crate::geometry::Rect;
use crate::models::{FACERES_SURROGATE, ModelStore, SURROGATES};
use crate::planes::region_planes;
use crate::recognise::GradientGraph;
use crate::{Error, Result};

/// How far below each surrogate's match threshold the optimiser aims, so the cloak survives
/// re-encoding and resizing.
const SAFETY_MARGIN: f32 = 0.15;

/// How sharply the ensemble weights favour the surrogate furthest above its match threshold.
const WEIGHT_TEMPERATURE: f32 = 0.1;

/// Where the decoy faces live in the model folder: aligned 112×112 crops (models/README.md).
const DECOY_DIR: &str = "decoys";

/// What each surrogate's cosine is taken to, fixed for a face (1×D each): its clean embedding,
/// or with a decoy, unit(clean) − pull·decoy, since cos(e, own) − pull·cos(e, decoy) is
/// cos(e, that) times a constant, so one pass of the graph gives its gradient.
pub(super) struct Targets {
    aim: Vec<Array2<f32>>,
    /// With a decoy, the clean embeddings as unit vectors: the graph's loss is then not the
    /// cosine to the clean face the weights are about.
    own: Option<Vec<Array2<f32>>>,
}

pub(super) struct Ensemble {
    /// The surrogates, then the experiment's FaceRes once a face has asked for it (kept loaded,
    /// so variants that alternate do not load it again).
    graphs: Vec<GradientGraph>,
    /// How many of `graphs` the current face uses.
    active: usize,
    /// The decoy faces' embeddings under every graph, once a face has asked for a decoy.
    decoys: Option<Vec<Array2<f32>>>,
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
            decoys: None,
            store: store.clone(),
        })
    }

    /// Adds FaceRes to the surrogates, or takes it out again (the `faceres` experiment).
    pub(super) fn with_faceres(&mut self, on: bool) -> Result<()> {
        if on && self.graphs.len() == SURROGATES.len() {
            self.graphs
                .push(GradientGraph::new(&self.store, &FACERES_SURROGATE)?);
            self.decoys = None;
        }
        self.active = SURROGATES.len() + usize::from(on);
        Ok(())
    }

    /// Embeddings of aligned faces under every active surrogate.
    pub(super) fn embed(&mut self, faces: ArrayView4<f32>) -> Result<Vec<Array2<f32>>> {
        embed_with(&mut self.graphs[..self.active], faces)
    }

    /// The targets for a face whose clean embeddings are `own`: with `pull > 0`, the decoy
    /// least like the face (mean cosine over the surrogates) is added, so every photo of a
    /// person is pulled toward the same other identity.
    pub(super) fn targets(&mut self, own: Vec<Array2<f32>>, pull: f32) -> Result<Targets> {
        if pull <= 0.0 {
            return Ok(Targets {
                aim: own,
                own: None,
            });
        }
        let own: Vec<Array2<f32>> = own.into_iter().map(unit_rows).collect();
        if self.decoys.is_none() {
            let faces = load_decoys(&self.store)?;
            self.decoys = Some(
                embed_with(&mut self.graphs, faces.view())?
                    .into_iter()
                    .map(unit_rows)
                    .collect(),
            );
        }
        let decoys = &self.decoys.as_ref().expect("just filled")[..self.active];
        let count = decoys[0].nrows();
        let likeness = |d: usize| -> f32 {
            own.iter()
                .zip(decoys)
                .map(|(o, e)| o.row(0).dot(&e.row(d)))
                .sum()
        };
        let best = (0..count)
            .min_by(|&a, &b| likeness(a).total_cmp(&likeness(b)))
            .expect("at least one decoy");
        let aim = own
            .iter()
            .zip(decoys)
            .map(|(o, e)| o - &(&e.row(best).insert_axis(Axis(0)) * pull))
            .collect();
        Ok(Targets {
            aim,
            own: Some(own),
        })
    }

    /// d(weighted loss)/d(crops) for a batch of views of one face: each surrogate's loss is its
    /// cosine to the clean face, less `pull` times its cosine to the decoy.
    /// Each surrogate's gradient is normalised so none dominates by scale; the one that still
    /// recognises the face best (relative to its threshold) gets the most weight.
    pub(super) fn gradient(
        &mut self,
        batch: ArrayView4<f32>,
        targets: &Targets,
    ) -> Result<Array4<f32>> {
        let n = batch.shape()[0];
        let mut total = Array4::<f32>::zeros(batch.raw_dim());
        for (i, graph) in self.graphs[..self.active].iter_mut().enumerate() {
            let aim = &targets.aim[i];
            let aim = Array2::from_shape_fn((n, aim.ncols()), |(_, j)| aim[[0, j]]);
            let out = graph.eval(batch, aim.view())?;
            let norm = out
                .grad
                .iter()
                .map(|v| v * v)
                .sum::<f32>()
                .sqrt()
                .max(1e-12);
            let threshold = graph.info.match_threshold.unwrap_or(0.3);
            let likeness = match &targets.own {
                Some(own) => unit_rows(out.embedding).dot(&own[i].t()),
                None => out.loss.insert_axis(Axis(1)),
            };
            let margin = likeness.mean().unwrap_or(1.0) - (threshold - SAFETY_MARGIN);
            let weight = (margin / WEIGHT_TEMPERATURE).clamp(-4.0, 4.0).exp();
            total.scaled_add(weight / norm, &out.grad);
        }
        Ok(total)
    }
}

fn embed_with(graphs: &mut [GradientGraph], faces: ArrayView4<f32>) -> Result<Vec<Array2<f32>>> {
    graphs
        .iter_mut()
        .map(|g| {
            let dim = g.info.embedding_dim.unwrap_or(1);
            let dummy = Array2::<f32>::ones((faces.shape()[0], dim));
            Ok(g.eval(faces, dummy.view())?.embedding)
        })
        .collect()
}

fn unit_rows(mut m: Array2<f32>) -> Array2<f32> {
    for mut row in m.rows_mut() {
        let n = row.dot(&row).sqrt().max(1e-12);
        row.mapv_inplace(|v| v / n);
    }
    m
}

/// The decoy crops, in file-name order, as a batch of CHW faces in 0..1.
fn load_decoys(store: &ModelStore) -> Result<Array4<f32>> {
    let dir = store.path(DECOY_DIR);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::ModelShape {
            path: dir,
            reason: "no decoy faces (*.png)".into(),
        });
    }
    let side = FACE_SIZE as u32;
    let mut faces = Array4::<f32>::zeros((files.len(), 3, FACE_SIZE, FACE_SIZE));
    for (k, file) in files.iter().enumerate() {
        let img = crate::io::load_rgb(file)?;
        if img.dimensions() != (side, side) {
            return Err(Error::ModelShape {
                path: file.clone(),
                reason: "a decoy face must be an aligned 112×112 crop".into(),
            });
        }
        let whole = Rect {
            x: 0,
            y: 0,
            w: side,
            h: side,
        };
        faces
            .index_axis_mut(Axis(0), k)
            .assign(&region_planes(&img, whole));
    }
    Ok(faces)
}
