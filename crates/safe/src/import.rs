//! Importing files and folders, in two phases.
//!
//! Phase 1 walks the sources and records, in one transaction, every item (files with content
//! *pending*) and the job's work list. Phase 2 encrypts each file to a temporary data file on
//! several threads and renames it into place; a batch of files at a time is then made durable
//! by one file-system sync and marked *present* in one transaction. A crash or kill at any point
//! leaves a Safe that opens, has lost nothing that was present before, and resumes the job with
//! [`Safe::resume_import`].

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use arca_cryptor::{AtomicFile, Encryptor, SafeKeys, Sink};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::changes::{Change, ChangeSet};
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind, name_key};
use crate::job::{JobControl, Progress, Reporter};
use crate::layout::Layout;
use crate::organise::free_name_where;
use crate::query;
use crate::safe::Safe;
use crate::time;

/// What to do when an imported (or exported) item's name is taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnClash {
    /// Keep both: the new item is called "name (2).ext".
    #[default]
    KeepBoth,
    /// Leave the existing item and skip the new one.
    Skip,
    /// Replace the existing item (in the Safe it goes to the trash, so nothing is lost).
    Replace,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The folder to import into; the root for `None`.
    pub into: Option<Uuid>,
    /// Name clashes at the top level of the import.
    pub on_clash: OnClash,
    /// Worker threads; all cores for `None`.
    pub threads: Option<usize>,
}

/// A source path and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileProblem {
    /// The source path.
    pub path: PathBuf,
    /// What went wrong, or why it was left out.
    pub problem: String,
}

/// The outcome of an import job.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    /// The job's UUID.
    pub job: Uuid,
    /// Files imported.
    pub files: u64,
    /// Folders created.
    pub folders: u64,
    /// Cleartext bytes imported.
    pub bytes: u64,
    /// Sources left out on purpose (symbolic links, special files, name clashes with skip).
    pub skipped: Vec<FileProblem>,
    /// Files that could not be read; everything else was imported.
    pub failed: Vec<FileProblem>,
    /// The job was cancelled; files not yet encrypted were taken out of the Safe again.
    pub cancelled: bool,
}

/// Files finished per transaction in phase 2, at most.
const BATCH_FILES: usize = 512;
/// A batch is committed at least this often, so progress and durability keep up.
const BATCH_INTERVAL: Duration = Duration::from_millis(250);
const READ_CHUNK: usize = 256 * 1024;
/// Small files cost an fsync of the file and of its shard folder each: the disk completes
/// many of those at once, so a job needs more threads than cores to keep it busy.
const MIN_THREADS: usize = 16;

fn default_threads() -> usize {
    thread::available_parallelism()
        .map_or(1, usize::from)
        .max(MIN_THREADS)
}

struct Planned {
    item: Item,
    source: PathBuf,
}

/// Phase 1's work list, built before anything is written.
struct Plan {
    now: i64,
    items: Vec<Planned>,
    replaced: Vec<Uuid>,
    skipped: Vec<FileProblem>,
    /// (parent, NFC name) of every item planned so far.
    taken: HashSet<(Option<Uuid>, String)>,
}

impl Plan {
    fn skip(&mut self, path: &Path, problem: impl Into<String>) {
        self.skipped.push(FileProblem {
            path: path.to_path_buf(),
            problem: problem.into(),
        });
    }

    fn is_taken(
        &self,
        db: &Connection,
        parent: Option<Uuid>,
        existing_parent: bool,
        name: &str,
    ) -> Result<bool> {
        Ok(self.taken.contains(&(parent, name_key(name)))
            || (existing_parent && query::live_child(db, parent, name)?.is_some()))
    }

