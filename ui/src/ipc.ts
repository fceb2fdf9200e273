// What every part of the window shares: element lookup, commands whose failures are shown in
// plain words (never swallowed), and the notice line.

import { invoke } from "@tauri-apps/api/core";

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function notify(text: string): void {
  const n = $("notice");
  n.textContent = text;
  n.hidden = false;
}

/** Runs a command; a failure is shown in the window and gives `undefined`. */
export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T | undefined> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    notify(String(e));
    return undefined;
  }
}

/** Panels close with Escape and give focus back to where it was. */
export function openPanel(id: string): void {
  const panel = $(id);
  const back = document.activeElement as HTMLElement | null;
  panel.hidden = false;
  panel.querySelector<HTMLElement>("button")?.focus();
  const close = () => {
    panel.hidden = true;
    panel.removeEventListener("keydown", onKey);
    back?.focus?.();
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") close();
  };
  panel.addEventListener("keydown", onKey);
  panel.querySelectorAll<HTMLElement>("[data-close]").forEach((b) => (b.onclick = close));
}
