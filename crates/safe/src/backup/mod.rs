//! Backing a Safe up to a folder, verifying the backup, and restoring from it.
//!
//! The backup folder (format in `docs/formats/backup.md`) holds the data files exactly as they
//! are in the Safe (never decrypted on the way), one encrypted XML attribute file per item, the
//! key files, an encrypted index of the last complete run and a small plaintext manifest:
//!
//! ```text
//! Holiday-backup/
//!   backup.json                    plaintext: format, version, Safe UUID, KDF, run times
//!   safe.key, recovery.key         copies of the Safe's key files
//!   index.xml.crypt                every item of the last complete run and its XML's SHA-256
//!   items/3f/3f2a…-….xml.crypt     one per item (files and folders, trashed ones too)
//!   files/3f/3f2a…-….data.crypt    one per file, byte for byte the Safe's data file
//! ```
//!
//! Durability: every file is written under a temporary name, fsynced and renamed; an item's data
//! file is written before its XML; the index and then the manifest's `last_complete` are written
//! only at the end of a run. A run killed at any point leaves a backup the next run completes,
//! and that verify and restore read without misreading: an item whose files disagree is named,
//! never restored wrong.

mod catalogue;
mod data;
mod layout;
mod manifest;
mod rebuild;
mod restore;
mod run;
mod verify;
mod xml;

use std::path::Path;

use arca_cryptor::{Password, RecoveryKey, SafeKeys};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::import::OnClash;

pub use manifest::{BACKUP_FORMAT_NAME, BACKUP_FORMAT_VERSION, BackupManifest};
pub use rebuild::{RebuildReport, rebuild_database_from_backup};
pub use restore::restore_backup;
pub use verify::verify_backup;
pub use xml::ITEM_XML_VERSION;

/// How to open a backup: with the Safe Password (its `safe.key`) or the recovery key (its
/// `recovery.key`).
#[derive(Debug, Clone, Copy)]
pub enum Unlock<'a> {
    /// The Safe Password at the time of the backup's last run.
    Password(&'a Password),
    /// The Safe's recovery key.
    RecoveryKey(&'a RecoveryKey),
}

/// How to back up.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// Keep items in the backup that were deleted from the Safe since an earlier run.
    pub keep_deleted: bool,
    /// Worker threads; all cores for `None`.
    pub threads: Option<usize>,
}

/// One item (or file of the backup) that something is wrong with, named as well as the backup
/// allows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemProblem {
    /// The item's UUID, if known.
    pub item: Option<Uuid>,
    /// The item's path in the Safe (`/Photos/a.jpg`), or its name, if known.
    pub path: Option<String>,
    /// The file of the backup concerned, relative to the backup folder.
    pub file: Option<String>,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for ItemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path, self.item, &self.file) {
            (Some(path), _, _) => write!(f, "{path}: {}", self.problem),
            (None, Some(item), _) => write!(f, "item {item}: {}", self.problem),
            (None, None, Some(file)) => write!(f, "{file}: {}", self.problem),
            (None, None, None) => f.write_str(&self.problem),
        }
    }
}

/// The outcome of a backup run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BackupReport {
    /// Items of the Safe backed up (present in the backup after the run).
    pub items: u64,
    /// Attribute files written (new or changed items).
    pub xml_written: u64,
    /// Data files copied (new or changed files).
    pub data_files_copied: u64,
    /// Bytes of data files copied.
    pub bytes_copied: u64,
    /// Items left as they were: data file and attributes unchanged.
    pub unchanged: u64,
    /// Items removed from the backup because they were deleted from the Safe.
    pub removed: u64,
    /// Items kept in the backup although deleted from the Safe (`keep_deleted`).
    pub kept_deleted: u64,
    /// Files whose import has not finished: left out of this run.
    pub pending: Vec<ItemProblem>,
    /// Files whose data file in the Safe is missing or damaged: not copied (an earlier copy in
    /// the backup, if any, is kept).
    pub failed: Vec<ItemProblem>,
    /// The run was cancelled; the backup is consistent and the next run completes it.
    pub cancelled: bool,
    /// When this run completed (nanoseconds since the Unix epoch), unless cancelled.
    pub completed_at: Option<i64>,
}

