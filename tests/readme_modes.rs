//! The README's modes table states the figures `Mode::measured` holds (which the CLI's help, the
//! app's strength list and each face's words are written from): the hand-written table and the
//! code cannot drift apart.

use facecloak::Mode;

/// The whole-number percentages of a cell, in order ("**8 %** (33 %)" → [8, 33]).
fn percents(cell: &str) -> Vec<u32> {
    let words: Vec<&str> = cell.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[1].trim_matches(|c| c == '*' || c == ')') == "%")
        .filter_map(|w| w[0].trim_matches(|c| c == '*' || c == '(').parse().ok())
        .collect()
}

fn rounded(share: f64) -> u32 {
    (100.0 * share).round() as u32
}

#[test]
fn the_readme_modes_table_states_what_the_modes_measured() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md beside Cargo.toml");
    let mut checked = 0;
    for line in readme.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let Some(mode) = [Mode::Low, Mode::Mid, Mode::High]
            .into_iter()
            .find(|m| cells[0].starts_with(&format!("`{}`", m.name())))
        else {
            continue;
        };
        // Only the modes table has these seven columns with a floor in the second.
        if cells.len() != 7 || cells[1].parse::<u32>().is_err() {
            continue;
        }
        let added = cells[0].contains("your recogniser");
        let m = mode.measured(added);
        assert_eq!(
            percents(cells[3]),
            vec![rounded(m.worst), rounded(m.median)],
            "{line}: held-out cell against Mode::measured({mode:?}, {added})"
        );
        assert_eq!(
            percents(cells[5]),
            vec![rounded(m.at_scale)],
            "{line}: at-scale cell against Mode::measured({mode:?}, {added})"
        );
        checked += 1;
    }
    assert_eq!(
        checked, 6,
        "three modes, each with and without an added recogniser"
    );
}
