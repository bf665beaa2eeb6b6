//! A Safe: creating it, unlocking it with the password or the recovery key, and the security
//! settings that rewrite only its key files.

use std::fs;
use std::path::Path;

use arca_cryptor::{Iterations, Password, RecoveryKey, SafeKeys};
use rusqlite::Connection;
use uuid::Uuid;

use crate::backup::Unlock;
use crate::changes::{self, ChangeSet};
use crate::db;
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::manifest::Manifest;

/// An unlocked Safe. Dropping it closes the database and zeroizes the keys.
pub struct Safe {
    layout: Layout,
    manifest: Manifest,
    keys: SafeKeys,
    db: Connection,
}

/// A summary of a Safe, for `arca info` and the app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Info {
    /// The Safe's UUID.
    pub safe_id: Uuid,
    /// Safe format version.
    pub format_version: u64,
    /// Attribute database schema version.
    pub schema_version: u64,
    /// PBKDF2 iterations of the key files.
    pub kdf_iterations: u32,
    /// Whether a recovery key file exists.
    pub has_recovery_key: bool,
    /// Files not in the trash.
    pub files: u64,
    /// Folders not in the trash.
    pub folders: u64,
    /// Total cleartext size of those files.
    pub bytes: u64,
    /// Items in the trash (top-level trashed items).
    pub trashed: u64,
}

