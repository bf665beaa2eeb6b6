//! Where decrypted cleartext goes: a sink that holds it back until the HMAC has matched.
//!
//! A [`Decryptor`](crate::Decryptor) writes cleartext into its sink as it streams, but only calls
//! [`Sink::commit`] after the whole message has been authenticated. A sink must therefore not
//! let anything it was given be seen before `commit`, and must discard it when dropped
//! uncommitted. That is how the API makes unauthenticated cleartext unusable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// Receives cleartext before it is authenticated; releases it only on [`Sink::commit`].
pub trait Sink: Write {
    /// What the caller gets once the message is authenticated.
    type Output;

    /// Releases the cleartext. Called only after the HMAC has matched.
    ///
    /// # Errors
    /// Whatever making the cleartext durable or visible fails with.
    fn commit(self) -> io::Result<Self::Output>;
}

/// An in-memory sink. The buffer is zeroized if the message fails authentication; once
/// committed, the cleartext is the caller's, in a buffer that is zeroized when dropped.
#[derive(Default)]
pub struct CleartextBuffer(Zeroizing<Vec<u8>>);

impl CleartextBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Write for CleartextBuffer {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for CleartextBuffer {
    type Output = Zeroizing<Vec<u8>>;

    fn commit(self) -> io::Result<Self::Output> {
        Ok(self.0)
    }
}

/// How much of the final name a temporary name repeats (at most 4 bytes a character).
const TEMP_NAME_CHARS: usize = 48;

/// A file that appears at its path only when complete: it is written under a temporary name in
/// the same folder, and [`AtomicFile::commit`] fsyncs it, renames it over the final name and
/// fsyncs the folder. Dropped uncommitted, the temporary file is removed. After a crash, at
/// worst a `*.tmp` file is left; the final path holds either the old or the new content.
pub struct AtomicFile {
    file: Option<BufWriter<File>>,
    temp_path: PathBuf,
    final_path: PathBuf,
    /// Whether commit fsyncs the file and its folder (see [`AtomicFile::create_private_deferred`]).
    durable: bool,
}

impl AtomicFile {
    /// Starts writing the file that will appear at `path`. Readable by its owner only (key
    /// files, data files).
    ///
    /// # Errors
    /// If the temporary file cannot be created in `path`'s folder.
    pub fn create_private(path: &Path) -> io::Result<Self> {
        Self::create_with_mode(path, 0o600)
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
        let mut file = Self::create_with_mode(path, 0o600)?;
        file.durable = false;
        Ok(file)
    }

    /// Starts writing the file that will appear at `path`, with the usual permissions (for
    /// files exported to the user).
    ///
    /// # Errors
    /// If the temporary file cannot be created in `path`'s folder.
    pub fn create(path: &Path) -> io::Result<Self> {
        Self::create_with_mode(path, 0o666)
    }

    fn create_with_mode(path: &Path, mode: u32) -> io::Result<Self> {
        let file_name = path.file_name().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} names no file", path.display()),
            )
        })?;
        let mut suffix = [0u8; 6];
        getrandom::fill(&mut suffix).map_err(io::Error::other)?;
        // A hidden name that stays within 255 bytes however long the final name is.
        let readable: String = file_name
            .to_string_lossy()
            .chars()
            .take(TEMP_NAME_CHARS)
            .collect();
        let temp_path = path.with_file_name(format!(".{readable}.{}.tmp", hex_lower(&suffix)));

        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        let file = options.open(&temp_path)?;
        Ok(Self {
            file: Some(BufWriter::with_capacity(256 * 1024, file)),
            temp_path,
            final_path: path.to_path_buf(),
            durable: true,
        })
    }

    /// The path the file will have once committed.
    pub fn path(&self) -> &Path {
        &self.final_path
    }

    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("atomic file already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        crate::crash_point::reserve_space(data.len())?;
        self.file()?.write(data)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        crate::crash_point("atomic file write");
        crate::crash_point::reserve_space(data.len())?;
        self.file()?.write_all(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Sink for AtomicFile {
    type Output = PathBuf;

    fn commit(mut self) -> io::Result<PathBuf> {
        let writer = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("atomic file already committed"))?;
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        if self.durable {
            file.sync_all()?;
        }
        drop(file);
        crate::crash_point("atomic file synced");
        fs::rename(&self.temp_path, &self.final_path)?;
        crate::crash_point("atomic file renamed");
        if self.durable {
            sync_parent_dir(&self.final_path)?;
        }
        Ok(std::mem::take(&mut self.final_path))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp_path);
        }
    }
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
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(b"new but abandoned").unwrap();
        drop(file);
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
