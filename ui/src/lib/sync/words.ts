// A sync run's report in words: one line for each thing it did, in the window's language.
import type { SyncReport } from "../bindings";
import { formatBytes, formatNumber, t } from "../i18n/i18n.svelte";

function counted(key: string, count: number, extra: Record<string, string> = {}): string {
  return t(`sync.report.${key}`, { count, formatted: formatNumber(count), ...extra });
}

/** What the run did, line by line (never empty: "nothing new" when it did nothing). Refused
 * objects are not among them: the report's `problems` list them. */
export function reportLines(report: SyncReport): string[] {
  const lines: string[] = [];
  if (report.operationsSent) lines.push(counted("changesSent", report.operationsSent));
  if (report.operationsReceived) lines.push(counted("changesReceived", report.operationsReceived));
  if (report.filesSent) lines.push(counted("filesSent", report.filesSent, { size: formatBytes(report.bytesSent) }));
  if (report.filesReceived) lines.push(counted("filesReceived", report.filesReceived, { size: formatBytes(report.bytesReceived) }));
  if (report.filesWaiting) lines.push(counted("filesWaiting", report.filesWaiting));
  if (report.operationsWaiting) lines.push(counted("changesWaiting", report.operationsWaiting));
  if (report.filesRemoved) lines.push(counted("removed", report.filesRemoved));
  if (report.conflicts.length) lines.push(counted("decided", report.conflicts.length));
  if (report.waitingForApproval !== null) lines.push(t("sync.report.waitingForApproval"));
  if (report.devicesAsking.length) lines.push(counted("asking", report.devicesAsking.length));
  if (report.stopped) lines.push(t("sync.report.stopped"));
  if (lines.length === 0) lines.push(t("sync.report.nothing"));
  return lines;
}

/** The lines in one sentence's worth, for a notice. */
export function reportSummary(report: SyncReport): string {
  return reportLines(report).join("; ");
}

/** A line as a list item starts with a capital. */
export function capitalised(line: string): string {
  return line.charAt(0).toUpperCase() + line.slice(1);
}
