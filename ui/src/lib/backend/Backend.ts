// The one interface the window talks to. `TauriBackend` implements it with the commands of
// src-tauri (src-tauri/src/commands.rs, one method per command, same name in snake_case);
// `MemoryBackend` implements it in memory for tests, the browser test and demos. Every type
// comes from ../bindings, generated from src-tauri/src/dto.rs: never declare one here.
//
// A failing call rejects with a `BackendError` whose `error` is the AppError of the Rust side.
import type {
  AppChoice,
  AppInfo,
  BackupListing,
  Crumb,
  DialogPurpose,
  FolderNode,
  ItemDetails,
  Job,
  ListRequest,
  OpenedSafe,
  Page,
  RecoveryKeySheet,
  RecoveryKeyTypo,
  SafeInfo,
  SafeSummary,
  SearchPage,
  SearchRequest,
  Settings,
  Strength,
  TagCount,
  ChangedEvent,
  EditEvent,
  Handoff,
  LeftoverCopy,
  LockedEvent,
  OpenEdit,
  DeviceDecision,
  SyncConfigInfo,
  SyncConfigQr,
  SyncConflict,
  SyncDevice,
  SyncStatus,
  SyncTarget,
} from "../bindings";

/** Stops listening to an event. */
export type Unlisten = () => void;

export interface Backend {
  // --- The app and the start screen -------------------------------------------------------
  appInfo(): Promise<AppInfo>;
  /** Safes opened before, most recent first (never their passwords). */
  recentSafes(): Promise<SafeSummary[]>;
  forgetRecentSafe(path: string): Promise<void>;
  /** What other programs handed over (the command line, a file manager) since the last call. */
  takeHandoff(): Promise<Handoff>;
  /** What is at `path` (a folder the person chose or dropped on the start screen). */
  inspectSafe(path: string): Promise<SafeSummary>;
  /** A native dialog; `null` when cancelled. Files for `importFiles`, else one folder. */
  chooseFolder(purpose: DialogPurpose): Promise<string | null>;
  chooseFiles(purpose: DialogPurpose): Promise<string[]>;
  /** A native save dialog suggesting the file name `name`; `null` when cancelled. */
  chooseSaveFile(purpose: DialogPurpose, name: string): Promise<string | null>;
  passwordStrength(password: string, context: string[]): Promise<Strength>;
  /** Checks the form of a typed recovery key without trying it: `null` when well-formed. */
  recoveryKeyTypo(text: string): Promise<RecoveryKeyTypo | null>;
  /** Creates `<parent>/<name>.arca` and opens it. Fails with `weakPassword` unless acceptable or `acceptWeak`. */
  createSafe(parent: string, name: string, password: string, acceptWeak: boolean): Promise<OpenedSafe>;
  /** Fails with `wrongPassword`, or `tryLater` with `retryAfterSeconds`. */
  unlockSafe(path: string, password: string): Promise<OpenedSafe>;
  /** Opens with the recovery key and sets `newPassword` as the Safe Password. */
  unlockWithRecoveryKey(
    path: string,
    recoveryKey: string,
    newPassword: string,
    acceptWeak: boolean,
  ): Promise<OpenedSafe>;
  /** Cancels running jobs (imports stay resumable), closes previews, drops every key. */
  lockSafe(): Promise<void>;

  // --- Browsing (all on the unlocked Safe) ---------------------------------------------
  safeInfo(): Promise<SafeInfo>;
  listFolder(request: ListRequest): Promise<Page>;
  /** The subfolders of `folder` (`null`: the root), by name. */
  folderChildren(folder: string | null): Promise<FolderNode[]>;
  breadcrumb(folder: string | null): Promise<Crumb[]>;
  itemDetails(id: string): Promise<ItemDetails>;
  favorites(offset: number, limit: number): Promise<Page>;
  /** Most recently added or changed files. */
  recentItems(offset: number, limit: number): Promise<Page>;
  /** Items at the top of the trash, most recently trashed first. */
  trashItems(offset: number, limit: number): Promise<Page>;
  tags(): Promise<TagCount[]>;
  taggedItems(tag: string, offset: number, limit: number): Promise<Page>;
  search(request: SearchRequest): Promise<SearchPage>;

