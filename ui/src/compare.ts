// Before and after: the whole photo at screen size with its faces outlined, and one face at
// 100 % (or zoomed) split by a line the slider moves. Holding the flicker button or F shows the
// original in both views. A face can be left out here and the photo cloaked again.

import { $, call, closePanel, openPanel } from "./ipc";
import { type PickerFace, type Item, cloaked, faceWords, recloakNote } from "./format";
import type { FacePair } from "./bindings";
import { type FacesView, outline, paintOutline, switchFace } from "./picker";


export class Compare {
  view: FacesView | null = null;
  face: PickerFace | null = null;
  zoom = 1;
  held = false;
  buttons: HTMLButtonElement[] = [];
  /** The latest open(): an earlier, slower answer is dropped. */
  opening = 0;

  constructor(
    private onItem: (i: Item) => void,
    private recloak: (id: number) => void,
  ) {}

  bind(): void {
    const slider = $<HTMLInputElement>("slider");
    slider.addEventListener("input", () => this.split(Number(slider.value)));
    const flicker = $("flicker");
    flicker.addEventListener("pointerdown", () => this.hold(true));
    ["pointerup", "pointerleave", "pointercancel"].forEach((t) => flicker.addEventListener(t, () => this.hold(false)));
    flicker.addEventListener("keydown", (e) => (e.key === " " || e.key === "Enter") && (e.preventDefault(), this.hold(true)));
    flicker.addEventListener("keyup", () => this.hold(false));
    $("compare").addEventListener("keydown", (e) => {
      if ((e.key === "f" || e.key === "F") && !e.repeat) this.hold(true);
    });
    $("compare").addEventListener("keyup", (e) => (e.key === "f" || e.key === "F") && this.hold(false));
    // A key or button released elsewhere must not leave the view stuck on the original.
    window.addEventListener("blur", () => this.hold(false));
    document.querySelectorAll<HTMLButtonElement>(".zoom button").forEach((b) =>
      b.addEventListener("click", () => this.setZoom(Number(b.dataset.zoom))),
    );
    this.bindPan();
    $("face-toggle").addEventListener("click", () => this.toggleFace());
    $("recloak").addEventListener("click", () => {
      if (!this.view) return;
      const id = this.view.item.id;
      closePanel("compare");
      this.recloak(id);
    });
  }

  /** Dragging the face view pans it; dragging the line moves the split. */
  bindPan(): void {
    const viewport = $("viewport");
    let drag: { x: number; y: number; left: number; top: number; line: boolean } | null = null;
    viewport.addEventListener("pointerdown", (e) => {
      if (e.target === $("slider")) return;
      drag = { x: e.clientX, y: e.clientY, left: viewport.scrollLeft, top: viewport.scrollTop, line: e.target === $("split-line") };
      viewport.setPointerCapture?.(e.pointerId);
    });
    viewport.addEventListener("pointermove", (e) => {
      if (!drag) return;
      if (drag.line) {
        const r = $("split").getBoundingClientRect();
        this.split((100 * (e.clientX - r.left)) / Math.max(1, r.width));
      } else {
        viewport.scrollLeft = drag.left - (e.clientX - drag.x);
        viewport.scrollTop = drag.top - (e.clientY - drag.y);
      }
    });
    viewport.addEventListener("pointerup", () => (drag = null));
    viewport.addEventListener("pointercancel", () => (drag = null));
  }

  async open(id: number): Promise<void> {
    const ticket = ++this.opening;
    const view = await call<FacesView>("before_after", { id });
    if (!view || ticket !== this.opening) return;
    this.view = view;
    this.face = null;
    this.held = false;
    this.clearFace();
    this.onItem(view.item);
    $("compare-name").textContent = view.item.name;
    $<HTMLImageElement>("photo").src = view.cloaked ?? view.image;
    this.buttons = outline($("photo-stack"), view, (face) => this.show(face));
    this.paint();
    const first = view.faces.find(cloaked) ?? view.faces[0];
    openPanel("compare", () => this.hold(false));
    if (first) await this.show(first);
  }

  paint(): void {
    if (!this.view) return;
    this.view.faces.forEach((f, i) => {
      paintOutline(this.buttons[i], f);
      this.buttons[i].classList.toggle("selected", f === this.face);
      this.buttons[i].setAttribute("aria-pressed", String(f === this.face));
    });
    const note = recloakNote(this.view.faces);
    $("recloak-note").textContent = note.text;
    $<HTMLButtonElement>("recloak").disabled = !note.changed || this.view.faces.every((f) => !f.on || f.too_small);
    const face = this.face;
    const toggle = $<HTMLButtonElement>("face-toggle");
    toggle.hidden = !face || face.too_small;
    if (face) toggle.textContent = face.on ? `Leave face ${face.number} out` : `Cloak face ${face.number} again`;
  }

  /** One face at the chosen zoom. */
  async show(face: PickerFace): Promise<void> {
    if (!this.view) return;
    this.face = face;
    this.paint();
    this.title();
    $("face-words").textContent = faceWords(face);
    this.clearFace();
    const pair = await call<FacePair>("face_pair", { id: this.view.item.id, bbox: face.bbox });
    if (!pair || this.face !== face) return;
    const before = $<HTMLImageElement>("before");
    before.dataset.src = pair.before;
    $<HTMLImageElement>("after").dataset.src = pair.after;
    before.onload = () => this.setZoom(this.zoom);
    this.hold(this.held);
    this.split(Number($<HTMLInputElement>("slider").value));
  }

  /** No crop of another face may stand in while this one loads. */
  clearFace(): void {
    for (const id of ["before", "after"]) {
      const img = $<HTMLImageElement>(id);
      img.removeAttribute("src");
      delete img.dataset.src;
    }
  }

  async toggleFace(): Promise<void> {
    const face = this.face;
    if (!this.view || !face) return;
    if (await switchFace(this.view.item.id, face, this.onItem)) this.paint();
  }

  /** The split line at `pct` % of the face's width: before on its left, after on its right. */
  split(pct: number): void {
    const p = Math.min(100, Math.max(0, pct));
    $("after").style.clipPath = `inset(0 0 0 ${p}%)`;
    $("split-line").style.left = `${p}%`;
    $<HTMLInputElement>("slider").value = String(Math.round(p));
  }

  /** Zoom is in screen pixels per photo pixel; the slider spans the face at every zoom. */
  setZoom(zoom: number): void {
    this.zoom = zoom;
    const before = $<HTMLImageElement>("before");
    const width = before.naturalWidth * zoom;
    if (width > 0) {
      $("split").style.width = `${width}px`;
      $("slider").style.width = `${width}px`;
    }
    document.querySelectorAll<HTMLButtonElement>(".zoom button").forEach((b) => b.setAttribute("aria-pressed", String(Number(b.dataset.zoom) === zoom)));
    this.title();
  }

  title(): void {
    if (this.face) $("face-title").textContent = `Face ${this.face.number} at ${this.zoom * 100} %`;
  }

  /** While held, both views show the original. */
  hold(on: boolean): void {
    this.held = on;
    if (!this.view) return;
    $<HTMLImageElement>("photo").src = on || !this.view.cloaked ? this.view.image : this.view.cloaked;
    const before = $<HTMLImageElement>("before");
    const after = $<HTMLImageElement>("after");
    if (before.dataset.src && before.src !== before.dataset.src) before.src = before.dataset.src;
    const want = on ? before.dataset.src : after.dataset.src;
    if (want && after.src !== want) after.src = want;
    $("flicker").classList.toggle("held", on);
    $("compare").dataset.showing = on ? "original" : "cloaked";
  }
}
