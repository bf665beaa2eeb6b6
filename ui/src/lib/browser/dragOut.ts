// Dragging items out of the window onto the desktop or a file manager. A row's drag carries,
// besides the ids for moving inside the window (dnd.ts), a `text/uri-list` with one file:// URI
// per item: `<drag-out folder>/<drag id>/<index>/<name>`, a folder in RAM the Rust side exports
// into (each item in a folder of its own: two dragged items may share a name).
// Nothing is exported at dragstart: only once the drag leaves the window, and only once per drag.
// A drag that ends cancelled or dropped back inside has its copies removed.
//
// A drop back inside may reach the window as Tauri's native file drop (with the URIs' paths)
// instead of, or as well as, the HTML5 drop. Such paths are never imported: the first of the
// two that arrives does the move the HTML5 drop would have done.
import type { Backend } from "../backend/Backend";

/** Where the copy of a drag's `index`-th item will be: `${folder}/${drag}/${index}/${name}`. */
export function dragOutPath(folder: string, drag: string, index: number, name: string): string {
  return `${folder}/${drag}/${index}/${name}`;
}

/** `file://` and the absolute path, each of its segments percent-encoded. */
export function fileUri(path: string): string {
  return `file://${path.split("/").map(encodeURIComponent).join("/")}`;
}

/** The `text/uri-list` of a drag: one URI a line, lines ended by CR LF (RFC 2483). */
export function uriList(folder: string, drag: string, names: string[]): string {
  return names.map((name, index) => fileUri(dragOutPath(folder, drag, index, name))).join("\r\n");
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random drag id of letters and digits (what `dragOut` accepts), from the system's CSPRNG. */
export function newDragId(length = 24): string {
  let id = "";
  while (id.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length))) {
      // 248 = 4 × 62: larger bytes are skipped so every character is as likely.
      if (byte < 248 && id.length < length) id += ALPHABET[byte % 62];
    }
  }
  return id;
}

/** Whether dropped paths are this window's own drag: every one inside the drag-out folder. */
export function isOwnDrop(paths: string[], folder: string | null): boolean {
  return folder !== null && paths.length > 0 && paths.every((p) => p.startsWith(`${folder}/`));
}

/** The drag id in the path of a dragged-out copy (the folder's first segment below `folder`). */
export function dragIdIn(path: string, folder: string): string {
  return path.slice(folder.length + 1).split("/")[0] ?? "";
}

/** What a `dragleave` says by itself: the pointer is outside the viewport, or (no element was
 *  entered instead) at its very edge. */
export function leftByPosition(
  event: { clientX: number; clientY: number; relatedTarget: EventTarget | null },
  width: number,
  height: number,
  edge = 2,
): boolean {
  const { clientX: x, clientY: y } = event;
  if (x < 0 || y < 0 || x >= width || y >= height) return true;
  return event.relatedTarget === null && (x <= edge || y <= edge || x >= width - 1 - edge || y >= height - 1 - edge);
}

interface Drag {
  id: string;
  ids: string[];
  names: string[];
  /** The export, once started (it never rejects: a failure is reported and swallowed). */
  exporting: Promise<void> | null;
  /** A drop inside the window did (or is doing) the move. */
  handled: boolean;
  /** `dragOutDone` was called (or is waiting for the export to settle). */
  finished: boolean;
}

export interface DragOutHooks {
  backend: Pick<Backend, "dragOut" | "dragOutDone">;
  /** The folder a drop at (x, y) in CSS pixels lands on (dnd.ts `dropFolderAt`), or null. */
  folderAt: (x: number, y: number) => { folder: string | null } | null;
  /** Moves items into a folder, as a drop inside the window does. */
  move: (ids: string[], folder: string | null) => void;
  /** The export for a drag failed. */
  onerror: (names: string[], cause: unknown) => void;
  /** Milliseconds (tests give a fake clock). */
  now?: () => number;
}

/** After a `dragleave` that names no element entered, how long to wait for a `dragenter` or
 *  `dragover` inside before taking the drag for gone (the browser fires those at least every
 *  350 ms ± 200 ms while the pointer is over the window, and at once on each move). */
export const LEAVE_GRACE_MS = 150;
/** A native drop of our own drag waits this long for the HTML5 drop that may follow it. */
export const HTML5_DROP_WAIT_MS = 100;
/** A `dragleave` this soon after a `dragenter` is the pointer going from one element to the next. */
const SAME_MOVE_MS = 30;

/** The drags of one open Safe's window. */
export class DragOut {
  /** The drag-out folder (from `dragOutFolder()` after unlock); `null`: no drag out. */
  folder: string | null = null;
  private current: Drag | null = null;
  /** Recent drags by id, for a native drop that arrives after its dragend. */
  private readonly recent = new Map<string, Drag>();
  private lastEnter = Number.NEGATIVE_INFINITY;
  private leaveTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly now: () => number;

