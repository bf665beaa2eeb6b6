// The Backend of the real app: one `invoke` per method, the command named as the method in
// snake_case, its arguments one object keyed by the parameter names (Tauri maps camelCase
// arguments to the Rust parameters).
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import type {
  AppChoice, AppInfo, BackupListing, ChangedEvent, Crumb, DialogPurpose, EditEvent, FolderNode, Handoff,
  ItemDetails, Job, LeftoverCopy, ListRequest, LockedEvent, OpenEdit, OpenedSafe, Page,
  RecoveryKeySheet, RecoveryKeyTypo, SafeInfo, SafeSummary, SearchPage, SearchRequest, Settings,
  Strength, SyncConfigInfo, SyncConfigQr, SyncConflict, SyncStatus, SyncTarget, TagCount, DeviceDecision, SyncDevice,
} from "../bindings";
import type { Backend, Unlisten } from "./Backend";
import { toBackendError } from "./BackendError";

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (cause) {
    throw toBackendError(cause);
  }
}

async function on<T>(event: string, listener: (payload: T) => void): Promise<Unlisten> {
  return listen<T>(event, (e) => listener(e.payload));
}

export class TauriBackend implements Backend {
  appInfo = () => call<AppInfo>("app_info");
  recentSafes = () => call<SafeSummary[]>("recent_safes");
  forgetRecentSafe = (path: string) => call<void>("forget_recent_safe", { path });
  takeHandoff = () => call<Handoff>("take_handoff");
  inspectSafe = (path: string) => call<SafeSummary>("inspect_safe", { path });
  chooseFolder = (purpose: DialogPurpose) => call<string | null>("choose_folder", { purpose });
  chooseFiles = (purpose: DialogPurpose) => call<string[]>("choose_files", { purpose });
  chooseSaveFile = (purpose: DialogPurpose, name: string) =>
    call<string | null>("choose_save_file", { purpose, name });
  passwordStrength = (password: string, context: string[]) =>
    call<Strength>("password_strength", { password, context });
  recoveryKeyTypo = (text: string) => call<RecoveryKeyTypo | null>("recovery_key_typo", { text });
  createSafe = (parent: string, name: string, password: string, acceptWeak: boolean) =>
    call<OpenedSafe>("create_safe", { parent, name, password, acceptWeak });
  unlockSafe = (path: string, password: string) => call<OpenedSafe>("unlock_safe", { path, password });
  unlockWithRecoveryKey = (path: string, recoveryKey: string, newPassword: string, acceptWeak: boolean) =>
    call<OpenedSafe>("unlock_with_recovery_key", { path, recoveryKey, newPassword, acceptWeak });
  lockSafe = () => call<void>("lock_safe");

  safeInfo = () => call<SafeInfo>("safe_info");
  listFolder = (request: ListRequest) => call<Page>("list_folder", { request });
  folderChildren = (folder: string | null) => call<FolderNode[]>("folder_children", { folder });
  breadcrumb = (folder: string | null) => call<Crumb[]>("breadcrumb", { folder });
  itemDetails = (id: string) => call<ItemDetails>("item_details", { id });
  favorites = (offset: number, limit: number) => call<Page>("favorites", { offset, limit });
  recentItems = (offset: number, limit: number) => call<Page>("recent_items", { offset, limit });
  trashItems = (offset: number, limit: number) => call<Page>("trash_items", { offset, limit });
  tags = () => call<TagCount[]>("tags");
  taggedItems = (tag: string, offset: number, limit: number) =>
    call<Page>("tagged_items", { tag, offset, limit });
  search = (request: SearchRequest) => call<SearchPage>("search", { request });

  createFolder = (parent: string | null, name: string) => call<string>("create_folder", { parent, name });
  renameItem = (id: string, name: string) => call<void>("rename_item", { id, name });
  moveItems = (ids: string[], folder: string | null) => call<void>("move_items", { ids, folder });
  moveToTrash = (ids: string[]) => call<void>("move_to_trash", { ids });
  restoreFromTrash = (ids: string[]) => call<string[]>("restore_from_trash", { ids });
  emptyTrash = () => call<number>("empty_trash");
  setFavorite = (ids: string[], favorite: boolean) => call<void>("set_favorite", { ids, favorite });
  setComment = (id: string, comment: string) => call<void>("set_comment", { id, comment });
  addTag = (ids: string[], tag: string) => call<void>("add_tag", { ids, tag });
  removeTag = (ids: string[], tag: string) => call<void>("remove_tag", { ids, tag });
  renameTag = (from: string, to: string) => call<void>("rename_tag", { from, to });
  deleteTag = (name: string) => call<void>("delete_tag", { name });

