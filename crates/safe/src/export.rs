//! Reading files out of the Safe: exporting to a folder, and decrypting one file whole.
//!
//! Export writes only inside the folder it is given: every name is checked against the name
//! rule again where it is joined onto a path, nothing planted there is followed (a link, a
//! FIFO or a device where an exported item would go is a name clash, and a folder is merged
//! into only when it is a real folder and the person asked for merging), and each file is
//! written under a private temporary name and renamed into place only after its HMAC matched.
//! Temporary files a crash left in the target are removed by the next export to it.
//!
//! Nothing below the target folder is looked up by path: each folder the export creates or
//! merges into is opened once (without following a link) and held open while what goes in it
//! is exported, and every file and folder is created, opened, renamed and removed relative to
//! that descriptor. A folder moved away or swapped for a link while the export runs is never
//! followed: what goes in it still lands in the folder the export opened.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use arca_cryptor::{
    AtomicFile, CleartextBuffer, Decryptor, PIPELINE_MIN_LEN, Sink, decrypt_pipelined,
    decrypt_with, is_partial_export,
};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::data_file::{damage, recorded_tag};
use crate::error::{Error, Result};
use crate::import::OnClash;
use crate::item::{Content, Item, Kind};
use crate::job::{JobControl, Observer, Phase, Progress, Reporter};
use crate::name::join_checked;
use crate::organise::free_name_where;
use crate::problem::{ItemProblem, ProblemKind};
use crate::query;
use crate::safe::{Open, Safe};

/// The outcome of an export.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportReport {
    /// Files written.
    pub files: u64,
    /// Folders created (or merged into).
    pub folders: u64,
    /// Cleartext bytes written.
    pub bytes: u64,
    /// Items left out because of a name clash with `OnClash::Skip`.
    pub skipped: Vec<ItemProblem>,
    /// Items that could not be exported (damaged, missing, a name that breaks the rule); the
    /// rest were.
    pub failed: Vec<ItemProblem>,
    /// The export was stopped (cancelled, or the Safe was locked).
    pub cancelled: bool,
}

/// What is at a name an exported item would take, looked at without following a link.
#[derive(PartialEq, Eq)]
enum Occupant {
    Nothing,
    /// A real folder (not a link to one).
    Folder,
    /// A regular file.
    File,
    /// A link, FIFO, device or socket: never opened, never followed.
    Other,
}

/// A folder of the export, held open; its path only names it in messages.
struct Folder {
    dir: File,
    path: PathBuf,
}

/// Flags of every folder the export opens below its target: a folder, never a link to one.
const FOLDER_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

impl Folder {
    /// The target folder the person chose (created if missing; a link on its way is theirs).
    fn target(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path)
            .map_err(crate::layout::not_a_folder_in_the_way)
            .map_err(Error::io(path))?;
        let dir = rustix::fs::openat(
            rustix::fs::CWD,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|error| Error::io(path)(error.into()))?;
        Ok(Self {
            dir: File::from(dir),
            path: path.to_path_buf(),
        })
    }

    /// `name` in this folder, for messages.
    fn shown(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// What is at `name`, without following a link.
    fn occupant(&self, name: &str) -> Result<Occupant> {
        match rustix::fs::statat(&self.dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(match FileType::from_raw_mode(stat.st_mode) {
                FileType::Directory => Occupant::Folder,
                FileType::RegularFile => Occupant::File,
                _ => Occupant::Other,
            }),
            Err(rustix::io::Errno::NOENT) => Ok(Occupant::Nothing),
            Err(error) => Err(Error::io(self.shown(name))(error.into())),
        }
    }

    /// The folder `name` in this one, created if `create`, else a real folder already there;
    /// a link is never followed (it is refused, as is anything that is not a folder).
    fn folder(&self, name: &str, create: bool) -> Result<Self> {
        let path = self.shown(name);
        if create {
            rustix::fs::mkdirat(&self.dir, name, Mode::from_bits_truncate(0o777))
                .map_err(|error| Error::io(&path)(error.into()))?;
        }
        let dir = rustix::fs::openat(&self.dir, name, FOLDER_FLAGS, Mode::empty())
            .map_err(|error| Error::io(&path)(error.into()))?;
        Ok(Self {
            dir: File::from(dir),
            path,
        })
    }
}

