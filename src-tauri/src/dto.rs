//! What crosses the IPC between the window and the Rust side: every command's arguments and
//! answers, every event. The TypeScript declarations in `ui/src/lib/bindings/` are generated
//! from these types (`cargo test -p arca-desktop` checks they are current; set
//! `ARCA_UPDATE_BINDINGS=1` to rewrite them), so the two sides never disagree.
//!
//! Conventions: field names are camelCase; times are milliseconds since the Unix epoch (the
//! library's nanoseconds exceed JavaScript's safe integers); sizes are bytes; item ids are
//! UUID strings; the root folder is `null`. Nothing here holds a key, and no path inside a
//! Safe's store ever appears: an item is named by its id and its path inside the Safe.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A failed command, as the window sees it: `kind` decides what the window shows (its own,
/// translated text), `message` is the library's English explanation for details and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    /// With `tryLater`: seconds until the next unlock attempt is allowed.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
    /// With `recoveryKeyTypo`: what is wrong with the typed recovery key.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typo: Option<RecoveryKeyTypo>,
}

/// The kinds of failure the window tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// Wrong Safe Password (or a damaged key file: the two look alike by design).
    WrongPassword,
    /// Wrong recovery key (well-formed, but it does not open the recovery key file).
    WrongRecoveryKey,
    /// The recovery key as typed is not well-formed; see `typo`.
    RecoveryKeyTypo,
    /// Too many wrong attempts: wait `retryAfterSeconds`.
    TryLater,
    /// The Safe has no recovery key.
    NoRecoveryKey,
    /// The folder is not an Arca Safe.
    NotASafe,
    /// A new Safe's folder (or a restore's target) exists already.
    AlreadyExists,
    /// Written by a newer Arca; left untouched.
    NewerFormat,
    /// Part of the Safe or backup is damaged or was tampered with.
    Damaged,
    /// The attribute database is damaged: it can be rebuilt from a backup.
    DamagedDatabase,
    /// No such item, tag, job or backup.
    NotFound,
    /// The name is taken in that folder.
    NameClash,
    /// The name breaks the name rule.
    InvalidName,
    /// A folder cannot go into itself.
    MoveIntoItself,
    /// The item is (or is not) in the trash.
    TrashState,
    /// A file whose import has not finished: its content is not there yet.
    NotStoredYet,
    /// That job is running already.
    AlreadyRunning,
    /// Another program is writing to this Safe (or backup); the message names it.
    LockedByOther,
    /// The Safe is on read-only media (or opened read-only): nothing can be changed.
    ReadOnly,
    /// The disk is full.
    DiskFull,
    /// Reading or writing a file failed.
    Io,
    /// No Safe is unlocked (it was locked meanwhile).
    SafeLocked,
    /// The new password is too weak and `acceptWeak` was not given.
    WeakPassword,
    /// The arguments of the command are not acceptable.
    InvalidInput,
    /// A backup folder is needed: this folder is not one (and is not empty).
    NotABackup,
    /// The backup belongs to another Safe.
    ForeignBackup,
    /// No folder in RAM for a file opened in another app (no desktop login): nothing was
    /// written.
    NoSecureArea,
    /// A file whose data has not arrived from another device yet (sync): it cannot be opened
    /// until a sync brings it.
    WaitingForSync,
    /// The sync target could not be read or written (a drive not connected, a share offline);
    /// the message names it. Nothing was lost: the next run goes on.
    SyncTarget,
    /// No sync target is set up for this Safe.
    NoSyncTarget,
    /// A file is not a sync configuration, or is damaged (a wrong password is `wrongPassword`).
    BadSyncConfig,
    /// The sync target serves another Safe: each Safe needs a target of its own.
    ForeignTarget,
    /// This copy of the Safe disagrees with what it uploaded for sync (it was restored from an
    /// older state, or copied): it must join again as a new device.
    SyncDiverged,
    /// This device may not do that among the Safe's synced devices: it was removed, it is not
    /// approved yet (it cannot approve, remove or add devices), or the device named is not one
    /// of the Safe's. The message (the library's English) says which.
    SyncDevice,
    /// A bucket chosen as sync target could not be used: its service did not answer (a wrong
    /// endpoint address, no network, a certificate the system does not trust) or refused the
    /// request (a wrong region). Nothing was set.
    BucketUnreachable,
    /// The S3 service refused the access key for the bucket: a wrong access key ID or secret, or
    /// a key that may not read and write that bucket. Nothing was set.
    BucketAccessDenied,
    /// The S3 service has no bucket of that name (or does not show it to this key). Nothing was
    /// set.
    BucketNotFound,
    /// A picture chosen as sync configuration holds no QR code that could be read.
    NoQrCode,
    /// The QR code in a picture holds something else than an Arca sync configuration.
    QrNotSyncConfig,
    /// Anything else.
    Internal,
}

