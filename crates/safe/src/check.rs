//! Checking a Safe: the database's integrity, every data file against its recorded size and
//! HMAC tag (and with `full`, its cleartext SHA-256), orphans, and half-finished work. Repair
//! never deletes data that could hold cleartext: orphans are recovered into a folder.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};

use arca_cryptor::{Decryptor, decrypt_with};
use uuid::Uuid;

use crate::changes::Change;
use crate::data_file::{CheckSink, data_file_len, recorded_tag, trailing_tag};
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind};
use crate::job::{JobControl, Observer, Phase, Progress, Reporter};
use crate::lock::LOCK_FILE;
use crate::query::{self, ITEM_COLUMNS};
use crate::safe::{Open, Safe};
use crate::time;

/// Bytes of a data file read at a time by a full check (between two looks at the job's control).
const CHUNK: usize = 256 * 1024;

/// What checking one data file found.
enum FileCheck {
    Whole,
    Damaged(Problem),
    /// The check was stopped while reading it.
    Stopped,
}

/// One thing `check` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// SQLCipher's integrity check reported this.
    Database { message: String },
    /// A present file's data file is gone.
    MissingDataFile { path: String },
    /// A file whose content was found missing or damaged earlier (and marked so): it stays a
    /// problem until it is restored from a backup or deleted.
    MissingContent { path: String },
    /// A data file that is not the recorded one (size, tag or content differ).
    DamagedDataFile { path: String, reason: String },
    /// A data file no item refers to.
    OrphanDataFile { file: String },
    /// A temporary file left by an interrupted write.
    TemporaryFile { file: String },
    /// A file whose import never finished and that no job will finish.
    PendingWithoutJob { path: String },
    /// An import job that was interrupted.
    InterruptedImport { job: Uuid, files_left: u64 },
}

