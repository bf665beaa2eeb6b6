//! Writing files so that a crash never leaves half of one under its final name: a temporary
//! file in the same folder, made durable, then renamed over the final name, then the folder
//! made durable. Key files, data files, manifests and exported files are all written this way.
//!
//! Temporary files are readable by their owner only from the moment they are created (0600),
//! whatever they will hold. Their names end in `.tmp`, except the cleartext of an export, whose
//! temporary files end in [`PARTIAL_EXPORT_SUFFIX`] so that a later export can find and remove
//! what a crash left behind without ever touching a file of the person's own.
//!
//! A file can also be written inside a folder held open ([`AtomicFile::create_exported_at`]):
//! its temporary file is created, renamed and removed relative to that folder's descriptor, so
//! nothing is looked up by path and a folder moved away or swapped for a link meanwhile is
//! never followed.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, BufWriter, Write};
#[cfg(unix)]
use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[cfg(unix)]
use rustix::fs::{AtFlags, Mode, OFlags};

use crate::sink::Sink;

/// How much of a file is handed to the kernel between two requests to start writing it to
/// disk. Without them the disk starts only at the commit's fsync (or, for a deferred file, its
/// batch's sync), which then waited 0.4 s for a 1 GiB export and 0.5 s for a 1 GiB import; with
/// them the disk works while the rest is still being computed, and the sync waits for the last
/// few megabytes.
const WRITEBACK_STEP: u64 = 16 * 1024 * 1024;

/// The ending of the temporary file of an exported (cleartext) file.
pub const PARTIAL_EXPORT_SUFFIX: &str = ".arca-partial";

/// How much of the final name a temporary name repeats (at most 4 bytes a character).
const TEMP_NAME_CHARS: usize = 48;

/// What a file holds, which decides its name while written and its mode when done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Part of a Safe or backup: 0600, durable on commit.
    Private,
    /// Part of a Safe or backup, made durable later by a sync of the whole file system.
    PrivateDeferred,
    /// Cleartext the person exports: 0600 while written, then the mode a new file of theirs
    /// would get (0666 less the umask), durable on commit.
    Exported,
}

/// Where a file is written: its temporary and final names, and the folder they are in.
enum Place {
    /// Paths, each resolved again by every step.
    Path { temp: PathBuf, target: PathBuf },
    /// Names in a folder held open: every step is relative to its descriptor.
    #[cfg(unix)]
    At {
        dir: OwnedFd,
        temp: OsString,
        target: OsString,
    },
}

impl Place {
    /// The final path, or (in a folder held open) the final name.
    fn target(&self) -> &Path {
        match self {
            Self::Path { target, .. } => target,
            #[cfg(unix)]
            Self::At { target, .. } => Path::new(target),
        }
    }

    fn remove_temp(&self) -> io::Result<()> {
        match self {
            Self::Path { temp, .. } => fs::remove_file(temp),
            #[cfg(unix)]
            Self::At { dir, temp, .. } => Ok(rustix::fs::unlinkat(dir, temp, AtFlags::empty())?),
        }
    }

    /// Renames the temporary file over the final name (a link there is replaced, not followed).
    fn rename(&self) -> io::Result<()> {
        match self {
            Self::Path { temp, target } => fs::rename(temp, target),
            #[cfg(unix)]
            Self::At { dir, temp, target } => Ok(rustix::fs::renameat(dir, temp, dir, target)?),
        }
    }

    /// Makes a rename in the folder durable.
    fn sync_dir(&self) -> io::Result<()> {
        match self {
            Self::Path { target, .. } => sync_parent_dir(target),
            #[cfg(unix)]
            Self::At { dir, .. } => Ok(rustix::fs::fsync(dir)?),
        }
    }
}

/// A file that appears at its path only when complete: it is written under a temporary name in
/// the same folder, and [`AtomicFile::commit`] fsyncs it, renames it over the final name and
/// fsyncs the folder. Dropped uncommitted, the temporary file is removed. After a crash, at
/// worst a temporary file is left; the final path holds either the old or the new content.
pub struct AtomicFile {
    file: Option<BufWriter<File>>,
    /// `None` once prepared.
    place: Option<Place>,
    kind: Kind,
    modified: Option<SystemTime>,
    /// Bytes written so far, and the first byte whose writing to disk has not been asked for.
    written: u64,
    writeback_from: u64,
}

