//! A small PNG chart of protection against image quality, drawn with `image` alone: one line per
//! judge through the modes (x: mean photo SSIM, y: rank-1 protection). Tick labels are drawn with a
//! built-in 3×5 digit font; titles and the legend belong in the caption.

use image::{Rgb, RgbImage};

const W: u32 = 640;
const H: u32 = 420;
const LEFT: u32 = 60;
const RIGHT: u32 = 20;
const TOP: u32 = 20;
const BOTTOM: u32 = 50;

/// Colours for series, in order.
pub const COLOURS: [[u8; 3]; 4] = [[200, 40, 40], [40, 90, 200], [40, 150, 60], [140, 140, 140]];

/// One line: (x, y) points in data units, y in 0..=1.
pub struct Series {
    pub points: Vec<(f64, f64)>,
}

/// Draws the series with x from `x_min` to `x_max` and y from 0 to 100 %.
pub fn chart(series: &[Series], x_min: f64, x_max: f64) -> RgbImage {
    let mut img = RgbImage::from_pixel(W, H, Rgb([255, 255, 255]));
    let (pw, ph) = ((W - LEFT - RIGHT) as f64, (H - TOP - BOTTOM) as f64);
    let to_px = |x: f64, y: f64| {
        let px = LEFT as f64 + (x - x_min) / (x_max - x_min) * pw;
        let py = TOP as f64 + (1.0 - y) * ph;
        (px, py)
    };
    let grey = Rgb([210, 210, 210]);
    let black = Rgb([0, 0, 0]);
    for i in 0..=5 {
        let y = i as f64 / 5.0;
        let (_, py) = to_px(x_min, y);
        line(&mut img, (LEFT as f64, py), ((W - RIGHT) as f64, py), grey);
        text(&mut img, &format!("{}", i * 20), 20, py as i64 - 5, black);
        let x = x_min + (x_max - x_min) * i as f64 / 5.0;
        let (px, _) = to_px(x, 0.0);
        line(&mut img, (px, TOP as f64), (px, (H - BOTTOM) as f64), grey);
        text(
            &mut img,
            &format!("{x:.3}"),
            px as i64 - 20,
            (H - BOTTOM + 12) as i64,
            black,
        );
    }
    line(
        &mut img,
        (LEFT as f64, TOP as f64),
        (LEFT as f64, (H - BOTTOM) as f64),
        black,
    );
    line(
        &mut img,
        (LEFT as f64, (H - BOTTOM) as f64),
        ((W - RIGHT) as f64, (H - BOTTOM) as f64),
        black,
    );
    for (s, series) in series.iter().enumerate() {
        let c = Rgb(COLOURS[s % COLOURS.len()]);
        let pts: Vec<(f64, f64)> = series.points.iter().map(|&(x, y)| to_px(x, y)).collect();
        for w in pts.windows(2) {
            line(&mut img, w[0], w[1], c);
        }
        for &(px, py) in &pts {
            for dy in -4..=4 {
                for dx in -4..=4 {
                    put(&mut img, px as i64 + dx, py as i64 + dy, c);
                }
            }
        }
    }
    img
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

fn line(img: &mut RgbImage, a: (f64, f64), b: (f64, f64), c: Rgb<u8>) {
    let n = ((b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil() as usize).max(1);
    for i in 0..=n {
        let t = i as f64 / n as f64;
        let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        put(img, x.round() as i64, y.round() as i64, c);
        put(img, x.round() as i64, y.round() as i64 + 1, c);
    }
}

/// 3×5 glyphs for digits and '.', each row three bits.
fn glyph(ch: char) -> [u8; 5] {
    match ch {
        '0' => [7, 5, 5, 5, 7],
        '1' => [2, 6, 2, 2, 7],
        '2' => [7, 1, 7, 4, 7],
        '3' => [7, 1, 7, 1, 7],
        '4' => [5, 5, 7, 1, 1],
        '5' => [7, 4, 7, 1, 7],
        '6' => [7, 4, 7, 5, 7],
        '7' => [7, 1, 1, 1, 1],
        '8' => [7, 5, 7, 5, 7],
        '9' => [7, 5, 7, 1, 7],
        '.' => [0, 0, 0, 0, 2],
        _ => [0; 5],
    }
}

/// Draws digits at twice the glyph size.
fn text(img: &mut RgbImage, s: &str, x: i64, y: i64, c: Rgb<u8>) {
    for (i, ch) in s.chars().enumerate() {
        let g = glyph(ch);
        for (row, bits) in g.iter().enumerate() {
            for col in 0..3 {
                if bits & (4 >> col) != 0 {
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        put(
                            img,
                            x + i as i64 * 8 + col * 2 + dx,
                            y + row as i64 * 2 + dy,
                            c,
                        );
                    }
                }
            }
        }
    }
}
