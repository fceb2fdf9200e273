//! Untrusted HEIC/HEIF/AVIF bytes through libheif and FaceCloak's reading of what it returns
//! (the primary image's planes, its EXIF item, the pixel limit). Inputs that do not already
//! carry a HEIF brand are given one, so the fuzzer spends its time past the sniffing.
#![no_main]

use facecloak::internals::heif::{self, HeifKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz-input.heic");
    let kind = heif::sniff(data).unwrap_or(HeifKind::Heic);
    if let Ok(photo) = heif::decode(data, path, kind) {
        if let Some(exif) = &photo.exif {
            let _ = facecloak::internals::metadata::sanitise_exif(exif);
        }
        assert_eq!(
            photo.rgb.len(),
            photo.rgb.width() as usize * photo.rgb.height() as usize * 3
        );
    }
});