  constructor(private readonly hooks: DragOutHooks) {
    this.now = hooks.now ?? (() => Date.now());
  }

  setFolder(folder: string | null): void {
    this.folder = folder === null ? null : folder.replace(/\/+$/, "") || null;
  }

  /** At a row's dragstart, after dnd.ts set the ids: offers the items as files too. Returns
   *  the drag id, or null when there is no drag out (no folder, nothing to drag). */
  start(data: DataTransfer, items: Array<{ id: string; name: string }>): string | null {
    this.current = null;
    this.cancelLeave();
    if (this.folder === null || items.length === 0) return null;
    const drag: Drag = {
      id: newDragId(),
      ids: items.map((i) => i.id),
      names: items.map((i) => i.name),
      exporting: null,
      handled: false,
      finished: false,
    };
    data.setData("text/uri-list", uriList(this.folder, drag.id, drag.names));
    data.effectAllowed = "copyMove";
    this.current = drag;
    this.recent.set(drag.id, drag);
    for (const old of this.recent.keys()) {
      if (this.recent.size <= 8) break;
      this.recent.delete(old);
    }
    return drag.id;
  }

  /** A `dragenter` anywhere in the window. */
  entered(): void {
    this.lastEnter = this.now();
    this.cancelLeave();
  }

  /** A `dragover` anywhere in the window: the pointer is still over it. */
  over(): void {
    this.cancelLeave();
  }

  /** A `dragleave` reaching the document. The pointer left the window when the event says so
   *  by its position, or when no `dragenter` came with it (WebKit names no related target, and
   *  a pointer leaving for a window on top of this one leaves at an inner position). */
  leave(event: { clientX: number; clientY: number; relatedTarget: EventTarget | null }, width: number, height: number): void {
    const drag = this.current;
    if (!drag || drag.exporting) return;
    if (leftByPosition(event, width, height)) {
      this.export(drag);
      return;
    }
    if (event.relatedTarget !== null || this.now() - this.lastEnter < SAME_MOVE_MS) return;
    this.cancelLeave();
    this.leaveTimer = setTimeout(() => {
      this.leaveTimer = null;
      if (this.current === drag) this.export(drag);
    }, LEAVE_GRACE_MS);
  }

  /** The HTML5 drop of the current drag was taken inside the window (dnd.ts moved the items). */
  droppedInside(): void {
    if (this.current) this.current.handled = true;
  }

  /** The row's dragend, with `dataTransfer.dropEffect`. */
  end(dropEffect: string): void {
    const drag = this.current;
    this.current = null;
    this.cancelLeave();
    if (drag && (dropEffect === "none" || drag.handled)) void this.finish(drag);
  }

  /** A native file drop on the window (Tauri's `onFilesDropped`): whether it is this window's
   *  own drag, which is never imported; its move is done here unless the HTML5 drop did it. */
  ownDrop(paths: string[], x: number, y: number): boolean {
    if (!isOwnDrop(paths, this.folder)) return false;
    // WebKitGTK fires a dragleave as the drop begins: that was no leaving.
    if (this.current && this.current.id === dragIdIn(paths[0]!, this.folder!)) this.cancelLeave();
    void this.dropBack(paths[0]!, x, y);
    return true;
  }

  /** Settles what is pending (the window goes away; the Rust side wipes the copies on lock). */
  dispose(): void {
    this.cancelLeave();
    this.current = null;
  }

  private async dropBack(path: string, x: number, y: number): Promise<void> {
    const drag = this.recent.get(dragIdIn(path, this.folder!));
    if (!drag || drag.handled) return;
    await new Promise((resolve) => setTimeout(resolve, HTML5_DROP_WAIT_MS));
    if (drag.handled) return;
    drag.handled = true;
    const target = this.hooks.folderAt(x, y);
    if (target) {
      const ids = drag.ids.filter((id) => id !== target.folder);
      if (ids.length) this.hooks.move(ids, target.folder);
    }
    await this.finish(drag);
  }

  private export(drag: Drag): void {
    this.cancelLeave();
    if (drag.exporting) return;
    drag.exporting = this.hooks.backend.dragOut(drag.ids, drag.id).catch((cause: unknown) => this.hooks.onerror(drag.names, cause));
  }

  /** Removes the drag's copies, once its export (if any) has settled. */
  private async finish(drag: Drag): Promise<void> {
    if (drag.finished) return;
    drag.finished = true;
    await drag.exporting;
    await this.hooks.backend.dragOutDone(drag.id).catch(() => {});
  }

  private cancelLeave(): void {
    if (this.leaveTimer) clearTimeout(this.leaveTimer);
    this.leaveTimer = null;
  }
}
