//! `cargo bench`: the same measurements as `facecloak bench`, printed as JSON.
//! Arguments: an optional photo path (default: the sample portrait).

use facecloak::internals::cloak::Mode;

fn main() {
    // cargo passes `--bench`; anything else is the photo.
    let photo = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(Into::into);
    let photo = photo.unwrap_or_else(facecloak::bench::default_photo);
    match facecloak::bench::run(&photo, &[Mode::Low, Mode::Mid, Mode::High], 4, None) {
        Ok(report) => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        ),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