/// Removes the temporary files of exports a crash interrupted, anywhere below `folder` (links
/// are not followed, and every folder is entered through the descriptor of the one it is in).
/// Their names end in `.arca-partial`, which no file of the person's has.
fn remove_partial_exports(folder: &Folder) -> Result<()> {
    // Folders still to look into, each with the folder it is in (held open until its last
    // folder has been entered).
    let mut stack: Vec<(Rc<OwnedFd>, PathBuf, OsString)> = Vec::new();
    let top = Rc::new(
        folder
            .dir
            .try_clone()
            .map_err(Error::io(&folder.path))?
            .into(),
    );
    look_into(&top, &folder.path, &mut stack)?;
    while let Some((parent, path, name)) = stack.pop() {
        let Ok(dir) = rustix::fs::openat(&*parent, name.as_os_str(), FOLDER_FLAGS, Mode::empty())
        else {
            continue;
        };
        look_into(&Rc::new(dir), &path, &mut stack)?;
    }
    Ok(())
}

/// Removes the leftover temporary files directly in `dir`, and adds its folders to `stack`.
fn look_into(
    dir: &Rc<OwnedFd>,
    path: &Path,
    stack: &mut Vec<(Rc<OwnedFd>, PathBuf, OsString)>,
) -> Result<()> {
    let Ok(entries) = rustix::fs::Dir::read_from(&**dir) else {
        return Ok(());
    };
    for entry in entries {
        let Ok(entry) = entry else {
            break;
        };
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        let mut file_type = entry.file_type();
        if file_type == FileType::Unknown {
            match rustix::fs::statat(&**dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => file_type = FileType::from_raw_mode(stat.st_mode),
                Err(_) => continue,
            }
        }
        if file_type == FileType::Directory {
            stack.push((Rc::clone(dir), path.join(name), name.to_os_string()));
        } else if file_type == FileType::RegularFile && is_partial_export(&name.to_string_lossy()) {
            // Removing a name never follows a link put there meanwhile.
            match rustix::fs::unlinkat(&**dir, name, AtFlags::empty()) {
                Ok(()) | Err(rustix::io::Errno::NOENT) => {}
                Err(error) => return Err(Error::io(path.join(name))(error.into())),
            }
        }
    }
    Ok(())
}

