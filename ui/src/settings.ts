// The settings panel: default strength, output folder, metadata and the HEIC/AVIF output format,
// saved by the app at once.

import { $, call, openPanel } from "./ipc";
import type { AddedModel, ModeView, Settings } from "./bindings";
import { currentText, outputText, recogniserText } from "./format";

export type { AddedModel, ModeView, Settings };



/** The strengths' choices, with the words and figures the core gives (never copied here). */
export function showModes(modes: ModeView[]): void {
  $("mode-list").replaceChildren(
    ...modes.map((m) => {
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "mode";
      input.value = m.name;
      const name = document.createElement("b");
      name.textContent = m.name.charAt(0).toUpperCase() + m.name.slice(1);
      label.append(input, " ", name, ` — ${m.summary}${m.default ? ". The default" : ""}`);
      return label;
    }),
  );
}

/** The recognisers the user added, each with a Remove button. */
export function showRecognisers(list: AddedModel[]): void {
  const items = list.map((m) => {
    const li = document.createElement("li");
    const name = document.createElement("b");
    name.textContent = m.name;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove-recogniser";
    remove.textContent = "Remove";
    remove.addEventListener("click", () =>
      call<AddedModel[]>("remove_recogniser", { name: m.name }).then((l) => l && showRecognisers(l)),
    );
    li.append(name, ` — ${recogniserText(m)} `, remove);
    return li;
  });
  if (items.length === 0) {
    const li = document.createElement("li");
    li.textContent = "None: cloaks are made against the recognisers FaceCloak ships.";
    items.push(li);
  }
  $("recogniser-list").replaceChildren(...items);
}

export function showSettings(s: Settings): void {
  document.querySelectorAll<HTMLInputElement>("input[name=mode]").forEach((r) => (r.checked = r.value === s.mode));
  $("out-dir").textContent = outputText(s.out_dir);
  $<HTMLInputElement>("keep-metadata").checked = s.keep_metadata;
  $<HTMLInputElement>("keep-heif").checked = s.keep_heif;
  $("current").textContent = currentText(s);
}

export function bindSettings(): void {
  const apply = (s: Settings | undefined) => s && showSettings(s);
  document.querySelectorAll<HTMLInputElement>("input[name=mode]").forEach((radio) =>
    radio.addEventListener("change", () => call<Settings>("set_mode", { mode: radio.value }).then(apply)),
  );
  const keep = $<HTMLInputElement>("keep-metadata");
  keep.addEventListener("change", () => call<Settings>("set_keep_metadata", { on: keep.checked }).then(apply));
  const heif = $<HTMLInputElement>("keep-heif");
  heif.addEventListener("change", () => call<Settings>("set_keep_heif", { on: heif.checked }).then(apply));
  $("pick-output").addEventListener("click", () => call<Settings>("pick_output").then(apply));
  $("reset-output").addEventListener("click", () => call<Settings>("reset_output").then(apply));
  $("open-output").addEventListener("click", () => call("open_output", { id: null }));
  $("open-settings").addEventListener("click", () => openPanel("settings"));
  const add = $<HTMLButtonElement>("add-recogniser");
  add.addEventListener("click", async () => {
    add.disabled = true;
    $("recogniser-status").textContent = "Checking the file and building its gradient…";
    const list = await call<AddedModel[]>("add_recogniser");
    $("recogniser-status").textContent = "";
    add.disabled = false;
    if (list) showRecognisers(list);
  });
}
