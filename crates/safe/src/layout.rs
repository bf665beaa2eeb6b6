//! Where each part of a Safe lives on disk.
//!
//! ```text
//! Holiday.arca/
//!   safe.json       plaintext manifest: format, version, Safe UUID, KDF
//!   safe.key        Safe Key File
//!   recovery.key    optional Recovery Key File
//!   attributes.db   SQLCipher database of every item's attributes
//!   files/3f/3f2a…-….data.crypt   one data file per file item, named by its UUID
//!   restore-jobs.crypt   only while a restore of chosen items from a backup has not run to its
//!                        end: what running it again needs to complete it (`backup::restore`)
//! ```

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// The paths of one Safe.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout of the Safe folder `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The Safe folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `safe.json`.
    pub fn manifest(&self) -> PathBuf {
        self.root.join("safe.json")
    }

    /// `safe.key`.
    pub fn key_file(&self) -> PathBuf {
        self.root.join("safe.key")
    }

    /// `recovery.key`.
    pub fn recovery_file(&self) -> PathBuf {
        self.root.join("recovery.key")
    }

    /// `attributes.db`.
    pub fn database(&self) -> PathBuf {
        self.root.join("attributes.db")
    }

    /// `files/`.
    pub fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    /// Creates `files/` and its 256 shard folders where missing, durably: a data file renamed
    /// into a shard is only as durable as the shard's own entry in `files/`. Creating them all
    /// up front also spares every import the check.
    ///
    /// # Errors
    /// If a folder cannot be created or synced.
    pub fn prepare_shards(&self) -> io::Result<()> {
        let files = self.files_dir();
        let created_files = create_if_missing(&files)?;
        let mut created_shard = false;
        for shard in 0..=u8::MAX {
            created_shard |= create_if_missing(&files.join(format!("{shard:02x}")))?;
        }
        if created_shard {
            File::open(&files)?.sync_all()?;
        }
        if created_files {
            arca_cryptor::sync_parent_dir(&files)?;
        }
        Ok(())
    }

    /// The data file of item `id`, sharded by the UUID's first two hex digits.
    pub fn data_file(&self, id: Uuid) -> PathBuf {
        let name = id.as_hyphenated().to_string();
        self.files_dir()
            .join(&name[..2])
            .join(format!("{name}.data.crypt"))
    }
}

/// Creates the folder `path`; whether it was missing.
fn create_if_missing(path: &Path) -> io::Result<bool> {
    match private_dir_builder(false).create(path) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error),
    }
}

/// The item a temporary data file (`.<UUID>.data.crypt.<random>.tmp`) is written for.
pub(crate) fn temporary_data_file_item(name: &str) -> Option<Uuid> {
    if !name.ends_with(".tmp") {
        return None;
    }
    name.get(1..37).and_then(|id| Uuid::parse_str(id).ok())
}

/// A builder of folders only their owner may enter (0700): a Safe's and a backup's folders
/// hold nothing for anyone else, not even file names or counts.
pub(crate) fn private_dir_builder(recursive: bool) -> fs::DirBuilder {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
}

/// Creates `path` and its missing parents as private folders.
///
/// # Errors
/// As [`fs::DirBuilder::create`]; [`io::ErrorKind::NotADirectory`] when something else than a
/// folder is in the way (the OS says only "File exists").
pub(crate) fn create_private_dir_all(path: &Path) -> io::Result<()> {
    private_dir_builder(true)
        .create(path)
        .map_err(not_a_folder_in_the_way)
}

/// "File exists" from creating a folder that has something else in its place, said plainly.
pub(crate) fn not_a_folder_in_the_way(error: io::Error) -> io::Error {
    if error.kind() == io::ErrorKind::AlreadyExists {
        io::Error::new(
            io::ErrorKind::NotADirectory,
            "a file is there, not a folder",
        )
    } else {
        error
    }
}