impl Open<'_> {
    /// Decrypts a file's content into `sink`, verified against the data file's recorded HMAC
    /// tag: a modified, swapped or rolled-back data file is refused before anything is released.
    pub(crate) fn read_into<S: Sink>(&self, id: Uuid, sink: S) -> Result<S::Output> {
        let item = self.item(id)?;
        let tag = self.readable_tag(&item)?;
        let reader = File::open(self.layout().data_file(id))
            .map_err(|error| self.content_error(&item, error.into()))?;
        let credentials = self.keys().data_credentials();
        let decrypted = if item.size >= PIPELINE_MIN_LEN {
            // Reading and the HMAC on a second thread, decrypting and writing on this one.
            decrypt_pipelined(credentials, Some(tag), reader, sink)
        } else {
            let decryptor = Decryptor::new(credentials, sink).expecting_tag(tag);
            decrypt_with(decryptor, io::BufReader::with_capacity(256 * 1024, reader))
        };
        decrypted.map_err(|error| match error {
            arca_cryptor::Error::Io(error) if error.kind() != io::ErrorKind::NotFound => {
                Error::StoreIo {
                    item: self.path_of(id).ok(),
                    error,
                }
            }
            other => self.content_error(&item, other),
        })
    }

    /// The recorded tag of a file whose content can be read, or why it cannot.
    pub(crate) fn readable_tag(&self, item: &Item) -> Result<arca_cryptor::HmacTag> {
        if item.kind != Kind::File {
            return Err(Error::NotAFile(self.path_of(item.id)?));
        }
        if item.content == Content::Pending {
            return Err(Error::NotStoredYet(self.path_of(item.id)?));
        }
        if item.content != Content::Present {
            return Err(Error::DamagedFile {
                path: self.path_of(item.id)?,
                reason: "its content is missing; restore it from a backup".to_owned(),
            });
        }
        recorded_tag(item)
            .ok_or_else(|| Error::DamagedDatabase(format!("item {} has no data file tag", item.id)))
    }

    /// Why a file's content cannot be read.
    pub(crate) fn content_error(&self, item: &Item, error: arca_cryptor::Error) -> Error {
        Error::DamagedFile {
            path: self.path_of(item.id).unwrap_or_else(|_| item.name.clone()),
            reason: damage(&error).1,
        }
    }

    pub(crate) fn export(
        &self,
        items: &[Uuid],
        to: &Path,
        on_clash: OnClash,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<ExportReport> {
        crate::layout::refuse_target_in_safe(self.layout().root(), to)?;
        let mut work: Vec<Item> = Vec::new();
        let mut seen = HashSet::new();
        for &id in items {
            for item in query::subtree(self.db(), id)? {
                if (item.id != id && item.trashed_at.is_some()) || !seen.insert(item.id) {
                    continue;
                }
                work.push(item);
            }
        }
        let files = work.iter().filter(|item| item.kind == Kind::File);
        let mut reporter = Reporter::new(
            observer,
            Progress::new(
                files.clone().count() as u64,
                files.map(|item| item.size).sum(),
            ),
        );
        reporter.phase(Phase::Decrypting);
        let mut report = ExportReport::default();
        let target = Folder::target(to)?;
        remove_partial_exports(&target)?;
        let target = Rc::new(target);
        // Each item goes into its folder when that was exported before it, else (an item
        // chosen) into the target folder. Visited depth first, so only the folders on the way
        // down to the current item are held open.
        let chosen: HashSet<Uuid> = items.iter().copied().collect();
        let index_of: HashMap<Uuid, usize> = work
            .iter()
            .enumerate()
            .map(|(index, item)| (item.id, index))
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); work.len()];
        let mut stack: Vec<(usize, Option<Rc<Folder>>)> = Vec::new();
        for (index, item) in work.iter().enumerate() {
            match item
                .parent
                .and_then(|parent| index_of.get(&parent).copied())
                .filter(|&parent| parent < index)
            {
                Some(parent) => children[parent].push(index),
                None => stack.push((index, None)),
            }
        }
        stack.reverse();
        while let Some((index, folder)) = stack.pop() {
            if !control.proceed() {
                report.cancelled = true;
                break;
            }
            let item = &work[index];
            // Below a trashed, skipped or failed folder, and not chosen itself: left out.
            let folder = folder.or_else(|| chosen.contains(&item.id).then(|| Rc::clone(&target)));
            let placed = match folder {
                Some(folder) => {
                    match self.export_item(item, &folder, on_clash, control, &mut reporter)? {
                        Exported::Folder(placed) => {
                            report.folders += 1;
                            Some(Rc::new(placed))
                        }
                        Exported::File => {
                            report.files += 1;
                            report.bytes += item.size;
                            None
                        }
                        Exported::Skipped(problem) => {
                            report.skipped.push(problem);
                            None
                        }
                        Exported::Failed(problem) => {
                            report.failed.push(problem);
                            None
                        }
                        Exported::Stopped => {
                            report.cancelled = true;
                            break;
                        }
                    }
                }
                None => None,
            };
            for &child in children[index].iter().rev() {
                stack.push((child, placed.clone()));
            }
        }
        reporter.progress.current = None;
        reporter.phase(Phase::Finished);
        Ok(report)
    }

    /// Exports one item into `folder`; a folder is returned held open.
    fn export_item(
        &self,
        item: &Item,
        folder: &Folder,
        on_clash: OnClash,
        control: &JobControl,
        reporter: &mut Reporter<'_>,
    ) -> Result<Exported> {
        let (name, exists) = match self.export_target(folder, item, on_clash) {
            Ok(Some(target)) => target,
            Ok(None) => {
                let problem = ItemProblem::new(
                    ProblemKind::Skipped,
                    "already exists in the target folder: skipped",
                )
                .item(item.id)
                .path(self.path_of(item.id).ok())
                .file(folder.shown(&item.name).to_string_lossy().into_owned());
                reporter.problem(&problem);
                return Ok(Exported::Skipped(problem));
            }
            Err(Error::InvalidName { reason, .. }) => {
                let problem = ItemProblem::new(
                    ProblemKind::InvalidName,
                    format!("not exported: its name cannot be written ({reason})"),
                )
                .item(item.id)
                .path(self.path_of(item.id).ok());
                reporter.problem(&problem);
                return Ok(Exported::Failed(problem));
            }
            Err(other) => return Err(other),
        };
        reporter.progress.current = self.path_of(item.id).ok();
        if item.kind == Kind::Folder {
            let placed = folder.folder(&name, !exists)?;
            set_folder_modified(&placed.dir, item.modified_at);
            return Ok(Exported::Folder(placed));
        }
        let exported = match self.export_file(item, folder, &name, control, reporter) {
            Ok(true) => Exported::File,
            Ok(false) => return Ok(Exported::Stopped),
            Err(Error::DamagedFile { path, reason }) => {
                let kind = match item.content {
                    Content::Present => ProblemKind::DataDamaged,
                    _ => ProblemKind::DataMissing,
                };
                let problem = ItemProblem::new(kind, reason).item(item.id).path(path);
                reporter.problem(&problem);
                Exported::Failed(problem)
            }
            // Its import has not finished (an interrupted job): left out, the rest goes on.
            Err(Error::NotStoredYet(path)) => {
                let problem = ItemProblem::new(
                    ProblemKind::Pending,
                    "not exported: its import has not finished",
                )
                .item(item.id)
                .path(path);
                reporter.problem(&problem);
                Exported::Failed(problem)
            }
            Err(other) => return Err(other),
        };
        reporter.progress.files_done += 1;
        reporter.progress.bytes_done += item.size;
        reporter.report(false);
        Ok(exported)
    }

    /// The name an item is exported under in `folder` after the clash rule, and whether a
    /// real folder or file of that name is there to merge into or replace; `None` to skip it.
    fn export_target(
        &self,
        folder: &Folder,
        item: &Item,
        on_clash: OnClash,
    ) -> Result<Option<(String, bool)>> {
        // Checked again here: a name that slipped into the database cannot leave `folder`.
        join_checked(&folder.path, &item.name)?;
        let merge = match (folder.occupant(&item.name)?, item.kind, on_clash) {
            (Occupant::Nothing, _, _) => return Ok(Some((item.name.clone(), false))),
            // Into a real folder only, and only when asked to merge.
            (Occupant::Folder, Kind::Folder, OnClash::Skip | OnClash::Replace) => true,
            (Occupant::File, Kind::File, OnClash::Replace) => true,
            (_, _, OnClash::Skip) => return Ok(None),
            _ => false,
        };
        if merge {
            return Ok(Some((item.name.clone(), true)));
        }
        let name = free_name_where(&item.name, |candidate| {
            Ok(folder.occupant(candidate)? != Occupant::Nothing)
        })?;
        join_checked(&folder.path, &name)?;
        Ok(Some((name, false)))
    }

    /// Writes one file as `name` in `folder`; `false` if the job was stopped inside it (nothing
    /// is left behind).
    fn export_file(
        &self,
        item: &Item,
        folder: &Folder,
        name: &str,
        control: &JobControl,
        reporter: &mut Reporter<'_>,
    ) -> Result<bool> {
        let target = folder.shown(name);
        let failed = Cell::new(None);
        let stopped = Cell::new(false);
        let mut file = AtomicFile::create_exported_at(folder.dir.as_fd(), OsStr::new(name))
            .map_err(Error::io(&target))?;
        if let Some(modified) = modified_time(item.modified_at) {
            file.set_modified(modified);
        }
        let output = ExportSink {
            file: Some(file),
            failed: &failed,
            stopped: &stopped,
            control,
            reporter,
            written: 0,
        };
        match self.read_into(item.id, output) {
            Ok(_) => Ok(true),
            Err(_) if stopped.get() => Ok(false),
            Err(error) => Err(match (failed.get(), error) {
                (None, error) => error,
                (Some(_), Error::StoreIo { error, .. } | Error::Io { error, .. }) => Error::Io {
                    path: target,
                    error,
                },
                (Some(kind), _) => Error::Io {
                    path: target,
                    error: kind.into(),
                },
            }),
        }
    }
}