/// What is wrong with a mistyped recovery key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum RecoveryKeyTypo {
    /// Too few or too many characters (spaces and dashes do not count).
    Length { found: u32, expected: u32 },
    /// A character that recovery keys never use (1-based position among the characters).
    Character { position: u32, character: String },
    /// Every character is valid but the checksum does not match: one is mistyped.
    Checksum,
}

/// The app's name and version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
}

/// A Safe as the start screen shows it (recent Safes, a folder just chosen).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SafeSummary {
    /// The Safe's folder.
    pub path: String,
    /// Its name: the folder name without `.arca`.
    pub name: String,
    /// What is at the path now.
    pub status: SafeStatus,
    /// Whether it has a recovery key file.
    pub has_recovery_key: bool,
    /// Seconds until an unlock is allowed (after wrong passwords); 0 when it is allowed now.
    pub retry_after_seconds: u32,
    /// When this app last opened it, if it is a recent Safe.
    pub last_opened_ms: Option<i64>,
}

/// What is at a Safe's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SafeStatus {
    /// A Safe this Arca can open.
    Ready,
    /// Nothing there (a removed USB stick, a moved folder).
    Missing,
    /// A folder that is not a Safe.
    NotASafe,
    /// A Safe of a newer format.
    Newer,
    /// Its `safe.json` is damaged.
    Damaged,
}

/// The Safe just unlocked or created.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OpenedSafe {
    pub id: String,
    pub name: String,
    pub path: String,
    /// Opened read-only (read-only media, or another program is writing to it): browsing,
    /// search, preview and export work, changes do not.
    pub read_only: bool,
    /// Why it is read-only, for the banner.
    pub read_only_reason: Option<String>,
    pub has_recovery_key: bool,
    pub info: SafeInfo,
    /// Imports interrupted earlier (crash, lock, full disk), to offer resume or abandon.
    pub interrupted_imports: Vec<InterruptedImport>,
}

/// What a Safe holds (not counting the trash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SafeInfo {
    pub files: u64,
    pub folders: u64,
    pub bytes: u64,
    /// Items at the top of the trash.
    pub trashed: u64,
}

/// An import that did not finish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InterruptedImport {
    pub job_id: String,
    pub created_ms: i64,
    /// It was paused by the person (rather than stopped by a crash or a lock).
    pub paused: bool,
    pub files_done: u64,
    pub files_left: u64,
    pub bytes_left: u64,
    /// The folders and files the person chose to import (paths on this computer).
    pub sources: Vec<String>,
}

/// zxcvbn's estimate of a new password. `warning` and `suggestions` are keys the window
/// translates (zxcvbn's own feedback kinds, e.g. `commonPassword`, `useAFewWords`).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Strength {
    /// 0 (guessed at once) to 4 (very unguessable).
    pub score: u8,
    /// Whether the score is high enough to use without confirming a weak password.
    pub acceptable: bool,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
    /// Estimated time of an offline attack at ten billion guesses a second.
    pub crack_seconds: f64,
}

/// File or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    File,
    Folder,
}

/// Where a file's content stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Content {
    /// A folder.
    None,
    /// Its import has not finished: shown greyed, cannot be opened yet.
    Pending,
    /// Its data has not arrived from another device yet (sync): shown greyed, cannot be opened
    /// until a sync brings it.
    Waiting,
    /// Readable.
    Present,
    /// Its data file was found missing or damaged: restore it from a backup.
    Missing,
}

