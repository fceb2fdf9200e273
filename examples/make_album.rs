//! Makes a test album for load tests: N JPEGs composed from the fixture portraits at sizes from
//! 0.3 to 24 megapixels, the face at varying scales and places.
//! Usage: make_album DIR N
use image::{GenericImage, RgbImage, imageops};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("DIR"));
    let n: usize = args.next().expect("N").parse().expect("a count");
    std::fs::create_dir_all(&dir).unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let faces = [
        facecloak::internals::io::load_rgb(&root.join("obama.jpg")).unwrap(),
        facecloak::internals::io::load_rgb(&root.join("biden.jpg")).unwrap(),
    ];
    // Sizes cycle from small phone shots to a 24 MP camera frame.
    let sizes = [
        (640, 480),
        (1280, 960),
        (2048, 1536),
        (4000, 3000),
        (6000, 4000),
    ];
    for i in 0..n {
        let (w, h) = sizes[i % sizes.len()];
        let src = &faces[i % 2];
        let scale = (h as f32 * (0.5 + 0.1 * (i % 5) as f32)) / src.height() as f32;
        let portrait = imageops::resize(
            src,
            (src.width() as f32 * scale) as u32,
            (src.height() as f32 * scale) as u32,
            imageops::FilterType::Triangle,
        );
        let mut canvas = RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 7 % 200) as u8 + 30,
                (y * 5 % 180) as u8 + 40,
                ((x + y + i as u32) % 160) as u8 + 50,
            ])
        });
        let pw = portrait.width().min(w);
        let ph = portrait.height().min(h);
        let crop = imageops::crop_imm(&portrait, 0, 0, pw, ph).to_image();
        let x = ((w - pw) as usize * (i % 3) / 2) as u32;
        canvas.copy_from(&crop, x, 0).unwrap();
        canvas.save(dir.join(format!("photo-{i:04}.jpg"))).unwrap();
    }
}
