//! An incremental backup run.
//!
//! An unchanged item costs two cheap tests: the backup's data file has the recorded length and
//! trailing HMAC tag (the tag authenticates the whole file, so equal tags mean equal files unless
//! the copy was damaged in the middle, which `verify --full` finds), and its existing XML
//! decrypts to exactly the XML generated afresh from the database. Everything else is written
//! under a temporary name and renamed into place, data file before XML. The new index, the
//! removal of deleted items and the manifest's `last_complete` come last, in that order.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;

use arca_cryptor::{SafeKeys, write_atomically_deferred, write_atomically_private};
use uuid::Uuid;

use super::RecordKeys;
use super::data::{CopyTo, DataError, check_or_copy};
use super::layout::{BackupLayout, DATA_SUFFIX, ShardEntry, XML_SUFFIX, shard_entries};
use super::manifest::BackupManifest;
use super::xml::{self, Index, IndexEntry, Record, SealedIndex};
use super::{BackupOptions, BackupReport};
use crate::data_file::{has_tag, recorded_tag};
use crate::error::{Error, Result};
use crate::item::{Content, Kind};
use crate::job::{JobControl, Observer, Phase, Progress, Reporter};
use crate::layout::Layout;
use crate::lock::{LOCK_FILE, Refused, WriterLock};
use crate::problem::{ItemProblem, ProblemKind};
use crate::query::{self, ITEM_COLUMNS};
use crate::safe::{Open, Safe};
use crate::time;

/// What happened to one item.
enum Outcome {
    Done {
        xml_written: bool,
        data_copied: Option<u64>,
        entry: IndexEntry,
    },
    /// Its data file in the Safe is missing or damaged.
    Failed(ProblemKind, String),
    /// The run was stopped while its data file was being read: nothing of it was written.
    Stopped,
}

