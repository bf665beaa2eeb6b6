//! Reading files out of the Safe: exporting to a folder, and decrypting one file whole.
//!
//! Export writes only inside the folder it is given: every name is checked against the name
//! rule again where it is joined onto a path, nothing planted there is followed (a link, a
//! FIFO or a device where an exported item would go is a name clash, and a folder is merged
//! into only when it is a real folder and the person asked for merging), and each file is
//! written under a private temporary name and renamed into place only after its HMAC matched.
//! Temporary files a crash left in the target are removed by the next export to it.

use std::cell::Cell;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use arca_cryptor::{AtomicFile, CleartextBuffer, Decryptor, Sink, decrypt_with, is_partial_export};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::data_file::{damage, recorded_tag};
use crate::error::{Error, Result};
use crate::import::OnClash;
use crate::item::{Content, Item, Kind};
use crate::job::{InFlight, JobControl, Observer, Phase, Progress, Reporter};
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

/// What is at a path an exported item would take, looked at without following a link.
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

fn occupant(path: &Path) -> Result<Occupant> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_dir() => Ok(Occupant::Folder),
        Ok(metadata) if metadata.file_type().is_file() => Ok(Occupant::File),
        Ok(_) => Ok(Occupant::Other),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(Occupant::Nothing),
        Err(error) => Err(Error::io(path)(error)),
    }
}

