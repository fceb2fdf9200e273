// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// FACECLOAK_WRITE_BINDINGS=1 cargo test -p facecloak-app bindings rewrites it.

export type Mode = "low" | "mid" | "high";

export type Summary = { done: number, not_protected: number, skipped: number, failed: number, cancelled: boolean, seconds: number, 
/**
 * Photos cloaked with some faces too small to cloak.
 */
partly: number, 
/**
 * HEIC/AVIF photos written as JPEG.
 */
converted: number, 
/**
 * Faces cloaked, and their SSIMULACRA2 at feed size (median, worst).
 */
faces: number, median_quality: number | null, worst_quality: number | null, 
/**
 * Faces that no local recogniser still matches to the original, and those only some do.
 */
matched_by_none: number, matched_by_some: number, 
/**
 * The whole batch in one line ("3 cloaked (…), 1 NOT protected (see above), …").
 */
line: string, 
/**
 * The local check over every face, when any was cloaked.
 */
local_check: string | null, 
/**
 * The least-protected face's words (its `protection`): would a clean photo still find it,
 * in a small gallery and at a scraper's scale, and its local check.
 */
outlook: string | null, };

export type AddedModel = { name: string, 
/**
 * The file the user added, by name, and its SHA-256.
 */
source: string, sha256: string, 
/**
 * How it wants its input, in words (`RGB, (x − 127.5) / 127.5`).
 */
input: string, embedding_dim: number, match_threshold: number, 
/**
 * Where the threshold comes from: measured by FaceCloak for this file, given by the user,
 * or assumed.
 */
threshold_from: string, };

export type Status = "waiting" | "working" | "done" | "not_protected" | "skipped" | "failed";

export type FaceCount = { done: number, of: number, };

export type Item = { id: number, name: string, path: string, 
/**
 * A small JPEG as a data URL.
 */
thumbnail: string | null, status: Status, 
/**
 * The reason for a skip or failure, or a summary when done.
 */
detail: string | null, faces: number | null, 
/**
 * The least-hidden face's SSIMULACRA2 at feed size (people look at faces, not photos).
 */
face_quality: number | null, 
/**
 * That score in the core's words (invisible, slight, visible).
 */
face_rating: string | null, 
/**
 * The least-protected face's verdict from the core, short enough for a row: would a clean
 * photo still find it in a small gallery and among a scraper's billions (the evaluation's
 * shares for this strength). The before/after view has the full words.
 */
protection: string | null, 
/**
 * Faces found but too small to cloak, so not protected.
 */
too_small: number, 
/**
 * Faces (numbered from 1, as the detector orders them) the user switched off.
 */
faces_off: Array<number>, seconds: number | null, 
/**
 * While the photo is being cloaked: its faces done so far, of those it will cloak.
 */
cloaked_faces: FaceCount | null, };

export type RunProgress = { done: number, total: number, };

export type Update = { item: Item, run: RunProgress, };

export type Added = { items: Array<Item>, 
/**
 * Plain-words reasons for what could not be added.
 */
problems: Array<string>, };

export type Settings = { mode: Mode, 
/**
 * `None`: a `cloaked/` folder beside each photo.
 */
out_dir: string | null, 
/**
 * Keep the allow-listed camera metadata (`--keep-metadata`); off drops all EXIF.
 */
keep_metadata: boolean, 
/**
 * Write HEIC and AVIF photos in their own format (`--keep-heif`); off writes JPEG.
 */
keep_heif: boolean, window: [number, number], };

export type ModeView = { name: Mode, summary: string, default: boolean, };

export type StateView = { settings: Settings, notice: string | null, items: Array<Item>, running: boolean, modes: Array<ModeView>, 
/**
 * The recognisers the user added, which every cloak is also made against.
 */
recognisers: Array<AddedModel>, };

export type PickerFace = { number: number, bbox: [number, number, number, number], on: boolean, 
/**
 * Too small to cloak: it stays as it is whatever the switch says.
 */
too_small: boolean, 
/**
 * For a cloaked face: its SSIMULACRA2 at feed size, that in words, and the local check.
 */
quality: number | null, rating: string | null, protection: string | null, };

export type FacesView = { 
/**
 * The photo at screen size, as a JPEG data URL.
 */
image: string, 
/**
 * The cloaked photo at the same size, in before/after.
 */
cloaked: string | null, 
/**
 * The photo's own size, which the boxes are in.
 */
width: number, height: number, faces: Array<PickerFace>, item: Item, };

export type FacePair = { before: string, after: string, 
/**
 * The face's SSIMULACRA2 at feed size.
 */
quality: number, };