/// What `check` found and, with repair, did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CheckReport {
    /// Data files checked.
    pub files_checked: u64,
    /// Problems found (before repair).
    pub problems: Vec<Problem>,
    /// The check was stopped before its end (cancelled, or the Safe was locked).
    pub stopped: bool,
    /// What repair did, one line each.
    pub repairs: Vec<String>,
    /// Files whose data another device has and sync has not brought yet: not a problem.
    pub waiting_for_sync: u64,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl Open<'_> {
    pub(crate) fn check(
        &mut self,
        full: bool,
        repair: bool,
        control: &JobControl,
        reporter: &mut Reporter<'_>,
    ) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        // SQLCipher's check verifies every page's HMAC, unused pages included, which SQLite's
        // never reads; SQLite's fails with an error, not a list, on a page that does not verify.
        for pragma in ["cipher_integrity_check", "integrity_check"] {
            match self.integrity_messages(pragma) {
                Ok(messages) => report.problems.extend(
                    messages
                        .into_iter()
                        .filter(|message| message != "ok")
                        .map(|message| Problem::Database { message }),
                ),
                Err(error) => report.problems.push(Problem::Database {
                    message: format!("{pragma} failed: {error}"),
                }),
            }
        }
        let damaged_database = !report.problems.is_empty();
        match self.check_items(&mut report, full, repair, control, reporter) {
            Err(error @ (Error::Database(_) | Error::DamagedDatabase(_))) if damaged_database => {
                report.problems.push(Problem::Database {
                    message: format!("the items cannot be read to check their data files: {error}"),
                });
                Ok(report)
            }
            Err(other) => Err(other),
            Ok(()) => Ok(report),
        }
    }

    fn integrity_messages(&self, pragma: &str) -> rusqlite::Result<Vec<String>> {
        self.db()
            .prepare(&format!("PRAGMA {pragma}"))?
            .query_map([], |row| row.get(0))?
            .collect()
    }

    /// Every file's data file, orphans and half-finished work; with `repair`, the fixes.
    fn check_items(
        &mut self,
        report: &mut CheckReport,
        full: bool,
        repair: bool,
        control: &JobControl,
        reporter: &mut Reporter<'_>,
    ) -> Result<()> {
        let files: Vec<Item> = self
            .db()
            .prepare(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE kind = 'file'"
            ))?
            .query_map([], query::item_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        // Imports running through this handle are neither interrupted nor left over.
        let running = self.core().running_imports();
        let jobs: Vec<Uuid> = self
            .interrupted_imports(&running)?
            .into_iter()
            .map(|job| job.id)
            .collect();
        let mut being_written = HashSet::new();
        for &job in &running {
            being_written.extend(self.pending_items(job)?);
        }
        let in_jobs: HashSet<Uuid> = self
            .db()
            .prepare("SELECT item FROM import_entries JOIN import_jobs ON import_jobs.id = import_entries.job WHERE import_entries.state = 'pending'")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut missing = Vec::new();
        let mut stale_pending = Vec::new();
        reporter.progress = Progress::new(
            files.len() as u64,
            files
                .iter()
                .filter(|item| item.content == Content::Present)
                .map(|item| item.size)
                .sum(),
        );
        reporter.phase(Phase::Verifying);
        for item in &files {
            if !control.proceed() {
                report.stopped = true;
                return Ok(());
            }
            reporter.progress.current = self.path_of(item.id).ok();
            reporter.progress.files_done += 1;
            match item.content {
                Content::Present => {
                    match self.check_data_file(item, full, control)? {
                        FileCheck::Whole => {}
                        FileCheck::Damaged(problem) => {
                            missing.push(item.id);
                            report.problems.push(problem);
                        }
                        FileCheck::Stopped => {
                            report.stopped = true;
                            return Ok(());
                        }
                    }
                    report.files_checked += 1;
                    reporter.progress.bytes_done += item.size;
                }
                Content::Missing => report.problems.push(Problem::MissingContent {
                    path: self.path_of(item.id)?,
                }),
                // Its content is recorded (by another device) and comes with the next sync.
                Content::Pending if item.hmac_tag.is_some() && !in_jobs.contains(&item.id) => {
                    report.waiting_for_sync += 1;
                }
                Content::Pending if !in_jobs.contains(&item.id) => {
                    stale_pending.push(item.id);
                    report.problems.push(Problem::PendingWithoutJob {
                        path: self.path_of(item.id)?,
                    });
                }
                _ => {}
            }
            reporter.report(false);
        }
        reporter.progress.current = None;
        reporter.phase(Phase::Finished);
        for &job in &jobs {
            let files_left: u64 = self.db().query_row(
                "SELECT count(*) FROM import_entries WHERE job = ?1 AND state = 'pending'",
                [job],
                |row| row.get(0),
            )?;
            report
                .problems
                .push(Problem::InterruptedImport { job, files_left });
        }

        let mut known: HashSet<Uuid> = files.iter().map(|item| item.id).collect();
        // A Safe that syncs keeps a deleted file's data until every device has seen the
        // delete (sync removes it then): not an orphan.
        if crate::sync::syncs(self.db())? {
            let kept: Vec<Uuid> = self
                .db()
                .prepare(
                    "SELECT DISTINCT entity_id FROM operations
                     WHERE entity = 'item' AND action = 'delete'",
                )?
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            known.extend(kept);
        }
        let mut orphans = Vec::new();
        let mut temporaries = Vec::new();
        // A kill while a key file or the manifest is replaced leaves its temporary beside it.
        let root = self.layout().root().to_path_buf();
        for entry in fs::read_dir(&root).map_err(Error::io(&root))? {
            let path = entry.map_err(Error::io(&root))?.path();
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".tmp") && name != LOCK_FILE && path.is_file() {
                temporaries.push(path);
                report.problems.push(Problem::TemporaryFile { file: name });
            }
        }
        let files_dir = self.layout().files_dir();
        for shard in fs::read_dir(&files_dir).map_err(Error::store(None))? {
            let shard = shard.map_err(Error::store(None))?.path();
            if !fs::symlink_metadata(&shard).is_ok_and(|metadata| metadata.is_dir()) {
                continue;
            }
            for entry in fs::read_dir(&shard).map_err(Error::store(None))? {
                let path = entry.map_err(Error::store(None))?.path();
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let relative = format!(
                    "files/{}/{name}",
                    shard
                        .file_name()
                        .map(|s| s.to_string_lossy())
                        .unwrap_or_default()
                );
                if name.ends_with(".tmp") {
                    let writing = crate::layout::temporary_data_file_item(&name)
                        .is_some_and(|id| being_written.contains(&id));
                    if writing {
                        continue;
                    }
                    temporaries.push(path);
                    report
                        .problems
                        .push(Problem::TemporaryFile { file: relative });
                    continue;
                }
                let id = name
                    .strip_suffix(".data.crypt")
                    .and_then(|stem| Uuid::parse_str(stem).ok());
                match id {
                    Some(id) if known.contains(&id) && self.layout().data_file(id) == path => {}
                    _ => {
                        orphans.push((path, id));
                        report
                            .problems
                            .push(Problem::OrphanDataFile { file: relative });
                    }
                }
            }
        }

        if repair {
            self.repair(
                report,
                &jobs,
                &missing,
                &stale_pending,
                &temporaries,
                &orphans,
            )?;
        }
        Ok(())
    }

    /// Checks one file's data file: its size and trailing tag, and with `full` its content,
    /// asking `control` before every chunk read so that a stop (cancel, lock) ends it within a
    /// fraction of a second, whatever the file's size.
    fn check_data_file(&self, item: &Item, full: bool, control: &JobControl) -> Result<FileCheck> {
        let path = self.path_of(item.id)?;
        let data_file = self.layout().data_file(item.id);
        let damaged = |reason: &str| {
            Ok(FileCheck::Damaged(Problem::DamagedDataFile {
                path: path.clone(),
                reason: reason.to_owned(),
            }))
        };
        let store = |error| Error::StoreIo {
            item: Some(path.clone()),
            error,
        };
        let mut file = match File::open(&data_file) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(FileCheck::Damaged(Problem::MissingDataFile { path }));
            }
            Err(error) => return Err(store(error)),
        };
        let length = file.metadata().map_err(store)?.len();
        if length != data_file_len(item.size) {
            return damaged("its size does not match the recorded size");
        }
        let Some(tag) = recorded_tag(item) else {
            return damaged("no valid HMAC tag is recorded for it");
        };
        if &trailing_tag(&mut file).map_err(store)? != tag.as_bytes() {
            return damaged("its data file was replaced by another or rolled back");
        }
        if full {
            let mut decryptor =
                Decryptor::new(self.keys().data_credentials(), CheckSink::new(true))
                    .expecting_tag(tag);
            let mut buffer = vec![0u8; CHUNK];
            loop {
                if !control.proceed() {
                    return Ok(FileCheck::Stopped);
                }
                let read = match file.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(error) => return Err(store(error)),
                };
                match decryptor.update(&buffer[..read]) {
                    Ok(()) => {}
                    Err(arca_cryptor::Error::Io(error)) => return Err(store(error)),
                    Err(_) => return damaged("its data file was modified or damaged"),
                }
            }
            match decryptor.finish() {
                Ok((sha256, _)) if sha256 == item.sha256 => {}
                Ok(_) => return damaged("its content does not match the recorded SHA-256"),
                Err(arca_cryptor::Error::Io(error)) => return Err(store(error)),
                Err(_) => return damaged("its data file was modified or damaged"),
            }
        }
        Ok(FileCheck::Whole)
    }

    fn repair(
        &mut self,
        report: &mut CheckReport,
        jobs: &[Uuid],
        missing: &[Uuid],
        stale_pending: &[Uuid],
        temporaries: &[std::path::PathBuf],
        orphans: &[(std::path::PathBuf, Option<Uuid>)],
    ) -> Result<()> {
        for path in temporaries {
            fs::remove_file(path).map_err(Error::store(None))?;
            report.repairs.push(format!(
                "removed the unfinished temporary file {}",
                path.strip_prefix(self.layout().root())
                    .unwrap_or(path)
                    .display()
            ));
        }
        for &job in jobs {
            // Unless it was resumed meanwhile, by another thread of this handle.
            let Ok(_running) = self.core().mark_import_running(job) else {
                continue;
            };
            let outcome = self.resume_import(job, &JobControl::new(), &mut |_| {})?;
            report.repairs.push(format!(
                "finished the interrupted import: {} files imported, {} could not be read",
                outcome.files,
                outcome.failed.len()
            ));
        }
        if !missing.is_empty() || !stale_pending.is_empty() {
            let mut changes = self.changes()?;
            for &id in missing.iter().chain(stale_pending) {
                changes.apply(Change::UpdateItem {
                    id,
                    update: ItemUpdate {
                        content: Some(Content::Missing),
                        ..ItemUpdate::default()
                    },
                })?;
            }
            changes.commit()?;
            for &id in missing.iter().chain(stale_pending) {
                report.repairs.push(format!(
                    "marked the content of {} as missing",
                    self.path_of(id)?
                ));
            }
        }
        let mut recovered_folder = None;
        for (path, id) in orphans {
            match self.recover_orphan(path, *id, &mut recovered_folder)? {
                Some(name) => report.repairs.push(format!(
                    "recovered an orphan data file as /Recovered/{name}"
                )),
                None => report.repairs.push(format!(
                    "left {} in place: it does not decrypt with this Safe's keys",
                    path.strip_prefix(self.layout().root())
                        .unwrap_or(path)
                        .display()
                )),
            }
        }
        Ok(())
    }

    /// Gives an orphan data file an item in "/Recovered", if it decrypts with the Safe's keys.
    fn recover_orphan(
        &mut self,
        path: &std::path::Path,
        id: Option<Uuid>,
        folder: &mut Option<Uuid>,
    ) -> Result<Option<String>> {
        let mut file = File::open(path).map_err(Error::store(None))?;
        let Ok(tag) = trailing_tag(&mut file) else {
            return Ok(None);
        };
        let decryptor = Decryptor::new(self.keys().data_credentials(), CheckSink::new(true));
        let Ok((Some(sha256), size)) = decrypt_with(decryptor, io::BufReader::new(file)) else {
            return Ok(None);
        };
        let id = match id {
            Some(id) if crate::query::item(self.db(), id).is_err() => id,
            _ => Uuid::new_v4(),
        };
        let destination = self.layout().data_file(id);
        if destination != path {
            if let Some(shard) = destination.parent() {
                crate::layout::prepare_shard(shard).map_err(Error::io(shard))?;
            }
            fs::rename(path, &destination).map_err(Error::store(None))?;
        }
        let parent = match *folder {
            Some(parent) => parent,
            None => {
                let parent = match self.resolve("/Recovered") {
                    Ok(Some(existing)) if existing.kind == Kind::Folder => existing.id,
                    _ => self.create_folder(None, "Recovered")?,
                };
                *folder = Some(parent);
                parent
            }
        };
        let name = crate::organise::free_name(
            self.db(),
            Some(parent),
            &format!("recovered-{}", &id.to_string()[..8]),
        )?;
        let now = time::now_ns();
        let mut changes = self.changes()?;
        changes.apply(Change::InsertItem(Item {
            id,
            parent: Some(parent),
            kind: Kind::File,
            name: name.clone(),
            size,
            created_at: None,
            modified_at: Some(now),
            added_at: now,
            trashed_at: None,
            favorite: false,
            comment: "Recovered by check --repair: this data file had no entry in the database."
                .to_owned(),
            content: Content::Present,
            hmac_tag: Some(tag),
            sha256: Some(sha256),
        }))?;
        changes.commit()?;
        Ok(Some(name))
    }
}

impl Safe {
    /// Checks the Safe; with `full`, decrypts every file; with `repair`, fixes what it safely
    /// can (repair needs a Safe open for writing). Files marked missing stay a problem until
    /// they are restored from a backup or deleted.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::StoreIo`] if checking itself fails; [`Error::ReadOnly`]
    /// for a repair of a Safe open for reading.
    pub fn check(
        &self,
        full: bool,
        repair: bool,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<CheckReport> {
        self.job(control, repair, |open| {
            let mut reporter = Reporter::new(observer, Progress::new(0, 0));
            open.check(full, repair, control, &mut reporter)
        })
    }
}
