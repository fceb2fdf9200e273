import { readFileSync } from "node:fs";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App } from "./app";
import type { Item } from "./format";

const html = readFileSync(`${__dirname}/../index.html`, "utf8");

const photo: Item = {
  id: 1,
  name: "me.jpg",
  path: "/photos/me.jpg",
  thumbnail: null,
  status: "waiting",
  detail: null,
  faces: null,
  face_quality: null,
  protection: null,
  too_small: 0,
  faces_off: [],
  seconds: null,
};

let calls: { cmd: string; args: unknown }[] = [];
let current: Item = photo;

beforeEach(() => {
  document.body.innerHTML = new DOMParser().parseFromString(html, "text/html").body.innerHTML;
  calls = [];
  current = photo;
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      switch (cmd) {
        case "state":
          return { settings: { mode: "mid", out_dir: null, window: [1000, 720] }, notice: "settings were damaged", items: [current], running: false };
        case "start": {
          const channel = (args as { onEvent: { onmessage: (i: Item) => void } }).onEvent;
          channel.onmessage({ ...photo, status: "working" });
          current = { ...photo, status: "done", faces: 1, face_quality: 72.4 };
          channel.onmessage(current);
          return { done: 1, not_protected: 0, skipped: 0, failed: 0, cancelled: false, seconds: 2 };
        }
        case "remove":
          return null;
        case "set_mode":
          return { mode: (args as { mode: string }).mode, out_dir: null, window: [1000, 720] };
        case "open_output":
          throw "Cloaked photos go into a folder beside each original.";
        default:
          return null;
      }
    },
    { shouldMockEvents: true },
  );
});

afterEach(() => clearMocks());

describe("the window", () => {
  it("shows the queue, the mode and a settings notice on start", async () => {
    await new App().init();
    expect(document.querySelector("#queue tbody tr td:nth-child(2)")?.textContent).toBe("me.jpg");
    expect(document.querySelector<HTMLInputElement>("input[value=mid]")?.checked).toBe(true);
    expect(document.getElementById("notice")?.textContent).toContain("damaged");
  });

  it("starts the batch and shows each photo's progress from the channel", async () => {
    const app = new App();
    await app.init();
    await app.start();
    expect(calls.map((c) => c.cmd)).toContain("start");
    const status = document.querySelector("#queue tbody tr td.status")?.textContent;
    expect(status).toBe("Done — face change slight (SSIMULACRA2 72)");
    expect(document.getElementById("progress-text")?.textContent).toBe("1 of 1 photos");
  });

  it("gives the list the window and lets a row be removed from the keyboard", async () => {
    await new App().init();
    expect(document.getElementById("drop")?.classList.contains("compact")).toBe(true);
    const row = document.querySelector<HTMLTableRowElement>("#queue tbody tr")!;
    expect(row.tabIndex).toBe(0);
    row.dispatchEvent(new KeyboardEvent("keydown", { key: "Delete", bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.find((c) => c.cmd === "remove")?.args).toEqual({ id: 1 });
    expect(document.querySelectorAll("#queue tbody tr").length).toBe(0);
    expect(document.getElementById("drop")?.classList.contains("compact")).toBe(false);
    expect(document.getElementById("progress-text")?.textContent).toBe("No photos yet.");
  });

  it("sends the chosen mode and shows errors in plain words", async () => {
    await new App().init();
    document.querySelector<HTMLInputElement>("input[value=high]")!.dispatchEvent(new Event("change"));
    await Promise.resolve();
    expect(calls.find((c) => c.cmd === "set_mode")?.args).toEqual({ mode: "high" });
    document.getElementById("open-output")!.click();
    await new Promise((r) => setTimeout(r, 0));
    expect(document.getElementById("notice")?.textContent).toContain("beside each original");
  });
});
