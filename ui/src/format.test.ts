import { describe, expect, it } from "vitest";
import { type PickerFace, type Item, boxStyle, currentText, duration, faceLabel, faceWords, finished, outputText, pickerSummary, progressText, recloakNote, recogniserText, statusText, visibleRange } from "./format";

const item = (id: number, status: Item["status"], extra: Partial<Item> = {}): Item => ({
  id,
  name: `p${id}.jpg`,
  path: `/photos/p${id}.jpg`,
  thumbnail: null,
  status,
  detail: null,
  faces: null,
  face_quality: null,
  face_rating: null,
  protection: null,
  too_small: 0,
  faces_off: [],
  cloaked_faces: null,
  seconds: null,
  ...extra,
});

describe("statusText", () => {
  it("says why a photo was skipped or failed", () => {
    expect(statusText(item(1, "skipped", { detail: "no face found" }))).toBe("Skipped: no face found");
    expect(statusText(item(2, "failed", { detail: "disk full" }))).toBe("Failed: disk full");
    // The words come from the core's report, with the score.
    expect(statusText(item(3, "done", { face_quality: 71.6, face_rating: "slight" }))).toBe(
      "Done — face change slight (SSIMULACRA2 72)",
    );
    expect(statusText(item(3, "done", { face_quality: 85, face_rating: "invisible" }))).toContain("invisible");
    expect(statusText(item(3, "done", { face_quality: 72, face_rating: "slight", protection: "likely still found in a small gallery; even odds of being found among a scraper's billions" }))).toBe(
      "Done — face change slight (SSIMULACRA2 72); likely still found in a small gallery; even odds of being found among a scraper's billions",
    );
  });

  it("says loudly when a photo or some of its faces are not protected", () => {
    expect(statusText(item(1, "not_protected", { detail: "no face found" }))).toBe("Not protected: no face found");
    expect(statusText(item(2, "done", { face_quality: 85, face_rating: "invisible", too_small: 2 }))).toBe(
      "Done — face change invisible (SSIMULACRA2 85); 2 faces too small to cloak: not protected",
    );
    expect(finished([item(1, "not_protected"), item(2, "working")])).toBe(1);
  });
});

describe("progressText", () => {
  it("estimates the time left from the run's faces, as the core counts them", () => {
    const items = [item(1, "done"), item(2, "done"), item(3, "working"), item(4, "waiting")];
    // Two portraits took a minute; the group photo being cloaked holds twenty more faces.
    expect(progressText(items, { done: 2, total: 22 }, 60, true)).toBe("2 of 4 photos — about 10 min left");
    expect(progressText(items, { done: 0, total: 4 }, 5, true)).toBe("2 of 4 photos — working…");
    expect(progressText(items, null, 5, true)).toBe("2 of 4 photos — working…");
    expect(progressText(items, { done: 2, total: 4 }, 60, false)).toBe("2 of 4 photos");
    expect(progressText([], null, 0, false)).toBe("No photos yet.");
  });

  it("counts a group photo's faces while they are cloaked", () => {
    expect(statusText(item(1, "working"))).toBe("Working…");
    expect(statusText(item(1, "working", { cloaked_faces: { done: 3, of: 20 } }))).toBe("Working — 3 of 20 faces cloaked…");
    expect(statusText(item(1, "working", { cloaked_faces: { done: 1, of: 1 } }))).toBe("Working…");
  });

  it("formats durations", () => {
    expect(duration(0.2)).toBe("1 s");
    expect(duration(150)).toBe("3 min");
    expect(duration(3 * 3600 + 600)).toBe("3 h 10 min");
  });

  it("names the default output folder in plain words", () => {
    expect(outputText(null)).toContain("cloaked");
    expect(outputText("/home/me/Cloaked")).toBe("/home/me/Cloaked");
  });
});

describe("face picker", () => {
  const face = (number: number, on: boolean, too_small = false): PickerFace => ({ number, bbox: [100, 50, 300, 290], on, too_small, quality: null, rating: null, protection: null });

  it("outlines a face where it is on the shown photo", () => {
    expect(boxStyle([100, 50, 300, 290], 1000, 500)).toEqual({ left: "10.00%", top: "10.00%", width: "20.00%", height: "48.00%" });
  });

  it("says what will happen to each face and to the photo", () => {
    expect(faceLabel(face(1, true))).toBe("Face 1: will be cloaked");
    expect(faceLabel(face(2, false))).toBe("Face 2: left out");
    expect(faceLabel(face(3, true, true))).toBe("Face 3: too small to cloak (not protected)");
    expect(pickerSummary([face(1, true), face(2, false), face(3, true, true)])).toBe(
      "1 of 2 faces will be cloaked. 1 face is too small to cloak.",
    );
    expect(pickerSummary([face(1, true)])).toBe("1 of 1 face will be cloaked.");
    expect(pickerSummary([])).toBe("No face was found in this photo: it will not be protected.");
  });
});

describe("the views' words", () => {
  const face: PickerFace = { number: 2, bbox: [0, 0, 10, 10], on: true, too_small: false, quality: null, rating: null, protection: null };
  it("says what happened to each face in before/after", () => {
    expect(faceWords({ ...face, quality: 83.4, rating: "invisible", protection: "not matched by 4 of 4 local models" })).toBe("Face change invisible (SSIMULACRA2 83); not matched by 4 of 4 local models.");
    expect(faceWords({ ...face, quality: null })).toBe("Left out: not cloaked in this photo.");
    expect(faceWords({ ...face, too_small: true })).toBe("Too small to cloak: left as it was, not protected.");
  });
  it("offers a re-cloak only when the switches differ from the saved photo", () => {
    const saved = [{ ...face, number: 1, quality: 72 }, { ...face, quality: 70 }];
    expect(recloakNote(saved).changed).toBe(false);
    expect(recloakNote([saved[0], { ...saved[1], on: false }])).toEqual({ changed: true, text: "Re-cloak to save the photo again with 1 of 2 faces cloaked." });
    expect(recloakNote([{ ...saved[0], on: false }, { ...saved[1], on: false }]).text).toBe("Every face is left out: there would be nothing to cloak.");
    expect(recloakNote([saved[0], { ...face, quality: null }]).changed).toBe(true);
  });
  it("names strength, folder and metadata under the title", () => {
    expect(currentText({ mode: "high", out_dir: "/p/out", keep_metadata: true })).toBe("Strength High · saved to /p/out · camera details kept");
  });
  it("draws the rows in view and a few either side", () => {
    expect(visibleRange(0, 560, 56, 2000)).toEqual([0, 18]);
    expect(visibleRange(56 * 100, 560, 56, 2000)).toEqual([92, 118]);
    expect(visibleRange(56 * 1995, 560, 56, 2000)).toEqual([1987, 2000]);
    expect(visibleRange(0, 560, 56, 3)).toEqual([0, 3]);
    expect(visibleRange(0, 560, 56, 0)).toEqual([0, 0]);
  });
});

describe("recogniserText", () => {
  it("says what an added recogniser gives and takes, and where its threshold comes from", () => {
    const m = { source: "w600k_mbf.onnx", embedding_dim: 512, input: "RGB, (x − 127.5) / 127.5", match_threshold: 0.145, threshold_from: "measured by FaceCloak for InsightFace buffalo_s w600k_mbf.onnx" };
    expect(recogniserText(m)).toBe(
      "from w600k_mbf.onnx, 512-d, input RGB, (x − 127.5) / 127.5; matches at 0.145 (measured by FaceCloak for InsightFace buffalo_s w600k_mbf.onnx)",
    );
  });
});
