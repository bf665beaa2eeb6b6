//! Rebuilding a Safe's attribute database from a backup of it, when the database itself is
//! damaged: the one file whose loss would otherwise cost every name, folder and tag.
//!
//! The key file still opens with the Safe Password, so the Safe's keys are known without the
//! database. A fresh database is built under a temporary name from the backup's attribute files
//! (item UUIDs, attributes, tags and trash state as of the backup's last run, every row through
//! [`ChangeSet`] so the log records it). The Safe's own data files are kept where their length
//! and trailing HMAC tag are the recorded ones; where a data file is missing or different, the
//! backup's copy is verified (HMAC, size, SHA-256) and copied in, and a different one is first
//! set aside under a new UUID, never overwritten. Only then is the damaged database (with its
//! `-wal` and `-shm`) moved into a dated folder inside the Safe, never deleted, and the new one
//! renamed into place.
//!
//! Killed at any point, the Safe either still has its damaged database or has none yet; both
//! fail to open as damaged, and running the rebuild again starts it over. Data files the backup
//! does not know (files added after it) stay in place and are listed: `check --repair` then
//! recovers them into "Recovered".
//!
//! Stopped through its [`JobControl`] (cancelled, or the app closed), a rebuild ends as a kill
//! before the swap would, but tidily: the half-built database is removed and the damaged one
//! stays in place, untouched, so the Safe is as it was but for its data files. Those already
//! put in order keep the backup's verified copy (the next rebuild keeps them: they are the
//! recorded ones), a different one found in their place stays set aside under a new UUID (as a
//! completed rebuild leaves it: listed, and recovered by `check --repair`), and one a copy was
//! stopped in has its own file back. Running the rebuild again starts over and completes it. Once the new database is written, the swap is not
//! stopped: it is a few renames.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use arca_cryptor::SafeKeys;
use rusqlite::Connection;
use uuid::Uuid;

use super::RecordKeys;
use super::catalogue::Catalogue;
use super::data::{CopyTo, DataError, check_or_copy};
use super::layout::{BackupLayout, DATA_SUFFIX, ShardEntry, shard_entries};
use super::manifest::BackupManifest;
use super::restore::insert_tagged;
use crate::changes::{self, ChangeSet};
use crate::data_file::{has_tag, recorded_tag};
use crate::db;
use crate::error::{Error, Result};
use crate::item::{Content, Item, Kind};
use crate::job::{JobControl, Observer, Phase, Progress, Reporter};
use crate::layout::Layout;
use crate::manifest::Manifest;
use crate::organise::free_name_where;
use crate::problem::{ItemProblem, ProblemKind};
use crate::query;
use crate::safe::Safe;
use crate::safe::{Access, OpenOptions};
use crate::time;
use crate::time::UtcTime;
use crate::unlock::Unlock;

/// Items recorded per transaction.
const BATCH: usize = 256;

/// The name the new database is built under, beside `attributes.db`.
const REBUILDING: &str = "attributes.rebuilding.db";

/// What rebuilding the database found and did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RebuildReport {
    /// Why the database was found damaged; `None` if it was whole, and nothing was done.
    pub damage: Option<String>,
    /// The folder inside the Safe the damaged database (and its `-wal`, `-shm`) was moved to.
    pub damaged_database_kept_in: Option<PathBuf>,
    /// When the backup's last complete run ended (nanoseconds since the Unix epoch): the
    /// attributes are as they were then.
    pub backup_completed_at: Option<i64>,
    /// The backup's last run had not completed; items it had changed were taken as found.
    pub interrupted_backup: bool,
    /// File items recorded.
    pub files: u64,
    /// Folders recorded.
    pub folders: u64,
    /// Files whose data file in the Safe had the recorded length and HMAC tag: kept as it was.
    pub data_files_kept: u64,
    /// Files whose data file was copied from the backup (missing or different in the Safe).
    pub data_files_copied: u64,
    /// Bytes (cleartext) of those files.
    pub bytes_copied: u64,
    /// Data files of the Safe that were not the recorded ones, moved aside under a new UUID
    /// before the backup's copy took their place (`file` names the new path in the Safe).
    pub set_aside: Vec<ItemProblem>,
    /// Items recorded without content (neither the Safe's nor the backup's data file is the
    /// recorded one), and items of the backup that could not be read (not recorded).
    pub failed: Vec<ItemProblem>,
    /// Items recorded elsewhere or under another name than in the backup.
    pub notes: Vec<ItemProblem>,
    /// Data files in the Safe the backup does not know (added after it, or set aside), as
    /// paths relative to the Safe: kept; `check --repair` recovers them into "Recovered".
    pub unknown_data_files: Vec<String>,
    /// The rebuild was stopped (cancelled, or the app closed) before the new database was
    /// written: the damaged database is still in place and the Safe does not open yet; the
    /// counts above say how far it got. Running the rebuild again completes it.
    pub stopped: bool,
}

