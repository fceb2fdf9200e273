// The window's behaviour: every action goes through the app's commands; photos are referred to by
// id, never by path, and files are chosen in native dialogs the app opens. The queue is a
// virtual list: only the rows in view exist, and only they ask for thumbnails, so 2000 photos
// scroll as smoothly as 20.

import { Channel } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { Compare } from "./compare";
import { type Item, finished, progressText, statusText, visibleRange } from "./format";
import { $, call, notify } from "./ipc";
import { pickFaces } from "./picker";
import type { Added, RunProgress, StateView, Summary, Update } from "./bindings";
import { bindSettings, showModes, showRecognisers, showSettings } from "./settings";


/** Height of a row in CSS pixels (style.css gives rows this height). */
const ROW = 56;
/** Thumbnails made at once: the rest wait, so scrolling fast never queues hundreds. */
const THUMBNAILS_AT_ONCE = 3;

export class App {
  items = new Map<number, Item>();
  running = false;
  startedAt = 0;
  /** The running batch's progress from the core, in faces. */
  run: RunProgress | null = null;
  compare = new Compare(
    (i) => this.update(i),
    (id) => this.retry(id),
  );
  asked = new Set<number>();
  making = 0;
  focusId: number | null = null;
  /** The class of the focused button in that row; null when the row itself has focus. */
  focusKind: string | null = null;
  frame = 0;

  async init(): Promise<void> {
    await listen<Added>("queue-added", (e) => this.added(e.payload));
    const s = await call<StateView>("state");
    if (!s) return;
    showModes(s.modes);
    showSettings(s.settings);
    showRecognisers(s.recognisers);
    if (s.notice) notify(s.notice);
    s.items.forEach((i) => this.items.set(i.id, i));
    this.running = s.running;
    this.bind();
    this.render();
  }

  bind(): void {
    bindSettings();
    this.compare.bind();
    $("add").addEventListener("click", () => call<Added>("pick_photos").then((a) => a && this.added(a)));
    $("start").addEventListener("click", () => this.start());
    // Which row, and which of its buttons, has the keyboard: a redraw gives it back.
    $("queue").addEventListener("focusin", (e) => {
      const el = e.target as HTMLElement;
      const row = el.closest<HTMLElement>("tr[data-id]");
      this.focusId = row ? Number(row.dataset.id) : null;
      this.focusKind = el === row ? null : el.className || null;
    });
    $("cancel").addEventListener("click", () => call("cancel"));
    $("clear").addEventListener("click", () =>
      call<Item[]>("clear").then((left) => {
        if (!left) return;
        this.items = new Map(left.map((i) => [i.id, i]));
        this.render();
      }),
    );
    $("list").addEventListener("scroll", () => this.schedule());
    window.addEventListener("resize", () => this.schedule());
  }

  /** Keeps a row's thumbnail when an update arrives without it. */
  update(item: Item): void {
    const known = this.items.get(item.id);
    this.items.set(item.id, { ...item, thumbnail: item.thumbnail ?? known?.thumbnail ?? null });
    this.schedule();
  }

  /** Many events can arrive at once: the list is drawn at most every 30 ms. A timer, not an
   * animation frame, so the list is current when the window comes back from the background. */
  schedule(): void {
    if (this.frame) return;
    this.frame = window.setTimeout(() => {
      this.frame = 0;
      this.render();
    }, 30);
  }

  added(a: Added): void {
    a.items.forEach((i) => this.items.set(i.id, i));
    if (a.problems.length) notify(`Not added: ${a.problems.join("; ")}`);
    this.render();
  }

  /** Runs the queue, or with `only` that one photo. */
  async start(only?: number): Promise<void> {
    if (this.running) return;
    const channel = new Channel<Update>();
    channel.onmessage = (u) => {
      this.run = u.run;
      this.update(u.item);
    };
    this.run = null;
    this.running = true;
    this.startedAt = performance.now();
    this.render();
    const summary = await call<Summary>("start", { onEvent: channel, only: only ?? null });
    this.running = false;
    const fresh = await call<StateView>("state");
    if (fresh) fresh.items.forEach((i) => this.update(i));
    if (summary && (summary.failed > 0 || summary.not_protected > 0 || summary.cancelled)) {
      notify(summary.line);
    }
    this.render();
  }

  /** Retry a failed photo, or cloak a finished one again after its faces changed: that photo
   * alone, whatever else is waiting. */
  async retry(id: number): Promise<void> {
    const item = await call<Item>("requeue", { id });
    if (!item) return;
    this.update(item);
    await this.start(id);
  }

  async remove(id: number): Promise<void> {
    // The command answers null when done; a refusal (the photo is being cloaked) is shown instead.
    if ((await call("remove", { id })) === undefined) return;
    this.items.delete(id);
    this.render();
  }

  /** Asks for the thumbnails of rows in view, a few at a time. */
  thumbnails(shown: Item[]): void {
    for (const item of shown) {
      if (this.making >= THUMBNAILS_AT_ONCE) return;
      if (item.thumbnail || this.asked.has(item.id)) continue;
      this.asked.add(item.id);
      this.making++;
      call<string | null>("thumbnail", { id: item.id }).then((url) => {
        this.making--;
        const known = this.items.get(item.id);
        if (url && known) this.items.set(item.id, { ...known, thumbnail: url });
        this.schedule();
      });
    }
  }

