//! `safe.json`: the one plaintext file of a Safe. It says what the folder is and how to derive
//! the key-file key, and nothing about the contents.

use std::path::Path;

use arca_cryptor::{Iterations, write_atomically_private};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The value of `format`.
pub const FORMAT_NAME: &str = "arca-safe";
/// The Safe format version this build writes and the newest it opens.
pub const FORMAT_VERSION: u64 = 1;
/// The only key derivation function of format 1.
pub const KDF_NAME: &str = "PBKDF2-HMAC-SHA1";

/// The parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// The Safe format version.
    pub version: u64,
    /// The Safe's UUID (also inside the key file).
    pub safe_id: Uuid,
    /// How the key-file key is derived from the password.
    pub kdf: Kdf,
}

/// Key derivation parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// Always [`KDF_NAME`].
    pub name: String,
    /// PBKDF2 iterations for the key file and recovery key file.
    pub iterations: u32,
}

/// Only the version, read before anything else so that a newer manifest (which may have fields
/// this build does not know) is reported as newer, not as damaged.
#[derive(Deserialize)]
struct VersionOnly {
    format: String,
    version: u64,
}

impl Manifest {
    /// A manifest for a new Safe.
    pub fn new(safe_id: Uuid, iterations: Iterations) -> Self {
        Self {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            safe_id,
            kdf: Kdf {
                name: KDF_NAME.to_owned(),
                iterations: iterations.get(),
            },
        }
    }

    /// The key file's iteration count.
    pub fn iterations(&self) -> Iterations {
        // `read` refuses a zero count, so this cannot fall back in practice.
        Iterations::new(self.kdf.iterations).unwrap_or(Iterations::KEY_FILE)
    }

    /// Reads and checks `safe.json`.
    ///
    /// # Errors
    /// [`Error::NotASafe`] if it is missing, [`Error::NewerFormat`] for a newer format,
    /// [`Error::DamagedManifest`] if it does not parse or names another format or KDF.
    pub fn read(path: &Path) -> Result<Self> {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NotASafe(path.parent().unwrap_or(path).to_path_buf()));
            }
            Err(error) => return Err(Error::io(path)(error)),
        };
        let damaged = |reason: String| Error::DamagedManifest {
            path: path.to_path_buf(),
            reason,
        };
        let version: VersionOnly =
            serde_json::from_slice(&text).map_err(|error| damaged(error.to_string()))?;
        if version.format != FORMAT_NAME {
            return Err(damaged(format!(
                "format is {:?}, not {FORMAT_NAME:?}",
                version.format
            )));
        }
        if version.version > FORMAT_VERSION {
            return Err(Error::NewerFormat {
                what: "the Safe",
                found: version.version,
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Manifest =
            serde_json::from_slice(&text).map_err(|error| damaged(error.to_string()))?;
        if manifest.kdf.name != KDF_NAME {
            return Err(damaged(format!(
                "unknown key derivation {:?}",
                manifest.kdf.name
            )));
        }
        if manifest.kdf.iterations == 0 {
            return Err(damaged("the iteration count is zero".to_owned()));
        }
        Ok(manifest)
    }

    /// Writes `safe.json` atomically.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be written.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|error| Error::DamagedManifest {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })?;
        text.push(b'\n');
        write_atomically_private(path, &text).map_err(Error::io(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_newer_version() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("safe.json");
        let manifest = Manifest::new(Uuid::new_v4(), Iterations::KEY_FILE);
        manifest.write(&path).unwrap();
        assert_eq!(Manifest::read(&path).unwrap(), manifest);

        std::fs::write(
            &path,
            br#"{"format":"arca-safe","version":2,"future":true}"#,
        )
        .unwrap();
        assert!(matches!(
            Manifest::read(&path),
            Err(Error::NewerFormat { found: 2, .. })
        ));

        std::fs::write(&path, b"{not json").unwrap();
        assert!(matches!(
            Manifest::read(&path),
            Err(Error::DamagedManifest { .. })
        ));
    }
}
