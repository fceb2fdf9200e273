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
mod ensemble;
mod fit;
mod grid;
mod optimise;
mod params;
mod views;

use std::sync::atomic::AtomicBool;

use image::RgbImage;
use ndarray::{Array3, Axis};
use serde::Serialize;

pub use params::{Mode, Params};

use crate::Result;
use crate::align::face_transform;
use crate::detect::Face;
use crate::geometry::{Rect, bbox_rect, within};
use crate::models::ModelStore;
use crate::planes::{add_region, apply_region, region_planes};
use crate::visibility::FaceQuality;
use crate::warp::{Resampler, footprint};

/// What the cloak did to one face.
#[derive(Debug, Clone, Serialize)]
pub struct FaceResult {
    /// The photo region the perturbation covers.
    #[serde(skip)]
    pub region: Rect,
    /// Perturbation over the region (3×h×w, 0..1 units), already within every budget.
    #[serde(skip)]
    pub delta: Array3<f32>,
    /// Per surrogate: (name, cosine similarity of the cloaked face's embedding to the original's).
    pub similarity: Vec<(String, f32)>,
    /// How visible the change is on this face.
    pub quality: FaceQuality,
    /// Fraction of the optimised perturbation kept to meet the quality floor.
    pub kept: f32,
}

/// A photo with every requested face cloaked.
pub struct CloakedPhoto {
    pub image: RgbImage,
    pub faces: Vec<FaceResult>,
}

impl CloakedPhoto {
    /// The regions the cloak changed.
    pub fn regions(&self) -> Vec<Rect> {
        self.faces.iter().map(|f| f.region).collect()
    }
}

/// The surrogate ensemble, ready to cloak faces (one per worker: sessions are not shared).
pub struct Cloaker {
    ensemble: ensemble::Ensemble,
}

impl Cloaker {
    pub fn new(store: &ModelStore) -> Result<Self> {
        Ok(Self {
            ensemble: ensemble::Ensemble::new(store)?,
        })
    }

    /// Cloaks each of `faces` (each optimised on the original photo, the perturbations added up).
    /// Face `i` uses seed `seed ^ i·φ`, so a photo's result depends only on the seed.
    pub fn cloak_photo(
        &mut self,
        photo: &RgbImage,
        faces: &[&Face],
        params: &Params,
        seed: u64,
        stop: &AtomicBool,
    ) -> Result<CloakedPhoto> {
        let mut image = photo.clone();
        let mut results = Vec::with_capacity(faces.len());
        for (i, face) in faces.iter().enumerate() {
            let face_seed = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let result = self.cloak_face(photo, face, params, face_seed, stop)?;
            add_region(&mut image, result.region, &result.delta);
            results.push(result);
        }
        Ok(CloakedPhoto {
            image,
            faces: results,
        })
    }

    /// Optimises the perturbation for one face.
    pub fn cloak_face(
        &mut self,
        photo: &RgbImage,
        face: &Face,
        params: &Params,
        seed: u64,
        stop: &AtomicBool,
    ) -> Result<FaceResult> {
        let to_face = face_transform(&face.five);
        let region = footprint(&to_face, photo.width(), photo.height());
        let x0 = region_planes(photo, region);
        let grid = grid::Grid::new(&to_face, region);
        let to_work = grid.transform(&to_face);
        let x0w = grid.down(&x0);
        let budget = budget::budget_map(
            &x0w,
            &to_work,
            grid.rect(),
            params.max_change,
            params.texture_floor,
        );
        let base = Resampler::new(&to_face, region);
        let crop0 = base.forward(x0.view()).insert_axis(Axis(0));
        let originals = self.ensemble.embed(crop0.view())?;

        let problem = optimise::Problem {
            x0: &x0w,
            budget: &budget,
            to_face: to_work,
            rect: grid.rect(),
            originals: &originals,
        };
        let mut rng = views::SplitMix(seed);
        let delta_w = optimise::optimise(&mut self.ensemble, &problem, params, &mut rng, stop)?;
        let mut delta = grid.up(&delta_w);
        // Interpolation can step past the pixel range where the working grid averaged it away.
        ndarray::Zip::from(&mut delta)
            .and(&x0)
            .for_each(|d, &x| *d = d.clamp(-x, 1.0 - x));

        // Quality is judged on a copy of the region alone: copying a 24 MP photo for every
        // trial would dominate memory and time.
        let sub =
            image::imageops::crop_imm(photo, region.x, region.y, region.w, region.h).to_image();
        let local_face = within(bbox_rect(&face.bbox, photo.width(), photo.height()), region);
        let fitted = fit::fit_quality(
            &fit::Target {
                original: &sub,
                x0: &x0,
                face: local_face,
                photo_size: photo.dimensions(),
                floor: params.min_quality,
            },
            &mut delta,
        );
        let local = Rect {
            x: 0,
            y: 0,
            w: region.w,
            h: region.h,
        };
        let cloaked = apply_region(&sub, local, &x0, &delta);
        let crop1 = base
            .forward(region_planes(&cloaked, local).view())
            .insert_axis(Axis(0));
        let after = self.ensemble.embed(crop1.view())?;
        Ok(FaceResult {
            region,
            delta,
            similarity: self.ensemble.similarities(&originals, &after),
            quality: fitted.quality,
            kept: fitted.kept,
        })
    }
}
