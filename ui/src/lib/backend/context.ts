// Components reach the backend through Svelte context, never through `invoke`, so every one
// of them runs against MemoryBackend in tests and in a plain browser.
import { getContext, setContext } from "svelte";
import type { Backend } from "./Backend";
import { TauriBackend } from "./TauriBackend";
import { MemoryBackend } from "./memory/MemoryBackend";

const KEY = Symbol("arca-backend");

export function provideBackend(backend: Backend): void {
  setContext(KEY, backend);
}

export function useBackend(): Backend {
  const backend = getContext<Backend | undefined>(KEY);
  if (!backend) throw new Error("Arca: no backend in context (provideBackend in App)");
  return backend;
}

/** The real one inside the Tauri window; the in-memory demo anywhere else (`npm run dev`).
 *  The demo is also `window.arcaDemo`, so the browser test (or a person trying the demo in the
 *  console) can play the other side: `arcaDemo.simulateSave(edit, text)`, a leftover copy, … */
export function pickBackend(): Backend {
  if (typeof window !== "undefined" && "__TAURI_INTERNALS__" in window) return new TauriBackend();
  const demo = new MemoryBackend({ storage: typeof localStorage === "undefined" ? null : localStorage });
  if (typeof window !== "undefined") (window as unknown as { arcaDemo?: MemoryBackend }).arcaDemo = demo;
  return demo;
}
