//! The detector finds the known faces in real photos, with landmarks where faces have them.

mod common;

use common::{fixture, heads, store};
use facecloak::FaceBox;
use facecloak::bench::compose::{self, Placed};
use facecloak::internals::detect::{Detector, Face};
use image::{GenericImage, RgbImage};

fn inside(p: [f32; 2], b: FaceBox) -> bool {
    p[0] >= b.left() && p[0] <= b.right() && p[1] >= b.top() && p[1] <= b.bottom()
}

fn assert_plausible(face: &Face, what: &str) {
    assert!(face.score > 0.9, "{what}: weak detection {}", face.score);
    for p in face.five {
        assert!(
            inside(p, face.bbox),
            "{what}: landmark {p:?} outside box {:?}",
            face.bbox
        );
    }
    let [le, re, nose, lm, rm] = face.five;
    assert!(
        le[0] < re[0] && lm[0] < rm[0],
        "{what}: left/right swapped: {:?}",
        face.five
    );
    assert!(
        le[1] < nose[1] && re[1] < nose[1],
        "{what}: eyes not above the nose: {:?}",
        face.five
    );
    assert!(
        nose[1] < lm[1] && nose[1] < rm[1],
        "{what}: nose not above the mouth: {:?}",
        face.five
    );
    assert_eq!(face.landmarks.len(), 68);
}

#[test]
fn finds_the_one_face_in_each_portrait() {
    let mut det = Detector::new(&store()).unwrap();
    for name in ["obama.jpg", "biden.jpg"] {
        let img = facecloak::internals::io::load_rgb(&fixture(name)).unwrap();
        let faces = det.detect(&img).unwrap();
        assert_eq!(faces.len(), 1, "{name}: {faces:?}");
        assert_plausible(&faces[0], name);
        // The face is in the upper part of both portraits and is a sizeable part of the width.
        let FaceBox([x1, y1, x2, y2]) = faces[0].bbox;
        assert!(
            y2 < img.height() as f32 * 0.5,
            "{name}: box {:?}",
            faces[0].bbox
        );
        assert!(
            x2 - x1 > img.width() as f32 * 0.15,
            "{name}: box {:?}",
            faces[0].bbox
        );
        assert!(y2 > y1);
    }
}

#[test]
fn finds_both_faces_in_a_composed_group_photo() {
    let mut det = Detector::new(&store()).unwrap();
    let a = facecloak::internals::io::load_rgb(&fixture("obama.jpg")).unwrap();
    let b = facecloak::internals::io::load_rgb(&fixture("biden.jpg")).unwrap();
    let b = image::imageops::crop_imm(&b, 0, 0, b.width(), a.height()).to_image();
    let mut group = RgbImage::new(a.width() + b.width(), a.height());
    group.copy_from(&a, 0, 0).unwrap();
    group.copy_from(&b, a.width(), 0).unwrap();
    let faces = det.detect(&group).unwrap();
    assert_eq!(faces.len(), 2, "{faces:?}");
    let mut xs: Vec<f32> = faces.iter().map(|f| f.bbox.left()).collect();
    xs.sort_by(f32::total_cmp);
    assert!(
        xs[0] < a.width() as f32 && xs[1] >= a.width() as f32,
        "boxes {xs:?}"
    );
    for f in &faces {
        assert_plausible(f, "group");
    }
}

#[test]
fn finds_no_face_where_there_is_none() {
    let mut det = Detector::new(&store()).unwrap();
    // The lower half of Biden's full-length portrait: suit and room, no face.
    let b = facecloak::internals::io::load_rgb(&fixture("biden.jpg")).unwrap();
    let lower =
        image::imageops::crop_imm(&b, 0, b.height() / 2, b.width(), b.height() / 2).to_image();
    assert!(det.detect(&lower).unwrap().is_empty());
    // Flat grey.
    let flat = RgbImage::from_pixel(640, 480, image::Rgb([128, 128, 128]));
    assert!(det.detect(&flat).unwrap().is_empty());
}

/// A 24 MP group photo with twenty faces from 40 to 400 px wide, composed from the fixtures'
/// heads on a smooth background: every face is found once, nothing else is.
#[test]
fn finds_every_face_from_40_to_400_px_in_a_24_mp_photo() {
    let mut det = Detector::new(&store()).unwrap();
    let heads = heads(&mut det);
    let (photo, expected) = compose::group(&heads, (6000, 4000), 20, (40.0, 400.0));
    let faces = det.detect(&photo).unwrap();
    for &Placed { width, centre } in &expected {
        let hits = faces.iter().filter(|f| inside(centre, f.bbox)).count();
        assert_eq!(
            hits, 1,
            "face {width:.0} px wide at {centre:?}: {hits} boxes"
        );
    }
    assert_eq!(
        faces.len(),
        20,
        "false faces: {:?}",
        faces.iter().map(|f| f.bbox).collect::<Vec<_>>()
    );

    // The same background with no one on it.
    assert!(
        det.detect(&compose::background(6000, 4000))
            .unwrap()
            .is_empty()
    );
}
