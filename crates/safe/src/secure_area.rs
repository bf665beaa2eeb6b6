//! Secure temporary storage: a folder in RAM for the cleartext of files opened in other apps.
//!
//! Each run of Arca (the app, or one `arca edit`) makes a fresh folder with a random name under
//! `$XDG_RUNTIME_DIR/arca/` — the per-user tmpfs that the login manager makes at login (0700)
//! and empties at logout. A base that is not in RAM (tmpfs or ramfs) is refused: cleartext on
//! a disk outlives the edit in free blocks, journals and snapshots, so there is no fallback.
//!
//! ```text
//! $XDG_RUNTIME_DIR/arca/            0700, the user's own
//!   run-3f2a5c1e9b0d4c1e/           one per run, 0700
//!     .lock                         held (flock) by the run while it lives
//!     .nomedia, .trackerignore      indexers (GNOME Tracker and others) skip the folder
//!     edit-8d1c0a7e55f2b913/NAME    one folder per open file: the cleartext, under its own name
//!     edit-8d1c0a7e55f2b913.json    what it is: Safe, item, path, the SHA-256 the Safe holds
//! ```
//!
//! A run folder whose lock can be taken belongs to a run that ended without cleaning up (a
//! crash, `kill -9`, power cut without logout). The next start wipes it, except copies changed
//! after the Safe last took them back: those are kept until the person takes them back into the
//! Safe or discards them ([`sweep_leftovers`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{Error, Result};

const LOCK: &str = ".lock";
const RUN_PREFIX: &str = "run-";
const EDIT_PREFIX: &str = "edit-";
const RECORD_SUFFIX: &str = ".json";
/// Files whose presence tells desktop indexers to leave a folder alone.
const INDEXER_MARKERS: [&str; 2] = [".nomedia", ".trackerignore"];

/// The folder of this run's temporary cleartext; wiped when dropped.
#[derive(Debug)]
pub struct SecureArea {
    root: PathBuf,
    _lock: File,
    keep: bool,
}

/// What an open file in the area is: written beside it, so that a later run can tell what a
/// copy left by a crash belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRecord {
    /// The Safe's UUID.
    pub safe_id: Uuid,
    /// The Safe's folder, as it was opened.
    pub safe: PathBuf,
    /// The file's item.
    pub item: Uuid,
    /// Its path in the Safe when it was opened.
    pub path: String,
    /// Its name (the copy's file name).
    pub name: String,
    /// SHA-256 of the content the Safe holds: the copy differs from it once the other app
    /// saved a change that has not been taken back yet.
    #[serde(with = "crate::hex32")]
    pub sha256: [u8; 32],
}

/// A changed copy left by a run that stopped without taking it back.
#[derive(Debug, Clone)]
pub struct Leftover {
    /// What it is.
    pub record: EditRecord,
    /// The copy.
    pub file: PathBuf,
    /// When the other app last wrote it (nanoseconds since the Unix epoch).
    pub modified_at: Option<i64>,
    folder: PathBuf,
    record_path: PathBuf,
}

impl Leftover {
    /// A name for it, unique among the copies left (its folder's name).
    pub fn id(&self) -> String {
        self.folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Deletes the copy for good.
    ///
    /// # Errors
    /// If it cannot be removed.
    pub fn discard(&self) -> Result<()> {
        remove_edit(&self.folder, &self.record_path)?;
        remove_run_if_empty(self.folder.parent());
        Ok(())
    }
}

/// `$XDG_RUNTIME_DIR/arca`, where every run's folder goes, once it is known to be in RAM.
///
/// # Errors
/// [`Error::NoSecureArea`] when the system has no such folder (no desktop login, another OS),
/// or it is on a disk.
pub fn default_base() -> Result<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        match std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty()) {
            Some(dir) => {
                refuse_disk(Path::new(&dir))?;
                Ok(PathBuf::from(dir).join("arca"))
            }
            None => Err(Error::NoSecureArea(
                "XDG_RUNTIME_DIR is not set (no desktop login), so there is no folder in RAM for \
                 the copy"
                    .to_owned(),
            )),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(Error::NoSecureArea(
            "this system has no secure temporary storage in Arca yet".to_owned(),
        ))
    }
}

