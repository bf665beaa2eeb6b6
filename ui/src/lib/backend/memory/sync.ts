// Sync of the mock: copies of one Safe (each a MemSafe of the same id) keep in step through a
// target that holds every item's latest version and the versions of file data that were sent
// up. Like the real thing where the window can tell: a file whose data is not on the target
// yet waits ("waiting"), a change made on two copies is decided (the other copy's version
// wins) and noted, a target of another Safe is refused. Devices: the copy that sets a target up
// is approved at its first run; one that joined asks to join and sends nothing until a device
// already approved approves it; a removed one stops with an error. (The real thing keeps a
// waiting device's changes on the target until it is approved; here it keeps them itself.)
import type { BucketTarget, ConflictKind, DeviceState, SyncDevice, SyncReport } from "../../bindings";
import type { MemItem, MemSafe } from "./safe";

/** A device as the sync folder knows it: its request, and what was decided about it. */
export interface MemDevice {
  id: string;
  name: string;
  code: string;
  askedMs: number;
  state: DeviceState;
  decidedBy: string | null;
  decidedMs: number | null;
}

const CODE_SYMBOLS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** A code as the real thing shows one: four groups of five base-32 symbols. */
export function randomCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  const symbols = [...bytes].map((byte) => CODE_SYMBOLS[byte % 32]).join("");
  return symbols.match(/.{5}/g)!.join("-");
}

/** A device that is not this computer asks to join (its request on the target). */
export function newDevice(name: string, state: DeviceState = "waiting"): MemDevice {
  return { id: crypto.randomUUID(), name, code: randomCode(), askedMs: Date.now(), state, decidedBy: null, decidedMs: null };
}

/** This copy was removed: its runs stop, saying by whom. */
export class DeviceRemoved extends Error {
  constructor(readonly by: string) {
    super(`this device was removed from the Safe's sync by ${by}: it keeps its copy of the Safe, but no longer syncs. To sync it again, join from a new sync configuration, as a new device`);
  }
}

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
  /** Every device that asked to join, with what was decided about it. */
  readonly devices = new Map<string, MemDevice>();
}

/** One copy's sync state. */
export class CopySync {
  /** This copy as a device: its own id, name and code. */
  readonly device: MemDevice;
  /** Made from a sync configuration: it asks to join at its first run. */
  joined = false;
  /** The devices as this copy knows them since its last run (with its own decisions since). */
  known: MemDevice[] = [];
  /** Decisions made here that have not gone to the target yet. */
  pending: Array<{ device: string; state: DeviceState; at: number }> = [];
  /** The target's key among the sync targets: a folder's path, a bucket's address. */
  target: string | null = null;
  /** With a bucket as target: its settings, and the secret kept beside them. */
  bucket: { settings: BucketTarget; secret: string } | null = null;
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

  constructor(name: string) {
    this.device = newDevice(name, "waiting");
  }

  /** This copy as it knows itself (`null` before its first run). */
  me(): MemDevice | null {
    return this.known.find((d) => d.id === this.device.id) ?? null;
  }

  /** The devices for the window: this one first, then by name. */
  devices(): SyncDevice[] {
    return this.known.map((d) => ({
      id: d.id, name: d.name, code: d.code, state: d.state, thisDevice: d.id === this.device.id,
      askedMs: d.askedMs, decidedBy: d.decidedBy, decidedMs: d.decidedMs,
    }));
  }

  /** Decides about a device here; it goes to the target with the next run. */
  decide(device: MemDevice, state: DeviceState): void {
    const at = Date.now();
    Object.assign(device, { state, decidedBy: this.device.name, decidedMs: at });
    this.pending.push({ device: device.id, state, at });
  }
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
    waitingForApproval: null, devicesAsking: [],
  };
}

/** Marks the copy's items as synced as they are (a copy that joined has nothing of its own). */
export function settle(safe: MemSafe, copy: CopySync): void {
  for (const item of safe.items.values()) {
    copy.sent.set(item.id, fields(item));
    copy.sentData.set(item.id, dataOf(item));
  }
}

/** The devices on the target as `copy` sees them: itself first, then by name. */
function devicesSeen(copy: CopySync, target: MemTarget): MemDevice[] {
  const others = [...target.devices.values()].filter((d) => d.id !== copy.device.id).sort((a, b) => a.name.localeCompare(b.name));
  const me = target.devices.get(copy.device.id);
  return [...(me ? [me] : []), ...others].map((d) => ({ ...d }));
}

/** The device part of a run: decisions made here go to the target, this copy asks to join (or is
 * approved, when it set the target up), and learns where it stands. Throws DeviceRemoved. */
function syncDevices(copy: CopySync, target: MemTarget): MemDevice {
  for (const { device, state, at } of copy.pending) {
    const there = target.devices.get(device);
    if (there && there.state !== "removed") Object.assign(there, { state, decidedBy: copy.device.name, decidedMs: at });
  }
  copy.pending = [];
  if (!target.devices.has(copy.device.id)) {
    const first = !copy.joined && ![...target.devices.values()].some((d) => d.state === "approved");
    target.devices.set(copy.device.id, { ...copy.device, askedMs: Date.now(), state: first ? "approved" : "waiting" });
  }
  copy.known = devicesSeen(copy, target);
  const me = copy.me()!;
  if (me.state === "removed") throw new DeviceRemoved(me.decidedBy ?? "another device");
  return me;
}

/** One run: receive what other copies sent, send what changed here, fetch data that arrived.
 * Throws the message of a target that serves another Safe, and DeviceRemoved. */
export function runSync(safe: MemSafe, copy: CopySync, target: MemTarget): { report: SyncReport; decided: Decision[] } {
  if (target.safeId && target.safeId !== safe.id) throw new ForeignTarget();
  target.safeId = safe.id;
  const me = syncDevices(copy, target);
  // A device waiting to be approved sends nothing of its own.
  const sends = me.state === "approved";
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
    } else if (localChanged && !sends) {
      continue;
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
  if (sends) report.devicesAsking = copy.devices().filter((d) => !d.thisDevice && d.state === "waiting");
  else report.waitingForApproval = me.code;
  return { report, decided };
}
