//! Restoring from a backup: a whole new Safe, or chosen items into an existing Safe of the same
//! keys. Every data file is decrypted on the way and checked against its recorded HMAC tag, size
//! and SHA-256 before it is renamed into place and its item recorded; items that fail are listed
//! and the rest restored. Rows go through [`ChangeSet`], so the transaction log records them.
//!
//! A new Safe gets its `safe.json` last: until then the folder is not a Safe, and running the
//! restore again resumes it (items already recorded are kept, the rest restored).
//!
//! Restoring chosen items into an existing Safe keeps a record of the restore in the Safe's
//! folder until it has run to its end ([`RESTORE_JOBS`]): which items were chosen, and the new
//! UUIDs given to those whose own was in use. Running the same restore again after a stop
//! (cancel, lock, crash, full disk) reuses those UUIDs, so everything the stopped run restored
//! is found in the Safe under the UUID this run would give it, and is kept as it is; the rest is
//! restored into it. Without the record, what the stopped run restored would look like items
//! still in the Safe and be restored a second time beside them (`docs (2)`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::Path;

use arca_cryptor::{SafeKeys, write_atomically_private};
use rusqlite::Connection;
use uuid::Uuid;

use super::RecordKeys;
use super::catalogue::Catalogue;
use super::data::{CopyTo, DataError, check_or_copy};
use super::layout::{BackupLayout, DATA_SUFFIX, ShardEntry, shard_entries};
use super::manifest::BackupManifest;
use super::xml::Record;
use super::{RestoreInto, RestoreItemsOptions, RestoreReport, open_backup};
use crate::backoff::Backoff;
use crate::changes::{self, Change, ChangeSet};
use crate::data_file::store_chunks;
use crate::db;
use crate::error::{Error, Result};
use crate::import::OnClash;
use crate::item::{Content, Item, ItemUpdate, Kind};
use crate::job::{JobControl, Observer, Phase, Progress, Reporter};
use crate::layout::Layout;
use crate::lock::{LOCK_FILE, Refused, WriterLock};
use crate::manifest::Manifest;
use crate::organise::free_name_where;
use crate::problem::{ItemProblem, ProblemKind};
use crate::query;
use crate::safe::{Open, Safe};
use crate::unlock::Unlock;

/// Items recorded per transaction.
const BATCH: usize = 256;

/// The record of the restores of chosen items that have not run to their end, in the Safe's
/// folder, sealed under the Safe's record keys; absent when there are none.
pub(crate) const RESTORE_JOBS: &str = "restore-jobs.crypt";

/// Restores of chosen items that were stopped before their end.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct RestoreJobs {
    jobs: Vec<RestoreJob>,
}

/// One restore of chosen items that was stopped before its end.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct RestoreJob {
    /// The chosen items, by their UUID in the backup, sorted: what makes a restore the same.
    chosen: Vec<Uuid>,
    /// The UUIDs it gave items whose own UUID was in use, by their UUID in the backup; every
    /// other item of it keeps its own.
    new_ids: BTreeMap<Uuid, Uuid>,
}

impl RestoreJobs {
    /// The record in `path`. One that does not open (damaged, or of other keys) is taken as
    /// empty: it only lets a stopped restore be completed, and is written anew.
    fn read(path: &Path, keys: &RecordKeys<'_>) -> Result<Self> {
        let sealed = match fs::read(path) {
            Ok(sealed) => sealed,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::default());
            }
            Err(error) => return Err(Error::io(path)(error)),
        };
        Ok(super::xml::open(keys, &sealed)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default())
    }

    /// Writes the record durably (removes it when no restore is left in it).
    fn write(&self, path: &Path, keys: &RecordKeys<'_>) -> Result<()> {
        if self.jobs.is_empty() {
            return match fs::remove_file(path) {
                Ok(()) => arca_cryptor::sync_parent_dir(path).map_err(Error::io(path)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(Error::io(path)(error)),
            };
        }
        let text = serde_json::to_vec(self).map_err(|error| Error::io(path)(error.into()))?;
        let sealed = super::xml::seal(keys, &text).map_err(Error::Crypto)?;
        write_atomically_private(path, &sealed).map_err(Error::io(path))?;
        arca_cryptor::crash_point("restore: job recorded");
        Ok(())
    }

    /// Takes out the restore of `chosen`, if one was stopped.
    fn take(&mut self, chosen: &[Uuid]) -> Option<RestoreJob> {
        let index = self.jobs.iter().position(|job| job.chosen == chosen)?;
        Some(self.jobs.remove(index))
    }
}

