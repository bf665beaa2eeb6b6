//! Checking a Safe: the database's integrity, every data file against its recorded size and
//! HMAC tag (and with `full`, its cleartext SHA-256), orphans, and half-finished work. Repair
//! never deletes data that could hold cleartext: orphans are recovered into a folder.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};

use arca_cryptor::format::{BLOCK_LEN, HMAC_LEN, KEY_HEADER_LEN};
use arca_cryptor::{Decryptor, HmacTag, Sink, decrypt_with};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::changes::Change;
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind};
use crate::job::JobControl;
use crate::query::{self, ITEM_COLUMNS};
use crate::safe::Safe;
use crate::time;

/// One thing `check` found wrong.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// SQLCipher's integrity check reported this.
    Database { message: String },
    /// A present file's data file is gone.
    MissingDataFile { path: String },
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
    /// What repair did, one line each.
    pub repairs: Vec<String>,
}

impl CheckReport {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A sink that only hashes and counts: checking decrypts without keeping anything.
#[derive(Default)]
struct HashingSink {
    hasher: Sha256,
    len: u64,
}

impl Write for HashingSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.hasher.update(data);
        self.len += data.len() as u64;
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for HashingSink {
    type Output = ([u8; 32], u64);
    fn commit(self) -> io::Result<([u8; 32], u64)> {
        Ok((self.hasher.finalize().into(), self.len))
    }
}

/// The last 32 bytes of a data file: its HMAC tag.
fn trailing_tag(file: &mut File) -> io::Result<[u8; HMAC_LEN]> {
    let mut tag = [0u8; HMAC_LEN];
    file.seek(SeekFrom::End(-(HMAC_LEN as i64)))?;
    file.read_exact(&mut tag)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(tag)
}

/// The size of a key-based message holding `cleartext` bytes.
fn data_file_len(cleartext: u64) -> u64 {
    KEY_HEADER_LEN as u64 + (cleartext / BLOCK_LEN as u64 + 1) * BLOCK_LEN as u64 + HMAC_LEN as u64
}

impl Safe {
    /// Checks the Safe; with `full`, decrypts every file; with `repair`, fixes what it safely can.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Io`] if checking itself fails.
    pub fn check(&mut self, full: bool, repair: bool) -> Result<CheckReport> {
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
        match self.check_items(&mut report, full, repair) {
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
    fn check_items(&mut self, report: &mut CheckReport, full: bool, repair: bool) -> Result<()> {
        let files: Vec<Item> = self
            .db()
            .prepare(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE kind = 'file'"
            ))?
            .query_map([], query::item_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let jobs = self.interrupted_imports()?;
        let in_jobs: HashSet<Uuid> = self
            .db()
            .prepare("SELECT item FROM import_entries JOIN import_jobs ON import_jobs.id = import_entries.job WHERE import_entries.state = 'pending'")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut missing = Vec::new();
        let mut stale_pending = Vec::new();
        for item in &files {
            match item.content {
                Content::Present => {
                    report.files_checked += 1;
                    if let Some(problem) = self.check_data_file(item, full)? {
                        missing.push(item.id);
                        report.problems.push(problem);
                    }
                }
                Content::Pending if !in_jobs.contains(&item.id) => {
                    stale_pending.push(item.id);
                    report.problems.push(Problem::PendingWithoutJob {
                        path: self.path_of(item.id)?,
                    });
                }
                _ => {}
            }
        }
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

        let known: HashSet<Uuid> = files.iter().map(|item| item.id).collect();
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
            if name.ends_with(".tmp") && path.is_file() {
                temporaries.push(path);
                report.problems.push(Problem::TemporaryFile { file: name });
            }
        }
        let files_dir = self.layout().files_dir();
        for shard in fs::read_dir(&files_dir).map_err(Error::io(&files_dir))? {
            let shard = shard.map_err(Error::io(&files_dir))?.path();
            if !shard.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&shard).map_err(Error::io(&shard))? {
                let path = entry.map_err(Error::io(&shard))?.path();
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

    fn check_data_file(&self, item: &Item, full: bool) -> Result<Option<Problem>> {
        let path = self.path_of(item.id)?;
        let data_file = self.layout().data_file(item.id);
        let damaged = |reason: &str| {
            Ok(Some(Problem::DamagedDataFile {
                path: path.clone(),
                reason: reason.to_owned(),
            }))
        };
        let mut file = match File::open(&data_file) {
            Ok(file) => file,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(Some(Problem::MissingDataFile { path }));
            }
            Err(error) => return Err(Error::io(&data_file)(error)),
        };
        let length = file.metadata().map_err(Error::io(&data_file))?.len();
        if length != data_file_len(item.size) {
            return damaged("its size does not match the recorded size");
        }
        let Some(tag) = item
            .hmac_tag
            .as_deref()
            .and_then(|tag| hex::decode(tag).ok())
            .and_then(|bytes| HmacTag::from_slice(&bytes))
        else {
            return damaged("no valid HMAC tag is recorded for it");
        };
        if &trailing_tag(&mut file).map_err(Error::io(&data_file))? != tag.as_bytes() {
            return damaged("its data file was replaced by another or rolled back");
        }
        if full {
            let decryptor = Decryptor::new(self.keys().data_credentials(), HashingSink::default())
                .expecting_tag(tag);
            match decrypt_with(decryptor, io::BufReader::with_capacity(256 * 1024, file)) {
                Ok((sha256, _)) if item.sha256.as_deref() == Some(hex::encode(sha256).as_str()) => {
                }
                Ok(_) => return damaged("its content does not match the recorded SHA-256"),
                Err(arca_cryptor::Error::Io(error)) => return Err(Error::io(&data_file)(error)),
                Err(_) => return damaged("its data file was modified or damaged"),
            }
        }
        Ok(None)
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
            fs::remove_file(path).map_err(Error::io(path))?;
            report.repairs.push(format!(
                "removed the unfinished temporary file {}",
                path.display()
            ));
        }
        for &job in jobs {
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
                    path.display()
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
        let mut file = File::open(path).map_err(Error::io(path))?;
        let Ok(tag) = trailing_tag(&mut file) else {
            return Ok(None);
        };
        let decryptor = Decryptor::new(self.keys().data_credentials(), HashingSink::default());
        let Ok((sha256, size)) = decrypt_with(decryptor, io::BufReader::new(file)) else {
            return Ok(None);
        };
        let id = match id {
            Some(id) if self.item(id).is_err() => id,
            _ => Uuid::new_v4(),
        };
        let destination = self.layout().data_file(id);
        if destination != path {
            if let Some(shard) = destination.parent() {
                fs::create_dir_all(shard).map_err(Error::io(shard))?;
            }
            fs::rename(path, &destination).map_err(Error::io(path))?;
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
            hmac_tag: Some(hex::encode(tag)),
            sha256: Some(hex::encode(sha256)),
        }))?;
        changes.commit()?;
        Ok(Some(name))
    }
}
