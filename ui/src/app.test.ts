import { readFileSync } from "node:fs";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./app";
import type { Item, Update } from "./format";

// The page's body only: its head would have happy-dom fetch the stylesheet from a server.
const html = readFileSync(`${__dirname}/../index.html`, "utf8").replace(/<head>[\s\S]*<\/head>/, "");

const photo: Item = {
  id: 1,
  name: "me.jpg",
  path: "/photos/me.jpg",
  thumbnail: null,
  status: "waiting",
  detail: null,
  faces: null,
  face_quality: null,
  face_rating: null,
  protection: null,
  too_small: 0,
  faces_off: [],
  cloaked_faces: null,
  seconds: null,
};

let calls: { cmd: string; args: unknown }[] = [];
/** What commands the default cases do not cover answer; each test may set its own. */
let handler: (cmd: string, args: unknown) => unknown = () => null;
let current: Item = photo;

beforeEach(() => {
  document.body.innerHTML = new DOMParser().parseFromString(html, "text/html").body.innerHTML;
  calls = [];
  current = photo;
  handler = () => null;
  const modes = [
    { name: "low", summary: "Invisible (face score 80 at feed size)", default: false },
    { name: "mid", summary: "Slight (face score 70); median 33 %", default: true },
    { name: "high", summary: "Visible blotches (face score 50)", default: false },
  ];
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "state":
          return { settings: { mode: "mid", out_dir: null, keep_metadata: false, keep_heif: false, window: [1000, 720] }, notice: "settings were damaged", items: [current], running: false, modes, recognisers: [] };
        case "start": {
          const channel = (args as { onEvent: { onmessage: (u: Update) => void } }).onEvent;
          channel.onmessage({ item: { ...photo, status: "working" }, run: { done: 0, total: 1 } });
          current = { ...photo, status: "done", faces: 1, face_quality: 72.4, face_rating: "slight" };
          channel.onmessage({ item: current, run: { done: 1, total: 1 } });
          return { done: 1, not_protected: 0, skipped: 0, failed: 0, cancelled: false, seconds: 2, line: "1 cloaked, 0 skipped, 0 failed in 2.0s" };
        }
        case "remove":
          return null;
        case "set_mode":
          return { mode: (args as { mode: string }).mode, out_dir: null, keep_metadata: false, keep_heif: false, window: [1000, 720] };
        case "set_keep_metadata":
          return { mode: "mid", out_dir: null, keep_metadata: (args as { on: boolean }).on, keep_heif: false, window: [1000, 720] };
        case "set_keep_heif":
          return { mode: "mid", out_dir: null, keep_metadata: false, keep_heif: (args as { on: boolean }).on, window: [1000, 720] };
        case "open_output":
          throw "Cloaked photos go into a folder beside each original.";
        default:
          return handler(cmd, args);
      }
    },
    { shouldMockEvents: true },
  );
});

/** The windows a test made, so none draws after its test has ended. */
let apps: App[] = [];
function track(app: App): App {
  apps.push(app);
  return app;
}

// A window draws up to 30 ms after its last event: let it finish before the next test's page.
// Then a draw still pending (an event that came late, on a loaded machine) is cancelled and later
// ones are dropped, or it would run after the page is gone and fail the run.
afterEach(async () => {
  await new Promise((r) => setTimeout(r, 60));
  for (const app of apps) {
    window.clearTimeout(app.frame);
    app.frame = 0;
    app.schedule = () => {};
  }
  apps = [];
  clearMocks();
});

