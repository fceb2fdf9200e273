//! The surrogate ensemble: one loss and one gradient from several recognisers.

use ndarray::{Array2, Array4, ArrayView4, Axis};

use crate::align::FACE_SIZE;
use crate::geometry::Rect;
use crate::models::{ModelInfo, ModelStore, Role};
use crate::planes::region_planes;
use crate::recognise::GradientGraph;
use crate::{Error, Result};

/// How far below each surrogate's match threshold the optimiser aims, so the cloak survives
/// re-encoding and resizing.
const SAFETY_MARGIN: f32 = 0.15;

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
    /// Every recogniser the store has ([`ModelStore::recognisers`]): masks count bits in this
    /// order.
    recognisers: Vec<&'static ModelInfo>,
    /// Gradient graphs by index in `recognisers`, each loaded the first time a face asks for it
    /// and kept, so variants that alternate do not load it again.
    graphs: Vec<Option<GradientGraph>>,
    /// The recognisers the current face is optimised against, as indices.
    active: Vec<usize>,
    /// The decoy faces' embeddings under each recogniser, once a face has asked for a decoy.
    decoys: Vec<Option<Array2<f32>>>,
    store: ModelStore,
}

impl Ensemble {
    /// An ensemble with the graphs of `mask` loaded (a missing file is an error now, not at the
    /// first face).
    pub(super) fn new(store: &ModelStore, mask: u32) -> Result<Self> {
        let recognisers = store.recognisers();
        let mut e = Self {
            graphs: recognisers.iter().map(|_| None).collect(),
            active: Vec::new(),
            decoys: recognisers.iter().map(|_| None).collect(),
            recognisers,
            store: store.clone(),
        };
        e.use_set(mask)?;
        Ok(e)
    }

    /// Optimises against the recognisers of `mask` from now on (bit i: the store's recogniser
    /// i); bits of recognisers the store does not have are ignored.
    pub(super) fn use_set(&mut self, mask: u32) -> Result<()> {
        self.active = (0..self.recognisers.len())
            .filter(|i| mask & (1 << i) != 0)
            .collect();
        if self.active.is_empty() {
            return Err(Error::ModelShape {
                path: self.store.dir().to_path_buf(),
                reason: "a cloak needs at least one surrogate recogniser".into(),
            });
        }
        for &i in &self.active {
            if self.graphs[i].is_none() {
                self.graphs[i] = Some(GradientGraph::new(&self.store, self.recognisers[i])?);
            }
        }
        Ok(())
    }

    /// Which of the active recognisers (by position) the user added.
    pub(super) fn added(&self) -> Vec<bool> {
        self.active
            .iter()
            .map(|&i| self.recognisers[i].role == Role::Added)
            .collect()
    }

    fn graph(&mut self, i: usize) -> &mut GradientGraph {
        self.graphs[i].as_mut().expect("loaded by use_set")
    }

    /// Embeddings of aligned faces under every active surrogate.
    pub(super) fn embed(&mut self, faces: ArrayView4<f32>) -> Result<Vec<Array2<f32>>> {
        let active = self.active.clone();
        active
            .into_iter()
            .map(|i| embed_with(self.graph(i), faces))
            .collect()
    }

    /// The targets for a face whose clean embeddings are `own`: with `pull > 0`, the decoy
    /// least like the face (mean cosine over the surrogates) is added, so every photo of a
    /// person is pulled toward the same other identity; with `spread > 0`, a direction of each
    /// surrogate's space drawn from `seed` is added, so each photo is pulled somewhere else.
    pub(super) fn targets(
        &mut self,
        own: Vec<Array2<f32>>,
        pull: f32,
        spread: f32,
        seed: u64,
    ) -> Result<Targets> {
        if pull <= 0.0 && spread <= 0.0 {
            return Ok(Targets {
                aim: own,
                own: None,
            });
        }
        let own: Vec<Array2<f32>> = own.into_iter().map(unit_rows).collect();
        let mut aim = own.clone();
        if pull > 0.0 {
            let decoys = self.decoy_embeddings()?;
            let count = decoys[0].nrows();
            let likeness = |d: usize| -> f32 {
                own.iter()
                    .zip(&decoys)
                    .map(|(o, e)| o.row(0).dot(&e.row(d)))
                    .sum()
            };
            let best = (0..count)
                .min_by(|&a, &b| likeness(a).total_cmp(&likeness(b)))
                .expect("at least one decoy");
            for (a, e) in aim.iter_mut().zip(&decoys) {
                a.scaled_add(-pull, &e.row(best).insert_axis(Axis(0)));
            }
        }
        if spread > 0.0 {
            for (k, a) in aim.iter_mut().enumerate() {
                let away = random_direction(a.ncols(), super::face_seed(seed, k));
                a.scaled_add(-spread, &away);
            }
        }
        Ok(Targets {
            aim,
            own: Some(own),
        })
    }

    /// The decoy faces' unit embeddings under each active surrogate.
    fn decoy_embeddings(&mut self) -> Result<Vec<Array2<f32>>> {
        let active = self.active.clone();
        // The decoy photos are read once, and only when some surrogate still lacks their embeddings.
        let missing: Vec<usize> = active
            .iter()
            .copied()
            .filter(|&i| self.decoys[i].is_none())
            .collect();
        if !missing.is_empty() {
            let faces = load_decoys(&self.store)?;
            for i in missing {
                self.decoys[i] = Some(unit_rows(embed_with(self.graph(i), faces.view())?));
            }
        }
        Ok(active
            .iter()
            .map(|&i| self.decoys[i].clone().expect("just filled"))
            .collect())
    }

    /// d(weighted loss)/d(crops) for a batch of views of one face, over the active surrogates at
    /// positions `members`: each surrogate's loss is its cosine to the clean face, less `pull`
    /// times its cosine to the decoy.
    /// Each surrogate's gradient is normalised so none dominates by scale; the one that still
    /// recognises the face best (relative to its threshold) gets the most weight, the more so
    /// the lower `temperature` (in cosine units).
    pub(super) fn gradient(
        &mut self,
        batch: ArrayView4<f32>,
        targets: &Targets,
        members: &[usize],
        temperature: f32,
    ) -> Result<Array4<f32>> {
        let n = batch.shape()[0];
        let mut total = Array4::<f32>::zeros(batch.raw_dim());
        for &k in members {
            let graph = self.graph(self.active[k]);
            let aim = &targets.aim[k];
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
                Some(own) => unit_rows(out.embedding).dot(&own[k].t()),
                None => out.loss.insert_axis(Axis(1)),
            };
            let margin = likeness.mean().unwrap_or(1.0) - (threshold - SAFETY_MARGIN);
            let weight = (margin / temperature.max(1e-3)).clamp(-4.0, 4.0).exp();
            total.scaled_add(weight / norm, &out.grad);
        }
        Ok(total)
    }
}

fn embed_with(g: &mut GradientGraph, faces: ArrayView4<f32>) -> Result<Array2<f32>> {
    let dim = g.info.embedding_dim.unwrap_or(1);
    let dummy = Array2::<f32>::ones((faces.shape()[0], dim));
    Ok(g.eval(faces, dummy.view())?.embedding)
}

/// A unit vector of `dim` components, uniformly distributed over directions (each component a
/// sum of uniforms, near enough to Gaussian for a direction), the same for the same seed.
fn random_direction(dim: usize, seed: u64) -> Array2<f32> {
    let mut rng = super::views::SplitMix(seed);
    let v = Array2::from_shape_fn((1, dim), |_| (0..4).map(|_| rng.signed()).sum::<f32>());
    unit_rows(v)
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