impl RebuildReport {
    /// Whether the database was rebuilt (it was damaged).
    pub fn rebuilt(&self) -> bool {
        self.damage.is_some()
    }
}

/// Opens the Safe in `safe` with `unlock`, first rebuilding its attribute database from the
/// backup in `target` if the database cannot be opened or fails SQLite's integrity check. A
/// whole database is left alone ([`RebuildReport::damage`] is `None`).
///
/// The attributes become those of the backup's last run: changes made since are lost (the
/// damaged database is kept in a dated folder inside the Safe), and files added since keep
/// their data file but lose their name ([`RebuildReport::unknown_data_files`]).
///
/// `control` is asked between items and inside every data file copied, so a cancel ends the
/// rebuild within a fraction of a second; it returns no Safe then, and a report that says
/// [`RebuildReport::stopped`]: the Safe keeps its damaged database, and running the rebuild
/// again starts over and completes it (see the module documentation).
///
/// # Errors
/// As [`Safe::open`] for the Safe's key file; [`Error::ForeignBackup`] for a backup of another
/// Safe, and as [`super::verify_backup`] for reading the backup; [`Error::Io`] or
/// [`Error::Database`] if the new database cannot be written (the damaged one is then still in
/// place, and running the rebuild again starts over).
pub fn rebuild_database_from_backup(
    safe: &Path,
    unlock: Unlock<'_>,
    options: &OpenOptions,
    target: &Path,
    control: &JobControl,
    observer: Observer<'_>,
) -> Result<(Option<Safe>, RebuildReport)> {
    let layout = Layout::new(safe);
    let manifest = Manifest::read(&layout.manifest())?;
    let writer_lock = crate::safe::acquire_writer_lock(&layout)?;
    let keys = crate::safe::unlock_keys(&layout, &manifest, unlock, &options.backoff)?;
    let backup = BackupLayout::new(target);
    let backup_manifest =
        BackupManifest::read_of_safe(target, &backup.manifest(), manifest.safe_id)?;
    let open = |layout, manifest, keys| {
        Safe::with_keys(
            layout,
            manifest,
            keys,
            Access::Write,
            Some(writer_lock),
            options.backoff.clone(),
        )
    };
    let Some(damage) = find_damage(&layout, &keys)? else {
        return Ok((
            Some(open(layout, manifest, keys)?),
            RebuildReport::default(),
        ));
    };
    let record_keys = RecordKeys::for_version(&keys, backup_manifest.version);
    let catalogue = Catalogue::load(&backup, &backup_manifest, &record_keys)?;
    let mut report = RebuildReport {
        damage: Some(damage),
        backup_completed_at: backup_manifest.last_complete,
        interrupted_backup: catalogue.interrupted,
        failed: catalogue.problems.clone(),
        ..RebuildReport::default()
    };

    let building = layout.root().join(REBUILDING);
    remove_database_files(&building)?;
    let mut db = db::open(&building, &keys, db::DbAccess::Write { create: true })?;
    changes::init_device(&db)?;
    let recorded = fill(
        &mut db,
        &keys,
        &layout,
        &backup,
        &catalogue,
        control,
        observer,
        &mut report,
    )?;
    if report.stopped || control.stopped().is_some() {
        // The damaged database stays in place: the Safe is as it was (but for data files put
        // in order), and the next rebuild starts over.
        report.stopped = true;
        drop(db);
        remove_database_files(&building)?;
        return Ok((None, report));
    }
    // A database that is one file: it can be renamed, and no stale log is left beside it.
    db.pragma_update_and_check(None, "journal_mode", "DELETE", |row| {
        row.get::<_, String>(0)
    })?;
    drop(db);
    arca_cryptor::crash_point("rebuild: new database written");

    report.unknown_data_files = unknown_data_files(&layout, &recorded)?;
    report.damaged_database_kept_in = move_damaged_aside(&layout)?;
    arca_cryptor::crash_point("rebuild: damaged database moved aside");
    fs::rename(&building, layout.database()).map_err(Error::io(&building))?;
    arca_cryptor::sync_parent_dir(&layout.database()).map_err(Error::io(layout.root()))?;
    arca_cryptor::crash_point("rebuild: new database in place");
    Ok((Some(open(layout, manifest, keys)?), report))
}

