//! `backup.json`: the one plaintext file of a backup. It says what the folder is, which Safe it
//! belongs to, how to derive the key-file key, and when runs started and completed.

use std::path::Path;

use arca_cryptor::{Iterations, write_atomically_private};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::manifest::KDF_NAME;

/// The value of `format`.
pub const BACKUP_FORMAT_NAME: &str = "arca-backup";
/// The backup format version this build writes and the newest it reads.
pub const BACKUP_FORMAT_VERSION: u64 = 1;

/// The parsed `backup.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupManifest {
    /// Always [`BACKUP_FORMAT_NAME`].
    pub format: String,
    /// The backup format version.
    pub version: u64,
    /// The UUID of the Safe backed up (also inside the key file).
    pub safe_id: Uuid,
    /// Key derivation of `safe.key` and `recovery.key`: always PBKDF2-HMAC-SHA1.
    pub kdf_name: String,
    /// Its iteration count (as in the Safe's `safe.json`).
    pub kdf_iterations: u32,
    /// When the latest run started (nanoseconds since the Unix epoch, UTC).
    pub last_started: Option<i64>,
    /// When the latest run that completed ended; `None` before the first one completes.
    pub last_complete: Option<i64>,
}

#[derive(Deserialize)]
struct VersionOnly {
    format: String,
    version: u64,
}

impl BackupManifest {
    pub(crate) fn new(safe_id: Uuid, iterations: u32) -> Self {
        Self {
            format: BACKUP_FORMAT_NAME.to_owned(),
            version: BACKUP_FORMAT_VERSION,
            safe_id,
            kdf_name: KDF_NAME.to_owned(),
            kdf_iterations: iterations,
            last_started: None,
            last_complete: None,
        }
    }

    /// Whether the latest run started did not complete: its changes are in the backup, but the
    /// index does not list them yet.
    pub fn is_interrupted(&self) -> bool {
        match (self.last_started, self.last_complete) {
            (Some(started), Some(complete)) => started > complete,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    pub(crate) fn iterations(&self) -> Result<Iterations> {
        Iterations::new(self.kdf_iterations).ok_or_else(|| Error::DamagedBackup {
            path: "backup.json".into(),
            reason: "the iteration count is zero".to_owned(),
        })
    }

    /// Reads `backup.json`; `Ok(None)` if there is none.
    ///
    /// # Errors
    /// [`Error::NewerFormat`] for a newer backup format, [`Error::DamagedBackup`] if it does not
    /// parse or names another format or KDF.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(Error::io(path)(error)),
        };
        let damaged = |reason: String| Error::DamagedBackup {
            path: path.to_path_buf(),
            reason,
        };
        let version: VersionOnly =
            serde_json::from_slice(&text).map_err(|error| damaged(error.to_string()))?;
        if version.format != BACKUP_FORMAT_NAME {
            return Err(damaged(format!(
                "format is {:?}, not {BACKUP_FORMAT_NAME:?}",
                version.format
            )));
        }
        if version.version > BACKUP_FORMAT_VERSION {
            return Err(Error::NewerFormat {
                what: "the backup",
                found: version.version,
                supported: BACKUP_FORMAT_VERSION,
            });
        }
        let manifest: Self =
            serde_json::from_slice(&text).map_err(|error| damaged(error.to_string()))?;
        if manifest.kdf_name != KDF_NAME {
            return Err(damaged(format!(
                "unknown key derivation {:?}",
                manifest.kdf_name
            )));
        }
        if manifest.kdf_iterations == 0 {
            return Err(damaged("the iteration count is zero".to_owned()));
        }
        Ok(Some(manifest))
    }

    /// Reads `backup.json`, which must exist.
    ///
    /// # Errors
    /// [`Error::NotABackup`] if there is none, else as [`BackupManifest::read`].
    pub(crate) fn read_existing(root: &Path, path: &Path) -> Result<Self> {
        Self::read(path)?.ok_or_else(|| Error::NotABackup(root.to_path_buf()))
    }

    /// Reads the manifest of the backup in `root`, which must be one of the Safe `safe_id`.
    ///
    /// # Errors
    /// [`Error::ForeignBackup`] for a backup of another Safe, else as
    /// [`BackupManifest::read_existing`].
    pub(crate) fn read_of_safe(root: &Path, path: &Path, safe_id: Uuid) -> Result<Self> {
        let manifest = Self::read_existing(root, path)?;
        if manifest.safe_id != safe_id {
            return Err(Error::ForeignBackup {
                expected: safe_id,
                found: manifest.safe_id,
            });
        }
        Ok(manifest)
    }

    /// Writes `backup.json` atomically.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|error| Error::DamagedBackup {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        text.push(b'\n');
        write_atomically_private(path, &text).map_err(Error::io(path))?;
        arca_cryptor::crash_point("backup manifest written");
        Ok(())
    }
}
