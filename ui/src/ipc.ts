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

const open = new Map<string, () => void>();

/** Opens a panel over the window, which stays dimmed and out of reach (inert) until the panel
 * closes (its Done/Close button or Escape); focus then goes back where it was, to the same row
 * even if the list has been redrawn meanwhile. Opening an open panel does nothing. */
export function openPanel(id: string, onClose?: () => void): void {
  if (open.has(id)) return;
  const panel = $(id);
  const back = document.activeElement as HTMLElement | null;
  const row = back?.closest<HTMLElement>("tr[data-id]")?.dataset.id;
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") closePanel(id);
  };
  open.set(id, () => {
    panel.hidden = true;
    document.removeEventListener("keydown", onKey);
    $("main").inert = false;
    onClose?.();
    const target = back?.isConnected ? back : row ? document.querySelector<HTMLElement>(`tr[data-id="${row}"]`) : null;
    target?.focus?.();
  });
  $("main").inert = true;
  panel.hidden = false;
  panel.querySelector<HTMLElement>("button:not([disabled])")?.focus();
  document.addEventListener("keydown", onKey);
  panel.querySelectorAll<HTMLElement>("[data-close]").forEach((b) => (b.onclick = () => closePanel(id)));
}

export function closePanel(id: string): void {
  const close = open.get(id);
  open.delete(id);
  close?.();
}