/// What became of one exported item.
enum Exported {
    /// A folder, created or merged into, held open for what goes in it.
    Folder(Folder),
    File,
    Skipped(ItemProblem),
    Failed(ItemProblem),
    /// The job was stopped inside the file.
    Stopped,
}

/// An exported file that remembers whether writing it failed (the decryptor reports read and
/// write errors alike, and a full destination disk must name the exported file, not the Safe),
/// that stops when the job is stopped, and that reports the bytes written so far, so that a large
/// file moves the progress.
struct ExportSink<'a, 'r> {
    file: Option<AtomicFile>,
    failed: &'a Cell<Option<io::ErrorKind>>,
    stopped: &'a Cell<bool>,
    control: &'a JobControl,
    reporter: &'a mut Reporter<'r>,
    written: u64,
}

impl ExportSink<'_, '_> {
    fn note<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let Err(error) = &result {
            self.failed.set(Some(error.kind()));
        }
        result
    }
}

impl Write for ExportSink<'_, '_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_all(data)?;
        Ok(data.len())
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        if !self.control.proceed() {
            self.stopped.set(true);
            return Err(io::Error::other("the export was stopped"));
        }
        let result = match &mut self.file {
            Some(file) => file.write_all(data),
            None => Err(io::Error::other("the exported file was committed")),
        };
        self.note(result)?;
        self.reporter.in_flight.add(data.len() as u64);
        self.written += data.len() as u64;
        self.reporter.report(false);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        };
        self.note(result)
    }
}

