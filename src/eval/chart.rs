//! Pictures for people: the protection-vs-visibility frontier, and a contact sheet of faces at
//! feed size so anyone can judge a cloak by eye.

use image::imageops::overlay;
use image::{Rgb, RgbImage};
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use super::{EvalReport, Purifier, held_out_cells, rank1, worst_and_median};
use crate::models::RECOGNISERS;

const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The default mode's goal (issue #21): median face SSIMULACRA2 at feed size at least this…
const TARGET_QUALITY: f64 = 70.0;
/// …with at least this share of people protected by each held-out judge.
const TARGET_PROTECTION: f64 = 50.0;

/// One colour per recogniser, in [`RECOGNISERS`] order.
const COLOURS: [RGBColor; 7] = [
    RGBColor(200, 40, 40),
    RGBColor(40, 90, 200),
    RGBColor(230, 140, 20),
    RGBColor(120, 60, 170),
    RGBColor(20, 150, 150),
    RGBColor(110, 110, 110),
    RGBColor(30, 140, 40),
];

/// Rank-1 protection after JPEG 85 by each held-out judge against the median face SSIMULACRA2
/// at feed size, one point per variant and judge, the worst held-out cell of each variant ringed,
/// over the region the default mode should reach and each judge's rate with no cloak at all;
/// portrait-size faces (the largest enlargement) when the report has them.
pub fn frontier(r: &EvalReport) -> RgbImage {
    let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    let (w, h) = (960u32, 600u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    let up = r.results.iter().map(|v| v.upscale).max().unwrap_or(1);
    let mut names: Vec<&str> = Vec::new();
    for v in r.results.iter().filter(|v| v.upscale == up) {
        if !names.contains(&v.variant.as_str()) {
            names.push(&v.variant);
        }
    }
    // Per variant: its face score, and each recogniser's held-out cell (NaN where it was not).
    let points: Vec<(&str, f64, Vec<f64>)> = names
        .iter()
        .filter_map(|&name| {
            let first = r
                .results
                .iter()
                .find(|v| v.variant == name && v.upscale == up)?;
            let cells = held_out_cells(r, name, up, Purifier::Jpeg85);
            let ys = RECOGNISERS
                .iter()
                .map(|j| {
                    cells
                        .iter()
                        .find(|c| c.0 == j.name)
                        .map_or(f64::NAN, |c| c.1)
                })
                .collect();
            Some((name, first.visibility.median_display, ys))
        })
        .collect();
    let judged: Vec<usize> = (0..RECOGNISERS.len())
        .filter(|&j| points.iter().any(|p| p.2[j].is_finite()))
        .collect();
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        // Room on the left for the legend, which would otherwise hide the most visible mode's
        // points.
        let x_min = points.iter().map(|p| p.1).fold(100.0, f64::min).min(40.0) - 25.0;
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
            // Where a cloak would keep both promises: drawn first, so the points sit on it.
            let _ = chart.draw_series(std::iter::once(Rectangle::new(
                [(TARGET_QUALITY, TARGET_PROTECTION), (100.0, 100.0)],
                RGBColor(60, 170, 80).mix(0.18).filled(),
            )));
            let _ = chart.draw_series(std::iter::once(Text::new(
                "target of the default mode",
                (TARGET_QUALITY + 1.0, 97.0),
                ("sans-serif", 14).into_font().color(&RGBColor(30, 110, 50)),
            )));
            // Each judge's rate with no cloak: a line, and its label stacked above the one
            // below so that close rates stay legible.
            let mut baselines: Vec<(f64, usize)> = judged
                .iter()
                .filter_map(|&j| {
                    rank1(r, "unprotected", up, RECOGNISERS[j].name, Purifier::None)
                        .map(|v| (100.0 * v, j))
                })
                .collect();
            baselines.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut label_floor = f64::MIN;
            for &(y, j) in &baselines {
                let colour = COLOURS[j % COLOURS.len()];
                let _ = chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x_min.max(0.0), y), (100.0, y)],
                    colour.mix(0.6).stroke_width(1),
                )));
                let at = (y + 2.5).max(label_floor + 3.0);
                label_floor = at;
                let _ = chart.draw_series(std::iter::once(Text::new(
                    format!("{}: no cloak", RECOGNISERS[j].name),
                    (84.0, at),
                    ("sans-serif", 12).into_font().color(&colour),
                )));
            }
            for &j in &judged {
                let judge = &RECOGNISERS[j];
                let colour = COLOURS[j % COLOURS.len()];
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
            }
            // The published figure of each variant: its worst held-out cell, ringed.
            for p in &points {
                let cells: Vec<(&str, f64)> =
                    p.2.iter()
                        .filter(|y| y.is_finite())
                        .map(|&y| ("", y))
                        .collect();
                if let Some((worst, _)) = worst_and_median(&cells) {
                    let _ = chart.draw_series(std::iter::once(Circle::new(
                        (p.1, 100.0 * worst),
                        9,
                        BLACK.stroke_width(2),
                    )));
                }
            }
            // One name per variant, over the highest of its points.
            for p in &points {
                let top =
                    p.2.iter()
                        .copied()
                        .filter(|y| y.is_finite())
                        .fold(f64::NAN, f64::max);
                if top.is_finite() {
                    let _ = chart.draw_series(std::iter::once(Text::new(
                        p.0.to_string(),
                        (p.1 + 0.5, 100.0 * top + 4.0),
                        ("sans-serif", 13).into_font().color(&BLACK),
                    )));
                }
            }
            let _ = chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .position(SeriesLabelPosition::UpperLeft)
                .draw();
        }
        let _ = root.present();
    }
    RgbImage::from_raw(w, h, buf).unwrap_or_else(|| RgbImage::new(w, h))
}

/// Rows of tiles laid out on white, each column as wide as its widest tile.
pub(super) fn contact_sheet(rows: &[Vec<RgbImage>]) -> RgbImage {
    let gap = 8u32;
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let col_w: Vec<u32> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|t| t.width())
                .max()
                .unwrap_or(1)
        })
        .collect();
    let row_h: Vec<u32> = rows
        .iter()
        .map(|r| r.iter().map(|t| t.height()).max().unwrap_or(1))
        .collect();
    let width = col_w.iter().sum::<u32>() + gap * (cols as u32 + 1);
    let height = row_h.iter().map(|h| h + gap).sum::<u32>() + gap;
    let mut sheet = RgbImage::from_pixel(width.max(1), height.max(1), Rgb([255, 255, 255]));
    let mut y = gap;
    for (row, h) in rows.iter().zip(&row_h) {
        let mut x = gap;
        for (t, w) in row.iter().zip(&col_w) {
            overlay(&mut sheet, t, i64::from(x), i64::from(y));
            x += w + gap;
        }
        y += h + gap;
    }
    sheet
}
