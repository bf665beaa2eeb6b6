// Moving items by dragging them inside the window: the dragged ids travel as JSON under a type
// of our own, so a drag from elsewhere (files from the desktop) is never taken for a move.
// WebKitGTK (the real window on Linux) passes only the types GTK knows (text, HTML, URIs) from
// a drag to its drop targets and drops ours, so the drag this window started is also kept
// here, from its dragstart to its dragend.
export const DRAG_TYPE = "application/x-arca-items";

let current: string[] | null = null;

/** A row drag starts: its ids go with the drag and are kept until `endItemDrag`. */
export function startItemDrag(data: DataTransfer, ids: string[]): void {
  current = ids;
  data.setData(DRAG_TYPE, JSON.stringify(ids));
}

/** The row drag ended (dropped or cancelled). */
export function endItemDrag(): void {
  current = null;
}

export function isItemDrag(event: DragEvent): boolean {
  return current !== null || (!!event.dataTransfer && [...event.dataTransfer.types].includes(DRAG_TYPE));
}

export function draggedIds(event: DragEvent): string[] {
  try {
    const ids: unknown = JSON.parse(event.dataTransfer?.getData(DRAG_TYPE) || "null");
    if (Array.isArray(ids)) return ids.filter((id): id is string => typeof id === "string");
  } catch {
    // Not ours, or WebKitGTK dropped it: the drag this window started says.
  }
  return current ?? [];
}

/** The folder a drop lands on: an element with data-drop-folder ("" is the root). */
export function dropFolderAt(target: EventTarget | null): { el: HTMLElement; folder: string | null } | null {
  const el = (target as HTMLElement | null)?.closest?.<HTMLElement>("[data-drop-folder]");
  if (!el) return null;
  const id = el.dataset.dropFolder ?? "";
  return { el, folder: id === "" ? null : id };
}

let highlighted: HTMLElement | null = null;

export function highlight(el: HTMLElement | null): void {
  if (highlighted === el) return;
  highlighted?.classList.remove("drop-target");
  highlighted = el;
  el?.classList.add("drop-target");
}

/** Handlers for an area whose folders (data-drop-folder) take dragged items: `onmove` gets the
 *  ids and the folder they were dropped on. */
export function folderDropTarget(onmove: (ids: string[], folder: string | null) => void) {
  function accept(event: DragEvent): void {
    if (!isItemDrag(event)) return;
    const target = dropFolderAt(event.target);
    highlight(target?.el ?? null);
    if (!target) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "move";
  }
  return {
    // Both: WebKitGTK may end a drag on a dragenter with no dragover after it.
    dragenter: accept,
    dragover: accept,
    dragleave(): void {
      highlight(null);
    },
    drop(event: DragEvent): void {
      highlight(null);
      const target = dropFolderAt(event.target);
      if (!target || !isItemDrag(event)) return;
      event.preventDefault();
      onmove(draggedIds(event).filter((id) => id !== target.folder), target.folder);
    },
  };
}
