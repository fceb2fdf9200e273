//! Plane geometry shared by detection, alignment, the optimiser and the evaluation: face boxes,
//! pixel rectangles and similarity transforms.

use serde::Serialize;

/// A rectangle of the photo: x, y, width, height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// x' = a·x − b·y + tx, y' = b·x + a·y + ty: rotation, uniform scale and translation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// The least-squares similarity taking `src` points onto `dst` points.
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Self {
        assert_eq!(src.len(), dst.len());
        let n = src.len() as f64;
        let mean = |pts: &[[f32; 2]]| {
            let (sx, sy) = pts.iter().fold((0.0, 0.0), |(x, y), p| {
                (x + f64::from(p[0]), y + f64::from(p[1]))
            });
            (sx / n, sy / n)
        };
        let (msx, msy) = mean(src);
        let (mdx, mdy) = mean(dst);
        let (mut num_a, mut num_b, mut den) = (0.0, 0.0, 0.0);
        for (s, d) in src.iter().zip(dst) {
            let (sx, sy) = (f64::from(s[0]) - msx, f64::from(s[1]) - msy);
            let (dx, dy) = (f64::from(d[0]) - mdx, f64::from(d[1]) - mdy);
            num_a += sx * dx + sy * dy;
            num_b += sx * dy - sy * dx;
            den += sx * sx + sy * sy;
        }
        let (a, b) = if den > 0.0 {
            (num_a / den, num_b / den)
        } else {
            (1.0, 0.0)
        };
        let tx = mdx - (a * msx - b * msy);
        let ty = mdy - (b * msx + a * msy);
        Self {
            a: a as f32,
            b: b as f32,
            tx: tx as f32,
            ty: ty as f32,
        }
    }

    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [
            self.a * p[0] - self.b * p[1] + self.tx,
            self.b * p[0] + self.a * p[1] + self.ty,
        ]
    }

    /// Scale factor (template pixels per photo pixel).
    pub fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }

    pub fn inverse(&self) -> Self {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Self {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }
}

impl Rect {
    /// This rectangle grown by `share` of its size on every side, clipped to a `width`×`height`
    /// photo: the face box people look at, with some of its surroundings.
    pub fn padded(self, share: f32, width: u32, height: u32) -> Rect {
        let (dx, dy) = (
            (self.w as f32 * share).round() as u32,
            (self.h as f32 * share).round() as u32,
        );
        let x0 = self.x.saturating_sub(dx);
        let y0 = self.y.saturating_sub(dy);
        let x1 = (self.x + self.w + dx).min(width).max(x0 + 1);
        let y1 = (self.y + self.h + dy).min(height).max(y0 + 1);
        Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }

    /// Whether the two rectangles share a pixel.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.x + other.w
            && other.x < self.x + self.w
            && self.y < other.y + other.h
            && other.y < self.y + self.h
    }
}

/// A face's box in photo pixels as the detector gives it, sub-pixel: left, top, right, bottom.
/// In JSON (`--json`, the app's page) it is those four numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct FaceBox(pub [f32; 4]);

impl FaceBox {
    pub fn left(&self) -> f32 {
        self.0[0]
    }

    pub fn top(&self) -> f32 {
        self.0[1]
    }

    pub fn right(&self) -> f32 {
        self.0[2]
    }

    pub fn bottom(&self) -> f32 {
        self.0[3]
    }

    pub fn width(&self) -> f32 {
        self.0[2] - self.0[0]
    }

    pub fn height(&self) -> f32 {
        self.0[3] - self.0[1]
    }

    pub fn area(&self) -> f32 {
        self.width() * self.height()
    }

    pub fn centre(&self) -> [f32; 2] {
        [(self.0[0] + self.0[2]) / 2.0, (self.0[1] + self.0[3]) / 2.0]
    }

    /// This box grown by `margin` pixels on every side (not clipped).
    pub fn grown(&self, margin: f32) -> FaceBox {
        let [x0, y0, x1, y1] = self.0;
        FaceBox([x0 - margin, y0 - margin, x1 + margin, y1 + margin])
    }

    fn intersection(&self, other: &FaceBox) -> f32 {
        let iw = (self.0[2].min(other.0[2]) - self.0[0].max(other.0[0])).max(0.0);
        let ih = (self.0[3].min(other.0[3]) - self.0[1].max(other.0[1])).max(0.0);
        iw * ih
    }

    /// Intersection over union.
    pub fn iou(&self, other: &FaceBox) -> f32 {
        let inter = self.intersection(other);
        inter / (self.area() + other.area() - inter).max(f32::EPSILON)
    }

    /// Share of the smaller box that lies inside the other.
    pub fn covered(&self, other: &FaceBox) -> f32 {
        self.intersection(other) / self.area().min(other.area()).max(f32::EPSILON)
    }

    /// Whether `other`'s centre lies inside this box.
    pub fn holds_centre(&self, other: &FaceBox) -> bool {
        let [cx, cy] = other.centre();
        cx > self.0[0] && cx < self.0[2] && cy > self.0[1] && cy < self.0[3]
    }

    /// The pixels the box touches, inside a `width`×`height` photo (at least one).
    pub fn rect(&self, width: u32, height: u32) -> Rect {
        let [l, t, r, b] = self.0;
        let x0 = (l.max(0.0) as u32).min(width - 1);
        let y0 = (t.max(0.0) as u32).min(height - 1);
        let x1 = (r.ceil().max(0.0) as u32).clamp(x0 + 1, width);
        let y1 = (b.ceil().max(0.0) as u32).clamp(y0 + 1, height);
        Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    }
}

impl std::fmt::Display for FaceBox {
    /// "(x, y) w×h" in whole pixels, as a person reads a box.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "({:.0}, {:.0}) {:.0}×{:.0}",
            self.left(),
            self.top(),
            self.width(),
            self.height()
        )
    }
}

/// `inner` clipped to `outer`, in `outer`'s coordinates (at least one pixel).
pub fn within(inner: Rect, outer: Rect) -> Rect {
    let x0 = inner.x.clamp(outer.x, outer.x + outer.w - 1);
    let y0 = inner.y.clamp(outer.y, outer.y + outer.h - 1);
    let x1 = (inner.x + inner.w).clamp(x0 + 1, outer.x + outer.w);
    let y1 = (inner.y + inner.h).clamp(y0 + 1, outer.y + outer.h);
    Rect {
        x: x0 - outer.x,
        y: y0 - outer.y,
        w: x1 - x0,
        h: y1 - y0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_recovers_a_known_similarity() {
        let m = Similarity {
            a: 0.8,
            b: -0.3,
            tx: 12.0,
            ty: -5.0,
        };
        let src = [
            [10.0, 20.0],
            [50.0, 22.0],
            [30.0, 40.0],
            [15.0, 60.0],
            [48.0, 61.0],
        ];
        let dst: Vec<[f32; 2]> = src.iter().map(|p| m.apply(*p)).collect();
        let e = Similarity::estimate(&src, &dst);
        for (got, want) in [(e.a, m.a), (e.b, m.b), (e.tx, m.tx), (e.ty, m.ty)] {
            assert!((got - want).abs() < 1e-3, "{e:?} vs {m:?}");
        }
    }

    #[test]
    fn inverse_undoes_the_transform() {
        let m = Similarity {
            a: 1.7,
            b: 0.4,
            tx: -30.0,
            ty: 8.0,
        };
        let p = [123.0, -45.0];
        let q = m.inverse().apply(m.apply(p));
        assert!(
            (q[0] - p[0]).abs() < 1e-3 && (q[1] - p[1]).abs() < 1e-3,
            "{q:?}"
        );
    }
}
