//! Where each part of a Safe lives on disk.
//!
//! ```text
//! Holiday.arca/
//!   safe.json       plaintext manifest: format, version, Safe UUID, KDF
//!   safe.key        Safe Key File
//!   recovery.key    optional Recovery Key File
//!   attributes.db   SQLCipher database of every item's attributes
//!   files/3f/3f2a…-….data.crypt   one data file per file item, named by its UUID
//! ```

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

    /// The data file of item `id`, sharded by the UUID's first two hex digits.
    pub fn data_file(&self, id: Uuid) -> PathBuf {
        let name = id.as_hyphenated().to_string();
        self.files_dir()
            .join(&name[..2])
            .join(format!("{name}.data.crypt"))
    }
}
