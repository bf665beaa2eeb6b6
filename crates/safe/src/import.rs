//! Importing files and folders, in two phases.
//!
//! Phase 1 walks the sources (without following links) and records, in one transaction, every
//! item (files with content *pending*), the job's work list and the device and inode of each
//! source file. Phase 2 encrypts each file to a temporary data file on several threads and
//! renames it into place; a batch of files at a time is then made durable by one file-system
//! sync and marked *present* in one transaction. A crash or kill at any point leaves a Safe
//! that opens, has lost nothing that was present before, and resumes the job with
//! [`Safe::resume_import`] (or drops it with [`Safe::abandon_import`]).
//!
//! Phase 2 opens each source without following a link and without blocking (a FIFO put in its
//! place cannot hang the job) and imports it only if it is still the file phase 1 recorded.
//! Pausing stops the workers inside the file they are on; locking the Safe interrupts the job
//! (it stays resumable); cancelling takes back the files not yet imported.

use std::collections::HashSet;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use arca_cryptor::{AtomicFile, ChunkHasher, ChunkHashes, HashingEncryptor, SafeKeys, Sink};
use rusqlite::Connection;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::changes::{Change, ChangeSet};
use crate::data_file::store_chunks;
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind, name_key};
use crate::job::{InFlight, JobControl, Observer, Phase, Progress, Reporter, Stop};
use crate::layout::Layout;
use crate::name::{escape_bytes, map_os_name};
use crate::organise::free_name_where;
use crate::problem::{ItemProblem, ProblemKind};
use crate::query;
use crate::safe::{Open, Safe};
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
    /// Worker threads; all cores (at least 16) for `None`.
    pub threads: Option<usize>,
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
    /// Sources left out because their name was taken and the person chose to skip.
    pub skipped: Vec<ItemProblem>,
    /// Sources not imported (unreadable, a link or special file, changed meanwhile); everything
    /// else was.
    pub failed: Vec<ItemProblem>,
    /// Names changed to follow the name rule (the original bytes are in the sentence).
    pub renamed: Vec<ItemProblem>,
    /// Files the person deleted from the Safe before their import finished: left out, as
    /// asked, and not a failure.
    pub removed: u64,
    /// The job was cancelled; files not yet encrypted were taken out of the Safe again.
    pub cancelled: bool,
    /// The job was interrupted (the Safe was locked): it is resumable.
    pub interrupted: bool,
}

impl ImportReport {
    /// Whether everything chosen was imported (skips the person asked for aside).
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && !self.cancelled && !self.interrupted
    }
}

/// An import that did not finish (crash, full disk, lock): what it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportJob {
    /// The job's UUID.
    pub id: Uuid,
    /// When it started (nanoseconds since the Unix epoch).
    pub created_at: i64,
    /// It was paused by the person when it stopped.
    pub paused: bool,
    /// Files already imported.
    pub files_done: u64,
    /// Files still to import.
    pub files_left: u64,
    /// Their cleartext bytes.
    pub bytes_left: u64,
    /// What the person chose to import (paths on this computer, for people).
    pub sources: Vec<String>,
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
    identity: Option<(u64, u64)>,
}

/// Phase 1's work list, built before anything is written.
struct Plan<'r, 'o> {
    now: i64,
    items: Vec<Planned>,
    replaced: Vec<Uuid>,
    skipped: Vec<ItemProblem>,
    failed: Vec<ItemProblem>,
    renamed: Vec<ItemProblem>,
    /// (parent, NFC name) of every item planned so far.
    taken: HashSet<(Option<Uuid>, String)>,
    reporter: &'r mut Reporter<'o>,
    control: &'r JobControl,
}

/// A device and inode, which phase 2 checks a source still has.
#[cfg(unix)]
fn identity(metadata: &Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((metadata.dev(), metadata.ino()))
}

#[cfg(not(unix))]
fn identity(_: &Metadata) -> Option<(u64, u64)> {
    None
}

fn shown(path: &Path) -> String {
    escape_bytes(path.as_os_str().as_encoded_bytes())
}

