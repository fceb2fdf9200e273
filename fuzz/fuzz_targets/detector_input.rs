//! The detector's input preparation at any photo size and content: the first four bytes choose
//! the size (up to 4096 × 4096, any aspect, including 1-pixel strips), the rest the pixels.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let w = u32::from(u16::from_le_bytes([data[0], data[1]])) % 4096 + 1;
    let h = u32::from(u16::from_le_bytes([data[2], data[3]])) % 4096 + 1;
    let pixels = &data[4..];
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let i = (y as usize * w as usize + x as usize) * 3;
        let at = |k: usize| pixels.get((i + k) % pixels.len().max(1)).copied().unwrap_or(0);
        image::Rgb([at(0), at(1), at(2)])
    });
    let input = facecloak::internals::detect::detector_input(&img);
    assert!(input.iter().all(|v| v.is_finite() && (-1.0..=1.0).contains(v)));
});
