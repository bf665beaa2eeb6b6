//! Editing a file of the Safe in another app: a verified copy in the [`SecureArea`], every save
//! of it taken back into the Safe as the same item, and the copy wiped at the end.
//!
//! A save is taken back when the copy's bytes differ from what the Safe holds and the file did
//! not change while it was read: an editor that writes in several steps, or writes a new file
//! and renames it over the copy, is read once it is done ([`watch`] waits for a quiet moment
//! after the last event). The item keeps its UUID, name, folder, tags and comment; its content
//! and modification date are the copy's ([`Safe::replace_content_from`], crash-safe).

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::import::OnClash;
use crate::item::{Content, Kind};
use crate::job::JobControl;
use crate::safe::Safe;
use crate::secure_area::{EditRecord, Leftover, SecureArea, remove_edit, sha256_of};
use crate::time;

/// One file of the Safe open in another app.
#[derive(Debug)]
pub struct Edit {
    record: EditRecord,
    folder: PathBuf,
    record_path: PathBuf,
    file: PathBuf,
    /// The copy's size and modification time when it last held what the Safe holds: while
    /// they are unchanged, so is the copy, and it need not be read again to know.
    in_sync: Option<Stamp>,
}

type Stamp = (u64, Option<SystemTime>);

/// What taking back a copy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeBack {
    /// The copy holds what the Safe holds.
    Unchanged,
    /// The copy's content is now the item's.
    Saved {
        /// Its size in bytes.
        size: u64,
    },
    /// The copy is not there (an editor between deleting and writing it): nothing changed.
    Missing,
    /// The copy changed while it was read: it is taken back again at the next quiet moment.
    Changing,
}

impl Edit {
    /// The copy the other app works on.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The item it is a copy of.
    pub fn item(&self) -> Uuid {
        self.record.item
    }

    /// The item's path in the Safe when it was opened.
    pub fn path_in_safe(&self) -> &str {
        &self.record.path
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.record.name
    }

    /// The folder the copy is in (its only file, apart from what the other app adds).
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Whether the copy differs from what the Safe holds (a save not taken back yet).
    pub fn has_changes(&self) -> bool {
        match stamp(&self.file) {
            None => false,
            Some(now) if Some(now) == self.in_sync => false,
            Some(_) => sha256_of(&self.file).is_ok_and(|hash| hash != self.record.sha256),
        }
    }

    /// Removes the copy (call [`Safe::take_back`] first to keep its changes).
    ///
    /// # Errors
    /// If it cannot be removed.
    pub fn close(&self) -> Result<()> {
        remove_edit(&self.folder, &self.record_path)
    }
}

impl SecureArea {
    /// Puts a verified copy of the file `item` of `safe` in this area, under its own name and
    /// modification time, for another app to open.
    ///
    /// # Errors
    /// [`Error::ReadOnly`] for a Safe open for reading only (no save could come back, and the
    /// copy would stay behind as unsaved); [`Error::NotAFile`] for a folder;
    /// [`Error::NotStoredYet`] for a file whose import has not finished; [`Error::DamagedFile`]
    /// if its content does not verify (nothing is left in the area); [`Error::Io`] if the area
    /// cannot be written.
    pub fn open_copy(&self, safe: &Safe, item: Uuid) -> Result<Edit> {
        safe.writable()?;
        let found = safe.item(item)?;
        let path = safe.path_of(item)?;
        if found.kind != Kind::File {
            return Err(Error::NotAFile(path));
        }
        match (found.content, found.sha256) {
            (Content::Present, Some(sha256)) => {
                let (folder, record_path) = self.new_edit()?;
                let file = crate::name::join_checked(&folder, &found.name)?;
                let report = safe
                    .export(
                        &[item],
                        &folder,
                        OnClash::Skip,
                        &JobControl::new(),
                        &mut |_| {},
                    )
                    .inspect_err(|_| {
                        let _ = remove_edit(&folder, &record_path);
                    })?;
                if let Some(problem) = report.failed.first() {
                    let _ = remove_edit(&folder, &record_path);
                    return Err(Error::DamagedFile {
                        path,
                        reason: problem.problem.clone(),
                    });
                }
                let record = EditRecord {
                    safe_id: safe.id(),
                    safe: safe.layout().root().to_path_buf(),
                    item,
                    path,
                    name: found.name,
                    sha256,
                };
                write_record(&record_path, &record)?;
                Ok(Edit {
                    in_sync: stamp(&file),
                    record,
                    folder,
                    record_path,
                    file,
                })
            }
            (Content::Pending, _) => Err(Error::NotStoredYet(path)),
            _ => Err(Error::DamagedFile {
                path,
                reason: "its content is missing".to_owned(),
            }),
        }
    }
}

fn write_record(path: &Path, record: &EditRecord) -> Result<()> {
    let text = serde_json::to_vec(record).map_err(|error| Error::io(path)(error.into()))?;
    arca_cryptor::write_atomically_private(path, &text).map_err(Error::io(path))
}

