//! The evaluation's cloaks: each protected photo cloaked as the product cloaks it, cached on
//! disk between runs by photo, parameters and seed, with how much each shows.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use image::{ImageFormat, RgbImage};
use rayon::prelude::*;

use super::dataset::Photo;
use super::{
    ENGINE_VERSION, EvalOptions, Visibility, content_hash, flatten_err, percentile, tools,
};
use crate::cloak::{Cloaker, Params};
use crate::detect::Detector;
use crate::models::ModelStore;
use crate::visibility::{FACE_PADDING, FaceQuality};
use crate::{Result, output, quality};

/// One cloaked photo as posted: the file FaceCloak writes for a JPEG ([`output::encode`]), decoded
/// as a scraper reads it; with its first face's visibility, face-box SSIM and seconds.
pub(super) struct Cloaked {
    /// The cloaked photo before it is written.
    pub(super) lossless: RgbImage,
    pub(super) posted: RgbImage,
    pub(super) quality: FaceQuality,
    /// The feed-size score with the yardstick before round six.
    pub(super) enlarged: f64,
    pub(super) face_ssim: f64,
    pub(super) seconds: f64,
}

fn cloak_cached(
    tools: &mut (Detector, Cloaker),
    image: &RgbImage,
    params: &Params,
    opts: &EvalOptions,
) -> Result<Cloaked> {
    let key = format!(
        // The cloak itself is cached, losslessly, so a change to how it is posted needs no new
        // cloaks; entries from before that (the posted JPEG) carry no `-cloak` and are not read.
        "{:016x}-{:08x}-{}-v{ENGINE_VERSION}-cloak",
        content_hash(image.as_raw()),
        content_hash(params_key(params).as_bytes()) as u32,
        opts.seed
    );
    let png = opts.cache.join(format!("{key}.png"));
    let meta = opts.cache.join(format!("{key}.json"));
    if let (Ok(img), Ok(m)) = (image::open(&png), std::fs::read_to_string(&meta))
        && let Ok(v) = serde_json::from_str::<[f64; 5]>(&m)
    {
        let lossless = img.into_rgb8();
        return Ok(Cloaked {
            posted: as_written(&lossless)?,
            lossless,
            quality: FaceQuality {
                display: v[0],
                full: v[1],
            },
            enlarged: v[4],
            face_ssim: v[2],
            seconds: v[3],
        });
    }
    let (det, cloaker) = tools;
    let faces = det.detect(image)?;
    let Some(face) = faces.first() else {
        return Ok(Cloaked {
            lossless: image.clone(),
            posted: image.clone(),
            quality: FaceQuality {
                display: 100.0,
                full: 100.0,
            },
            enlarged: 100.0,
            face_ssim: 1.0,
            seconds: 0.0,
        });
    };
    let t = Instant::now();
    let never = AtomicBool::new(false);
    let cloaked = cloaker.cloak_photo(image, &[face], params, opts.seed, &never)?;
    let seconds = t.elapsed().as_secs_f64();
    let rect = face.bbox.rect(image.width(), image.height());
    let face_ssim = quality::ssim_region(image, &cloaked.image, rect);
    let q = cloaked.faces[0].quality;
    let (w, h) = image.dimensions();
    let enlarged = crate::visibility::region_score(
        image,
        &cloaked.image,
        rect.padded(FACE_PADDING, w, h),
        crate::visibility::enlarged_display_scale(w, h),
    );
    let _ = cloaked.image.save(&png);
    let posted = as_written(&cloaked.image)?;
    let _ = std::fs::write(
        &meta,
        serde_json::to_string(&[q.display, q.full, face_ssim, seconds, enlarged])
            .unwrap_or_default(),
    );
    Ok(Cloaked {
        lossless: cloaked.image,
        posted,
        quality: q,
        enlarged,
        face_ssim,
        seconds,
    })
}

/// The parameters as a cache key: knobs added since a cloak was cached are left out at their
/// default (off), so cloaks made before they existed are still found.
fn params_key(params: &Params) -> String {
    format!("{params:?}").replace(", spread: 0.0", "")
}

/// `cloaked` through the product's own encoder, as for a JPEG input without metadata or ICC
/// profile (the evaluation photos have none), then decoded.
fn as_written(cloaked: &RgbImage) -> Result<RgbImage> {
    let photo = crate::io::Photo {
        rgb: RgbImage::new(0, 0),
        alpha: None,
        format: ImageFormat::Jpeg,
        icc: None,
        exif: None,
        read_as: None,
    };
    let bytes = output::encode(
        &photo,
        cloaked,
        ImageFormat::Jpeg,
        &output::WriteOptions::default(),
    )?;
    image::load_from_memory_with_format(&bytes, ImageFormat::Jpeg)
        .map(|img| img.into_rgb8())
        .map_err(|source| crate::Error::Decode {
            path: PathBuf::new(),
            source,
        })
}

/// The protected photos (`which`) cloaked with `params`, each cached.
pub(super) fn cloak_all(
    store: &ModelStore,
    photos: &[Photo],
    which: &[usize],
    params: &Params,
    opts: &EvalOptions,
) -> Result<Vec<Cloaked>> {
    which
        .par_iter()
        .map_init(
            || tools(store),
            |t, &i| match t {
                Ok(t) => cloak_cached(t, &photos[i].image, params, opts),
                Err(e) => Err(flatten_err(e)),
            },
        )
        .collect()
}

/// How much the cloaks show, over their faces.
pub(super) fn visibility(cloaked: &[Cloaked]) -> Visibility {
    let mut display: Vec<f64> = cloaked.iter().map(|c| c.quality.display).collect();
    let mut full: Vec<f64> = cloaked.iter().map(|c| c.quality.full).collect();
    let mut ssim: Vec<f64> = cloaked.iter().map(|c| c.face_ssim).collect();
    let mut enlarged: Vec<f64> = cloaked.iter().map(|c| c.enlarged).collect();
    for v in [&mut display, &mut full, &mut ssim, &mut enlarged] {
        v.sort_by(f64::total_cmp);
    }
    let timed: Vec<f64> = cloaked
        .iter()
        .map(|c| c.seconds)
        .filter(|s| *s > 0.0)
        .collect();
    Visibility {
        faces: cloaked.len(),
        median_display: percentile(&display, 0.5),
        p10_display: percentile(&display, 0.1),
        min_display: display.first().copied().unwrap_or(f64::NAN),
        median_full: percentile(&full, 0.5),
        p10_full: percentile(&full, 0.1),
        median_enlarged: percentile(&enlarged, 0.5),
        median_face_ssim: percentile(&ssim, 0.5),
        seconds_per_face: timed.iter().sum::<f64>() / timed.len().max(1) as f64,
    }
}
