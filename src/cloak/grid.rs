//! The working grid the optimiser runs on: the face's region at about one pixel per face-crop
//! pixel. Recognisers only ever see the 112×112 crop, so finer detail is invisible to them; on a
//! large face the optimiser works on a block-averaged copy and its change is carried back to full
//! resolution by bilinear interpolation, which keeps cost independent of the photo's size and the
//! change free of pixel-level noise.

use image::RgbImage;
use ndarray::Array3;

use crate::geometry::{Rect, Similarity};

#[derive(Debug, Clone)]
pub(super) struct Grid {
    /// Photo pixels per working pixel, along each axis.
    factor: usize,
    region: Rect,
    pub(super) w: usize,
    pub(super) h: usize,
}

impl Grid {
    pub(super) fn new(to_face: &Similarity, region: Rect) -> Self {
        let factor = ((1.0 / to_face.scale()).floor() as usize).max(1);
        Self {
            factor,
            region,
            w: (region.w as usize).div_ceil(factor),
            h: (region.h as usize).div_ceil(factor),
        }
    }

    /// The whole grid as a rectangle in its own coordinates.
    pub(super) fn rect(&self) -> Rect {
        Rect {
            x: 0,
            y: 0,
            w: self.w as u32,
            h: self.h as u32,
        }
    }

    /// Working pixel (i, j) sits at photo point region + (i + ½)·f − ½.
    pub(super) fn transform(&self, to_face: &Similarity) -> Similarity {
        let f = self.factor as f32;
        let origin = [
            self.region.x as f32 + 0.5 * f - 0.5,
            self.region.y as f32 + 0.5 * f - 0.5,
        ];
        let [tx, ty] = to_face.apply(origin);
        Similarity {
            a: to_face.a * f,
            b: to_face.b * f,
            tx,
            ty,
        }
    }

    /// Region planes (3×H×W) → working planes, each the mean of its block.
    #[cfg(test)]
    pub(super) fn down(&self, x: &Array3<f32>) -> Array3<f32> {
        self.down_with(|c, y, xx| x[[c, y, xx]])
    }

    /// The region of `photo` (whose pixel (0, 0) is photo pixel `origin`) → working planes, read
    /// straight from the 8-bit pixels: a float copy of a big face's region would cost 12 bytes
    /// a pixel.
    pub(super) fn down_photo(&self, photo: &RgbImage, origin: (u32, u32)) -> Array3<f32> {
        let (ox, oy) = (self.region.x - origin.0, self.region.y - origin.1);
        self.down_with(|c, y, x| {
            f32::from(photo.get_pixel(ox + x as u32, oy + y as u32)[c]) / 255.0
        })
    }

    /// Working planes from any per-pixel reader (channel, region-local y, x), block-averaged.
    fn down_with(&self, at: impl Fn(usize, usize, usize) -> f32) -> Array3<f32> {
        let f = self.factor;
        let (hh, ww) = (self.region.h as usize, self.region.w as usize);
        Array3::from_shape_fn((3, self.h, self.w), |(c, j, i)| {
            let (y0, x0) = (j * f, i * f);
            let (y1, x1) = ((y0 + f).min(hh), (x0 + f).min(ww));
            let mut sum = 0.0;
            for y in y0..y1 {
                for xx in x0..x1 {
                    sum += at(c, y, xx);
                }
            }
            sum / ((y1 - y0) * (x1 - x0)) as f32
        })
    }

    /// Working planes → region planes (3×H×W), bilinearly between working pixel centres.
    #[cfg(test)]
    pub(super) fn up(&self, d: &Array3<f32>) -> Array3<f32> {
        let whole = Rect {
            x: 0,
            y: 0,
            ..self.region
        };
        self.up_rect(d, whole)
    }

    /// Where region coordinate `p` falls between working pixels along an axis of `n`: the two
    /// neighbours and the weight of the second.
    fn coord(&self, p: u32, n: usize) -> (usize, usize, f32) {
        let s = ((p as f32 + 0.5) / self.factor as f32 - 0.5).clamp(0.0, (n - 1) as f32);
        let i0 = s.floor() as usize;
        (i0, (i0 + 1).min(n - 1), s - i0 as f32)
    }