impl AtomicFile {
    /// Starts writing the file that will appear at `path`, readable by its owner only (key
    /// files, data files).
    ///
    /// # Errors
    /// If the temporary file cannot be created in `path`'s folder.
    pub fn create_private(path: &Path) -> io::Result<Self> {
        Self::create_as(path, Kind::Private)
    }

    /// Like [`AtomicFile::create_private`], but its commit only renames: the file is atomic
    /// against a crash of the process, and durable only once the caller has synced the whole
    /// file system (thousands of files written together cost one sync instead of two fsyncs
    /// each). Until then a power loss may leave it empty or partly written under its final
    /// name, so the caller must be able to tell (an HMAC does).
    ///
    /// # Errors
    /// As [`AtomicFile::create_private`].
    pub fn create_private_deferred(path: &Path) -> io::Result<Self> {
        Self::create_as(path, Kind::PrivateDeferred)
    }

    /// Starts writing an exported file: private while it is written (its temporary name ends
    /// in [`PARTIAL_EXPORT_SUFFIX`]), with the person's usual permissions once committed.
    ///
    /// # Errors
    /// If the temporary file cannot be created in `path`'s folder.
    pub fn create_exported(path: &Path) -> io::Result<Self> {
        Self::create_as(path, Kind::Exported)
    }

    /// Starts writing an exported file named `name` in the folder `dir` (a descriptor of a
    /// folder open for reading), as [`AtomicFile::create_exported`] does at a path. Creating,
    /// renaming and removing the temporary file are all relative to `dir` (held open until
    /// the file is committed or dropped), so the folder being moved or swapped for a link
    /// meanwhile changes nothing: the file appears in the folder `dir` is. A link at the final
    /// name is replaced, never followed. [`AtomicFile::path`] and the committed output are
    /// then `name` alone.
    ///
    /// # Errors
    /// [`io::ErrorKind::InvalidInput`] if `name` is not a single file name (empty, `.`, `..`,
    /// or holding `/` or NUL); otherwise if `dir` cannot be duplicated or the temporary file
    /// cannot be created in it.
    #[cfg(unix)]
    pub fn create_exported_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Self> {
        let temp = temp_name(name, Kind::Exported)?;
        Self::create_at_named(dir, name, temp, Kind::Exported)
    }

