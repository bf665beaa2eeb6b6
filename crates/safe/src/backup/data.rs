//! Data files on their way into and out of a backup: copied byte for byte, and authenticated on
//! the way (HMAC against the recorded tag; with hashing, SHA-256 against the recorded one), so a
//! damaged data file is never copied over a good one.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use arca_cryptor::format::{BLOCK_LEN, HMAC_LEN, KEY_HEADER_LEN};
use arca_cryptor::{AtomicFile, Decryptor, HmacTag, SafeKeys, Sink};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::item::Item;

const CHUNK: usize = 256 * 1024;

/// The size of a key-based message holding `cleartext` bytes (as `check` computes it).
pub(crate) fn data_file_len(cleartext: u64) -> u64 {
    KEY_HEADER_LEN as u64 + (cleartext / BLOCK_LEN as u64 + 1) * BLOCK_LEN as u64 + HMAC_LEN as u64
}

/// The recorded tag of a file item.
pub(crate) fn recorded_tag(item: &Item) -> Option<HmacTag> {
    item.hmac_tag
        .as_deref()
        .and_then(|tag| hex::decode(tag).ok())
        .and_then(|bytes| HmacTag::from_slice(&bytes))
}

/// Whether `path` is a data file of the right length ending in `tag` (not authenticated: the
/// cheap test an incremental run and a quick verify make).
pub(crate) fn has_tag(path: &Path, size: u64, tag: &HmacTag) -> io::Result<Result<(), String>> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Ok(Err("its data file is missing".to_owned()));
        }
        Err(error) => return Err(error),
    };
    if file.metadata()?.len() != data_file_len(size) {
        return Ok(Err(
            "its data file does not have the recorded size".to_owned()
        ));
    }
    let mut trailing = [0u8; HMAC_LEN];
    file.seek(SeekFrom::End(-(HMAC_LEN as i64)))?;
    file.read_exact(&mut trailing)?;
    if &trailing != tag.as_bytes() {
        return Ok(Err(
            "its data file is not the recorded one (replaced, rolled back or damaged)".to_owned(),
        ));
    }
    Ok(Ok(()))
}

/// Receives the cleartext of a check: counts it and, if asked, hashes it.
struct CheckSink {
    hasher: Option<Sha256>,
    len: u64,
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

/// Why a data file could not be copied or checked.
pub(crate) enum DataError {
    /// The source is missing or not the recorded file: the item is named in a report.
    Source(String),
    /// The destination (or reading the source) failed at the OS level: the run stops.
    Io(Error),
}

fn source_reason(error: &arca_cryptor::Error) -> String {
    match error {
        arca_cryptor::Error::UnexpectedTag => {
            "its data file is not the recorded one (replaced or rolled back)".to_owned()
        }
        arca_cryptor::Error::Truncated | arca_cryptor::Error::Misaligned => {
            "its data file is truncated".to_owned()
        }
        _ => "its data file was modified or damaged".to_owned(),
    }
}

/// Where a checked data file is copied to, and how durably.
#[derive(Clone, Copy)]
pub(crate) enum CopyTo<'a> {
    /// Nowhere: only check.
    Nowhere,
    /// Into a Safe: durable when committed, since the database records it right after.
    Durable(&'a Path),
    /// Into a backup: durable once the run syncs the file system before it completes.
    Deferred(&'a Path),
}

/// Decrypts `from` without keeping anything, checking it against the item's tag, size and (with
/// `hash`) SHA-256; copies its bytes to `to`, atomically, committed only after every check
/// passed. Returns the cleartext length.
pub(crate) fn check_or_copy(
    keys: &SafeKeys,
    item: &Item,
    from: &Path,
    to: CopyTo<'_>,
    hash: bool,
) -> Result<u64, DataError> {
    let (to, deferred) = match to {
        CopyTo::Nowhere => (None, false),
        CopyTo::Durable(path) => (Some(path), false),
        CopyTo::Deferred(path) => (Some(path), true),
    };
    let Some(tag) = recorded_tag(item) else {
        return Err(DataError::Source(
            "no valid HMAC tag is recorded for it".to_owned(),
        ));
    };
    let mut source = match File::open(from) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(DataError::Source("its data file is missing".to_owned()));
        }
        Err(error) => return Err(DataError::Io(Error::io(from)(error))),
    };
    let mut output = match to {
        Some(to) => {
            if let Some(shard) = to.parent() {
                fs::create_dir_all(shard)
                    .map_err(|error| DataError::Io(Error::io(shard)(error)))?;
            }
            let file = if deferred {
                AtomicFile::create_private_deferred(to)
            } else {
                AtomicFile::create_private(to)
            };
            Some(file.map_err(|error| DataError::Io(Error::io(to)(error)))?)
        }
        None => None,
    };
    let sink = CheckSink {
        hasher: hash.then(Sha256::new),
        len: 0,
    };
    let mut decryptor = Decryptor::new(keys.data_credentials(), sink).expecting_tag(tag);
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(DataError::Io(Error::io(from)(error))),
        };
        let chunk = &buffer[..read];
        if let Err(error) = decryptor.update(chunk) {
            return Err(DataError::Source(source_reason(&error)));
        }
        if let (Some(output), Some(to)) = (&mut output, to) {
            output
                .write_all(chunk)
                .map_err(|error| DataError::Io(Error::io(to)(error)))?;
        }
    }
    let (sha256, len) = decryptor
        .finish()
        .map_err(|error| DataError::Source(source_reason(&error)))?;
    if len != item.size {
        return Err(DataError::Source(
            "its content does not have the recorded size".to_owned(),
        ));
    }
    if let Some(sha256) = sha256
        && item.sha256.as_deref() != Some(hex::encode(sha256).as_str())
    {
        return Err(DataError::Source(
            "its content does not match the recorded SHA-256".to_owned(),
        ));
    }
    if let (Some(output), Some(to)) = (output, to) {
        output
            .commit()
            .map_err(|error| DataError::Io(Error::io(to)(error)))?;
        arca_cryptor::crash_point("backup: data file copied");
    }
    Ok(len)
}
