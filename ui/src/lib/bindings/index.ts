// Generated from src-tauri/src/dto.rs by src-tauri/src/bindings.rs. Do not edit:
// change the Rust types and run `ARCA_UPDATE_BINDINGS=1 cargo test -p arca-desktop bindings`.

export type AppError = { kind: ErrorKind, message: string, 
/**
 * With `tryLater`: seconds until the next unlock attempt is allowed.
 */
retryAfterSeconds?: number, 
/**
 * With `recoveryKeyTypo`: what is wrong with the typed recovery key.
 */
typo?: RecoveryKeyTypo, };

export type ErrorKind = "wrongPassword" | "wrongRecoveryKey" | "recoveryKeyTypo" | "tryLater" | "noRecoveryKey" | "notASafe" | "alreadyExists" | "newerFormat" | "damaged" | "damagedDatabase" | "notFound" | "nameClash" | "invalidName" | "moveIntoItself" | "trashState" | "notStoredYet" | "alreadyRunning" | "lockedByOther" | "readOnly" | "diskFull" | "io" | "safeLocked" | "weakPassword" | "invalidInput" | "notABackup" | "foreignBackup" | "noSecureArea" | "waitingForSync" | "syncTarget" | "noSyncTarget" | "badSyncConfig" | "foreignTarget" | "syncDiverged" | "syncDevice" | "bucketUnreachable" | "bucketAccessDenied" | "bucketNotFound" | "noQrCode" | "qrNotSyncConfig" | "internal";

export type RecoveryKeyTypo = { "kind": "length", found: number, expected: number, } | { "kind": "character", position: number, character: string, } | { "kind": "checksum" };

export type AppInfo = { name: string, version: string, };

export type SafeSummary = { 
/**
 * The Safe's folder.
 */
path: string, 
/**
 * Its name: the folder name without `.arca`.
 */
name: string, 
/**
 * What is at the path now.
 */
status: SafeStatus, 
/**
 * Whether it has a recovery key file.
 */
hasRecoveryKey: boolean, 
/**
 * Seconds until an unlock is allowed (after wrong passwords); 0 when it is allowed now.
 */
retryAfterSeconds: number, 
/**
 * When this app last opened it, if it is a recent Safe.
 */
lastOpenedMs: number | null, };

export type SafeStatus = "ready" | "missing" | "notASafe" | "newer" | "damaged";

export type Handoff = { 
/**
 * A Safe to choose for unlocking.
 */
safe: string | null, 
/**
 * Files and folders to add to a Safe, once the person says where.
 */
files: Array<string>, 
/**
 * Paths that were not there.
 */
missing: Array<string>, 
/**
 * Further Safes handed at once: one is opened at a time.
 */
ignoredSafes: Array<string>, 
/**
 * The window's page stopped (its process ended) and was loaded again; the Safe it showed
 * was locked first, and is `safe`.
 */
pageRestarted: boolean, };

export type OpenedSafe = { id: string, name: string, path: string, 
/**
 * Opened read-only (read-only media, or another program is writing to it): browsing,
 * search, preview and export work, changes do not.
 */
readOnly: boolean, 
/**
 * Why it is read-only, for the banner.
 */
readOnlyReason: string | null, hasRecoveryKey: boolean, info: SafeInfo, 
/**
 * Imports interrupted earlier (crash, lock, full disk), to offer resume or abandon.
 */
interruptedImports: Array<InterruptedImport>, };

export type SafeInfo = { files: number, folders: number, bytes: number, 
/**
 * Items at the top of the trash.
 */
trashed: number, };

export type InterruptedImport = { jobId: string, createdMs: number, 
/**
 * It was paused by the person (rather than stopped by a crash or a lock).
 */
paused: boolean, filesDone: number, filesLeft: number, bytesLeft: number, 
/**
 * The folders and files the person chose to import (paths on this computer).
 */
sources: Array<string>, };

