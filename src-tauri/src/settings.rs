//! Settings persisted as JSON under the platform's config folder. A file that cannot be read back
//! gives the defaults and a notice for the window, never a crash.

use std::path::{Path, PathBuf};

use facecloak::Mode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default)]
pub struct Settings {
    pub mode: Mode,
    /// `None`: a `cloaked/` folder beside each photo.
    pub out_dir: Option<PathBuf>,
    /// Keep the allow-listed camera metadata (`--keep-metadata`); off drops all EXIF.
    pub keep_metadata: bool,
    /// Write HEIC and AVIF photos in their own format (`--keep-heif`); off writes JPEG.
    pub keep_heif: bool,
    pub window: (u32, u32),
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            mode: Mode::Mid,
            out_dir: None,
            keep_metadata: false,
            keep_heif: false,
            window: (1000, 720),
        }
    }
}

/// `<config dir>/facecloak/settings.json`, or `FACECLOAK_SETTINGS` when set (tests, portable use).
pub fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("FACECLOAK_SETTINGS") {
        return PathBuf::from(p);
    }
    dirs::config_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("facecloak")
        .join("settings.json")
}

/// The settings and, when the file was unusable, a notice saying so.
pub fn load(path: &Path) -> (Settings, Option<String>) {
    match std::fs::read_to_string(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), None),
        Err(e) => (
            Settings::default(),
            Some(format!(
                "Could not read your settings ({e}); using the defaults."
            )),
        ),
        Ok(text) => match serde_json::from_str(&text) {
            Ok(s) => (s, None),
            Err(e) => (
                Settings::default(),
                Some(format!(
                    "Your settings file {} was damaged ({e}); using the defaults.",
                    path.display()
                )),
            ),
        },
    }
}

pub fn save(path: &Path, settings: &Settings) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("Could not save settings: {e}"))?;
    }
    let text = serde_json::to_string_pretty(settings).expect("settings serialise");
    facecloak::write_atomic(path, text.as_bytes(), true)
        .map_err(|e| format!("Could not save settings: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corrupt_file_falls_back_with_a_notice() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deep/settings.json");
        assert_eq!(load(&p), (Settings::default(), None));
        let s = Settings {
            mode: Mode::High,
            out_dir: Some("/tmp/x".into()),
            keep_metadata: true,
            keep_heif: true,
            window: (800, 600),
        };
        save(&p, &s).unwrap();
        assert_eq!(load(&p).0, s);
        // A file from an older version, without the newer fields, keeps what it has.
        std::fs::write(&p, r#"{"mode": "low"}"#).unwrap();
        assert_eq!(
            load(&p),
            (
                Settings {
                    mode: Mode::Low,
                    ..Settings::default()
                },
                None
            )
        );
        std::fs::write(&p, "{ not json").unwrap();
        let (fallback, notice) = load(&p);
        assert_eq!(fallback, Settings::default());
        assert!(notice.unwrap().contains("damaged"));
    }
}