    fn create_as(path: &Path, kind: Kind) -> io::Result<Self> {
        let file_name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            )
        })?;
        let temp_path = path.with_file_name(temp_name(file_name, kind)?);

        let mut options = OpenOptions::new();
        // `create_new` never follows a link planted at the temporary name, and never opens a
        // file (or a FIFO or device) that is already there.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(&temp_path)?;
        Ok(Self::writing(
            file,
            Place::Path {
                temp: temp_path,
                target: path.to_path_buf(),
            },
            kind,
        ))
    }

    /// [`AtomicFile::create_exported_at`] with the temporary name given.
    #[cfg(unix)]
    fn create_at_named(
        dir: BorrowedFd<'_>,
        name: &OsStr,
        temp: OsString,
        kind: Kind,
    ) -> io::Result<Self> {
        if !is_single_name(name) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a single file name", name.display()),
            ));
        }
        let dir = dir.try_clone_to_owned()?;
        // `O_EXCL` never follows a link planted at the temporary name and never opens what is
        // already there; `O_NOFOLLOW` says so twice.
        let file = rustix::fs::openat(
            &dir,
            &temp,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        )?;
        Ok(Self::writing(
            File::from(file),
            Place::At {
                dir,
                temp,
                target: name.to_os_string(),
            },
            kind,
        ))
    }

    fn writing(file: File, place: Place, kind: Kind) -> Self {
        Self {
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            place: Some(place),
            kind,
            modified: None,
            written: 0,
            writeback_from: 0,
        }
    }

    /// Asks the kernel to start writing to disk what it holds of the file beyond the last
    /// request, once that is [`WRITEBACK_STEP`] or more. `POSIX_FADV_DONTNEED` starts the
    /// writeback without waiting for it (and lets the pages go once they are on disk, so a large
    /// file does not push everything else out of the page cache).
    fn start_writeback(&mut self) {
        let Some(writer) = self.file.as_ref() else {
            return;
        };
        let in_kernel = self.written - writer.buffer().len() as u64;
        let Some(len) = std::num::NonZeroU64::new(in_kernel - self.writeback_from) else {
            return;
        };
        if len.get() < WRITEBACK_STEP {
            return;
        }
        #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
        // Best effort: only the time the commit's fsync takes depends on it.
        let _ = rustix::fs::fadvise(
            writer.get_ref(),
            self.writeback_from,
            Some(len),
            rustix::fs::Advice::DontNeed,
        );
        self.writeback_from = in_kernel;
    }

    /// The path the file will have once committed (in a folder held open, its name).
    pub fn path(&self) -> &Path {
        self.place.as_ref().map_or(Path::new(""), Place::target)
    }

    /// Gives the file this modification time when it is committed (set on the open file, so
    /// nothing at the final path is ever opened).
    pub fn set_modified(&mut self, time: SystemTime) {
        self.modified = Some(time);
    }

    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("atomic file already committed"))
    }

    /// Finishes writing and makes the content durable under the temporary name; the rename is
    /// left to [`Prepared::rename`], so a caller can record what the file will be in between.
    ///
    /// # Errors
    /// If flushing, syncing or setting the mode fails; the temporary file is then removed.
    pub fn prepare(mut self) -> io::Result<Prepared> {
        let (Some(writer), Some(place)) = (self.file.take(), self.place.take()) else {
            return Err(io::Error::other("atomic file already committed"));
        };
        let prepared = Prepared {
            place,
            durable: self.kind != Kind::PrivateDeferred,
            renamed: false,
        };
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        if let Some(modified) = self.modified {
            // Best effort: a file system without times still gets the content.
            let _ = file.set_times(FileTimes::new().set_modified(modified));
        }
        #[cfg(unix)]
        if self.kind == Kind::Exported {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o666 & !umask()))?;
        }
        if prepared.durable {
            file.sync_all()?;
        }
        drop(file);
        crate::crash_point("atomic file synced");
        Ok(prepared)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        crate::crash_point::reserve_space(data.len())?;
        let written = self.file()?.write(data)?;
        self.written += written as u64;
        self.start_writeback();
        Ok(written)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        crate::crash_point("atomic file write");
        crate::crash_point::reserve_space(data.len())?;
        self.file()?.write_all(data)?;
        self.written += data.len() as u64;
        self.start_writeback();
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Sink for AtomicFile {
    type Output = PathBuf;

    fn commit(self) -> io::Result<PathBuf> {
        self.prepare()?.rename()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some()
            && let Some(place) = &self.place
        {
            let _ = place.remove_temp();
        }
    }
}

/// A complete file under its temporary name, waiting to be renamed into place. Dropped without
/// [`Prepared::rename`], the temporary file is removed.
pub struct Prepared {
    place: Place,
    durable: bool,
    renamed: bool,
}

impl Prepared {
    /// Renames the file into place (and, unless deferred, makes the rename durable). Returns
    /// its path (in a folder held open, its name).
    ///
    /// # Errors
    /// If the rename or the sync of the folder fails.
    pub fn rename(mut self) -> io::Result<PathBuf> {
        self.place.rename()?;
        self.renamed = true;
        crate::crash_point("atomic file renamed");
        if self.durable {
            self.place.sync_dir()?;
        }
        Ok(self.place.target().to_path_buf())
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = self.place.remove_temp();
        }
    }
}

/// A hidden temporary name for the file `name`, random, that stays within 255 bytes however
/// long `name` is.
fn temp_name(name: &OsStr, kind: Kind) -> io::Result<OsString> {
    let mut suffix = [0u8; 6];
    getrandom::fill(&mut suffix).map_err(io::Error::other)?;
    let readable: String = name
        .to_string_lossy()
        .chars()
        .take(TEMP_NAME_CHARS)
        .collect();
    let ending = match kind {
        Kind::Exported => PARTIAL_EXPORT_SUFFIX,
        Kind::Private | Kind::PrivateDeferred => ".tmp",
    };
    Ok(format!(".{readable}.{}{ending}", hex_lower(&suffix)).into())
}

/// Whether `name` names a file in a folder, and nothing else: not empty, `.` or `..`, and
/// without `/` or NUL.
#[cfg(unix)]
fn is_single_name(name: &OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    !bytes.is_empty()
        && name != "."
        && name != ".."
        && !bytes.contains(&b'/')
        && !bytes.contains(&0)
}

/// Whether a file name is that of an exported file's temporary file (left by a crash).
pub fn is_partial_export(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(PARTIAL_EXPORT_SUFFIX)
}