    fn add_source(
        &mut self,
        db: &Connection,
        source: &Path,
        parent: Option<Uuid>,
        on_clash: OnClash,
    ) -> Result<()> {
        let metadata = match fs::symlink_metadata(source) {
            Ok(metadata) => metadata,
            Err(error) => {
                self.skip(source, format!("cannot read: {error}"));
                return Ok(());
            }
        };
        let Some(name) = source_name(source) else {
            self.skip(source, "has no file name to import it under");
            return Ok(());
        };
        let existing = query::live_child(db, parent, &name)?;
        let name = match (existing, on_clash) {
            (Some(_), OnClash::Skip) => {
                self.skip(source, format!("skipped: {name:?} is already in the Safe"));
                return Ok(());
            }
            (Some(existing), OnClash::Replace) if !self.replaced.contains(&existing.id) => {
                self.replaced.push(existing.id);
                name
            }
            _ => free_name_where(&name, |candidate| {
                self.is_taken(db, parent, true, candidate)
            })?,
        };
        self.walk(db, source.to_path_buf(), metadata, name, parent)
    }

    /// Adds `source` and, for a folder, everything below it, without following symbolic links.
    fn walk(
        &mut self,
        db: &Connection,
        source: PathBuf,
        metadata: Metadata,
        name: String,
        parent: Option<Uuid>,
    ) -> Result<()> {
        let mut stack = vec![(source, metadata, name, parent)];
        while let Some((source, metadata, name, parent)) = stack.pop() {
            let file_type = metadata.file_type();
            let kind = if file_type.is_dir() {
                Kind::Folder
            } else if file_type.is_file() {
                Kind::File
            } else if file_type.is_symlink() {
                self.skip(&source, "symbolic link, not followed");
                continue;
            } else {
                self.skip(
                    &source,
                    "special file (device, socket or pipe), not imported",
                );
                continue;
            };
            let id = Uuid::new_v4();
            self.taken.insert((parent, name_key(&name)));
            self.items.push(Planned {
                item: Item {
                    id,
                    parent,
                    kind,
                    name,
                    size: if kind == Kind::File {
                        metadata.len()
                    } else {
                        0
                    },
                    created_at: metadata.created().ok().and_then(time::to_ns),
                    modified_at: metadata.modified().ok().and_then(time::to_ns),
                    added_at: self.now,
                    trashed_at: None,
                    favorite: false,
                    comment: String::new(),
                    content: if kind == Kind::File {
                        Content::Pending
                    } else {
                        Content::None
                    },
                    hmac_tag: None,
                    sha256: None,
                },
                source: source.clone(),
            });
            if kind == Kind::File {
                continue;
            }
            let mut entries = match fs::read_dir(&source) {
                Ok(entries) => entries
                    .filter_map(|entry| match entry {
                        Ok(entry) => Some(entry.path()),
                        Err(error) => {
                            self.skip(&source, format!("an entry could not be read: {error}"));
                            None
                        }
                    })
                    .collect::<Vec<_>>(),
                Err(error) => {
                    self.skip(
                        &source,
                        format!("folder cannot be read, imported empty: {error}"),
                    );
                    continue;
                }
            };
            entries.sort();
            for child in entries.into_iter().rev() {
                let metadata = match fs::symlink_metadata(&child) {
                    Ok(metadata) => metadata,
                    Err(error) => {
                        self.skip(&child, format!("cannot read: {error}"));
                        continue;
                    }
                };
                let Some(child_name) = source_name(&child) else {
                    continue;
                };
                let child_name = free_name_where(&child_name, |candidate| {
                    self.is_taken(db, Some(id), false, candidate)
                })?;
                // Reserve now: siblings are named before any of them is walked.
                self.taken.insert((Some(id), name_key(&child_name)));
                stack.push((child, metadata, child_name, Some(id)));
            }
        }
        Ok(())
    }
}

/// The name to import a path under: its last component, made valid UTF-8.
fn source_name(path: &Path) -> Option<String> {
    let name = match path.file_name() {
        Some(name) => name.to_os_string(),
        None => fs::canonicalize(path).ok()?.file_name()?.to_os_string(),
    };
    Some(name.to_string_lossy().into_owned())
}