    /// Working planes → the region-local rectangle `r` of the region's planes (3×r.h×r.w).
    pub(super) fn up_rect(&self, d: &Array3<f32>, r: Rect) -> Array3<f32> {
        let xs: Vec<_> = (r.x..r.x + r.w).map(|x| self.coord(x, self.w)).collect();
        let ys: Vec<_> = (r.y..r.y + r.h).map(|y| self.coord(y, self.h)).collect();
        Array3::from_shape_fn((3, r.h as usize, r.w as usize), |(c, y, x)| {
            bilinear(d, c, ys[y], xs[x])
        })
    }

    /// Working planes at region-local pixel (x, y), channel c.
    pub(super) fn up_at(&self, d: &Array3<f32>, c: usize, x: u32, y: u32) -> f32 {
        bilinear(d, c, self.coord(y, self.h), self.coord(x, self.w))
    }
}

fn bilinear(
    d: &Array3<f32>,
    c: usize,
    (y0, y1, fy): (usize, usize, f32),
    (x0, x1, fx): (usize, usize, f32),
) -> f32 {
    let top = d[[c, y0, x0]] * (1.0 - fx) + d[[c, y0, x1]] * fx;
    let bottom = d[[c, y1, x0]] * (1.0 - fx) + d[[c, y1, x1]] * fx;
    top * (1.0 - fy) + bottom * fy
}

/// A face's change, kept on its working grid (a few hundred kilobytes whatever the face's size)
/// and interpolated to photo pixels only where it is judged or put on the photo.
#[derive(Debug, Clone)]
pub struct Change {
    grid: Grid,
    delta: Array3<f32>,
}

impl Change {
    pub(super) fn new(grid: Grid, delta: Array3<f32>) -> Self {
        Self { grid, delta }
    }

    /// The photo region the change covers.
    pub fn region(&self) -> Rect {
        self.grid.region
    }

    /// Scales the whole change.
    pub(super) fn scale(&mut self, k: f32) {
        self.delta.mapv_inplace(|v| v * k);
    }

    /// The change over a region-local rectangle, at photo resolution (3×r.h×r.w).
    pub(super) fn rect(&self, r: Rect) -> Array3<f32> {
        self.grid.up_rect(&self.delta, r)
    }

    /// The change at region-local pixel (x, y), channel c.
    pub(super) fn at(&self, c: usize, x: u32, y: u32) -> f32 {
        self.grid.up_at(&self.delta, c, x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A face seen at `a` (+ rotation `b`) crop pixels per photo pixel, over a region at (x, y).
    fn grid(a: f32, b: f32, [x, y, w, h]: [u32; 4]) -> (Similarity, Grid) {
        let to_face = Similarity {
            a,
            b,
            tx: 0.0,
            ty: 0.0,
        };
        (to_face, Grid::new(&to_face, Rect { x, y, w, h }))
    }

    #[test]
    fn a_large_face_gets_a_coarser_grid_that_round_trips_smooth_changes() {
        let (to_face, g) = grid(0.25, 0.0, [10, 20, 103, 90]);
        assert_eq!((g.w, g.h), (26, 23));
        // A working pixel's centre maps to where its block's centre maps.
        let t = g.transform(&to_face);
        let centre = to_face.apply([10.0 + 1.5, 20.0 + 1.5]);
        let got = t.apply([0.0, 0.0]);
        assert!((got[0] - centre[0]).abs() < 1e-4 && (got[1] - centre[1]).abs() < 1e-4);
        // A linear ramp survives down → up away from the borders.
        let ramp =
            Array3::from_shape_fn((3, 90, 103), |(_, y, x)| 0.01 * x as f32 + 0.002 * y as f32);
        let back = g.up(&g.down(&ramp));
        assert!((back[[0, 45, 50]] - ramp[[0, 45, 50]]).abs() < 1e-3);
    }

    #[test]
    fn a_small_face_is_worked_on_at_full_resolution() {
        let (_, g) = grid(1.2, 0.1, [0, 0, 40, 30]);
        assert_eq!((g.w, g.h), (40, 30));
        let x = Array3::from_shape_fn((3, 30, 40), |(c, y, x)| (c + y + x) as f32);
        assert_eq!(g.up(&g.down(&x)), x);
    }
}