export type Strength = { 
/**
 * 0 (guessed at once) to 4 (very unguessable).
 */
score: number, 
/**
 * Whether the score is high enough to use without confirming a weak password.
 */
acceptable: boolean, warning: string | null, suggestions: Array<string>, 
/**
 * Estimated time of an offline attack at ten billion guesses a second.
 */
crackSeconds: number, };

export type Kind = "file" | "folder";

export type Content = "none" | "pending" | "waiting" | "present" | "missing";

export type Row = { id: string, 
/**
 * The containing folder (`null`: the root).
 */
parent: string | null, name: string, kind: Kind, size: number, modifiedMs: number | null, addedMs: number, 
/**
 * When it was put in the trash (only for items at the top of the trash).
 */
trashedMs: number | null, favorite: boolean, tags: Array<string>, content: Content, };

export type SortKey = "name" | "size" | "modified" | "kind";

export type ListRequest = { 
/**
 * The folder; `null` for the root.
 */
folder: string | null, sort: SortKey, descending: boolean, offset: number, 
/**
 * At most 1,000.
 */
limit: number, };

export type Page = { total: number, offset: number, rows: Array<Row>, };

export type FolderNode = { id: string, name: string, hasSubfolders: boolean, };

export type Crumb = { id: string | null, name: string, };

export type ItemDetails = { row: Row, 
/**
 * Its path inside the Safe (`/Photos/2024/beach.jpg`).
 */
path: string, createdMs: number | null, comment: string, 
/**
 * Inside the trash (itself, or a folder it is in).
 */
inTrash: boolean, 
/**
 * For a folder: files and folders inside it, at any depth (trash excluded).
 */
itemsInside: number, 
/**
 * The kind of preview the window can show for it.
 */
preview: PreviewKind, };

export type PreviewKind = "image" | "text" | "pdf" | "audio" | "video" | "none";

export type SearchRequest = { 
/**
 * Words; each must match the start of a word of the name, comment or a tag.
 */
text: string, 
/**
 * Only inside this folder (at any depth); `null` for the whole Safe.
 */
folder: string | null, tag: string | null, favoritesOnly: boolean, offset: number, limit: number, };

export type SearchHit = { row: Row, 
/**
 * The path of the folder it is in (`/` for the root).
 */
folderPath: string, };

export type SearchPage = { total: number, offset: number, hits: Array<SearchHit>, };

export type TagCount = { name: string, items: number, };

export type JobKind = "import" | "export" | "backup" | "verifyBackup" | "restoreBackup" | "restoreItems" | "check" | "rebuild" | "sync";

export type JobPhase = "planning" | "encrypting" | "decrypting" | "verifying" | "copying" | "recording" | "cleaningUp" | "finished";

export type JobState = "running" | "paused" | "finished" | "failed" | "cancelled";

export type Job = { id: string, kind: JobKind, 
/**
 * What it works on, for the panel ("3 items to ~/Desktop", "Photos", a backup folder).
 */
title: string, state: JobState, phase: JobPhase, 
/**
 * The item it is on (a path inside the Safe or on this computer).
 */
current: string | null, filesDone: number, filesTotal: number, bytesDone: number, bytesTotal: number, bytesPerSecond: number, secondsLeft: number | null, 
/**
 * Items it could not do, as they happen.
 */
problems: Array<Problem>, error: AppError | null, 
/**
 * One line for a finished job ("1,204 files imported").
 */
summary: string | null, };

export type Problem = { 
/**
 * What kind of problem.
 */
kind: ProblemKind, 
/**
 * The item (a path inside the Safe, or a path on this computer for a source).
 */
path: string | null, message: string, };

export type ProblemKind = "unreadable" | "notARegularFile" | "changedSinceScan" | "renamed" | "skipped" | "invalidName" | "dataMissing" | "dataDamaged" | "dataReplaced" | "pending" | "recordUnreadable" | "recordReplaced" | "recordMissing" | "indexUnreadable" | "strayFile" | "folderMissing" | "notWritten" | "refused" | "other";

