//! Reading a file of the Safe at any position (previews, media that seek), in memory only.
//!
//! Each part read is checked against the SHA-256 of its MiB of the data file, recorded in the
//! database, before anything of it is decrypted. The hashes of a small file, a sound or a film
//! are recorded when it is imported; another file of a MiB or more (importing it at the
//! cipher's speed leaves no time for a third pass), one imported before chunk hashes existed, or
//! one restored from a backup gets one pass over the whole data file at its first read here,
//! its HMAC checked, and its chunk hashes recorded from that pass.
//!
//! A reader holds no key: each read borrows the Safe's keys for its duration, so locking the
//! Safe never waits for an open reader, and a reader used after a lock fails.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use arca_cryptor::{ChunkHasher, Decryptor, SeekableDecryptor, decrypt_with};
use uuid::Uuid;

use crate::data_file::{CheckSink, damage, recorded_chunks, store_chunks};
use crate::error::{Error, Result};
use crate::safe::{Access, Open, Safe};

/// A file of the Safe, readable and seekable; nothing it reads is written anywhere.
pub struct FileReader {
    safe: Safe,
    decryptor: SeekableDecryptor<File>,
    len: u64,
}

impl FileReader {
    /// The file's cleartext length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Read for FileReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let session = self
            .safe
            .session()
            .map_err(|error| io::Error::new(io::ErrorKind::PermissionDenied, error))?;
        self.decryptor
            .with_credentials(session.keys().data_credentials())
            .map_err(io::Error::from)?
            .read(out)
    }
}

impl Seek for FileReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.decryptor.seek(to)
    }
}

/// Passes every byte read through a chunk hasher.
struct Hashing<R> {
    reader: R,
    hasher: ChunkHasher<io::Sink>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let read = self.reader.read(out)?;
        io::Write::write_all(&mut self.hasher, &out[..read])?;
        Ok(read)
    }
}

impl Open<'_> {
    fn open_file(&self, id: Uuid, writable: bool) -> Result<(File, u64, SeekableDecryptor<File>)> {
        let item = self.item(id)?;
        let tag = self.readable_tag(&item)?;
        let path = self.layout().data_file(id);
        let store_error = |error: io::Error| {
            if error.kind() == io::ErrorKind::NotFound {
                self.content_error(&item, error.into())
            } else {
                Error::StoreIo {
                    item: self.path_of(id).ok(),
                    error,
                }
            }
        };
        let file = File::open(&path).map_err(store_error)?;
        let message_len = file.metadata().map_err(store_error)?.len();
        let hashes = match recorded_chunks(self.db(), id, tag.as_bytes())? {
            Some(hashes) => hashes,
            None => {
                // One pass with the HMAC checked, hashing the chunks on the way.
                let mut hashing = Hashing {
                    reader: io::BufReader::with_capacity(
                        256 * 1024,
                        file.try_clone().map_err(store_error)?,
                    ),
                    hasher: ChunkHasher::new(io::sink()),
                };
                let decryptor =
                    Decryptor::new(self.keys().data_credentials(), CheckSink::new(false))
                        .expecting_tag(tag);
                decrypt_with(decryptor, &mut hashing)
                    .map_err(|error| self.content_error(&item, error))?;
                let hashes = hashing.hasher.finish().1;
                if writable {
                    // A cache: a Safe open for reading only does the pass again next time.
                    let _ = store_chunks(self.db(), id, tag.as_bytes(), &hashes);
                }
                hashes
            }
        };
        let reader = file.try_clone().map_err(store_error)?;
        let decryptor = SeekableDecryptor::new(reader, message_len, item.size, tag, hashes)
            .map_err(|error| Error::DamagedFile {
                path: self.path_of(id).unwrap_or_else(|_| item.name.clone()),
                reason: damage(&error).1,
            })?;
        Ok((file, item.size, decryptor))
    }
}

impl Safe {
    /// Opens a file for reading at any position (previews, media), checked part by part
    /// against hashes recorded in the database; nothing is written to disk.
    ///
    /// # Errors
    /// [`Error::DamagedFile`] (missing, damaged, swapped or rolled-back data file — found at
    /// once or when the damaged part is read, as `io::ErrorKind::InvalidData`);
    /// [`Error::TrashState`] for a folder; [`Error::SafeLocked`].
    pub fn open_file(&self, id: Uuid) -> Result<FileReader> {
        let writable = self.access() == &Access::Write;
        let (_, len, decryptor) = self.reading(|open| open.open_file(id, writable))?;
        Ok(FileReader {
            safe: self.clone(),
            decryptor,
            len,
        })
    }
}
