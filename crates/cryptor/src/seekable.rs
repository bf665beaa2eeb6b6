//! Reading any part of a key-based message without a pass over the whole of it.
//!
//! RNCryptor v3 authenticates a message with one HMAC at its end, so a reader that starts in the
//! middle cannot check it. When a message is written, [`ChunkHasher`] records the SHA-256 of
//! every [`CHUNK_LEN`] bytes of the message as written (header, ciphertext and tag alike); the
//! caller keeps those hashes somewhere authenticated (a Safe keeps them in its encrypted
//! database). [`SeekableDecryptor`] then reads only the chunks a range needs, checks each
//! against its hash before decrypting anything of it, and releases cleartext only from checked
//! chunks. The message itself stays a plain RNCryptor v3 message.
//!
//! Chunk k covers the message's bytes `[k · CHUNK_LEN, min((k + 1) · CHUNK_LEN, len))`; a
//! message of `len` bytes has `ceil(len / CHUNK_LEN)` chunks.

use std::io::{self, Read, Seek, SeekFrom, Write};

use hmac::Mac;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::credentials::Credentials;
use crate::error::Error;
use crate::format::{BLOCK_LEN, HMAC_LEN, HmacTag, KEY_HEADER_LEN, Mode};
use crate::primitives::{CbcDecryptor, HmacSha256, pkcs7_unpadded_len};

/// The length of a chunk of a message, as hashed.
pub const CHUNK_LEN: u64 = 1024 * 1024;

/// The SHA-256 of each chunk of a message, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChunkHashes(Vec<[u8; 32]>);

impl ChunkHashes {
    /// The hashes from their concatenated bytes (32 each), as stored.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        if !bytes.len().is_multiple_of(32) {
            return None;
        }
        Some(Self(
            bytes
                .chunks_exact(32)
                .map(|hash| {
                    let mut out = [0u8; 32];
                    out.copy_from_slice(hash);
                    out
                })
                .collect(),
        ))
    }

    /// The hashes as one byte string (32 bytes each), to store.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.concat()
    }

    /// How many chunks.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never, for a complete message).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many chunks a message of `message_len` bytes has.
    pub fn count_for(message_len: u64) -> u64 {
        message_len.div_ceil(CHUNK_LEN)
    }
}

/// A writer that hashes every [`CHUNK_LEN`] bytes written through it.
pub struct ChunkHasher<W> {
    inner: W,
    hasher: Sha256,
    in_chunk: u64,
    hashes: Vec<[u8; 32]>,
}

impl<W: Write> ChunkHasher<W> {
    /// Hashes what is written to `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            in_chunk: 0,
            hashes: Vec::new(),
        }
    }

    /// The writer and the hashes of everything written.
    pub fn finish(mut self) -> (W, ChunkHashes) {
        if self.in_chunk > 0 {
            self.hashes.push(self.hasher.finalize_reset().into());
        }
        (self.inner, ChunkHashes(self.hashes))
    }

    /// Writes `data`, hashing it and authenticating it into `mac` 64 bytes at a time, so the
    /// two hash chains interleave on one core.
    pub(crate) fn write_authenticated(
        &mut self,
        mac: &mut HmacSha256,
        data: &[u8],
    ) -> io::Result<()> {
        self.inner.write_all(data)?;
        let mut rest = data;
        while !rest.is_empty() {
            // Pieces end where the message's 64-byte blocks do (for the MAC too, which is as
            // far into its message), so each hash takes them without buffering.
            let to_block_end = 64 - (self.in_chunk % 64) as usize;
            let (piece, tail) = rest.split_at(to_block_end.min(rest.len()));
            mac.update(piece);
            self.hash(piece);
            rest = tail;
        }
        Ok(())
    }

    fn hash(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = (CHUNK_LEN - self.in_chunk) as usize;
            let take = room.min(data.len());
            self.hasher.update(&data[..take]);
            self.in_chunk += take as u64;
            data = &data[take..];
            if self.in_chunk == CHUNK_LEN {
                self.hashes.push(self.hasher.finalize_reset().into());
                self.in_chunk = 0;
            }
        }
    }
}