export type BackupEntry = { path: string, kind: Kind, size: number, modifiedMs: number | null, inTrash: boolean, };

export type BackupListing = { 
/**
 * When its last complete run ended.
 */
lastCompleteMs: number | null, 
/**
 * The last run did not complete.
 */
interrupted: boolean, entries: Array<BackupEntry>, };

export type RecoveryKeySheet = { 
/**
 * Grouped for writing down: `7K3QF-9XW2M-…`.
 */
key: string, safeName: string, safeId: string, createdMs: number, };

export type Settings = { 
/**
 * Lock after this many idle minutes; `null`: never.
 */
autoLockMinutes: number | null, 
/**
 * Lock when the system sleeps or the screen locks.
 */
lockOnSleep: boolean, theme: Theme, language: Language, };

export type Theme = "system" | "light" | "dark";

export type Language = "system" | "en" | "de";

export type LockReason = "user" | "idle" | "sleep";

export type LockedEvent = { reason: LockReason, };

export type ChangedEvent = { folders: Array<string | null>, };

export type DialogPurpose = "newSafeLocation" | "openSafe" | "importFiles" | "importFolder" | "exportTo" | "backupTarget" | "restoreLocation" | "syncTarget" | "syncConfig" | "saveSyncConfig" | "joinLocation";

export type OpenEdit = { 
/**
 * This edit's id.
 */
edit: string, 
/**
 * The file's item id.
 */
item: string, name: string, 
/**
 * Its path in the Safe when it was opened.
 */
path: string, 
/**
 * The copy holds a save not taken back yet.
 */
unsaved: boolean, 
/**
 * Another program still has the copy open (or left its lock file beside it).
 */
openElsewhere: boolean, };

export type EditEvent = { kind: EditEventKind, edit: string, item: string, name: string, 
/**
 * With `saved`: the new size in bytes.
 */
size?: number, 
/**
 * With `problem`: what went wrong (the copy keeps the save; it is tried again).
 */
message?: string, };

export type EditEventKind = "saved" | "problem" | "ended";

export type AppChoice = { 
/**
 * The desktop entry's id, like `org.gnome.TextEditor.desktop`.
 */
id: string, name: string, };

export type LeftoverCopy = { id: string, item: string, name: string, 
/**
 * Its path in the Safe when it was opened.
 */
path: string, 
/**
 * When the other app last saved it (ms).
 */
modified?: number, };

export type SyncTarget = { "kind": "folder", path: string, } | { "kind": "s3" } & BucketTarget | { "kind": "other", description: string, };

export type BucketTarget = { 
/**
 * The S3 service's address: `https://s3.eu-central-1.amazonaws.com`, `http://nas:3900`.
 */
endpoint: string, 
/**
 * The bucket's region (`us-east-1` for most of Amazon S3, `garage` for Garage).
 */
region: string, bucket: string, 
/**
 * A folder inside the bucket for this Safe; empty for the whole bucket.
 */
prefix: string, accessKeyId: string, 
/**
 * From the window only: the secret of the access key. Left out (or empty) when the
 * settings of a bucket already set up are changed: the stored secret is kept, if the
 * endpoint and the access key ID are the same.
 */
secretAccessKey?: string, };

export type ConflictKind = "field" | "kept" | "moved" | "renamed" | "copy";

export type SyncConflict = { 
/**
 * When this device decided it.
 */
atMs: number, kind: ConflictKind, 
/**
 * What happened, in a sentence (the library's English).
 */
detail: string, 
/**
 * The item it concerns, while it is still in the Safe.
 */
item: ConflictItem | null, };

export type ConflictItem = { id: string, 
/**
 * Its folder (`null`: the root).
 */
parent: string | null, name: string, 
/**
 * Its path inside the Safe.
 */
path: string, kind: Kind, inTrash: boolean, };