impl Plan<'_, '_> {
    fn problem(&mut self, kind: ProblemKind, path: &Path, problem: impl Into<String>) {
        let problem = ItemProblem::new(kind, problem).path(shown(path));
        self.reporter.problem(&problem);
        match kind {
            ProblemKind::Skipped => self.skipped.push(problem),
            ProblemKind::Renamed => self.renamed.push(problem),
            _ => self.failed.push(problem),
        }
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

    /// The name to import `path` under, following the name rule; a changed name is reported.
    fn name_of(&mut self, path: &Path) -> Option<String> {
        let os_name = match path.file_name() {
            Some(name) => name.to_os_string(),
            None => fs::canonicalize(path).ok()?.file_name()?.to_os_string(),
        };
        let mapped = map_os_name(&os_name);
        if let Some(original) = mapped.original {
            self.problem(
                ProblemKind::Renamed,
                path,
                // `original` is escaped already: quoted as it is, not escaped again.
                format!(
                    "imported as “{}”: the name “{original}” is not valid UTF-8 or holds control \
                     characters",
                    mapped.name
                ),
            );
        }
        Some(mapped.name)
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
                self.problem(
                    ProblemKind::Unreadable,
                    source,
                    format!("cannot read: {error}"),
                );
                return Ok(());
            }
        };
        let Some(name) = self.name_of(source) else {
            self.problem(
                ProblemKind::Unreadable,
                source,
                "has no file name to import it under",
            );
            return Ok(());
        };
        let existing = query::live_child(db, parent, &name)?;
        let name = match (existing, on_clash) {
            (Some(_), OnClash::Skip) => {
                self.problem(
                    ProblemKind::Skipped,
                    source,
                    format!("skipped: {name:?} is already in the Safe"),
                );
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
            if !self.control.proceed() {
                return Ok(());
            }
            let file_type = metadata.file_type();
            let kind = if file_type.is_dir() {
                Kind::Folder
            } else if file_type.is_file() {
                Kind::File
            } else if file_type.is_symlink() {
                self.problem(
                    ProblemKind::NotARegularFile,
                    &source,
                    "a symbolic link: not followed, not imported",
                );
                continue;
            } else {
                self.problem(
                    ProblemKind::NotARegularFile,
                    &source,
                    "a special file (device, socket or pipe): not imported",
                );
                continue;
            };
            let id = Uuid::new_v4();
            self.taken.insert((parent, name_key(&name)));
            let size = if kind == Kind::File {
                metadata.len()
            } else {
                0
            };
            self.items.push(Planned {
                item: Item {
                    id,
                    parent,
                    kind,
                    name,
                    size,
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
                identity: identity(&metadata),
            });
            let progress = &mut self.reporter.progress;
            if kind == Kind::File {
                progress.files_total += 1;
                progress.bytes_total += size;
                progress.current = Some(shown(&source));
                self.reporter.report(false);
                continue;
            }
            let mut entries = match fs::read_dir(&source) {
                Ok(entries) => entries
                    .filter_map(|entry| match entry {
                        Ok(entry) => Some(entry.path()),
                        Err(error) => {
                            self.problem(
                                ProblemKind::Unreadable,
                                &source,
                                format!("an entry of this folder could not be read: {error}"),
                            );
                            None
                        }
                    })
                    .collect::<Vec<_>>(),
                Err(error) => {
                    self.problem(
                        ProblemKind::Unreadable,
                        &source,
                        format!("this folder cannot be read (imported empty): {error}"),
                    );
                    continue;
                }
            };
            entries.sort();
            for child in entries.into_iter().rev() {
                let metadata = match fs::symlink_metadata(&child) {
                    Ok(metadata) => metadata,
                    Err(error) => {
                        self.problem(
                            ProblemKind::Unreadable,
                            &child,
                            format!("cannot read: {error}"),
                        );
                        continue;
                    }
                };
                let Some(child_name) = self.name_of(&child) else {
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

/// Refuses a source that is the Safe, holds it, or lies inside it: importing it would read
/// files while they are written, or encrypt the Safe into itself.
fn refuse_source_in_safe(safe_root: &Path, source: &Path) -> Result<()> {
    let (Ok(root), Ok(source_path)) = (fs::canonicalize(safe_root), fs::canonicalize(source))
    else {
        return Ok(());
    };
    if root.starts_with(&source_path) || source_path.starts_with(&root) {
        return Err(Error::SourceInSafe(source.to_path_buf()));
    }
    Ok(())
}

/// One file's phase-2 work.
struct Task {
    item: Uuid,
    source: PathBuf,
    size: u64,
    identity: Option<(u64, u64)>,
}

enum Outcome {
    Done {
        size: u64,
        tag: [u8; 32],
        sha256: [u8; 32],
        /// Recorded for a small file only; see [`Worker::encrypt`].
        chunks: Option<ChunkHashes>,
    },
    /// The source could not be read (or is not the file recorded): reported, the job goes on.
    SourceFailed(ProblemKind, String),
    /// The job was paused into a stop inside this file: it stays pending.
    Stopped,
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

/// The error a source read returns once the job is stopped.
#[derive(Debug)]
struct JobStopped;

impl std::fmt::Display for JobStopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the job was stopped")
    }
}

impl std::error::Error for JobStopped {}

fn is_stop(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<JobStopped>().is_some())
}

/// A source file read under the job's control: a pause waits inside the file, a stop ends it,
/// and the bytes read count as progress at once.
struct Controlled<'a> {
    file: File,
    control: &'a JobControl,
    in_flight: &'a InFlight,
    read: u64,
}

impl Read for Controlled<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if !self.control.proceed() {
            return Err(io::Error::other(JobStopped));
        }
        let read = self.file.read(buffer)?;
        self.in_flight.add(read as u64);
        self.read += read as u64;
        Ok(read)
    }
}

impl Drop for Controlled<'_> {
    fn drop(&mut self) {
        self.in_flight.sub(self.read);
    }
}

