// The window's behaviour: every action goes through the app's commands; photos are referred to by
// id, never by path, and files are chosen in native dialogs the app opens.

import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import {
  type FaceBox,
  type Item,
  boxStyle,
  faceLabel,
  pickerSummary,
  type Mode,
  finished,
  outputText,
  progressText,
  rating,
  statusText,
  summaryText,
} from "./format";

interface Settings {
  mode: Mode;
  out_dir: string | null;
  window: [number, number];
}
interface StateView {
  settings: Settings;
  notice: string | null;
  items: Item[];
  running: boolean;
}
interface Added {
  items: Item[];
  problems: string[];
}
interface Summary {
  done: number;
  not_protected: number;
  skipped: number;
  failed: number;
  cancelled: boolean;
  seconds: number;
}
interface FacesView {
  image: string;
  width: number;
  height: number;
  faces: FaceBox[];
  item: Item;
}
interface BeforeAfter {
  before: string;
  after: string;
  quality: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export class App {
  items = new Map<number, Item>();
  running = false;
  startedAt = 0;
  finishedAtStart = 0;

  async init(): Promise<void> {
    await listen<Added>("queue-added", (e) => this.added(e.payload));
    await listen<Item>("item-updated", (e) => {
      const known = this.items.get(e.payload.id);
      // A thumbnail arriving must not undo a status change that came through the channel.
      this.items.set(e.payload.id, known ? { ...known, thumbnail: e.payload.thumbnail } : e.payload);
      this.render();
    });
    const s = await invoke<StateView>("state");
    this.showSettings(s.settings);
    if (s.notice) this.notify(s.notice);
    s.items.forEach((i) => this.items.set(i.id, i));
    this.running = s.running;
    this.bind();
    this.render();
  }

  bind(): void {
    document.querySelectorAll<HTMLInputElement>("input[name=mode]").forEach((radio) =>
      radio.addEventListener("change", () => this.call<Settings>("set_mode", { mode: radio.value }).then((s) => s && this.showSettings(s))),
    );
    $("add").addEventListener("click", () => this.call<Added>("pick_photos").then((a) => a && this.added(a)));
    $("pick-output").addEventListener("click", () => this.call<Settings>("pick_output").then((s) => s && this.showSettings(s)));
    $("reset-output").addEventListener("click", () => this.call<Settings>("reset_output").then((s) => s && this.showSettings(s)));
    $("open-output").addEventListener("click", () => this.call("open_output", { id: null }));
    $("start").addEventListener("click", () => this.start());
    $("cancel").addEventListener("click", () => this.call("cancel"));
    $("clear").addEventListener("click", () =>
      this.call<Item[]>("clear").then((left) => {
        if (!left) return;
        this.items = new Map(left.map((i) => [i.id, i]));
        this.render();
      }),
    );
    $("close-compare").addEventListener("click", () => ($("compare").hidden = true));
    $("close-picker").addEventListener("click", () => ($("face-picker").hidden = true));
    $<HTMLInputElement>("slider").addEventListener("input", (e) => {
      $("after-clip").style.width = `${(e.target as HTMLInputElement).value}%`;
    });
  }

  /** Runs a command; a failure is shown in the window in plain words, never swallowed. */
  async call<T>(cmd: string, args?: Record<string, unknown>): Promise<T | undefined> {
    try {
      return await invoke<T>(cmd, args);
    } catch (e) {
      this.notify(String(e));
      return undefined;
    }
  }

  added(a: Added): void {
    a.items.forEach((i) => this.items.set(i.id, i));
    if (a.problems.length) this.notify(`Not added: ${a.problems.join("; ")}`);
    this.render();
  }

  async start(): Promise<void> {
    if (this.running) return;
    const channel = new Channel<Item>();
    channel.onmessage = (item) => {
      this.items.set(item.id, item);
      this.render();
    };
    this.running = true;
    this.startedAt = performance.now();
    this.finishedAtStart = finished([...this.items.values()]);
    this.render();
    const summary = await this.call<Summary>("start", { onEvent: channel });
    this.running = false;
    const fresh = await this.call<StateView>("state");
    if (fresh) fresh.items.forEach((i) => this.items.set(i.id, i));
    if (summary && (summary.failed > 0 || summary.not_protected > 0 || summary.cancelled)) {
      this.notify(summaryText(summary));
    }
    this.render();
  }

  async compare(id: number): Promise<void> {
    const pair = await this.call<BeforeAfter>("before_after", { id });
    if (!pair) return;
    $<HTMLImageElement>("before").src = pair.before;
    $<HTMLImageElement>("after").src = pair.after;
    $("compare-ssim").textContent = `(face change ${rating(pair.quality)}, SSIMULACRA2 ${pair.quality.toFixed(0)})`;
    $("compare").hidden = false;
  }

  /** Shows a photo with its faces outlined; each outline switches its face on or off. */
  async pickFaces(id: number): Promise<void> {
    const view = await this.call<FacesView>("faces", { id });
    if (!view) return;
    this.items.set(view.item.id, view.item);
    $("picker-name").textContent = view.item.name;
    $<HTMLImageElement>("picker-photo").src = view.image;
    const stack = $("picker-stack");
    stack.querySelectorAll("button.face").forEach((b) => b.remove());
    const faces = view.faces;
    const show = () => {
      $("picker-summary").textContent = pickerSummary(faces);
      this.render();
    };
    for (const face of faces) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "face";
      Object.assign(button.style, boxStyle(face.bbox, view.width, view.height));
      const paint = () => {
        button.classList.toggle("off", !face.on);
        button.classList.toggle("small", face.too_small);
        button.title = faceLabel(face);
        button.setAttribute("aria-label", faceLabel(face));
        button.setAttribute("aria-pressed", String(face.on && !face.too_small));
      };
      paint();
      button.disabled = face.too_small || this.running;
      button.addEventListener("click", async () => {
        const item = await this.call<Item>("set_face", { id, number: face.number, on: !face.on });
        if (!item) return;
        face.on = !face.on;
        this.items.set(item.id, item);
        paint();
        show();
      });
      stack.append(button);
    }
    show();
    $("face-picker").hidden = false;
  }