/// Creates the shard folder `shard` where missing, and makes sure that it and the folder it
/// is in are real folders: a link planted in a Safe or a backup would send what is written
/// there somewhere else.
///
/// # Errors
/// If it cannot be created, or it or its parent is a link or not a folder.
pub(crate) fn prepare_shard(shard: &Path) -> io::Result<()> {
    create_private_dir_all(shard)?;
    for folder in [Some(shard), shard.parent()].into_iter().flatten() {
        let metadata = fs::symlink_metadata(folder)?;
        if metadata.file_type().is_symlink() || !metadata.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is a link, not a folder (nothing is written through it)",
                    folder.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Flushes every write to the file system holding `path` (Linux `syncfs`): one call makes the
/// thousands of files an import batch or a backup run wrote durable, instead of two fsyncs
/// each.
///
/// # Errors
/// If `path` cannot be opened or the file system cannot be synced.
/// The folders `path` would be found in once created, as far as they exist: both as the
/// file system resolves it (links followed) and as written (`a/../b` taken as `b`), since
/// `mkdir -p` may create `a` first and then walk back out of it.
fn resolved_forms(path: &Path) -> Vec<PathBuf> {
    let Ok(absolute) = std::path::absolute(path) else {
        return Vec::new();
    };
    let mut written = PathBuf::new();
    for component in absolute.components() {
        match component {
            std::path::Component::ParentDir => {
                written.pop();
            }
            std::path::Component::CurDir => {}
            other => written.push(other),
        }
    }
    [absolute, written]
        .iter()
        .filter_map(|form| {
            form.ancestors().find_map(|folder| {
                let rest = form.strip_prefix(folder).ok()?;
                fs::canonicalize(folder).ok().map(|found| found.join(rest))
            })
        })
        .collect()
}

/// Whether `target` is the folder `root` (a Safe's or a backup's) or lies inside it. `target`
/// need not exist yet.
fn lies_inside(root: &Path, target: &Path) -> bool {
    let Ok(root) = fs::canonicalize(root) else {
        return false;
    };
    resolved_forms(target)
        .iter()
        .any(|form| form.starts_with(&root))
}

/// Refuses a folder to write into that is the Safe's folder `root` or lies inside it: cleartext
/// exported there would sit among the ciphertext, and a backup there would be lost with the
/// Safe.
pub(crate) fn refuse_target_in_safe(root: &Path, target: &Path) -> crate::error::Result<()> {
    if lies_inside(root, target) {
        return Err(crate::error::Error::TargetInSafe(target.to_path_buf()));
    }
    Ok(())
}

/// Refuses a new Safe inside the backup it is restored from: it would be lost with the backup.
pub(crate) fn refuse_target_in_backup(root: &Path, target: &Path) -> crate::error::Result<()> {
    if lies_inside(root, target) {
        return Err(crate::error::Error::TargetInBackup(target.to_path_buf()));
    }
    Ok(())
}

/// Refuses a new Safe inside another Safe's folder or a backup's: it would be lost with that
/// folder, whose own tools would take it for stray files.
pub(crate) fn refuse_new_safe_inside_another(target: &Path) -> crate::error::Result<()> {
    for form in resolved_forms(target) {
        for folder in form.ancestors().skip(1) {
            // Its manifest and its key file, so that a `safe.json` of something else is no
            // obstacle.
            let safe = Layout::new(folder);
            if safe.manifest().is_file() && safe.key_file().is_file() {
                return Err(crate::error::Error::TargetInSafe(target.to_path_buf()));
            }
            let backup = crate::backup::layout::BackupLayout::new(folder);
            if backup.manifest().is_file() && backup.key_file().is_file() {
                return Err(crate::error::Error::TargetInBackup(target.to_path_buf()));
            }
        }
    }
    Ok(())
}

pub(crate) fn sync_file_system(path: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        rustix::fs::syncfs(File::open(path)?).map_err(io::Error::from)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        rustix::fs::sync();
        Ok(())
    }
}