/// One row of a list (a folder's page, search, favorites, recent, trash, a tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub id: String,
    /// The containing folder (`null`: the root).
    pub parent: Option<String>,
    pub name: String,
    pub kind: Kind,
    pub size: u64,
    pub modified_ms: Option<i64>,
    pub added_ms: i64,
    /// When it was put in the trash (only for items at the top of the trash).
    pub trashed_ms: Option<i64>,
    pub favorite: bool,
    pub tags: Vec<String>,
    pub content: Content,
}

/// How a folder's page is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SortKey {
    Name,
    Size,
    Modified,
    Kind,
}

/// Which rows of a folder to list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ListRequest {
    /// The folder; `null` for the root.
    pub folder: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
    pub offset: u32,
    /// At most 1,000.
    pub limit: u32,
}

/// A page of rows and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<Row>,
}

/// A folder in the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FolderNode {
    pub id: String,
    pub name: String,
    pub has_subfolders: bool,
}

/// One step of a breadcrumb, from the root (`id: null`, the Safe's name) down.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Crumb {
    pub id: Option<String>,
    pub name: String,
}

/// Everything the info panel shows about one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ItemDetails {
    pub row: Row,
    /// Its path inside the Safe (`/Photos/2024/beach.jpg`).
    pub path: String,
    pub created_ms: Option<i64>,
    pub comment: String,
    /// Inside the trash (itself, or a folder it is in).
    pub in_trash: bool,
    /// For a folder: files and folders inside it, at any depth (trash excluded).
    pub items_inside: u64,
    /// The kind of preview the window can show for it.
    pub preview: PreviewKind,
}

/// What preview the window offers for a file (by its name's extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum PreviewKind {
    Image,
    Text,
    Pdf,
    Audio,
    Video,
    None,
}

/// A search.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// Words; each must match the start of a word of the name, comment or a tag.
    pub text: String,
    /// Only inside this folder (at any depth); `null` for the whole Safe.
    pub folder: Option<String>,
    pub tag: Option<String>,
    pub favorites_only: bool,
    pub offset: u32,
    pub limit: u32,
}

/// A search result: the row and the path of the folder it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub row: Row,
    /// The path of the folder it is in (`/` for the root).
    pub folder_path: String,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage {
    pub total: u32,
    pub offset: u32,
    pub hits: Vec<SearchHit>,
}

/// A tag and how many items carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TagCount {
    pub name: String,
    pub items: u64,
}

/// The long operations, each shown in the jobs panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum JobKind {
    Import,
    Export,
    Backup,
    VerifyBackup,
    RestoreBackup,
    RestoreItems,
    Check,
    Rebuild,
    Sync,
}

/// What a job is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum JobPhase {
    Planning,
    Encrypting,
    Decrypting,
    Verifying,
    Copying,
    Recording,
    CleaningUp,
    Finished,
}

/// Whether a job runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum JobState {
    Running,
    Paused,
    /// Finished; `problems` may list items it could not do.
    Finished,
    /// Stopped by an error (`error`); where the job is resumable, it is offered again.
    Failed,
    Cancelled,
}

/// A long operation, as the jobs panel shows it. Sent again (event `job`) as it moves.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    /// What it works on, for the panel ("3 items to ~/Desktop", "Photos", a backup folder).
    pub title: String,
    pub state: JobState,
    pub phase: JobPhase,
    /// The item it is on (a path inside the Safe or on this computer).
    pub current: Option<String>,
    pub files_done: u64,
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub bytes_per_second: f64,
    pub seconds_left: Option<f64>,
    /// Items it could not do, as they happen.
    pub problems: Vec<Problem>,
    pub error: Option<AppError>,
    /// One line for a finished job ("1,204 files imported").
    pub summary: Option<String>,
}

/// One item a job could not do (or did differently).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The item (a path inside the Safe, or a path on this computer for a source).
    pub path: Option<String>,
    pub message: String,
}

