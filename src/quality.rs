//! Image-quality measures: SSIM on luma (7×7 uniform windows, as scikit-image's default) and PSNR.

use image::RgbImage;

use crate::geometry::Rect;

const C1: f64 = 0.01 * 0.01;
const C2: f64 = 0.03 * 0.03;
/// Half-width of the SSIM window.
const RADIUS: i64 = 3;

fn luma(img: &RgbImage, x: u32, y: u32) -> f64 {
    let p = img.get_pixel(x, y);
    (0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2])) / 255.0
}

/// Sum of SSIM over the windows centred in `rect` and their count. Windows are clipped to the photo.
pub fn ssim_sum(a: &RgbImage, b: &RgbImage, rect: Rect) -> (f64, usize) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (w, h) = (i64::from(a.width()), i64::from(a.height()));
    // Integral images over the rect plus the window's reach.
    let x0 = (i64::from(rect.x) - RADIUS).max(0);
    let y0 = (i64::from(rect.y) - RADIUS).max(0);
    let x1 = (i64::from(rect.x + rect.w) + RADIUS).min(w);
    let y1 = (i64::from(rect.y + rect.h) + RADIUS).min(h);
    let (iw, ih) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let stride = iw + 1;
    let mut sums = vec![[0.0f64; 5]; stride * (ih + 1)];
    for yy in 0..ih {
        let mut row = [0.0f64; 5];
        for xx in 0..iw {
            let (px, py) = ((x0 + xx as i64) as u32, (y0 + yy as i64) as u32);
            let (u, v) = (luma(a, px, py), luma(b, px, py));
            let vals = [u, v, u * u, v * v, u * v];
            for k in 0..5 {
                row[k] += vals[k];
                sums[(yy + 1) * stride + xx + 1][k] = sums[yy * stride + xx + 1][k] + row[k];
            }
        }
    }
    let (mut total, mut count) = (0.0, 0usize);
    for cy in i64::from(rect.y)..i64::from(rect.y + rect.h) {
        for cx in i64::from(rect.x)..i64::from(rect.x + rect.w) {
            let (lx, ly) = ((cx - RADIUS).max(x0) - x0, (cy - RADIUS).max(y0) - y0);
            let (hx, hy) = (
                (cx + RADIUS + 1).min(x1) - x0,
                (cy + RADIUS + 1).min(y1) - y0,
            );
            let n = ((hx - lx) * (hy - ly)) as f64;
            let at = |x: i64, y: i64, k: usize| sums[y as usize * stride + x as usize][k];
            let s = |k| (at(hx, hy, k) - at(lx, hy, k) - at(hx, ly, k) + at(lx, ly, k)) / n;
            let (mu_a, mu_b) = (s(0), s(1));
            let var_a = (s(2) - mu_a * mu_a).max(0.0);
            let var_b = (s(3) - mu_b * mu_b).max(0.0);
            let cov = s(4) - mu_a * mu_b;
            total += ((2.0 * mu_a * mu_b + C1) * (2.0 * cov + C2))
                / ((mu_a * mu_a + mu_b * mu_b + C1) * (var_a + var_b + C2));
            count += 1;
        }
    }
    (total, count)
}

/// Mean SSIM over a region.
pub fn ssim_region(a: &RgbImage, b: &RgbImage, rect: Rect) -> f64 {
    let (sum, n) = ssim_sum(a, b, rect);
    sum / n.max(1) as f64
}

/// Mean SSIM over the whole photo when only `changed` differs: every window outside the changed
/// rectangle (grown by the window's reach) compares equal pixels and scores exactly 1.
pub fn ssim_photo(a: &RgbImage, b: &RgbImage, changed: &[Rect]) -> f64 {
    let (w, h) = a.dimensions();
    let total = u64::from(w) * u64::from(h);
    let grown = grow_union(changed, w, h);
    let (mut sum, mut counted) = (0.0, 0u64);
    for r in &grown {
        let (s, n) = ssim_sum(a, b, *r);
        sum += s;
        counted += n as u64;
    }
    (sum + (total - counted) as f64) / total as f64
}

/// The changed rects grown by the window reach; overlapping rects are merged so no window counts twice.
fn grow_union(rects: &[Rect], w: u32, h: u32) -> Vec<Rect> {
    let r = RADIUS as u32;
    let mut out: Vec<Rect> = Vec::new();
    for rect in rects {
        let mut g = Rect {
            x: rect.x.saturating_sub(r),
            y: rect.y.saturating_sub(r),
            w: 0,
            h: 0,
        };
        g.w = (rect.x + rect.w + r).min(w) - g.x;
        g.h = (rect.y + rect.h + r).min(h) - g.y;
        while let Some(i) = out.iter().position(|o| o.overlaps(&g)) {
            let o = out.swap_remove(i);
            let (x0, y0) = (o.x.min(g.x), o.y.min(g.y));
            let (x1, y1) = ((o.x + o.w).max(g.x + g.w), (o.y + o.h).max(g.y + g.h));
            g = Rect {
                x: x0,
                y: y0,
                w: x1 - x0,
                h: y1 - y0,
            };
        }
        out.push(g);
    }
    out
}

/// PSNR in dB over all channels of the whole photo (infinite when identical).
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noisy(w: u32, h: u32, seed: u32, amp: i32) -> RgbImage {
        let mut s = seed;
        RgbImage::from_fn(w, h, |x, y| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let n = ((s >> 24) as i32 % (2 * amp + 1)) - amp;
            let base = ((x * 7 + y * 3) % 200) as i32 + 20;
            let v = (base + n).clamp(0, 255) as u8;
            image::Rgb([v, v, v])
        })
    }

    #[test]
    fn identical_images_score_one() {
        let a = noisy(40, 30, 1, 0);
        assert!(
            (ssim_region(
                &a,
                &a,
                Rect {
                    x: 0,
                    y: 0,
                    w: 40,
                    h: 30
                }
            ) - 1.0)
                .abs()
                < 1e-12
        );
        assert!(psnr(&a, &a).is_infinite());
    }

    #[test]
    fn photo_ssim_from_changed_rects_equals_the_full_computation() {
        let a = noisy(60, 50, 1, 0);
        let mut b = a.clone();
        let changed = Rect {
            x: 10,
            y: 12,
            w: 20,
            h: 15,
        };
        for y in changed.y..changed.y + changed.h {
            for x in changed.x..changed.x + changed.w {
                let p = b.get_pixel_mut(x, y);
                p[0] = p[0].wrapping_add(((x * y) % 9) as u8);
            }
        }
        let full = ssim_region(
            &a,
            &b,
            Rect {
                x: 0,
                y: 0,
                w: 60,
                h: 50,
            },
        );
        let fast = ssim_photo(&a, &b, &[changed]);
        assert!((full - fast).abs() < 1e-9, "{full} vs {fast}");
        assert!(full < 1.0);
    }

    #[test]
    fn more_noise_scores_lower() {
        let a = noisy(64, 64, 1, 0);
        let rect = Rect {
            x: 0,
            y: 0,
            w: 64,
            h: 64,
        };
        let s_small = ssim_region(&a, &noisy(64, 64, 2, 3), rect);
        let s_big = ssim_region(&a, &noisy(64, 64, 2, 20), rect);
        assert!(s_small > s_big, "{s_small} vs {s_big}");
    }
}
