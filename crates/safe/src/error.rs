//! The Safe layer's error type.

use std::io;
use std::path::PathBuf;

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
    /// An item or tag the change names does not exist.
    #[error("no {entity} with id {id}")]
    NotFound {
        /// "item" or "tag".
        entity: &'static str,
        /// Its UUID.
        id: uuid::Uuid,
    },
    /// Nothing at this path inside the Safe.
    #[error("no such file or folder in the Safe: {0}")]
    PathNotFound(String),
    /// A path goes through a file as if it were a folder.
    #[error("{0} is a file, not a folder")]
    NotAFolder(String),
    /// The folder already holds an item of that name.
    #[error("{folder} already contains an item named {name:?}")]
    NameClash {
        /// The name.
        name: String,
        /// The folder's path in the Safe.
        folder: String,
    },
    /// A name that cannot be used for an item.
    #[error("{name:?} cannot be used as a name: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A folder cannot be moved into itself or below itself.
    #[error("cannot move {0} into itself")]
    MoveIntoItself(String),
    /// The operation needs an item outside the trash (or in it).
    #[error("{0}")]
    TrashState(String),
    /// A file's content cannot be read back; the item is named.
    #[error("{path}: {reason}")]
    DamagedFile {
        /// The item's path in the Safe.
        path: String,
        /// What is wrong.
        reason: String,
    },
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
    /// A database operation failed.
    #[error("database error: {0}")]
    Database(rusqlite::Error),
    /// A cryptographic operation failed.
    #[error(transparent)]
    Crypto(arca_cryptor::Error),
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
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