/// Why the database is damaged, or `None` if it opens and passes SQLite's integrity check.
/// Other failures (a newer schema, a database busy in another program) are errors: they are no
/// reason to replace it.
fn find_damage(layout: &Layout, keys: &SafeKeys) -> Result<Option<String>> {
    let connection = match db::open(
        &layout.database(),
        keys,
        db::DbAccess::Write { create: false },
    ) {
        Ok(connection) => connection,
        Err(Error::DamagedDatabase(reason)) => return Ok(Some(reason)),
        Err(Error::Database(error)) if is_corruption(&error) => {
            return Ok(Some(error.to_string()));
        }
        Err(other) => return Err(other),
    };
    let messages = connection
        .prepare("PRAGMA integrity_check")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        });
    match messages {
        Ok(messages) if messages.iter().all(|message| message == "ok") => Ok(None),
        Ok(messages) => Ok(Some(messages.join("; "))),
        Err(error) if is_corruption(&error) => Ok(Some(error.to_string())),
        Err(error) => Err(error.into()),
    }
}

fn is_corruption(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Removes a database file and its companions, if there.
fn remove_database_files(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = companion(path, suffix);
        match fs::remove_file(&file) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(Error::io(&file)(error)),
        }
    }
    Ok(())
}

fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Records every item of the catalogue in `db`, parents first, putting each file's data file in
/// order on the way. Returns the UUIDs of the file items recorded. Stopped through `control`,
/// it returns early with [`RebuildReport::stopped`] set.
#[allow(clippy::too_many_arguments)]
fn fill(
    db: &mut Connection,
    keys: &SafeKeys,
    layout: &Layout,
    backup: &BackupLayout,
    catalogue: &Catalogue,
    control: &JobControl,
    observer: Observer<'_>,
    report: &mut RebuildReport,
) -> Result<HashSet<Uuid>> {
    let with_content = catalogue
        .records
        .values()
        .filter(|record| record.item.kind == Kind::File && record.item.content == Content::Present);
    let mut reporter = Reporter::new(
        observer,
        Progress::new(
            with_content.clone().count() as u64,
            with_content.map(|record| record.item.size).sum(),
        ),
    );
    for problem in &report.failed {
        reporter.problem(problem);
    }
    reporter.phase(Phase::Copying);
    let mut tag_ids: HashMap<String, Uuid> = HashMap::new();
    let mut placed = HashSet::new();
    let mut files = HashSet::new();
    let mut changes = ChangeSet::begin(db)?;
    let mut in_batch = 0;
    for id in catalogue.parents_first() {
        if !control.proceed() {
            report.stopped = true;
            break;
        }
        let mut record = catalogue.records[&id].clone();
        let note = |kind: ProblemKind, problem: String| {
            ItemProblem::new(kind, problem)
                .item(id)
                .path(catalogue.path_of(id))
        };
        if let Some(parent) = record.item.parent
            && !placed.contains(&parent)
        {
            record.item.parent = None;
            report.notes.push(note(
                ProblemKind::FolderMissing,
                format!("its folder ({parent}) is not in the backup: recorded at the root"),
            ));
        }
        if record.item.trashed_at.is_none()
            && query::live_child(changes.reader(), record.item.parent, &record.item.name)?.is_some()
        {
            let name = free_name_where(&record.item.name, |candidate| {
                Ok(query::live_child(changes.reader(), record.item.parent, candidate)?.is_some())
            })?;
            report.notes.push(note(
                ProblemKind::Renamed,
                format!("its name was taken: recorded as {name:?}"),
            ));
            record.item.name = name;
        }
        match (record.item.kind, record.item.content) {
            (Kind::File, Content::Present) => {
                match put_data_file(keys, layout, backup, &record.item, control)? {
                    DataFile::Stopped => {
                        report.stopped = true;
                        break;
                    }
                    DataFile::Kept => report.data_files_kept += 1,
                    DataFile::Copied { bytes, set_aside } => {
                        report.data_files_copied += 1;
                        report.bytes_copied += bytes;
                        if let Some(aside) = set_aside {
                            report.set_aside.push(
                                note(
                                    ProblemKind::DataReplaced,
                                    "its data file in the Safe was not the recorded one: set \
                                     aside under a new name, and the backup's copy put in its \
                                     place"
                                        .to_owned(),
                                )
                                .file(relative(layout, &aside)),
                            );
                        }
                    }
                    DataFile::Lost(kind, reason) => {
                        record.item.content = Content::Missing;
                        let problem = note(kind, format!("recorded without content: {reason}"))
                            .file(backup.relative(&backup.data_file(id)));
                        reporter.problem(&problem);
                        report.failed.push(problem);
                    }
                }
                reporter.progress.files_done += 1;
                reporter.progress.bytes_done += record.item.size;
                reporter.report(false);
                report.files += 1;
                files.insert(id);
            }
            (Kind::File, _) => {
                report.files += 1;
                files.insert(id);
            }
            (Kind::Folder, _) => report.folders += 1,
        }
        let tags = std::mem::take(&mut record.tags);
        insert_tagged(&mut changes, record.item, tags, &mut tag_ids)?;
        placed.insert(id);
        in_batch += 1;
        if in_batch >= BATCH {
            changes.commit()?;
            changes = ChangeSet::begin(db)?;
            in_batch = 0;
        }
    }
    changes.commit()?;
    reporter.report(true);
    Ok(files)
}