impl Safe {
    /// Backs the Safe up into the folder `target` (created if missing; otherwise it must be
    /// empty or a backup of this Safe). Incremental: items whose data file and attributes are
    /// unchanged are skipped; changed ones are replaced atomically; items deleted from the Safe
    /// are removed unless `options.keep_deleted`. With `options.items`, only those items (and
    /// the folders they are in) are backed up and nothing else in the backup changes.
    ///
    /// A file whose data file in the Safe is damaged is not copied and is listed in
    /// [`BackupReport::failed`] (and reported as it happens); the rest is backed up. Cancelling
    /// (through `control`), locking the Safe or a crash leaves a backup that verify and restore
    /// read correctly and the next run completes. One run at a time holds the backup's lock.
    /// Works on a Safe open for reading.
    ///
    /// # Errors
    /// [`Error::NotABackup`] if `target` is a non-empty folder that is not a backup,
    /// [`Error::ForeignBackup`] if it is a backup of another Safe, [`Error::NewerFormat`],
    /// [`Error::DamagedBackup`] for an unreadable `backup.json`, [`Error::LockedByOther`] while
    /// another run writes to it, [`Error::Io`] if the target cannot be written (disk full…):
    /// the next run completes the backup.
    pub fn backup(
        &self,
        target: &Path,
        options: &BackupOptions,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<BackupReport> {
        self.job(control, false, |open| {
            open.backup(target, options, control, observer)
        })
    }
}

impl Open<'_> {
    fn backup(
        &self,
        target: &Path,
        options: &BackupOptions,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<BackupReport> {
        crate::layout::refuse_target_in_safe(self.layout().root(), target)?;
        let layout = BackupLayout::new(target);
        let (_lock, mut manifest) = prepare_target(&layout, self.id(), &self.manifest().kdf)?;
        let old_keys = RecordKeys::for_version(self.keys(), manifest.version);
        let old_index = read_index(&layout, &old_keys);
        let keys = RecordKeys::for_version(self.keys(), super::BACKUP_FORMAT_VERSION);
        // Copies are synced once at the end of a run: after an interrupted one, a data file's
        // tail is no proof that the rest of it reached the disk, so each is read in full.
        let verify_copies = match &old_index {
            Some(index) if manifest.version >= 2 => index.run_in_progress,
            _ => manifest.is_interrupted() || manifest.version < super::BACKUP_FORMAT_VERSION,
        };
        manifest.last_started = Some(time::now_ns().max(manifest.last_complete.unwrap_or(0) + 1));
        manifest.version = super::BACKUP_FORMAT_VERSION;
        manifest.write(&layout.manifest())?;
        let old_entries = old_index.map(|index| index.entries);
        // Until the run completes, records may differ from the index: say so inside it.
        write_index(
            &layout,
            &keys,
            &SealedIndex {
                entries: old_entries.clone().unwrap_or_default(),
                run_in_progress: true,
            },
        )?;
        copy_key_files(self.layout(), &layout)?;
        let strays = remove_temporaries(&layout)?;

        let mut reporter = Reporter::new(observer, Progress::new(0, 0));
        reporter.phase(Phase::Planning);
        let mut report = BackupReport::default();
        for stray in strays {
            reporter.problem(&stray);
            report.strays.push(stray);
        }
        let (records, pending) = self.snapshot(options.items.as_deref())?;
        for id in &pending {
            let problem = ItemProblem::new(
                ProblemKind::Pending,
                "its import has not finished: left out of this run",
            )
            .item(*id)
            .path(self.path_of(*id).ok());
            reporter.problem(&problem);
            report.pending.push(problem);
        }
        let outcomes = self.back_up_items(
            &layout,
            &keys,
            &records,
            verify_copies,
            options.threads,
            control,
            &mut reporter,
        )?;

        let mut index = Index::new();
        for (record, outcome) in records.iter().zip(outcomes) {
            let id = record.item.id;
            match outcome {
                Some(Outcome::Done {
                    xml_written,
                    data_copied,
                    entry,
                }) => {
                    report.items += 1;
                    report.xml_written += u64::from(xml_written);
                    if let Some(bytes) = data_copied {
                        report.data_files_copied += 1;
                        report.bytes_copied += bytes;
                    }
                    if !xml_written && data_copied.is_none() {
                        report.unchanged += 1;
                    }
                    index.insert(id, entry);
                }
                Some(Outcome::Failed(kind, problem)) => {
                    let problem = ItemProblem::new(kind, problem)
                        .item(id)
                        .path(self.path_of(id).ok());
                    reporter.problem(&problem);
                    report.failed.push(problem);
                    // What an earlier run stored for it stays, consistent as it was.
                    if let Some(old) = old_entries.as_ref().and_then(|old| old.get(&id))
                        && layout.xml_file(id).exists()
                    {
                        index.insert(id, old.clone());
                    }
                }
                Some(Outcome::Stopped) | None => report.cancelled = true,
            }
        }
        // Stopped after the last item: no clean-up and no completion either. The index still
        // says a run is under way, so the next run completes this one.
        if report.cancelled || control.stopped().is_some() {
            report.cancelled = true;
            return Ok(report);
        }

        reporter.phase(Phase::CleaningUp);
        let in_safe: HashSet<Uuid> = self.all_item_ids()?;
        let in_run: HashSet<Uuid> = records.iter().map(|record| record.item.id).collect();
        let (doomed_xml, doomed_data) = self.deleted_items(
            &layout,
            &keys,
            &in_safe,
            &in_run,
            old_entries.as_ref(),
            options,
            &mut index,
            &mut report,
        )?;
        // Every copy and attribute file of this run reaches the disk before the index and the
        // manifest say the run is complete.
        crate::layout::sync_file_system(target).map_err(Error::io(target))?;
        let mut sealed = SealedIndex {
            entries: index,
            run_in_progress: !doomed_xml.is_empty() || !doomed_data.is_empty(),
        };
        if sealed.run_in_progress {
            // The new index goes first (it never names an item whose files are about to go),
            // still saying a run is under way until they are gone.
            write_index(&layout, &keys, &sealed)?;
            arca_cryptor::crash_point("backup: index written");
            // Attribute files before data files: an XML never names a data file already gone;
            // and what is in a folder before the folder.
            let doomed_xml = children_first(&keys, doomed_xml);
            for path in doomed_xml.iter().chain(&doomed_data) {
                match fs::remove_file(path) {
                    Ok(()) => arca_cryptor::crash_point("backup: deleted item removed"),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(Error::io(path)(error)),
                }
            }
            sealed.run_in_progress = false;
        }
        write_index(&layout, &keys, &sealed)?;
        arca_cryptor::crash_point("backup: index written");
        let completed = time::now_ns().max(manifest.last_started.unwrap_or(0) + 1);
        manifest.last_complete = Some(completed);
        manifest.write(&layout.manifest())?;
        arca_cryptor::sync_parent_dir(&layout.manifest()).map_err(Error::io(target))?;
        report.completed_at = Some(completed);
        reporter.phase(Phase::Finished);
        Ok(report)
    }

    fn all_item_ids(&self) -> Result<HashSet<Uuid>> {
        Ok(self
            .db()
            .prepare("SELECT id FROM items")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Every item (or, with `chosen`, the chosen ones with everything in them and the folders
    /// they are in) with its tags, read in one transaction so the run sees one state of the
    /// Safe; files still being imported are returned apart.
    fn snapshot(&self, chosen: Option<&[Uuid]>) -> Result<(Vec<Record>, Vec<Uuid>)> {
        let transaction = self.db().unchecked_transaction()?;
        let wanted: Option<HashSet<Uuid>> = match chosen {
            None => None,
            Some(chosen) => {
                let mut wanted = HashSet::new();
                for &id in chosen {
                    wanted.extend(
                        query::subtree(&transaction, id)?
                            .into_iter()
                            .map(|item| item.id),
                    );
                    let mut parent = query::item(&transaction, id)?.parent;
                    while let Some(folder) = parent {
                        if !wanted.insert(folder) {
                            break;
                        }
                        parent = query::item(&transaction, folder)?.parent;
                    }
                }
                Some(wanted)
            }
        };
        let mut tags: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        {
            let mut statement = transaction.prepare(
                "SELECT item_tags.item, tags.name FROM item_tags JOIN tags ON tags.id = item_tags.tag
                 ORDER BY tags.name",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                tags.entry(row.get(0)?).or_default().push(row.get(1)?);
            }
        }
        let items: Vec<crate::item::Item> = transaction
            .prepare(&format!("SELECT {ITEM_COLUMNS} FROM items ORDER BY id"))?
            .query_map([], query::item_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        drop(transaction);
        let mut folders = Vec::new();
        let mut files = Vec::new();
        let mut pending = Vec::new();
        for item in items {
            if wanted
                .as_ref()
                .is_some_and(|wanted| !wanted.contains(&item.id))
            {
                continue;
            }
            if item.kind == Kind::File && item.content == Content::Pending {
                pending.push(item.id);
                continue;
            }
            let tags = tags.remove(&item.id).unwrap_or_default();
            match item.kind {
                Kind::Folder => folders.push(Record { item, tags }),
                Kind::File => files.push(Record { item, tags }),
            }
        }
        let mut records = parents_first(folders);
        records.extend(files);
        Ok((records, pending))
    }

    /// Backs up every record on worker threads; `None` for records not reached (stopped).
    #[allow(clippy::too_many_arguments)]
    fn back_up_items(
        &self,
        layout: &BackupLayout,
        record_keys: &RecordKeys<'_>,
        records: &[Record],
        verify_copies: bool,
        threads: Option<usize>,
        control: &JobControl,
        reporter: &mut Reporter<'_>,
    ) -> Result<Vec<Option<Outcome>>> {
        let files = records
            .iter()
            .filter(|record| record.item.kind == Kind::File);
        reporter.progress = Progress::new(
            records.len() as u64,
            files.map(|record| record.item.size).sum(),
        );
        reporter.phase(Phase::Copying);
        // Creating a file waits on the file system's inode allocation more than on the CPU:
        // more threads than cores keep both busy.
        let threads = threads
            .unwrap_or_else(|| {
                thread::available_parallelism()
                    .map_or(1, usize::from)
                    .max(8)
            })
            .clamp(1, records.len().max(1));
        let item = ItemBackup {
            keys: self.keys(),
            record_keys,
            safe_layout: self.layout(),
            layout,
            verify_copy: verify_copies,
            control,
        };
        let mut outcomes: Vec<Option<Outcome>> = (0..records.len()).map(|_| None).collect();
        // Folders first, one after the other, parents before children: an item's XML is never
        // in the backup before its folder's, so even a killed run restores it in its folder.
        let folders = records
            .iter()
            .take_while(|record| record.item.kind == Kind::Folder)
            .count();
        for (index, record) in records[..folders].iter().enumerate() {
            if !control.proceed() {
                return Ok(outcomes);
            }
            outcomes[index] = Some(item.back_up(record)?);
            reporter.progress.files_done += 1;
            reporter.report(false);
        }
        let next = AtomicUsize::new(folders);
        let stop = AtomicBool::new(false);
        let mut failure = None;
        thread::scope(|scope| {
            let (sender, receiver) = mpsc::sync_channel::<(usize, Result<Outcome>)>(threads * 4);
            for _ in 0..threads {
                let sender = sender.clone();
                let (next, stop, item) = (&next, &stop, &item);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) && control.proceed() {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(record) = records.get(index) else {
                            break;
                        };
                        let outcome = item.back_up(record);
                        if outcome.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if sender.send((index, outcome)).is_err() {
                            break;
                        }
                    }
                    // The thread's stack outlives it: no key copy stays there.
                    arca_cryptor::scrub_stack();
                });
            }
            drop(sender);
            for (index, outcome) in receiver.iter() {
                match outcome {
                    Ok(outcome) => {
                        reporter.progress.files_done += 1;
                        reporter.progress.bytes_done += records[index].item.size;
                        reporter.progress.current = Some(records[index].item.name.clone());
                        reporter.report(false);
                        outcomes[index] = Some(outcome);
                    }
                    Err(error) => {
                        failure.get_or_insert(error);
                    }
                }
            }
        });
        reporter.progress.current = None;
        reporter.report(true);
        match failure {
            Some(error) => Err(error),
            None => Ok(outcomes),
        }
    }

    /// Items in the backup that were not part of this run. In a run of chosen items, every one
    /// of them stays as it is (still in the Safe or deleted from it since: the run is about the
    /// chosen items only); in a full run, those deleted from the Safe stay only with
    /// `keep_deleted`. Kept items stay in the index; the others' files are returned for
    /// removal. Data files no attribute file refers to (left by an interrupted run) are removed
    /// either way.
    #[allow(clippy::too_many_arguments)]
    fn deleted_items(
        &self,
        layout: &BackupLayout,
        keys: &RecordKeys<'_>,
        in_safe: &HashSet<Uuid>,
        in_run: &HashSet<Uuid>,
        old_index: Option<&Index>,
        options: &BackupOptions,
        index: &mut Index,
        report: &mut BackupReport,
    ) -> Result<(Vec<std::path::PathBuf>, Vec<std::path::PathBuf>)> {
        let mut doomed_xml = Vec::new();
        let mut kept = HashSet::new();
        for entry in shard_entries(&layout.items_dir(), XML_SUFFIX)? {
            let ShardEntry::Named(id, path) = entry else {
                continue;
            };
            if in_run.contains(&id) {
                continue;
            }
            let still_in_safe = in_safe.contains(&id);
            let chosen_run = options.items.is_some();
            let keep = still_in_safe || options.keep_deleted || chosen_run;
            let entry = keep
                .then(|| kept_entry(keys, &path, old_index.and_then(|old| old.get(&id))))
                .flatten();
            match entry {
                Some(entry) => {
                    if !still_in_safe {
                        report.kept_deleted += 1;
                    }
                    kept.insert(id);
                    index.insert(id, entry);
                }
                None if chosen_run => {
                    // Not chosen, and its record does not open: left for a full run to mend.
                    kept.insert(id);
                }
                None => {
                    report.removed += 1;
                    doomed_xml.push(path);
                }
            }
        }
        let mut doomed_data = Vec::new();
        for entry in shard_entries(&layout.files_dir(), DATA_SUFFIX)? {
            if let ShardEntry::Named(id, path) = entry
                && !in_run.contains(&id)
                && !kept.contains(&id)
                && !(options.items.is_some() && in_safe.contains(&id))
            {
                doomed_data.push(path);
            }
        }
        Ok((doomed_xml, doomed_data))
    }
}

/// Folders ordered so that each comes after the folder it is in.
fn parents_first(folders: Vec<Record>) -> Vec<Record> {
    let ids: HashSet<Uuid> = folders.iter().map(|record| record.item.id).collect();
    let mut children: BTreeMap<Option<Uuid>, Vec<Record>> = BTreeMap::new();
    for record in folders {
        let parent = record.item.parent.filter(|parent| ids.contains(parent));
        children.entry(parent).or_default().push(record);
    }
    let mut ordered = Vec::with_capacity(ids.len());
    let mut queue: Vec<Option<Uuid>> = vec![None];
    while let Some(parent) = queue.pop() {
        for record in children.remove(&parent).unwrap_or_default() {
            queue.push(Some(record.item.id));
            ordered.push(record);
        }
    }
    // Only a damaged database has a folder cycle; its folders still get backed up.
    ordered.extend(children.into_values().flatten());
    ordered
}

/// Attribute files of deleted items, deepest first (an unreadable one first of all).
fn children_first(
    keys: &RecordKeys<'_>,
    paths: Vec<std::path::PathBuf>,
) -> Vec<std::path::PathBuf> {
    let parents: Vec<(Option<Uuid>, Option<Uuid>)> = paths
        .iter()
        .map(|path| {
            fs::read(path)
                .ok()
                .and_then(|sealed| xml::open(keys, &sealed).ok())
                .and_then(|text| Record::from_xml(&text).ok())
                .map_or((None, None), |record| {
                    (Some(record.item.id), record.item.parent)
                })
        })
        .collect();
    let parent_of: BTreeMap<Uuid, Option<Uuid>> = parents
        .iter()
        .filter_map(|(id, parent)| id.map(|id| (id, *parent)))
        .collect();
    let depth = |id: Option<Uuid>| {
        let Some(id) = id else { return usize::MAX };
        let mut depth = 0;
        let mut next = parent_of.get(&id).copied().flatten();
        while let Some(parent) = next {
            depth += 1;
            if depth > parent_of.len() {
                break;
            }
            next = parent_of.get(&parent).copied().flatten();
        }
        depth
    };
    let mut ordered: Vec<(usize, std::path::PathBuf)> = parents
        .iter()
        .map(|(id, _)| depth(*id))
        .zip(paths)
        .collect();
    ordered.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    ordered.into_iter().map(|(_, path)| path).collect()
}

/// The index entry of an item kept although deleted: as the old index has it, else from its
/// XML; `None` if the XML does not open (it is then removed).
fn kept_entry(keys: &RecordKeys<'_>, path: &Path, old: Option<&IndexEntry>) -> Option<IndexEntry> {
    let text = fs::read(path)
        .ok()
        .and_then(|sealed| xml::open(keys, &sealed).ok())?;
    let hash = xml::sha256(text.as_bytes());
    if let Some(old) = old
        && old.xml_sha256 == hash
    {
        return Some(old.clone());
    }
    let record = Record::from_xml(&text).ok()?;
    Some(IndexEntry {
        xml_sha256: hash,
        name: record.item.name,
    })
}

/// What backing up one item needs.
struct ItemBackup<'a> {
    keys: &'a SafeKeys,
    record_keys: &'a RecordKeys<'a>,
    safe_layout: &'a Layout,
    layout: &'a BackupLayout,
    verify_copy: bool,
    control: &'a JobControl,
}

impl ItemBackup<'_> {
    /// Backs up one item: its data file (if the backup's copy is not the recorded one), then
    /// its XML (if it changed).
    fn back_up(&self, record: &Record) -> Result<Outcome> {
        let (keys, layout) = (self.keys, self.layout);
        let item = &record.item;
        let id = item.id;
        let mut data_copied = None;
        if item.kind == Kind::File && item.content == Content::Present {
            let Some(tag) = recorded_tag(item) else {
                return Ok(Outcome::Failed(
                    ProblemKind::DataDamaged,
                    "no valid HMAC tag is recorded for it".to_owned(),
                ));
            };
            let copy = layout.data_file(id);
            let copy_is_whole = if self.verify_copy {
                match check_or_copy(keys, item, &copy, CopyTo::Nowhere, false, self.control) {
                    Ok(_) => true,
                    Err(DataError::Stopped) => return Ok(Outcome::Stopped),
                    Err(DataError::Source(..) | DataError::Io(_)) => false,
                }
            } else {
                has_tag(&copy, item.size, &tag)
                    .map_err(Error::io(&copy))?
                    .is_ok()
            };
            if !copy_is_whole {
                match check_or_copy(
                    keys,
                    item,
                    &self.safe_layout.data_file(id),
                    CopyTo::Deferred(&copy),
                    false,
                    self.control,
                ) {
                    Ok((bytes, _)) => data_copied = Some(bytes),
                    Err(DataError::Source(kind, reason)) => {
                        return Ok(Outcome::Failed(kind, reason));
                    }
                    Err(DataError::Io(error)) => return Err(error),
                    Err(DataError::Stopped) => return Ok(Outcome::Stopped),
                }
            }
        }
        let text = record.to_xml().map_err(|reason| Error::DamagedBackup {
            path: layout.xml_file(id),
            reason,
        })?;
        let hash = xml::sha256(text.as_bytes());
        let path = layout.xml_file(id);
        // Decrypting the existing XML (small) rather than trusting the index lets a run repair
        // an attribute file that was damaged, swapped or deleted in the backup.
        let unchanged = fs::read(&path)
            .ok()
            .and_then(|sealed| xml::open(self.record_keys, &sealed).ok())
            .is_some_and(|existing| existing.as_bytes() == text.as_bytes());
        if !unchanged {
            let sealed = xml::seal(self.record_keys, text.as_bytes()).map_err(Error::Crypto)?;
            if let Some(shard) = path.parent() {
                crate::layout::prepare_shard(shard).map_err(Error::io(shard))?;
            }
            write_atomically_deferred(&path, &sealed).map_err(Error::io(&path))?;
            arca_cryptor::crash_point("backup: attribute file written");
        }
        Ok(Outcome::Done {
            xml_written: !unchanged,
            data_copied,
            entry: IndexEntry {
                xml_sha256: hash,
                name: item.name.clone(),
            },
        })
    }
}

