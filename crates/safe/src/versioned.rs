//! The one reader of versioned plaintext manifests (`safe.json`, `backup.json`): the format
//! name and version are read before anything else, so a newer manifest (which may have fields
//! this build does not know) is reported as newer, not as damaged; and the key derivation they
//! name is checked the same way in both.

use std::path::Path;

use arca_cryptor::Iterations;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The only key derivation function of every format so far.
pub const KDF_NAME: &str = "PBKDF2-HMAC-SHA1";

/// Key derivation parameters of the key files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kdf {
    /// Always [`KDF_NAME`].
    pub name: String,
    /// PBKDF2 iterations of the key file and the recovery key file.
    pub iterations: u32,
}

impl Kdf {
    pub(crate) fn new(iterations: Iterations) -> Self {
        Self {
            name: KDF_NAME.to_owned(),
            iterations: iterations.get(),
        }
    }

    /// The iteration count, checked: not zero and not above [`Iterations::CEILING`] (a count
    /// of billions is damage or an attack that would keep every unlock spinning).
    pub(crate) fn iterations(&self) -> Result<Iterations, String> {
        if self.name != KDF_NAME {
            return Err(format!("unknown key derivation {:?}", self.name));
        }
        if self.iterations > Iterations::CEILING {
            return Err(format!(
                "the iteration count {} is above the ceiling of {}",
                self.iterations,
                Iterations::CEILING
            ));
        }
        Iterations::new(self.iterations).ok_or_else(|| "the iteration count is zero".to_owned())
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    format: String,
    version: u64,
}

/// What reading a manifest found.
pub(crate) enum Manifest {
    /// No file there.
    Missing,
    /// A manifest of `version`, not newer than this build reads; its whole text.
    Found { version: u64, text: Vec<u8> },
}

/// Why a manifest was refused.
pub(crate) enum Refused {
    /// Unreadable, not JSON, or another format.
    Damaged(String),
    /// A newer version than `newest`.
    Newer(u64),
    /// The file could not be read.
    Io(std::io::Error),
}

/// Reads the manifest at `path`, which must be of `format` and at most version `newest`.
pub(crate) fn read(path: &Path, format: &str, newest: u64) -> Result<Manifest, Refused> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        // A path through a file (`notes.txt/safe.json`) holds no manifest either.
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Manifest::Missing);
        }
        Err(error) => return Err(Refused::Io(error)),
    };
    let found: VersionOnly =
        serde_json::from_slice(&text).map_err(|error| Refused::Damaged(error.to_string()))?;
    if found.format != format {
        return Err(Refused::Damaged(format!(
            "format is {:?}, not {format:?}",
            found.format
        )));
    }
    if found.version > newest {
        return Err(Refused::Newer(found.version));
    }
    if found.version == 0 {
        return Err(Refused::Damaged("the version is 0".to_owned()));
    }
    Ok(Manifest::Found {
        version: found.version,
        text,
    })
}

/// Parses a manifest's whole text as `T`.
pub(crate) fn parse<T: DeserializeOwned>(text: &[u8]) -> Result<T, Refused> {
    serde_json::from_slice(text).map_err(|error| Refused::Damaged(error.to_string()))
}
