// The open Safe's sync as the window last heard of it, kept current from the `synced` event; what
// a run that just ended tells the person (a notice, or the banner of its decisions); the devices
// that ask this one to decide, and this device waiting to be approved.
import type { AppError, SyncDevice, SyncRun, SyncStatus } from "../bindings";
import { errorExplained } from "../i18n/errors";
import { t } from "../i18n/i18n.svelte";
import { reportSummary } from "../sync/words";
import { notify } from "./notices.svelte";

/** A decision about a device made here, waiting for the run that takes it to the others. */
export interface PendingDecision {
  jobId: string;
  name: string;
  state: "approved" | "refused" | "removed";
}

export const syncState = $state<{
  status: SyncStatus | null;
  /** Decisions of the last run the person has not looked at (the browser's banner). */
  toReview: number;
  decision: PendingDecision | null;
}>({ status: null, toReview: 0, decision: null });

/** Whether an automatic run's failure was told already (a drive that is not connected fails every
 * run the same way: once is enough, until a run works again). */
let failureTold = false;
/** The devices whose request to join was told in a notice since the unlock. */
const askingTold = new Set<string>();
let waitingTold = false;
/** The last run told of (its status may come twice: from its event and from a status asked for). */
let lastTold: string | null = null;

/** This device as the status lists it (none before its first sync). */
export function thisDevice(status: SyncStatus | null): SyncDevice | null {
  return status?.devices.find((d) => d.thisDevice) ?? null;
}

/** The devices that ask this one to approve or refuse them: only an approved device decides. */
export function devicesAsking(status: SyncStatus | null): SyncDevice[] {
  if (thisDevice(status)?.state !== "approved") return [];
  return status!.devices.filter((d) => !d.thisDevice && d.state === "waiting");
}

/** This device's code while it waits to be approved. */
export function waitingCode(status: SyncStatus | null): string | null {
  const me = thisDevice(status);
  return me?.state === "waiting" ? (me.code ?? "") : null;
}

export function setSyncStatus(status: SyncStatus): void {
  syncState.status = status;
}

const DECIDED_NOTICE = { approved: "sync.device.approvedNotice", refused: "sync.device.refusedNotice", removed: "sync.device.removedNotice" } as const;

/** How the run that took a decision to the other devices went. */
function tellDecision(decision: PendingDecision, run: SyncRun): void {
  if (run.error) notify(`${t("sync.device.kept", { name: decision.name })} ${errorExplained(run.error)}`, "error", run.error.message);
  else notify(t(DECIDED_NOTICE[decision.state], { name: decision.name }), "success");
}

/** A decision about a device was made, and the run `jobId` takes it to the other devices (said
 * when that run ends; at once if it has ended already). */
export function decisionMade(decision: PendingDecision): void {
  const run = syncState.status?.lastRun;
  if (run?.jobId === decision.jobId) tellDecision(decision, run);
  else syncState.decision = decision;
}

/** A run ended: the new status, and what the person hears of it. Runs the person asked for say
 * how they went; automatic ones speak only of a first failure, of decisions, and of a device that
 * newly asks to join. The run that took a decision about a device says how that went. */
export function syncEnded(status: SyncStatus): void {
  syncState.status = status;
  const run = status.lastRun;
  if (!run || run.jobId === lastTold) return;
  lastTold = run.jobId;
  const decision = syncState.decision?.jobId === run.jobId ? syncState.decision : null;
  if (decision) {
    syncState.decision = null;
    tellDecision(decision, run);
  }
  if (run.error) {
    if (!decision && (!run.automatic || !failureTold)) notify(errorExplained(run.error), "error", run.error.message);
    if (run.automatic) failureTold = true;
    return;
  }
  failureTold = false;
  if (!run.report) return;
  if (!decision && !run.automatic) notify(t("sync.finished", { summary: reportSummary(run.report) }), run.report.stopped ? "info" : "success");
  if (run.report.conflicts.length) syncState.toReview = run.report.conflicts.length;
  // A run the person asked for says so in its summary; one in the background, once per device.
  for (const device of run.report.devicesAsking) {
    if (askingTold.has(device.id)) continue;
    askingTold.add(device.id);
    if (run.automatic) notify(t("sync.askingNotice", { name: device.name }), "info");
  }
  if (run.report.waitingForApproval !== null && !waitingTold) {
    waitingTold = true;
    notify(t("sync.waitingNotice", { code: run.report.waitingForApproval }), "info");
  }
}

/** Says why a decision could not go to the other devices at once (no run could start, or one was
 * going on already): it is kept and goes with the next run. */
export function decisionKept(name: string, error: AppError | null): void {
  notify(error ? `${t("sync.device.kept", { name })} ${errorExplained(error)}` : t("sync.device.kept", { name }), error ? "error" : "info", error?.message ?? null);
}

export function clearSync(): void {
  syncState.status = null;
  syncState.toReview = 0;
  syncState.decision = null;
  failureTold = false;
  askingTold.clear();
  waitingTold = false;
  lastTold = null;
}
