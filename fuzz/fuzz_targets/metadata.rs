//! Hostile EXIF through the allow-list rebuild: it must never panic, and whatever it returns must
//! read back as EXIF holding only main-image tags (no thumbnail IFD) with an upright orientation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(out) = facecloak::internals::metadata::sanitise_exif(data) else {
        return;
    };
    let read = exif::Reader::new()
        .read_raw(out)
        .expect("a rebuilt block reads back");
    assert!(read.fields().all(|f| f.ifd_num == exif::In::PRIMARY));
    let orientation = read
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0));
    assert_eq!(orientation, Some(1));
});