impl<W: Write> Write for ChunkHasher<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(data)?;
        self.hash(&data[..written]);
        Ok(written)
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        self.inner.write_all(data)?;
        self.hash(data);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads the cleartext of a key-based message at any position, checking each chunk it reads
/// against its recorded hash before decrypting it. It holds no key: each read is given the
/// credentials ([`SeekableDecryptor::with_credentials`]), so a reader kept open does not keep
/// the keys alive.
///
/// Errors: a chunk that does not match its hash, a message of the wrong length, a tag that is
/// not the expected one or bad padding are [`Error::Authentication`] / [`Error::UnexpectedTag`]
/// (as [`io::ErrorKind::InvalidData`] through `Read`); nothing of such a chunk is released.
pub struct SeekableDecryptor<R> {
    reader: R,
    hashes: ChunkHashes,
    message_len: u64,
    cleartext_len: u64,
    position: u64,
    /// The two chunks read and checked last (a read across a chunk border needs both), newest
    /// first. Their buffers are reused: a fresh MiB per read costs more than hashing it.
    cached: [Chunk; 2],
    /// Cleartext of the last blocks decrypted: the first block's index and the bytes.
    decrypted: Option<u64>,
    cleartext: Zeroizing<Vec<u8>>,
}

/// A checked chunk: its index (`None` while the buffer holds nothing checked) and bytes.
#[derive(Default)]
struct Chunk {
    index: Option<u64>,
    bytes: Zeroizing<Vec<u8>>,
}

/// Decrypt at least this much at once, so that small sequential reads do not decrypt block by
/// block.
const MIN_DECRYPT: u64 = 64 * 1024;

impl<R: Read + Seek> SeekableDecryptor<R> {
    /// Opens `reader`, a key-based message of `message_len` bytes holding `cleartext_len` bytes
    /// and ending in `tag`, with the recorded `hashes` of its chunks.
    ///
    /// # Errors
    /// [`Error::Authentication`] when the length, the number of hashes or the last chunk do not
    /// fit together; [`Error::UnexpectedTag`] for another message than the recorded one.
    pub fn new(
        reader: R,
        message_len: u64,
        cleartext_len: u64,
        tag: HmacTag,
        hashes: ChunkHashes,
    ) -> Result<Self, Error> {
        if Mode::Keys.message_len(cleartext_len) != message_len
            || ChunkHashes::count_for(message_len) != hashes.len() as u64
        {
            return Err(Error::Authentication);
        }
        let mut decryptor = Self {
            reader,
            hashes,
            message_len,
            cleartext_len,
            position: 0,
            cached: Default::default(),
            decrypted: None,
            cleartext: Zeroizing::new(Vec::new()),
        };
        // The tag is in the last chunk: checking it now refuses a swapped message at once.
        let mut trailing = [0u8; HMAC_LEN];
        decryptor.message_bytes(message_len - HMAC_LEN as u64, &mut trailing)?;
        if !tag.ct_eq(&trailing) {
            return Err(Error::UnexpectedTag);
        }
        Ok(decryptor)
    }

    /// The cleartext length.
    pub fn len(&self) -> u64 {
        self.cleartext_len
    }

    /// Whether the cleartext is empty.
    pub fn is_empty(&self) -> bool {
        self.cleartext_len == 0
    }

    /// Copies the message's bytes at `offset` into `out`, from checked chunks only.
    fn message_bytes(&mut self, mut offset: u64, mut out: &mut [u8]) -> Result<(), Error> {
        while !out.is_empty() {
            let index = offset / CHUNK_LEN;
            let chunk = self.chunk(index)?;
            let start = (offset - index * CHUNK_LEN) as usize;
            let take = (chunk.len() - start).min(out.len());
            if take == 0 {
                return Err(Error::Truncated);
            }
            out[..take].copy_from_slice(&chunk[start..start + take]);
            out = &mut out[take..];
            offset += take as u64;
        }
        Ok(())
    }