impl Safe {
    /// Creates a new, empty Safe in the folder `path`, which must not exist yet (or be empty).
    ///
    /// `safe.json` is written last: a crash before it leaves a folder that is not a Safe, never
    /// a Safe without its key file.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if `path` exists and is not an empty folder; [`Error::Io`];
    /// [`Error::Crypto`] for an empty password.
    pub fn create(path: &Path, password: &Password, iterations: Iterations) -> Result<Self> {
        match fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(Error::AlreadyExists(path.to_path_buf()));
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                fs::create_dir(path).map_err(Error::io(path))?;
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => {
                return Err(Error::AlreadyExists(path.to_path_buf()));
            }
            Err(error) => return Err(Error::io(path)(error)),
        }
        if password.is_empty() {
            return Err(Error::Crypto(arca_cryptor::Error::EmptyPassword));
        }
        let layout = Layout::new(path);
        let manifest = Manifest::new(Uuid::new_v4(), iterations);
        let keys = SafeKeys::generate(manifest.safe_id).map_err(Error::Crypto)?;
        keys.write_key_file(&layout.key_file(), password, iterations)
            .map_err(crypto_at(&layout.key_file()))?;
        layout
            .prepare_shards()
            .map_err(Error::io(layout.files_dir()))?;
        let db = db::open(&layout.database(), &keys, true)?;
        changes::init_device(&db)?;
        manifest.write(&layout.manifest())?;
        arca_cryptor::sync_parent_dir(&layout.manifest()).map_err(Error::io(path))?;
        Ok(Self {
            layout,
            manifest,
            keys,
            db,
        })
    }

    /// Unlocks the Safe in `path` with its password.
    ///
    /// # Errors
    /// [`Error::NotASafe`], [`Error::WrongPassword`] (wrong password or damaged key file),
    /// [`Error::NewerFormat`], [`Error::ForeignKeyFile`], [`Error::DamagedDatabase`].
    pub fn open(path: &Path, password: &Password) -> Result<Self> {
        let (layout, manifest, keys) = Self::unlock_keys(path, Unlock::Password(password))?;
        Self::with_keys(layout, manifest, keys)
    }

    /// Unlocks the Safe in `path` with its recovery key (as typed by the user).
    ///
    /// # Errors
    /// [`Error::NoRecoveryKey`], [`Error::WrongRecoveryKey`], and as [`Safe::open`].
    pub fn open_with_recovery_key(path: &Path, recovery_key: &RecoveryKey) -> Result<Self> {
        let (layout, manifest, keys) = Self::unlock_keys(path, Unlock::RecoveryKey(recovery_key))?;
        Self::with_keys(layout, manifest, keys)
    }

    /// Reads the manifest and unlocks the keys without touching the database, so that a Safe
    /// whose database is damaged can still have it rebuilt.
    ///
    /// # Errors
    /// As [`Safe::open`] and [`Safe::open_with_recovery_key`], except for the database.
    pub(crate) fn unlock_keys(
        path: &Path,
        unlock: Unlock<'_>,
    ) -> Result<(Layout, Manifest, SafeKeys)> {
        let layout = Layout::new(path);
        let manifest = Manifest::read(&layout.manifest())?;
        let keys = match unlock {
            Unlock::Password(password) => {
                SafeKeys::read_key_file(&layout.key_file(), password, manifest.iterations())
                    .map_err(unlock_error(&layout.key_file(), Error::WrongPassword))?
            }
            Unlock::RecoveryKey(recovery_key) => {
                if !layout.recovery_file().exists() {
                    return Err(Error::NoRecoveryKey);
                }
                SafeKeys::read_recovery_file(
                    &layout.recovery_file(),
                    recovery_key,
                    manifest.iterations(),
                )
                .map_err(unlock_error(
                    &layout.recovery_file(),
                    Error::WrongRecoveryKey,
                ))?
            }
        };
        if keys.safe_id() != manifest.safe_id {
            return Err(Error::ForeignKeyFile {
                expected: manifest.safe_id,
                found: keys.safe_id(),
            });
        }
        Ok((layout, manifest, keys))
    }

    /// Opens the database of a Safe whose keys [`Safe::unlock_keys`] gave.
    pub(crate) fn with_keys(layout: Layout, manifest: Manifest, keys: SafeKeys) -> Result<Self> {
        let db = db::open(&layout.database(), &keys, false)?;
        layout
            .prepare_shards()
            .map_err(Error::io(layout.files_dir()))?;
        Ok(Self {
            layout,
            manifest,
            keys,
            db,
        })
    }

    /// Changes the Safe Password after checking the current one. Only `safe.key` is rewritten
    /// (atomically); data, database and recovery key stay valid.
    ///
    /// # Errors
    /// [`Error::WrongPassword`] if `current` is wrong; [`Error::Crypto`] for an empty new
    /// password; [`Error::Io`].
    pub fn change_password(&self, current: &Password, new: &Password) -> Result<()> {
        self.reauthenticate(current)?;
        self.write_key_file(new)
    }

    /// Sets a new Safe Password on a Safe unlocked with its recovery key.
    ///
    /// # Errors
    /// As [`Safe::change_password`].
    pub fn reset_password(&self, new: &Password) -> Result<()> {
        self.write_key_file(new)
    }

    fn write_key_file(&self, new: &Password) -> Result<()> {
        let path = self.layout.key_file();
        self.keys
            .write_key_file(&path, new, self.manifest.iterations())
            .map_err(crypto_at(&path))
    }

    /// Creates (or replaces) the recovery key after checking the Safe Password, and returns it
    /// to be shown once.
    ///
    /// # Errors
    /// [`Error::WrongPassword`]; [`Error::Io`].
    pub fn create_recovery_key(&self, password: &Password) -> Result<RecoveryKey> {
        self.reauthenticate(password)?;
        let recovery_key = RecoveryKey::generate().map_err(Error::Crypto)?;
        let path = self.layout.recovery_file();
        self.keys
            .write_recovery_file(&path, &recovery_key, self.manifest.iterations())
            .map_err(crypto_at(&path))?;
        Ok(recovery_key)
    }

    /// Security settings ask for the Safe Password again: it must open the key file on disk.
    fn reauthenticate(&self, password: &Password) -> Result<()> {
        let path = self.layout.key_file();
        SafeKeys::read_key_file(&path, password, self.manifest.iterations())
            .map(drop)
            .map_err(unlock_error(&path, Error::WrongPassword))
    }

    /// The Safe's UUID.
    pub fn id(&self) -> Uuid {
        self.manifest.safe_id
    }

    /// The Safe's folder layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// A summary of the Safe.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn info(&self) -> Result<Info> {
        let (files, folders, bytes): (u64, u64, u64) = self.db.query_row(
            "SELECT count(*) FILTER (WHERE kind = 'file'), count(*) FILTER (WHERE kind = 'folder'),
                    ifnull(sum(size) FILTER (WHERE kind = 'file'), 0)
             FROM items WHERE trashed_at IS NULL",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        let trashed: u64 = self.db.query_row(
            "SELECT count(*) FROM items WHERE trashed_at IS NOT NULL",
            [],
            |row| row.get(0),
        )?;
        Ok(Info {
            safe_id: self.manifest.safe_id,
            format_version: self.manifest.version,
            schema_version: db::SCHEMA_VERSION,
            kdf_iterations: self.manifest.kdf.iterations,
            has_recovery_key: self.layout.recovery_file().exists(),
            files,
            folders,
            bytes,
            trashed,
        })
    }

    /// Starts a set of changes (the only way to modify attributes).
    pub(crate) fn changes(&mut self) -> Result<ChangeSet<'_>> {
        ChangeSet::begin(&mut self.db)
    }

    pub(crate) fn db(&self) -> &Connection {
        &self.db
    }

    pub(crate) fn keys(&self) -> &SafeKeys {
        &self.keys
    }

    /// The parts a job needs at once: keys for its workers, the layout, the database for its
    /// own thread.
    pub(crate) fn parts(&mut self) -> (&SafeKeys, &Layout, &mut Connection) {
        (&self.keys, &self.layout, &mut self.db)
    }
}

fn crypto_at(path: &Path) -> impl FnOnce(arca_cryptor::Error) -> Error + '_ {
    move |error| match error {
        arca_cryptor::Error::Io(source) => Error::Io {
            path: path.to_path_buf(),
            source,
        },
        other => Error::Crypto(other),
    }
}

/// Maps a key-file read failure: authentication failures become `wrong`, a newer payload is a
/// newer format, I/O errors name the file.
fn unlock_error(path: &Path, wrong: Error) -> impl FnOnce(arca_cryptor::Error) -> Error + '_ {
    move |error| match error {
        arca_cryptor::Error::KeyFileUnlock | arca_cryptor::Error::RecoveryKeyUnlock => wrong,
        arca_cryptor::Error::NewerKeyFile { found, supported } => Error::NewerFormat {
            what: "the key file",
            found: u64::from(found),
            supported: u64::from(supported),
        },
        other => crypto_at(path)(other),
    }
}
