// Sync of the mock: copies of one Safe (each a MemSafe of the same id) keep in step through a
// target that holds every item's latest version and the versions of file data that were sent
// up. Like the real thing where the window can tell: a file whose data is not on the target
// yet waits ("waiting"), a change made on two copies is decided (the other copy's version
// wins) and noted, a target of another Safe is refused.
import type { ConflictKind, SyncReport } from "../../bindings";
import type { MemItem, MemSafe } from "./safe";

interface Version {
  item: MemItem;
  /** Counts up with each change sent. */
  version: number;
  /** The version whose data a file needs (its content last changed then). */
  dataVersion: number;
  deleted: boolean;
}

/** What a sync folder holds. */
export class MemTarget {
  safeId: string | null = null;
  readonly versions = new Map<string, Version>();
  /** `${id}@${dataVersion}` of the file data on the target. */
  readonly data = new Set<string>();
}

/** One copy's sync state. */
export class CopySync {
  target: string | null = null;
  everyMinutes: number | null = 15;
  lastSyncedMs: number | null = null;
  /** Item id → the target version this copy last took or sent. */
  readonly seen = new Map<string, number>();
  /** Item id → its fields when it last synced (a difference is a change made here). */
  readonly sent = new Map<string, string>();
  /** Item id → its data when it last synced. */
  readonly sentData = new Map<string, string>();
  /** What sync decided, newest first. */
  conflicts: Decision[] = [];
}

/** The target serves another Safe. */
export class ForeignTarget extends Error {}

/** One decision of sync, about an item. */
export interface Decision {
  at: number;
  item: string | null;
  kind: ConflictKind;
  detail: string;
}

const fields = (item: MemItem): string =>
  JSON.stringify([item.parent, item.name, item.trashedMs, item.favorite, item.tags, item.comment]);
const dataOf = (item: MemItem): string => JSON.stringify([item.size, item.modifiedMs, item.text ?? null]);

export function emptyReport(): SyncReport {
  return {
    operationsSent: 0, operationsReceived: 0, operationsWaiting: 0, filesSent: 0, bytesSent: 0,
    filesReceived: 0, bytesReceived: 0, filesWaiting: 0, filesRemoved: 0, conflicts: [], problems: [], stopped: false,
  };
}

/** Marks the copy's items as synced as they are (a copy that joined has nothing of its own). */
export function settle(safe: MemSafe, copy: CopySync): void {
  for (const item of safe.items.values()) {
    copy.sent.set(item.id, fields(item));
    copy.sentData.set(item.id, dataOf(item));
  }
}

/** One run: receive what other copies sent, send what changed here, fetch data that arrived.
 * Throws the message of a target that serves another Safe. */
export function runSync(safe: MemSafe, copy: CopySync, target: MemTarget): { report: SyncReport; decided: Decision[] } {
  if (target.safeId && target.safeId !== safe.id) throw new ForeignTarget();
  target.safeId = safe.id;
  const report = emptyReport();
  const decided: Decision[] = [];
  const ids = new Set<string>([...target.versions.keys(), ...safe.items.keys(), ...copy.sent.keys()]);
  for (const id of ids) {
    const remote = target.versions.get(id);
    const here = safe.items.get(id);
    const remoteChanged = !!remote && remote.version > (copy.seen.get(id) ?? 0);
    const localChanged = here ? copy.sent.get(id) !== fields(here) || copy.sentData.get(id) !== dataOf(here) : copy.sent.has(id);
    if (remoteChanged && remote) {
      if (localChanged && here && !remote.deleted) {
        decided.push({ at: Date.now(), item: id, kind: "field", detail: `“${here.name}” was changed on two devices before they synced; the other device's version was kept.` });
      }
      report.operationsReceived += 1;
      if (remote.deleted) {
        if (here) safe.remove(id);
      } else if (here) {
        const dataChanged = here.kind === "file" && dataOf(remote.item) !== dataOf(here);
        const { parent, content: _content, text: _text, ...rest } = remote.item;
        Object.assign(here, rest, { tags: [...remote.item.tags] });
        if (here.parent !== parent) safe.move(here, parent);
        if (dataChanged) {
          here.content = "waiting";
          here.text = remote.item.text;
        }
        safe.touch(here.parent);
      } else {
        safe.add({ ...remote.item, tags: [...remote.item.tags], content: remote.item.kind === "file" ? "waiting" : "none" });
      }
      copy.seen.set(id, remote.version);
    } else if (localChanged) {
      const version = (remote?.version ?? 0) + 1;
      report.operationsSent += 1;
      if (!here) {
        target.versions.set(id, { item: remote?.item ?? ({} as MemItem), version, dataVersion: remote?.dataVersion ?? 0, deleted: true });
      } else {
        const dataChanged = copy.sentData.get(id) !== dataOf(here);
        const dataVersion = here.kind === "file" && dataChanged ? version : (remote?.dataVersion ?? 0);
        target.versions.set(id, { item: { ...here, tags: [...here.tags] }, version, dataVersion, deleted: false });
        if (here.kind === "file" && dataChanged && here.content === "present") {
          target.data.add(`${id}@${dataVersion}`);
          report.filesSent += 1;
          report.bytesSent += here.size;
        }
      }
      copy.seen.set(id, version);
    }
    const now = safe.items.get(id);
    if (now) {
      copy.sent.set(id, fields(now));
      copy.sentData.set(id, dataOf(now));
    } else copy.sent.delete(id);
  }
  // Data that is on the target now arrives; what is not yet waits.
  for (const item of safe.items.values()) {
    if (item.content !== "waiting") continue;
    const version = target.versions.get(item.id);
    if (version && target.data.has(`${item.id}@${version.dataVersion}`)) {
      item.content = "present";
      report.filesReceived += 1;
      report.bytesReceived += item.size;
    } else report.filesWaiting += 1;
  }
  copy.conflicts = [...[...decided].reverse(), ...copy.conflicts];
  return { report, decided };
}
