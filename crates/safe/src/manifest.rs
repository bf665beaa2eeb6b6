//! `safe.json`: the one plaintext file of a Safe. It says what the folder is and how to derive
//! the key-file key, and nothing about the contents.

use std::path::Path;

use arca_cryptor::{Iterations, write_atomically_private};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::versioned::{self, Kdf, Refused};

/// The value of `format`.
pub const FORMAT_NAME: &str = "arca-safe";
/// The Safe format version this build writes and the newest it opens.
pub const FORMAT_VERSION: u64 = 1;

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

impl Manifest {
    /// A manifest for a new Safe.
    pub fn new(safe_id: Uuid, iterations: Iterations) -> Self {
        Self {
            format: FORMAT_NAME.to_owned(),
            version: FORMAT_VERSION,
            safe_id,
            kdf: Kdf::new(iterations),
        }
    }

    /// The key file's iteration count (checked by [`Manifest::read`]).
    pub fn iterations(&self) -> Iterations {
        self.kdf.iterations().unwrap_or(Iterations::KEY_FILE)
    }

    /// Reads and checks `safe.json`.
    ///
    /// # Errors
    /// [`Error::NotASafe`] if it is missing, [`Error::NewerFormat`] for a newer format,
    /// [`Error::DamagedManifest`] if it does not parse, names another format or KDF, or an
    /// iteration count of zero or above [`Iterations::CEILING`].
    pub fn read(path: &Path) -> Result<Self> {
        let damaged = |reason: String| Error::DamagedManifest {
            path: path.to_path_buf(),
            reason,
        };
        let refused = |refused: Refused| match refused {
            Refused::Damaged(reason) => damaged(reason),
            Refused::Newer(found) => Error::NewerFormat {
                what: "the Safe",
                found,
                supported: FORMAT_VERSION,
            },
            Refused::Io(error) => Error::io(path)(error),
        };
        let text = match versioned::read(path, FORMAT_NAME, FORMAT_VERSION).map_err(refused)? {
            versioned::Manifest::Missing => {
                return Err(Error::NotASafe(path.parent().unwrap_or(path).to_path_buf()));
            }
            versioned::Manifest::Found { text, .. } => text,
        };
        let manifest: Self = versioned::parse(&text).map_err(refused)?;
        manifest.kdf.iterations().map_err(damaged)?;
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
    fn round_trip_newer_version_and_hostile_counts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("safe.json");
        let manifest = Manifest::new(Uuid::new_v4(), Iterations::KEY_FILE);
        manifest.write(&path).unwrap();
        assert_eq!(Manifest::read(&path).unwrap(), manifest);

        let text = std::fs::read_to_string(&path).unwrap();
        for count in ["0", "4000000000", "20000001"] {
            std::fs::write(&path, text.replace("1000000", count)).unwrap();
            assert!(
                matches!(Manifest::read(&path), Err(Error::DamagedManifest { .. })),
                "{count}"
            );
        }

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