/// The process's file-mode creation mask (Linux reports it in /proc; elsewhere the usual 022).
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Umask:"))
                .and_then(|mask| u32::from_str_radix(mask.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Makes a rename or creation in `path`'s folder durable.
///
/// # Errors
/// If the folder cannot be opened or synced.
pub fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    File::open(parent)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = parent;
    Ok(())
}

/// Writes `bytes` to `path` atomically, durable once the file system is synced (see
/// [`AtomicFile::create_private_deferred`]).
///
/// # Errors
/// If writing or renaming fails; `path` is then unchanged.
pub fn write_atomically_deferred(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create_private_deferred(path)?;
    file.write_all(bytes)?;
    file.commit().map(drop)
}

/// Writes `bytes` to `path` atomically and durably (see [`AtomicFile`]).
///
/// # Errors
/// If any step of writing, syncing or renaming fails; `path` is then unchanged.
pub fn write_atomically_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create_private(path)?;
    file.write_all(bytes)?;
    file.commit().map(drop)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deferred_atomic_file_replaces_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copy.data.crypt");
        fs::write(&path, b"old").unwrap();
        let mut file = AtomicFile::create_private_deferred(&path).unwrap();
        file.write_all(b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"old");
        file.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        write_atomically_deferred(&path, b"newer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"newer");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_file_written_to_disk_as_it_grows_commits_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("large.bin");
        let create = [
            AtomicFile::create_exported,
            AtomicFile::create_private_deferred,
        ];
        for create in create {
            let mut file = create(&path).unwrap();
            let mut expected = Vec::new();
            // Odd-sized writes, so the requests fall between the buffer's flushes.
            for index in 0..(3 * WRITEBACK_STEP as usize / 100_003 + 1) {
                let chunk = vec![(index % 251) as u8; 100_003];
                file.write_all(&chunk).unwrap();
                expected.extend_from_slice(&chunk);
            }
            assert!(
                file.writeback_from >= 2 * WRITEBACK_STEP,
                "writeback was asked for"
            );
            file.commit().unwrap();
            assert!(fs::read(&path).unwrap() == expected);
        }
    }

    #[test]
    fn atomic_file_appears_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let mut file = AtomicFile::create_private(&path).unwrap();
        file.write_all(b"content").unwrap();
        assert!(!path.exists());
        file.commit().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn longest_names_fit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("\u{e9}".repeat(127));
        write_atomically_private(&path, b"x").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn dropped_atomic_file_leaves_nothing_and_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        fs::write(&path, b"old").unwrap();
        let mut file = AtomicFile::create_exported(&path).unwrap();
        file.write_all(b"new but abandoned").unwrap();
        drop(file);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn temporary_files_are_private_and_exports_get_the_usual_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("letter.txt");
        let mut file = AtomicFile::create_exported(&path).unwrap();
        file.write_all(b"cleartext").unwrap();
        let temp = fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap();
        let name = temp.file_name().into_string().unwrap();
        assert!(is_partial_export(&name), "{name}");
        assert_eq!(temp.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        let modified = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        file.set_modified(modified);
        file.commit().unwrap();
        let metadata = fs::metadata(&path).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o666 & !umask());
        assert_eq!(metadata.modified().unwrap(), modified);
    }

    #[test]
    fn a_prepared_file_is_renamed_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        let mut file = AtomicFile::create_private(&path).unwrap();
        file.write_all(b"new").unwrap();
        let prepared = file.prepare().unwrap();
        assert!(!path.exists());
        prepared.rename().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let mut file = AtomicFile::create_private(&path).unwrap();
        file.write_all(b"dropped").unwrap();
        drop(file.prepare().unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// A folder open as the export opens its folders.
    #[cfg(unix)]
    fn open_dir(path: &Path) -> OwnedFd {
        rustix::fs::openat(
            rustix::fs::CWD,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap()
    }

    #[cfg(unix)]
    #[test]
    fn a_file_in_a_folder_held_open_appears_only_on_commit_with_the_usual_mode() {
        use std::os::fd::AsFd;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = open_dir(dir.path());
        let mut file =
            AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("letter.txt")).unwrap();
        assert_eq!(file.path(), Path::new("letter.txt"));
        file.write_all(b"cleartext").unwrap();
        let temp = fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap();
        assert!(is_partial_export(&temp.file_name().to_string_lossy()));
        assert_eq!(temp.metadata().unwrap().permissions().mode() & 0o777, 0o600);
        assert!(!dir.path().join("letter.txt").exists());
        let modified = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
        file.set_modified(modified);
        assert_eq!(file.commit().unwrap(), Path::new("letter.txt"));
        let path = dir.path().join("letter.txt");
        assert_eq!(fs::read(&path).unwrap(), b"cleartext");
        let metadata = fs::metadata(&path).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o666 & !umask());
        assert_eq!(metadata.modified().unwrap(), modified);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);

        // Replacing, and dropped before the commit: the old content stays, nothing is left.
        let mut file =
            AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("letter.txt")).unwrap();
        file.write_all(b"abandoned").unwrap();
        drop(file);
        let mut file =
            AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("letter.txt")).unwrap();
        file.write_all(b"prepared, never renamed").unwrap();
        drop(file.prepare().unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"cleartext");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_held_open_and_swapped_for_a_link_is_not_followed() {
        use std::os::fd::AsFd;
        let dir = tempfile::tempdir().unwrap();
        let (inside, moved, outside) = (
            dir.path().join("folder"),
            dir.path().join("moved"),
            dir.path().join("outside"),
        );
        fs::create_dir(&inside).unwrap();
        fs::create_dir(&outside).unwrap();
        let folder = open_dir(&inside);
        let mut kept = AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("a")).unwrap();
        let dropped = AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("b")).unwrap();
        // The folder moves away and a link to another takes its place.
        fs::rename(&inside, &moved).unwrap();
        std::os::unix::fs::symlink(&outside, &inside).unwrap();
        kept.write_all(b"content").unwrap();
        kept.commit().unwrap();
        drop(dropped);
        let mut late = AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("c")).unwrap();
        late.write_all(b"late").unwrap();
        late.commit().unwrap();
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
        assert_eq!(fs::read(moved.join("a")).unwrap(), b"content");
        assert_eq!(fs::read(moved.join("c")).unwrap(), b"late");
        assert_eq!(fs::read_dir(&moved).unwrap().count(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_at_the_final_name_is_replaced_and_one_at_the_temporary_name_refused() {
        use std::os::fd::AsFd;
        let dir = tempfile::tempdir().unwrap();
        let inside = dir.path().join("folder");
        fs::create_dir(&inside).unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, b"the person's own").unwrap();
        let folder = open_dir(&inside);

        std::os::unix::fs::symlink(&victim, inside.join("out.txt")).unwrap();
        let mut file =
            AtomicFile::create_exported_at(folder.as_fd(), OsStr::new("out.txt")).unwrap();
        file.write_all(b"exported").unwrap();
        file.commit().unwrap();
        let metadata = fs::symlink_metadata(inside.join("out.txt")).unwrap();
        assert!(metadata.file_type().is_file());
        assert_eq!(fs::read(inside.join("out.txt")).unwrap(), b"exported");
        assert_eq!(fs::read(&victim).unwrap(), b"the person's own");

        // The temporary name taken by a link (to a file, or to nothing yet): refused.
        for (temp, to) in [
            (".x.000000000000.arca-partial", victim.clone()),
            (".y.000000000000.arca-partial", dir.path().join("nothing")),
        ] {
            std::os::unix::fs::symlink(&to, inside.join(temp)).unwrap();
            let refused = AtomicFile::create_at_named(
                folder.as_fd(),
                OsStr::new("x"),
                temp.into(),
                Kind::Exported,
            );
            assert_eq!(
                refused.err().map(|error| error.kind()),
                Some(io::ErrorKind::AlreadyExists)
            );
            assert!(
                fs::symlink_metadata(inside.join(temp))
                    .unwrap()
                    .is_symlink()
            );
        }
        assert_eq!(fs::read(&victim).unwrap(), b"the person's own");
        assert!(!dir.path().join("nothing").exists());
        assert!(!inside.join("x").exists());
    }

    #[cfg(unix)]
    #[test]
    fn only_a_single_name_is_written_in_a_folder_held_open() {
        use std::os::fd::AsFd;
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("inner")).unwrap();
        let folder = open_dir(&dir.path().join("inner"));
        for bad in ["", ".", "..", "../escape", "a/b", "/abs", "nul\0"] {
            let refused = AtomicFile::create_exported_at(folder.as_fd(), OsStr::new(bad));
            assert_eq!(
                refused.err().map(|error| error.kind()),
                Some(io::ErrorKind::InvalidInput),
                "{bad:?}"
            );
        }
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(fs::read_dir(dir.path().join("inner")).unwrap().count(), 0);
    }
}
