//! `backup.json`: the one plaintext file of a backup. It says what the folder is, which Safe it
//! belongs to, how to derive the key-file key, and when runs started and completed. It is not
//! trusted for anything that matters (format 2 keeps the run state inside the sealed index).

use std::path::Path;

use arca_cryptor::{Iterations, write_atomically_private};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::versioned::{self, Kdf, Refused};

/// The value of `format`.
pub const BACKUP_FORMAT_NAME: &str = "arca-backup";
/// The backup format version this build writes and the newest it reads.
pub const BACKUP_FORMAT_VERSION: u64 = 2;

/// The parsed `backup.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BackupManifest {
    /// The backup format version.
    pub version: u64,
    /// The UUID of the Safe backed up (also inside the key file).
    pub safe_id: Uuid,
    /// Key derivation of `safe.key` and `recovery.key` (as in the Safe's `safe.json`).
    pub kdf: Kdf,
    /// When the latest run started (nanoseconds since the Unix epoch, UTC).
    pub last_started: Option<i64>,
    /// When the latest run that completed ended; `None` before the first one completes.
    pub last_complete: Option<i64>,
}

/// Format 2 on: the Safe's `kdf` object.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Current {
    format: String,
    version: u64,
    safe_id: Uuid,
    kdf: Kdf,
    last_started: Option<i64>,
    last_complete: Option<i64>,
}

/// Format 1: the KDF in two fields of its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct First {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u64,
    safe_id: Uuid,
    kdf_name: String,
    kdf_iterations: u32,
    last_started: Option<i64>,
    last_complete: Option<i64>,
}

impl BackupManifest {
    pub(crate) fn new(safe_id: Uuid, kdf: Kdf) -> Self {
        Self {
            version: BACKUP_FORMAT_VERSION,
            safe_id,
            kdf,
            last_started: None,
            last_complete: None,
        }
    }

    /// Whether the latest run started did not complete, by `backup.json` (format 1 trusts
    /// this; format 2 asks the sealed index).
    pub fn is_interrupted(&self) -> bool {
        match (self.last_started, self.last_complete) {
            (Some(started), Some(complete)) => started > complete,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    pub(crate) fn iterations(&self) -> Result<Iterations> {
        self.kdf
            .iterations()
            .map_err(|reason| Error::DamagedBackup {
                path: "backup.json".into(),
                reason,
            })
    }

    /// Reads `backup.json`; `Ok(None)` if there is none.
    ///
    /// # Errors
    /// [`Error::NewerFormat`] for a newer backup format, [`Error::DamagedBackup`] if it does not
    /// parse or names another format, another KDF or an iteration count out of range.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        let damaged = |reason: String| Error::DamagedBackup {
            path: path.to_path_buf(),
            reason,
        };
        let refused = |refused: Refused| match refused {
            Refused::Damaged(reason) => damaged(reason),
            Refused::Newer(found) => Error::NewerFormat {
                what: "the backup",
                found,
                supported: BACKUP_FORMAT_VERSION,
            },
            Refused::Io(error) => Error::io(path)(error),
        };
        let (version, text) = match versioned::read(path, BACKUP_FORMAT_NAME, BACKUP_FORMAT_VERSION)
            .map_err(refused)?
        {
            versioned::Manifest::Missing => return Ok(None),
            versioned::Manifest::Found { version, text } => (version, text),
        };
        let manifest = if version == 1 {
            let first: First = versioned::parse(&text).map_err(refused)?;
            Self {
                version,
                safe_id: first.safe_id,
                kdf: Kdf {
                    name: first.kdf_name,
                    iterations: first.kdf_iterations,
                },
                last_started: first.last_started,
                last_complete: first.last_complete,
            }
        } else {
            let current: Current = versioned::parse(&text).map_err(refused)?;
            Self {
                version,
                safe_id: current.safe_id,
                kdf: current.kdf,
                last_started: current.last_started,
                last_complete: current.last_complete,
            }
        };
        manifest.kdf.iterations().map_err(damaged)?;
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

    /// Writes `backup.json` atomically, always in the current format.
    ///
    /// # Errors
    /// [`Error::Io`].
    pub(crate) fn write(&self, path: &Path) -> Result<()> {
        let current = Current {
            format: BACKUP_FORMAT_NAME.to_owned(),
            version: BACKUP_FORMAT_VERSION,
            safe_id: self.safe_id,
            kdf: self.kdf.clone(),
            last_started: self.last_started,
            last_complete: self.last_complete,
        };
        let mut text =
            serde_json::to_vec_pretty(&current).map_err(|error| Error::DamagedBackup {
                path: path.to_path_buf(),
                reason: error.to_string(),
            })?;
        text.push(b'\n');
        write_atomically_private(path, &text).map_err(Error::io(path))?;
        arca_cryptor::crash_point("backup manifest written");
        Ok(())
    }
}