/// Takes the backup's lock (creating the folder if missing), then checks it is empty (but for
/// the lock file) or a backup of this Safe; returns its manifest, with the Safe's KDF.
fn prepare_target(
    layout: &BackupLayout,
    safe_id: Uuid,
    kdf: &crate::versioned::Kdf,
) -> Result<(WriterLock, BackupManifest)> {
    let root = layout.root();
    if let Err(error) = crate::layout::create_private_dir_all(root) {
        return Err(Error::io(root)(error));
    }
    let lock = WriterLock::acquire(root).map_err(|refused| match refused {
        Refused::Held(holder) => Error::LockedByOther {
            what: "the backup",
            holder,
        },
        Refused::ReadOnly => {
            Error::io(root)(std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem))
        }
        Refused::Io(error) => Error::io(root)(error),
    })?;
    if let Some(mut manifest) = BackupManifest::read(&layout.manifest())? {
        if manifest.safe_id != safe_id {
            return Err(Error::ForeignBackup {
                expected: safe_id,
                found: manifest.safe_id,
            });
        }
        manifest.kdf = kdf.clone();
        return Ok((lock, manifest));
    }
    let others = fs::read_dir(root)
        .map_err(Error::io(root))?
        .flatten()
        .any(|entry| entry.file_name() != LOCK_FILE);
    if others {
        return Err(Error::NotABackup(root.to_path_buf()));
    }
    Ok((lock, BackupManifest::new(safe_id, kdf.clone())))
}

