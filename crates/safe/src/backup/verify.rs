//! Verifying a backup: every attribute file decrypts, parses and agrees with its name and the
//! index; every data file exists with its recorded size and HMAC tag; with `full`, every data
//! file is decrypted and its SHA-256 compared.

use std::path::Path;

use arca_cryptor::SafeKeys;

use super::catalogue::Catalogue;
use super::data::{CopyTo, DataError, check_or_copy};
use super::layout::{BackupLayout, ShardEntry};
use super::manifest::BackupManifest;
use super::{RecordKeys, VerifyReport, open_backup};
use crate::backoff::Backoff;
use crate::data_file::{has_tag, recorded_tag};
use crate::error::{Error, Result};
use crate::item::{Content, Kind};
use crate::job::{JobControl, Observer, Phase, Progress, Reporter};
use crate::problem::{ItemProblem, ProblemKind};
use crate::safe::{Open, Safe};
use crate::unlock::Unlock;

/// Verifies the backup in `target`, opening it with the Safe Password or the recovery key
/// (counted by the back-off of its Safe).
///
/// Problems are listed in the report (and reported as they are found), each naming the item
/// (by path where the backup still knows it, else by name from the index, and by UUID);
/// nothing is changed. Stopped through `control` (between files, or inside a file with
/// `full`), it returns at once with [`VerifyReport::stopped`] set: the report then covers only
/// the files checked so far, is never clean, and the job does not report [`Phase::Finished`].
///
/// # Errors
/// [`Error::NotABackup`], [`Error::NewerFormat`], [`Error::DamagedBackup`] for a damaged
/// `backup.json`, [`Error::TryLater`], [`Error::WrongPassword`] / [`Error::WrongRecoveryKey`] /
/// [`Error::NoRecoveryKey`], [`Error::Io`] if reading fails.
pub fn verify_backup(
    target: &Path,
    unlock: Unlock<'_>,
    backoff: &Backoff,
    full: bool,
    control: &JobControl,
    observer: Observer<'_>,
) -> Result<VerifyReport> {
    let (layout, manifest, keys) = open_backup(target, unlock, backoff)?;
    verify_with(&layout, &manifest, &keys, full, control, observer)
}

impl Open<'_> {
    fn verify_backup(
        &self,
        target: &Path,
        full: bool,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<VerifyReport> {
        let layout = BackupLayout::new(target);
        let manifest = BackupManifest::read_of_safe(target, &layout.manifest(), self.id())?;
        verify_with(&layout, &manifest, self.keys(), full, control, observer)
    }
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
        observer: Observer<'_>,
    ) -> Result<VerifyReport> {
        self.job(control, false, |open| {
            open.verify_backup(target, full, control, observer)
        })
    }
}

fn verify_with(
    layout: &BackupLayout,
    manifest: &BackupManifest,
    keys: &SafeKeys,
    full: bool,
    control: &JobControl,
    observer: Observer<'_>,
) -> Result<VerifyReport> {
    let mut reporter = Reporter::new(observer, Progress::new(0, 0));
    reporter.phase(Phase::Planning);
    let record_keys = RecordKeys::for_version(keys, manifest.version);
    let catalogue = Catalogue::load(layout, manifest, &record_keys)?;
    let mut report = VerifyReport {
        items: catalogue.records.len() as u64,
        full,
        interrupted: catalogue.interrupted,
        last_complete: manifest.last_complete,
        problems: catalogue.problems.clone(),
        ..VerifyReport::default()
    };
    for problem in &report.problems {
        reporter.problem(problem);
    }
    let problem = |kind, id, file: Option<String>, problem: String| {
        ItemProblem::new(kind, problem)
            .item(id)
            .path(catalogue.path_of(id))
            .file(file)
    };
    for id in catalogue.without_folder() {
        let parent = catalogue.records[&id].item.parent;
        report.problems.push(problem(
            ProblemKind::FolderMissing,
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
    reporter.progress = Progress::new(
        files.len() as u64,
        files.iter().map(|record| record.item.size).sum(),
    );
    reporter.phase(Phase::Verifying);
    for record in &files {
        if !control.proceed() {
            report.stopped = true;
            break;
        }
        let item = &record.item;
        let path = layout.data_file(item.id);
        let file = Some(layout.relative(&path));
        let outcome = if full {
            match check_or_copy(keys, item, &path, CopyTo::Nowhere, true, control) {
                Ok((bytes, _)) => {
                    report.bytes_decrypted += bytes;
                    Ok(())
                }
                Err(DataError::Source(kind, reason)) => Err((kind, reason)),
                Err(DataError::Io(error)) => return Err(error),
                Err(DataError::Stopped) => {
                    report.stopped = true;
                    break;
                }
            }
        } else {
            match recorded_tag(item) {
                Some(tag) => has_tag(&path, item.size, &tag).map_err(Error::io(&path))?,
                None => Err((
                    ProblemKind::DataDamaged,
                    "no valid HMAC tag is recorded for it".to_owned(),
                )),
            }
        };
        report.files_checked += 1;
        if let Err((kind, reason)) = outcome {
            let found = problem(kind, item.id, file, reason);
            reporter.problem(&found);
            report.problems.push(found);
        }
        reporter.progress.files_done += 1;
        reporter.progress.bytes_done += item.size;
        reporter.report(false);
    }
    reporter.report(true);
    if report.stopped {
        // Not finished: what was not checked is neither clean nor damaged.
        return Ok(report);
    }
    for id in &catalogue.data_files {
        if catalogue.records.contains_key(id) || catalogue.bad.contains(id) {
            continue;
        }
        // An interrupted run writes a data file before its XML.
        if !catalogue.interrupted {
            report.problems.push(
                ItemProblem::new(
                    ProblemKind::StrayFile,
                    "a data file no attribute file refers to (its attribute file was deleted?)",
                )
                .item(*id)
                .file(layout.relative(&layout.data_file(*id))),
            );
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
        report
            .problems
            .push(ItemProblem::new(ProblemKind::StrayFile, problem).file(layout.relative(path)));
    }
    reporter.phase(Phase::Finished);
    Ok(report)
}