  importPaths = (paths: string[], into: string | null) => call<Job>("import_paths", { paths, into });
  exportItems = (ids: string[], to: string) => call<Job>("export_items", { ids, to });
  jobs = () => call<Job[]>("jobs");
  pauseJob = (id: string) => call<void>("pause_job", { id });
  resumeJob = (id: string) => call<void>("resume_job", { id });
  cancelJob = (id: string) => call<void>("cancel_job", { id });
  dismissJob = (id: string) => call<void>("dismiss_job", { id });
  resumeImport = (jobId: string) => call<Job>("resume_import", { jobId });
  abandonImport = (jobId: string) => call<void>("abandon_import", { jobId });

  previewUrl = (id: string) => call<string>("preview_url", { id });
  thumbnailUrl = (id: string) => call<string | null>("thumbnail_url", { id });

  appsForItem = (id: string) => call<AppChoice[]>("apps_for_item", { id });
  openInApp = (id: string, app: string | null) => call<OpenEdit>("open_in_app", { id, app });
  openEdits = () => call<OpenEdit[]>("open_edits");
  finishEdit = (edit: string) => call<void>("finish_edit", { edit });
  editsOpenElsewhere = () => call<string[]>("edits_open_elsewhere");
  leftoverCopies = () => call<LeftoverCopy[]>("leftover_copies");
  settleLeftoverCopy = (id: string, keep: boolean) => call<void>("settle_leftover_copy", { id, keep });
  dragOutFolder = () => call<string | null>("drag_out_folder");
  dragOut = (ids: string[], drag: string) => call<void>("drag_out", { ids, drag });
  dragOutDone = (drag: string) => call<void>("drag_out_done", { drag });

  backupTo = (target: string) => call<Job>("backup_to", { target });
  verifyBackup = (target: string, full: boolean) => call<Job>("verify_backup", { target, full });
  listBackup = (target: string) => call<BackupListing>("list_backup", { target });
  restoreItems = (target: string, paths: string[], into: string | null) =>
    call<Job>("restore_items", { target, paths, into });
  restoreBackup = (target: string, password: string, parent: string, name: string) =>
    call<Job>("restore_backup", { target, password, parent, name });
  rebuildDatabase = (safePath: string, password: string, target: string) =>
    call<Job>("rebuild_database", { safePath, password, target });

  syncStatus = () => call<SyncStatus>("sync_status");
  setSyncTarget = (target: SyncTarget) => call<SyncStatus>("set_sync_target", { target });
  setSyncSchedule = (everyMinutes: number | null) => call<SyncStatus>("set_sync_schedule", { everyMinutes });
  syncNow = () => call<Job>("sync_now");
  syncConflicts = () => call<SyncConflict[]>("sync_conflicts");
  clearSyncConflicts = () => call<void>("clear_sync_conflicts");
  exportSyncConfig = (password: string, comment: string, to: string) =>
    call<void>("export_sync_config", { password, comment, to });
  syncConfigQr = (password: string, comment: string) => call<SyncConfigQr>("sync_config_qr", { password, comment });
  readSyncConfig = (path: string, password: string) => call<SyncConfigInfo>("read_sync_config", { path, password });
  syncDevices = () => call<SyncDevice[]>("sync_devices");
  approveDevice = (id: string) => call<DeviceDecision>("approve_device", { id });
  removeDevice = (id: string) => call<DeviceDecision>("remove_device", { id });
  joinSafe = (config: string, password: string, parent: string, name: string, targetHere: SyncTarget | null) =>
    call<OpenedSafe>("join_safe", { config, password, parent, name, targetHere });

  changePassword = (current: string, newPassword: string, acceptWeak: boolean) =>
    call<void>("change_password", { current, newPassword, acceptWeak });
  createRecoveryKey = (password: string) => call<RecoveryKeySheet>("create_recovery_key", { password });
  settings = () => call<Settings>("settings");
  saveSettings = (settings: Settings, password: string | null) =>
    call<void>("save_settings", { settings, password });
  activity = () => call<void>("activity");

  onJob = (listener: (job: Job) => void) => on<Job>("job", listener);
  onHandoff = (listener: () => void) => on<null>("handoff", () => listener());
  onLocked = (listener: (event: LockedEvent) => void) => on<LockedEvent>("locked", listener);
  onChanged = (listener: (event: ChangedEvent) => void) => on<ChangedEvent>("changed", listener);
  onSynced = (listener: (status: SyncStatus) => void) => on<SyncStatus>("synced", listener);
  onEdit = (listener: (event: EditEvent) => void) => on<EditEvent>("edit", listener);

  async onFilesDropped(listener: (paths: string[], x: number, y: number) => void): Promise<Unlisten> {
    return getCurrentWebview().onDragDropEvent((event) => {
      if (event.payload.type !== "drop") return;
      // The position is in physical pixels; elementFromPoint wants CSS pixels.
      const scale = window.devicePixelRatio || 1;
      const { x, y } = event.payload.position;
      listener(event.payload.paths, x / scale, y / scale);
    });
  }
}