/// Opens a source as phase 1 recorded it: no link followed, no FIFO waited on, and the same
/// device and inode.
fn open_source(task: &Task) -> std::result::Result<File, Outcome> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(
        &mut options,
        (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32,
    );
    let file = options.open(&task.source).map_err(|error| {
        if error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            Outcome::SourceFailed(
                ProblemKind::ChangedSinceScan,
                "was replaced by a symbolic link after it was found: not imported".to_owned(),
            )
        } else {
            Outcome::SourceFailed(ProblemKind::Unreadable, format!("cannot open: {error}"))
        }
    })?;
    let metadata = file.metadata().map_err(|error| {
        Outcome::SourceFailed(ProblemKind::Unreadable, format!("cannot read: {error}"))
    })?;
    if !metadata.is_file() {
        return Err(Outcome::SourceFailed(
            ProblemKind::ChangedSinceScan,
            "is no longer a regular file: not imported".to_owned(),
        ));
    }
    if task.identity.is_some() && identity(&metadata) != task.identity {
        return Err(Outcome::SourceFailed(
            ProblemKind::ChangedSinceScan,
            "was replaced by another file after it was found: not imported".to_owned(),
        ));
    }
    Ok(file)
}

struct Worker<'a> {
    keys: &'a SafeKeys,
    layout: &'a Layout,
    control: &'a JobControl,
    pipelines: &'a PipelineSlots,
    in_flight: &'a InFlight,
    current: &'a Mutex<Option<String>>,
    buffer: Zeroizing<Vec<u8>>,
}

/// Sound and film, by name: players seek in them, so their chunk hashes are worth a pass at
/// import (the desktop's previews play these kinds; see src-tauri/src/convert.rs).
fn is_played_from_anywhere(source: &Path) -> bool {
    const EXTENSIONS: [&str; 14] = [
        "mp3", "ogg", "oga", "opus", "wav", "flac", "m4a", "aac", "mp4", "m4v", "webm", "mkv",
        "mov", "ogv",
    ];
    source
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            EXTENSIONS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(extension))
        })
}

impl Worker<'_> {
    fn encrypt(&mut self, task: &Task) -> Outcome {
        let file = match open_source(task) {
            Ok(file) => file,
            Err(outcome) => return outcome,
        };
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(shown(&task.source));
        let mut source = Controlled {
            file,
            control: self.control,
            in_flight: self.in_flight,
            read: 0,
        };
        let destination = self.layout.data_file(task.item);
        let destination_error = |error: io::Error| {
            Outcome::DestinationFailed(Error::StoreIo {
                item: Some(shown(&task.source)),
                error,
            })
        };
        // Made durable with the rest of its batch, by one file-system sync before the batch's
        // rows say it is present.
        let output = match AtomicFile::create_private_deferred(&destination) {
            Ok(output) => output,
            Err(error) => return destination_error(error),
        };
        let read_error = |error: io::Error| {
            if is_stop(&error) {
                Outcome::Stopped
            } else {
                Outcome::SourceFailed(ProblemKind::Unreadable, format!("read failed: {error}"))
            }
        };
        if task.size >= arca_cryptor::PIPELINE_MIN_LEN && self.pipelines.take() {
            // One large file would keep one core busy while the other waits: split its
            // encryption from its authentication and writing. (A file that changes size
            // meanwhile is still sealed whole; the length only chooses the path.) Chunk hashes
            // are one more pass on the writing thread, which then falls behind the cipher (0.75 ×
            // as fast): only sound and film get them here, as players read them from anywhere;
            // any other file's are recorded by its first read at a position (see reader.rs).
            let credentials = self.keys.data_credentials();
            let sealed = if is_played_from_anywhere(&task.source) {
                arca_cryptor::encrypt_pipelined_hashing_chunks(credentials, &mut source, output)
                    .map(|(sealed, chunks)| {
                        let done = (sealed.cleartext_len, sealed.tag, sealed.cleartext_sha256);
                        (sealed.writer, Some(chunks), done)
                    })
            } else {
                arca_cryptor::encrypt_pipelined(credentials, &mut source, output).map(|sealed| {
                    let done = (sealed.cleartext_len, sealed.tag, sealed.cleartext_sha256);
                    (sealed.writer, None, done)
                })
            };
            self.pipelines.give_back();
            return match sealed {
                Ok((writer, chunks, (size, tag, sha256))) => match writer.commit() {
                    Ok(_) => Outcome::Done {
                        size,
                        tag: *tag.as_bytes(),
                        sha256,
                        chunks,
                    },
                    Err(error) => destination_error(error),
                },
                Err(arca_cryptor::PipelineError::Read(error)) => read_error(error),
                Err(arca_cryptor::PipelineError::Encrypt(error)) => destination_error(error.into()),
            };
        }
        let output = ChunkHasher::new(output);
        let mut encryptor = match HashingEncryptor::new(self.keys.data_credentials(), output) {
            Ok(encryptor) => encryptor,
            Err(error) => return destination_error(error.into()),
        };
        let mut size = 0u64;
        loop {
            let read = match source.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return read_error(error),
            };
            if let Err(error) = encryptor.write_all(&self.buffer[..read]) {
                return destination_error(error);
            }
            size += read as u64;
        }
        let (output, tag, sha256) = match encryptor.finish() {
            Ok(finished) => finished,
            Err(error) => return destination_error(error.into()),
        };
        let (output, chunks) = output.finish();
        if let Err(error) = output.commit() {
            return destination_error(error);
        }
        Outcome::Done {
            size,
            tag: *tag.as_bytes(),
            sha256,
            chunks: Some(chunks),
        }
    }
}

