// The face picker before Start, and the outlines it shares with before/after: each outline is a
// button over the photo that says what will happen to its face.

import { $, call, openPanel } from "./ipc";
import type { FacesView } from "./bindings";
import { type PickerFace, type Item, boxStyle, faceLabel, pickerSummary } from "./format";

export type { FacesView };


/** Draws one outline button per face over the photo in `stack`; `click` gets the face. */
export function outline(stack: HTMLElement, view: FacesView, click: (face: PickerFace, button: HTMLButtonElement) => void): HTMLButtonElement[] {
  stack.querySelectorAll("button.face").forEach((b) => b.remove());
  return view.faces.map((face) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "face";
    button.dataset.number = String(face.number);
    Object.assign(button.style, boxStyle(face.bbox, view.width, view.height));
    button.addEventListener("click", () => click(face, button));
    stack.append(button);
    return button;
  });
}

/** The outline's look and words follow the face's switch. */
export function paintOutline(button: HTMLButtonElement, face: PickerFace): void {
  button.classList.toggle("off", !face.on);
  button.classList.toggle("small", face.too_small);
  button.title = faceLabel(face);
  button.setAttribute("aria-label", faceLabel(face));
}

/** Leaves a face out or puts it back for the next run; false when the app refused. */
export async function switchFace(id: number, face: PickerFace, onItem: (i: Item) => void): Promise<boolean> {
  const item = await call<Item>("set_face", { id, number: face.number, on: !face.on });
  if (!item) return false;
  // The app's answer, not a flip: two quick clicks must not leave the outline out of step.
  face.on = !item.faces_off.includes(face.number);
  onItem(item);
  return true;
}

/** Shows a photo with its faces outlined before Start; each outline switches its face. */
export async function pickFaces(id: number, running: boolean, onItem: (i: Item) => void): Promise<void> {
  const view = await call<FacesView>("faces", { id });
  if (!view) return;
  onItem(view.item);
  $("picker-name").textContent = view.item.name;
  $<HTMLImageElement>("picker-photo").src = view.image;
  const show = () => ($("picker-summary").textContent = pickerSummary(view.faces));
  const buttons = outline($("picker-stack"), view, async (face, button) => {
    if (await switchFace(id, face, onItem)) {
      paintOutline(button, face);
      button.setAttribute("aria-pressed", String(face.on));
      show();
    }
  });
  buttons.forEach((b, i) => {
    const face = view.faces[i];
    paintOutline(b, face);
    b.setAttribute("aria-pressed", String(face.on && !face.too_small));
    b.disabled = face.too_small || running;
  });
  show();
  openPanel("face-picker");
}
