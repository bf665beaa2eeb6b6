//! Objects up to the target and down from it, several at once: object stores answer each
//! request after a round trip, and a replicated store writes each object on several nodes, so
//! one transfer at a time leaves the link and the disks mostly idle.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};

use arca_cryptor::{Decryptor, SafeKeys};
use rusqlite::params;
use uuid::Uuid;

use super::target::Target;
use super::{SyncReport, data_name, temporary_data_file};
use crate::data_file::{CheckSink, data_file_len, trailing_tag};
use crate::error::{Error, Result};
use crate::job::{JobControl, Reporter};
use crate::layout::Layout;
use crate::safe::Open;

/// A file waiting for its data: item, tag, cleartext SHA-256, size.
type Awaited = (Uuid, [u8; 32], Option<[u8; 32]>, u64);

/// What became of one download.
enum Download {
    /// In place: its length.
    Taken(u64),
    /// Not on the target (any more).
    Absent,
    /// Refused, and why; removed from the target.
    Refused(String),
}

/// Runs `work` over `jobs` on up to `threads` threads and hands each result to `done` on
/// the calling thread as it comes (the database stays on this thread). After the first error,
/// or when `control` says stop, no new job starts. Returns whether it was stopped.
pub(super) fn in_parallel<J: Send, R: Send>(
    jobs: Vec<J>,
    threads: usize,
    control: &JobControl,
    work: impl Fn(J) -> Result<R> + Sync,
    mut done: impl FnMut(R) -> Result<()>,
) -> Result<bool> {
    let queue = Mutex::new(jobs.into_iter());
    let failed = AtomicBool::new(false);
    let mut first_error = None;
    std::thread::scope(|scope| {
        let (sender, results) = mpsc::channel();
        for _ in 0..threads.max(1) {
            let sender = sender.clone();
            let (queue, failed, work) = (&queue, &failed, &work);
            scope.spawn(move || {
                while !failed.load(Ordering::Relaxed) && control.proceed() {
                    let job = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    let Some(job) = job else { break };
                    if sender.send(work(job)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for result in results {
            if let Err(error) = result.and_then(&mut done) {
                failed.store(true, Ordering::Relaxed);
                first_error.get_or_insert(error);
            }
        }
    });
    match first_error {
        Some(error) => Err(error),
        None => Ok(!control.proceed()),
    }
}

/// An error reaching `target`, naming it.
pub(super) fn reach(target: &dyn Target) -> impl Fn(io::Error) -> Error + Copy + '_ {
    |error| Error::SyncTarget {
        target: target.describe(),
        error,
    }
}

impl Open<'_> {
    /// Uploads the data files of present files whose version the target lacks.
    pub(super) fn send_files(
        &mut self,
        target: &dyn Target,
        on_target: &mut HashSet<(Uuid, [u8; 32])>,
        control: &JobControl,
        report: &mut SyncReport,
        reporter: &mut Reporter<'_>,
    ) -> Result<()> {
        let missing: Vec<(Uuid, [u8; 32], u64)> = self
            .db()
            .prepare(
                "SELECT id, hmac_tag, size FROM items
                 WHERE kind = 'file' AND content = 'present' AND hmac_tag IS NOT NULL",
            )?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
            .filter(|row| {
                row.as_ref()
                    .map_or(true, |(id, tag, _)| !on_target.contains(&(*id, *tag)))
            })
            .collect::<rusqlite::Result<_>>()?;
        let layout = self.layout().clone();
        reporter.progress.files_total += missing.len() as u64;
        reporter.progress.bytes_total += missing.iter().map(|(.., size)| *size).sum::<u64>();
        reporter.report(true);
        let stopped = in_parallel(
            missing,
            target.transfers(),
            control,
            |(id, tag, size)| {
                let path = layout.data_file(id);
                // Replaced since the query (an edit saved meanwhile): the next run sends it.
                let tag_here = File::open(&path).and_then(|mut file| trailing_tag(&mut file));
                if tag_here.ok() != Some(tag) {
                    return Ok(None);
                }
                target
                    .put_file(&data_name(id, &tag), &path)
                    .map_err(reach(target))?;
                arca_cryptor::crash_point("sync: data file uploaded");
                Ok(Some((id, tag, size)))
            },
            |sent| {
                reporter.progress.files_done += 1;
                if let Some((id, tag, size)) = sent {
                    on_target.insert((id, tag));
                    report.files_sent += 1;
                    report.bytes_sent += data_file_len(size);
                    reporter.progress.bytes_done += size;
                }
                reporter.report(false);
                Ok(())
            },
        )?;
        report.stopped |= stopped;
        Ok(())
    }

    /// Downloads the data files of files waiting for theirs, each checked whole against the
    /// tag and SHA-256 their operations recorded before it takes its place.
    pub(super) fn receive_files(
        &mut self,
        target: &dyn Target,
        on_target: &HashSet<(Uuid, [u8; 32])>,
        control: &JobControl,
        report: &mut SyncReport,
        reporter: &mut Reporter<'_>,
    ) -> Result<()> {
        let waiting: Vec<Awaited> = self
            .db()
            .prepare(
                "SELECT id, hmac_tag, sha256, size FROM items
                 WHERE kind = 'file' AND content != 'present' AND hmac_tag IS NOT NULL",
            )?
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let (there, absent): (Vec<Awaited>, Vec<Awaited>) = waiting
            .into_iter()
            .partition(|(id, tag, ..)| on_target.contains(&(*id, *tag)));
        report.files_waiting += absent.len() as u64;
        reporter.progress.files_total += there.len() as u64;
        reporter.progress.bytes_total += there.iter().map(|(.., size)| *size).sum::<u64>();
        reporter.report(true);
        self.layout().prepare_shards().map_err(Error::store(None))?;
        let (keys, layout) = (self.keys(), self.layout().clone());
        let db = self.db();
        let stopped = in_parallel(
            there,
            target.transfers(),
            control,
            |awaited| Ok((awaited, download(target, keys, &layout, awaited)?)),
            |((id, tag, _, size), outcome)| {
                reporter.progress.files_done += 1;
                reporter.progress.bytes_done += size;
                reporter.report(false);
                match outcome {
                    Download::Taken(received) => {
                        // The file's arrival is this device's business, not a change to the Safe.
                        db.execute(
                            "UPDATE items SET content = 'present' WHERE id = ?1 AND hmac_tag = ?2",
                            params![id, tag],
                        )?;
                        report.files_received += 1;
                        report.bytes_received += received;
                    }
                    Download::Absent => report.files_waiting += 1,
                    Download::Refused(reason) => {
                        report.problems.push(format!(
                            "{} {reason} (truncated, modified or swapped); not taken, and removed \
                             from the target so that a device holding the file sends it again",
                            data_name(id, &tag)
                        ));
                        report.files_waiting += 1;
                    }
                }
                Ok(())
            },
        )?;
        report.stopped |= stopped;
        Ok(())
    }
}

/// Downloads one data file beside the store, checks it, and renames it into place.
fn download(
    target: &dyn Target,
    keys: &SafeKeys,
    layout: &Layout,
    awaited: Awaited,
) -> Result<Download> {
    let (id, tag, sha256, size) = awaited;
    let name = data_name(id, &tag);
    let temporary = temporary_data_file(layout, id, "sync");
    let store = |error| Error::store(None)(error);
    let mut file = LocalWrites {
        file: File::create(&temporary).map_err(store)?,
        failed: None,
    };
    let received = match target.get_into(&name, &mut file) {
        Ok(received) => received,
        Err(error) => {
            let _ = fs::remove_file(&temporary);
            // Writing here failed (a full disk): this device's storage, not the target.
            if let Some(local) = file.failed {
                return Err(store(local));
            }
            if error.kind() == io::ErrorKind::NotFound {
                return Ok(Download::Absent);
            }
            return Err(reach(target)(error));
        }
    };
    let file = file.file;
    let verdict = if received == data_file_len(size) {
        verify(keys, &temporary, tag, sha256)?
    } else {
        Some("does not have the recorded size".to_owned())
    };
    if let Some(reason) = verdict {
        let _ = fs::remove_file(&temporary);
        // Its name says which version it must be, and it is provably not that version:
        // nothing is lost by removing it.
        target.delete(&name).map_err(reach(target))?;
        return Ok(Download::Refused(reason));
    }
    let path = layout.data_file(id);
    file.sync_all().map_err(store)?;
    fs::rename(&temporary, &path).map_err(store)?;
    arca_cryptor::sync_parent_dir(&path).map_err(store)?;
    arca_cryptor::crash_point("sync: data file downloaded");
    Ok(Download::Taken(received))
}

/// A download's local file, remembering a write that failed: the target's errors and this
/// device's come back from one call, and must not be told to the person the wrong way round.
struct LocalWrites {
    file: File,
    failed: Option<io::Error>,
}

impl Write for LocalWrites {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.file.write(bytes).inspect_err(|error| {
            self.failed = Some(io::Error::new(error.kind(), error.to_string()));
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().inspect_err(|error| {
            self.failed = Some(io::Error::new(error.kind(), error.to_string()));
        })
    }
}

/// Why `path` is not the data file with `tag` and `sha256`, if it is not.
fn verify(
    keys: &SafeKeys,
    path: &Path,
    tag: [u8; 32],
    sha256: Option<[u8; 32]>,
) -> Result<Option<String>> {
    let mut file = File::open(path).map_err(Error::store(None))?;
    let mut decryptor = Decryptor::new(keys.data_credentials(), CheckSink::new(true))
        .expecting_tag(arca_cryptor::HmacTag::from_bytes(tag));
    let mut buffer = vec![0u8; 1 << 20];
    let damaged = || Some("does not decrypt to the recorded version".to_owned());
    loop {
        let read = match io::Read::read(&mut file, &mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(Error::store(None)(error)),
        };
        if decryptor.update(&buffer[..read]).is_err() {
            return Ok(damaged());
        }
    }
    Ok(match decryptor.finish() {
        Ok((found, _)) if sha256.is_none() || found == sha256 => None,
        Ok(_) => Some("does not hold the recorded content".to_owned()),
        Err(_) => damaged(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_failed_local_write_is_remembered_as_this_devices() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("read-only");
        fs::write(&path, b"").unwrap();
        let mut local = LocalWrites {
            file: File::open(&path).unwrap(),
            failed: None,
        };
        assert!(io::copy(&mut &b"data"[..], &mut local).is_err());
        assert!(local.failed.is_some());
    }
}
