//! File names in events and reports. Names need not be Unicode (a Linux file name is any bytes),
//! and a batch must neither stop on one nor report it as some other name: a Unicode path is
//! written as its string; any other as `{"lossy": …, "raw_hex": …}`, the lossy form to show and
//! the exact bytes (Unix) or UTF-16 units (Windows) to find the file again.

use std::path::Path;

use serde::Serializer;
use serde::ser::{SerializeSeq, SerializeStruct, SerializeTuple};

/// `#[serde(serialize_with = "pathname::serialize")]` for a `PathBuf` field.
pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    match path.to_str() {
        Some(text) => s.serialize_str(text),
        None => {
            let mut m = s.serialize_struct("Path", 2)?;
            m.serialize_field("lossy", &path.to_string_lossy())?;
            m.serialize_field("raw_hex", &raw_hex(path))?;
            m.end()
        }
    }
}

/// The same for a list of (path, reason) pairs.
pub fn serialize_pairs<S: Serializer>(
    pairs: &[(std::path::PathBuf, String)],
    s: S,
) -> Result<S::Ok, S::Error> {
    struct Pair<'a>(&'a Path, &'a str);
    impl serde::Serialize for Pair<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut t = s.serialize_tuple(2)?;
            t.serialize_element(&Named(self.0))?;
            t.serialize_element(self.1)?;
            t.end()
        }
    }
    let mut seq = s.serialize_seq(Some(pairs.len()))?;
    for (path, reason) in pairs {
        seq.serialize_element(&Pair(path, reason))?;
    }
    seq.end()
}

/// A path that serialises as [`serialize`] does.
pub struct Named<'a>(pub &'a Path);

impl serde::Serialize for Named<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize(self.0, s)
    }
}

#[cfg(unix)]
fn raw_hex(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(windows)]
fn raw_hex(path: &Path) -> String {
    use std::os::windows::ffi::OsStrExt;
    path.as_os_str()
        .encode_wide()
        .map(|u| format!("{u:04x}"))
        .collect()
}

#[cfg(not(any(unix, windows)))]
fn raw_hex(path: &Path) -> String {
    path.to_string_lossy()
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn unicode_names_are_strings_and_others_keep_their_bytes() {
        let plain = serde_json::to_value(Named(Path::new("a/été.jpg"))).unwrap();
        assert_eq!(plain, serde_json::json!("a/été.jpg"));
        let odd = Path::new(OsStr::from_bytes(b"a/\xffx.jpg"));
        let v = serde_json::to_value(Named(odd)).unwrap();
        assert_eq!(v["lossy"], "a/\u{fffd}x.jpg");
        assert_eq!(v["raw_hex"], "612fff782e6a7067");
    }
}