/// What verifying a backup found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct VerifyReport {
    /// Items whose attribute file decrypted and parsed.
    pub items: u64,
    /// Data files checked.
    pub files_checked: u64,
    /// Cleartext bytes decrypted (full verification only).
    pub bytes_decrypted: u64,
    /// Every data file was decrypted and its SHA-256 compared.
    pub full: bool,
    /// The last run did not complete: items it changed are accepted as they are.
    pub interrupted: bool,
    /// When the last complete run ended (nanoseconds since the Unix epoch).
    pub last_complete: Option<i64>,
    /// Everything wrong, each naming the item.
    pub problems: Vec<ItemProblem>,
}

impl VerifyReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Where chosen items are restored to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RestoreInto {
    /// Each item back into its original folder if that is still in the Safe (and not in the
    /// trash), else at the root.
    #[default]
    Original,
    /// The root of the Safe.
    Root,
    /// This folder of the Safe.
    Folder(Uuid),
}

/// How to restore chosen items into an existing Safe.
#[derive(Debug, Clone, Default)]
pub struct RestoreItemsOptions {
    /// Where the chosen items go (what is inside them stays inside them).
    pub into: RestoreInto,
    /// What to do when a restored item's name is taken (as in import).
    pub on_clash: OnClash,
}

/// The outcome of a restore.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RestoreReport {
    /// Files restored (verified against their recorded HMAC tag and SHA-256).
    pub files: u64,
    /// Folders restored.
    pub folders: u64,
    /// Cleartext bytes restored.
    pub bytes: u64,
    /// Items not restored, each with the reason; everything else was. Restoring chosen items,
    /// what was inside a folder that could not be restored is listed here too, and so, when a
    /// chosen item is a folder, is every item whose attribute file the backup cannot read
    /// (where it was is unknown, so it may have been inside).
    pub failed: Vec<ItemProblem>,
    /// Items restored somewhere else or under another name than in the backup without being
    /// asked to (in a full restore, what is inside a folder the backup cannot read goes to the
    /// root), or restored without content (it was missing in the Safe when backed up).
    pub notes: Vec<ItemProblem>,
    /// Chosen items left out because their name was taken (`OnClash::Skip`), with everything
    /// inside them: a skipped folder is listed once.
    pub skipped: Vec<ItemProblem>,
    /// The last backup run had not completed; items it had changed were restored as found.
    pub interrupted_backup: bool,
    /// The restore was cancelled; running it again completes it.
    pub cancelled: bool,
}

/// Opens the backup's key file with `unlock`, and checks it belongs to the manifest's Safe.
fn unlock_keys(
    layout: &layout::BackupLayout,
    manifest: &BackupManifest,
    unlock: Unlock<'_>,
) -> Result<SafeKeys> {
    let iterations = manifest.iterations()?;
    let keys = match unlock {
        Unlock::Password(password) => {
            let path = layout.key_file();
            SafeKeys::read_key_file(&path, password, iterations)
                .map_err(key_error(&path, Error::WrongPassword))?
        }
        Unlock::RecoveryKey(recovery_key) => {
            let path = layout.recovery_file();
            if !path.exists() {
                return Err(Error::NoRecoveryKey);
            }
            SafeKeys::read_recovery_file(&path, recovery_key, iterations)
                .map_err(key_error(&path, Error::WrongRecoveryKey))?
        }
    };
    if keys.safe_id() != manifest.safe_id {
        return Err(Error::ForeignKeyFile {
            expected: manifest.safe_id,
            found: keys.safe_id(),
        });
    }
    Ok(keys)
}

fn key_error(path: &Path, wrong: Error) -> impl FnOnce(arca_cryptor::Error) -> Error + '_ {
    move |error| match error {
        arca_cryptor::Error::KeyFileUnlock | arca_cryptor::Error::RecoveryKeyUnlock => wrong,
        arca_cryptor::Error::NewerKeyFile { found, supported } => Error::NewerFormat {
            what: "the backup's key file",
            found: u64::from(found),
            supported: u64::from(supported),
        },
        arca_cryptor::Error::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        other => Error::Crypto(other),
    }
}
