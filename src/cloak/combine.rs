//! Putting every face's change on the photo. Each face is optimised on the original photo, so
//! where two faces' regions overlap (a head on a shoulder, a child on a lap) their changes would
//! add up; instead the sum is held to the largest single change at that pixel, so no pixel ever
//! moves by more than one face's budget.

use image::RgbImage;

use super::{Change, CloakedPhoto, FaceResult};
use crate::geometry::Rect;

fn contains(r: &Rect, x: u32, y: u32) -> bool {
    x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h
}

/// A copy of `photo` with every face's change on it.
pub fn combine(photo: &RgbImage, faces: Vec<FaceResult>) -> CloakedPhoto {
    let mut image = photo.clone();
    for (i, face) in faces.iter().enumerate() {
        let r = face.change.region();
        // Only the faces this one overlaps are consulted; a pixel an earlier face covered has
        // already been written with every face's share.
        let others: Vec<(&Change, Rect)> = faces
            .iter()
            .enumerate()
            .filter(|&(j, f)| j != i && f.change.region().overlaps(&r))
            .map(|(_, f)| (&f.change, f.change.region()))
            .collect();
        let earlier: Vec<Rect> = faces[..i]
            .iter()
            .map(|f| f.change.region())
            .filter(|e| e.overlaps(&r))
            .collect();
        // One face's change at photo resolution at a time: twenty big faces' worth would not fit.
        let own = face.change.rect(Rect { x: 0, y: 0, ..r });
        for y in r.y..r.y + r.h {
            for x in r.x..r.x + r.w {
                if earlier.iter().any(|e| contains(e, x, y)) {
                    continue;
                }
                let p = image.get_pixel_mut(x, y);
                for c in 0..3 {
                    let d = own[[c, (y - r.y) as usize, (x - r.x) as usize]];
                    let (mut sum, mut largest) = (d, d.abs());
                    for (change, o) in &others {
                        if contains(o, x, y) {
                            let d = change.at(c, x - o.x, y - o.y);
                            sum += d;
                            largest = largest.max(d.abs());
                        }
                    }
                    let moved = f32::from(p[c]) + 255.0 * sum.clamp(-largest, largest);
                    p[c] = moved.round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }
    CloakedPhoto { image, faces }
}

#[cfg(test)]
mod tests {
    use ndarray::Array3;

    use super::*;
    use crate::cloak::grid::Grid;
    use crate::geometry::Similarity;
    use crate::visibility::FaceQuality;

    fn face(x: u32, w: u32, value: f32) -> FaceResult {
        let region = Rect { x, y: 0, w, h: 4 };
        // One working pixel per photo pixel: a face seen at crop scale 1.
        let to_face = Similarity {
            a: 1.0,
            b: 0.0,
            tx: 0.0,
            ty: 0.0,
        };
        FaceResult {
            change: Change::new(
                Grid::new(&to_face, region),
                Array3::from_elem((3, 4, w as usize), value),
            ),
            quality: FaceQuality {
                display: 100.0,
                full: 100.0,
            },
            kept: 1.0,
            seconds: 0.0,
        }
    }

    #[test]
    fn overlapping_faces_never_move_a_pixel_more_than_one_face_would() {
        let photo = RgbImage::from_pixel(10, 4, image::Rgb([100, 100, 100]));
        // Faces over x 0..6 and 4..10 both push up by 4/255; a third over 8..10 pushes down.
        let faces = vec![
            face(0, 6, 4.0 / 255.0),
            face(4, 6, 4.0 / 255.0),
            face(8, 2, -2.0 / 255.0),
        ];
        let out = combine(&photo, faces);
        let row: Vec<u8> = (0..10).map(|x| out.image.get_pixel(x, 1)[0]).collect();
        // Alone: +4. Overlap of two +4: still +4. +4 with −2: +2 (the sum, within the largest).
        assert_eq!(row, [104, 104, 104, 104, 104, 104, 104, 104, 102, 102]);
        assert_eq!(out.faces.len(), 3);
    }
}
