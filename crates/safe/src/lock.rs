//! One writer at a time: an advisory lock on a Safe (or a backup folder), held by every handle
//! that may write, for its whole life.
//!
//! The lock is `flock` on the file [`LOCK_FILE`] in the folder; the kernel releases it when the
//! holder exits or dies, so a lock left by a crashed process is never an obstacle. While held,
//! the file names its holder (process id, host, program), which a refused writer reports.
//! Readers (list, search, read, export) take no lock: the database's WAL gives them a
//! consistent view beside a writer.
//!
//! A file system that cannot lock (some network shares) is used without the lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The lock file's name, in the Safe's (or backup's) folder.
pub const LOCK_FILE: &str = "writer.lock";

/// How often a refused writer reads the lock file for its holder's name (10 ms apart).
const NAMING_LOOKS: u32 = 20;

/// Who holds a lock, as the holder wrote it into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Its process id.
    pub pid: u32,
    /// The host it runs on.
    pub host: String,
    /// The program (`arca`, `arca-desktop`).
    pub program: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (process {} on {})",
            self.program, self.pid, self.host
        )
    }
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct WriterLock {
    file: Option<File>,
}

/// Why the lock was not taken.
pub(crate) enum Refused {
    /// Another handle holds it (`None` if it did not say who it is).
    Held(Option<Holder>),
    /// The folder cannot be written: read-only media or permissions.
    ReadOnly,
    Io(io::Error),
}

impl WriterLock {
    /// Takes the lock on `folder`, without waiting.
    pub(crate) fn acquire(folder: &Path) -> Result<Self, Refused> {
        let path = folder.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&path) {
            Ok(file) => file,
            Err(error) if is_read_only(&error) => return Err(Refused::ReadOnly),
            Err(error) => return Err(Refused::Io(error)),
        };
        // A holder names itself just after it takes the lock: a writer refused in that moment
        // looks again briefly, so that it can say who holds the Safe.
        let mut looks = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let holder = read_holder(&mut file).filter(is_alive);
                    looks += 1;
                    if holder.is_some() || looks == NAMING_LOOKS {
                        return Err(Refused::Held(holder));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                // No locking on this file system: go on without it.
                Err(TryLockError::Error(error)) if cannot_lock(&error) => {
                    return Ok(Self { file: None });
                }
                Err(TryLockError::Error(error)) => return Err(Refused::Io(error)),
            }
        }
        let holder = Holder {
            pid: std::process::id(),
            host: host_name(),
            program: program_name(),
        };
        // Only for the message a refused writer prints: not synced, and a failure to write it
        // leaves the lock held all the same. Left alone when it already says so.
        if let Ok(text) = serde_json::to_vec(&holder)
            && read_holder(&mut file).as_ref() != Some(&holder)
        {
            let _ = file
                .seek(SeekFrom::Start(0))
                .and_then(|_| file.write_all(&text))
                .and_then(|()| file.set_len(text.len() as u64));
        }
        Ok(Self { file: Some(file) })
    }
}

impl Drop for WriterLock {
    /// Clears the holder's name before the lock goes: the file would otherwise tell whoever
    /// sees the folder (a cloud provider, a backup service) the host and program that last wrote
    /// to it. A refused writer that reads it empty in the instant before the release looks again.
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            let _ = file.set_len(0);
        }
    }
}

/// Locks are not supported here (EOPNOTSUPP), or the share has none left (ENOLCK).
fn cannot_lock(error: &io::Error) -> bool {
    const ENOLCK: i32 = 37;
    error.kind() == io::ErrorKind::Unsupported || error.raw_os_error() == Some(ENOLCK)
}

pub(crate) fn is_read_only(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied
    )
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = Vec::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(4096).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Whether the process a lock file names may still be running. The file keeps the last holder's
/// name until the next holder writes its own: a name of a process that is gone names no one.
fn is_alive(holder: &Holder) -> bool {
    if holder.host != host_name() {
        return true;
    }
    #[cfg(unix)]
    {
        use rustix::process::{Pid, test_kill_process};
        i32::try_from(holder.pid)
            .ok()
            .and_then(Pid::from_raw)
            .is_some_and(|pid| test_kill_process(pid) != Err(rustix::io::Errno::SRCH))
    }
    #[cfg(not(unix))]
    {
        true
    }
}

fn host_name() -> String {
    #[cfg(unix)]
    {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").unwrap_or_default()
    }
}

fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "a program".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_holder_named_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path()).ok().unwrap();
        match WriterLock::acquire(dir.path()) {
            Err(Refused::Held(Some(holder))) => {
                assert_eq!(holder.pid, std::process::id());
                assert!(!holder.host.is_empty());
            }
            _ => panic!("the second writer was not refused"),
        }
        drop(first);
        // Released, the file no longer names the host and program that held it.
        assert_eq!(std::fs::read(dir.path().join(LOCK_FILE)).unwrap(), b"");
        assert!(WriterLock::acquire(dir.path()).is_ok());
    }
}