impl SecureArea {
    /// A fresh folder for this run under [`default_base`].
    ///
    /// # Errors
    /// As [`SecureArea::create_under`].
    pub fn create() -> Result<Self> {
        Self::create_under(&default_base()?)
    }

    /// A fresh folder for this run under `base`, which is made if missing (0700).
    ///
    /// # Errors
    /// [`Error::NoSecureArea`] if `base` is not in RAM, is a link, or belongs to someone else;
    /// [`Error::Io`] if it cannot be written.
    pub fn create_under(base: &Path) -> Result<Self> {
        prepare_base(base)?;
        let name = random_hex();
        // Made under a name no sweep looks at, and given its run name only once its lock is
        // held: a start sweeping meanwhile never takes it for the leftover of a dead run.
        let making = base.join(format!(".making-{name}"));
        crate::layout::private_dir_builder(false)
            .create(&making)
            .map_err(Error::io(&making))?;
        let lock = private_file(&making.join(LOCK)).map_err(Error::io(&making))?;
        lock.try_lock().map_err(|error| Error::Io {
            path: making.clone(),
            error: io::Error::other(error.to_string()),
        })?;
        for marker in INDEXER_MARKERS {
            private_file(&making.join(marker)).map_err(Error::io(&making))?;
        }
        let root = base.join(format!("{RUN_PREFIX}{name}"));
        fs::rename(&making, &root).map_err(Error::io(&root))?;
        Ok(Self {
            root,
            _lock: lock,
            keep: false,
        })
    }

    /// This run's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A new folder for one file and the path of its record.
    pub(crate) fn new_edit(&self) -> Result<(PathBuf, PathBuf)> {
        let name = format!("{EDIT_PREFIX}{}", random_hex());
        let folder = self.root.join(&name);
        crate::layout::private_dir_builder(false)
            .create(&folder)
            .map_err(Error::io(&folder))?;
        Ok((folder, self.root.join(format!("{name}{RECORD_SUFFIX}"))))
    }
}