    /// Chunk `index`, read and checked against its hash.
    fn chunk(&mut self, index: u64) -> Result<&[u8], Error> {
        if self.cached[0].index != Some(index) {
            self.cached.swap(0, 1);
        }
        if self.cached[0].index != Some(index) {
            let Some(expected) = self.hashes.0.get(index as usize) else {
                return Err(Error::Truncated);
            };
            let start = index * CHUNK_LEN;
            let len = (self.message_len - start).min(CHUNK_LEN) as usize;
            let slot = &mut self.cached[0];
            slot.index = None;
            slot.bytes.resize(len, 0);
            self.reader.seek(SeekFrom::Start(start))?;
            read_chunk(&mut self.reader, &mut slot.bytes)?;
            if !HmacTag::from_bytes(*expected).ct_eq(&digest(slot)) {
                return Err(Error::Authentication);
            }
            slot.index = Some(index);
        }
        Ok(&self.cached[0].bytes)
    }

    /// Reads chunks `index` and `index + 1` together, hashing the first on another thread while
    /// the second is read and hashed here, for a read that spans both: a read at a random offset
    /// nearly always does, and hashing is most of its time. Only what matches its hash is kept
    /// as checked; the read that reaches a chunk that does not reads it again and is refused.
    fn load_pair(&mut self, index: u64) -> Result<(), Error> {
        let next = index + 1;
        if self.cached.iter().any(|chunk| {
            chunk
                .index
                .is_some_and(|cached| cached == index || cached == next)
        }) || next as usize >= self.hashes.len()
        {
            return Ok(());
        }
        let start = index * CHUNK_LEN;
        let next_len = (self.message_len - start - CHUNK_LEN).min(CHUNK_LEN) as usize;
        let [first, second] = &mut self.cached;
        first.index = None;
        second.index = None;
        first.bytes.resize(CHUNK_LEN as usize, 0);
        second.bytes.resize(next_len, 0);
        self.reader.seek(SeekFrom::Start(start))?;
        read_chunk(&mut self.reader, &mut first.bytes)?;
        let reader = &mut self.reader;
        let first: &Chunk = first;
        let (first_hash, second_hash) = std::thread::scope(|scope| {
            let helper = std::thread::Builder::new().spawn_scoped(scope, || digest(first));
            let second_hash = read_chunk(reader, &mut second.bytes)
                .ok()
                .map(|()| digest(second));
            let first_hash = match helper.map(std::thread::ScopedJoinHandle::join) {
                Ok(Ok(hash)) => hash,
                _ => digest(first),
            };
            (first_hash, second_hash)
        });
        let matches = |at: u64, actual: &[u8; 32]| {
            HmacTag::from_bytes(self.hashes.0[at as usize]).ct_eq(actual)
        };
        let first_checked = matches(index, &first_hash);
        let second_checked = second_hash.is_some_and(|hash| matches(next, &hash));
        let [first, second] = &mut self.cached;
        first.index = first_checked.then_some(index);
        second.index = second_checked.then_some(next);
        Ok(())
    }

    /// Reads and seeks with `credentials` (the message's keys) until the result is dropped.
    pub fn with_credentials<'d, 'k>(
        &'d mut self,
        credentials: Credentials<'k>,
    ) -> Result<Keyed<'d, 'k, R>, Error> {
        if credentials.mode() != Mode::Keys {
            return Err(Error::ModeMismatch {
                expected: Mode::Keys,
                found: credentials.mode(),
            });
        }
        Ok(Keyed {
            decryptor: self,
            credentials,
        })
    }

    /// Decrypts `count` blocks from block `first` (fewer at the end) into `cleartext`.
    fn decrypt_blocks(
        &mut self,
        credentials: Credentials<'_>,
        first: u64,
        count: u64,
    ) -> Result<(), Error> {
        let blocks = (self.message_len - (KEY_HEADER_LEN + HMAC_LEN) as u64) / BLOCK_LEN as u64;
        let count = count.min(blocks - first);
        // The input of the first block is the one before it, or the IV in the header.
        let mut iv = [0u8; BLOCK_LEN];
        let iv_offset = if first == 0 {
            2
        } else {
            (KEY_HEADER_LEN as u64) + (first - 1) * BLOCK_LEN as u64
        };
        self.decrypted = None;
        self.message_bytes(iv_offset, &mut iv)?;
        let mut bytes = std::mem::take(&mut self.cleartext);
        bytes.resize((count * BLOCK_LEN as u64) as usize, 0);
        let copied =
            self.message_bytes(KEY_HEADER_LEN as u64 + first * BLOCK_LEN as u64, &mut bytes);
        self.cleartext = bytes;
        copied?;
        let keys = credentials.keys_for(&crate::format::Header { salts: None, iv })?;
        CbcDecryptor::new(keys.get().encryption.0.expose(), &iv)
            .decrypt_blocks_in_place(&mut self.cleartext);
        if first + count == blocks {
            // The last block carries the padding: check it and cut it off.
            let at = self.cleartext.len() - BLOCK_LEN;
            let last: &[u8; BLOCK_LEN] = self.cleartext[at..]
                .try_into()
                .map_err(|_| Error::Truncated)?;
            let kept = pkcs7_unpadded_len(last).ok_or(Error::Authentication)?;
            if first * BLOCK_LEN as u64 + (at + kept) as u64 != self.cleartext_len {
                self.cleartext.zeroize();
                return Err(Error::Authentication);
            }
            self.cleartext.truncate(at + kept);
        }
        self.decrypted = Some(first);
        Ok(())
    }
}