/// One item to restore, as it will be in the Safe.
struct Planned {
    /// The attributes it gets (UUID, parent, name and trash state may differ from the backup).
    record: Record,
    /// Its UUID in the backup (names its data file there).
    source: Uuid,
    /// Its folder in the backup, if restored under another UUID.
    source_parent: Option<Uuid>,
    /// For items chosen by the user: the clash rule; others keep both silently.
    on_clash: Option<OnClash>,
}

/// Why a planned item is not in the Safe after its turn: what is inside it follows it.
enum LeftOut {
    /// Its name was taken and the user chose to skip: listed once, with what is inside it.
    Skipped,
    /// It could not be restored; its path in the backup, for what is inside it.
    Failed(String),
}

/// Restores the backup in `target` into a new Safe at `new_safe`, which gets the backup's key
/// files (same keys, same Safe UUID, same password and recovery key). Item UUIDs are kept.
///
/// If `new_safe` is a folder left by an interrupted restore of this backup, the restore is
/// resumed.
///
/// # Errors
/// [`Error::AlreadyExists`] if `new_safe` is a Safe or a folder that is not an interrupted
/// restore of this backup; as [`super::verify_backup`] for opening the backup; [`Error::Io`]
/// if the new Safe cannot be written (running the restore again resumes it).
pub fn restore_backup(
    target: &Path,
    unlock: Unlock<'_>,
    backoff: &Backoff,
    new_safe: &Path,
    control: &JobControl,
    observer: Observer<'_>,
) -> Result<RestoreReport> {
    crate::layout::refuse_target_in_backup(target, new_safe)?;
    crate::layout::refuse_new_safe_inside_another(new_safe)?;
    let (layout, manifest, keys) = open_backup(target, unlock, backoff)?;
    let safe_layout = Layout::new(new_safe);
    let _lock = prepare_new_safe(&layout, &safe_layout)?;
    let mut db = db::open(
        &safe_layout.database(),
        &keys,
        db::DbAccess::Write { create: true },
    )?;
    changes::init_device(&db)?;

    let record_keys = RecordKeys::for_version(&keys, manifest.version);
    let catalogue = Catalogue::load(&layout, &manifest, &record_keys)?;
    let mut report = RestoreReport {
        interrupted_backup: catalogue.interrupted,
        failed: catalogue.problems.clone(),
        ..RestoreReport::default()
    };
    let plan = catalogue
        .parents_first()
        .into_iter()
        .map(|id| Planned {
            record: catalogue.records[&id].clone(),
            source: id,
            source_parent: None,
            on_clash: None,
        })
        .collect();
    restore_planned(
        &mut db,
        &keys,
        &layout,
        &safe_layout,
        &catalogue,
        plan,
        control,
        observer,
        &mut report,
    )?;
    if report.cancelled {
        return Ok(report);
    }
    drop(db);
    Manifest::new(manifest.safe_id, manifest.iterations()?).write(&safe_layout.manifest())?;
    arca_cryptor::sync_parent_dir(&safe_layout.manifest()).map_err(Error::io(new_safe))?;
    arca_cryptor::crash_point("restore: safe.json written");
    Ok(report)
}

