//! Verifying a backup: every attribute file decrypts, parses and agrees with its name and the
//! index; every data file exists with its recorded size and HMAC tag; with `full`, every data
//! file is decrypted and its SHA-256 compared.

use std::path::Path;

use arca_cryptor::SafeKeys;

use super::catalogue::Catalogue;
use super::data::{CopyTo, DataError, check_or_copy, has_tag, recorded_tag};
use super::layout::{BackupLayout, ShardEntry};
use super::manifest::BackupManifest;
use super::{ItemProblem, Unlock, VerifyReport, unlock_keys};
use crate::error::{Error, Result};
use crate::item::{Content, Kind};
use crate::job::{JobControl, Progress, Reporter};
use crate::safe::Safe;

/// Verifies the backup in `target`, opening it with the Safe Password or the recovery key.
///
/// Problems are listed in the report, each naming the item (by path where the backup still
/// knows it, else by name from the index, and by UUID); nothing is changed.
///
/// # Errors
/// [`Error::NotABackup`], [`Error::NewerFormat`], [`Error::DamagedBackup`] for a damaged
/// `backup.json`, [`Error::WrongPassword`] / [`Error::WrongRecoveryKey`] /
/// [`Error::NoRecoveryKey`], [`Error::Io`] if reading fails.
pub fn verify_backup(
    target: &Path,
    unlock: Unlock<'_>,
    full: bool,
    control: &JobControl,
    progress: &mut dyn FnMut(&Progress),
) -> Result<VerifyReport> {
    let layout = BackupLayout::new(target);
    let manifest = BackupManifest::read_existing(target, &layout.manifest())?;
    let keys = unlock_keys(&layout, &manifest, unlock)?;
    verify_with(&layout, &manifest, &keys, full, control, progress)
}

impl Safe {
    /// Verifies a backup of this Safe with the Safe's own keys (no password needed).
    ///
    /// # Errors
    /// As [`verify_backup`], and [`Error::ForeignBackup`] for a backup of another Safe.
    pub fn verify_backup(
        &self,
        target: &Path,
        full: bool,
        control: &JobControl,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<VerifyReport> {
        let layout = BackupLayout::new(target);
        let manifest = BackupManifest::read_of_safe(target, &layout.manifest(), self.id())?;
        verify_with(&layout, &manifest, self.keys(), full, control, progress)
    }
}

fn verify_with(
    layout: &BackupLayout,
    manifest: &BackupManifest,
    keys: &SafeKeys,
    full: bool,
    control: &JobControl,
    progress: &mut dyn FnMut(&Progress),
) -> Result<VerifyReport> {
    let catalogue = Catalogue::load(layout, manifest, keys)?;
    let mut report = VerifyReport {
        items: catalogue.records.len() as u64,
        full,
        interrupted: catalogue.interrupted,
        last_complete: manifest.last_complete,
        problems: catalogue.problems.clone(),
        ..VerifyReport::default()
    };
    let problem = |id, file: Option<String>, problem: String| ItemProblem {
        item: Some(id),
        path: catalogue.path_of(id),
        file,
        problem,
    };
    for id in catalogue.without_folder() {
        let parent = catalogue.records[&id].item.parent;
        report.problems.push(problem(
            id,
            None,
            format!(
                "its folder ({}) is not in the backup",
                parent.map(|parent| parent.to_string()).unwrap_or_default()
            ),
        ));
    }
    let files: Vec<_> = catalogue
        .records
        .values()
        .filter(|record| record.item.kind == Kind::File && record.item.content == Content::Present)
        .collect();
    let mut reporter = Reporter::new(
        progress,
        Progress::new(
            files.len() as u64,
            files.iter().map(|record| record.item.size).sum(),
        ),
    );
    for record in &files {
        if !control.proceed() {
            break;
        }
        let item = &record.item;
        let path = layout.data_file(item.id);
        let file = Some(layout.relative(&path));
        report.files_checked += 1;
        let outcome = if full {
            match check_or_copy(keys, item, &path, CopyTo::Nowhere, true) {
                Ok(bytes) => {
                    report.bytes_decrypted += bytes;
                    Ok(())
                }
                Err(DataError::Source(reason)) => Err(reason),
                Err(DataError::Io(error)) => return Err(error),
            }
        } else {
            match recorded_tag(item) {
                Some(tag) => has_tag(&path, item.size, &tag).map_err(Error::io(&path))?,
                None => Err("no valid HMAC tag is recorded for it".to_owned()),
            }
        };
        if let Err(reason) = outcome {
            report.problems.push(problem(item.id, file, reason));
        }
        reporter.progress.files_done += 1;
        reporter.progress.bytes_done += item.size;
        reporter.report(false);
    }
    reporter.report(true);
    for id in &catalogue.data_files {
        if catalogue.records.contains_key(id) || catalogue.bad.contains(id) {
            continue;
        }
        // An interrupted run writes a data file before its XML.
        if !catalogue.interrupted {
            report.problems.push(ItemProblem {
                item: Some(*id),
                path: None,
                file: Some(layout.relative(&layout.data_file(*id))),
                problem:
                    "a data file no attribute file refers to (its attribute file was deleted?)"
                        .to_owned(),
            });
        }
    }
    for entry in &catalogue.stray_files {
        let (path, problem) = match entry {
            ShardEntry::Temporary(path) => (
                path,
                "a temporary file of an interrupted run (the next run removes it)",
            ),
            ShardEntry::Unexpected(path) => (path, "a file that does not belong in a backup"),
            ShardEntry::Named(_, path) => (path, "unexpected"),
        };
        report.problems.push(ItemProblem {
            item: None,
            path: None,
            file: Some(layout.relative(path)),
            problem: problem.to_owned(),
        });
    }
    Ok(report)
}