impl Drop for ExportSink<'_, '_> {
    fn drop(&mut self) {
        self.reporter.in_flight.sub(self.written);
    }
}

impl Sink for ExportSink<'_, '_> {
    type Output = PathBuf;

    fn commit(mut self) -> io::Result<PathBuf> {
        let result = match self.file.take() {
            Some(file) => file.commit(),
            None => Err(io::Error::other("the exported file was committed twice")),
        };
        self.note(result)
    }
}

fn modified_time(nanos: Option<i64>) -> Option<std::time::SystemTime> {
    let nanos = nanos?;
    Some(if nanos >= 0 {
        UNIX_EPOCH + Duration::from_nanos(nanos.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_nanos(nanos.unsigned_abs())
    })
}

/// Sets an exported folder's modification time (best effort), on the folder held open.
fn set_folder_modified(folder: &File, modified_at: Option<i64>) {
    if let Some(time) = modified_time(modified_at) {
        let _ = folder.set_times(std::fs::FileTimes::new().set_modified(time));
    }
}

impl Safe {
    /// Decrypts a file's content into `sink`, verified against the data file's recorded HMAC
    /// tag: a modified, swapped or rolled-back data file is refused before anything is released.
    ///
    /// # Errors
    /// [`Error::DamagedFile`] naming the item and what is wrong; [`Error::TrashState`] for a
    /// folder; [`Error::StoreIo`] / [`Error::Io`] from the data file or the sink.
    pub fn read_into<S: Sink>(&self, id: Uuid, sink: S) -> Result<S::Output> {
        self.reading(|open| open.read_into(id, sink))
    }

    /// A file's whole content in memory (zeroized when dropped), verified.
    ///
    /// # Errors
    /// As [`Safe::read_into`].
    pub fn read(&self, id: Uuid) -> Result<Zeroizing<Vec<u8>>> {
        let size = self.item(id)?.size;
        self.read_into(
            id,
            CleartextBuffer::with_capacity(usize::try_from(size).unwrap_or(0)),
        )
    }

    /// Exports items (files, or folders with everything in them) into the folder `to`, keeping
    /// names, the hierarchy and modification times. Each file is decrypted to a temporary name
    /// and renamed only after its HMAC matched; a damaged file, or one whose name cannot be
    /// written, is reported and the others still export. Works on a Safe open for reading.
    ///
    /// # Errors
    /// [`Error::Io`] if `to` cannot be written (disk full…); what was exported so far stays.
    pub fn export(
        &self,
        items: &[Uuid],
        to: &Path,
        on_clash: OnClash,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<ExportReport> {
        self.job(control, false, |open| {
            open.export(items, to, on_clash, control, observer)
        })
    }
}