impl Open<'_> {
    pub(crate) fn import(
        &mut self,
        sources: &[PathBuf],
        options: &ImportOptions,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<ImportReport> {
        self.check_folder(options.into)?;
        for source in sources {
            refuse_source_in_safe(self.layout().root(), source)?;
        }
        let mut reporter = Reporter::new(observer, Progress::new(0, 0));
        reporter.phase(Phase::Planning);
        let mut plan = Plan {
            now: time::now_ns(),
            items: Vec::new(),
            replaced: Vec::new(),
            skipped: Vec::new(),
            failed: Vec::new(),
            renamed: Vec::new(),
            taken: HashSet::new(),
            reporter: &mut reporter,
            control,
        };
        for source in sources {
            plan.add_source(self.db(), source, options.into, options.on_clash)?;
        }
        let job = Uuid::new_v4();
        let _running = self.core().mark_import_running(job)?;
        let mut report = ImportReport {
            job,
            folders: plan
                .items
                .iter()
                .filter(|planned| planned.item.kind == Kind::Folder)
                .count() as u64,
            ..ImportReport::default()
        };
        let Plan {
            now,
            items,
            replaced,
            skipped,
            failed,
            renamed,
            ..
        } = plan;
        if let Some(stop) = control.stopped() {
            // Stopped while planning: nothing was written.
            report.cancelled = stop == Stop::Cancelled;
            report.interrupted = stop == Stop::Interrupted;
            report.folders = 0;
            return Ok(report);
        }
        let sources_text = serde_json::to_string(
            &sources
                .iter()
                .map(|source| shown(source))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|_| "[]".to_owned());
        let mut changes = self.changes()?;
        record_plan(&mut changes, job, now, &items, &replaced, &sources_text)?;
        changes.commit()?;
        drop(items);
        let mut outcome = self.run_import(job, options.threads, control, &mut reporter)?;
        outcome.folders = report.folders;
        outcome.skipped.splice(0..0, skipped);
        outcome.failed.splice(0..0, failed);
        outcome.renamed = renamed;
        Ok(outcome)
    }

    pub(crate) fn interrupted_imports(&self, running: &HashSet<Uuid>) -> Result<Vec<ImportJob>> {
        let mut statement = self.db().prepare(
            "SELECT import_jobs.id, import_jobs.created_at, import_jobs.state, import_jobs.sources,
                    count(*) FILTER (WHERE import_entries.state = 'done'),
                    count(*) FILTER (WHERE import_entries.state = 'pending'),
                    ifnull(sum(items.size) FILTER (WHERE import_entries.state = 'pending'), 0)
             FROM import_jobs
             LEFT JOIN import_entries ON import_entries.job = import_jobs.id
             LEFT JOIN items ON items.id = import_entries.item
             WHERE import_jobs.state IN ('running', 'paused')
             GROUP BY import_jobs.id ORDER BY import_jobs.created_at",
        )?;
        let jobs = statement
            .query_map([], |row| {
                let sources: String = row.get(3)?;
                Ok(ImportJob {
                    id: row.get(0)?,
                    created_at: row.get(1)?,
                    paused: row.get::<_, String>(2)? == "paused",
                    sources: serde_json::from_str(&sources).unwrap_or_default(),
                    files_done: row.get(4)?,
                    files_left: row.get(5)?,
                    bytes_left: row.get(6)?,
                })
            })?
            .filter(|job| job.as_ref().map_or(true, |job| !running.contains(&job.id)))
            .collect::<rusqlite::Result<_>>()?;
        Ok(jobs)
    }

    pub(crate) fn resume_import(
        &mut self,
        job: Uuid,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<ImportReport> {
        let pending = self.pending_items(job)?;
        self.remove_temporary_data_files_of(Some(&pending))?;
        let mut reporter = Reporter::new(observer, Progress::new(0, 0));
        self.run_import(job, None, control, &mut reporter)
    }

    /// Ends an interrupted import: the files it had not imported yet leave the Safe (their
    /// rows, and any data file or temporary file of theirs), everything it had finished stays.
    pub(crate) fn abandon_import(&mut self, job: Uuid) -> Result<u64> {
        self.job_exists(job)?;
        let pending = self.pending_items(job)?;
        let mut changes = self.changes()?;
        let mut removed = 0;
        for &item in &pending {
            let exists: bool = changes.reader().query_row(
                "SELECT count(*) > 0 FROM items WHERE id = ?1",
                [item],
                |row| row.get(0),
            )?;
            if exists {
                changes.apply(Change::DeleteItem { id: item })?;
                removed += 1;
            }
        }
        changes
            .reader()
            .execute("DELETE FROM import_jobs WHERE id = ?1", [job])?;
        changes.commit()?;
        for &item in &pending {
            let data_file = self.layout().data_file(item);
            match fs::remove_file(&data_file) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(Error::store(None)(error)),
            }
        }
        self.remove_temporary_data_files_of(Some(&pending))?;
        Ok(removed)
    }

    /// The items `job` has recorded and not yet stored.
    pub(crate) fn pending_items(&self, job: Uuid) -> Result<HashSet<Uuid>> {
        Ok(self
            .db()
            .prepare("SELECT item FROM import_entries WHERE job = ?1 AND state = 'pending'")?
            .query_map([job], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?)
    }

    fn job_exists(&self, job: Uuid) -> Result<()> {
        let exists: bool = self.db().query_row(
            "SELECT count(*) > 0 FROM import_jobs WHERE id = ?1",
            [job],
            |row| row.get(0),
        )?;
        if exists {
            Ok(())
        } else {
            Err(Error::NotFound {
                entity: "import job",
                id: job,
            })
        }
    }

    /// Leftovers of data files that were being written when a job was interrupted: all of
    /// them (only when nothing else can be writing, at a writable unlock), or those of `items`
    /// (a job of this handle may be writing others right now).
    pub(crate) fn remove_temporary_data_files_of(
        &self,
        items: Option<&HashSet<Uuid>>,
    ) -> Result<()> {
        let files = self.layout().files_dir();
        let shards = fs::read_dir(&files).map_err(Error::store(None))?;
        for shard in shards.flatten() {
            let Ok(entries) = fs::read_dir(shard.path()) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !name.ends_with(".tmp") {
                    continue;
                }
                let theirs = items.is_none_or(|items| {
                    crate::layout::temporary_data_file_item(&name)
                        .is_some_and(|id| items.contains(&id))
                });
                if theirs {
                    fs::remove_file(entry.path()).map_err(Error::store(None))?;
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
        reporter: &mut Reporter<'_>,
    ) -> Result<ImportReport> {
        self.layout().prepare_shards().map_err(Error::store(None))?;
        let (tasks, totals) = load_tasks(self, job)?;
        self.db().execute(
            "UPDATE import_jobs SET state = 'running' WHERE id = ?1",
            [job],
        )?;
        let threads = threads
            .unwrap_or_else(default_threads)
            .clamp(1, tasks.len().max(1));
        let in_flight = reporter.in_flight.clone();
        reporter.progress = Progress {
            phase: Phase::Encrypting,
            ..totals
        };
        reporter.report(true);
        let (keys, layout, db) = self.parts();
        let stop = AtomicBool::new(false);
        let next = AtomicUsize::new(0);
        let pipelines = PipelineSlots::new();
        let current = Mutex::new(None);
        let mut failure = None;
        let mut problems = Vec::new();
        thread::scope(|scope| -> Result<()> {
            // Room for several batches: the workers go on while a batch is being committed.
            let (sender, receiver) = mpsc::sync_channel::<(usize, Outcome)>(BATCH_FILES * 4);
            for _ in 0..threads {
                let sender = sender.clone();
                let mut worker = Worker {
                    keys,
                    layout,
                    control,
                    pipelines: &pipelines,
                    in_flight: &in_flight,
                    current: &current,
                    buffer: Zeroizing::new(vec![0u8; READ_CHUNK]),
                };
                let (tasks, next, stop) = (&tasks, &next, &stop);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) && control.proceed() {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(task) = tasks.get(index) else { break };
                        let outcome = worker.encrypt(task);
                        if matches!(outcome, Outcome::DestinationFailed(_)) {
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
            let mut batch = Vec::with_capacity(BATCH_FILES);
            let mut last_commit = Instant::now();
            let result = (|| -> Result<()> {
                loop {
                    let received = receiver.recv_timeout(Duration::from_millis(100));
                    match received {
                        Ok((index, Outcome::DestinationFailed(error))) => {
                            let _ = index;
                            failure.get_or_insert(error);
                        }
                        Ok((_, Outcome::Stopped)) => {}
                        Ok((index, outcome)) => {
                            if let Outcome::Done { size, .. } = &outcome {
                                reporter.progress.bytes_done += size;
                            }
                            reporter.progress.files_done += 1;
                            batch.push((index, outcome));
                        }
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                    reporter.progress.current = current
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clone();
                    if !batch.is_empty()
                        && (batch.len() >= BATCH_FILES || last_commit.elapsed() >= BATCH_INTERVAL)
                    {
                        sync_batch(layout)?;
                        commit_batch(db, layout, job, &tasks, &mut batch, reporter, &mut problems)?;
                        last_commit = Instant::now();
                    }
                    reporter.report(false);
                }
                sync_batch(layout)?;
                commit_batch(db, layout, job, &tasks, &mut batch, reporter, &mut problems)
            })();
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
                // Let the workers finish their current file and exit.
                for _ in receiver.iter() {}
            }
            result
        })?;
        reporter.progress.current = None;
        if let Some(error) = failure {
            reporter.report(true);
            return Err(error);
        }
        match control.stopped() {
            Some(Stop::Interrupted) => {
                let state = if control.interrupted_while_paused() {
                    "paused"
                } else {
                    "running"
                };
                db.execute(
                    "UPDATE import_jobs SET state = ?2 WHERE id = ?1",
                    rusqlite::params![job, state],
                )?;
                reporter.report(true);
                return Ok(ImportReport {
                    job,
                    files: reporter.progress.files_done,
                    bytes: reporter.progress.bytes_done,
                    failed: problems,
                    interrupted: true,
                    ..ImportReport::default()
                });
            }
            Some(Stop::Cancelled) => {
                reporter.phase(Phase::CleaningUp);
                roll_back_pending(db, layout, job)?;
            }
            None => {}
        }
        reporter.phase(Phase::Finished);
        finish_job(
            db,
            job,
            control.is_cancelled(),
            reporter.progress.bytes_done,
        )
    }
}

fn record_plan(
    changes: &mut ChangeSet<'_>,
    job: Uuid,
    now: i64,
    items: &[Planned],
    replaced: &[Uuid],
    sources: &str,
) -> Result<()> {
    for id in replaced {
        changes.apply(Change::UpdateItem {
            id: *id,
            update: ItemUpdate {
                trashed_at: Some(Some(now)),
                ..ItemUpdate::default()
            },
        })?;
    }
    changes.defer_search();
    changes.reader().execute(
        "INSERT INTO import_jobs (id, created_at, state, sources) VALUES (?1, ?2, 'running', ?3)",
        rusqlite::params![job, now, sources],
    )?;
    // Files in the order of their ids, the order phase 2 takes them in (its work list is keyed by
    // item): each batch then updates neighbouring rows instead of pages all over the table,
    // which kept a folder of 100,000 files 1.5 times slower per file than one of 10,000.
    // Folders come first, each before what it holds.
    let mut files: Vec<&Planned> = items
        .iter()
        .filter(|planned| planned.item.kind == Kind::File)
        .collect();
    files.sort_unstable_by_key(|planned| planned.item.id);
    let folders = items
        .iter()
        .filter(|planned| planned.item.kind != Kind::File);
    for planned in folders.chain(files) {
        changes.apply(Change::InsertItem(planned.item.clone()))?;
        if planned.item.kind == Kind::File {
            let (device, inode) = planned.identity.unzip();
            changes
                .reader()
                .prepare_cached(
                    "INSERT INTO import_entries (job, item, source, state, device, inode)
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
                )?
                .execute(rusqlite::params![
                    job,
                    planned.item.id,
                    path_bytes(&planned.source),
                    device.map(|device| device as i64),
                    inode.map(|inode| inode as i64),
                ])?;
        }
    }
    Ok(())
}

/// The files of `job` still to import, and the job's progress so far. Entries whose item was
/// deleted meanwhile (the person removed a pending file) are marked removed and left out.
fn load_tasks(open: &mut Open<'_>, job: Uuid) -> Result<(Vec<Task>, Progress)> {
    open.job_exists(job)?;
    open.db().execute(
        "UPDATE import_entries SET state = 'removed'
         WHERE job = ?1 AND state = 'pending' AND item NOT IN (SELECT id FROM items)",
        [job],
    )?;
    let mut progress = Progress::new(0, 0);
    let mut tasks = Vec::new();
    let mut statement = open.db().prepare(
        "SELECT import_entries.item, import_entries.source, import_entries.state,
                ifnull(items.size, 0), import_entries.device, import_entries.inode
         FROM import_entries LEFT JOIN items ON items.id = import_entries.item
         WHERE job = ?1 AND import_entries.state != 'removed'",
    )?;
    let mut rows = statement.query([job])?;
    while let Some(row) = rows.next()? {
        let (item, source, state, size): (Uuid, Vec<u8>, String, u64) =
            (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
        let (device, inode): (Option<i64>, Option<i64>) = (row.get(4)?, row.get(5)?);
        progress.files_total += 1;
        progress.bytes_total += size;
        if state == "pending" {
            tasks.push(Task {
                item,
                source: path_from_bytes(source),
                size,
                identity: device.zip(inode).map(|(d, i)| (d as u64, i as u64)),
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
    crate::layout::sync_file_system(&files).map_err(Error::store(None))?;
    arca_cryptor::crash_point("import batch synced");
    Ok(())
}

/// Records a batch of finished files in one transaction: present ones with their tag, hashes
/// and size, failed ones removed from the Safe and listed with their error (and reported now).
#[allow(clippy::too_many_arguments)]
fn commit_batch(
    db: &mut Connection,
    layout: &Layout,
    job: Uuid,
    tasks: &[Task],
    batch: &mut Vec<(usize, Outcome)>,
    reporter: &mut Reporter<'_>,
    problems: &mut Vec<ItemProblem>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut changes = ChangeSet::begin(db)?;
    let mut removed_meanwhile = Vec::new();
    let mut new_problems = Vec::new();
    for (index, outcome) in batch.iter() {
        let task = &tasks[*index];
        let exists: bool = changes
            .reader()
            .prepare_cached("SELECT count(*) > 0 FROM items WHERE id = ?1")?
            .query_row([task.item], |row| row.get(0))?;
        match outcome {
            // Deleted while it was being imported (emptied from the trash): left out as the
            // person asked, and its data file is nobody's.
            Outcome::Done { .. } | Outcome::SourceFailed(..) if !exists => {
                if matches!(outcome, Outcome::Done { .. }) {
                    removed_meanwhile.push(task.item);
                }
                changes
                    .reader()
                    .prepare_cached(
                        "UPDATE import_entries SET state = 'removed' WHERE job = ?1 AND item = ?2",
                    )?
                    .execute(rusqlite::params![job, task.item])?;
            }
            Outcome::Done {
                size,
                tag,
                sha256,
                chunks,
            } => {
                changes.apply(Change::UpdateItem {
                    id: task.item,
                    update: ItemUpdate {
                        // Set only when the file changed size since it was listed: an unchanged
                        // size would still rewrite the folder's size-ordered index entry.
                        size: (*size != task.size).then_some(*size),
                        content: Some(Content::Present),
                        hmac_tag: Some(Some(*tag)),
                        sha256: Some(Some(*sha256)),
                        ..ItemUpdate::default()
                    },
                })?;
                if let Some(chunks) = chunks {
                    store_chunks(changes.reader(), task.item, tag, chunks)?;
                }
                changes
                    .reader()
                    .prepare_cached(
                        "UPDATE import_entries SET state = 'done' WHERE job = ?1 AND item = ?2",
                    )?
                    .execute(rusqlite::params![job, task.item])?;
            }
            Outcome::SourceFailed(kind, problem) => {
                changes.apply(Change::DeleteItem { id: task.item })?;
                changes
                    .reader()
                    .prepare_cached(
                        "UPDATE import_entries SET state = 'failed', error = ?3, problem = ?4
                         WHERE job = ?1 AND item = ?2",
                    )?
                    .execute(rusqlite::params![job, task.item, problem, kind.code()])?;
                reporter.progress.bytes_total =
                    reporter.progress.bytes_total.saturating_sub(task.size);
                new_problems
                    .push(ItemProblem::new(*kind, problem.clone()).path(shown(&task.source)));
            }
            Outcome::Stopped | Outcome::DestinationFailed(_) => {}
        }
    }
    changes.commit()?;
    for problem in new_problems {
        reporter.problem(&problem);
        problems.push(problem);
    }
    for item in removed_meanwhile {
        let _ = fs::remove_file(layout.data_file(item));
    }
    batch.clear();
    Ok(())
}

/// A cancelled job takes the files it had not encrypted yet out of the Safe again.
fn roll_back_pending(db: &mut Connection, layout: &Layout, job: Uuid) -> Result<()> {
    let pending: Vec<Uuid> = db
        .prepare("SELECT item FROM import_entries WHERE job = ?1 AND state = 'pending'")?
        .query_map([job], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut changes = ChangeSet::begin(db)?;
    for &item in &pending {
        let exists: bool = changes.reader().query_row(
            "SELECT count(*) > 0 FROM items WHERE id = ?1",
            [item],
            |row| row.get(0),
        )?;
        if exists {
            changes.apply(Change::DeleteItem { id: item })?;
        }
    }
    changes.reader().execute("UPDATE import_entries SET state = 'failed', error = 'cancelled' WHERE job = ?1 AND state = 'pending'", [job])?;
    changes.commit()?;
    for item in pending {
        let _ = fs::remove_file(layout.data_file(item));
    }
    Ok(())
}

/// Reads the job's outcome and forgets the job. Each failed source keeps the kind of problem
/// phase 2 found (whichever process ran it); files the person removed are counted apart.
fn finish_job(db: &mut Connection, job: Uuid, cancelled: bool, bytes: u64) -> Result<ImportReport> {
    let mut failed = Vec::new();
    let mut files = 0;
    let mut removed = 0;
    {
        let mut statement =
            db.prepare("SELECT source, state, error, problem FROM import_entries WHERE job = ?1")?;
        let mut rows = statement.query([job])?;
        while let Some(row) = rows.next()? {
            let (source, state, error, problem): (Vec<u8>, String, Option<String>, Option<String>) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            match state.as_str() {
                "done" => files += 1,
                "removed" => removed += 1,
                _ if error.as_deref() == Some("cancelled") => {}
                _ => failed.push(
                    ItemProblem::new(
                        problem
                            .as_deref()
                            .and_then(ProblemKind::from_code)
                            .unwrap_or(ProblemKind::Unreadable),
                        error.unwrap_or_default(),
                    )
                    .path(shown(&path_from_bytes(source))),
                ),
            }
        }
    }
    db.execute("DELETE FROM import_jobs WHERE id = ?1", [job])?;
    Ok(ImportReport {
        job,
        files,
        bytes,
        failed,
        removed,
        cancelled,
        ..ImportReport::default()
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

impl Safe {
    /// Imports files and folders (recursively) into the Safe.
    ///
    /// Unreadable sources, special files and symbolic links are reported (as they happen,
    /// through `observer`, and in the report) and the rest goes on. `control` pauses, resumes
    /// or cancels the job from another thread; locking the Safe interrupts it (resumable).
    ///
    /// # Errors
    /// [`Error::NotAFolder`] or [`Error::NotFound`] for the target folder;
    /// [`Error::SourceInSafe`]; [`Error::ReadOnly`]; [`Error::StoreIo`] if the Safe cannot be
    /// written (disk full…): the job then stays recorded and [`Safe::resume_import`] finishes
    /// it.
    pub fn import(
        &self,
        sources: &[PathBuf],
        options: &ImportOptions,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<ImportReport> {
        self.job(control, true, |open| {
            open.import(sources, options, control, observer)
        })
    }

    /// Import jobs that were interrupted (crash, kill, full disk, lock) and can be resumed or
    /// abandoned, with what each holds.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn interrupted_imports(&self) -> Result<Vec<ImportJob>> {
        let running = self.running_imports();
        self.reading(|open| open.interrupted_imports(&running))
    }

    /// Finishes an interrupted import job: the files not yet encrypted are encrypted now.
    ///
    /// # Errors
    /// As [`Safe::import`]; [`Error::NotFound`] for an unknown job.
    pub fn resume_import(
        &self,
        job: Uuid,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<ImportReport> {
        let _running = self.mark_import_running(job)?;
        self.job(control, true, |open| {
            open.resume_import(job, control, observer)
        })
    }

    /// Ends an interrupted import, taking the files it had not imported yet out of the Safe
    /// (and nothing else). Returns how many items were removed.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown job; [`Error::ReadOnly`].
    pub fn abandon_import(&self, job: Uuid) -> Result<u64> {
        let _running = self.mark_import_running(job)?;
        self.writing(|open| open.abandon_import(job))
    }
}
