//! The Safe layer's error type, and the kinds programs act on.
//!
//! Messages name the thing that failed and never contain key material or a path inside a
//! Safe's store (data files are named by the item they hold).

use std::io;
use std::path::PathBuf;

use crate::lock::Holder;

/// What can go wrong with a Safe. Each message names the thing that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The password is wrong, or the key file is damaged (indistinguishable by design).
    #[error("wrong password, or the Safe's key file is damaged")]
    WrongPassword,
    /// The recovery key is wrong, or the recovery key file is damaged.
    #[error("wrong recovery key, or the Safe's recovery key file is damaged")]
    WrongRecoveryKey,
    /// Too many wrong passwords or recovery keys in a row: the next attempt must wait.
    #[error("too many wrong attempts: try again in {seconds} s")]
    TryLater {
        /// Seconds until the next attempt is allowed.
        seconds: u32,
    },
    /// The Safe has no recovery key file.
    #[error("this Safe has no recovery key (create one with the Safe Password first)")]
    NoRecoveryKey,
    /// The folder is not a Safe.
    #[error("{0} is not an Arca Safe (no safe.json)")]
    NotASafe(PathBuf),
    /// The target of a new Safe exists already.
    #[error("{0} already exists; choose a new folder for the Safe")]
    AlreadyExists(PathBuf),
    /// `safe.json` is unreadable or inconsistent.
    #[error("the Safe's manifest {path} is damaged: {reason}")]
    DamagedManifest {
        /// The manifest's path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The Safe (manifest, key file or database) was written by a newer Arca.
    #[error(
        "{what} has format version {found}, newer than this Arca supports ({supported}); update Arca to open this Safe"
    )]
    NewerFormat {
        /// Which part of the Safe.
        what: &'static str,
        /// The version found.
        found: u64,
        /// The newest version this build reads.
        supported: u64,
    },
    /// The key file's Safe UUID differs from the manifest's: files of two Safes were mixed.
    #[error("the key file belongs to another Safe (UUID {found}, expected {expected})")]
    ForeignKeyFile {
        /// UUID in the manifest.
        expected: uuid::Uuid,
        /// UUID in the key file.
        found: uuid::Uuid,
    },
    /// The attribute database cannot be opened with the Safe's key, or is corrupt.
    #[error("the Safe's attribute database is damaged or does not belong to this Safe: {0}")]
    DamagedDatabase(String),
    /// Another program (or another handle) is writing to the Safe or backup.
    #[error("{what} is in use by {}; wait until it has finished", holder.as_ref().map_or_else(|| "another program".to_owned(), ToString::to_string))]
    LockedByOther {
        /// "the Safe" or "the backup".
        what: &'static str,
        /// Who holds it, if it said.
        holder: Option<Holder>,
    },
    /// The Safe is open read-only: nothing can be changed.
    #[error("the Safe is open read-only ({reason}); nothing was changed")]
    ReadOnly {
        /// Why it is read-only.
        reason: String,
    },
    /// The Safe was locked: its keys are gone until it is unlocked again.
    #[error("the Safe is locked")]
    SafeLocked,
    /// An item or tag the change names does not exist.
    #[error("no {entity} with id {id}")]
    NotFound {
        /// "item", "tag" or "import job".
        entity: &'static str,
        /// Its UUID.
        id: uuid::Uuid,
    },
    /// Nothing at this path inside the Safe.
    #[error("no such file or folder in the Safe: {}", crate::name::escape_for_display(.0))]
    PathNotFound(String),
    /// A path goes through a file as if it were a folder.
    #[error("{} is a file, not a folder", crate::name::escape_for_display(.0))]
    NotAFolder(String),
    /// A folder where a file is needed.
    #[error("{} is a folder, not a file", crate::name::escape_for_display(.0))]
    NotAFile(String),
    /// A file whose import has not stored its content yet.
    #[error(
        "{}: its content is not stored here yet (its import has not finished, or another device has it and the next sync brings it)",
        crate::name::escape_for_display(.0)
    )]
    NotStoredYet(String),
    /// The job is running already (through this handle).
    #[error("{0} is running already")]
    AlreadyRunning(String),
    /// No tag of that name.
    #[error("no tag named {0:?}")]
    TagNotFound(String),
    /// The folder already holds an item of that name.
    #[error(
        "{} already contains an item named {name:?}",
        crate::name::escape_for_display(folder)
    )]
    NameClash {
        /// The name.
        name: String,
        /// The folder's path in the Safe.
        folder: String,
    },
    /// A name that cannot be used for an item (or a tag).
    #[error("{name:?} cannot be used as a name: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A folder cannot be moved into itself or below itself.
    #[error("cannot move {} into itself", crate::name::escape_for_display(.0))]
    MoveIntoItself(String),
    /// The operation needs an item outside the trash (or in it).
    #[error("{0}")]
    TrashState(String),
    /// A file's content cannot be read back; the item is named.
    #[error("{}: {reason}", crate::name::escape_for_display(path))]
    DamagedFile {
        /// The item's path in the Safe.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A source of an import is the Safe itself, contains it, or lies inside it.
    #[error("{0} is the Safe itself or holds it; choose files outside the Safe")]
    SourceInSafe(PathBuf),
    /// A folder to export or back up into is the Safe's own folder or lies inside it.
    #[error("{0} lies inside the Safe; choose a folder outside it")]
    TargetInSafe(PathBuf),
    /// A Safe restored from a backup would lie inside that backup's folder.
    #[error("{0} lies inside the backup; choose a folder outside it")]
    TargetInBackup(PathBuf),
    /// The backup target is neither empty nor an Arca backup.
    #[error("{0} is not an Arca backup (no backup.json) and is not empty; choose an empty folder")]
    NotABackup(PathBuf),
    /// The backup belongs to another Safe.
    #[error("the backup belongs to another Safe (UUID {found}, expected {expected})")]
    ForeignBackup {
        /// The Safe's UUID.
        expected: uuid::Uuid,
        /// The UUID recorded in the backup.
        found: uuid::Uuid,
    },
    /// A part of a backup every operation needs (its manifest, its key file) is damaged.
    #[error("the backup file {path} is damaged: {reason}")]
    DamagedBackup {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// There is no folder in RAM for the cleartext of a file opened in another app.
    #[error("no secure temporary storage: {0}; nothing was written")]
    NoSecureArea(String),
    /// The sync target could not be read or written.
    #[error("the sync target {target}: {error}")]
    SyncTarget {
        /// The target as the person set it up (a folder, a bucket).
        target: String,
        /// What failed.
        error: io::Error,
    },
    /// This copy of the Safe and what it uploaded to the sync target disagree: it was restored
    /// from an older state, or its database was copied to another device.
    #[error("{0}")]
    SyncDiverged(String),
    /// A sync configuration file is damaged or not one.
    #[error("the sync configuration {0}")]
    BadSyncConfig(String),
    /// A sync configuration does not open with the password given (or is damaged where that
    /// cannot be told apart).
    #[error(
        "the sync configuration does not open with this password (wrong password, or the file is damaged)"
    )]
    WrongSyncConfigPassword,
    /// The sync target serves another Safe.
    #[error(
        "the sync target {target} is the sync target of another Safe (UUID {safe}); choose a target of its own for this Safe"
    )]
    ForeignSyncTarget {
        /// The target as the person set it up.
        target: String,
        /// The Safe it serves.
        safe: uuid::Uuid,
    },
    /// This device may not do that among the Safe's synced devices: it was removed, it is not
    /// approved yet, or the device named is not one of them. The text says which.
    #[error("{0}")]
    SyncDevice(String),
    /// Settings of an S3-compatible bucket that are missing or malformed; the text names the
    /// field.
    #[error("{0}")]
    BadS3Settings(String),
    /// A database operation failed.
    #[error("database error: {0}")]
    Database(rusqlite::Error),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(arca_cryptor::Error),
    /// A file operation failed on a file outside the Safe's store (or on the Safe's own
    /// manifest and key files).
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// Reading or writing the Safe's store (data files, the database) failed.
    #[error("the Safe's storage{}: {error}", item.as_ref().map_or_else(String::new, |item| format!(" (for {})", crate::name::escape_for_display(item))))]
    StoreIo {
        /// The item whose data file it was, if any.
        item: Option<String>,
        /// What the OS said.
        error: io::Error,
    },
}

