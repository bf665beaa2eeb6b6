// What the window tells the person in passing: short notices (errors with their details) shown
// as toasts and read out by the live region.
import { describeError } from "../i18n/errors";

export interface Notice {
  id: number;
  text: string;
  details: string | null;
  tone: "info" | "error" | "success";
}

let next = 1;
export const notices = $state<{ list: Notice[]; spoken: string }>({ list: [], spoken: "" });

export function notify(text: string, tone: Notice["tone"] = "info", details: string | null = null): void {
  const notice = { id: next++, text, details, tone };
  notices.list = [...notices.list.slice(-3), notice];
  notices.spoken = text;
  setTimeout(() => dismiss(notice.id), tone === "error" ? 9000 : 5000);
}

/** A failed call, as the window says it (from its kind; the message as details). */
export function notifyError(cause: unknown): void {
  const { text, details } = describeError(cause);
  notify(text, "error", details);
}

export function dismiss(id: number): void {
  notices.list = notices.list.filter((n) => n.id !== id);
}

export function clearNotices(): void {
  notices.list = [];
}
