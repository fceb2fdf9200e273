//! Pictures for people: the protection-vs-visibility frontier, and a contact sheet of faces at
//! feed size so anyone can judge a cloak by eye.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use image::imageops::{FilterType, crop_imm, overlay, resize};
use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::{EvalReport, Purifier, Variant, rank1};
use crate::Result;
use crate::cloak::Cloaker;
use crate::detect::Detector;
use crate::geometry::bbox_rect;
use crate::models::{JUDGES, ModelStore};
use crate::visibility::{FACE_PADDING, display_scale};

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Rank-1 protection after JPEG 85 by each held-out judge against the median face SSIMULACRA2
/// at feed size, one point per variant; portrait-size faces (the largest enlargement) when the
/// report has them.
pub fn frontier(r: &EvalReport) -> RgbImage {
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    let (w, h) = (960u32, 600u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let up = r.results.iter().map(|v| v.upscale).max().unwrap_or(1);
    let points: Vec<(&str, f64, Vec<f64>)> = r
        .results
        .iter()
        .filter(|v| v.upscale == up)
        .map(|v| {
            let ys = JUDGES
                .iter()
                .map(|j| rank1(r, &v.variant, up, j.name, Purifier::Jpeg85).unwrap_or(f64::NAN))
                .collect();
            (v.variant.as_str(), v.visibility.median_display, ys)
        })
        .collect();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let x_min = points.iter().map(|p| p.1).fold(100.0, f64::min).min(40.0) - 5.0;
        let chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "Protection after JPEG 85 vs visibility (faces ×{up}, {:?} half)",
                    r.half
                ),
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x_min.max(0.0)..100.0, 0.0..100.0);
        if let Ok(mut chart) = chart {
            let _ = chart
                .configure_mesh()
                .x_desc("median face SSIMULACRA2 at feed size (higher = less visible)")
                .y_desc("rank-1 protected after JPEG 85 (%)")
                .label_style(("sans-serif", 15))
                .draw();
            let colours = [RGBColor(200, 40, 40), RGBColor(40, 90, 200)];
            for (j, judge) in JUDGES.iter().enumerate() {
                let colour = colours[j % colours.len()];
                let series: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.2[j].is_finite())
                    .map(|p| (p.1, 100.0 * p.2[j]))
                    .collect();
                if let Ok(ann) = chart.draw_series(
                    series
                        .iter()
                        .map(|&(x, y)| Circle::new((x, y), 5, colour.filled())),
                ) {
                    ann.label(format!("{} (held out)", judge.name))
                        .legend(move |(x, y)| Circle::new((x + 8, y), 5, colour.filled()));
                }
                for p in &points {
                    if p.2[j].is_finite() {
                        let _ = chart.draw_series(std::iter::once(Text::new(
                            p.0.to_string(),
                            (p.1, 100.0 * p.2[j] + 2.5),
                            ("sans-serif", 13).into_font().color(&colour),
                        )));
                    }
                }
            }
            let _ = chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .position(SeriesLabelPosition::LowerLeft)
                .draw();
        }
        let _ = root.present();
    }
    RgbImage::from_raw(w, h, buf).unwrap_or_else(|| RgbImage::new(w, h))
}

/// One row per photo: its first face (box padded by 20 %) at feed size, original first, then
/// each variant's cloak.
pub fn contact_sheet(
    store: &ModelStore,
    photos: &[PathBuf],
    variants: &[Variant],
    seed: u64,
) -> Result<RgbImage> {
    let mut det = Detector::new(store)?;
    let mut cloaker = Cloaker::new(store)?;
    let never = AtomicBool::new(false);
    let mut rows: Vec<Vec<RgbImage>> = Vec::new();
    for path in photos {
        let Ok(img) = crate::io::load_rgb(path) else {
            continue;
        };
        let faces = det.detect(&img)?;
        let Some(face) = faces.first() else {
            continue;
        };
        let (w, h) = img.dimensions();
        let padded = bbox_rect(&face.bbox, w, h).padded(FACE_PADDING, w, h);
        let s = display_scale(w, h);
        let tile = |im: &RgbImage| {
            let c = crop_imm(im, padded.x, padded.y, padded.w, padded.h).to_image();
            let (tw, th) = (
                ((padded.w as f32 * s).round() as u32).max(1),
                ((padded.h as f32 * s).round() as u32).max(1),
            );
            resize(&c, tw, th, FilterType::Triangle)
        };
        let mut row = vec![tile(&img)];
        for v in variants {
            let c = cloaker.cloak_photo(&img, &[face], &v.params, seed, &never)?;
            row.push(tile(&c.image));
        }
        rows.push(row);
    }
    let gap = 8u32;
    let cols = variants.len() + 1;
    let col_w: Vec<u32> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].width()).max().unwrap_or(1))
        .collect();
    let width = col_w.iter().sum::<u32>() + gap * (cols as u32 + 1);
    let height = rows
        .iter()
        .map(|r| r.iter().map(|t| t.height()).max().unwrap_or(1) + gap)
        .sum::<u32>()
        + gap;
    let mut sheet = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut y = gap;
    for row in &rows {
        let mut x = gap;
        for (c, t) in row.iter().enumerate() {
            overlay(&mut sheet, t, i64::from(x), i64::from(y));
            x += col_w[c] + gap;
        }
        y += row.iter().map(|t| t.height()).max().unwrap_or(1) + gap;
    }
    Ok(sheet)
}
