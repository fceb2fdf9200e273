//! Colours from another gamut into sRGB. A HEIF or AVIF file may describe its colours by an
//! nclx box alone (primaries, transfer, matrix) instead of an ICC profile; a JPEG without a
//! profile is read as sRGB, so pixels in a wider gamut (Display P3, BT.2020) would come out
//! dull unless they are converted.

use image::RgbImage;

/// CIE xy chromaticities of the red, green and blue primaries and of the white point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Primaries {
    pub red: [f64; 2],
    pub green: [f64; 2],
    pub blue: [f64; 2],
    pub white: [f64; 2],
}

pub(crate) const SRGB: Primaries = Primaries {
    red: [0.64, 0.33],
    green: [0.30, 0.60],
    blue: [0.15, 0.06],
    white: [0.3127, 0.3290],
};

type Mat = [[f64; 3]; 3];

/// The matrix from linear RGB in `p` to linear sRGB, or `None` when `p` is sRGB's own.
pub(crate) fn matrix_to_srgb(p: &Primaries) -> Option<Mat> {
    let close = |a: [f64; 2], b: [f64; 2]| (a[0] - b[0]).abs() < 2e-3 && (a[1] - b[1]).abs() < 2e-3;
    if close(p.red, SRGB.red)
        && close(p.green, SRGB.green)
        && close(p.blue, SRGB.blue)
        && close(p.white, SRGB.white)
    {
        return None;
    }
    let to_xyz = rgb_to_xyz(p)?;
    let from_xyz = invert(&rgb_to_xyz(&SRGB)?)?;
    Some(mul(
        &from_xyz,
        &mul(&bradford(p.white, SRGB.white)?, &to_xyz),
    ))
}

/// Converts every pixel (sRGB-encoded values in the source gamut) to sRGB, clipping colours
/// sRGB cannot show.
pub(crate) fn convert(img: &mut RgbImage, m: &Mat) {
    let decode: Vec<f32> = (0..256)
        .map(|v| srgb_to_linear(v as f64 / 255.0) as f32)
        .collect();
    const STEPS: usize = 16384;
    let encode: Vec<u8> = (0..=STEPS)
        .map(|i| (linear_to_srgb(i as f64 / STEPS as f64) * 255.0).round() as u8)
        .collect();
    let m: [[f32; 3]; 3] = m.map(|row| row.map(|v| v as f32));
    for px in img.pixels_mut() {
        let lin = px.0.map(|v| decode[v as usize]);
        for (c, row) in m.iter().enumerate() {
            let v = row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2];
            px.0[c] = encode[(v.clamp(0.0, 1.0) * STEPS as f32).round() as usize];
        }
    }
}

fn srgb_to_linear(v: f64) -> f64 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f64) -> f64 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

fn xyz_of(xy: [f64; 2]) -> Option<[f64; 3]> {
    (xy[1] > 1e-6).then(|| [xy[0] / xy[1], 1.0, (1.0 - xy[0] - xy[1]) / xy[1]])
}

/// Linear RGB → XYZ for primaries and white `p` (white maps to Y = 1).
fn rgb_to_xyz(p: &Primaries) -> Option<Mat> {
    let (r, g, b) = (xyz_of(p.red)?, xyz_of(p.green)?, xyz_of(p.blue)?);
    let prim = [[r[0], g[0], b[0]], [r[1], g[1], b[1]], [r[2], g[2], b[2]]];
    let w = xyz_of(p.white)?;
    let s = apply(&invert(&prim)?, w);
    Some(prim.map(|row| [row[0] * s[0], row[1] * s[1], row[2] * s[2]]))
}

/// Bradford chromatic adaptation from white `from` to white `to`, in XYZ.
fn bradford(from: [f64; 2], to: [f64; 2]) -> Option<Mat> {
    const B: Mat = [
        [0.8951, 0.2664, -0.1614],
        [-0.7502, 1.7135, 0.0367],
        [0.0389, -0.0685, 1.0296],
    ];
    let (s, d) = (apply(&B, xyz_of(from)?), apply(&B, xyz_of(to)?));
    let scale = [
        [d[0] / s[0], 0.0, 0.0],
        [0.0, d[1] / s[1], 0.0],
        [0.0, 0.0, d[2] / s[2]],
    ];
    Some(mul(&invert(&B)?, &mul(&scale, &B)))
}

fn apply(m: &Mat, v: [f64; 3]) -> [f64; 3] {
    m.map(|row| row[0] * v[0] + row[1] * v[1] + row[2] * v[2])
}

fn mul(a: &Mat, b: &Mat) -> Mat {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

fn invert(m: &Mat) -> Option<Mat> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 {
        return None;
    }
    let c = |r0: usize, r1: usize, c0: usize, c1: usize| {
        (m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]) / det
    };
    Some([
        [c(1, 2, 1, 2), -c(0, 2, 1, 2), c(0, 1, 1, 2)],
        [-c(1, 2, 0, 2), c(0, 2, 0, 2), -c(0, 1, 0, 2)],
        [c(1, 2, 0, 1), -c(0, 2, 0, 1), c(0, 1, 0, 1)],
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISPLAY_P3: Primaries = Primaries {
        red: [0.680, 0.320],
        green: [0.265, 0.690],
        blue: [0.150, 0.060],
        white: [0.3127, 0.3290],
    };

    #[test]
    fn display_p3_to_srgb_matches_the_published_matrix() {
        // The linear Display P3 → sRGB matrix as colour-science libraries give it.
        let want = [
            [1.2249, -0.2247, 0.0],
            [-0.0420, 1.0419, 0.0],
            [-0.0197, -0.0786, 1.0979],
        ];
        let m = matrix_to_srgb(&DISPLAY_P3).unwrap();
        for (r, w) in m.iter().zip(want) {
            for (v, w) in r.iter().zip(w) {
                assert!((v - w).abs() < 2e-3, "{m:?}");
            }
        }
        assert!(matrix_to_srgb(&SRGB).is_none());
    }

    #[test]
    fn greys_stay_grey_and_colours_grow_more_saturated() {
        let mut img = RgbImage::from_fn(3, 1, |x, _| match x {
            0 => image::Rgb([128, 128, 128]),
            1 => image::Rgb([200, 60, 40]),
            _ => image::Rgb([255, 255, 255]),
        });
        convert(&mut img, &matrix_to_srgb(&DISPLAY_P3).unwrap());
        for c in img.get_pixel(0, 0).0 {
            assert!(c.abs_diff(128) <= 1, "{:?}", img.get_pixel(0, 0));
        }
        let red = img.get_pixel(1, 0).0;
        assert!(red[0] > 200 && red[1] < 60, "{red:?}");
        assert!(img.get_pixel(2, 0).0.iter().all(|&c| c >= 254));
    }
}
