//! Data files on their way into and out of a backup: copied byte for byte, and authenticated on
//! the way (HMAC against the recorded tag; with hashing, SHA-256 against the recorded one), so a
//! damaged data file is never copied over a good one.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use arca_cryptor::{AtomicFile, ChunkHasher, ChunkHashes, Decryptor, SafeKeys, Sink};

use crate::data_file::{CheckSink, damage, recorded_tag};
use crate::error::{Error, Result};
use crate::item::Item;
use crate::job::JobControl;
use crate::problem::ProblemKind;

const CHUNK: usize = 256 * 1024;

/// Why a data file could not be copied or checked.
pub(crate) enum DataError {
    /// The source is missing or not the recorded file: the item is named in a report.
    Source(ProblemKind, String),
    /// The destination (or reading the source) failed at the OS level: the run stops.
    Io(Error),
    /// The job was stopped (cancelled, or the Safe locked) in the middle of the file: nothing
    /// was committed, and the temporary copy is removed.
    Stopped,
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
/// passed. Returns the cleartext length and the data file's chunk hashes.
///
/// `control` is asked before every chunk read ([`CHUNK`] bytes), so a pause waits there and a
/// stop (cancel, lock) returns [`DataError::Stopped`] within a fraction of a second, whatever
/// the file's size.
pub(crate) fn check_or_copy(
    keys: &SafeKeys,
    item: &Item,
    from: &Path,
    to: CopyTo<'_>,
    hash: bool,
    control: &JobControl,
) -> Result<(u64, ChunkHashes), DataError> {
    let (to, deferred) = match to {
        CopyTo::Nowhere => (None, false),
        CopyTo::Durable(path) => (Some(path), false),
        CopyTo::Deferred(path) => (Some(path), true),
    };
    let Some(tag) = recorded_tag(item) else {
        return Err(DataError::Source(
            ProblemKind::DataDamaged,
            "no valid HMAC tag is recorded for it".to_owned(),
        ));
    };
    let mut source = match File::open(from) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(DataError::Source(
                ProblemKind::DataMissing,
                "its data file is missing".to_owned(),
            ));
        }
        Err(error) => return Err(DataError::Io(Error::io(from)(error))),
    };
    let mut output = match to {
        Some(to) => {
            if let Some(shard) = to.parent() {
                crate::layout::prepare_shard(shard)
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
    let mut decryptor =
        Decryptor::new(keys.data_credentials(), CheckSink::new(hash)).expecting_tag(tag);
    let mut chunks = ChunkHasher::new(io::sink());
    let mut buffer = vec![0u8; CHUNK];
    loop {
        if !control.proceed() {
            return Err(DataError::Stopped);
        }
        let read = match source.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(DataError::Io(Error::io(from)(error))),
        };
        let chunk = &buffer[..read];
        if let Err(error) = decryptor.update(chunk) {
            let (kind, reason) = damage(&error);
            return Err(DataError::Source(kind, reason));
        }
        let _ = chunks.write_all(chunk);
        if let (Some(output), Some(to)) = (&mut output, to) {
            output
                .write_all(chunk)
                .map_err(|error| DataError::Io(Error::io(to)(error)))?;
        }
    }
    let (sha256, len) = decryptor.finish().map_err(|error| {
        let (kind, reason) = damage(&error);
        DataError::Source(kind, reason)
    })?;
    if len != item.size {
        return Err(DataError::Source(
            ProblemKind::DataDamaged,
            "its content does not have the recorded size".to_owned(),
        ));
    }
    if sha256.is_some() && sha256 != item.sha256 {
        return Err(DataError::Source(
            ProblemKind::DataDamaged,
            "its content does not match the recorded SHA-256".to_owned(),
        ));
    }
    if let (Some(output), Some(to)) = (output, to) {
        output
            .commit()
            .map_err(|error| DataError::Io(Error::io(to)(error)))?;
        arca_cryptor::crash_point("backup: data file copied");
    }
    Ok((len, chunks.finish().1))
}