/// What became of a file's data file.
enum DataFile {
    /// The Safe's own has the recorded length and tag.
    Kept,
    /// The backup's was verified and copied in; a different one of the Safe's was set aside.
    Copied {
        bytes: u64,
        set_aside: Option<PathBuf>,
    },
    /// Neither the Safe's nor the backup's is the recorded one; the Safe's (if any) stays.
    Lost(ProblemKind, String),
    /// Stopped while the backup's was being copied: the Safe's (if any) is back in its place.
    Stopped,
}

fn put_data_file(
    keys: &SafeKeys,
    layout: &Layout,
    backup: &BackupLayout,
    item: &Item,
    control: &JobControl,
) -> Result<DataFile> {
    let path = layout.data_file(item.id);
    let Some(tag) = recorded_tag(item) else {
        return Ok(DataFile::Lost(
            ProblemKind::DataDamaged,
            "no valid HMAC tag is recorded for it".to_owned(),
        ));
    };
    let in_safe = match has_tag(&path, item.size, &tag).map_err(Error::store(None))? {
        Ok(()) => return Ok(DataFile::Kept),
        Err((_, reason)) => reason,
    };
    // A different data file could hold content nobody else has: it is moved, never replaced.
    let set_aside = if fs::symlink_metadata(&path).is_ok() {
        let aside = layout.data_file(Uuid::new_v4());
        if let Some(shard) = aside.parent() {
            crate::layout::prepare_shard(shard).map_err(Error::io(shard))?;
        }
        fs::rename(&path, &aside).map_err(Error::store(None))?;
        arca_cryptor::crash_point("rebuild: data file set aside");
        Some(aside)
    } else {
        None
    };
    let put_back = |aside: &Option<PathBuf>| -> Result<()> {
        if let Some(aside) = aside {
            fs::rename(aside, &path).map_err(Error::store(None))?;
        }
        Ok(())
    };
    match check_or_copy(
        keys,
        item,
        &backup.data_file(item.id),
        CopyTo::Durable(&path),
        true,
        control,
    ) {
        Ok((bytes, _)) => Ok(DataFile::Copied { bytes, set_aside }),
        Err(DataError::Stopped) => {
            put_back(&set_aside)?;
            Ok(DataFile::Stopped)
        }
        Err(DataError::Source(kind, in_backup)) => {
            put_back(&set_aside)?;
            Ok(DataFile::Lost(
                kind,
                format!("in the Safe, {in_safe}; in the backup, {in_backup}"),
            ))
        }
        Err(DataError::Io(error)) => {
            put_back(&set_aside)?;
            Err(error)
        }
    }
}