/// One file's phase-2 work.
struct Task {
    item: Uuid,
    source: PathBuf,
    size: u64,
}

enum Outcome {
    Done {
        size: u64,
        tag: String,
        sha256: String,
    },
    /// The source could not be read: reported, the rest of the job goes on.
    SourceFailed(String),
    /// The Safe could not be written (disk full, I/O error): the job stops, resumable.
    DestinationFailed(Error),
}

/// Second threads for large files: one per core at most, since with every core already busy
/// with other files a file's pipeline only adds buffers and switches.
struct PipelineSlots {
    free: AtomicUsize,
}

impl PipelineSlots {
    fn new() -> Self {
        Self {
            free: AtomicUsize::new(thread::available_parallelism().map_or(1, usize::from)),
        }
    }

    fn take(&self) -> bool {
        self.free
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |free| {
                free.checked_sub(1)
            })
            .is_ok()
    }

    fn give_back(&self) {
        self.free.fetch_add(1, Ordering::AcqRel);
    }
}

fn encrypt_file(
    keys: &SafeKeys,
    source: &Path,
    destination: &Path,
    buffer: &mut [u8],
    pipelines: &PipelineSlots,
) -> Outcome {
    let mut file = match File::open(source) {
        Ok(file) => file,
        Err(error) => return Outcome::SourceFailed(format!("cannot open: {error}")),
    };
    let expected_len = match file.metadata() {
        Ok(metadata) if metadata.is_file() => metadata.len(),
        Ok(_) => return Outcome::SourceFailed("is no longer a regular file".to_owned()),
        Err(error) => return Outcome::SourceFailed(format!("cannot read: {error}")),
    };
    let destination_error = |error: io::Error| {
        Outcome::DestinationFailed(Error::Io {
            path: destination.to_path_buf(),
            source: error,
        })
    };
    // Made durable with the rest of its batch, by one file-system sync before the batch's
    // rows say it is present.
    let output = match AtomicFile::create_private_deferred(destination) {
        Ok(output) => output,
        Err(error) => return destination_error(error),
    };
    if expected_len >= arca_cryptor::PIPELINE_MIN_LEN && pipelines.take() {
        // One large file would keep one core busy while the other waits: split its encryption
        // from its hashing and writing. (A file that changes size meanwhile is still sealed
        // whole; the length only chooses the path.)
        let sealed = arca_cryptor::encrypt_pipelined(keys.data_credentials(), &mut file, output);
        pipelines.give_back();
        return match sealed {
            Ok(sealed) => match sealed.writer.commit() {
                Ok(_) => Outcome::Done {
                    size: sealed.cleartext_len,
                    tag: hex::encode(sealed.tag.as_bytes()),
                    sha256: hex::encode(sealed.cleartext_sha256),
                },
                Err(error) => destination_error(error),
            },
            Err(arca_cryptor::PipelineError::Read(error)) => {
                Outcome::SourceFailed(format!("read failed: {error}"))
            }
            Err(arca_cryptor::PipelineError::Encrypt(error)) => destination_error(error.into()),
        };
    }
    let mut encryptor = match Encryptor::new(keys.data_credentials(), output) {
        Ok(encryptor) => encryptor,
        Err(error) => return destination_error(error.into()),
    };
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    loop {
        let read = match file.read(buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Outcome::SourceFailed(format!("read failed: {error}")),
        };
        hasher.update(&buffer[..read]);
        if let Err(error) = encryptor.write_all(&buffer[..read]) {
            return destination_error(error);
        }
        size += read as u64;
    }
    let (output, tag) = match encryptor.finish() {
        Ok(finished) => finished,
        Err(error) => return destination_error(error.into()),
    };
    if let Err(error) = output.commit() {
        return destination_error(error);
    }
    Outcome::Done {
        size,
        tag: hex::encode(tag.as_bytes()),
        sha256: hex::encode(hasher.finalize()),
    }
}

