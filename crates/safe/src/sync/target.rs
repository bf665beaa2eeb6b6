//! Sync targets: where devices of a Safe leave their changes for each other. A target is plain
//! storage with no logic of its own (a folder, a bucket): it can lose, duplicate, reorder, roll
//! back or inject files, and sync is built to notice.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// Storage holding objects by name (`events/…`, `files/…`, `arca-sync.json`). Names are
/// `/`-separated and made by sync itself, never taken from the target.
pub trait Target: Send + Sync {
    /// The target as shown to the person (a folder's path, a bucket's address).
    fn describe(&self) -> String;
    /// Every object name under `prefix` (which ends in `/`), at any depth, in no order.
    ///
    /// # Errors
    /// The storage's error; an absent prefix is an empty list.
    fn list(&self, prefix: &str) -> io::Result<Vec<String>>;
    /// An object's bytes; [`io::ErrorKind::NotFound`] if absent, [`io::ErrorKind::InvalidData`]
    /// if longer than `limit`.
    ///
    /// # Errors
    /// The storage's error.
    fn get(&self, name: &str, limit: u64) -> io::Result<Vec<u8>>;
    /// Writes an object whole: readers see the old one or the new one, never a part.
    ///
    /// # Errors
    /// The storage's error.
    fn put(&self, name: &str, bytes: &[u8]) -> io::Result<()>;
    /// Like [`Target::put`], from a local file.
    ///
    /// # Errors
    /// The storage's error, or reading `from`.
    fn put_file(&self, name: &str, from: &Path) -> io::Result<()>;
    /// Copies an object into `into`; returns its length.
    ///
    /// # Errors
    /// The storage's error, or writing `into`.
    fn get_into(&self, name: &str, into: &mut dyn Write) -> io::Result<u64>;
    /// Removes an object; absent is not an error.
    ///
    /// # Errors
    /// The storage's error.
    fn delete(&self, name: &str) -> io::Result<()>;
    /// How many objects move at once: a disk does best with a few, an object store answers each
    /// request after a round trip and wants more in flight.
    fn transfers(&self) -> usize {
        4
    }
}

/// A folder as sync target: a USB stick, a NAS share, a folder a cloud client syncs.
#[derive(Debug, Clone)]
pub struct FolderTarget {
    root: PathBuf,
}

/// Temporary files of an unfinished write carry this in their name; listings skip them.
const PARTIAL: &str = ".partial-";

impl FolderTarget {
    /// The folder `root`, created if missing.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, name: &str) -> io::Result<PathBuf> {
        // Names come from sync, but a folder target must never step outside itself.
        if name.is_empty()
            || name
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == ".." || part.contains('\\'))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a name inside the target"),
            ));
        }
        Ok(self.root.join(name))
    }

    /// Writes through a temporary file in the same folder, made durable, then renamed.
    fn write_with(
        &self,
        name: &str,
        fill: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> io::Result<()> {
        let path = self.path(name)?;
        let folder = path.parent().unwrap_or(&self.root);
        fs::create_dir_all(folder)?;
        let temporary = folder.join(format!("{PARTIAL}{}", Uuid::new_v4()));
        let result = (|| {
            let mut file = File::create(&temporary)?;
            fill(&mut file)?;
            file.sync_all()?;
            fs::rename(&temporary, &path)?;
            File::open(folder)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        result
    }
}

impl Target for FolderTarget {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        let mut folders = vec![(self.path(prefix.trim_end_matches('/'))?, prefix.to_owned())];
        while let Some((folder, name)) = folders.pop() {
            let entries = match fs::read_dir(&folder) {
                Ok(entries) => entries,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error),
            };
            for entry in entries {
                let entry = entry?;
                let Some(file_name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if file_name.starts_with(PARTIAL) {
                    continue;
                }
                let file_type = entry.file_type()?;
                if file_type.is_dir() {
                    folders.push((entry.path(), format!("{name}{file_name}/")));
                } else if file_type.is_file() {
                    names.push(format!("{name}{file_name}"));
                }
            }
        }
        Ok(names)
    }

    fn get(&self, name: &str, limit: u64) -> io::Result<Vec<u8>> {
        let file = File::open(self.path(name)?)?;
        let mut bytes = Vec::new();
        file.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{name} is larger than {limit} bytes"),
            ));
        }
        Ok(bytes)
    }

    fn put(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.write_with(name, |file| file.write_all(bytes))
    }

    fn put_file(&self, name: &str, from: &Path) -> io::Result<()> {
        let mut source = File::open(from)?;
        self.write_with(name, |file| io::copy(&mut source, file).map(drop))
    }

    fn get_into(&self, name: &str, into: &mut dyn Write) -> io::Result<u64> {
        io::copy(&mut File::open(self.path(name)?)?, into)
    }

    fn delete(&self, name: &str) -> io::Result<()> {
        match fs::remove_file(self.path(name)?) {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_folder_target_stays_inside_and_skips_unfinished_writes() {
        let folder = tempfile::tempdir().unwrap();
        let target = FolderTarget::new(folder.path());
        target.put("events/a/1.events", b"one").unwrap();
        fs::write(
            folder.path().join("events/a").join(format!("{PARTIAL}x")),
            b"half",
        )
        .unwrap();
        assert_eq!(target.list("events/").unwrap(), ["events/a/1.events"]);
        for outside in ["../x", "events/../../x", "/etc/passwd", "a//b", ""] {
            assert_eq!(
                target.get(outside, 10).unwrap_err().kind(),
                io::ErrorKind::InvalidInput,
                "{outside}"
            );
        }
    }
}
