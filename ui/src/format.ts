// Pure helpers for what the window says: kept apart from the DOM so they are easy to test.

import type { PickerFace, Item, Mode, RunProgress } from "./bindings";

// The types shared with the app's Rust side are generated (src-tauri/src/bindings.rs).
export type { PickerFace, Item, Mode, RunProgress, Status, Update } from "./bindings";


export function statusText(item: Item): string {
  switch (item.status) {
    case "waiting":
      return "Waiting";
    case "working": {
      // A group photo takes a minute or more: its faces are counted as they are cloaked.
      const f = item.cloaked_faces;
      return f && f.of > 1 ? `Working — ${f.done} of ${f.of} faces cloaked…` : "Working…";
    }
    case "done": {
      const quality =
        item.face_quality === null
          ? "Done"
          : `Done — face change ${item.face_rating ?? ""} (SSIMULACRA2 ${item.face_quality.toFixed(0)})`;
      const done = item.protection ? `${quality}; ${item.protection}` : quality;
      return item.too_small > 0 ? `${done}; ${faces(item.too_small)} too small to cloak: not protected` : done;
    }
    case "not_protected":
      return `Not protected: ${item.detail ?? "no reason given"}`;
    case "skipped":
      return `Skipped: ${item.detail ?? "no reason given"}`;
    case "failed":
      return `Failed: ${item.detail ?? "unknown error"}`;
  }
}

export function finished(items: Item[]): number {
  return items.filter((i) => i.status !== "waiting" && i.status !== "working").length;
}

/** "1 face", "3 faces". */
export function faces(n: number): string {
  return n === 1 ? "1 face" : `${n} faces`;
}

/** "3 of 10 photos — about 2 min left": the time left from the run's work done and left, which
 * the core counts in faces (a group photo is many portraits' work). */
export function progressText(items: Item[], run: RunProgress | null, elapsedSeconds: number, running: boolean): string {
  if (items.length === 0) return "No photos yet.";
  const done = finished(items);
  const base = `${done} of ${items.length} photos`;
  if (!running) return base;
  if (!run || run.done === 0 || run.done >= run.total) return `${base} — working…`;
  return `${base} — about ${duration((elapsedSeconds / run.done) * (run.total - run.done))} left`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  const h = Math.floor(seconds / 3600);
  return `${h} h ${Math.round((seconds - h * 3600) / 60)} min`;
}

export function outputText(outDir: string | null): string {
  return outDir ?? "a \u201ccloaked\u201d folder beside each photo";
}


/** Where a face's outline goes over the photo, as percentages of the shown image. */
export function boxStyle(b: PickerFace["bbox"], width: number, height: number): { left: string; top: string; width: string; height: string } {
  const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(2)}%`;
  return { left: pct(b[0], width), top: pct(b[1], height), width: pct(b[2] - b[0], width), height: pct(b[3] - b[1], height) };
}

/** What a face's switch says. */
export function faceLabel(f: PickerFace): string {
  if (f.too_small) return `Face ${f.number}: too small to cloak (not protected)`;
  return f.on ? `Face ${f.number}: will be cloaked` : `Face ${f.number}: left out`;
}

/** "2 of 3 faces will be cloaked", with the faces too small to cloak named. */
export function pickerSummary(faces: PickerFace[]): string {
  if (faces.length === 0) return "No face was found in this photo: it will not be protected.";
  const cloakable = faces.filter((f) => !f.too_small);
  const on = cloakable.filter((f) => f.on).length;
  const small = faces.length - cloakable.length;
  const tail = small > 0 ? ` ${small === 1 ? "1 face is" : `${small} faces are`} too small to cloak.` : "";
  return `${on} of ${cloakable.length === 1 ? "1 face" : `${cloakable.length} faces`} will be cloaked.${tail}`;
}

/** Whether the saved photo has this face cloaked (only cloaked faces carry a quality). */
export function cloaked(f: PickerFace): f is PickerFace & { quality: number } {
  return f.quality !== null && f.quality !== undefined;
}

/** What a face in before/after says about itself. */
export function faceWords(f: PickerFace): string {
  if (f.too_small) return "Too small to cloak: left as it was, not protected.";
  if (!cloaked(f)) return "Left out: not cloaked in this photo.";
  const change = `Face change ${f.rating ?? ""} (SSIMULACRA2 ${f.quality.toFixed(0)})`;
  return f.protection ? `${change}; ${f.protection}.` : `${change}.`;
}

/** Whether the switches differ from what the saved photo has, and what a re-cloak would do. */
export function recloakNote(faces: PickerFace[]): { changed: boolean; text: string } {
  const cloakable = faces.filter((f) => !f.too_small);
  const changed = cloakable.some((f) => f.on !== cloaked(f));
  if (!changed) return { changed, text: "" };
  const on = cloakable.filter((f) => f.on).length;
  if (on === 0) return { changed, text: "Every face is left out: there would be nothing to cloak." };
  return { changed, text: `Re-cloak to save the photo again with ${on} of ${faces.length === 1 ? "1 face" : `${faces.length} faces`} cloaked.` };
}

/** The line under the title: the strength and where photos go. */
export function currentText(s: { mode: Mode; out_dir: string | null; keep_metadata: boolean }): string {
  const mode = { low: "Low", mid: "Mid", high: "High" }[s.mode];
  const where = s.out_dir === null ? "saved beside the originals" : `saved to ${s.out_dir}`;
  return `Strength ${mode} · ${where} · camera details ${s.keep_metadata ? "kept" : "dropped"}`;
}

/** The rows a scrolled list draws: those in view, plus a few either side. Half-open. */
export function visibleRange(scrollTop: number, viewHeight: number, rowHeight: number, count: number, overscan = 8): [number, number] {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + overscan);
  return [Math.min(first, last), last];
}

/** One added recogniser in words: what it gives, what it takes, where its threshold is from. */
export function recogniserText(m: { source: string; embedding_dim: number; input: string; match_threshold: number; threshold_from: string }): string {
  return `from ${m.source}, ${m.embedding_dim}-d, input ${m.input}; matches at ${m.match_threshold.toFixed(3)} (${m.threshold_from})`;
}
