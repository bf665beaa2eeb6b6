// The whole backend in memory: the tests, the browser test and `npm run dev` run against it.
// It behaves like the Rust side where the window can tell (errors by kind, the name rule,
// back-off, recovery-key typos, jobs that move on timers, events), with a demo world to browse.
import type {
  AppChoice, AppError, AppInfo, BackupListing, ChangedEvent, Crumb, DialogPurpose, EditEvent,
  FolderNode, Handoff, InterruptedImport, ItemDetails, Job, LeftoverCopy, ListRequest, LockedEvent,
  LockReason, OpenEdit, OpenedSafe, Page, Problem, RecoveryKeySheet, RecoveryKeyTypo, SafeInfo,
  SafeSummary, SearchPage, SearchRequest, Settings, Strength, SyncConfigInfo, SyncConflict, SyncRun,
  SyncStatus, SyncTarget, TagCount, DeviceDecision, DeviceState, SyncDevice, BucketTarget, SyncConfigQr,
} from "../../bindings";
import type { Backend, Unlisten } from "../Backend";
import { BackendError, appErrorOf } from "../BackendError";
import {
  BIG_FOLDER_SIZE, BROKEN_RECENTS, DEMO_BACKUP, DEMO_SAFE_PATH, EXTRA_SAFES, HOME, buildDemoSafe, buildSmallSafe,
} from "./demo";
import { MemJob, type Step } from "./jobs";
import { nameProblem } from "./names";
import { keyTypo, normalise, randomKey } from "./recoveryKey";
import { MemSafe, newItem, toRow, type MemItem } from "./safe";
import { estimate } from "./strength";
import { CopySync, DeviceRemoved, ForeignTarget, MemTarget, newDevice, runSync, settle, type Decision, type MemDevice } from "./sync";
import { DEMO_QR_MODULES, QR_MAX_CHARACTERS, demoQrSvg } from "./qr";
import { bucketProblems, bucketTarget, describeBucket } from "../../sync/bucket";
import { appsFor, imageDataUrl, pdfDataUrl, previewKindOf, textDataUrl, videoUrl, wavDataUrl } from "./samples";

function fail(kind: AppError["kind"], message: string, extra: Partial<AppError> = {}): never {
  throw new BackendError({ kind, message, ...extra });
}

/** Resolves on a later turn, like an IPC answer. */
const later = <T>(value: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(value), 0));

interface Backup {
  safeId: string;
  password: string;
  lastCompleteMs: number;
  items: MemItem[];
}

/** The sync folder the demo's dialogs offer. */
export const DEMO_SYNC_FOLDER = "/media/demo/USB/Arca sync";

/** The S3-compatible service the demo's bucket form reaches (any other endpoint does not answer),
 * with its one bucket and access key. */
export const DEMO_S3 = {
  endpoint: "https://s3.eu-central-1.demo.example",
  region: "eu-central-1",
  bucket: "arca-demo",
  accessKeyId: "AKIADEMO7EXAMPLE",
  secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEMOKEY",
};

/** How the text form of a sync configuration begins (a QR code holds it). */
const CONFIG_TEXT = "ARCA-SYNC-CONFIG:";
/** What the demo's picture files start with; the QR code's text follows ("" for none). */
const PICTURE = "picture:";

/** The names the demo's copies give themselves as devices: the first computer, and one that
 * joined from a sync configuration. */
export const DEMO_DEVICE = "desk";
export const DEMO_JOINED_DEVICE = "laptop";

/** Where the demo's dragged-out copies would go (nothing is written anywhere). */
export const DEMO_DRAG_OUT_FOLDER = "/run/user/1000/arca/run-demo/out";

/** A copy an earlier run left changed, as the demo keeps it (the text it would take back). */
interface Leftover {
  copy: LeftoverCopy;
  text: string;
}

interface Interrupted {
  info: InterruptedImport;
  steps: Step[];
  into: string | null;
  pendingIds: string[];
}

export interface MemoryBackendOptions {
  /** Items in the demo Safe's big folder (tests use fewer). */
  bigFolderSize?: number;
  /** Where the back-off counters are kept across reloads (localStorage in a browser). */
  storage?: Storage | null;
  /** Milliseconds each call waits before answering (0: next turn). */
  latencyMs?: number;
}

export class MemoryBackend implements Backend {
  private readonly safes = new Map<string, MemSafe>();
  private readonly recents: string[] = [];
  private open: MemSafe | null = null;
  private readonly jobsById = new Map<string, MemJob>();
  private readonly interrupted = new Map<string, Map<string, Interrupted>>();
  private readonly backups = new Map<string, Backup>();
  private currentSettings: Settings = { autoLockMinutes: 15, lockOnSleep: true, theme: "system", language: "system" };
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = {
    job: new Set<(job: Job) => void>(),
    locked: new Set<(event: LockedEvent) => void>(),
    changed: new Set<(event: ChangedEvent) => void>(),
    dropped: new Set<(paths: string[], x: number, y: number) => void>(),
    edit: new Set<(event: EditEvent) => void>(),
    handoff: new Set<() => void>(),
    synced: new Set<(status: SyncStatus) => void>(),
  };
  private handoff: Handoff = { safe: null, files: [], missing: [], ignoredSafes: [], pageRestarted: false };
  /** The files open in "other apps" (only in this object: no app is started). */
  private readonly edits = new Map<string, OpenEdit>();
  private readonly leftovers = new Map<string, Leftover[]>();
  /** Whether the system has a folder in RAM (false: `noSecureArea`, no drag out). */
  secureArea = true;
  /** When set, `finishEdit` fails with `io` and this message (a save that cannot be taken back). */
  finishProblem: string | null = null;
  /** The drags whose copies "exist": drag id → the names in its folder. */
  readonly draggedOut = new Map<string, string[]>();
  private readonly bigFolderSize: number;
  private damagedSeen: string | null = null;
  private readonly storage: Storage | null;
  /** What the fake native dialogs answer, by purpose (tests may change it). */
  dialogAnswers: Record<DialogPurpose, string | string[] | null> = {
    newSafeLocation: `${HOME}/Documents`,
    openSafe: DEMO_SAFE_PATH,
    importFiles: [`${HOME}/Downloads/Quarterly report.pdf`, `${HOME}/Downloads/whiteboard.jpg`],
    importFolder: `${HOME}/Pictures/Garden`,
    exportTo: `${HOME}/Desktop`,
    backupTarget: DEMO_BACKUP,
    restoreLocation: `${HOME}/Restored`,
    syncTarget: DEMO_SYNC_FOLDER,
    syncConfig: `${HOME}/Desktop/Demo.arca-sync`,
    // A folder (ending in /): the suggested name is saved in it.
    saveSyncConfig: `${HOME}/Desktop/`,
    joinLocation: `${HOME}/Second copy`,
  };
  /** Files the app wrote (sync configurations), by path. */
  readonly files = new Map<string, string>();
  /** Sync folders that are not there now (a USB stick not plugged in). */
  readonly unreachable = new Set<string>();
  /** The S3 services that answer, their buckets, and their access keys (ID → secret). */
  readonly s3Endpoints = new Set<string>([DEMO_S3.endpoint]);
  readonly s3Buckets = new Set<string>([DEMO_S3.bucket]);
  readonly s3Keys = new Map<string, string>([[DEMO_S3.accessKeyId, DEMO_S3.secret]]);
  /** The most characters a QR code holds (tests lower it to see a configuration too large). */
  qrMaxCharacters = QR_MAX_CHARACTERS;
  /** The text of the QR code shown last (what a photo of it would hold). */
  lastQrText: string | null = null;
  private readonly syncTargets = new Map<string, MemTarget>();
  /** Each copy's sync state, by its path (two copies of one Safe sync on their own). */
  private readonly copies = new Map<string, CopySync>();
  private syncJob: MemJob | null = null;
  private lastSyncRun: SyncRun | null = null;
  private syncTimer: ReturnType<typeof setInterval> | null = null;

  constructor(options: MemoryBackendOptions = {}) {
    this.bigFolderSize = options.bigFolderSize ?? BIG_FOLDER_SIZE;
    this.storage = options.storage ?? null;
    this.recents.push(DEMO_SAFE_PATH, ...EXTRA_SAFES.map((e) => e.path), ...BROKEN_RECENTS.map((r) => r.path));
  }

  // --- Helpers -----------------------------------------------------------------------------

  /** The demo Safe is built on first use: 100,000 items take a moment. */
  private safeAt(path: string): MemSafe | undefined {
    if (!this.safes.has(path)) {
      const extra = EXTRA_SAFES.find((e) => e.path === path);
      if (extra) {
        const safe = buildSmallSafe(extra);
        this.loadBackoff(safe);
        this.safes.set(path, safe);
        if (extra.backup) {
          this.backups.set(extra.backup, { safeId: safe.id, password: safe.password, lastCompleteMs: Date.now() - 3 * 86_400_000, items: [...safe.items.values()].map((i) => ({ ...i, tags: [...i.tags] })) });
        }
      }
    }
    if (path === DEMO_SAFE_PATH && !this.safes.has(path)) {
      const safe = buildDemoSafe(this.bigFolderSize);
      this.loadBackoff(safe);
      this.safes.set(path, safe);
      this.backups.set(DEMO_BACKUP, {
        safeId: safe.id, password: safe.password, lastCompleteMs: Date.now() - 86_400_000,
        items: [...safe.items.values()].slice(0, 400).map((i) => ({ ...i, tags: [...i.tags] })),
      });
    }
    return this.safes.get(path);
  }