/// Copies `safe.key` (and `recovery.key`, if the Safe has one) when the backup's copy differs.
fn copy_key_files(safe: &Layout, layout: &BackupLayout) -> Result<()> {
    for (from, to) in [
        (safe.key_file(), layout.key_file()),
        (safe.recovery_file(), layout.recovery_file()),
    ] {
        let bytes = match fs::read(&from) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(Error::io(&from)(error)),
        };
        if fs::read(&to).ok().as_deref() != Some(bytes.as_slice()) {
            write_atomically_private(&to, &bytes).map_err(Error::io(&to))?;
            arca_cryptor::crash_point("backup: key file copied");
        }
    }
    Ok(())
}

/// Removes the temporary files of an interrupted run (at the top, in `items/` and in
/// `files/`); returns what does not belong in `items/` and `files/`, which stays as it is (a
/// shard folder that is a link, or not named like one, is never entered).
fn remove_temporaries(layout: &BackupLayout) -> Result<Vec<ItemProblem>> {
    let mut doomed = Vec::new();
    let mut strays = Vec::new();
    for entry in fs::read_dir(layout.root()).map_err(Error::io(layout.root()))? {
        let path = entry.map_err(Error::io(layout.root()))?.path();
        if path.is_file() && path.to_string_lossy().ends_with(".tmp") {
            doomed.push(path);
        }
    }
    for (dir, suffix) in [
        (layout.items_dir(), XML_SUFFIX),
        (layout.files_dir(), DATA_SUFFIX),
    ] {
        for entry in shard_entries(&dir, suffix)? {
            match entry {
                ShardEntry::Temporary(path) => doomed.push(path),
                ShardEntry::Unexpected(path) => {
                    let problem = if path.parent() == Some(dir.as_path()) {
                        "not a shard folder of the backup (a link, a file, or a folder not \
                         named by two hex digits): left as it is, never entered"
                    } else {
                        "a file that does not belong in a backup: left as it is"
                    };
                    strays.push(
                        ItemProblem::new(ProblemKind::StrayFile, problem)
                            .file(layout.relative(&path)),
                    );
                }
                ShardEntry::Named(..) => {}
            }
        }
    }
    for path in doomed {
        fs::remove_file(&path).map_err(Error::io(&path))?;
    }
    Ok(strays)
}

/// The sealed index, if it opens with `keys`.
fn read_index(layout: &BackupLayout, keys: &RecordKeys<'_>) -> Option<SealedIndex> {
    let sealed = fs::read(layout.index()).ok()?;
    let text = xml::open(keys, &sealed).ok()?;
    xml::index_from_xml(&text).ok()
}

fn write_index(layout: &BackupLayout, keys: &RecordKeys<'_>, index: &SealedIndex) -> Result<()> {
    let sealed = xml::index_to_xml(index)
        .map_err(|reason| Error::DamagedBackup {
            path: layout.index(),
            reason,
        })
        .and_then(|text| xml::seal(keys, text.as_bytes()).map_err(Error::Crypto))?;
    write_atomically_private(&layout.index(), &sealed).map_err(Error::io(layout.index()))
}