/// Creates the new Safe's folder with the backup's key files, or finds an interrupted restore
/// of the same backup there; removes what an interrupted restore left half-written. The new
/// Safe's writer lock is held until the restore ends.
fn prepare_new_safe(layout: &BackupLayout, safe: &Layout) -> Result<WriterLock> {
    let root = safe.root();
    let key_file = fs::read(layout.key_file()).map_err(Error::io(layout.key_file()))?;
    match fs::read_dir(root) {
        Ok(entries) => {
            // Left by an interrupted restore of this backup: no safe.json yet, and its key file
            // (or only the temporary file of it).
            let names: Vec<String> = entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .filter(|name| name != LOCK_FILE)
                .collect();
            let resumable = !safe.manifest().exists()
                && (fs::read(safe.key_file()).ok().as_deref() == Some(key_file.as_slice())
                    || names.iter().all(|name| name.ends_with(".tmp")));
            if !names.is_empty() && !resumable {
                return Err(Error::AlreadyExists(root.to_path_buf()));
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = root.parent() {
                fs::create_dir_all(parent).map_err(Error::io(parent))?;
            }
            crate::safe::create_private_dir(root)?;
        }
        Err(error) => return Err(Error::io(root)(error)),
    }
    let lock = WriterLock::acquire(root).map_err(|refused| match refused {
        Refused::Held(holder) => Error::LockedByOther {
            what: "the Safe",
            holder,
        },
        Refused::ReadOnly => {
            Error::io(root)(std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem))
        }
        Refused::Io(error) => Error::io(root)(error),
    })?;
    for (from, to) in [
        (layout.key_file(), safe.key_file()),
        (layout.recovery_file(), safe.recovery_file()),
    ] {
        let Ok(bytes) = fs::read(&from) else { continue };
        if fs::read(&to).ok().as_deref() != Some(bytes.as_slice()) {
            write_atomically_private(&to, &bytes).map_err(Error::io(&to))?;
            arca_cryptor::crash_point("restore: key file copied");
        }
    }
    safe.prepare_shards().map_err(Error::store(None))?;
    for entry in shard_entries(&safe.files_dir(), DATA_SUFFIX)? {
        if let ShardEntry::Temporary(path) = entry {
            fs::remove_file(&path).map_err(Error::store(None))?;
        }
    }
    for entry in fs::read_dir(root).map_err(Error::io(root))? {
        let path = entry.map_err(Error::io(root))?.path();
        if path.is_file() && path.to_string_lossy().ends_with(".tmp") {
            fs::remove_file(&path).map_err(Error::io(&path))?;
        }
    }
    Ok(lock)
}