describe("the window", () => {
  it("shows the queue, the mode and a settings notice on start", async () => {
    await track(new App()).init();
    expect(document.querySelector("#queue tbody tr[data-id] td:nth-child(2)")?.textContent).toBe("me.jpg");
    expect(document.querySelector<HTMLInputElement>("input[value=mid]")?.checked).toBe(true);
    expect(document.getElementById("notice")?.textContent).toContain("damaged");
  });

  it("starts the batch and shows each photo's progress from the channel", async () => {
    const app = track(new App());
    await app.init();
    await app.start();
    expect(calls.map((c) => c.cmd)).toContain("start");
    const status = document.querySelector("#queue tbody tr[data-id] td.status")?.textContent;
    expect(status).toBe("Done — face change slight (SSIMULACRA2 72)");
    expect(document.getElementById("progress-text")?.textContent).toBe("1 of 1 photos");
  });

  it("gives the list the window and lets a row be removed from the keyboard", async () => {
    await track(new App()).init();
    expect(document.getElementById("drop")?.classList.contains("compact")).toBe(true);
    const row = document.querySelector<HTMLTableRowElement>("#queue tbody tr[data-id]")!;
    expect(row.tabIndex).toBe(0);
    row.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.find((c) => c.cmd === "remove")?.args).toEqual({ id: 1 });
    expect(document.querySelectorAll("#queue tbody tr[data-id]").length).toBe(0);
    expect(document.getElementById("drop")?.classList.contains("compact")).toBe(false);
    expect(document.getElementById("progress-text")?.textContent).toBe("No photos yet.");
  });

  it("sends the chosen mode and shows errors in plain words", async () => {
    await track(new App()).init();
    document.querySelector<HTMLInputElement>("input[value=high]")!.dispatchEvent(new Event("change"));
    await Promise.resolve();
    expect(calls.find((c) => c.cmd === "set_mode")?.args).toEqual({ mode: "high" });
    document.getElementById("open-output")!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(document.getElementById("notice")?.textContent).toContain("beside each original");
  });

  it("keeps metadata only when asked and says so under the title", async () => {
    await track(new App()).init();
    expect(document.getElementById("current")?.textContent).toBe("Strength Mid · saved beside the originals · camera details dropped");
    const keep = document.getElementById("keep-metadata") as HTMLInputElement;
    keep.checked = true;
    keep.dispatchEvent(new Event("change"));
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.find((c) => c.cmd === "set_keep_metadata")?.args).toEqual({ on: true });
    expect(document.getElementById("current")?.textContent).toContain("camera details kept");
  });

  it("lists the strengths in the core's words, the default's radio checked", async () => {
    await track(new App()).init();
    const labels = [...document.querySelectorAll("#mode-list label")].map((l) => l.textContent?.trim());
    expect(labels).toEqual([
      "Low — Invisible (face score 80 at feed size)",
      "Mid — Slight (face score 70); median 33 %. The default",
      "High — Visible blotches (face score 50)",
    ]);
    expect((document.querySelector("input[name=mode][value=mid]") as HTMLInputElement).checked).toBe(true);
  });

  it("keeps HEIC and AVIF in their format only when asked", async () => {
    await track(new App()).init();
    const heif = document.getElementById("keep-heif") as HTMLInputElement;
    expect(heif.checked).toBe(false);
    heif.checked = true;
    heif.dispatchEvent(new Event("change"));
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.find((c) => c.cmd === "set_keep_heif")?.args).toEqual({ on: true });
    expect(heif.checked).toBe(true);
  });

  it("draws only the rows in view of a 2000-photo queue and asks for their thumbnails a few at a time", async () => {
    const app = track(new App());
    await app.init();
    app.added({ items: Array.from({ length: 2000 }, (_, k) => ({ ...photo, id: k + 10, name: `p${k}.jpg` })), problems: [] });
    const rows = document.querySelectorAll("#queue tbody tr[data-id]");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60);
    const asked = calls.filter((c) => c.cmd === "thumbnail");
    expect(asked.length).toBe(3);
    expect(asked.map((c) => (c.args as { id: number }).id)).toEqual([1, 10, 11]);
    const spacers = [...document.querySelectorAll<HTMLElement>("#queue tbody tr.spacer")].map((r) => parseInt(r.style.height));
    expect(spacers[0] + spacers[1] + rows.length * 56).toBe(2001 * 56);
  });

  it("retries a failed photo: back to waiting, then a run", async () => {
    current = { ...photo, status: "failed", detail: "disk full" };
    handler = (cmd) => (cmd === "requeue" ? { ...photo, status: "waiting" } : null);
    const app = track(new App());
    await app.init();
    const retry = document.querySelector<HTMLButtonElement>("#queue tbody tr.failed button.retry")!;
    expect(retry.textContent).toBe("Retry");
    retry.click();
    await new Promise((r) => setTimeout(r, 10));
    expect(calls.map((c) => c.cmd)).toEqual(expect.arrayContaining(["requeue", "start"]));
    expect(calls.findIndex((c) => c.cmd === "requeue")).toBeLessThan(calls.findIndex((c) => c.cmd === "start"));
  });

  it("shows a finished photo before and after, and re-cloaks it with a face left out", async () => {
    current = { ...photo, status: "done", faces: 2, face_quality: 71, face_rating: "slight" };
    const face = (number: number, x: number) => ({ number, bbox: [x, 10, x + 100, 130], on: true, too_small: false, quality: 71 + number, rating: "slight", protection: "not matched by 3 of 4 local models" });
    handler = (cmd, args) => {
      switch (cmd) {
        case "before_after":
          return { image: "data:image/jpeg;base64,AA", cloaked: "data:image/jpeg;base64,BB", width: 400, height: 200, faces: [face(1, 10), face(2, 200)], item: current };
        case "face_pair":
          return { before: `data:image/jpeg;base64,B${(args as { bbox: number[] }).bbox[0]}`, after: "data:image/jpeg;base64,A1", quality: 72 };
        case "set_face":
          return { ...current, faces_off: [2] };
        case "requeue":
          return { ...current, status: "waiting" };
        default:
          return null;
      }
    };
    const app = track(new App());
    await app.init();
    document.querySelector<HTMLButtonElement>("#queue tbody tr.done button.compare")!.click();
    await new Promise((r) => setTimeout(r, 10));
    expect(document.getElementById("compare")?.hidden).toBe(false);
    const outlines = document.querySelectorAll<HTMLButtonElement>("#photo-stack button.face");
    expect(outlines.length).toBe(2);
    expect(outlines[1].style.left).toBe("50.00%");
    expect(document.getElementById("face-words")?.textContent).toBe("Face change slight (SSIMULACRA2 72); not matched by 3 of 4 local models.");
    // Holding the flicker button shows the original in both views; letting go, the cloak.
    const flicker = document.getElementById("flicker")!;
    flicker.dispatchEvent(new Event("pointerdown"));
    expect((document.getElementById("photo") as HTMLImageElement).src).toBe("data:image/jpeg;base64,AA");
    expect((document.getElementById("after") as HTMLImageElement).src).toBe("data:image/jpeg;base64,B10");
    flicker.dispatchEvent(new Event("pointerup"));
    expect((document.getElementById("photo") as HTMLImageElement).src).toBe("data:image/jpeg;base64,BB");
    expect((document.getElementById("after") as HTMLImageElement).src).toBe("data:image/jpeg;base64,A1");
    // The slider moves the split line over the face.
    const slider = document.getElementById("slider") as HTMLInputElement;
    slider.value = "30";
    slider.dispatchEvent(new Event("input"));
    expect(document.getElementById("split-line")?.style.left).toBe("30%");
    outlines[1].click();
    await new Promise((r) => setTimeout(r, 10));
    expect(document.getElementById("face-title")?.textContent).toBe("Face 2 at 100 %");
    expect((document.getElementById("recloak") as HTMLButtonElement).disabled).toBe(true);
    document.getElementById("face-toggle")!.click();
    await new Promise((r) => setTimeout(r, 10));
    expect(outlines[1].classList.contains("off")).toBe(true);
    expect(document.getElementById("recloak-note")?.textContent).toBe("Re-cloak to save the photo again with 1 of 2 faces cloaked.");
    document.getElementById("recloak")!.click();
    await new Promise((r) => setTimeout(r, 10));
    expect(document.getElementById("compare")?.hidden).toBe(true);
    expect(calls.map((c) => c.cmd)).toEqual(expect.arrayContaining(["set_face", "requeue", "start"]));
  });
});