  row(item: Item): HTMLTableRowElement {
    const row = document.createElement("tr");
    row.dataset.id = String(item.id);
    row.className = item.status;
    const thumb = document.createElement("td");
    thumb.className = "thumb";
    if (item.thumbnail) {
      const img = document.createElement("img");
      img.src = item.thumbnail;
      img.alt = "";
      thumb.append(img);
    }
    const name = document.createElement("td");
    name.className = "name";
    name.textContent = name.title = item.name;
    const status = document.createElement("td");
    status.className = "status";
    const words = document.createElement("div");
    words.textContent = status.title = statusText(item);
    status.append(words);
    const faces = document.createElement("td");
    const count = item.faces === null ? "" : String(item.faces - item.faces_off.length);
    if (item.status === "waiting" || item.status === "failed") {
      faces.append(this.button("faces", item.faces === null ? "Faces…" : `${count} of ${item.faces}…`, "See the faces found and choose which to cloak", () => this.pick(item.id)));
    } else {
      faces.textContent = count;
    }
    const actions = document.createElement("td");
    actions.className = "actions";
    if (item.status === "done") actions.append(this.button("compare", "Before/after", `Compare ${item.name} before and after`, () => this.compare.open(item.id)));
    if (item.status === "failed") actions.append(this.button("retry", "Retry", `Try ${item.name} again`, () => this.retry(item.id)));
    if (item.status !== "working") {
      const remove = this.button("remove", "×", `Remove ${item.name} from the list`, () => this.remove(item.id));
      remove.setAttribute("aria-label", remove.title);
      actions.append(remove);
    }
    row.append(thumb, name, faces, status, actions);
    // Rows take the keyboard: Enter or Space opens what a click opens, Delete removes the row,
    // the arrows move between rows.
    row.tabIndex = 0;
    const open = item.status === "done" ? () => this.compare.open(item.id) : item.status === "waiting" || item.status === "failed" ? () => this.pick(item.id) : null;
    if (item.status === "done" && open) {
      row.title = "Show before and after";
      row.addEventListener("click", open);
    }
    row.addEventListener("keydown", (e) => {
      if (e.target !== row) return;
      if (e.key === "Delete" || e.key === "Backspace") {
        e.preventDefault();
        this.remove(item.id);
      } else if ((e.key === "Enter" || e.key === " ") && open && !this.running) {
        e.preventDefault();
        open();
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        this.moveFocus(item.id, e.key === "ArrowDown" ? 1 : -1);
      }
    });
    return row;
  }

  button(kind: string, text: string, title: string, click: () => void): HTMLButtonElement {
    const b = document.createElement("button");
    b.type = "button";
    b.className = kind;
    b.textContent = text;
    b.title = title;
    b.disabled = this.running && kind !== "remove" && kind !== "compare";
    b.addEventListener("click", (e) => {
      e.stopPropagation();
      click();
    });
    return b;
  }

  pick(id: number): void {
    pickFaces(id, this.running, (i) => this.update(i));
  }

  moveFocus(id: number, step: number): void {
    const ids = [...this.items.keys()];
    const index = ids.indexOf(id) + step;
    if (index < 0 || index >= ids.length) return;
    this.focusId = ids[index];
    this.focusKind = null;
    const list = $("list");
    const top = index * ROW;
    const head = list.querySelector("thead")?.getBoundingClientRect().height ?? 0;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + ROW > list.scrollTop + list.clientHeight - head) list.scrollTop = top + ROW - list.clientHeight + head;
    this.render();
  }

  render(): void {
    // Drawing now makes a pending redraw moot.
    window.clearTimeout(this.frame);
    this.frame = 0;
    const items = [...this.items.values()];
    const list = $("list");
    const head = list.querySelector("thead")?.getBoundingClientRect().height ?? 0;
    const [first, last] = visibleRange(Math.max(0, list.scrollTop - head), list.clientHeight || 800, ROW, items.length);
    const shown = items.slice(first, last);
    const spacer = (rows: number) => {
      const tr = document.createElement("tr");
      tr.className = "spacer";
      tr.setAttribute("aria-hidden", "true");
      tr.style.height = `${rows * ROW}px`;
      return tr;
    };
    const rows = shown.map((i) => this.row(i));
    const body = $("queue").querySelector("tbody")!;
    const hadFocus = body.contains(document.activeElement);
    body.replaceChildren(spacer(first), ...rows, spacer(items.length - last));
    if (hadFocus) {
      const row = rows.find((r) => Number(r.dataset.id) === this.focusId);
      const button = this.focusKind ? row?.querySelector<HTMLElement>(`button.${this.focusKind}`) : null;
      (button ?? row)?.focus({ preventScroll: true });
    }
    this.thumbnails(shown);
    // Once photos are in, the drop zone shrinks to a bar and the list gets the window.
    $("drop").classList.toggle("compact", items.length > 0);
    const done = finished(items);
    const progress = $<HTMLProgressElement>("progress");
    progress.value = items.length ? done / items.length : 0;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    $("progress-text").textContent = progressText(items, this.run, elapsed, this.running);
    $<HTMLButtonElement>("start").disabled = this.running || !items.some((i) => i.status === "waiting" || i.status === "failed");
    $<HTMLButtonElement>("cancel").disabled = !this.running;
    $<HTMLButtonElement>("clear").disabled = this.running;
  }
}