impl Safe {
    /// Restores the items at `paths` (paths in the backed-up Safe, such as `/Photos/2024`), with
    /// everything in them, from the backup in `target` into this Safe, which must be the Safe
    /// backed up (same keys). Each goes where `options.into` says; a name taken there is
    /// handled by `options.on_clash`, as in import, and a folder skipped or not restored takes
    /// everything inside it along (never to the root). Items get new UUIDs only where theirs
    /// is still in use. Trashed items inside a chosen folder are left out, as in export. A path
    /// inside another chosen path is restored as part of it.
    ///
    /// Stopped (cancelled, the Safe locked, killed, a full disk), it leaves a consistent Safe
    /// with what it restored so far; running the restore of the same items again completes
    /// it: what the stopped run restored is kept as it is ([`RestoreReport::already_restored`])
    /// and never restored a second time beside itself.
    ///
    /// # Errors
    /// [`Error::ForeignBackup`] for a backup of another Safe, [`Error::PathNotFound`] for a path
    /// the backup does not hold (nothing is restored then), [`Error::NotAFolder`] /
    /// [`Error::NotFound`] for `options.into`, [`Error::ReadOnly`], [`Error::Io`].
    pub fn restore_items_from_backup(
        &self,
        target: &Path,
        paths: &[String],
        options: &RestoreItemsOptions,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<RestoreReport> {
        self.job(control, true, |open| {
            open.restore_items(target, paths, options, control, observer)
        })
    }
}

impl Open<'_> {
    /// Restores the items at `paths` (paths in the backed-up Safe, such as `/Photos/2024`), with
    /// everything in them, from the backup in `target` into this Safe, which must be the Safe
    /// backed up (same keys). Each goes where `options.into` says; a name taken there is
    /// handled by `options.on_clash`, as in import, and a folder skipped or not restored takes
    /// everything inside it along (never to the root). Items get new UUIDs only where theirs
    /// is still in use. Trashed items inside a chosen folder are left out, as in export. A path
    /// inside another chosen path is restored as part of it.
    ///
    /// # Errors
    /// [`Error::ForeignBackup`] for a backup of another Safe, [`Error::PathNotFound`] for a path
    /// the backup does not hold (nothing is restored then), [`Error::NotAFolder`] /
    /// [`Error::NotFound`] for `options.into`, [`Error::Io`].
    fn restore_items(
        &mut self,
        target: &Path,
        paths: &[String],
        options: &RestoreItemsOptions,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<RestoreReport> {
        let layout = BackupLayout::new(target);
        let manifest = BackupManifest::read_of_safe(target, &layout.manifest(), self.id())?;
        if let RestoreInto::Folder(folder) = options.into {
            self.check_folder(Some(folder))?;
        }
        let record_keys = RecordKeys::for_version(self.keys(), manifest.version);
        let catalogue = Catalogue::load(&layout, &manifest, &record_keys)?;
        let tops = paths
            .iter()
            .map(|path| {
                find_path(&catalogue, path).ok_or_else(|| Error::PathNotFound(path.clone()))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut subtrees: Vec<(Uuid, Vec<Uuid>)> = tops
            .iter()
            .map(|top| (*top, subtree_without_trash(&catalogue, *top)))
            .collect();
        // A chosen item inside another chosen folder goes with that folder, not on its own.
        let nested: HashSet<Uuid> = subtrees
            .iter()
            .flat_map(|(top, below)| below.iter().filter(move |id| *id != top))
            .copied()
            .collect();
        subtrees.sort_by_key(|(top, _)| nested.contains(top));
        let mut report = RestoreReport {
            interrupted_backup: catalogue.interrupted,
            ..RestoreReport::default()
        };
        if tops
            .iter()
            .any(|top| catalogue.records[top].item.kind == Kind::Folder)
        {
            report.failed.extend(unreadable(&catalogue));
        }
        // A restore of the same items that was stopped: its UUIDs are reused, so what it
        // restored is found in the Safe and kept, never restored twice.
        let record_keys_now = RecordKeys::Derived(
            self.keys()
                .derived_keys(arca_cryptor::KeyPurpose::BackupRecords),
        );
        let jobs_path = self.layout().root().join(RESTORE_JOBS);
        let mut jobs = RestoreJobs::read(&jobs_path, &record_keys_now)?;
        let mut key: Vec<Uuid> = tops.clone();
        key.sort_unstable();
        key.dedup();
        let earlier = jobs.take(&key);
        let mut plan = Vec::new();
        let mut new_ids: HashMap<Uuid, Uuid> = HashMap::new();
        let mut given: BTreeMap<Uuid, Uuid> = BTreeMap::new();
        let mut chosen = HashSet::new();
        for (_, subtree) in subtrees {
            for (depth, id) in subtree.into_iter().enumerate() {
                if !chosen.insert(id) {
                    continue;
                }
                let mut record = catalogue.records[&id].clone();
                let source_parent = record.item.parent;
                let new_id = match &earlier {
                    Some(earlier) => {
                        let given = earlier.new_ids.get(&id).copied().unwrap_or(id);
                        // Put in the trash since the stopped run restored it: restored anew.
                        if query::in_trash(self.db(), given)? {
                            Uuid::new_v4()
                        } else {
                            given
                        }
                    }
                    None if crate::query::item(self.db(), id).is_ok() => Uuid::new_v4(),
                    None => id,
                };
                if new_id != id {
                    given.insert(id, new_id);
                }
                new_ids.insert(id, new_id);
                record.item.id = new_id;
                if depth == 0 {
                    record.item.trashed_at = None;
                    record.item.parent = match options.into {
                        RestoreInto::Folder(folder) => Some(folder),
                        RestoreInto::Root => None,
                        RestoreInto::Original => {
                            source_parent.filter(|parent| self.check_folder(Some(*parent)).is_ok())
                        }
                    };
                } else {
                    record.item.parent =
                        source_parent.and_then(|parent| new_ids.get(&parent).copied());
                }
                plan.push(Planned {
                    record,
                    source: id,
                    source_parent,
                    on_clash: (depth == 0).then_some(options.on_clash),
                });
            }
        }
        // Recorded before anything is restored: killed at any point, the next run finds it.
        jobs.jobs.push(RestoreJob {
            chosen: key.clone(),
            new_ids: given,
        });
        jobs.write(&jobs_path, &record_keys_now)?;
        let safe_layout = self.layout().clone();
        let (keys, _, db) = self.parts();
        restore_planned(
            db,
            keys,
            &layout,
            &safe_layout,
            &catalogue,
            plan,
            control,
            observer,
            &mut report,
        )?;
        if !report.cancelled {
            forget_restore(&jobs_path, &record_keys_now, &key)?;
        }
        Ok(report)
    }
}

/// Removes the restore of `chosen` from the record in `path`: it has run to its end.
fn forget_restore(path: &Path, keys: &RecordKeys<'_>, chosen: &[Uuid]) -> Result<()> {
    let mut jobs = RestoreJobs::read(path, keys)?;
    if jobs.take(chosen).is_some() {
        jobs.write(path, keys)?;
    }
    Ok(())
}

/// The item at `path` in the backup, preferring one outside the trash.
fn find_path(catalogue: &Catalogue, path: &str) -> Option<Uuid> {
    let wanted = format!("/{}", query::components(path).join("/"));
    let mut found: Option<(Uuid, bool)> = None;
    for id in catalogue.records.keys() {
        if catalogue.path_of(*id).as_deref() != Some(wanted.as_str()) {
            continue;
        }
        let trashed = catalogue.in_trash(*id);
        if found.is_none_or(|(_, found_trashed)| found_trashed && !trashed) {
            found = Some((*id, trashed));
        }
    }
    found.map(|(id, _)| id)
}

/// The items of the backup whose attribute file cannot be read, each with what the backup can
/// still read inside it: where they were is unknown, so any of them may have been inside a
/// chosen folder.
fn unreadable(catalogue: &Catalogue) -> Vec<ItemProblem> {
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for record in catalogue.records.values() {
        if let Some(parent) = record.item.parent {
            children.entry(parent).or_default().push(record.item.id);
        }
    }
    catalogue
        .problems
        .iter()
        .filter(|problem| problem.item.is_some_and(|id| catalogue.bad.contains(&id)))
        .map(|problem| {
            let inside = problem.item.map_or(0, |id| {
                let mut stack = vec![id];
                let mut seen = HashSet::from([id]);
                while let Some(current) = stack.pop() {
                    for child in children.get(&current).into_iter().flatten() {
                        if seen.insert(*child) {
                            stack.push(*child);
                        }
                    }
                }
                seen.len() - 1
            });
            let what = if inside == 0 {
                "it".to_owned()
            } else {
                format!("it and the {inside} item(s) in it")
            };
            ItemProblem {
                kind: ProblemKind::RecordUnreadable,
                problem: format!(
                    "{}; where it was in the Safe is unknown, so {what} may have been inside a \
                     chosen folder and could not be restored",
                    problem.problem
                ),
                ..problem.clone()
            }
        })
        .collect()
}

/// `top` and everything below it that is not in the trash, parents first.
fn subtree_without_trash(catalogue: &Catalogue, top: Uuid) -> Vec<Uuid> {
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for record in catalogue.records.values() {
        if let Some(parent) = record.item.parent
            && record.item.trashed_at.is_none()
        {
            children.entry(parent).or_default().push(record.item.id);
        }
    }
    let mut out = vec![top];
    let mut seen = HashSet::from([top]);
    let mut next = 0;
    while next < out.len() {
        if let Some(below) = children.get(&out[next]) {
            for id in below {
                if seen.insert(*id) {
                    out.push(*id);
                }
            }
        }
        next += 1;
    }
    out
}

/// Restores the planned items in order: each file's data file is copied and verified, then the
/// items are recorded, [`BATCH`] per transaction.
#[allow(clippy::too_many_arguments)]
fn restore_planned(
    db: &mut Connection,
    keys: &SafeKeys,
    layout: &BackupLayout,
    safe_layout: &Layout,
    catalogue: &Catalogue,
    plan: Vec<Planned>,
    control: &JobControl,
    observer: Observer<'_>,
    report: &mut RestoreReport,
) -> Result<()> {
    let existing: HashSet<Uuid> = db
        .prepare("SELECT id FROM items")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tag_ids: HashMap<String, Uuid> = db
        .prepare("SELECT name, id FROM tags")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let files = plan
        .iter()
        .filter(|planned| planned.record.item.kind == Kind::File);
    let mut reporter = Reporter::new(
        observer,
        Progress::new(
            files.clone().count() as u64,
            files.map(|planned| planned.record.item.size).sum(),
        ),
    );
    for problem in &report.failed {
        reporter.problem(problem);
    }
    reporter.phase(Phase::Copying);
    // Items of the plan now in the Safe (restored earlier or now): children may go below them.
    let mut placed: HashSet<Uuid> = HashSet::new();
    // Items of the plan that are not: what is inside them stays out too.
    let mut left_out: HashMap<Uuid, LeftOut> = HashMap::new();
    let mut changes = ChangeSet::begin(db)?;
    changes.defer_search();
    let mut in_batch = 0;
    let mut restored_chunks = Vec::new();
    for planned in plan {
        if !control.proceed() {
            report.cancelled = true;
            break;
        }
        let Planned {
            mut record,
            source,
            source_parent,
            on_clash,
        } = planned;
        let id = record.item.id;
        let path = catalogue.path_of(source);
        let note = |kind: ProblemKind, problem: String| {
            ItemProblem::new(kind, problem)
                .item(source)
                .path(path.clone())
        };
        if existing.contains(&id) {
            // Restored by an earlier, stopped run of this restore.
            placed.insert(id);
            report.already_restored += 1;
            if record.item.kind == Kind::File && record.item.content == Content::Present {
                reporter.progress.files_done += 1;
                reporter.progress.bytes_done += record.item.size;
                reporter.report(false);
            }
            continue;
        }
        if on_clash.is_none()
            && let Some(parent) = record.item.parent
            && !placed.contains(&parent)
        {
            match left_out.get(&parent) {
                Some(LeftOut::Skipped) => {
                    left_out.insert(id, LeftOut::Skipped);
                    continue;
                }
                Some(LeftOut::Failed(folder)) => {
                    let problem = format!("its folder {folder} could not be restored");
                    left_out.insert(id, LeftOut::Failed(folder.clone()));
                    let problem = note(ProblemKind::FolderMissing, problem);
                    reporter.problem(&problem);
                    report.failed.push(problem);
                    continue;
                }
                None => {
                    // Only in a full restore: its folder is not in the plan because the backup
                    // cannot read it (listed as failed) or does not hold it.
                    record.item.parent = None;
                    let folder = source_parent.or(catalogue.records[&source].item.parent);
                    let listed = folder.and_then(|folder| {
                        catalogue
                            .problems
                            .iter()
                            .find(|problem| problem.item == Some(folder))
                    });
                    let folder = folder.map(|p| p.to_string()).unwrap_or_default();
                    report.notes.push(note(ProblemKind::FolderMissing, match listed {
                        Some(problem) => format!(
                            "its folder {}({folder}) could not be restored (it is listed): \
                             restored at the root",
                            problem
                                .path
                                .as_ref()
                                .map(|name| format!("{name:?} "))
                                .unwrap_or_default()
                        ),
                        None => {
                            format!(
                                "its folder ({folder}) is not in the backup: restored at the root"
                            )
                        }
                    }));
                }
            }
        }
        if record.item.trashed_at.is_none()
            && let Some(existing) =
                query::live_child(changes.reader(), record.item.parent, &record.item.name)?
        {
            match on_clash.unwrap_or_default() {
                OnClash::Skip => {
                    report.skipped.push(note(
                        ProblemKind::Skipped,
                        format!("skipped: {:?} is already in the Safe", record.item.name),
                    ));
                    left_out.insert(id, LeftOut::Skipped);
                    continue;
                }
                OnClash::Replace => {
                    changes.apply(Change::UpdateItem {
                        id: existing.id,
                        update: ItemUpdate {
                            trashed_at: Some(Some(changes.at())),
                            ..ItemUpdate::default()
                        },
                    })?;
                }
                OnClash::KeepBoth => {
                    let name = free_name_where(&record.item.name, |candidate| {
                        Ok(
                            query::live_child(changes.reader(), record.item.parent, candidate)?
                                .is_some(),
                        )
                    })?;
                    if on_clash.is_none() {
                        report.notes.push(note(
                            ProblemKind::Renamed,
                            format!("its name was taken: restored as {name:?}"),
                        ));
                    }
                    record.item.name = name;
                }
            }
        }
        let item = &record.item;
        match (item.kind, item.content) {
            (Kind::File, Content::Present) => {
                let mut source_item = item.clone();
                source_item.id = source;
                match check_or_copy(
                    keys,
                    &source_item,
                    &layout.data_file(source),
                    CopyTo::Durable(&safe_layout.data_file(id)),
                    true,
                    control,
                ) {
                    Ok((bytes, chunks)) => {
                        report.files += 1;
                        report.bytes += bytes;
                        restored_chunks.push((id, chunks));
                    }
                    Err(DataError::Source(kind, reason)) => {
                        let problem =
                            note(kind, reason).file(layout.relative(&layout.data_file(source)));
                        reporter.problem(&problem);
                        report.failed.push(problem);
                        left_out.insert(
                            id,
                            LeftOut::Failed(path.clone().unwrap_or_else(|| source.to_string())),
                        );
                        continue;
                    }
                    Err(DataError::Io(error)) => return Err(error),
                    Err(DataError::Stopped) => {
                        report.cancelled = true;
                        break;
                    }
                }
                reporter.progress.files_done += 1;
                reporter.progress.bytes_done += item.size;
                reporter.report(false);
            }
            (Kind::File, _) => {
                report.notes.push(note(
                    ProblemKind::DataMissing,
                    "its content was missing in the Safe when it was backed up: restored without content".to_owned(),
                ));
                report.files += 1;
                record.item.content = Content::Missing;
            }
            (Kind::Folder, _) => report.folders += 1,
        }
        let tags = std::mem::take(&mut record.tags);
        let tag = record.item.hmac_tag;
        insert_tagged(&mut changes, record.item, tags, &mut tag_ids)?;
        for (item, chunks) in restored_chunks.drain(..) {
            if let Some(tag) = tag {
                store_chunks(changes.reader(), item, &tag, &chunks)?;
            }
        }
        placed.insert(id);
        in_batch += 1;
        if in_batch >= BATCH {
            changes.commit()?;
            arca_cryptor::crash_point("restore: batch recorded");
            changes = ChangeSet::begin(db)?;
            changes.defer_search();
            in_batch = 0;
        }
    }
    changes.commit()?;
    arca_cryptor::crash_point("restore: batch recorded");
    reporter.phase(Phase::Finished);
    Ok(())
}

/// Inserts `item` with its tags, creating each tag the Safe does not have yet (`tag_ids` maps
/// the names known so far to their UUIDs).
pub(super) fn insert_tagged(
    changes: &mut ChangeSet<'_>,
    item: Item,
    tags: Vec<String>,
    tag_ids: &mut HashMap<String, Uuid>,
) -> Result<()> {
    let id = item.id;
    changes.apply(Change::InsertItem(item))?;
    for tag in tags {
        let tag_id = match tag_ids.get(&tag) {
            Some(tag_id) => *tag_id,
            None => {
                let tag_id = Uuid::new_v4();
                changes.apply(Change::InsertTag {
                    id: tag_id,
                    name: tag.clone(),
                })?;
                tag_ids.insert(tag, tag_id);
                tag_id
            }
        };
        changes.apply(Change::TagItem {
            item: id,
            tag: tag_id,
        })?;
    }
    Ok(())
}