/// The kinds of failure a program tells apart: the command line maps each to an exit code and
/// advice, the app to a message. Stable across versions (new kinds may be added).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// Wrong Safe Password (or a damaged key file).
    WrongPassword,
    /// Wrong recovery key (or a damaged recovery key file).
    WrongRecoveryKey,
    /// A recovery key mistyped (its form or checksum is wrong).
    RecoveryKeyTypo,
    /// The back-off after wrong attempts is running.
    TryLater,
    /// The Safe (or backup) has no recovery key.
    NoRecoveryKey,
    /// Not an Arca Safe.
    NotASafe,
    /// The new Safe's folder (or a restore's) exists already.
    AlreadyExists,
    /// Written by a newer Arca.
    NewerFormat,
    /// Part of the Safe or backup is damaged or was tampered with.
    Damaged,
    /// The attribute database is damaged (it can be rebuilt from a backup).
    DamagedDatabase,
    /// No such item, path, tag or job.
    NotFound,
    /// A name is taken.
    NameClash,
    /// A name (or tag) breaks the rule.
    InvalidName,
    /// A folder cannot go into itself.
    MoveIntoItself,
    /// The item is (or is not) in the trash.
    TrashState,
    /// A file whose import has not finished, or whose content another device has: it is not
    /// there yet.
    NotStoredYet,
    /// That job is running already.
    AlreadyRunning,
    /// Another program is writing to the Safe or backup.
    LockedByOther,
    /// Read-only media, or a Safe opened read-only.
    ReadOnly,
    /// The disk is full.
    DiskFull,
    /// Any other failure to read or write a file.
    Io,
    /// The Safe was locked.
    SafeLocked,
    /// An argument is not acceptable (an empty password, a source inside the Safe).
    InvalidInput,
    /// The folder is neither empty nor a backup.
    NotABackup,
    /// The backup belongs to another Safe.
    ForeignBackup,
    /// No folder in RAM for files opened in other apps.
    NoSecureArea,
    /// This copy of the Safe disagrees with what it uploaded for sync.
    SyncDiverged,
    /// The sync target serves another Safe.
    ForeignTarget,
    /// This device was removed from the Safe's sync, is not approved yet, or names a device
    /// that is not one of the Safe's.
    SyncDevice,
    /// Anything else.
    Internal,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |error| Self::Io { path, error }
    }

    /// An I/O failure on the store, naming the item (never the data file's path).
    pub(crate) fn store(item: impl Into<Option<String>>) -> impl FnOnce(io::Error) -> Self {
        let item = item.into();
        move |error| Self::StoreIo { item, error }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        use arca_cryptor::Error as Crypto;
        match self {
            Self::WrongPassword => ErrorKind::WrongPassword,
            Self::WrongRecoveryKey => ErrorKind::WrongRecoveryKey,
            Self::TryLater { .. } => ErrorKind::TryLater,
            Self::NoRecoveryKey => ErrorKind::NoRecoveryKey,
            Self::NotASafe(_) => ErrorKind::NotASafe,
            Self::AlreadyExists(_) => ErrorKind::AlreadyExists,
            Self::NewerFormat { .. } => ErrorKind::NewerFormat,
            Self::DamagedManifest { .. }
            | Self::ForeignKeyFile { .. }
            | Self::DamagedFile { .. }
            | Self::DamagedBackup { .. } => ErrorKind::Damaged,
            Self::DamagedDatabase(_) => ErrorKind::DamagedDatabase,
            Self::LockedByOther { .. } => ErrorKind::LockedByOther,
            Self::ReadOnly { .. } => ErrorKind::ReadOnly,
            Self::SafeLocked => ErrorKind::SafeLocked,
            Self::NotFound { .. } | Self::PathNotFound(_) | Self::NotAFolder(_) => {
                ErrorKind::NotFound
            }
            Self::TagNotFound(_) => ErrorKind::NotFound,
            Self::NameClash { .. } => ErrorKind::NameClash,
            Self::InvalidName { .. } => ErrorKind::InvalidName,
            Self::MoveIntoItself(_) => ErrorKind::MoveIntoItself,
            Self::TrashState(_) => ErrorKind::TrashState,
            Self::NotAFile(_) => ErrorKind::InvalidInput,
            Self::NotStoredYet(_) => ErrorKind::NotStoredYet,
            Self::AlreadyRunning(_) => ErrorKind::AlreadyRunning,
            Self::SourceInSafe(_) | Self::TargetInSafe(_) | Self::TargetInBackup(_) => {
                ErrorKind::InvalidInput
            }
            Self::NotABackup(_) => ErrorKind::NotABackup,
            Self::ForeignBackup { .. } => ErrorKind::ForeignBackup,
            Self::NoSecureArea(_) => ErrorKind::NoSecureArea,
            Self::SyncTarget { error, .. } => io_kind(error),
            Self::SyncDiverged(_) => ErrorKind::SyncDiverged,
            Self::BadSyncConfig(_) | Self::BadS3Settings(_) => ErrorKind::InvalidInput,
            Self::WrongSyncConfigPassword => ErrorKind::WrongPassword,
            Self::ForeignSyncTarget { .. } => ErrorKind::ForeignTarget,
            Self::SyncDevice(_) => ErrorKind::SyncDevice,
            Self::Database(error) => database_kind(error),
            Self::Crypto(Crypto::RecoveryKeyTypo(_)) => ErrorKind::RecoveryKeyTypo,
            Self::Crypto(Crypto::EmptyPassword) => ErrorKind::InvalidInput,
            Self::Crypto(Crypto::Io(error)) => io_kind(error),
            Self::Crypto(
                Crypto::Authentication
                | Crypto::UnexpectedTag
                | Crypto::Truncated
                | Crypto::Misaligned
                | Crypto::UnsupportedVersion(_)
                | Crypto::UnsupportedOptions(_),
            ) => ErrorKind::Damaged,
            Self::Crypto(_) => ErrorKind::Internal,
            Self::Io { error, .. } | Self::StoreIo { error, .. } => io_kind(error),
        }
    }
}

fn io_kind(error: &io::Error) -> ErrorKind {
    match error.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => ErrorKind::DiskFull,
        io::ErrorKind::ReadOnlyFilesystem => ErrorKind::ReadOnly,
        io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Io,
    }
}

fn database_kind(error: &rusqlite::Error) -> ErrorKind {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => ErrorKind::DiskFull,
        Some(rusqlite::ErrorCode::ReadOnly) => ErrorKind::ReadOnly,
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            ErrorKind::LockedByOther
        }
        Some(rusqlite::ErrorCode::SystemIoFailure | rusqlite::ErrorCode::CannotOpen) => {
            ErrorKind::Io
        }
        _ => ErrorKind::Internal,
    }
}

impl From<rusqlite::Error> for Error {
    /// A page that fails its HMAC or does not parse is damage to the Safe, not a failed query:
    /// it gets the error that says so, wherever it is first read.
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                Self::DamagedDatabase(error.to_string())
            }
            _ => Self::Database(error),
        }
    }
}

/// The Safe layer's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
