//! Where each part of a backup lives. Data files use the Safe's own sharded layout, so a data
//! file has the same relative path in the Safe and in its backup.

use std::fs;
use std::path::{Path, PathBuf};

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::layout::Layout;

/// Suffix of an item's attribute file.
pub(crate) const XML_SUFFIX: &str = ".xml.crypt";
/// Suffix of a data file.
pub(crate) const DATA_SUFFIX: &str = ".data.crypt";

/// The paths of one backup folder.
#[derive(Debug, Clone)]
pub(crate) struct BackupLayout {
    root: PathBuf,
}

impl BackupLayout {
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
        }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn manifest(&self) -> PathBuf {
        self.root.join("backup.json")
    }

    pub(crate) fn key_file(&self) -> PathBuf {
        self.root.join("safe.key")
    }

    pub(crate) fn recovery_file(&self) -> PathBuf {
        self.root.join("recovery.key")
    }

    pub(crate) fn index(&self) -> PathBuf {
        self.root.join("index.xml.crypt")
    }

    pub(crate) fn items_dir(&self) -> PathBuf {
        self.root.join("items")
    }

    pub(crate) fn files_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    pub(crate) fn xml_file(&self, id: Uuid) -> PathBuf {
        let name = id.as_hyphenated().to_string();
        self.items_dir()
            .join(&name[..2])
            .join(format!("{name}{XML_SUFFIX}"))
    }

    pub(crate) fn data_file(&self, id: Uuid) -> PathBuf {
        Layout::new(&self.root).data_file(id)
    }

    /// A path relative to the backup folder, for reports.
    pub(crate) fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// One entry of a sharded folder (`items/` or `files/`).
pub(crate) enum ShardEntry {
    /// `xx/UUID<suffix>` in the right shard.
    Named(Uuid, PathBuf),
    /// A temporary file left by an interrupted write.
    Temporary(PathBuf),
    /// Anything else.
    Unexpected(PathBuf),
}

/// Whether a shard folder's name is two lowercase hex digits, as the layout writes them.
fn is_shard_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every file in the shards of `dir` (which may not exist yet), classified by `suffix`. Only
/// real folders named like shards are looked into: a link among them (to anywhere) and any
/// other name is listed as unexpected and never entered, so nothing outside the backup's own
/// folders is ever read or removed.
pub(crate) fn shard_entries(dir: &Path, suffix: &str) -> Result<Vec<ShardEntry>> {
    let mut out = Vec::new();
    let shards = match fs::read_dir(dir) {
        Ok(shards) => shards,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(error) => return Err(Error::io(dir)(error)),
    };
    for shard in shards {
        let shard = shard.map_err(Error::io(dir))?;
        let shard_name = shard.file_name().to_string_lossy().into_owned();
        let is_folder = shard.file_type().is_ok_and(|kind| kind.is_dir());
        let shard = shard.path();
        if !is_folder || !is_shard_name(&shard_name) {
            out.push(ShardEntry::Unexpected(shard));
            continue;
        }
        for entry in fs::read_dir(&shard).map_err(Error::io(&shard))? {
            let entry = entry.map_err(Error::io(&shard))?;
            let is_file = entry.file_type().is_ok_and(|kind| kind.is_file());
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_file {
                out.push(ShardEntry::Unexpected(path));
                continue;
            }
            if name.ends_with(".tmp") {
                out.push(ShardEntry::Temporary(path));
                continue;
            }
            let id = name
                .strip_suffix(suffix)
                .and_then(|stem| Uuid::parse_str(stem).ok())
                .filter(|id| {
                    let text = id.as_hyphenated().to_string();
                    text == name[..name.len() - suffix.len()] && text[..2] == shard_name
                });
            out.push(match id {
                Some(id) => ShardEntry::Named(id, path),
                None => ShardEntry::Unexpected(path),
            });
        }
    }
    Ok(out)
}