impl Safe {
    /// Imports files and folders (recursively) into the Safe.
    ///
    /// Unreadable sources, special files and symbolic links are reported in the report and the
    /// rest goes on. `control` pauses, resumes or cancels the job from another thread.
    ///
    /// # Errors
    /// [`Error::NotAFolder`] or [`Error::NotFound`] for the target folder; [`Error::Io`] if the
    /// Safe cannot be written (disk full…): the job then stays recorded and
    /// [`Safe::resume_import`] finishes it.
    pub fn import(
        &mut self,
        sources: &[PathBuf],
        options: &ImportOptions,
        control: &JobControl,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<ImportReport> {
        self.check_folder(options.into)?;
        let mut plan = Plan {
            now: time::now_ns(),
            items: Vec::new(),
            replaced: Vec::new(),
            skipped: Vec::new(),
            taken: HashSet::new(),
        };
        for source in sources {
            plan.add_source(self.db(), source, options.into, options.on_clash)?;
        }
        let job = Uuid::new_v4();
        let folders = plan
            .items
            .iter()
            .filter(|planned| planned.item.kind == Kind::Folder)
            .count() as u64;
        let (_, _, db) = self.parts();
        let mut changes = ChangeSet::begin(db)?;
        record_plan(&mut changes, job, &plan)?;
        changes.commit()?;
        let mut report = self.run_import(job, options.threads, control, progress)?;
        report.folders = folders;
        report.skipped.splice(0..0, plan.skipped);
        Ok(report)
    }

    /// Import jobs that were interrupted (crash, kill, full disk) and can be resumed.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn interrupted_imports(&self) -> Result<Vec<Uuid>> {
        let mut statement = self.db().prepare(
            "SELECT id FROM import_jobs WHERE state IN ('running', 'paused') ORDER BY created_at",
        )?;
        let jobs = statement
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(jobs)
    }