  private get safe(): MemSafe {
    if (!this.open) fail("safeLocked", "no Safe is unlocked");
    return this.open;
  }

  private writable(): MemSafe {
    const safe = this.safe;
    if (safe.readOnlyReason) fail("readOnly", `the Safe is read-only: ${safe.readOnlyReason}`);
    return safe;
  }

  private item(id: string): MemItem {
    const item = this.safe.items.get(id);
    if (!item) fail("notFound", `no item ${id}`);
    return item;
  }

  private liveItem(id: string): MemItem {
    const item = this.item(id);
    if (this.safe.inTrash(item)) fail("trashState", `${item.name} is in the trash`);
    return item;
  }

  private folderArg(folder: string | null): void {
    if (!this.safe.isFolder(folder)) fail("notFound", `no folder ${folder}`);
  }

  private changed(folders: Array<string | null>): void {
    const event = { folders: [...new Set(folders)] };
    for (const listener of this.listeners.changed) listener(event);
  }

  private emitJob = (job: Job): void => {
    for (const listener of this.listeners.job) listener(job);
  };

  private retryAfter(safe: MemSafe): number {
    return Math.max(0, Math.ceil((safe.notBefore - Date.now()) / 1000));
  }

  private backoffKey(safe: MemSafe): string {
    return `arca-demo-backoff-${safe.id}`;
  }

  private loadBackoff(safe: MemSafe): void {
    const saved = this.storage?.getItem(this.backoffKey(safe));
    if (!saved) return;
    const { failures, notBefore } = JSON.parse(saved) as { failures: number; notBefore: number };
    safe.failures = failures;
    safe.notBefore = notBefore;
  }

  private saveBackoff(safe: MemSafe): void {
    this.storage?.setItem(this.backoffKey(safe), JSON.stringify({ failures: safe.failures, notBefore: safe.notBefore }));
  }

  /** The back-off: refuse while waiting, count failures, reset on success. */
  private checkPassword(safe: MemSafe, password: string, wrong: AppError["kind"] = "wrongPassword", ok = password === safe.password): void {
    const wait = this.retryAfter(safe);
    if (wait > 0) fail("tryLater", `try again in ${wait} s`, { retryAfterSeconds: wait });
    if (!ok) {
      safe.failures += 1;
      safe.notBefore = Date.now() + Math.min(2 ** safe.failures, 300) * 1000;
      this.saveBackoff(safe);
      fail(wrong, wrong === "wrongPassword" ? "wrong password" : "wrong recovery key");
    }
    safe.failures = 0;
    safe.notBefore = 0;
    this.saveBackoff(safe);
  }

  private summary(path: string): SafeSummary {
    const broken = BROKEN_RECENTS.find((r) => r.path === path);
    const safe = broken ? undefined : this.safeAt(path);
    const name = path.split("/").filter(Boolean).pop()?.replace(/\.arca$/, "") ?? path;
    return {
      path,
      name: safe?.name ?? broken?.name ?? name,
      status: broken?.status ?? (safe ? "ready" : path.endsWith(".arca") ? "missing" : "notASafe"),
      hasRecoveryKey: !!safe && safe.recoveryKeys.size > 0,
      retryAfterSeconds: safe ? this.retryAfter(safe) : 0,
      lastOpenedMs: safe?.lastOpenedMs ?? (broken ? Date.now() - 40 * 86_400_000 : null),
    };
  }

  private info(safe: MemSafe): SafeInfo {
    let files = 0, folders = 0, bytes = 0, trashed = 0;
    for (const item of safe.items.values()) {
      if (item.trashedMs !== null) trashed += 1;
      if (safe.inTrash(item)) continue;
      if (item.kind === "folder") folders += 1;
      else { files += 1; bytes += item.size; }
    }
    return { files, folders, bytes, trashed };
  }