/// What went wrong with one item of a job (the library's problem kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ProblemKind {
    /// A file could not be read (import), or a folder's entries could not be listed.
    Unreadable,
    /// A link, device, socket or pipe: never imported.
    NotARegularFile,
    /// A file changed between finding it and encrypting it: not imported.
    ChangedSinceScan,
    /// Its name was changed (to follow the name rule, or because it was taken).
    Renamed,
    /// Left out: its name was taken and skipping was chosen.
    Skipped,
    /// A name that breaks the name rule (from a backup or Safe made elsewhere).
    InvalidName,
    /// Its content is missing.
    DataMissing,
    /// Its content is damaged or was modified.
    DataDamaged,
    /// Its content was replaced by another file's or rolled back.
    DataReplaced,
    /// Its import has not finished.
    Pending,
    /// Its record in the backup cannot be read.
    RecordUnreadable,
    /// Its record in the backup is not the one the last run wrote.
    RecordReplaced,
    /// Its record in the backup is missing.
    RecordMissing,
    /// The backup's index cannot be read.
    IndexUnreadable,
    /// A file that does not belong in the backup.
    StrayFile,
    /// Its folder is missing: put elsewhere, or left out.
    FolderMissing,
    /// It could not be written out.
    NotWritten,
    /// An object on the sync target was refused (damaged, modified, or not this Safe's).
    Refused,
    /// Anything else.
    Other,
}

/// One item of a backup, as it was at the backup's last run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupEntry {
    pub path: String,
    pub kind: Kind,
    pub size: u64,
    pub modified_ms: Option<i64>,
    pub in_trash: bool,
}

/// What a backup folder holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupListing {
    /// When its last complete run ended.
    pub last_complete_ms: Option<i64>,
    /// The last run did not complete.
    pub interrupted: bool,
    pub entries: Vec<BackupEntry>,
}

/// The recovery key, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryKeySheet {
    /// Grouped for writing down: `7K3QF-9XW2M-…`.
    pub key: String,
    pub safe_name: String,
    pub safe_id: String,
    pub created_ms: i64,
}

/// The app's settings (kept in its config folder, never a password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Lock after this many idle minutes; `null`: never.
    pub auto_lock_minutes: Option<u32>,
    /// Lock when the system sleeps or the screen locks.
    pub lock_on_sleep: bool,
    pub theme: Theme,
    pub language: Language,
}

/// Light, dark, or as the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Theme {
    System,
    Light,
    Dark,
}

/// The window's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Language {
    System,
    En,
    De,
}

/// Why the Safe was locked (event `locked`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum LockReason {
    /// The Lock button (or the shortcut).
    User,
    /// Idle for the auto-lock time.
    Idle,
    /// The system went to sleep or the screen was locked.
    Sleep,
}

/// What other programs handed to the app (its command line, a file manager's "Open with Arca"
/// or "Add to Safe…"), taken by the window with `take_handoff` at start and at each `handoff`
/// event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Handoff {
    /// A Safe to choose for unlocking.
    pub safe: Option<String>,
    /// Files and folders to add to a Safe, once the person says where.
    pub files: Vec<String>,
    /// Paths that were not there.
    pub missing: Vec<String>,
    /// Further Safes handed at once: one is opened at a time.
    pub ignored_safes: Vec<String>,
    /// The window's page stopped (its process ended) and was loaded again; the Safe it showed
    /// was locked first, and is `safe`.
    pub page_restarted: bool,
}

/// Event `locked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LockedEvent {
    pub reason: LockReason,
}

/// Event `changed`: items were added, changed or removed (by a job or another window); the
/// window reloads what it shows of these folders (`null` is the root). An empty list means
/// anything may have changed (a restore, a tag renamed): reload everything shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChangedEvent {
    pub folders: Vec<Option<String>>,
}

/// What a native file dialog is for (it picks the title and whether files or folders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum DialogPurpose {
    /// The folder a new Safe is created in.
    NewSafeLocation,
    /// An existing Safe's folder.
    OpenSafe,
    /// Files to import.
    ImportFiles,
    /// A folder to import.
    ImportFolder,
    /// The folder to export into.
    ExportTo,
    /// A backup folder (new or existing).
    BackupTarget,
    /// The folder a restored Safe is created in.
    RestoreLocation,
    /// A folder to sync through (new or already used by the Safe's other devices).
    SyncTarget,
    /// A sync configuration to join a Safe with: its file, or a picture of its QR code.
    SyncConfig,
    /// Where an exported sync configuration is saved (a save dialog).
    SaveSyncConfig,
    /// The folder a Safe joined from a sync configuration is created in.
    JoinLocation,
}