impl SecureArea {
    /// Leaves the folder in place when this run ends, for a copy that could not be taken back
    /// (a full disk): the next start finds it as a changed copy.
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for SecureArea {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// Makes `base` (if missing) and checks it can hold cleartext: a real folder in RAM, the user's
/// own, private.
fn prepare_base(base: &Path) -> Result<()> {
    let refuse = |reason: String| Err(Error::NoSecureArea(reason));
    refuse_disk(base.parent().unwrap_or(base))?;
    match crate::layout::private_dir_builder(false).create(base) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(Error::io(base)(error)),
    }
    let metadata = fs::symlink_metadata(base).map_err(Error::io(base))?;
    if !metadata.is_dir() {
        return refuse(format!("{} is not a folder", base.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        if metadata.uid() != rustix::process::geteuid().as_raw() {
            return refuse(format!("{} belongs to another user", base.display()));
        }
        if metadata.mode() & 0o077 != 0 {
            fs::set_permissions(base, fs::Permissions::from_mode(0o700))
                .map_err(Error::io(base))?;
        }
    }
    Ok(())
}

fn refuse_disk(folder: &Path) -> Result<()> {
    if in_ram(folder).map_err(Error::io(folder))? {
        Ok(())
    } else {
        Err(Error::NoSecureArea(format!(
            "{} is on a disk, not in RAM; a copy there would outlive the edit",
            folder.display()
        )))
    }
}

/// Whether `path` is on a file system kept in memory (tmpfs, ramfs).
pub(crate) fn in_ram(path: &Path) -> io::Result<bool> {
    #[cfg(target_os = "linux")]
    {
        const TMPFS_MAGIC: i64 = 0x0102_1994;
        const RAMFS_MAGIC: i64 = 0x8584_58f6;
        // `f_type` is an i64 here and a narrower integer on some architectures.
        #[allow(clippy::useless_conversion)]
        let kind = i64::from(rustix::fs::statfs(path)?.f_type);
        Ok(kind == TMPFS_MAGIC || kind == RAMFS_MAGIC)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        Ok(false)
    }
}

/// Wipes what runs that are gone left under `base`, and returns the changed copies, which are
/// kept until they are taken back or discarded. Runs still alive are left alone.
///
/// # Errors
/// If `base` cannot be read; a leftover that cannot be removed is left for the next start.
pub fn sweep_leftovers(base: &Path) -> Result<Vec<Leftover>> {
    let entries = match fs::read_dir(base) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::io(base)(error)),
    };
    let mut kept = Vec::new();
    for entry in entries.flatten() {
        let run = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if is_dir && name.starts_with(".making-") && stale(&run) {
            // A run that died while making its folder (it holds nothing yet).
            let _ = fs::remove_dir_all(&run);
        }
        if !is_dir || !name.starts_with(RUN_PREFIX) {
            continue;
        }
        // Held while sweeping, so that two starts never sweep one run at once.
        let Some(_lock) = gone_run_lock(&run) else {
            continue;
        };
        let changed = changed_copies(&run);
        let keep: Vec<&Path> = changed
            .iter()
            .flat_map(|left| [left.folder.as_path(), left.record_path.as_path()])
            .collect();
        for entry in fs::read_dir(&run).into_iter().flatten().flatten() {
            let path = entry.path();
            if keep.contains(&path.as_path()) || entry.file_name() == LOCK {
                continue;
            }
            let _ = if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
        }
        if changed.is_empty() {
            let _ = fs::remove_dir_all(&run);
        }
        kept.extend(changed);
    }
    Ok(kept)
}

/// Whether a folder was last changed over a minute ago: far longer than making one takes.
fn stale(folder: &Path) -> bool {
    fs::metadata(folder)
        .and_then(|metadata| metadata.modified())
        .is_ok_and(|modified| {
            modified
                .elapsed()
                .is_ok_and(|age| age > std::time::Duration::from_secs(60))
        })
}

/// The lock of a run that is gone (taken now), or `None` while the run lives.
fn gone_run_lock(run: &Path) -> Option<File> {
    let lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(run.join(LOCK))
        .ok()?;
    lock.try_lock().ok().map(|()| lock)
}

/// The copies in `run` that differ from what the Safe holds.
fn changed_copies(run: &Path) -> Vec<Leftover> {
    let mut changed = Vec::new();
    for entry in fs::read_dir(run).into_iter().flatten().flatten() {
        let record_path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(folder_name) = name
            .strip_suffix(RECORD_SUFFIX)
            .filter(|stem| stem.starts_with(EDIT_PREFIX))
        else {
            continue;
        };
        let Some(record) = fs::read(&record_path)
            .ok()
            .and_then(|text| serde_json::from_slice::<EditRecord>(&text).ok())
        else {
            continue;
        };
        let folder = run.join(folder_name);
        let Ok(file) = crate::name::join_checked(&folder, &record.name) else {
            continue;
        };
        let Ok(metadata) = fs::symlink_metadata(&file) else {
            continue;
        };
        if !metadata.is_file() || sha256_of(&file).ok() == Some(record.sha256) {
            continue;
        }
        changed.push(Leftover {
            modified_at: metadata.modified().ok().and_then(crate::time::to_ns),
            record,
            file,
            folder,
            record_path,
        });
    }
    changed
}

pub(crate) fn remove_edit(folder: &Path, record: &Path) -> Result<()> {
    match fs::remove_dir_all(folder) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(Error::io(folder)(error)),
    }
    match fs::remove_file(record) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(Error::io(record)(error)),
    }
}

/// Removes a gone run's folder once its last kept copy is gone.
fn remove_run_if_empty(run: Option<&Path>) {
    let Some(run) = run else { return };
    let holds_edits = fs::read_dir(run)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| entry.file_name().to_string_lossy().starts_with(EDIT_PREFIX));
    if !holds_edits && gone_run_lock(run).is_some() {
        let _ = fs::remove_dir_all(run);
    }
}

/// SHA-256 of a file's bytes.
pub(crate) fn sha256_of(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = zeroize::Zeroizing::new(vec![0u8; 64 * 1024]);
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..read]);
    }
}

fn private_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn random_hex() -> String {
    hex::encode(&Uuid::new_v4().as_bytes()[..8])
}
