//! One photo's way through the batch: its faces found and chosen, cloaked in parallel, checked
//! by the local recognisers, and the result written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::{Event, FaceChoice, FaceReport, FileReport, NotProtected, Options, Shared, faces_word};
use crate::cloak::{CloakedPhoto, combine, face_seed};
use crate::detect::Face;
use crate::io::{Photo, load_photo};
use crate::outlook::face_words;
use crate::output::{
    WriteOptions, encode, encode_heif, heif_extension, output_format, write_atomic,
};
use crate::{Error, Result, quality};

/// Faces with their numbers (from 1, in the detector's order).
type Numbered<'a> = Vec<(usize, &'a Face)>;

pub(super) fn process<P: Fn(Event) + Sync>(shared: &Shared<P>, input: &Path) -> Result<Event> {
    let started = Instant::now();
    let photo = load_photo(input)?;
    let faces = shared.engine.detect(&photo.rgb)?;
    (shared.progress)(Event::FacesFound {
        input: input.to_path_buf(),
        faces: faces.len(),
    });
    let (big, small) = match choose(shared.options, input, &faces) {
        Ok(chosen) => chosen,
        Err(outcome) => return Ok(*outcome),
    };
    let result = cloak_faces(shared, input, &photo, &big)?;
    let reports = face_reports(shared, &photo, &result, &big)?;
    let (output, kept_format) = write(shared, input, &photo, &result.image)?;
    Ok(Event::Done(FileReport {
        input: input.to_path_buf(),
        output,
        faces: reports,
        too_small: small.iter().map(|(_, f)| f.bbox).collect(),
        too_small_numbers: small.iter().map(|(n, _)| *n).collect(),
        converted_from: photo
            .read_as
            .filter(|_| !kept_format)
            .map(|k| k.name().to_string()),
        ssim: quality::ssim_photo(&photo.rgb, &result.image, &result.regions()),
        psnr: quality::psnr(&photo.rgb, &result.image),
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// The faces to cloak and those too small to, or the photo's outcome when there is nothing to
/// cloak (no face, every face left out or too small).
fn choose<'a>(
    options: &Options,
    input: &Path,
    faces: &'a [Face],
) -> std::result::Result<(Numbered<'a>, Numbered<'a>), Box<Event>> {
    let not_protected = |reason: String, small: &[(usize, &Face)]| {
        Box::new(Event::NotProtected(NotProtected {
            input: input.to_path_buf(),
            reason,
            too_small: small.iter().map(|(_, f)| f.bbox).collect(),
            too_small_numbers: small.iter().map(|(n, _)| *n).collect(),
        }))
    };
    let skipped = |reason: String| {
        Box::new(Event::Skipped {
            input: input.to_path_buf(),
            reason,
        })
    };
    if faces.is_empty() {
        return Err(not_protected("no face found".into(), &[]));
    }
    let choice = options.choices.get(input).unwrap_or(&options.faces);
    if *choice == FaceChoice::Numbers(Vec::new()) {
        return Err(skipped("every face was left out".into()));
    }
    let chosen = choice.pick(faces);
    if chosen.is_empty() {
        return Err(skipped(format!(
            "none of the chosen faces is in the photo ({} found)",
            faces.len()
        )));
    }
    let (big, small): (Vec<_>, Vec<_>) =
        chosen.into_iter().partition(|(_, f)| !options.too_small(f));
    if big.is_empty() {
        return Err(not_protected(
            format!(
                "{} too small to cloak (eyes to mouth under {} px)",
                faces_word(small.len()),
                options.min_face_px
            ),
            &small,
        ));
    }
    Ok((big, small))
}

/// Cloaks the faces on the shared pool and pastes them into the photo.
fn cloak_faces<P: Fn(Event) + Sync>(
    shared: &Shared<P>,
    input: &Path,
    photo: &Photo,
    big: &[(usize, &Face)],
) -> Result<CloakedPhoto> {
    let options = shared.options;
    let params = shared.engine.params(options.mode);
    let done = AtomicUsize::new(0);
    let cloaked = shared.faces.install(|| {
        big.par_iter()
            .enumerate()
            // The seed follows the face's place among those cloaked, not its number.
            .map(|(i, (_, face))| {
                let face = shared.engine.with_cloaker(|c| {
                    c.cloak_face(
                        &photo.rgb,
                        face,
                        &params,
                        face_seed(options.seed, i),
                        shared.stop,
                    )
                })?;
                (shared.progress)(Event::FaceCloaked {
                    input: input.to_path_buf(),
                    done: done.fetch_add(1, Ordering::Relaxed) + 1,
                    of: big.len(),
                });
                Ok(face)
            })
            .collect::<Result<Vec<_>>>()
    })?;
    if shared.stop.load(Ordering::Relaxed) {
        return Err(Error::Cancelled);
    }
    Ok(combine(&photo.rgb, cloaked))
}

/// Each cloaked face's report, with the local recognisers' check of it.
fn face_reports<P: Fn(Event) + Sync>(
    shared: &Shared<P>,
    photo: &Photo,
    result: &CloakedPhoto,
    big: &[(usize, &Face)],
) -> Result<Vec<FaceReport>> {
    let added = !shared.engine.added().is_empty();
    big.iter()
        .zip(&result.faces)
        .map(|((number, face), r)| {
            let local_check = shared
                .engine
                .verifier()
                .check(&photo.rgb, &result.image, face)?;
            let words = face_words(shared.options.mode, added, &local_check);
            Ok(FaceReport {
                number: *number,
                bbox: face.bbox,
                protection: words.full,
                verdict: words.short,
                local_check,
                quality: r.quality,
                rating: r.quality.rating(),
                seconds: r.seconds,
            })
        })
        .collect()
}

/// Encodes and writes the cloaked photo; returns where, and whether a HEIC/AVIF kept its format.
fn write<P: Fn(Event) + Sync>(
    shared: &Shared<P>,
    input: &Path,
    photo: &Photo,
    image: &image::RgbImage,
) -> Result<(PathBuf, bool)> {
    let options = shared.options;
    let heif = photo.read_as.filter(|_| options.keep_heif);
    let (format, ext) = match heif {
        Some(kind) => (photo.format, heif_extension(kind)),
        None => output_format(photo.format),
    };
    let output = match options.redo.get(input) {
        Some(earlier) => earlier.clone(),
        None => shared.plan.output(input, ext),
    };
    let write = WriteOptions {
        keep_metadata: options.keep_metadata,
        tag: options
            .tag
            .then(|| format!("mode={} seed={}", options.mode.name(), options.seed)),
        overwrite: options.replaces(input),
    };
    let bytes = match heif {
        Some(kind) => encode_heif(photo, image, kind, &write),
        None => encode(photo, image, format, &write),
    }
    .map_err(|e| with_path(e, &output))?;
    write_atomic(&output, &bytes, options.replaces(input))?;
    Ok((output, heif.is_some()))
}

fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Encode { source, .. } => Error::Encode {
            path: path.to_path_buf(),
            source,
        },
        other => other,
    }
}
