//! The cloak itself: a perturbation per face, optimised against the surrogate ensemble and shaped
//! so people do not see it.
//!
//! The face's region is worked on at about one pixel per face-crop pixel ([`grid`]). Each step
//! warps the perturbed region onto the 112×112 template under a jittered alignment, as is,
//! blurred or re-encoded ([`views`]), asks every surrogate for the gradient of its cosine to the
//! clean face ([`ensemble`]), carries it back through the warp, smooths it and moves within a
//! per-pixel budget that favours texture ([`budget`], [`optimise`]). The result is interpolated
//! to full resolution and, if it would still show on the face at feed size, scaled down until it
//! does not ([`fit`]).

mod budget;
mod combine;
mod ensemble;
mod fit;
mod grid;
mod measured;
mod optimise;
mod params;
mod sense;
mod views;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use image::RgbImage;
use ndarray::Axis;
use serde::Serialize;

pub use combine::combine;
pub use grid::Change;
pub use measured::Measured;
pub(crate) use measured::pct;
pub use params::{Mode, Params};

use crate::Result;
use crate::align::face_transform;
use crate::detect::Face;
use crate::geometry::{Rect, within};
use crate::models::ModelStore;
use crate::visibility::FaceQuality;
use crate::warp::{Resampler, footprint};

/// What the cloak did to one face.
#[derive(Debug, Clone, Serialize)]
pub struct FaceResult {
    /// The perturbation (0..1 units), already within every budget.
    #[serde(skip)]
    pub change: Change,
    /// How visible the change is on this face.
    pub quality: FaceQuality,
    /// Fraction of the optimised perturbation kept to meet the quality floor.
    pub kept: f32,
    /// Time this face took, optimisation and visibility check.
    pub seconds: f64,
}

/// A photo with every requested face cloaked.
pub struct CloakedPhoto {
    pub image: RgbImage,
    pub faces: Vec<FaceResult>,
}

impl CloakedPhoto {
    /// The regions the cloak changed.
    pub fn regions(&self) -> Vec<Rect> {
        self.faces.iter().map(|f| f.change.region()).collect()
    }
}

/// How far a checkpoint may grow a change the floor would allow more of.
const MAX_GROWTH: f32 = 2.0;

/// Face `i` of a photo uses seed `seed ^ i·φ`, so a photo's result depends only on the seed,
/// whichever worker cloaks which face.
pub fn face_seed(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// FNV-1a of some bytes (a face region, a cache key's parts): stable across runs and platforms, unlike the std hasher.
pub(crate) fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The surrogate ensemble, ready to cloak faces (one per worker: sessions are not shared).
pub struct Cloaker {
    ensemble: ensemble::Ensemble,
}

impl Cloaker {
    /// A cloaker with the shipped modes' surrogates and the recognisers the user added loaded;
    /// a face whose `Params` ask for others loads those when it is cloaked.
    pub fn new(store: &ModelStore) -> Result<Self> {
        Ok(Self {
            ensemble: ensemble::Ensemble::new(
                store,
                params::shipped_surrogates() | store.added_mask(),
            )?,
        })
    }

    /// Cloaks each of `faces` in turn, each optimised on the original photo, and puts the
    /// changes together ([`combine`]).
    pub fn cloak_photo(
        &mut self,
        photo: &RgbImage,
        faces: &[&Face],
        params: &Params,
        seed: u64,
        stop: &AtomicBool,
    ) -> Result<CloakedPhoto> {
        let mut results = Vec::with_capacity(faces.len());
        for (i, face) in faces.iter().enumerate() {
            results.push(self.cloak_face(photo, face, params, face_seed(seed, i), stop)?);
        }
        Ok(combine(photo, results))
    }

    /// Optimises the perturbation for one face.
    ///
    /// Everything but the change itself and the visibility check runs on the working grid, so
    /// time and memory grow little with the face's size in pixels.
    pub fn cloak_face(
        &mut self,
        photo: &RgbImage,
        face: &Face,
        params: &Params,
        seed: u64,
        stop: &AtomicBool,
    ) -> Result<FaceResult> {
        let started = Instant::now();
        let to_face = face_transform(&face.five);
        let region = footprint(&to_face, photo.width(), photo.height());
        let grid = grid::Grid::new(&to_face, region);
        let to_work = grid.transform(&to_face);
        let x0w = grid.down_photo(photo, (0, 0));
        let budget = budget::budget_map(
            &x0w,
            &to_work,
            grid.rect(),
            params.max_change,
            params.texture_floor,
        );
        self.ensemble.use_set(params.surrogates)?;
        // The recognisers see the face as the optimiser does: through the working grid.
        let base = Resampler::new(&to_work, grid.rect());
        let originals = self
            .ensemble
            .embed(base.forward(x0w.view()).insert_axis(Axis(0)).view())?;
        // Quality is judged on a copy of the region alone: copying a 24 MP photo for every
        // trial would dominate memory and time.
        let sub =
            image::imageops::crop_imm(photo, region.x, region.y, region.w, region.h).to_image();
        // Drawn from the face's pixels, not the run's seed, which every photo of an album shares.
        let spread_seed = seed ^ content_hash(sub.as_raw());
        let targets = self
            .ensemble
            .targets(originals, params.decoy, params.spread, spread_seed)?;

        let problem = optimise::Problem {
            x0: &x0w,
            to_face: to_work,
            rect: grid.rect(),
            targets: &targets,
        };
        let local_face = within(face.bbox.rect(photo.width(), photo.height()), region);
        let target = fit::Target {
            original: &sub,
            face: local_face,
            photo_size: photo.dimensions(),
            floor: params.min_quality,
        };
        let mut rng = views::SplitMix(seed);
        let mut descent = optimise::Descent::new(&x0w, budget);
        // The budget is resized at each checkpoint; the last stretch runs to the end unresized.
        let mut from = 0;
        let checkpoints = optimise::checkpoints(params.steps, params.adapt);
        for at in checkpoints.into_iter().map(Some).chain([None]) {
            let to = at.unwrap_or(params.steps);
            descent.run(
                &mut self.ensemble,
                &problem,
                params,
                &mut rng,
                stop,
                from..to,
            )?;
            from = to;
            if at.is_some() {
                let so_far = Change::new(grid.clone(), descent.delta.clone());
                let k = fit::Scorer::new(&target).share(&so_far, MAX_GROWTH);
                descent.rescale(k, &x0w, params);
            }
        }
        let mut change = Change::new(grid, descent.delta);
        let fitted = fit::fit_quality(&target, &change);
        change.scale(fitted.kept);
        Ok(FaceResult {
            change,
            quality: fitted.quality,
            kept: fitted.kept,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}
