//! Reading files out of the Safe: exporting to a folder, and decrypting one file.

use std::cell::Cell;
use std::fs::{self, File, FileTimes};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arca_cryptor::{AtomicFile, CleartextBuffer, Decryptor, HmacTag, Sink, decrypt_with};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::import::{FileProblem, OnClash};
use crate::item::{Content, Item, Kind};
use crate::job::{JobControl, Progress, Reporter};
use crate::organise::free_name_where;
use crate::query;
use crate::safe::Safe;

/// The outcome of an export.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExportReport {
    /// Files written.
    pub files: u64,
    /// Folders created.
    pub folders: u64,
    /// Cleartext bytes written.
    pub bytes: u64,
    /// Items left out because of a name clash with `OnClash::Skip`.
    pub skipped: Vec<FileProblem>,
    /// Files that could not be exported (damaged, missing); the rest were.
    pub failed: Vec<FileProblem>,
    /// The export was cancelled.
    pub cancelled: bool,
}

/// Why a file's content cannot be read.
fn content_error(safe: &Safe, item: &Item, error: arca_cryptor::Error) -> Error {
    let path = safe.path_of(item.id).unwrap_or_else(|_| item.name.clone());
    Error::DamagedFile {
        path,
        reason: damage_reason(&error),
    }
}

fn damage_reason(error: &arca_cryptor::Error) -> String {
    match error {
        arca_cryptor::Error::UnexpectedTag => {
            "its data file was replaced by another or rolled back".to_owned()
        }
        arca_cryptor::Error::Authentication => "its data file was modified or damaged".to_owned(),
        arca_cryptor::Error::Truncated | arca_cryptor::Error::Misaligned => {
            "its data file is truncated".to_owned()
        }
        arca_cryptor::Error::Io(error) if error.kind() == io::ErrorKind::NotFound => {
            "its data file is missing".to_owned()
        }
        other => other.to_string(),
    }
}

impl Safe {
    /// Decrypts a file's content into `sink`, verified against the data file's recorded HMAC
    /// tag: a modified, swapped or rolled-back data file is refused before anything is released.
    ///
    /// # Errors
    /// [`Error::DamagedFile`] naming the item and what is wrong; [`Error::NotAFolder`]… for a
    /// folder; [`Error::Io`] from the sink.
    pub fn read_into<S: Sink>(&self, id: Uuid, sink: S) -> Result<S::Output> {
        let item = self.item(id)?;
        if item.kind != Kind::File {
            return Err(Error::TrashState(format!(
                "{} is a folder, not a file",
                self.path_of(id)?
            )));
        }
        if item.content != Content::Present {
            return Err(Error::DamagedFile {
                path: self.path_of(id)?,
                reason: match item.content {
                    Content::Pending => "its import has not finished".to_owned(),
                    _ => "its content is missing".to_owned(),
                },
            });
        }
        let tag = item
            .hmac_tag
            .as_deref()
            .and_then(|tag| hex::decode(tag).ok())
            .and_then(|bytes| HmacTag::from_slice(&bytes))
            .ok_or_else(|| {
                Error::DamagedDatabase(format!("item {id} has no valid data file tag"))
            })?;
        let data_file = self.layout().data_file(id);
        let reader =
            File::open(&data_file).map_err(|error| content_error(self, &item, error.into()))?;
        let decryptor = Decryptor::new(self.keys().data_credentials(), sink).expecting_tag(tag);
        decrypt_with(decryptor, io::BufReader::with_capacity(256 * 1024, reader)).map_err(|error| {
            match error {
                arca_cryptor::Error::Io(source) if source.kind() != io::ErrorKind::NotFound => {
                    Error::Io {
                        path: data_file.clone(),
                        source,
                    }
                }
                other => content_error(self, &item, other),
            }
        })
    }

    /// A file's whole content in memory (zeroized when dropped), verified.
    ///
    /// # Errors
    /// As [`Safe::read_into`].
    pub fn read(&self, id: Uuid) -> Result<Zeroizing<Vec<u8>>> {
        self.read_into(id, CleartextBuffer::new())
    }

