//! Replacing a file's content in place: same item (UUID, name, tags, comment, added date), new
//! content and modification time. What editing in another app and sync build on.
//!
//! Crash-safe in four steps: the new data file is written and made durable under a temporary
//! name; the database records the replacement (its tag, hashes and size) in
//! `content_replacements`; the new file is renamed over the old one; one transaction records
//! the new content and removes the replacement row. Until the rename the old data file is in
//! place and the item reads as before; after it, the next unlock finds the row, sees the new
//! file (its trailing tag is the recorded one) and finishes the last step.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use arca_cryptor::{AtomicFile, ChunkHasher, ChunkHashes, HashingEncryptor};
use rusqlite::{OptionalExtension, params};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::changes::Change;
use crate::data_file::{store_chunks, trailing_tag};
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind};
use crate::safe::{Open, Safe};
use crate::time;

struct Replacement {
    item: Uuid,
    size: u64,
    modified_at: Option<i64>,
    tag: [u8; 32],
    sha256: [u8; 32],
    hashes: ChunkHashes,
}

impl Open<'_> {
    pub(crate) fn replace_content(
        &mut self,
        id: Uuid,
        source: &mut dyn Read,
        modified_at: Option<i64>,
    ) -> Result<()> {
        let item = self.item(id)?;
        if item.kind != Kind::File {
            return Err(Error::NotAFile(self.path_of(id)?));
        }
        if item.content == Content::Pending {
            return Err(Error::DamagedFile {
                path: self.path_of(id)?,
                reason: "its import has not finished".to_owned(),
            });
        }
        let store = Error::store(self.path_of(id).ok());
        let output = AtomicFile::create_private(&self.layout().data_file(id));
        let output = match output {
            Ok(output) => ChunkHasher::new(output),
            Err(error) => return Err(store(error)),
        };
        let mut encryptor =
            HashingEncryptor::new(self.keys().data_credentials(), output).map_err(Error::Crypto)?;
        let mut buffer = Zeroizing::new(vec![0u8; 256 * 1024]);
        let mut size = 0u64;
        loop {
            let read = match source.read(&mut buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    return Err(Error::Io {
                        path: "the new content".into(),
                        error,
                    });
                }
            };
            if let Err(error) = encryptor.write_all(&buffer[..read]) {
                return Err(Error::store(self.path_of(id).ok())(error));
            }
            size += read as u64;
        }
        let (output, tag, sha256) = encryptor
            .finish()
            .map_err(|error| Error::store(self.path_of(id).ok())(error.into()))?;
        let (output, hashes) = output.finish();
        let prepared = output
            .prepare()
            .map_err(|error| Error::store(self.path_of(id).ok())(error))?;
        let replacement = Replacement {
            item: id,
            size,
            modified_at: modified_at.or_else(|| Some(time::now_ns())),
            tag: *tag.as_bytes(),
            sha256,
            hashes,
        };
        self.db().execute(
            "INSERT INTO content_replacements (item, size, modified_at, hmac_tag, sha256, hashes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (item) DO UPDATE SET size = excluded.size,
                 modified_at = excluded.modified_at, hmac_tag = excluded.hmac_tag,
                 sha256 = excluded.sha256, hashes = excluded.hashes",
            params![
                id,
                replacement.size,
                replacement.modified_at,
                replacement.tag,
                replacement.sha256,
                replacement.hashes.to_bytes()
            ],
        )?;
        arca_cryptor::crash_point("replace: recorded");
        prepared
            .rename()
            .map_err(|error| Error::store(self.path_of(id).ok())(error))?;
        self.record_replacement(&replacement)
    }

    fn record_replacement(&mut self, replacement: &Replacement) -> Result<()> {
        let mut changes = self.changes()?;
        changes.apply(Change::UpdateItem {
            id: replacement.item,
            update: ItemUpdate {
                size: Some(replacement.size),
                modified_at: Some(replacement.modified_at),
                content: Some(Content::Present),
                hmac_tag: Some(Some(replacement.tag)),
                sha256: Some(Some(replacement.sha256)),
                ..ItemUpdate::default()
            },
        })?;
        store_chunks(
            changes.reader(),
            replacement.item,
            &replacement.tag,
            &replacement.hashes,
        )?;
        changes.reader().execute(
            "DELETE FROM content_replacements WHERE item = ?1",
            [replacement.item],
        )?;
        changes.commit()
    }

    /// Shows `item` with its new content when a replacement's new data file is in place but not
    /// yet recorded: a writer between the rename and its commit, or one that died there, which
    /// only the next writable unlock finishes. The old data file is gone by then.
    pub(crate) fn overlay_renamed_replacement(&self, item: &mut Item) -> Result<()> {
        let pending = self
            .db()
            .query_row(
                "SELECT size, modified_at, hmac_tag, sha256 FROM content_replacements
                 WHERE item = ?1",
                [item.id],
                |row| {
                    Ok((
                        row.get::<_, u64>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, [u8; 32]>(2)?,
                        row.get::<_, [u8; 32]>(3)?,
                    ))
                },
            )
            .optional()?;
        let Some((size, modified_at, tag, sha256)) = pending else {
            return Ok(());
        };
        if self.replacement_in_place(item.id, &tag) {
            item.size = size;
            item.modified_at = modified_at;
            item.hmac_tag = Some(tag);
            item.sha256 = Some(sha256);
        }
        Ok(())
    }

    /// Whether the data file of `id` is the new one a replacement wrote (it ends in `tag`).
    fn replacement_in_place(&self, id: Uuid, tag: &[u8; 32]) -> bool {
        File::open(self.layout().data_file(id))
            .and_then(|mut file| trailing_tag(&mut file))
            .is_ok_and(|found| found == *tag)
    }

    /// Finishes (or forgets) replacements a crash interrupted.
    pub(crate) fn finish_replacements(&mut self) -> Result<()> {
        let pending: Vec<Replacement> = self
            .db()
            .prepare(
                "SELECT item, size, modified_at, hmac_tag, sha256, hashes FROM content_replacements",
            )?
            .query_map([], |row| {
                let hashes: Vec<u8> = row.get(5)?;
                Ok(Replacement {
                    item: row.get(0)?,
                    size: row.get(1)?,
                    modified_at: row.get(2)?,
                    tag: row.get(3)?,
                    sha256: row.get(4)?,
                    hashes: ChunkHashes::from_bytes(&hashes).unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        for replacement in pending {
            if self.replacement_in_place(replacement.item, &replacement.tag) {
                self.record_replacement(&replacement)?;
            } else {
                self.db().execute(
                    "DELETE FROM content_replacements WHERE item = ?1",
                    [replacement.item],
                )?;
            }
        }
        // Nothing else writes while a Safe is being unlocked for writing.
        self.remove_temporary_data_files_of(None)
    }
}

impl Safe {
    /// Replaces the content of the file `id` with the bytes of `source` (a file on this
    /// computer), keeping the item: UUID, name, folder, tags, comment. Its modification time
    /// becomes `source`'s. Crash-safe: the old content stays until the new one is recorded.
    ///
    /// # Errors
    /// [`Error::Io`] if `source` cannot be read; [`Error::StoreIo`] if the Safe cannot be
    /// written (the old content stays); [`Error::TrashState`] for a folder; [`Error::ReadOnly`].
    pub fn replace_content(&self, id: Uuid, source: &Path) -> Result<()> {
        let mut file = File::open(source).map_err(Error::io(source))?;
        let modified = file
            .metadata()
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(time::to_ns);
        self.writing(|open| open.replace_content(id, &mut file, modified))
    }

    /// Like [`Safe::replace_content`], from any reader, with the given modification time (now
    /// for `None`).
    ///
    /// # Errors
    /// As [`Safe::replace_content`].
    pub fn replace_content_from(
        &self,
        id: Uuid,
        source: &mut dyn Read,
        modified_at: Option<i64>,
    ) -> Result<()> {
        self.writing(|open| open.replace_content(id, source, modified_at))
    }
}