  private opened(safe: MemSafe, firstSync = false): OpenedSafe {
    this.open = safe;
    safe.lastOpenedMs = Date.now();
    this.recents.splice(0, this.recents.length, safe.path, ...this.recents.filter((p) => p !== safe.path));
    this.armIdle();
    this.lastSyncRun = null;
    this.armSync(firstSync);
    return {
      id: safe.id, name: safe.name, path: safe.path,
      readOnly: !!safe.readOnlyReason, readOnlyReason: safe.readOnlyReason,
      hasRecoveryKey: safe.recoveryKeys.size > 0,
      info: this.info(safe),
      interruptedImports: [...(this.interrupted.get(safe.id)?.values() ?? [])].map((i) => ({ ...i.info })),
    };
  }

  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const minutes = this.currentSettings.autoLockMinutes;
    if (this.open && minutes) this.idleTimer = setTimeout(() => void this.lock("idle"), minutes * 60_000);
  }

  private page(items: MemItem[], offset: number, limit: number): Page {
    return { total: items.length, offset, rows: items.slice(offset, offset + Math.min(limit, 1000)).map(toRow) };
  }

  private newPassword(password: string, acceptWeak: boolean, context: string[]): void {
    if (!password) fail("invalidInput", "a password is needed");
    if (!estimate(password, context).acceptable && !acceptWeak) fail("weakPassword", "the password is too weak");
  }

  // --- The app and the start screen -------------------------------------------------------

  appInfo(): Promise<AppInfo> {
    return later({ name: "Arca", version: "0.1.0-demo" });
  }

  async recentSafes(): Promise<SafeSummary[]> {
    return later(this.recents.map((p) => this.summary(p)));
  }

  async forgetRecentSafe(path: string): Promise<void> {
    const at = this.recents.indexOf(path);
    if (at >= 0) this.recents.splice(at, 1);
    return later(undefined);
  }

  async takeHandoff(): Promise<Handoff> {
    const taken = this.handoff;
    this.handoff = { safe: null, files: [], missing: [], ignoredSafes: [], pageRestarted: false };
    return later(taken);
  }

  /** What a file manager would do: hand the running app a Safe to open or files to add. */
  handOver(handoff: Partial<Handoff>): void {
    const waiting = this.handoff;
    this.handoff = {
      safe: handoff.safe ?? waiting.safe,
      files: [...waiting.files, ...(handoff.files ?? [])],
      missing: [...waiting.missing, ...(handoff.missing ?? [])],
      ignoredSafes: [...waiting.ignoredSafes, ...(handoff.ignoredSafes ?? [])],
      pageRestarted: waiting.pageRestarted || (handoff.pageRestarted ?? false),
    };
    for (const listener of this.listeners.handoff) listener();
  }

  async inspectSafe(path: string): Promise<SafeSummary> {
    return later(this.summary(path));
  }

  async chooseFolder(purpose: DialogPurpose): Promise<string | null> {
    // Choosing a backup to rebuild a damaged Safe: the demo offers that Safe's own backup.
    const damaged = this.damagedSeen ? EXTRA_SAFES.find((e) => e.path === this.damagedSeen)?.backup : undefined;
    if (purpose === "backupTarget" && !this.open && damaged) return later(damaged);
    const answer = this.dialogAnswers[purpose];
    return later(Array.isArray(answer) ? (answer[0] ?? null) : answer);
  }

  async chooseSaveFile(purpose: DialogPurpose, name: string): Promise<string | null> {
    const answer = this.dialogAnswers[purpose];
    const path = Array.isArray(answer) ? (answer[0] ?? null) : answer;
    return later(path === null ? null : path.endsWith("/") ? `${path}${name}` : path);
  }

  async chooseFiles(purpose: DialogPurpose): Promise<string[]> {
    const answer = this.dialogAnswers[purpose];
    return later(Array.isArray(answer) ? [...answer] : answer ? [answer] : []);
  }

  async passwordStrength(password: string, context: string[]): Promise<Strength> {
    return later(estimate(password, context));
  }

  async recoveryKeyTypo(text: string): Promise<RecoveryKeyTypo | null> {
    return later(keyTypo(text));
  }

  async createSafe(parent: string, name: string, password: string, acceptWeak: boolean): Promise<OpenedSafe> {
    await later(null);
    const problem = nameProblem(name);
    if (problem) fail("invalidName", problem);
    const path = `${parent.replace(/\/+$/, "")}/${name}.arca`;
    if (this.safeAt(path)) fail("alreadyExists", `${path} exists already`);
    this.newPassword(password, acceptWeak, [name]);
    const safe = new MemSafe(crypto.randomUUID(), name, path, password);
    this.safes.set(path, safe);
    return this.opened(safe);
  }

  async unlockSafe(path: string, password: string): Promise<OpenedSafe> {
    await later(null);
    const summary = this.summary(path);
    if (summary.status === "newer") fail("newerFormat", "written by a newer Arca");
    if (summary.status === "notASafe") fail("notASafe", `${path} is not an Arca Safe`);
    const safe = this.safeAt(path);
    if (!safe) fail("notFound", `nothing at ${path}`);
    this.checkPassword(safe, password);
    if (safe.damagedDatabase) {
      this.damagedSeen = path;
      fail("damagedDatabase", "the attribute database is damaged (page 12)");
    }
    return this.opened(safe);
  }

  async unlockWithRecoveryKey(path: string, recoveryKey: string, newPassword: string, acceptWeak: boolean): Promise<OpenedSafe> {
    await later(null);
    const safe = this.safeAt(path);
    if (!safe) fail("notFound", `nothing at ${path}`);
    if (safe.recoveryKeys.size === 0) fail("noRecoveryKey", "this Safe has no recovery key");
    const typo = keyTypo(recoveryKey);
    if (typo) fail("recoveryKeyTypo", "the recovery key is mistyped", { typo });
    this.newPassword(newPassword, acceptWeak, [safe.name]);
    this.checkPassword(safe, "", "wrongRecoveryKey", safe.recoveryKeys.has(normalise(recoveryKey)));
    safe.password = newPassword;
    return this.opened(safe);
  }

  async lockSafe(): Promise<void> {
    await later(null);
    this.lock("user");
  }

  /** Stops every job (imports become resumable), forgets the open Safe, tells the window. */
  lock(reason: LockReason): void {
    const safe = this.open;
    if (!safe) return;
    // Forgotten first, so a cancelled import sees a lock (keep for resume), not the person.
    this.open = null;
    for (const [id, job] of this.jobsById) {
      if (job.ended) continue;
      if (job.job.kind === "import") {
        const record = this.interrupted.get(safe.id)?.get(id);
        if (record) {
          record.steps = job.remaining();
          record.info = { ...record.info, paused: job.job.state === "paused", filesDone: job.job.filesDone,
            filesLeft: record.steps.length, bytesLeft: record.steps.reduce((s, x) => s + x.bytes, 0) };
        }
      }
      job.cancel();
    }
    this.jobsById.clear();
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = null;
    this.syncJob = null;
    this.lastSyncRun = null;
    // What the Rust side does on lock: each pending save comes back, then every copy is wiped.
    for (const edit of this.edits.values()) {
      const item = safe.items.get(edit.item);
      if (edit.unsaved && item) this.emitEdit({ kind: "saved", edit: edit.edit, item: edit.item, name: edit.name, size: item.size });
    }
    this.edits.clear();
    this.draggedOut.clear();
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const listener of this.listeners.locked) listener({ reason });
  }

  // --- Browsing ------------------------------------------------------------------------------

  async safeInfo(): Promise<SafeInfo> {
    return later(this.info(this.safe));
  }

  async listFolder(request: ListRequest): Promise<Page> {
    await later(null);
    this.folderArg(request.folder);
    const ids = this.safe.sortedChildren(request.folder, request.sort, request.descending);
    const limit = Math.min(request.limit, 1000);
    return {
      total: ids.length,
      offset: request.offset,
      rows: ids.slice(request.offset, request.offset + limit).map((id) => toRow(this.safe.items.get(id)!)),
    };
  }

  async folderChildren(folder: string | null): Promise<FolderNode[]> {
    await later(null);
    this.folderArg(folder);
    return this.safe.visibleChildren(folder)
      .filter((i) => i.kind === "folder")
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
      .map((i) => ({ id: i.id, name: i.name, hasSubfolders: this.safe.visibleChildren(i.id).some((c) => c.kind === "folder") }));
  }

  async breadcrumb(folder: string | null): Promise<Crumb[]> {
    await later(null);
    this.folderArg(folder);
    return [{ id: null, name: this.safe.name }, ...this.safe.ancestors(folder).map((a) => ({ id: a.id, name: a.name }))];
  }

  async itemDetails(id: string): Promise<ItemDetails> {
    await later(null);
    const item = this.item(id);
    return {
      row: toRow(item),
      path: this.safe.pathOf(id),
      createdMs: item.createdMs,
      comment: item.comment,
      inTrash: this.safe.inTrash(item),
      itemsInside: item.kind === "folder" ? this.safe.descendants(id).length : 0,
      preview: item.kind === "folder" ? "none" : previewKindOf(item.name),
    };
  }

  async favorites(offset: number, limit: number): Promise<Page> {
    await later(null);
    const items = [...this.safe.live()].filter((i) => i.favorite).sort((a, b) => a.name.localeCompare(b.name));
    return this.page(items, offset, limit);
  }

  async recentItems(offset: number, limit: number): Promise<Page> {
    await later(null);
    const when = (i: MemItem) => Math.max(i.addedMs, i.modifiedMs ?? 0);
    const items = [...this.safe.live()].filter((i) => i.kind === "file").sort((a, b) => when(b) - when(a)).slice(0, 200);
    return this.page(items, offset, limit);
  }

  async trashItems(offset: number, limit: number): Promise<Page> {
    await later(null);
    const items = [...this.safe.items.values()].filter((i) => i.trashedMs !== null).sort((a, b) => b.trashedMs! - a.trashedMs!);
    return this.page(items, offset, limit);
  }

  async tags(): Promise<TagCount[]> {
    await later(null);
    const counts = new Map<string, number>();
    for (const item of this.safe.live()) for (const tag of item.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    return [...counts].map(([name, items]) => ({ name, items })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async taggedItems(tag: string, offset: number, limit: number): Promise<Page> {
    await later(null);
    const items = [...this.safe.live()].filter((i) => i.tags.includes(tag)).sort((a, b) => a.name.localeCompare(b.name));
    return this.page(items, offset, limit);
  }

  async search(request: SearchRequest): Promise<SearchPage> {
    await later(null);
    const words = request.text.toLowerCase().split(/\s+/).filter(Boolean);
    if (request.folder !== null) this.folderArg(request.folder);
    const split = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    const hits = [];
    for (const item of this.safe.live()) {
      if (request.tag && !item.tags.includes(request.tag)) continue;
      if (request.favoritesOnly && !item.favorite) continue;
      if (request.folder !== null && (item.id === request.folder || !this.safe.isWithin(item.id, request.folder))) continue;
      const haystack = [...split(item.name), ...split(item.comment), ...item.tags.flatMap(split)];
      if (!words.every((w) => haystack.some((h) => h.startsWith(w)))) continue;
      hits.push(item);
    }
    hits.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    const limit = Math.min(request.limit, 1000);
    return {
      total: hits.length,
      offset: request.offset,
      hits: hits.slice(request.offset, request.offset + limit).map((item) => ({ row: toRow(item), folderPath: this.safe.pathOf(item.parent) })),
    };
  }

  // --- Organising ------------------------------------------------------------------------

  async createFolder(parent: string | null, name: string): Promise<string> {
    await later(null);
    const safe = this.writable();
    this.folderArg(parent);
    const problem = nameProblem(name);
    if (problem) fail("invalidName", problem);
    if (safe.childNamed(parent, name)) fail("nameClash", `${name} exists already`);
    const folder = safe.add(newItem(parent, name, "folder"));
    this.changed([parent]);
    return folder.id;
  }

  async renameItem(id: string, name: string): Promise<void> {
    await later(null);
    const safe = this.writable();
    const item = this.liveItem(id);
    const problem = nameProblem(name);
    if (problem) fail("invalidName", problem);
    if (item.name === name) return;
    if (safe.childNamed(item.parent, name)) fail("nameClash", `${name} exists already`);
    item.name = name;
    safe.touch(item.parent);
    this.changed([item.parent]);
  }

  async moveItems(ids: string[], folder: string | null): Promise<void> {
    await later(null);
    const safe = this.writable();
    this.folderArg(folder);
    const items = ids.map((id) => this.liveItem(id));
    for (const item of items) {
      if (item.kind === "folder" && safe.isWithin(folder, item.id)) fail("moveIntoItself", `${item.name} cannot go into itself`);
      const other = safe.childNamed(folder, item.name);
      if (other && other.id !== item.id) fail("nameClash", `${item.name} exists already there`);
    }
    const from = items.map((i) => i.parent);
    for (const item of items) if (item.parent !== folder) safe.move(item, folder);
    this.changed([...from, folder]);
  }

  async moveToTrash(ids: string[]): Promise<void> {
    await later(null);
    const safe = this.writable();
    const items = ids.map((id) => this.liveItem(id));
    const now = Date.now();
    for (const item of items) { item.trashedMs = now; safe.touch(item.parent); }
    this.changed(items.map((i) => i.parent));
  }

  async restoreFromTrash(ids: string[]): Promise<string[]> {
    await later(null);
    const safe = this.writable();
    const items = ids.map((id) => this.item(id));
    for (const item of items) if (item.trashedMs === null) fail("trashState", `${item.name} is not at the top of the trash`);
    const paths: string[] = [];
    for (const item of items) {
      if (item.parent !== null && !safe.isFolder(item.parent)) safe.move(item, null);
      item.name = safe.freeName(item.parent, item.name);
      item.trashedMs = null;
      safe.touch(item.parent);
      paths.push(safe.pathOf(item.id));
    }
    this.changed(items.map((i) => i.parent));
    return paths;
  }

  async emptyTrash(): Promise<number> {
    await later(null);
    const safe = this.writable();
    const top = [...safe.items.values()].filter((i) => i.trashedMs !== null);
    for (const item of top) safe.remove(item.id);
    return top.length;
  }

  async setFavorite(ids: string[], favorite: boolean): Promise<void> {
    await later(null);
    this.writable();
    const items = ids.map((id) => this.liveItem(id));
    for (const item of items) item.favorite = favorite;
    this.changed(items.map((i) => i.parent));
  }

  async setComment(id: string, comment: string): Promise<void> {
    await later(null);
    this.writable();
    const item = this.liveItem(id);
    if (comment.length > 10_000) fail("invalidInput", "a comment is at most 10,000 characters");
    item.comment = comment;
    this.changed([item.parent]);
  }

  private tagName(tag: string): string {
    const name = tag.trim();
    if (!name || name.length > 100 || /[\u0000-\u001f]/.test(name)) fail("invalidName", "a tag is 1 to 100 characters");
    return name;
  }

  async addTag(ids: string[], tag: string): Promise<void> {
    await later(null);
    this.writable();
    const name = this.tagName(tag);
    const items = ids.map((id) => this.liveItem(id));
    for (const item of items) if (!item.tags.includes(name)) item.tags = [...item.tags, name].sort();
    this.changed(items.map((i) => i.parent));
  }

  async removeTag(ids: string[], tag: string): Promise<void> {
    await later(null);
    this.writable();
    const items = ids.map((id) => this.liveItem(id));
    for (const item of items) item.tags = item.tags.filter((t) => t !== tag);
    this.changed(items.map((i) => i.parent));
  }

  async renameTag(from: string, to: string): Promise<void> {
    await later(null);
    const safe = this.writable();
    const name = this.tagName(to);
    const carriers = [...safe.items.values()].filter((i) => i.tags.includes(from));
    if (carriers.length === 0) fail("notFound", `no tag ${from}`);
    for (const item of carriers) item.tags = [...new Set(item.tags.map((t) => (t === from ? name : t)))].sort();
    this.changed(carriers.map((i) => i.parent));
  }

  async deleteTag(name: string): Promise<void> {
    await later(null);
    const safe = this.writable();
    const carriers = [...safe.items.values()].filter((i) => i.tags.includes(name));
    if (carriers.length === 0) fail("notFound", `no tag ${name}`);
    for (const item of carriers) item.tags = item.tags.filter((t) => t !== name);
    this.changed(carriers.map((i) => i.parent));
  }

  // --- Jobs ------------------------------------------------------------------------------

  private startJob(job: MemJob): Job {
    this.jobsById.set(job.job.id, job);
    return job.start();
  }

  /** What a path on "this computer" holds: a file by its extension, else a folder of photos. */
  private sourceFiles(path: string): Array<{ relative: string[]; bytes: number; unreadable?: boolean }> {
    const base = path.split("/").filter(Boolean).pop() ?? "import";
    if (/\.[a-z0-9]{2,4}$/i.test(base)) return [{ relative: [base], bytes: 1_800_000 + (base.length * 311_111) % 6_000_000 }];
    const files: Array<{ relative: string[]; bytes: number; unreadable?: boolean }> = Array.from({ length: 36 }, (_, i) => ({
      relative: [base, i < 30 ? `IMG_${String(i + 1).padStart(4, "0")}.jpg` : `Notes ${i - 29}.txt`],
      bytes: i < 30 ? 2_400_000 + ((i * 7_777_777) % 3_000_000) : 12_000,
    }));
    files.splice(17, 0, { relative: [base, "desktop.lock"], bytes: 4_096, unreadable: true });
    return files;
  }

  async importPaths(paths: string[], into: string | null): Promise<Job> {
    await later(null);
    const safe = this.writable();
    this.folderArg(into);
    if (paths.length === 0) fail("invalidInput", "nothing to import");
    const steps: Step[] = [];
    const pendingIds: string[] = [];
    const folders = new Map<string, string | null>();
    const touched = new Set<string | null>([into]);
    for (const source of paths) {
      for (const file of this.sourceFiles(source)) {
        let parent = into;
        for (const dir of file.relative.slice(0, -1)) {
          const key = `${parent}/${dir}`;
          if (!folders.has(key)) {
            const folder = safe.add(newItem(parent, safe.freeName(parent, dir), "folder"));
            folders.set(key, folder.id);
            pendingIds.push(folder.id);
          }
          parent = folders.get(key)!;
          touched.add(parent);
        }
        const name = file.relative.at(-1)!;
        const sourcePath = file.relative.length > 1 ? `${source}/${file.relative.slice(1).join("/")}` : source;
        if (file.unreadable) {
          steps.push({ path: sourcePath, bytes: file.bytes, run: (): Problem => ({ kind: "unreadable", path: sourcePath, message: "Permission denied (os error 13)" }) });
          continue;
        }
        const item = safe.add(newItem(parent, safe.freeName(parent, name), "file", { size: file.bytes, content: "pending" }));
        pendingIds.push(item.id);
        steps.push({
          path: sourcePath,
          bytes: file.bytes,
          run: () => {
            item.content = "present";
            this.changed([item.parent]);
            return null;
          },
        });
      }
    }
    const title = paths.length === 1 ? paths[0]!.split("/").pop()! : `${paths.length} items`;
    const record: Interrupted = {
      steps, into, pendingIds,
      info: { jobId: "", createdMs: Date.now(), paused: false, filesDone: 0, filesLeft: steps.length, bytesLeft: 0, sources: [...paths] },
    };
    const job = this.importJob(title, steps, record);
    this.changed([...touched]);
    return this.startJob(job);
  }

  private importJob(title: string, steps: Step[], record: Interrupted, alreadyDone?: { files: number; bytes: number }): MemJob {
    const safe = this.safe;
    const job: MemJob = new MemJob({
      id: record.info.jobId || undefined,
      kind: "import", title, phase: "encrypting", steps, bytesPerSecond: 180_000_000, emit: this.emitJob, alreadyDone,
      summary: (j) => `${j.filesDone - j.problems.length} files imported`,
      onEnd: (j) => {
        if (j.state === "cancelled" && this.open === safe) {
          // Cancelled by the person (not by a lock): what was not done goes away.
          for (const id of record.pendingIds) {
            const item = safe.items.get(id);
            if (item && item.content === "pending") safe.remove(id);
          }
          this.interrupted.get(safe.id)?.delete(j.id);
          this.changed([record.into]);
        } else if (j.state === "finished") {
          this.interrupted.get(safe.id)?.delete(j.id);
        }
      },
    });
    record.info.jobId = job.job.id;
    if (!this.interrupted.has(safe.id)) this.interrupted.set(safe.id, new Map());
    this.interrupted.get(safe.id)!.set(job.job.id, record);
    return job;
  }

  async resumeImport(jobId: string): Promise<Job> {
    await later(null);
    const safe = this.writable();
    const record = this.interrupted.get(safe.id)?.get(jobId);
    if (!record) fail("notFound", `no interrupted import ${jobId}`);
    const done = { files: record.info.filesDone, bytes: 0 };
    return this.startJob(this.importJob(record.info.sources.length === 1 ? record.info.sources[0]!.split("/").pop()! : `${record.info.sources.length} items`, record.steps, record, done));
  }

  async abandonImport(jobId: string): Promise<void> {
    await later(null);
    const safe = this.writable();
    const record = this.interrupted.get(safe.id)?.get(jobId);
    if (!record) fail("notFound", `no interrupted import ${jobId}`);
    for (const id of record.pendingIds) {
      const item = safe.items.get(id);
      if (item && (item.content === "pending" || (item.kind === "folder" && safe.visibleChildren(id).length === 0))) safe.remove(id);
    }
    this.interrupted.get(safe.id)!.delete(jobId);
    this.changed([record.into]);
  }

  private filesOf(ids: string[]): MemItem[] {
    const out: MemItem[] = [];
    for (const id of ids) {
      const item = this.liveItem(id);
      if (item.kind === "file") out.push(item);
      else out.push(...this.safe.descendants(id).filter((d) => d.kind === "file"));
    }
    return out;
  }

  async exportItems(ids: string[], to: string): Promise<Job> {
    await later(null);
    const safe = this.safe;
    const files = this.filesOf(ids);
    const steps: Step[] = files.map((f) => ({
      path: safe.pathOf(f.id),
      bytes: f.size,
      run: () => (f.content === "present" ? null : { kind: f.content === "pending" ? "pending" : "dataMissing", path: safe.pathOf(f.id), message: "its content is not in the Safe" }),
    }));
    const title = `${ids.length === 1 ? safe.items.get(ids[0]!)!.name : `${ids.length} items`} → ${to}`;
    return this.startJob(new MemJob({ kind: "export", title, phase: "decrypting", steps, bytesPerSecond: 400_000_000, emit: this.emitJob, summary: (j) => `${j.filesDone - j.problems.length} files exported` }));
  }

  async jobs(): Promise<Job[]> {
    return later([...this.jobsById.values()].map((j) => j.snapshot()));
  }

  private job(id: string): MemJob {
    const job = this.jobsById.get(id);
    if (!job) fail("notFound", `no job ${id}`);
    return job;
  }

  async pauseJob(id: string): Promise<void> { await later(null); this.job(id).pause(); }
  async resumeJob(id: string): Promise<void> { await later(null); this.job(id).resume(); }
  async cancelJob(id: string): Promise<void> { await later(null); this.job(id).cancel(); }

  async dismissJob(id: string): Promise<void> {
    await later(null);
    const job = this.job(id);
    if (!job.ended) fail("invalidInput", "a running job cannot be dismissed");
    this.jobsById.delete(id);
  }

  // --- Preview -------------------------------------------------------------------------------

  async previewUrl(id: string): Promise<string> {
    await later(null);
    const item = this.item(id);
    if (item.kind === "folder") fail("invalidInput", "a folder has no preview");
    if (item.content === "waiting") fail("waitingForSync", `${item.name}: its data has not arrived from another device yet`);
    if (item.content !== "present") fail("damaged", "its content is not in the Safe");
    switch (previewKindOf(item.name)) {
      case "image": return imageDataUrl(item.id, 1600, 1200);
      case "text": return textDataUrl(item.name, item.text);
      case "pdf": return pdfDataUrl(item.name.replace(/\.pdf$/i, ""));
      case "audio": return wavDataUrl();
      case "video": return videoUrl(item.id);
      default: fail("invalidInput", "no preview for this kind of file");
    }
  }

  async thumbnailUrl(id: string): Promise<string | null> {
    await later(null);
    const item = this.item(id);
    if (item.kind !== "file" || item.content !== "present" || previewKindOf(item.name) !== "image") return null;
    return imageDataUrl(item.id, 96, 72);
  }

  // --- Other apps ----------------------------------------------------------------------------

  private emitEdit(event: EditEvent): void {
    for (const listener of this.listeners.edit) listener(event);
  }

  private openEdit(editId: string): OpenEdit {
    const edit = this.edits.get(editId);
    if (!edit) fail("notFound", "that file is no longer open in another app");
    return edit;
  }

  async appsForItem(id: string): Promise<AppChoice[]> {
    await later(null);
    return appsFor(this.item(id).name);
  }

  async openInApp(id: string, app: string | null): Promise<OpenEdit> {
    await later(null);
    const item = this.liveItem(id);
    if (item.kind !== "file") fail("invalidInput", `${item.name} is not a file`);
    if (app !== null && !appsFor(item.name).some((a) => a.id === app)) fail("invalidInput", `${app} is not an app for this kind of file`);
    if (!this.secureArea) fail("noSecureArea", "no secure temporary storage: $XDG_RUNTIME_DIR is not set (no desktop login)");
    if (item.content === "pending") fail("notStoredYet", `${item.name} is still being imported`);
    if (item.content === "waiting") fail("waitingForSync", `${item.name}: its data has not arrived from another device yet`);
    if (item.content !== "present") fail("damaged", "its content is not in the Safe");
    const edit: OpenEdit = {
      edit: crypto.randomUUID().replaceAll("-", ""),
      item: id, name: item.name, path: this.safe.pathOf(id), unsaved: false, openElsewhere: true,
    };
    this.edits.set(edit.edit, edit);
    return { ...edit };
  }

  async openEdits(): Promise<OpenEdit[]> {
    return later([...this.edits.values()].map((e) => ({ ...e })));
  }

  /** What the other app would do: it saved `text` into the copy. The save comes back into the
   * Safe at once (new size and modified date, same item) and is announced, as on the Rust side. */
  simulateSave(editId: string, text: string): void {
    const edit = this.openEdit(editId);
    const item = this.open?.items.get(edit.item);
    if (!item) {
      edit.unsaved = true;
      this.emitEdit({ kind: "problem", edit: edit.edit, item: edit.item, name: edit.name, message: "the file is no longer in the Safe" });
      return;
    }
    item.text = text;
    item.size = new TextEncoder().encode(text).length;
    item.modifiedMs = Date.now();
    this.open!.touch(item.parent);
    edit.unsaved = false;
    this.emitEdit({ kind: "saved", edit: edit.edit, item: edit.item, name: edit.name, size: item.size });
    this.changed([item.parent]);
  }

  /** A save that could not be taken back (a full disk): the copy keeps it, marked unsaved. */
  simulateSaveProblem(editId: string, message: string): void {
    const edit = this.openEdit(editId);
    edit.unsaved = true;
    this.emitEdit({ kind: "problem", edit: edit.edit, item: edit.item, name: edit.name, message });
  }

  /** Whether the other app still has the copy open (it has, after `openInApp`). */
  setOpenElsewhere(editId: string, open: boolean): void {
    this.openEdit(editId).openElsewhere = open;
  }

  async finishEdit(editId: string): Promise<void> {
    await later(null);
    const safe = this.safe;
    const edit = this.openEdit(editId);
    if (this.finishProblem) {
      this.emitEdit({ kind: "problem", edit: edit.edit, item: edit.item, name: edit.name, message: this.finishProblem });
      fail("io", this.finishProblem);
    }
    const item = safe.items.get(edit.item);
    if (edit.unsaved && item) {
      this.emitEdit({ kind: "saved", edit: edit.edit, item: edit.item, name: edit.name, size: item.size });
      this.changed([item.parent]);
    }
    this.edits.delete(editId);
    this.emitEdit({ kind: "ended", edit: edit.edit, item: edit.item, name: edit.name });
  }

  async editsOpenElsewhere(): Promise<string[]> {
    return later([...this.edits.values()].filter((e) => e.openElsewhere).map((e) => e.name));
  }

  /** What a run that died would leave: a changed copy of the file at `path` of the Safe at
   * `safePath`, offered after that Safe's next unlock. */
  seedLeftover(safePath: string, path: string, options: { text?: string; modified?: number | null } = {}): LeftoverCopy {
    const safe = this.safeAt(safePath);
    if (!safe) throw new Error(`no Safe at ${safePath}`);
    const names = path.split("/").filter(Boolean);
    const parent = safe.folderAt(names.slice(0, -1).join("/"));
    const item = parent === undefined ? undefined : safe.childNamed(parent, names.at(-1) ?? "");
    if (!item) throw new Error(`nothing at ${path} in ${safePath}`);
    const copy: LeftoverCopy = { id: crypto.randomUUID().replaceAll("-", ""), item: item.id, name: item.name, path: safe.pathOf(item.id) };
    const modified = options.modified === undefined ? Date.now() - 3_600_000 : options.modified;
    if (modified !== null) copy.modified = modified;
    const list = this.leftovers.get(safe.id) ?? [];
    list.push({ copy, text: options.text ?? `${item.name}, changed after Arca stopped.` });
    this.leftovers.set(safe.id, list);
    return { ...copy };
  }

  async leftoverCopies(): Promise<LeftoverCopy[]> {
    await later(null);
    return (this.leftovers.get(this.safe.id) ?? []).map((l) => ({ ...l.copy }));
  }

  async settleLeftoverCopy(id: string, keep: boolean): Promise<void> {
    await later(null);
    const safe = this.safe;
    const list = this.leftovers.get(safe.id) ?? [];
    const at = list.findIndex((l) => l.copy.id === id);
    if (at < 0) fail("notFound", "that copy is gone");
    if (keep) {
      this.writable();
      const { copy, text } = list[at]!;
      const item = safe.items.get(copy.item);
      if (!item) fail("notFound", `${copy.name} is no longer in the Safe`);
      item.text = text;
      item.size = new TextEncoder().encode(text).length;
      item.modifiedMs = copy.modified ?? Date.now();
      safe.touch(item.parent);
      this.changed([item.parent]);
    }
    list.splice(at, 1);
  }

  async dragOutFolder(): Promise<string | null> {
    await later(null);
    void this.safe;
    return this.secureArea ? DEMO_DRAG_OUT_FOLDER : null;
  }

  async dragOut(ids: string[], drag: string): Promise<void> {
    await later(null);
    if (!/^[A-Za-z0-9]{1,64}$/.test(drag)) fail("invalidInput", "a drag is named by letters and digits");
    if (!this.secureArea) fail("noSecureArea", "no secure temporary storage");
    const items = ids.map((id) => this.liveItem(id));
    for (const item of this.filesOf(ids)) {
      if (item.content !== "present") fail("io", `${this.safe.pathOf(item.id)}: its content is not in the Safe`);
    }
    this.draggedOut.set(drag, items.map((i) => i.name));
  }

  async dragOutDone(drag: string): Promise<void> {
    await later(null);
    this.draggedOut.delete(drag);
  }

  // --- Backup ------------------------------------------------------------------------------

  private backupAt(target: string): Backup {
    const backup = this.backups.get(target);
    if (!backup) fail("notABackup", `${target} is not a backup`);
    return backup;
  }

  private simpleJob(kind: Job["kind"], title: string, phase: Job["phase"], files: MemItem[], onFinish: () => void, summary: string, problem?: (f: MemItem) => Problem | null): Job {
    const steps: Step[] = files.map((f) => ({ path: f.name, bytes: Math.max(f.size, 4096), run: () => problem?.(f) ?? null }));
    if (steps.length === 0) steps.push({ path: "", bytes: 4096 });
    return this.startJob(new MemJob({
      kind, title, phase, steps, bytesPerSecond: 600_000_000, filesPerTick: 250, emit: this.emitJob,
      summary: () => summary,
      onEnd: (j) => { if (j.state === "finished") onFinish(); },
    }));
  }

  async backupTo(target: string): Promise<Job> {
    await later(null);
    const safe = this.safe;
    const existing = this.backups.get(target);
    if (existing && existing.safeId !== safe.id) fail("foreignBackup", "this backup belongs to another Safe");
    const files = [...safe.live()].filter((i) => i.kind === "file").slice(0, 2000);
    return this.simpleJob("backup", target, "copying", files, () => {
      this.backups.set(target, {
        safeId: safe.id, password: safe.password, lastCompleteMs: Date.now(),
        items: [...safe.items.values()].slice(0, 5000).map((i) => ({ ...i, tags: [...i.tags] })),
      });
    }, "backup complete");
  }

  async verifyBackup(target: string, full: boolean): Promise<Job> {
    await later(null);
    const backup = this.backupAt(target);
    const files = backup.items.filter((i) => i.kind === "file").slice(0, full ? 2000 : 200);
    return this.simpleJob("verifyBackup", target, "verifying", files, () => {}, full ? "every file checked" : "quick check passed");
  }

  async listBackup(target: string): Promise<BackupListing> {
    await later(null);
    const backup = this.backupAt(target);
    const byId = new Map(backup.items.map((i) => [i.id, i]));
    const pathOf = (item: MemItem): string => {
      const names = [item.name];
      for (let p = item.parent ? byId.get(item.parent) : undefined; p; p = p.parent ? byId.get(p.parent) : undefined) names.unshift(p.name);
      return `/${names.join("/")}`;
    };
    const inTrash = (item: MemItem): boolean => {
      for (let p: MemItem | undefined = item; p; p = p.parent ? byId.get(p.parent) : undefined) if (p.trashedMs !== null) return true;
      return false;
    };
    return {
      lastCompleteMs: backup.lastCompleteMs,
      interrupted: false,
      entries: backup.items.map((i) => ({ path: pathOf(i), kind: i.kind, size: i.size, modifiedMs: i.modifiedMs, inTrash: inTrash(i) }))
        .sort((a, b) => a.path.localeCompare(b.path)),
    };
  }

  async restoreItems(target: string, paths: string[], into: string | null): Promise<Job> {
    await later(null);
    const safe = this.writable();
    const listing = await this.listBackup(target);
    const chosen = listing.entries.filter((e) => paths.some((p) => e.path === p || e.path.startsWith(`${p}/`)));
    if (chosen.length === 0) fail("notFound", "none of these items is in the backup");
    const files = chosen.filter((e) => e.kind === "file").map((e) => newItem(null, e.path, "file", { size: e.size }));
    return this.simpleJob("restoreItems", target, "decrypting", files, () => {
      for (const entry of chosen.filter((e) => paths.includes(e.path))) {
        const name = entry.path.split("/").pop()!;
        // `null`: back where it was, when that folder is still there (else the root).
        const parent = into ?? safe.folderAt(entry.path.split("/").slice(0, -1).join("/")) ?? null;
        const item = safe.add(newItem(parent, safe.freeName(parent, name), entry.kind, { size: entry.size, modifiedMs: entry.modifiedMs }));
        if (entry.kind === "folder") {
          for (const inside of chosen.filter((e) => e.path.startsWith(`${entry.path}/`) && e.kind === "file")) {
            safe.add(newItem(item.id, safe.freeName(item.id, inside.path.split("/").pop()!), "file", { size: inside.size, modifiedMs: inside.modifiedMs }));
          }
        }
      }
      this.changed([into, ...chosen.map((e) => safe.folderAt(e.path.split("/").slice(0, -1).join("/")) ?? null)]);
    }, `${files.length} files restored`);
  }

  async restoreBackup(target: string, password: string, parent: string, name: string): Promise<Job> {
    await later(null);
    const backup = this.backupAt(target);
    const problem = nameProblem(name);
    if (problem) fail("invalidName", problem);
    const path = `${parent.replace(/\/+$/, "")}/${name}.arca`;
    if (this.safeAt(path)) fail("alreadyExists", `${path} exists already`);
    if (password !== backup.password) fail("wrongPassword", "wrong password for this backup");
    return this.simpleJob("restoreBackup", `${target} → ${path}`, "copying", backup.items.filter((i) => i.kind === "file"), () => {
      const safe = new MemSafe(crypto.randomUUID(), name, path, password);
      const ids = new Map<string, string>();
      const pending = [...backup.items];
      // Parents before children: keep going round until every item found its parent.
      for (let round = 0; pending.length && round < 64; round++) {
        for (let i = 0; i < pending.length; i++) {
          const item = pending[i]!;
          if (item.parent !== null && !ids.has(item.parent)) continue;
          const copy = safe.add(newItem(item.parent === null ? null : ids.get(item.parent)!, item.name, item.kind, {
            size: item.size, modifiedMs: item.modifiedMs, addedMs: item.addedMs, createdMs: item.createdMs,
            trashedMs: item.trashedMs, favorite: item.favorite, tags: [...item.tags], content: item.content, comment: item.comment,
          }));
          ids.set(item.id, copy.id);
          pending.splice(i--, 1);
        }
      }
      this.safes.set(path, safe);
      this.recents.unshift(path);
    }, "restored into a new Safe");
  }

  async rebuildDatabase(safePath: string, password: string, target: string): Promise<Job> {
    await later(null);
    const safe = this.safeAt(safePath);
    if (!safe) fail("notFound", `nothing at ${safePath}`);
    const backup = this.backupAt(target);
    if (backup.safeId !== safe.id) fail("foreignBackup", "this backup belongs to another Safe");
    this.checkPassword(safe, password);
    return this.simpleJob("rebuild", target, "recording", backup.items.filter((i) => i.kind === "file").slice(0, 300), () => {
      safe.damagedDatabase = false;
    }, "database rebuilt");
  }

  // --- Sync ----------------------------------------------------------------------------------

  private copyOf(safe: MemSafe): CopySync {
    let copy = this.copies.get(safe.path);
    if (!copy) this.copies.set(safe.path, (copy = new CopySync(DEMO_DEVICE)));
    return copy;
  }

  private targetAt(path: string): MemTarget {
    let target = this.syncTargets.get(path);
    if (!target) this.syncTargets.set(path, (target = new MemTarget()));
    return target;
  }

  private status(safe: MemSafe): SyncStatus {
    const copy = this.copyOf(safe);
    const running = this.syncJob && !this.syncJob.ended ? this.syncJob.job.id : null;
    return {
      target: copy.target === null ? null : copy.bucket ? { kind: "s3", ...copy.bucket.settings } : { kind: "folder", path: copy.target },
      everyMinutes: copy.everyMinutes,
      running,
      lastSyncedMs: copy.lastSyncedMs,
      lastRun: this.lastSyncRun ? structuredClone(this.lastSyncRun) : null,
      devices: copy.devices(),
    };
  }

  private decision(safe: MemSafe, decision: Decision): SyncConflict {
    const item = decision.item ? safe.items.get(decision.item) : undefined;
    return {
      atMs: decision.at,
      kind: decision.kind,
      detail: decision.detail,
      item: item ? { id: item.id, parent: item.parent, name: item.name, path: safe.pathOf(item.id), kind: item.kind, inTrash: safe.inTrash(item) } : null,
    };
  }

  /** After an unlock: a run now and on the schedule, if the Safe syncs by itself (`first`: a copy
   * just joined, which syncs in any case). */
  private armSync(first: boolean): void {
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = null;
    const safe = this.open;
    if (!safe || safe.readOnlyReason) return;
    const copy = this.copyOf(safe);
    if (copy.target === null) return;
    if (first || copy.everyMinutes !== null) this.startSync(safe, !first);
    if (copy.everyMinutes !== null) {
      this.syncTimer = setInterval(() => {
        if (this.open === safe) this.startSync(safe, true);
      }, copy.everyMinutes * 60_000);
    }
  }

  private startSync(safe: MemSafe, automatic: boolean): Job {
    const copy = this.copyOf(safe);
    const path = copy.target;
    if (path === null) fail("noSyncTarget", "no sync target is set up for this Safe");
    if (safe.readOnlyReason) fail("readOnly", `the Safe is read-only: ${safe.readOnlyReason}`);
    if (this.syncJob && !this.syncJob.ended) return this.syncJob.snapshot();
    // Each run replaces the last one in the jobs panel.
    for (const [id, job] of this.jobsById) if (job.job.kind === "sync" && job.ended) this.jobsById.delete(id);
    let outcome: { report: SyncRun["report"]; decided: Decision[] } | null = null;
    const job = new MemJob({
      kind: "sync", title: path, phase: "copying", steps: [], bytesPerSecond: 1, emit: this.emitJob,
      summary: () => "synced",
      finish: () => {
        if (this.unreachable.has(path)) {
          return { kind: "syncTarget", message: `the sync target ${path}: No such file or directory (os error 2)` };
        }
        if (copy.bucket && !this.s3Endpoints.has(copy.bucket.settings.endpoint)) {
          return { kind: "syncTarget", message: `the sync target ${path}: send http request, source: error sending request` };
        }
        try {
          outcome = runSync(safe, copy, this.targetAt(path));
        } catch (cause) {
          if (cause instanceof ForeignTarget) return { kind: "foreignTarget", message: `the sync target ${path} is the sync target of another Safe` };
          if (cause instanceof DeviceRemoved) return { kind: "syncDevice", message: cause.message };
          return { kind: "syncTarget", message: `the sync target ${path}: ${(cause as Error).message}` };
        }
        return null;
      },
      onEnd: (ended) => {
        if (this.open !== safe) return;
        const found = outcome as { report: SyncRun["report"]; decided: Decision[] } | null;
        const report = found?.report ?? null;
        if (report) {
          report.conflicts = found!.decided.map((d) => this.decision(safe, d));
          report.stopped = ended.state === "cancelled";
          if (ended.state === "finished") copy.lastSyncedMs = Date.now();
          if (report.operationsReceived || report.filesReceived) this.changed([]);
        }
        this.lastSyncRun = { jobId: ended.id, finishedMs: Date.now(), automatic, report, error: ended.error };
        const status = this.status(safe);
        for (const listener of this.listeners.synced) listener(status);
      },
    });
    this.syncJob = job;
    return this.startJob(job);
  }

  async syncStatus(): Promise<SyncStatus> {
    await later(null);
    return this.status(this.safe);
  }

  async setSyncTarget(target: SyncTarget): Promise<SyncStatus> {
    await later(null);
    const safe = this.writable();
    if (target.kind === "s3") return this.setBucket(safe, target);
    if (target.kind !== "folder") fail("invalidInput", "only a folder or a bucket can be chosen as sync target here");
    if (!target.path.startsWith("/")) fail("invalidInput", "the sync folder must be an absolute path");
    if (target.path === safe.path || target.path.startsWith(`${safe.path}/`)) fail("invalidInput", "the sync folder is inside the Safe");
    if (this.unreachable.has(target.path)) fail("notFound", `${target.path} is not a folder on this device`);
    this.useTarget(safe, target.path, null);
    return this.status(safe);
  }

  /** Makes `key` the copy's target (a new one starts afresh: everything goes up with the next run). */
  private useTarget(safe: MemSafe, key: string, bucket: CopySync["bucket"]): void {
    const copy = this.copyOf(safe);
    if (copy.target !== key) {
      copy.target = key;
      copy.seen.clear();
      copy.sent.clear();
      copy.sentData.clear();
      copy.lastSyncedMs = null;
    }
    copy.bucket = bucket;
  }

  /** A bucket as target: its settings checked, then tried like the app tries it. */
  private setBucket(safe: MemSafe, target: BucketTarget): SyncStatus {
    const copy = this.copyOf(safe);
    const stored = copy.bucket?.settings ?? null;
    const form = { ...target, secretAccessKey: target.secretAccessKey ?? "" };
    const problem = Object.values(bucketProblems(form, stored))[0];
    if (problem) fail("invalidInput", `the bucket's settings are not accepted (${problem})`);
    const { secretAccessKey: typed, ...settings } = bucketTarget(form) as BucketTarget;
    const secret = typed ?? copy.bucket!.secret;
    const { endpoint, bucket, accessKeyId } = settings;
    if (!this.s3Endpoints.has(endpoint)) {
      fail("bucketUnreachable", `the S3 service at ${endpoint} could not be used: check the endpoint address (http or https, host and port), the region and the network (send http request, source: error sending request)`);
    }
    if (this.s3Keys.get(accessKeyId) !== secret) {
      fail("bucketAccessDenied", `${endpoint} refused the access key ${accessKeyId} for the bucket "${bucket}": check the access key ID and its secret, and that the key may read and write the bucket (the service answered with HTTP status 403)`);
    }
    if (!this.s3Buckets.has(bucket)) {
      fail("bucketNotFound", `there is no bucket "${bucket}" at ${endpoint} (or the access key ${accessKeyId} does not see it): NoSuchBucket: Bucket not found: ${bucket}`);
    }
    const key = describeBucket(settings);
    const there = this.syncTargets.get(key)?.safeId;
    if (there && there !== safe.id) {
      fail("foreignTarget", `the sync target ${key} is the sync target of another Safe (UUID ${there}); choose a target of its own for this Safe`);
    }
    this.useTarget(safe, key, { settings, secret });
    return this.status(safe);
  }

  async setSyncSchedule(everyMinutes: number | null): Promise<SyncStatus> {
    await later(null);
    if (everyMinutes !== null && (everyMinutes < 1 || everyMinutes > 1440)) fail("invalidInput", "sync runs every 1 to 1,440 minutes");
    const safe = this.safe;
    this.copyOf(safe).everyMinutes = everyMinutes;
    return this.status(safe);
  }

  async syncNow(): Promise<Job> {
    await later(null);
    return this.startSync(this.safe, false);
  }

  async syncConflicts(): Promise<SyncConflict[]> {
    await later(null);
    const safe = this.safe;
    return this.copyOf(safe).conflicts.map((d) => this.decision(safe, d));
  }

  async clearSyncConflicts(): Promise<void> {
    await later(null);
    this.copyOf(this.writable()).conflicts = [];
  }

  async exportSyncConfig(password: string, comment: string, to: string): Promise<void> {
    await later(null);
    const safe = this.safe;
    if (!to.startsWith("/")) fail("invalidInput", "where the sync configuration goes must be an absolute path");
    if (to.startsWith(`${safe.path}/`)) fail("invalidInput", "this folder is inside the Safe; choose one outside it");
    this.checkPassword(safe, password);
    const target = this.copyOf(safe).target;
    if (target === null) fail("noSyncTarget", "no sync target is set up for this Safe");
    if (this.copyOf(safe).me()?.state !== "approved") {
      fail("syncDevice", "this device cannot add others before it is approved itself: sync it once, and approve it on a device already syncing this Safe if it asks");
    }
    this.files.set(to, this.sealedConfig(safe, password, comment));
  }

  /** The demo's sync configuration of `safe` (the real one is sealed under the password). */
  private sealedConfig(safe: MemSafe, password: string, comment: string): string {
    const copy = this.copyOf(safe);
    return JSON.stringify({
      format: "arca-sync-config", safeId: safe.id, name: safe.name, password, target: copy.target, bucket: copy.bucket,
      comment: comment.trim(), exportedMs: Date.now(),
    });
  }

  async syncConfigQr(password: string, comment: string): Promise<SyncConfigQr> {
    await later(null);
    const safe = this.safe;
    this.checkPassword(safe, password);
    const copy = this.copyOf(safe);
    if (copy.target === null) fail("noSyncTarget", "no sync target is set up for this Safe");
    if (copy.me()?.state !== "approved") {
      fail("syncDevice", "this device cannot add others before it is approved itself: sync it once, and approve it on a device already syncing this Safe if it asks");
    }
    const text = `${CONFIG_TEXT}${this.sealedConfig(safe, password, comment)}`;
    this.lastQrText = text;
    // About what the app's text holds: the sealed configuration grows with each device.
    const characters = 1660 + 240 * Math.max(2, copy.known.length) + (copy.bucket ? 280 : 0);
    const fits = characters <= this.qrMaxCharacters;
    return { svg: fits ? demoQrSvg(text, DEMO_QR_MODULES) : null, modules: fits ? DEMO_QR_MODULES + 8 : 0, characters, maxCharacters: this.qrMaxCharacters };
  }

  /** A picture at `path` (a photo or screenshot) with a QR code holding `text`, or none. */
  picture(path: string, text: string | null): void {
    this.files.set(path, `${PICTURE}${text ?? ""}`);
  }

  private config(path: string, password: string): {
    safeId: string; name: string; password: string; target: string; bucket: CopySync["bucket"]; comment: string; exportedMs: number;
  } {
    let text = this.files.get(path);
    if (text === undefined) fail("notFound", `cannot read ${path}: No such file or directory (os error 2)`);
    if (text.startsWith(PICTURE)) {
      const code = text.slice(PICTURE.length);
      if (!code) fail("noQrCode", `${path} is an image, but no QR code was found in it`);
      if (!code.startsWith(CONFIG_TEXT)) fail("qrNotSyncConfig", `${path}: its QR code does not hold an Arca sync configuration`);
      text = code.slice(CONFIG_TEXT.length);
    }
    let config;
    try {
      config = JSON.parse(text) as ReturnType<MemoryBackend["config"]> & { format?: string };
    } catch {
      fail("badSyncConfig", "the sync configuration is not a sync configuration");
    }
    if (config.format !== "arca-sync-config") fail("badSyncConfig", "the sync configuration is not a sync configuration");
    if (config.password !== password) fail("wrongPassword", "the sync configuration does not open with this password (wrong password, or the file is damaged)");
    return config;
  }

  async readSyncConfig(path: string, password: string): Promise<SyncConfigInfo> {
    await later(null);
    const config = this.config(path, password);
    return {
      name: config.name, safeId: config.safeId,
      target: config.bucket ? { kind: "s3", ...config.bucket.settings } : { kind: "folder", path: config.target },
      exportedMs: config.exportedMs, comment: config.comment, targetHere: config.bucket !== null || !this.unreachable.has(config.target),
    };
  }

  async joinSafe(configPath: string, password: string, parent: string, name: string, targetHere: SyncTarget | null): Promise<OpenedSafe> {
    await later(null);
    const problem = nameProblem(name.trim());
    if (problem) fail("invalidName", problem);
    const path = `${parent.replace(/\/+$/, "")}/${name.trim()}.arca`;
    if (this.safeAt(path)) fail("alreadyExists", `${path} exists already`);
    const config = this.config(configPath, password);
    if (targetHere && targetHere.kind !== "folder") fail("invalidInput", "only where a folder is on this device can be given here, not a bucket");
    const folder = targetHere?.kind === "folder" ? targetHere.path : config.target;
    if (!config.bucket && this.unreachable.has(folder)) fail("notFound", `${folder} is not a folder on this device (is the drive connected?)`);
    const safe = new MemSafe(config.safeId, name.trim(), path, password);
    this.safes.set(path, safe);
    const copy = new CopySync(DEMO_JOINED_DEVICE);
    copy.joined = true;
    this.copies.set(path, copy);
    copy.target = folder;
    copy.bucket = config.bucket;
    settle(safe, copy);
    return this.opened(safe, true);
  }

  async syncDevices(): Promise<SyncDevice[]> {
    await later(null);
    return this.copyOf(this.safe).devices();
  }

  /** The device `id` as the open copy knows it, for a decision about it. */
  private toDecide(id: string, verb: string): { copy: CopySync; device: MemDevice; safe: MemSafe } {
    const safe = this.writable();
    const copy = this.copyOf(safe);
    if (copy.me()?.state !== "approved") {
      fail("syncDevice", `this device is not approved itself yet, so it cannot ${verb} others: approve it first on a device already syncing this Safe`);
    }
    const device = copy.known.find((d) => d.id === id);
    if (!device) fail("syncDevice", `no device ${id} is known to this Safe's sync (sync first to see new requests)`);
    return { copy, device, safe };
  }

  /** The devices after a decision, and the run that takes it to the others. */
  private decided(safe: MemSafe, copy: CopySync): DeviceDecision {
    const devices = copy.devices();
    if (this.syncJob && !this.syncJob.ended) return { devices, job: null, syncError: null };
    try {
      return { devices, job: this.startSync(safe, false), syncError: null };
    } catch (cause) {
      return { devices, job: null, syncError: appErrorOf(cause) };
    }
  }

  async approveDevice(id: string): Promise<DeviceDecision> {
    await later(null);
    const { copy, device, safe } = this.toDecide(id, "approve");
    if (device.state === "removed") {
      fail("syncDevice", `${device.name} was removed from this Safe's sync; a removed device joins again from a new sync configuration, as a new device`);
    }
    if (device.state === "waiting") copy.decide(device, "approved");
    return this.decided(safe, copy);
  }

  async removeDevice(id: string): Promise<DeviceDecision> {
    await later(null);
    const safe = this.writable();
    if (id === this.copyOf(safe).device.id) {
      fail("syncDevice", "this device cannot remove itself: remove it from another device of the Safe, or stop syncing it by choosing no sync target");
    }
    const { copy, device } = this.toDecide(id, "remove");
    if (device.state !== "removed") copy.decide(device, "removed");
    return this.decided(safe, copy);
  }

  /** Another computer asks to join through the sync folder `target` (it joined from a sync
   * configuration and synced once). Returns it, with its id and code. */
  otherDeviceAsksToJoin(target: string, name: string): MemDevice {
    const device = newDevice(name);
    this.targetAt(target).devices.set(device.id, device);
    return { ...device };
  }

  /** A device already syncing through `target` (named `by`) decides about the device `id` and
   * syncs: approves it, or removes it. */
  otherDeviceDecides(target: string, id: string, state: DeviceState, by: string): void {
    const device = this.targetAt(target).devices.get(id);
    if (!device) throw new Error(`${id} is not a device on ${target}`);
    Object.assign(device, { state, decidedBy: by, decidedMs: Date.now() });
  }

  /** The device the copy at `path` is (for tests that decide about it from "another device"). */
  deviceOf(path: string): MemDevice {
    const copy = this.copies.get(path);
    if (!copy) throw new Error(`${path} has never synced`);
    return { ...copy.device };
  }

  /** What another device of the Safe would leave on the sync folder `target`: a new file in the
   * folder at `folder` (a path of that Safe; "" for the root), with its data there too unless
   * `data` is false (a cloud client that has not brought it yet). Returns the file's id. */
  otherDeviceAddsFile(target: string, parent: string | null, name: string, size: number, data = true): string {
    const memTarget = this.targetAt(target);
    const item = newItem(parent, name, "file", { size });
    const version = 1;
    memTarget.versions.set(item.id, { item, version, dataVersion: version, deleted: false });
    if (data) memTarget.data.add(`${item.id}@${version}`);
    return item.id;
  }

  /** Another device renamed the item `id` and synced. */
  otherDeviceRenames(target: string, id: string, name: string): void {
    const version = this.targetAt(target).versions.get(id);
    if (!version) throw new Error(`${id} is not on ${target}`);
    version.item = { ...version.item, name };
    version.version += 1;
  }

  /** The data of every file on `target` arrives (the other device's cloud client caught up). */
  otherDeviceDataArrives(target: string): void {
    const memTarget = this.targetAt(target);
    for (const [id, version] of memTarget.versions) if (version.item.kind === "file") memTarget.data.add(`${id}@${version.dataVersion}`);
  }

  // --- Security and settings ------------------------------------------------------------

  async changePassword(current: string, newPassword: string, acceptWeak: boolean): Promise<void> {
    await later(null);
    const safe = this.writable();
    this.checkPassword(safe, current);
    this.newPassword(newPassword, acceptWeak, [safe.name]);
    safe.password = newPassword;
  }

  async createRecoveryKey(password: string): Promise<RecoveryKeySheet> {
    await later(null);
    const safe = this.writable();
    this.checkPassword(safe, password);
    const key = randomKey();
    safe.recoveryKeys = new Set([normalise(key)]);
    return { key, safeName: safe.name, safeId: safe.id, createdMs: Date.now() };
  }

  async settings(): Promise<Settings> {
    return later({ ...this.currentSettings });
  }

  async saveSettings(settings: Settings, password: string | null): Promise<void> {
    await later(null);
    const security =
      settings.autoLockMinutes !== this.currentSettings.autoLockMinutes || settings.lockOnSleep !== this.currentSettings.lockOnSleep;
    if (security) {
      if (password === null) fail("invalidInput", "the Safe Password is needed to change auto-lock");
      this.checkPassword(this.safe, password);
    }
    if (settings.autoLockMinutes !== null && (settings.autoLockMinutes < 1 || settings.autoLockMinutes > 1440)) {
      fail("invalidInput", "auto-lock is 1 to 1440 minutes");
    }
    this.currentSettings = { ...settings };
    this.armIdle();
  }

  async activity(): Promise<void> {
    this.armIdle();
    return later(undefined);
  }

  // --- Events ------------------------------------------------------------------------------

  private subscribe<T>(set: Set<T>, listener: T): Promise<Unlisten> {
    set.add(listener);
    return Promise.resolve(() => void set.delete(listener));
  }

  onJob(listener: (job: Job) => void): Promise<Unlisten> { return this.subscribe(this.listeners.job, listener); }
  onHandoff(listener: () => void): Promise<Unlisten> { return this.subscribe(this.listeners.handoff, listener); }
  onLocked(listener: (event: LockedEvent) => void): Promise<Unlisten> { return this.subscribe(this.listeners.locked, listener); }
  onChanged(listener: (event: ChangedEvent) => void): Promise<Unlisten> { return this.subscribe(this.listeners.changed, listener); }
  onSynced(listener: (status: SyncStatus) => void): Promise<Unlisten> { return this.subscribe(this.listeners.synced, listener); }
  onEdit(listener: (event: EditEvent) => void): Promise<Unlisten> { return this.subscribe(this.listeners.edit, listener); }
  onFilesDropped(listener: (paths: string[], x: number, y: number) => void): Promise<Unlisten> {
    return this.subscribe(this.listeners.dropped, listener);
  }

  /** What the desktop would do: files dropped on the window at (x, y). */
  dropFiles(paths: string[], x: number, y: number): void {
    for (const listener of this.listeners.dropped) listener(paths, x, y);
  }

  /** What the system would do: it went to sleep (locks when the setting says so). */
  sleep(): void {
    if (this.currentSettings.lockOnSleep) this.lock("sleep");
  }
}
