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
//!   writer.lock                    the lock a running backup holds (one run at a time)
//!   index.xml.crypt                every item of the last complete run and its XML's SHA-256,
//!                                  and whether a run is under way
//!   items/3f/3f2a…-….xml.crypt     one per item (files and folders, trashed ones too)
//!   files/3f/3f2a…-….data.crypt    one per file, byte for byte the Safe's data file
//! ```
//!
//! Since format 2, the item records and the index are sealed with keys derived from the Safe's
//! file keys for this purpose only, so a data file copied among the records is never read as
//! one; and the state that decides whether records must match the index (a complete run, or
//! one under way) is inside the sealed index, not in the plaintext `backup.json`.
//!
//! Durability: every file is written under a temporary name, fsynced and renamed; an item's data
//! file is written before its XML; the index and then the manifest's `last_complete` are written
//! only at the end of a run. A run killed at any point leaves a backup the next run completes,
//! and that verify and restore read without misreading: an item whose files disagree is named,
//! never restored wrong.

mod catalogue;
mod data;
pub(crate) mod layout;
mod listing;
mod manifest;
mod rebuild;
mod restore;
mod run;
mod verify;
mod xml;

use std::path::Path;

use arca_cryptor::SafeKeys;
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::error::Result;
use crate::import::OnClash;
use crate::problem::ItemProblem;
use crate::unlock::{KeyFiles, Unlock};

pub use listing::{BackupEntry, BackupListing, list_backup};
pub use manifest::{BACKUP_FORMAT_NAME, BACKUP_FORMAT_VERSION, BackupManifest};
pub use rebuild::{RebuildReport, rebuild_database_from_backup};
pub use restore::restore_backup;
pub use verify::verify_backup;
pub use xml::ITEM_XML_VERSION;

/// How to back up.
#[derive(Debug, Clone, Default)]
pub struct BackupOptions {
    /// Keep items in the backup that were deleted from the Safe since an earlier run.
    pub keep_deleted: bool,
    /// Back up only these items (with everything in them, and the folders they are in);
    /// everything else already in the backup stays as it is. All items for `None`.
    pub items: Option<Vec<Uuid>>,
    /// Worker threads; all cores for `None`.
    pub threads: Option<usize>,
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
    /// Items kept in the backup although deleted from the Safe (`keep_deleted`, or a run of
    /// chosen items, which leaves everything else in the backup as it is).
    pub kept_deleted: u64,
    /// Files whose import has not finished: left out of this run.
    pub pending: Vec<ItemProblem>,
    /// Files whose data file in the Safe is missing or damaged: not copied (an earlier copy in
    /// the backup, if any, is kept).
    pub failed: Vec<ItemProblem>,
    /// What does not belong in the backup's `items/` and `files/` folders (a shard folder that
    /// is a link or not named by two hex digits, a file no run writes), as `verify` lists it:
    /// left alone, never entered or removed.
    pub strays: Vec<ItemProblem>,
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
    /// The verify was stopped before its end (cancelled, or the Safe was locked): only
    /// `files_checked` data files were checked, and the files after them are not vouched for.
    pub stopped: bool,
}

impl VerifyReport {
    /// Whether the verify ran to its end and found nothing wrong (a stopped verify is never
    /// clean: it did not look at everything).
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty() && !self.stopped
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
    /// Items found in the Safe already, restored by an earlier run of this restore that was
    /// stopped (cancelled, locked, killed): kept as they are, and what is inside them completed.
    pub already_restored: u64,
    /// The restore was cancelled; running it again completes it.
    pub cancelled: bool,
}

/// Opens the backup's key file with `unlock` (counted by the back-off of its Safe), and checks
/// it belongs to the manifest's Safe.
fn unlock_keys(
    layout: &layout::BackupLayout,
    manifest: &BackupManifest,
    unlock: Unlock<'_>,
    backoff: &Backoff,
) -> Result<SafeKeys> {
    crate::unlock::unlock(
        &KeyFiles {
            key_file: &layout.key_file(),
            recovery_file: &layout.recovery_file(),
            iterations: manifest.iterations()?,
            safe_id: manifest.safe_id,
            what: "the backup's key file",
        },
        unlock,
        backoff,
    )
}

/// Reads the manifest of the backup in `target`, which must exist, and unlocks its keys.
fn open_backup(
    target: &Path,
    unlock: Unlock<'_>,
    backoff: &Backoff,
) -> Result<(layout::BackupLayout, BackupManifest, SafeKeys)> {
    let layout = layout::BackupLayout::new(target);
    let manifest = BackupManifest::read_existing(target, &layout.manifest())?;
    let keys = unlock_keys(&layout, &manifest, unlock, backoff)?;
    Ok((layout, manifest, keys))
}

/// The keys a backup's records (item XML, index) are sealed with: the Safe's file keys in
/// format 1, keys derived for this purpose from format 2 on.
pub(crate) enum RecordKeys<'k> {
    Data(&'k SafeKeys),
    Derived(arca_cryptor::CipherKeys),
}

impl<'k> RecordKeys<'k> {
    pub(crate) fn for_version(keys: &'k SafeKeys, version: u64) -> Self {
        if version >= 2 {
            Self::Derived(keys.derived_keys(arca_cryptor::KeyPurpose::BackupRecords))
        } else {
            Self::Data(keys)
        }
    }

    pub(crate) fn credentials(&self) -> arca_cryptor::Credentials<'_> {
        match self {
            Self::Data(keys) => keys.data_credentials(),
            Self::Derived(keys) => arca_cryptor::Credentials::Keys(keys),
        }
    }
}