    /// Exports items (files, or folders with everything in them) into the folder `to`, keeping
    /// names, the hierarchy and modification times. Each file is decrypted to a temporary name
    /// and renamed only after its HMAC matched; a damaged file is reported and the others still
    /// export.
    ///
    /// # Errors
    /// [`Error::Io`] if `to` cannot be written (disk full…); what was exported so far stays.
    pub fn export(
        &self,
        items: &[Uuid],
        to: &Path,
        on_clash: OnClash,
        control: &JobControl,
        progress: &mut dyn FnMut(&Progress),
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
        let total = Progress::new(
            files.clone().count() as u64,
            files.map(|item| item.size).sum(),
        );
        let mut reporter = Reporter::new(progress, total);
        let mut report = ExportReport::default();
        // Where each exported folder went, so children follow renamed folders.
        let mut placed: Vec<(Uuid, PathBuf)> = Vec::new();
        fs::create_dir_all(to).map_err(Error::io(to))?;
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
                // Below a trashed or skipped folder.
                continue;
            };
            let Some(target) = self.export_target(&folder, item, on_clash, &mut report)? else {
                continue;
            };
            match item.kind {
                Kind::Folder => {
                    if !target.is_dir() {
                        fs::create_dir(&target).map_err(Error::io(&target))?;
                    }
                    set_modified(&target, item.modified_at);
                    placed.push((item.id, target));
                    report.folders += 1;
                }
                Kind::File => {
                    match self.export_file(item, &target) {
                        Ok(()) => {
                            report.files += 1;
                            report.bytes += item.size;
                        }
                        Err(Error::DamagedFile { path, reason }) => {
                            report.failed.push(FileProblem {
                                path: PathBuf::from(path),
                                problem: reason,
                            });
                        }
                        Err(other) => return Err(other),
                    }
                    reporter.progress.files_done += 1;
                    reporter.progress.bytes_done += item.size;
                    reporter.report(false);
                }
            }
        }
        reporter.report(true);
        Ok(report)
    }

    /// The path an item is exported to, after the clash rule; `None` to skip it.
    fn export_target(
        &self,
        folder: &Path,
        item: &Item,
        on_clash: OnClash,
        report: &mut ExportReport,
    ) -> Result<Option<PathBuf>> {
        let target = folder.join(&item.name);
        let exists = fs::symlink_metadata(&target).is_ok();
        if !exists
            || (item.kind == Kind::Folder && target.is_dir() && on_clash != OnClash::KeepBoth)
        {
            return Ok(Some(target));
        }
        match on_clash {
            OnClash::Skip => {
                report.skipped.push(FileProblem {
                    path: target,
                    problem: "already exists, skipped".to_owned(),
                });
                Ok(None)
            }
            OnClash::Replace if item.kind == Kind::File && target.is_file() => Ok(Some(target)),
            _ => {
                let name = free_name_where(&item.name, |candidate| {
                    Ok(fs::symlink_metadata(folder.join(candidate)).is_ok())
                })?;
                Ok(Some(folder.join(name)))
            }
        }
    }

    fn export_file(&self, item: &Item, target: &Path) -> Result<()> {
        let failed = Cell::new(None);
        let output = ExportSink {
            file: AtomicFile::create(target).map_err(Error::io(target))?,
            failed: &failed,
        };
        let path =
            self.read_into(item.id, output)
                .map_err(|error| match (failed.get(), error) {
                    (None, error) => error,
                    (Some(_), Error::Io { source, .. }) => Error::Io {
                        path: target.to_path_buf(),
                        source,
                    },
                    (Some(kind), _) => Error::Io {
                        path: target.to_path_buf(),
                        source: kind.into(),
                    },
                })?;
        set_modified(&path, item.modified_at);
        Ok(())
    }
}

/// An exported file that remembers whether writing it failed: the decryptor reports read and
/// write errors alike, and a full destination disk must name the exported file, not the data
/// file being read.
struct ExportSink<'a> {
    file: AtomicFile,
    failed: &'a Cell<Option<io::ErrorKind>>,
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
        let result = self.file.write(data);
        self.note(result)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        let result = self.file.write_all(data);
        self.note(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.file.flush();
        self.note(result)
    }
}

impl Sink for ExportSink<'_> {
    type Output = PathBuf;

    fn commit(self) -> io::Result<PathBuf> {
        let failed = self.failed;
        let result = self.file.commit();
        if let Err(error) = &result {
            failed.set(Some(error.kind()));
        }
        result
    }
}

fn set_modified(path: &Path, modified_at: Option<i64>) {
    let Some(nanos) = modified_at else { return };
    let time = if nanos >= 0 {
        UNIX_EPOCH + Duration::from_nanos(nanos.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_nanos(nanos.unsigned_abs())
    };
    let times = FileTimes::new()
        .set_modified(time)
        .set_accessed(SystemTime::now());
    // Best effort: a file system that refuses times still gets the content.
    if let Ok(file) = File::options()
        .write(true)
        .open(path)
        .or_else(|_| File::open(path))
    {
        let _ = file.set_times(times);
    }
}