/// A file of the Safe open in another app: its copy lives in the secure temporary storage (RAM)
/// and every save is taken back into the Safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OpenEdit {
    /// This edit's id.
    pub edit: String,
    /// The file's item id.
    pub item: String,
    pub name: String,
    /// Its path in the Safe when it was opened.
    pub path: String,
    /// The copy holds a save not taken back yet.
    pub unsaved: bool,
    /// Another program still has the copy open (or left its lock file beside it).
    pub open_elsewhere: bool,
}

/// What happened to a file open in another app (event `edit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct EditEvent {
    pub kind: EditEventKind,
    pub edit: String,
    pub item: String,
    pub name: String,
    /// With `saved`: the new size in bytes.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// With `problem`: what went wrong (the copy keeps the save; it is tried again).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum EditEventKind {
    /// A save was taken back into the Safe.
    Saved,
    /// A save could not be taken back (a full disk…): the copy keeps it.
    Problem,
    /// The edit ended: the copy is gone from RAM.
    Ended,
}

/// An application that can open a file (from the desktop's application entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppChoice {
    /// The desktop entry's id, like `org.gnome.TextEditor.desktop`.
    pub id: String,
    pub name: String,
}

/// A copy changed in another app and never taken back, left by an Arca that stopped (a crash,
/// a kill): the person takes it back into the Safe or deletes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LeftoverCopy {
    pub id: String,
    pub item: String,
    pub name: String,
    /// Its path in the Safe when it was opened.
    pub path: String,
    /// When the other app last saved it (ms).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modified: Option<i64>,
}

/// Where a Safe syncs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SyncTarget {
    /// A folder: a USB stick, a network share, a folder a cloud service keeps in step.
    Folder { path: String },
    /// A bucket of S3 or of an S3-compatible store (Garage, MinIO, Backblaze B2…).
    S3(BucketTarget),
    /// A kind of target this version of the app cannot set up (it still syncs with it); never
    /// accepted from the window.
    Other { description: String },
}

/// A bucket as sync target. Its secret access key only ever goes from the window to the app
/// (typed when the bucket is set up or the key replaced), never back: the app sends it without.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct BucketTarget {
    /// The S3 service's address: `https://s3.eu-central-1.amazonaws.com`, `http://nas:3900`.
    pub endpoint: String,
    /// The bucket's region (`us-east-1` for most of Amazon S3, `garage` for Garage).
    pub region: String,
    pub bucket: String,
    /// A folder inside the bucket for this Safe; empty for the whole bucket.
    pub prefix: String,
    pub access_key_id: String,
    /// From the window only: the secret of the access key. Left out (or empty) when the
    /// settings of a bucket already set up are changed: the stored secret is kept, if the
    /// endpoint and the access key ID are the same.
    #[ts(optional, type = "string")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_access_key: Option<arca_safe::Secret>,
}

/// What sync decided for the person in one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ConflictKind {
    /// Two devices changed the same field; one value was kept.
    Field,
    /// A deletion on one device was outvoted by a change on another: the item was kept.
    Kept,
    /// Its folder was gone (or two moves made a loop): it was moved.
    Moved,
    /// Two devices gave the same name in one folder: one got a number.
    Renamed,
    /// A file changed on two devices: this device's version was kept beside the other as a copy.
    Copy,
}

/// One decision of sync, as the report and the conflict view show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncConflict {
    /// When this device decided it.
    pub at_ms: i64,
    pub kind: ConflictKind,
    /// What happened, in a sentence (the library's English).
    pub detail: String,
    /// The item it concerns, while it is still in the Safe.
    pub item: Option<ConflictItem>,
}

/// Where the item of a sync decision is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ConflictItem {
    pub id: String,
    /// Its folder (`null`: the root).
    pub parent: Option<String>,
    pub name: String,
    /// Its path inside the Safe.
    pub path: String,
    pub kind: Kind,
    pub in_trash: bool,
}