export type SyncReport = { 
/**
 * This device's changes uploaded.
 */
operationsSent: number, 
/**
 * Other devices' changes applied here.
 */
operationsReceived: number, 
/**
 * Changes downloaded that wait for others they depend on (not on the target yet).
 */
operationsWaiting: number, filesSent: number, bytesSent: number, filesReceived: number, bytesReceived: number, 
/**
 * Files whose data is not on the target yet: the device that has it has not synced since.
 */
filesWaiting: number, 
/**
 * Old versions and deleted files removed from the target.
 */
filesRemoved: number, 
/**
 * What sync decided for the person in this run.
 */
conflicts: Array<SyncConflict>, 
/**
 * Objects on the target that were refused, each with what is wrong with it.
 */
problems: Array<string>, 
/**
 * Stopped (cancelled, or the Safe locked) before the end.
 */
stopped: boolean, 
/**
 * This device's code while it waits to be approved by a device already syncing the Safe:
 * its changes reach no other device until then.
 */
waitingForApproval: string | null, 
/**
 * Devices asking to join, for this one to approve or refuse.
 */
devicesAsking: Array<SyncDevice>, };

export type DeviceState = "approved" | "waiting" | "removed";

export type SyncDevice = { id: string, 
/**
 * The name it gave itself (its computer's name; two devices may share one).
 */
name: string, 
/**
 * The code to compare on both screens before approving it; `null` for a device that
 * synced before devices signed and has not synced since.
 */
code: string | null, state: DeviceState, thisDevice: boolean, 
/**
 * When it asked to join (its own clock).
 */
askedMs: number | null, 
/**
 * The device that approved or removed it, by name.
 */
decidedBy: string | null, 
/**
 * When that was decided (the deciding device's clock).
 */
decidedMs: number | null, };

export type DeviceDecision = { devices: Array<SyncDevice>, 
/**
 * The run started for it; `null` when none could start (`syncError` says why) or one was
 * running already: the decision is kept and goes with the next run.
 */
job: Job | null, syncError: AppError | null, };

export type SyncRun = { jobId: string, finishedMs: number, 
/**
 * Started by the schedule or the unlock (not by the person).
 */
automatic: boolean, 
/**
 * What it did, when it ran to its end (or was stopped).
 */
report: SyncReport | null, 
/**
 * Why it failed, when it did.
 */
error: AppError | null, };

export type SyncStatus = { 
/**
 * Where it syncs to; `null`: not set up.
 */
target: SyncTarget | null, 
/**
 * Sync after each unlock and every this many minutes while unlocked; `null`: only when asked.
 */
everyMinutes: number | null, 
/**
 * The sync job running now.
 */
running: string | null, 
/**
 * When the last run that reached its end finished (remembered between unlocks).
 */
lastSyncedMs: number | null, 
/**
 * The last run since the unlock, with its report or error.
 */
lastRun: SyncRun | null, 
/**
 * The devices syncing the Safe as this copy knows them (after its last sync), this one
 * first; empty before its first sync.
 */
devices: Array<SyncDevice>, };

export type SyncConfigInfo = { 
/**
 * The Safe's name on the device that exported it.
 */
name: string, safeId: string, target: SyncTarget, exportedMs: number, 
/**
 * The note written when it was exported.
 */
comment: string, 
/**
 * For a folder target: whether that folder exists on this device.
 */
targetHere: boolean, };

export type SyncConfigQr = { 
/**
 * The code as an SVG image (black on white, with its quiet zone); `null` when the
 * configuration is too large for a QR code (then it goes as a file).
 */
svg: string | null, 
/**
 * Modules on a side of the image, its quiet zone included (0 without an image): the window
 * draws each module on a whole number of screen pixels, which a screenshot reads back.
 */
modules: number, 
/**
 * Characters of the configuration's text form (`ARCA-SYNC-CONFIG:…`).
 */
characters: number, 
/**
 * The most characters a QR code holds at the error correction used.
 */
maxCharacters: number, };
