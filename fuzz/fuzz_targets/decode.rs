//! Untrusted bytes through everything that runs before a model sees them: format sniffing,
//! decoding under limits, EXIF orientation, metadata sanitising and the detector's input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(photo) = facecloak::internals::io::decode_photo(data, std::path::Path::new("fuzz-input")) {
        if let Some(exif) = &photo.exif {
            let _ = facecloak::internals::metadata::sanitise_exif(exif);
        }
        if photo.rgb.width() > 0 && photo.rgb.height() > 0 {
            let _ = facecloak::internals::detect::detector_input(&photo.rgb);
        }
    }
    let _ = facecloak::internals::metadata::sanitise_exif(data);
});