/// A [`SeekableDecryptor`] with the keys to read: `Read` and `Seek` over the cleartext.
pub struct Keyed<'d, 'k, R> {
    decryptor: &'d mut SeekableDecryptor<R>,
    credentials: Credentials<'k>,
}

impl<R: Read + Seek> Read for Keyed<'_, '_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.decryptor.read_with(self.credentials, out)
    }
}

impl<R: Read + Seek> Seek for Keyed<'_, '_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.decryptor.seek(to)
    }
}

impl<R: Read + Seek> SeekableDecryptor<R> {
    fn read_with(&mut self, credentials: Credentials<'_>, out: &mut [u8]) -> io::Result<usize> {
        if self.position >= self.cleartext_len || out.is_empty() {
            return Ok(0);
        }
        let block = self.position / BLOCK_LEN as u64;
        let have = self.decrypted.is_some_and(|first| {
            block >= first && self.position < first * BLOCK_LEN as u64 + self.cleartext.len() as u64
        });
        if !have {
            // The blocks this read wants (at least MIN_DECRYPT), but none past the end of the
            // chunk the position is in: a read needs no chunk but the ones it reads from, and
            // the one its first block's input is in.
            let start = KEY_HEADER_LEN as u64 + block * BLOCK_LEN as u64;
            let chunk_end = (start / CHUNK_LEN + 1) * CHUNK_LEN;
            let block_len = BLOCK_LEN as u64;
            let wanted = (self.position % block_len + out.len() as u64)
                .max(MIN_DECRYPT)
                .div_ceil(block_len);
            let count = wanted.min((chunk_end - start) / block_len).max(1);
            if start + wanted * block_len > chunk_end {
                self.load_pair(start / CHUNK_LEN).map_err(io::Error::from)?;
            }
            self.decrypt_blocks(credentials, block, count)
                .map_err(io::Error::from)?;
        }
        let Some(first) = self.decrypted else {
            return Ok(0);
        };
        let start = (self.position - first * BLOCK_LEN as u64) as usize;
        let take = (self.cleartext.len() - start).min(out.len());
        out[..take].copy_from_slice(&self.cleartext[start..start + take]);
        self.position += take as u64;
        Ok(take)
    }
}

impl<R: Read + Seek> SeekableDecryptor<R> {
    /// Moves the position (no key needed: nothing is read).
    ///
    /// # Errors
    /// A position before the start.
    pub fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.cleartext_len.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.position = target;
        Ok(target)
    }
}

fn read_chunk(reader: &mut impl Read, bytes: &mut [u8]) -> Result<(), Error> {
    reader.read_exact(bytes).map_err(|error| {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            Error::Truncated
        } else {
            Error::Io(error)
        }
    })
}

fn digest(chunk: &Chunk) -> [u8; 32] {
    Sha256::digest(&chunk.bytes[..]).into()
}

/// The chunk hashes of a whole message read from `reader` (after its HMAC has been checked by
/// the caller, or to be checked as the message is decrypted).
///
/// # Errors
/// If reading fails.
pub fn chunk_hashes<R: Read>(mut reader: R) -> io::Result<ChunkHashes> {
    let mut hasher = ChunkHasher::new(io::sink());
    io::copy(&mut reader, &mut hasher)?;
    Ok(hasher.finish().1)
}