    /// Finishes an interrupted import job: the files not yet encrypted are encrypted now.
    ///
    /// # Errors
    /// As [`Safe::import`].
    pub fn resume_import(
        &mut self,
        job: Uuid,
        control: &JobControl,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<ImportReport> {
        self.remove_temporary_data_files()?;
        self.run_import(job, None, control, progress)
    }

    /// Leftovers of data files that were being written when a job was interrupted.
    fn remove_temporary_data_files(&self) -> Result<()> {
        let files = self.layout().files_dir();
        let shards = fs::read_dir(&files).map_err(Error::io(&files))?;
        for shard in shards.flatten() {
            let Ok(entries) = fs::read_dir(shard.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().ends_with(".tmp") {
                    fs::remove_file(entry.path()).map_err(Error::io(entry.path()))?;
                }
            }
        }
        Ok(())
    }

    /// Phase 2 of `job`.
    fn run_import(
        &mut self,
        job: Uuid,
        threads: Option<usize>,
        control: &JobControl,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<ImportReport> {
        self.layout()
            .prepare_shards()
            .map_err(Error::io(self.layout().files_dir()))?;
        let (tasks, mut totals) = load_tasks(self.db(), job)?;
        self.db().execute(
            "UPDATE import_jobs SET state = 'running' WHERE id = ?1",
            [job],
        )?;
        let threads = threads
            .unwrap_or_else(default_threads)
            .clamp(1, tasks.len().max(1));
        let (keys, layout, db) = self.parts();
        let mut reporter = Reporter::new(progress, totals.clone());
        reporter.report(true);
        let stop = AtomicBool::new(false);
        let next = AtomicUsize::new(0);
        let pipelines = PipelineSlots::new();
        let mut failure = None;
        thread::scope(|scope| -> Result<()> {
            // Room for several batches: the workers go on while a batch is being committed.
            let (sender, receiver) = mpsc::sync_channel::<(usize, Outcome)>(BATCH_FILES * 4);
            for _ in 0..threads {
                let sender = sender.clone();
                let (tasks, next, stop, pipelines) = (&tasks, &next, &stop, &pipelines);
                scope.spawn(move || {
                    let mut buffer = vec![0u8; READ_CHUNK];
                    while !stop.load(Ordering::Relaxed) && control.proceed() {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(task) = tasks.get(index) else { break };
                        let outcome = encrypt_file(
                            keys,
                            &task.source,
                            &layout.data_file(task.item),
                            &mut buffer,
                            pipelines,
                        );
                        if matches!(outcome, Outcome::DestinationFailed(_)) {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if sender.send((index, outcome)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(sender);
            let mut batch = Vec::with_capacity(BATCH_FILES);
            let mut last_commit = Instant::now();
            let result = (|| -> Result<()> {
                for (index, outcome) in receiver.iter() {
                    let outcome = match outcome {
                        Outcome::DestinationFailed(error) => {
                            failure.get_or_insert(error);
                            continue;
                        }
                        other => other,
                    };
                    batch.push((index, outcome));
                    if batch.len() >= BATCH_FILES || last_commit.elapsed() >= BATCH_INTERVAL {
                        sync_batch(layout)?;
                        commit_batch(db, job, &tasks, &mut batch, &mut reporter.progress)?;
                        last_commit = Instant::now();
                        reporter.report(false);
                    }
                }
                sync_batch(layout)?;
                commit_batch(db, job, &tasks, &mut batch, &mut reporter.progress)
            })();
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
                // Let the workers finish their current file and exit.
                for _ in receiver.iter() {}
            }
            result
        })?;
        reporter.report(true);
        totals = reporter.progress.clone();
        if let Some(error) = failure {
            return Err(error);
        }
        let cancelled = control.is_cancelled();
        if cancelled {
            roll_back_pending(db, job)?;
        }
        finish_job(db, job, cancelled, &totals)
    }
}

fn record_plan(changes: &mut ChangeSet<'_>, job: Uuid, plan: &Plan) -> Result<()> {
    for id in &plan.replaced {
        changes.apply(Change::UpdateItem {
            id: *id,
            update: ItemUpdate {
                trashed_at: Some(Some(plan.now)),
                ..ItemUpdate::default()
            },
        })?;
    }
    changes.reader().execute(
        "INSERT INTO import_jobs (id, created_at, state) VALUES (?1, ?2, 'running')",
        rusqlite::params![job, plan.now],
    )?;
    for planned in &plan.items {
        changes.apply(Change::InsertItem(planned.item.clone()))?;
        if planned.item.kind == Kind::File {
            changes.reader().prepare_cached(
                "INSERT INTO import_entries (job, item, source, state) VALUES (?1, ?2, ?3, 'pending')",
            )?.execute(rusqlite::params![job, planned.item.id, path_bytes(&planned.source)])?;
        }
    }
    Ok(())
}

fn load_tasks(db: &Connection, job: Uuid) -> Result<(Vec<Task>, Progress)> {
    let exists: bool = db.query_row(
        "SELECT count(*) > 0 FROM import_jobs WHERE id = ?1",
        [job],
        |row| row.get(0),
    )?;
    if !exists {
        return Err(Error::NotFound {
            entity: "import job",
            id: job,
        });
    }
    let mut progress = Progress::new(0, 0);
    let mut tasks = Vec::new();
    let mut statement = db.prepare(
        "SELECT import_entries.item, import_entries.source, import_entries.state, ifnull(items.size, 0)
         FROM import_entries LEFT JOIN items ON items.id = import_entries.item WHERE job = ?1",
    )?;
    let mut rows = statement.query([job])?;
    while let Some(row) = rows.next()? {
        let (item, source, state, size): (Uuid, Vec<u8>, String, u64) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        progress.files_total += 1;
        progress.bytes_total += size;
        if state == "pending" {
            tasks.push(Task {
                item,
                source: path_from_bytes(source),
                size,
            });
        } else {
            progress.files_done += 1;
            progress.bytes_done += size;
        }
    }
    Ok((tasks, progress))
}

/// Makes the data files of a batch durable (contents and names) before its rows are committed.
fn sync_batch(layout: &Layout) -> Result<()> {
    let files = layout.files_dir();
    crate::layout::sync_file_system(&files).map_err(Error::io(&files))?;
    arca_cryptor::crash_point("import batch synced");
    Ok(())
}

/// Records a batch of finished files in one transaction: present ones with their tag and hash,
/// failed ones removed from the Safe and listed with their error.
fn commit_batch(
    db: &mut Connection,
    job: Uuid,
    tasks: &[Task],
    batch: &mut Vec<(usize, Outcome)>,
    progress: &mut Progress,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut changes = ChangeSet::begin(db)?;
    for (index, outcome) in batch.iter() {
        let task = &tasks[*index];
        match outcome {
            Outcome::Done { size, tag, sha256 } => {
                changes.apply(Change::UpdateItem {
                    id: task.item,
                    update: ItemUpdate {
                        size: Some(*size),
                        content: Some(Content::Present),
                        hmac_tag: Some(Some(tag.clone())),
                        sha256: Some(Some(sha256.clone())),
                        ..ItemUpdate::default()
                    },
                })?;
                changes
                    .reader()
                    .prepare_cached(
                        "UPDATE import_entries SET state = 'done' WHERE job = ?1 AND item = ?2",
                    )?
                    .execute(rusqlite::params![job, task.item])?;
                progress.bytes_done += size;
                progress.bytes_total = progress.bytes_total - task.size + size;
            }
            Outcome::SourceFailed(problem) => {
                changes.apply(Change::DeleteItem { id: task.item })?;
                changes.reader().prepare_cached("UPDATE import_entries SET state = 'failed', error = ?3 WHERE job = ?1 AND item = ?2")?
                    .execute(rusqlite::params![job, task.item, problem])?;
                progress.bytes_total -= task.size;
            }
            Outcome::DestinationFailed(_) => {}
        }
        progress.files_done += 1;
    }
    changes.commit()?;
    batch.clear();
    Ok(())
}

/// A cancelled job takes the files it had not encrypted yet out of the Safe again.
fn roll_back_pending(db: &mut Connection, job: Uuid) -> Result<()> {
    let pending: Vec<Uuid> = db
        .prepare("SELECT item FROM import_entries WHERE job = ?1 AND state = 'pending'")?
        .query_map([job], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut changes = ChangeSet::begin(db)?;
    for item in pending {
        changes.apply(Change::DeleteItem { id: item })?;
    }
    changes.reader().execute("UPDATE import_entries SET state = 'failed', error = 'cancelled' WHERE job = ?1 AND state = 'pending'", [job])?;
    changes.commit()
}

/// Reads the job's outcome and forgets the job.
fn finish_job(
    db: &mut Connection,
    job: Uuid,
    cancelled: bool,
    progress: &Progress,
) -> Result<ImportReport> {
    let mut failed = Vec::new();
    let mut files = 0;
    {
        let mut statement =
            db.prepare("SELECT source, state, error FROM import_entries WHERE job = ?1")?;
        let mut rows = statement.query([job])?;
        while let Some(row) = rows.next()? {
            let (source, state, error): (Vec<u8>, String, Option<String>) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            match state.as_str() {
                "done" => files += 1,
                _ if error.as_deref() == Some("cancelled") => {}
                _ => failed.push(FileProblem {
                    path: path_from_bytes(source),
                    problem: error.unwrap_or_default(),
                }),
            }
        }
    }
    db.execute("DELETE FROM import_jobs WHERE id = ?1", [job])?;
    Ok(ImportReport {
        job,
        files,
        folders: 0,
        bytes: progress.bytes_done,
        skipped: Vec::new(),
        failed,
        cancelled,
    })
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}