  async remove(id: number): Promise<void> {
    // The command answers null when done; a refusal (the photo is being cloaked) is shown instead.
    if ((await this.call("remove", { id })) === undefined) return;
    this.items.delete(id);
    this.render();
  }

  showSettings(s: Settings): void {
    document.querySelectorAll<HTMLInputElement>("input[name=mode]").forEach((r) => (r.checked = r.value === s.mode));
    $("out-dir").textContent = outputText(s.out_dir);
  }

  notify(text: string): void {
    const n = $("notice");
    n.textContent = text;
    n.hidden = false;
  }

  render(): void {
    const items = [...this.items.values()];
    const body = $("queue").querySelector("tbody")!;
    body.replaceChildren(
      ...items.map((item) => {
        const row = document.createElement("tr");
        row.dataset.id = String(item.id);
        row.className = item.status;
        const thumb = document.createElement("td");
        if (item.thumbnail) {
          const img = document.createElement("img");
          img.src = item.thumbnail;
          img.alt = "";
          thumb.append(img);
        }
        const [name, status] = [item.name, statusText(item)].map((t) => {
          const td = document.createElement("td");
          td.textContent = t;
          return td;
        });
        status.className = "status";
        const faces = document.createElement("td");
        const count = item.faces === null ? "" : String(item.faces - item.faces_off.length);
        if (item.status === "waiting" || item.status === "failed") {
          const choose = document.createElement("button");
          choose.type = "button";
          choose.className = "faces";
          choose.textContent = item.faces === null ? "Faces…" : `${count} of ${item.faces}…`;
          choose.title = "See the faces found and choose which to cloak";
          choose.disabled = this.running;
          choose.addEventListener("click", (e) => {
            e.stopPropagation();
            this.pickFaces(item.id);
          });
          faces.append(choose);
        } else {
          faces.textContent = count;
        }
        const removeCell = document.createElement("td");
        if (item.status !== "working") {
          const remove = document.createElement("button");
          remove.type = "button";
          remove.className = "remove";
          remove.textContent = "×";
          remove.title = `Remove ${item.name} from the list`;
          remove.setAttribute("aria-label", remove.title);
          remove.addEventListener("click", (e) => {
            e.stopPropagation();
            this.remove(item.id);
          });
          removeCell.append(remove);
        }
        row.append(thumb, name, faces, status, removeCell);
        // Rows take the keyboard: Enter opens what a click opens, Delete removes the row.
        row.tabIndex = 0;
        const open = item.status === "done" ? () => this.compare(item.id) : item.status === "waiting" || item.status === "failed" ? () => this.pickFaces(item.id) : null;
        if (item.status === "done") row.title = "Show before and after";
        if (open && item.status === "done") row.addEventListener("click", open);
        row.addEventListener("keydown", (e) => {
          if (e.target !== row) return;
          if (e.key === "Delete" || e.key === "Backspace") {
            e.preventDefault();
            this.remove(item.id);
          } else if ((e.key === "Enter" || e.key === " ") && open && !this.running) {
            e.preventDefault();
            open();
          }
        });
        return row;
      }),
    );
    // Once photos are in, the drop zone shrinks to a bar and the list gets the window.
    $("drop").classList.toggle("compact", items.length > 0);
    const done = finished(items);
    const progress = $<HTMLProgressElement>("progress");
    progress.value = items.length ? done / items.length : 0;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    $("progress-text").textContent = progressText(items, done - this.finishedAtStart, elapsed, this.running);
    $<HTMLButtonElement>("start").disabled = this.running || !items.some((i) => i.status === "waiting" || i.status === "failed");
    $<HTMLButtonElement>("cancel").disabled = !this.running;
    $<HTMLButtonElement>("clear").disabled = this.running;
  }
}