/// What one sync run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// This device's changes uploaded.
    pub operations_sent: u64,
    /// Other devices' changes applied here.
    pub operations_received: u64,
    /// Changes downloaded that wait for others they depend on (not on the target yet).
    pub operations_waiting: u64,
    pub files_sent: u64,
    pub bytes_sent: u64,
    pub files_received: u64,
    pub bytes_received: u64,
    /// Files whose data is not on the target yet: the device that has it has not synced since.
    pub files_waiting: u64,
    /// Old versions and deleted files removed from the target.
    pub files_removed: u64,
    /// What sync decided for the person in this run.
    pub conflicts: Vec<SyncConflict>,
    /// Objects on the target that were refused, each with what is wrong with it.
    pub problems: Vec<String>,
    /// Stopped (cancelled, or the Safe locked) before the end.
    pub stopped: bool,
    /// This device's code while it waits to be approved by a device already syncing the Safe:
    /// its changes reach no other device until then.
    pub waiting_for_approval: Option<String>,
    /// Devices asking to join, for this one to approve or refuse.
    pub devices_asking: Vec<SyncDevice>,
}

/// Where a device stands with this copy of the Safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum DeviceState {
    /// Its changes are applied here.
    Approved,
    /// It asked to join (or the device that approved it was removed): a device already
    /// approved must approve it.
    Waiting,
    /// Removed: its changes after its removal are applied nowhere, and it no longer syncs.
    Removed,
}

/// One device syncing the Safe, as this copy knows it (after its last sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncDevice {
    pub id: String,
    /// The name it gave itself (its computer's name; two devices may share one).
    pub name: String,
    /// The code to compare on both screens before approving it; `null` for a device that
    /// synced before devices signed and has not synced since.
    pub code: Option<String>,
    pub state: DeviceState,
    pub this_device: bool,
    /// When it asked to join (its own clock).
    pub asked_ms: Option<i64>,
    /// The device that approved or removed it, by name.
    pub decided_by: Option<String>,
    /// When that was decided (the deciding device's clock).
    pub decided_ms: Option<i64>,
}

/// A device approved or removed here: the devices now, and the sync run that takes the decision
/// to the other devices.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeviceDecision {
    pub devices: Vec<SyncDevice>,
    /// The run started for it; `null` when none could start (`syncError` says why) or one was
    /// running already: the decision is kept and goes with the next run.
    pub job: Option<Job>,
    pub sync_error: Option<AppError>,
}

/// One sync run of this unlock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncRun {
    pub job_id: String,
    pub finished_ms: i64,
    /// Started by the schedule or the unlock (not by the person).
    pub automatic: bool,
    /// What it did, when it ran to its end (or was stopped).
    pub report: Option<SyncReport>,
    /// Why it failed, when it did.
    pub error: Option<AppError>,
}

/// The open Safe's sync, as the settings show it. Sent again (event `synced`) when a run ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// Where it syncs to; `null`: not set up.
    pub target: Option<SyncTarget>,
    /// Sync after each unlock and every this many minutes while unlocked; `null`: only when asked.
    pub every_minutes: Option<u32>,
    /// The sync job running now.
    pub running: Option<String>,
    /// When the last run that reached its end finished (remembered between unlocks).
    pub last_synced_ms: Option<i64>,
    /// The last run since the unlock, with its report or error.
    pub last_run: Option<SyncRun>,
    /// The devices syncing the Safe as this copy knows them (after its last sync), this one
    /// first; empty before its first sync.
    pub devices: Vec<SyncDevice>,
}

/// The open Safe's sync configuration as a QR code, to show on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfigQr {
    /// The code as an SVG image (black on white, with its quiet zone); `null` when the
    /// configuration is too large for a QR code (then it goes as a file).
    pub svg: Option<String>,
    /// Modules on a side of the image, its quiet zone included (0 without an image): the window
    /// draws each module on a whole number of screen pixels, which a screenshot reads back.
    pub modules: u32,
    /// Characters of the configuration's text form (`ARCA-SYNC-CONFIG:…`).
    pub characters: u32,
    /// The most characters a QR code holds at the error correction used.
    pub max_characters: u32,
}

/// What a sync configuration file says (its keys stay inside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncConfigInfo {
    /// The Safe's name on the device that exported it.
    pub name: String,
    pub safe_id: String,
    pub target: SyncTarget,
    pub exported_ms: i64,
    /// The note written when it was exported.
    pub comment: String,
    /// For a folder target: whether that folder exists on this device.
    pub target_here: bool,
}
