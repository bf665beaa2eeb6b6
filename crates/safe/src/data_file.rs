//! Data files: the facts every reader and writer of them shares (check, backup, restore, read).
//!
//! A data file is one RNCryptor v3 key-based message under the Safe's file keys, named by its
//! item's UUID. The database records its trailing HMAC tag (so a file swapped for another or
//! rolled back is refused), the cleartext's SHA-256, and the SHA-256 of every MiB of the file
//! (so any part of it can be read and checked without a pass over the whole).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use arca_cryptor::format::{HMAC_LEN, Mode};
use arca_cryptor::{ChunkHashes, HmacTag, Sink};
use rusqlite::{Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Result;
use crate::item::Item;
use crate::problem::ProblemKind;

/// The length of the data file of a file of `size` cleartext bytes.
pub(crate) fn data_file_len(size: u64) -> u64 {
    Mode::Keys.message_len(size)
}

/// The recorded tag of a file item.
pub(crate) fn recorded_tag(item: &Item) -> Option<HmacTag> {
    item.hmac_tag.map(HmacTag::from_bytes)
}

/// The last 32 bytes of a data file: its HMAC tag.
pub(crate) fn trailing_tag(file: &mut File) -> io::Result<[u8; HMAC_LEN]> {
    let mut tag = [0u8; HMAC_LEN];
    file.seek(SeekFrom::End(-(HMAC_LEN as i64)))?;
    file.read_exact(&mut tag)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(tag)
}

/// Whether `path` is a data file of the right length ending in `tag` (not authenticated: the
/// cheap test an incremental backup, a quick verify and `check` make). The error says what is
/// wrong, for a report.
pub(crate) fn has_tag(
    path: &Path,
    size: u64,
    tag: &HmacTag,
) -> io::Result<Result<(), (ProblemKind, String)>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(Err((
                ProblemKind::DataMissing,
                "its data file is missing".to_owned(),
            )));
        }
        Err(error) => return Err(error),
    };
    if file.metadata()?.len() != data_file_len(size) {
        return Ok(Err((
            ProblemKind::DataDamaged,
            "its data file does not have the recorded size".to_owned(),
        )));
    }
    if &trailing_tag(&mut file)? != tag.as_bytes() {
        return Ok(Err((
            ProblemKind::DataReplaced,
            "its data file is not the recorded one (replaced, rolled back or damaged)".to_owned(),
        )));
    }
    Ok(Ok(()))
}

/// What a failure to read a data file means for its item.
pub(crate) fn damage(error: &arca_cryptor::Error) -> (ProblemKind, String) {
    match error {
        arca_cryptor::Error::UnexpectedTag => (
            ProblemKind::DataReplaced,
            "its data file was replaced by another or rolled back".to_owned(),
        ),
        arca_cryptor::Error::Truncated | arca_cryptor::Error::Misaligned => (
            ProblemKind::DataDamaged,
            "its data file is truncated".to_owned(),
        ),
        arca_cryptor::Error::Io(error) if error.kind() == io::ErrorKind::NotFound => (
            ProblemKind::DataMissing,
            "its data file is missing".to_owned(),
        ),
        _ => (
            ProblemKind::DataDamaged,
            "its data file was modified or damaged".to_owned(),
        ),
    }
}

/// Receives the cleartext of a check: counts it and, if asked, hashes it; keeps nothing.
pub(crate) struct CheckSink {
    hasher: Option<Sha256>,
    len: u64,
}

impl CheckSink {
    pub(crate) fn new(hash: bool) -> Self {
        Self {
            hasher: hash.then(Sha256::new),
            len: 0,
        }
    }
}

impl Write for CheckSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(hasher) = &mut self.hasher {
            hasher.update(data);
        }
        self.len += data.len() as u64;
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink for CheckSink {
    type Output = (Option<[u8; 32]>, u64);
    fn commit(self) -> io::Result<Self::Output> {
        Ok((self.hasher.map(|hasher| hasher.finalize().into()), self.len))
    }
}

/// Records the chunk hashes of an item's data file (the one ending in `tag`).
pub(crate) fn store_chunks(
    db: &Connection,
    item: Uuid,
    tag: &[u8; 32],
    hashes: &ChunkHashes,
) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO data_chunks (item, hmac_tag, hashes) VALUES (?1, ?2, ?3)
         ON CONFLICT (item) DO UPDATE SET hmac_tag = excluded.hmac_tag, hashes = excluded.hashes",
    )?
    .execute(rusqlite::params![item, tag, hashes.to_bytes()])?;
    Ok(())
}

/// The chunk hashes recorded for the data file of `item` ending in `tag`, if any.
pub(crate) fn recorded_chunks(
    db: &Connection,
    item: Uuid,
    tag: &[u8; 32],
) -> Result<Option<ChunkHashes>> {
    let bytes: Option<Vec<u8>> = db
        .prepare_cached("SELECT hashes FROM data_chunks WHERE item = ?1 AND hmac_tag = ?2")?
        .query_row(rusqlite::params![item, tag], |row| row.get(0))
        .optional()?;
    Ok(bytes.and_then(|bytes| ChunkHashes::from_bytes(&bytes)))
}
