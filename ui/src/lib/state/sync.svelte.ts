// The open Safe's sync as the window last heard of it, kept current from the `synced` event; what
// a run that just ended tells the person (a notice, or the banner of its decisions).
import type { SyncStatus } from "../bindings";
import { errorText } from "../i18n/errors";
import { t } from "../i18n/i18n.svelte";
import { reportSummary } from "../sync/words";
import { notify } from "./notices.svelte";

export const syncState = $state<{
  status: SyncStatus | null;
  /** Decisions of the last run the person has not looked at (the browser's banner). */
  toReview: number;
}>({ status: null, toReview: 0 });

/** Whether an automatic run's failure was told already (a drive that is not connected fails every
 * run the same way: once is enough, until a run works again). */
let failureTold = false;

export function setSyncStatus(status: SyncStatus): void {
  syncState.status = status;
}

/** A run ended: the new status, and what the person hears of it. Runs the person asked for say
 * how they went; automatic ones speak only of a first failure and of decisions. */
export function syncEnded(status: SyncStatus): void {
  syncState.status = status;
  const run = status.lastRun;
  if (!run) return;
  if (run.error) {
    if (!run.automatic || !failureTold) notify(errorText(run.error), "error", run.error.message);
    if (run.automatic) failureTold = true;
    return;
  }
  failureTold = false;
  if (!run.report) return;
  if (!run.automatic) notify(t("sync.finished", { summary: reportSummary(run.report) }), run.report.stopped ? "info" : "success");
  if (run.report.conflicts.length) syncState.toReview = run.report.conflicts.length;
}

export function clearSync(): void {
  syncState.status = null;
  syncState.toReview = 0;
  failureTold = false;
}
