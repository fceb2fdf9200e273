//! The TypeScript declarations of what the page receives, generated from these Rust types into
//! `ui/src/bindings.ts`, so the two sides cannot drift: the test below fails when the file is
//! not what the types say. `FACECLOAK_WRITE_BINDINGS=1 cargo test -p facecloak-app bindings`
//! rewrites it.

#[cfg(test)]
mod tests {
    use std::path::Path;

    use ts_rs::{Config, TS};

    use crate::commands::{Added, ModeView, StateView};
    use crate::faces::{FacePair, FacesView, PickerFace};
    use crate::queue::{FaceCount, Item, RunProgress, Status, Update};
    use crate::settings::Settings;

    fn bindings() -> String {
        let cfg = Config::new();
        let decls = [
            facecloak::Mode::decl(&cfg),
            facecloak::Summary::decl(&cfg),
            facecloak::user_models::AddedModel::decl(&cfg),
            Status::decl(&cfg),
            FaceCount::decl(&cfg),
            Item::decl(&cfg),
            RunProgress::decl(&cfg),
            Update::decl(&cfg),
            Added::decl(&cfg),
            Settings::decl(&cfg),
            ModeView::decl(&cfg),
            StateView::decl(&cfg),
            PickerFace::decl(&cfg),
            FacesView::decl(&cfg),
            FacePair::decl(&cfg),
        ];
        let mut out = String::from(
            "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.\n\
             // FACECLOAK_WRITE_BINDINGS=1 cargo test -p facecloak-app bindings rewrites it.\n",
        );
        for d in decls {
            out.push_str("\nexport ");
            out.push_str(&d);
            out.push('\n');
        }
        out
    }

    #[test]
    fn bindings_are_what_the_rust_types_say() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings.ts");
        let want = bindings();
        if std::env::var_os("FACECLOAK_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date: run FACECLOAK_WRITE_BINDINGS=1 cargo test -p facecloak-app bindings",
            path.display()
        );
    }
}
