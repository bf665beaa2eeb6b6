// The files of the open Safe that are open in other apps, kept current from the `edit` event and
// by the activity panel while it shows them; and what the window says when a save there comes
// back into the Safe (or cannot).
import type { Backend } from "../backend/Backend";
import type { EditEvent, OpenEdit } from "../bindings";
import { t } from "../i18n/i18n.svelte";
import { notify } from "./notices.svelte";

export const edits = $state<{ list: OpenEdit[] }>({ list: [] });

let asked = 0;

/** Asks the backend for the list again. Only the latest answer counts; a failure (the Safe
 *  locked meanwhile) leaves the list as it was. */
export async function refreshEdits(backend: Pick<Backend, "openEdits">): Promise<void> {
  const ask = ++asked;
  try {
    const list = await backend.openEdits();
    if (ask === asked) edits.list = list;
  } catch {
    // The next event or refresh tries again.
  }
}

export function clearEdits(): void {
  asked += 1;
  edits.list = [];
}

/** A save taken back is said in passing (a polite notice); one that could not be is an error
 *  notice. The list follows at once, before the backend is asked again. */
export function announceEdit(event: EditEvent): void {
  const at = edits.list.findIndex((e) => e.edit === event.edit);
  switch (event.kind) {
    case "saved":
      notify(t("edits.saved", { name: event.name }), "success");
      if (at >= 0) edits.list[at] = { ...edits.list[at]!, unsaved: false };
      break;
    case "problem":
      notify(t("edits.problem", { name: event.name, message: (event.message ?? "").replace(/[\s.]+$/, "") }), "error");
      if (at >= 0) edits.list[at] = { ...edits.list[at]!, unsaved: true };
      break;
    case "ended":
      if (at >= 0) edits.list = edits.list.filter((e) => e.edit !== event.edit);
      break;
  }
}
