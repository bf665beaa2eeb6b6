// What other programs handed to the app (a file manager's "Open with Arca" or "Add to Safe…",
// or the command line) and the window has not acted on yet. Nothing is opened or imported
// without the person: a Safe waits on the start screen for its password, files wait for "Add
// here" in the folder the person picks.
import type { Handoff } from "../bindings";

export const handed = $state<{ safe: string | null; files: string[] }>({ safe: null, files: [] });

/** Keeps what `handoff` brings: its Safe replaces one still waiting, its files join the others. */
export function receive(handoff: Handoff): void {
  if (handoff.safe) handed.safe = handoff.safe;
  const files = handoff.files.filter((path) => !handed.files.includes(path));
  if (files.length) handed.files = [...handed.files, ...files];
}

/** The last part of a path: the name the person knows a file or a Safe by. */
export function baseName(path: string): string {
  return path.split("/").filter(Boolean).pop() ?? path;
}

/** The waiting files' names, for a sentence. */
export function waitingNames(): string {
  return handed.files.map(baseName).join(", ");
}

/** The files waiting, leaving none. */
export function takeFiles(): string[] {
  const files = handed.files;
  handed.files = [];
  return files;
}

export function clearHandoff(): void {
  handed.safe = null;
  handed.files = [];
}