impl Safe {
    /// Takes the copy's content back into the Safe if another app changed it: the item keeps
    /// its UUID, name, folder, tags and comment, and gets the copy's bytes and modification
    /// time.
    ///
    /// # Errors
    /// [`Error::Io`] if the copy cannot be read; as [`Safe::replace_content_from`] (a full disk:
    /// the Safe keeps its old content and the copy stays, to be taken back later).
    pub fn take_back(&self, edit: &mut Edit) -> Result<TakeBack> {
        let Some(before) = stamp(&edit.file) else {
            return Ok(TakeBack::Missing);
        };
        if edit.in_sync == Some(before) {
            return Ok(TakeBack::Unchanged);
        }
        let hash = sha256_of(&edit.file).map_err(Error::io(&edit.file))?;
        if hash == edit.record.sha256 {
            edit.in_sync = Some(before);
            return Ok(TakeBack::Unchanged);
        }
        let mut file = File::open(&edit.file).map_err(Error::io(&edit.file))?;
        let modified = before.1.and_then(time::to_ns);
        self.replace_content_from(edit.record.item, &mut file, modified)?;
        if stamp(&edit.file) != Some(before) || sha256_of(&edit.file).ok() != Some(hash) {
            // What went in may be half of a write; the write that follows brings the rest.
            return Ok(TakeBack::Changing);
        }
        edit.record.sha256 = hash;
        edit.in_sync = Some(before);
        write_record(&edit.record_path, &edit.record)?;
        Ok(TakeBack::Saved { size: before.0 })
    }

    /// [`Safe::take_back`] once the copy has stopped changing: when the other app is done, or
    /// Arca locks or quits, the last write must go in whole. Gives up waiting after 20 quiet
    /// periods (six seconds) and says [`TakeBack::Changing`].
    ///
    /// # Errors
    /// As [`Safe::take_back`].
    pub fn take_back_settled(&self, edit: &mut Edit) -> Result<TakeBack> {
        let mut outcome = self.take_back(edit);
        for _ in 0..20 {
            if !matches!(outcome, Ok(TakeBack::Changing)) {
                break;
            }
            std::thread::sleep(QUIET);
            outcome = self.take_back(edit);
        }
        outcome
    }

    /// Takes a changed copy left by a run that stopped back into this Safe, then removes it.
    ///
    /// # Errors
    /// [`Error::NotFound`] if it belongs to another Safe or its item is gone (the copy stays);
    /// as [`Safe::replace_content_from`].
    pub fn take_back_leftover(&self, leftover: &Leftover) -> Result<()> {
        if leftover.record.safe_id != self.id() {
            return Err(Error::NotFound {
                entity: "item",
                id: leftover.record.item,
            });
        }
        let mut file = File::open(&leftover.file).map_err(Error::io(&leftover.file))?;
        self.replace_content_from(leftover.record.item, &mut file, leftover.modified_at)?;
        leftover.discard()
    }
}

/// A file's size and modification time: what changes when it is written.
fn stamp(path: &Path) -> Option<Stamp> {
    let metadata = fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()))
}

/// Watching a copy; dropping it stops the watch.
pub struct Watch {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Watch")
    }
}

/// How long a copy must stay untouched after a write before it is taken back: editors write a
/// file in several steps, or a temporary file first and then rename it.
pub const QUIET: Duration = Duration::from_millis(300);

/// Calls `saved` on a thread of its own each time the copy of `edit` was written and then left
/// alone for `quiet` (a write, a rename over it, several writes in a row: one call).
///
/// # Errors
/// [`Error::Io`] if the folder cannot be watched.
pub fn watch(edit: &Edit, quiet: Duration, saved: impl Fn() + Send + 'static) -> Result<Watch> {
    let name = std::ffi::OsString::from(&edit.record.name);
    let (sender, receiver) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        let about_the_copy = event
            .paths
            .iter()
            .any(|path| path.file_name() == Some(name.as_os_str()));
        if about_the_copy
            && !matches!(
                event.kind,
                notify::EventKind::Access(
                    notify::event::AccessKind::Open(_) | notify::event::AccessKind::Read
                )
            )
        {
            let _ = sender.send(());
        }
    })
    .map_err(|error| Error::io(&edit.folder)(std::io::Error::other(error.to_string())))?;
    watcher
        .watch(&edit.folder, RecursiveMode::NonRecursive)
        .map_err(|error| Error::io(&edit.folder)(std::io::Error::other(error.to_string())))?;
    std::thread::Builder::new()
        .name("arca-edit-watch".to_owned())
        .spawn(move || {
            // Ends when the watcher, and with it the sender, is dropped.
            while receiver.recv().is_ok() {
                loop {
                    match receiver.recv_timeout(quiet) {
                        Ok(()) => {}
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
                saved();
            }
        })
        .map_err(Error::io(&edit.folder))?;
    Ok(Watch { _watcher: watcher })
}

/// The copies in `area` that another process still has open, or whose app left a lock file
/// beside them (LibreOffice `.~lock.NAME#`, Vim `.NAME.swp`, Emacs `.#NAME`): closing the Safe
/// now may lose what is only in that app. Best effort, from `/proc` on Linux.
pub fn open_elsewhere(edits: &[&Edit]) -> Vec<PathBuf> {
    let mut open = Vec::new();
    let held = held_by_other_processes();
    for edit in edits {
        let name = &edit.record.name;
        let lock_files = [
            format!(".~lock.{name}#"),
            format!(".{name}.swp"),
            format!(".#{name}"),
        ];
        let locked = lock_files
            .iter()
            .any(|lock| fs::symlink_metadata(edit.folder.join(lock)).is_ok());
        if locked || held.iter().any(|path| path.starts_with(&edit.folder)) {
            open.push(edit.file.clone());
        }
    }
    open
}

/// Every file another process of this user holds open.
fn held_by_other_processes() -> Vec<PathBuf> {
    let me = std::process::id().to_string();
    let mut held = Vec::new();
    for process in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = process.file_name();
        let pid = pid.to_string_lossy();
        if pid == me || !pid.bytes().all(|byte| byte.is_ascii_digit()) {
            continue;
        }
        for fd in fs::read_dir(process.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(target) = fs::read_link(fd.path()) {
                held.push(target);
            }
        }
    }
    held
}