  // --- Organising ------------------------------------------------------------------------
  createFolder(parent: string | null, name: string): Promise<string>;
  renameItem(id: string, name: string): Promise<void>;
  moveItems(ids: string[], folder: string | null): Promise<void>;
  moveToTrash(ids: string[]): Promise<void>;
  /** Back into their folders; returns where each went (a path inside the Safe). */
  restoreFromTrash(ids: string[]): Promise<string[]>;
  /** Deletes everything in the trash for good; returns how many items. */
  emptyTrash(): Promise<number>;
  setFavorite(ids: string[], favorite: boolean): Promise<void>;
  setComment(id: string, comment: string): Promise<void>;
  addTag(ids: string[], tag: string): Promise<void>;
  removeTag(ids: string[], tag: string): Promise<void>;
  renameTag(from: string, to: string): Promise<void>;
  deleteTag(name: string): Promise<void>;

  // --- Jobs ------------------------------------------------------------------------------
  /** Imports files and folders of this computer into `into` (`null`: the root). */
  importPaths(paths: string[], into: string | null): Promise<Job>;
  exportItems(ids: string[], to: string): Promise<Job>;
  jobs(): Promise<Job[]>;
  pauseJob(id: string): Promise<void>;
  resumeJob(id: string): Promise<void>;
  cancelJob(id: string): Promise<void>;
  /** Removes a finished, failed or cancelled job from the panel. */
  dismissJob(id: string): Promise<void>;
  resumeImport(jobId: string): Promise<Job>;
  /** Removes what an interrupted import had added (nothing else). */
  abandonImport(jobId: string): Promise<void>;

  // --- Preview -----------------------------------------------------------------------------
  /** A URL (custom protocol, supports range requests) the window loads into <img>, <video>, … */
  previewUrl(id: string): Promise<string>;
  /** A small image for the list, made in memory; `null` when the file is no image. */
  thumbnailUrl(id: string): Promise<string | null>;

  // --- Other apps (the copy lives in RAM; every save comes back into the Safe) ---------------
  /** The apps the desktop lists for this file's type (not the default app: `openInApp(id, null)`). */
  appsForItem(id: string): Promise<AppChoice[]>;
  /** Opens a live file in `app` (an `AppChoice` id), or in the desktop's default app for `null`.
   * Fails with `noSecureArea` where the system has no folder in RAM (no desktop login). */
  openInApp(id: string, app: string | null): Promise<OpenEdit>;
  /** The files open in other apps, with whether a save is pending and whether an app still has it. */
  openEdits(): Promise<OpenEdit[]>;
  /** Takes back the last save and wipes the copy. Fails with `io` when the save cannot be taken
   * back (a full disk): the edit then stays open. */
  finishEdit(edit: string): Promise<void>;
  /** The names of the files another program still has open (what locking now would lose). */
  editsOpenElsewhere(): Promise<string[]>;
  /** Copies of this Safe's files that an earlier run left changed (it stopped before taking the
   * last save back); offered after unlock. */
  leftoverCopies(): Promise<LeftoverCopy[]>;
  /** `keep`: takes the copy back into the Safe as its file; else deletes it. */
  settleLeftoverCopy(id: string, keep: boolean): Promise<void>;
  /** The folder (in RAM) dragged-out copies go to; `null`: no drag out on this system. */
  dragOutFolder(): Promise<string | null>;
  /** Exports the i-th item into `<dragOutFolder>/<drag>/<i>/<name>`, each appearing only once complete.
   * `drag` is letters and digits. */
  dragOut(ids: string[], drag: string): Promise<void>;
  /** Removes the copies of a drag that was cancelled or dropped back inside the window. */
  dragOutDone(drag: string): Promise<void>;

  // --- Backup ------------------------------------------------------------------------------
  backupTo(target: string): Promise<Job>;
  verifyBackup(target: string, full: boolean): Promise<Job>;
  listBackup(target: string): Promise<BackupListing>;
  /** Restores items (paths in the backed-up Safe) into the open Safe: `into` a folder, or `null` for where they were. */
  restoreItems(target: string, paths: string[], into: string | null): Promise<Job>;
  /** Restores a whole backup into a new Safe `<parent>/<name>.arca` (no Safe needs to be open). */
  restoreBackup(target: string, password: string, parent: string, name: string): Promise<Job>;
  /** Rebuilds a damaged attribute database from a backup. The Safe stays locked: once the job
   * has finished, the window unlocks it as usual. */
  rebuildDatabase(safePath: string, password: string, target: string): Promise<Job>;

