//! What a backup holds, without restoring it: every item its records name, with its path as
//! of the last run, for a person choosing what to restore.

use std::path::Path;

use arca_cryptor::SafeKeys;

use super::catalogue::Catalogue;
use super::layout::BackupLayout;
use super::manifest::BackupManifest;
use super::{RecordKeys, open_backup};
use crate::backoff::Backoff;
use crate::error::Result;
use crate::item::Kind;
use crate::problem::ItemProblem;
use crate::safe::{Open, Safe};
use crate::unlock::Unlock;

/// One item of a backup.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupEntry {
    /// Its path in the backed-up Safe (`/Photos/a.jpg`).
    pub path: String,
    /// File or folder.
    pub kind: Kind,
    /// Cleartext size (files).
    pub size: u64,
    /// Modification time (nanoseconds since the Unix epoch).
    pub modified_at: Option<i64>,
    /// It was in the trash (itself or a folder it is in).
    pub in_trash: bool,
}

/// What a backup holds.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BackupListing {
    /// When its last complete run ended (nanoseconds since the Unix epoch).
    pub last_complete: Option<i64>,
    /// The last run did not complete.
    pub interrupted: bool,
    /// Every item whose record could be read, by path.
    pub entries: Vec<BackupEntry>,
    /// Records that could not be read, each named as well as the backup allows.
    pub problems: Vec<ItemProblem>,
}

fn listing(
    layout: &BackupLayout,
    manifest: &BackupManifest,
    keys: &SafeKeys,
) -> Result<BackupListing> {
    let record_keys = RecordKeys::for_version(keys, manifest.version);
    let catalogue = Catalogue::load(layout, manifest, &record_keys)?;
    let mut entries: Vec<BackupEntry> = catalogue
        .records
        .values()
        .filter_map(|record| {
            Some(BackupEntry {
                path: catalogue.path_of(record.item.id)?,
                kind: record.item.kind,
                size: record.item.size,
                modified_at: record.item.modified_at,
                in_trash: catalogue.in_trash(record.item.id),
            })
        })
        .collect();
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(BackupListing {
        last_complete: manifest.last_complete,
        interrupted: catalogue.interrupted,
        entries,
        problems: catalogue.problems,
    })
}

/// Lists what the backup in `target` holds, opening it with the Safe Password or the recovery
/// key (counted by the back-off of its Safe).
///
/// # Errors
/// As [`super::verify_backup`].
pub fn list_backup(target: &Path, unlock: Unlock<'_>, backoff: &Backoff) -> Result<BackupListing> {
    let (layout, manifest, keys) = open_backup(target, unlock, backoff)?;
    listing(&layout, &manifest, &keys)
}

impl Open<'_> {
    fn list_backup(&self, target: &Path) -> Result<BackupListing> {
        let layout = BackupLayout::new(target);
        let manifest = BackupManifest::read_of_safe(target, &layout.manifest(), self.id())?;
        listing(&layout, &manifest, self.keys())
    }
}

impl Safe {
    /// Lists what a backup of this Safe holds, with the Safe's own keys.
    ///
    /// # Errors
    /// As [`list_backup`], and [`crate::Error::ForeignBackup`] for a backup of another Safe.
    pub fn list_backup(&self, target: &Path) -> Result<BackupListing> {
        self.reading(|open| open.list_backup(target))
    }
}