/// Data files in the Safe that no recorded file item names, relative to the Safe.
fn unknown_data_files(layout: &Layout, recorded: &HashSet<Uuid>) -> Result<Vec<String>> {
    let mut unknown: Vec<String> = shard_entries(&layout.files_dir(), DATA_SUFFIX)?
        .into_iter()
        .filter_map(|entry| match entry {
            ShardEntry::Named(id, path) if !recorded.contains(&id) => Some(relative(layout, &path)),
            _ => None,
        })
        .collect();
    unknown.sort();
    Ok(unknown)
}

fn relative(layout: &Layout, path: &Path) -> String {
    path.strip_prefix(layout.root())
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// Moves `attributes.db` and its `-wal` and `-shm` into a new folder
/// `attributes.db.damaged-YYYYMMDDTHHMMSSZ` inside the Safe, under their own names (so SQLite
/// tools can open them there together). The log files go first: a `-wal` left beside a fresh
/// database would be replayed into it. Returns the folder, or `None` if there was nothing.
fn move_damaged_aside(layout: &Layout) -> Result<Option<PathBuf>> {
    let database = layout.database();
    let present: Vec<PathBuf> = ["-wal", "-shm", "-journal", ""]
        .into_iter()
        .map(|suffix| companion(&database, suffix))
        .filter(|path| fs::symlink_metadata(path).is_ok())
        .collect();
    if present.is_empty() {
        return Ok(None);
    }
    let stamp = utc_stamp(time::now_ns());
    let mut folder = layout.root().join(format!("attributes.db.damaged-{stamp}"));
    let mut counter = 2;
    while fs::symlink_metadata(&folder).is_ok() {
        folder = layout
            .root()
            .join(format!("attributes.db.damaged-{stamp}-{counter}"));
        counter += 1;
    }
    crate::layout::private_dir_builder(false)
        .create(&folder)
        .map_err(Error::io(&folder))?;
    for path in present {
        let Some(name) = path.file_name() else {
            continue;
        };
        fs::rename(&path, folder.join(name)).map_err(Error::io(&path))?;
    }
    arca_cryptor::sync_parent_dir(&folder.join("attributes.db")).map_err(Error::io(&folder))?;
    arca_cryptor::sync_parent_dir(&database).map_err(Error::io(layout.root()))?;
    Ok(Some(folder))
}

/// Nanoseconds since the epoch as `YYYYMMDDTHHMMSSZ` (UTC), for file names.
fn utc_stamp(nanos: i64) -> String {
    let t = UtcTime::from_ns(nanos);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::utc_stamp;

    #[test]
    fn stamps_are_utc_dates() {
        assert_eq!(utc_stamp(0), "19700101T000000Z");
        assert_eq!(utc_stamp(951_782_400_000_000_000), "20000229T000000Z");
        assert_eq!(utc_stamp(1_700_000_000_123_456_789), "20231114T221320Z");
    }
}