  // --- Sync between devices ---------------------------------------------------------------
  /** The open Safe's target, schedule, run going on and last run. */
  syncStatus(): Promise<SyncStatus>;
  /** Where the open Safe syncs to: a folder that exists, outside the Safe; or a bucket, tried
   * first (fails with `bucketUnreachable`, `bucketAccessDenied`, `bucketNotFound` or
   * `foreignTarget`, and `invalidInput` naming a field that is wrong; nothing is stored then). A
   * bucket's secret left out is the stored one, if the endpoint and key ID are the same. The same
   * target again changes nothing; a new one starts afresh there. */
  setSyncTarget(target: SyncTarget): Promise<SyncStatus>;
  /** Sync after each unlock and every `everyMinutes` (1–1440) while unlocked; `null`: only when asked. */
  setSyncSchedule(everyMinutes: number | null): Promise<SyncStatus>;
  /** Starts a sync run (or returns the one running). Fails with `noSyncTarget` without a target. */
  syncNow(): Promise<Job>;
  /** What sync decided for the person, newest first. */
  syncConflicts(): Promise<SyncConflict[]>;
  /** Forgets what sync decided (the person has seen it). */
  clearSyncConflicts(): Promise<void>;
  /** Writes the sync configuration (target and keys, sealed under the Safe Password) to `to`.
   * Fails with `wrongPassword` (nothing written) when the password is not the Safe's. */
  exportSyncConfig(password: string, comment: string, to: string): Promise<void>;
  /** The same sealed configuration as a QR code to show (nothing is written): its SVG, or `null`
   * when it is too large for one. Fails with `wrongPassword` like the export. */
  syncConfigQr(password: string, comment: string): Promise<SyncConfigQr>;
  /** What the configuration at `path` (its file, or a PNG/JPEG picture of its QR code) says; fails
   * with `wrongPassword` when the password does not open it, `badSyncConfig` when it is no sync
   * configuration, `noQrCode` / `qrNotSyncConfig` for a picture without one. */
  readSyncConfig(path: string, password: string): Promise<SyncConfigInfo>;
  /** Makes `<parent>/<name>.arca`, a new copy of the configuration's Safe on this device, syncing
   * through its target (or `targetHere`), opens it and starts its first run. */
  joinSafe(config: string, password: string, parent: string, name: string, targetHere: SyncTarget | null): Promise<OpenedSafe>;
  /** The devices syncing the open Safe as it knows them (after its last sync), this one first. */
  syncDevices(): Promise<SyncDevice[]>;
  /** Approves a device that asks to join, then starts a sync that takes the approval to the
   * others. Fails with `syncDevice` when this device is not approved itself, or the other was
   * removed or never asked. */
  approveDevice(id: string): Promise<DeviceDecision>;
  /** Removes a device (or refuses one that asks), then starts a sync that takes it to the others.
   * Fails with `syncDevice` for this device itself, or when this one is not approved. */
  removeDevice(id: string): Promise<DeviceDecision>;

  // --- Security and settings (the Safe Password is asked again) ---------------------------
  changePassword(current: string, newPassword: string, acceptWeak: boolean): Promise<void>;
  createRecoveryKey(password: string): Promise<RecoveryKeySheet>;
  settings(): Promise<Settings>;
  /** `password` is needed when the auto-lock settings change (a security setting). */
  saveSettings(settings: Settings, password: string | null): Promise<void>;
  /** The person did something: resets the idle timer of auto-lock (call at most every few seconds). */
  activity(): Promise<void>;

  // --- Events ------------------------------------------------------------------------------
  onJob(listener: (job: Job) => void): Promise<Unlisten>;
  /** Another program handed something over: call `takeHandoff`. */
  onHandoff(listener: () => void): Promise<Unlisten>;
  onLocked(listener: (event: LockedEvent) => void): Promise<Unlisten>;
  onChanged(listener: (event: ChangedEvent) => void): Promise<Unlisten>;
  /** A sync run of the open Safe ended: its status, with the run's report or error. */
  onSynced(listener: (status: SyncStatus) => void): Promise<Unlisten>;
  /** A save in another app was taken back into the Safe (`saved`), could not be (`problem`), or
   * an edit ended. A `changed` event for the file's folder follows each save. */
  onEdit(listener: (event: EditEvent) => void): Promise<Unlisten>;
  /** Files dropped on the window from the desktop, with the drop position in CSS pixels. */
  onFilesDropped(listener: (paths: string[], x: number, y: number) => void): Promise<Unlisten>;
}