/// Removes the temporary files of exports a crash interrupted, anywhere below `folder` (links
/// are not followed). Their names end in `.arca-partial`, which no file of the person's has.
fn remove_partial_exports(folder: &Path) -> Result<()> {
    let mut stack = vec![folder.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() {
                stack.push(path);
            } else if file_type.is_file() && is_partial_export(&entry.file_name().to_string_lossy())
            {
                fs::remove_file(&path).map_err(Error::io(&path))?;
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
        let decryptor = Decryptor::new(self.keys().data_credentials(), sink).expecting_tag(tag);
        decrypt_with(decryptor, io::BufReader::with_capacity(256 * 1024, reader)).map_err(|error| {
            match error {
                arca_cryptor::Error::Io(error) if error.kind() != io::ErrorKind::NotFound => {
                    Error::StoreIo {
                        item: self.path_of(id).ok(),
                        error,
                    }
                }
                other => self.content_error(&item, other),
            }
        })
    }

    /// The recorded tag of a file whose content can be read, or why it cannot.
    pub(crate) fn readable_tag(&self, item: &Item) -> Result<arca_cryptor::HmacTag> {
        if item.kind != Kind::File {
            return Err(Error::TrashState(format!(
                "{} is a folder, not a file",
                self.path_of(item.id)?
            )));
        }
        if item.content != Content::Present {
            return Err(Error::DamagedFile {
                path: self.path_of(item.id)?,
                reason: match item.content {
                    Content::Pending => "its import has not finished".to_owned(),
                    _ => "its content is missing; restore it from a backup".to_owned(),
                },
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
        let mut work: Vec<Item> = Vec::new();
        let mut seen = std::collections::HashSet::new();
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
        // Where each exported folder went, so children follow renamed folders.
        let mut placed: Vec<(Uuid, PathBuf)> = Vec::new();
        fs::create_dir_all(to).map_err(Error::io(to))?;
        remove_partial_exports(to)?;
        for item in &work {
            if !control.proceed() {
                report.cancelled = true;
                break;
            }
            let Some(folder) = item
                .parent
                .and_then(|parent| {
                    placed
                        .iter()
                        .find(|(id, _)| *id == parent)
                        .map(|(_, path)| path.clone())
                })
                .or_else(|| (items.contains(&item.id)).then(|| to.to_path_buf()))
            else {
                // Below a trashed, skipped or failed folder.
                continue;
            };
            let target = match self.export_target(&folder, item, on_clash) {
                Ok(Some(target)) => target,
                Ok(None) => {
                    let problem = ItemProblem::new(
                        ProblemKind::Skipped,
                        "already exists in the target folder: skipped",
                    )
                    .item(item.id)
                    .path(self.path_of(item.id).ok())
                    .file(folder.join(&item.name).to_string_lossy().into_owned());
                    reporter.problem(&problem);
                    report.skipped.push(problem);
                    continue;
                }
                Err(Error::InvalidName { reason, .. }) => {
                    let problem = ItemProblem::new(
                        ProblemKind::InvalidName,
                        format!("not exported: its name cannot be written ({reason})"),
                    )
                    .item(item.id)
                    .path(self.path_of(item.id).ok());
                    reporter.problem(&problem);
                    report.failed.push(problem);
                    continue;
                }
                Err(other) => return Err(other),
            };
            reporter.progress.current = self.path_of(item.id).ok();
            match item.kind {
                Kind::Folder => {
                    if occupant(&target)? == Occupant::Nothing {
                        fs::create_dir(&target).map_err(Error::io(&target))?;
                    }
                    set_folder_modified(&target, item.modified_at);
                    placed.push((item.id, target));
                    report.folders += 1;
                }
                Kind::File => {
                    match self.export_file(item, &target, control, &reporter.in_flight) {
                        Ok(true) => {
                            report.files += 1;
                            report.bytes += item.size;
                        }
                        Ok(false) => {
                            report.cancelled = true;
                            break;
                        }
                        Err(Error::DamagedFile { path, reason }) => {
                            let kind = match item.content {
                                Content::Present => ProblemKind::DataDamaged,
                                _ => ProblemKind::DataMissing,
                            };
                            let problem = ItemProblem::new(kind, reason).item(item.id).path(path);
                            reporter.problem(&problem);
                            report.failed.push(problem);
                        }
                        Err(other) => return Err(other),
                    }
                    reporter.progress.files_done += 1;
                    reporter.progress.bytes_done += item.size;
                    reporter.report(false);
                }
            }
        }
        reporter.progress.current = None;
        reporter.phase(Phase::Finished);
        Ok(report)
    }

    /// The path an item is exported to, after the clash rule; `None` to skip it.
    fn export_target(
        &self,
        folder: &Path,
        item: &Item,
        on_clash: OnClash,
    ) -> Result<Option<PathBuf>> {
        let target = join_checked(folder, &item.name)?;
        let merge = match (occupant(&target)?, item.kind, on_clash) {
            (Occupant::Nothing, _, _) => return Ok(Some(target)),
            // Into a real folder only, and only when asked to merge.
            (Occupant::Folder, Kind::Folder, OnClash::Skip | OnClash::Replace) => true,
            (Occupant::File, Kind::File, OnClash::Replace) => true,
            (_, _, OnClash::Skip) => return Ok(None),
            _ => false,
        };
        if merge {
            return Ok(Some(target));
        }
        let name = free_name_where(&item.name, |candidate| {
            Ok(!matches!(
                occupant(&folder.join(candidate))?,
                Occupant::Nothing
            ))
        })?;
        join_checked(folder, &name).map(Some)
    }

    /// Writes one file; `false` if the job was stopped inside it (nothing is left behind).
    fn export_file(
        &self,
        item: &Item,
        target: &Path,
        control: &JobControl,
        in_flight: &InFlight,
    ) -> Result<bool> {
        let failed = Cell::new(None);
        let stopped = Cell::new(false);
        let mut file = AtomicFile::create_exported(target).map_err(Error::io(target))?;
        if let Some(modified) = modified_time(item.modified_at) {
            file.set_modified(modified);
        }
        let output = ExportSink {
            file: Some(file),
            failed: &failed,
            stopped: &stopped,
            control,
            in_flight,
            written: 0,
        };
        match self.read_into(item.id, output) {
            Ok(_) => Ok(true),
            Err(_) if stopped.get() => Ok(false),
            Err(error) => Err(match (failed.get(), error) {
                (None, error) => error,
                (Some(_), Error::StoreIo { error, .. } | Error::Io { error, .. }) => Error::Io {
                    path: target.to_path_buf(),
                    error,
                },
                (Some(kind), _) => Error::Io {
                    path: target.to_path_buf(),
                    error: kind.into(),
                },
            }),
        }
    }
}

/// An exported file that remembers whether writing it failed (the decryptor reports read and
/// write errors alike, and a full destination disk must name the exported file, not the Safe),
/// and that stops when the job is stopped.
struct ExportSink<'a> {
    file: Option<AtomicFile>,
    failed: &'a Cell<Option<io::ErrorKind>>,
    stopped: &'a Cell<bool>,
    control: &'a JobControl,
    in_flight: &'a InFlight,
    written: u64,
}

impl ExportSink<'_> {
    fn note<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let Err(error) = &result {
            self.failed.set(Some(error.kind()));
        }
        result
    }
}

impl Write for ExportSink<'_> {
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
        self.in_flight.add(data.len() as u64);
        self.written += data.len() as u64;
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

impl Drop for ExportSink<'_> {
    fn drop(&mut self) {
        self.in_flight.sub(self.written);
    }
}

impl Sink for ExportSink<'_> {
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

/// Sets an exported folder's modification time (best effort), on the folder itself: a folder
/// just created or merged into, never followed through a link.
fn set_folder_modified(path: &Path, modified_at: Option<i64>) {
    let Some(time) = modified_time(modified_at) else {
        return;
    };
    if let Ok(folder) = File::open(path)
        && folder.metadata().is_ok_and(|metadata| metadata.is_dir())
    {
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
