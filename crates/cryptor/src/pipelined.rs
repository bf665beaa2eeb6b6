//! Encrypting one large stream on two threads.
//!
//! AES-CBC encryption is serial, so a single large file cannot be spread over cores by
//! splitting it. What can be split is the work around the cipher: the calling thread encrypts
//! and hashes the cleartext (SHA-256), and a second thread reads the cleartext, authenticates
//! the ciphertext (HMAC-SHA256) and writes it. The serial pass is left with the cipher alone,
//! so a large file is sealed nearly twice as fast as by [`Encryptor`](crate::Encryptor), into
//! the very same bytes.
//!
//! The cleartext hash costs the calling thread little: it runs in the waits of the CBC chain
//! (see [`CbcEncryptor::encrypt_blocks_hashing`]).
//!
//! Chunks travel between the threads and come back to be reused: a message of any length costs
//! a few fixed allocations. Their cleartext buffers are zeroized when dropped.

use std::io::{self, Read, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread;

use getrandom::SysRng;
use hmac::Mac;
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::format::{BLOCK_LEN, HmacTag};
use crate::primitives::{CbcEncryptor, HmacSha256, new_mac, pkcs7_pad};
use crate::seekable::{ChunkHasher, ChunkHashes};

/// Below this many bytes a second thread costs more than it saves: seal such messages with
/// [`Encryptor`](crate::Encryptor) (and, to use every core, several of them at once).
pub const PIPELINE_MIN_LEN: u64 = 1024 * 1024;

/// Cleartext per hand-over: a multiple of the block size, small enough that a chunk and its
/// ciphertext stay in a core's L2 cache, and as large as [`AtomicFile`](crate::AtomicFile)'s
/// buffer, so each chunk goes to the file in one write without being copied into it.
const CHUNK_LEN: usize = 256 * 1024;

/// Chunks in flight: one being encrypted, one being authenticated and written, and one spare
/// each way so neither thread waits on the other's jitter.
const POOL: usize = 4;

/// A message sealed by [`encrypt_pipelined`].
pub struct Sealed<W> {
    /// The writer, flushed, after the message's last byte.
    pub writer: W,
    /// The message's HMAC tag (its last 32 bytes).
    pub tag: HmacTag,
    /// How many cleartext bytes were read.
    pub cleartext_len: u64,
    /// SHA-256 of the cleartext, computed on the way for callers that record it.
    pub cleartext_sha256: [u8; 32],
}

/// Why [`encrypt_pipelined`] failed: the side that failed decides who is to blame.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading the cleartext failed. Nothing authentic was written: the message has no tag.
    #[error("reading the cleartext failed: {0}")]
    Read(#[source] io::Error),
    /// Starting the message or writing it failed ([`Error::Io`] for the writer's errors).
    #[error(transparent)]
    Encrypt(#[from] Error),
}

/// A chunk of the message: read on the second thread, sealed on the calling one, then
/// authenticated and written on the second, and its buffers reused for the next read.
struct Chunk {
    cleartext: Zeroizing<Vec<u8>>,
    cleartext_len: usize,
    ciphertext: Vec<u8>,
    ciphertext_len: usize,
    /// The chunk that holds the padded final block; the tag follows it.
    last: bool,
}

impl Chunk {
    fn new() -> Self {
        Self {
            cleartext: Zeroizing::new(vec![0; CHUNK_LEN]),
            cleartext_len: 0,
            // Room for the padding block after a full chunk of cleartext.
            ciphertext: vec![0; CHUNK_LEN + BLOCK_LEN],
            ciphertext_len: 0,
            last: false,
        }
    }
}

/// Reads all of `reader` and writes it to `writer` as one RNCryptor v3 message, encrypting on
/// the calling thread while a second thread reads, authenticates and writes. The bytes are
/// those [`Encryptor`](crate::Encryptor) writes for the same salts and IV.
///
/// Worth it from [`PIPELINE_MIN_LEN`] bytes on. The reader and the writer are used from the
/// second thread only.
///
/// # Errors
/// [`PipelineError::Read`] if `reader` fails; [`PipelineError::Encrypt`] for an empty
/// password, a failing random number generator or a failing `writer`. After an error the
/// writer is dropped and may hold the start of a message, never a complete one.
pub fn encrypt_pipelined<R, W>(
    credentials: Credentials<'_>,
    reader: &mut R,
    writer: W,
) -> Result<Sealed<W>, PipelineError>
where
    R: Read + Send + ?Sized,
    W: Write + Send,
{
    encrypt_pipelined_with_rng(credentials, reader, writer, &mut SysRng)
}

/// Like [`encrypt_pipelined`], drawing salts and IV from `rng` (so tests can pin them).
///
/// # Errors
/// As [`encrypt_pipelined`].
pub fn encrypt_pipelined_with_rng<R, W, G>(
    credentials: Credentials<'_>,
    reader: &mut R,
    writer: W,
    rng: &mut G,
) -> Result<Sealed<W>, PipelineError>
where
    R: Read + Send + ?Sized,
    W: Write + Send,
    G: TryCryptoRng + ?Sized,
{
    let Sealed {
        writer: Plain(writer),
        tag,
        cleartext_len,
        cleartext_sha256,
    } = seal(credentials, reader, Plain(writer), rng)?;
    Ok(Sealed {
        writer,
        tag,
        cleartext_len,
        cleartext_sha256,
    })
}

/// Like [`encrypt_pipelined`], also returning the message's [`ChunkHashes`] as
/// [`ChunkHasher`] records them. The writing thread hashes each 64 bytes right after
/// authenticating them, so the two SHA-256 chains interleave on its core: a 1 GiB message was
/// sealed 1.17 × as fast as through a [`ChunkHasher`] wrapped around the writer (SHA-NI).
///
/// # Errors
/// As [`encrypt_pipelined`].
pub fn encrypt_pipelined_hashing_chunks<R, W>(
    credentials: Credentials<'_>,
    reader: &mut R,
    writer: W,
) -> Result<(Sealed<W>, ChunkHashes), PipelineError>
where
    R: Read + Send + ?Sized,
    W: Write + Send,
{
    let Sealed {
        writer,
        tag,
        cleartext_len,
        cleartext_sha256,
    } = seal(credentials, reader, ChunkHasher::new(writer), &mut SysRng)?;
    let (writer, hashes) = writer.finish();
    let sealed = Sealed {
        writer,
        tag,
        cleartext_len,
        cleartext_sha256,
    };
    Ok((sealed, hashes))
}

/// Where the writing thread puts the ciphertext.
trait Output: Write + Send {
    /// Authenticates `ciphertext` into `mac` and writes it.
    fn put(&mut self, mac: &mut HmacSha256, ciphertext: &[u8]) -> io::Result<()>;
}

/// A writer as it is.
struct Plain<W>(W);

impl<W: Write> Write for Plain<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> Output for Plain<W> {
    fn put(&mut self, mac: &mut HmacSha256, ciphertext: &[u8]) -> io::Result<()> {
        mac.update(ciphertext);
        self.0.write_all(ciphertext)
    }
}

impl<W: Write + Send> Output for ChunkHasher<W> {
    fn put(&mut self, mac: &mut HmacSha256, ciphertext: &[u8]) -> io::Result<()> {
        self.write_authenticated(mac, ciphertext)
    }
}

fn seal<R, O, G>(
    credentials: Credentials<'_>,
    reader: &mut R,
    mut writer: O,
    rng: &mut G,
) -> Result<Sealed<O>, PipelineError>
where
    R: Read + Send + ?Sized,
    O: Output,
    G: TryCryptoRng + ?Sized,
{
    let (header, keys) = credentials.new_header(rng)?;
    let keys = keys.get();
    let header_bytes = header.to_bytes();
    let mut mac = new_mac(keys.hmac.0.expose());
    mac.update(&header_bytes);
    writer.write_all(&header_bytes).map_err(Error::Io)?;
    // Boxed and the stack scrubbed: no copy of the key schedule stays behind (see stack.rs).
    let mut cbc = Box::new(CbcEncryptor::new(keys.encryption.0.expose(), &header.iv));
    crate::stack::scrub_stack();

    thread::scope(|scope| {
        let (read_sender, read_receiver) = mpsc::sync_channel::<Chunk>(POOL);
        let (sealed_sender, sealed_receiver) = mpsc::sync_channel::<Chunk>(POOL);
        let io = thread::Builder::new()
            .name("arca-seal-io".to_owned())
            .spawn_scoped(scope, move || {
                let done = read_and_write(reader, writer, mac, read_sender, sealed_receiver);
                crate::stack::scrub_stack();
                done
            })
            .map_err(Error::Io)?;
        // `encrypt_chunks` owns its ends of the channels, so if it panics they are dropped while
        // unwinding and the other thread ends instead of waiting for ever.
        let encrypted = encrypt_chunks(&mut cbc, read_receiver, sealed_sender);
        // The hash's message schedule held cleartext on this stack.
        crate::stack::scrub_stack();
        let done = match io.join() {
            Ok(done) => done,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        match (encrypted, done) {
            (_, Err(IoFailure::Read(error))) => Err(PipelineError::Read(error)),
            (_, Err(IoFailure::Write(error))) => Err(PipelineError::Encrypt(Error::Io(error))),
            // Cannot happen: the other thread stops early only with an error.
            (None, Ok(_)) => Err(PipelineError::Encrypt(Error::Io(io::Error::other(
                "the reading and writing thread stopped early",
            )))),
            (Some((cleartext_len, cleartext_sha256)), Ok((writer, tag))) => Ok(Sealed {
                writer,
                tag,
                cleartext_len,
                cleartext_sha256,
            }),
        }
    })
}

/// The calling thread's half: encrypt and hash each chunk of cleartext as it arrives and hand
/// its ciphertext back, up to the last chunk. Returns the cleartext's length and SHA-256, or
/// `None` if the other thread stopped first (it says why).
fn encrypt_chunks(
    cbc: &mut CbcEncryptor,
    read: Receiver<Chunk>,
    sealed: SyncSender<Chunk>,
) -> Option<(u64, [u8; 32])> {
    let mut sha256 = Sha256::new();
    let mut total = 0u64;
    for mut chunk in read {
        let len = chunk.cleartext_len;
        total += len as u64;
        let whole = len - len % BLOCK_LEN;
        let (cleartext, ciphertext) = (&chunk.cleartext[..len], &mut chunk.ciphertext);
        cbc.encrypt_blocks_hashing(&cleartext[..whole], &mut ciphertext[..whole], &mut sha256);
        chunk.ciphertext_len = whole;
        if chunk.last {
            sha256.update(&cleartext[whole..]);
            let mut block = pkcs7_pad(&cleartext[whole..]);
            cbc.encrypt_blocks_in_place(&mut block);
            ciphertext[whole..whole + BLOCK_LEN].copy_from_slice(&block);
            chunk.ciphertext_len += BLOCK_LEN;
        }
        let last = chunk.last;
        sealed.send(chunk).ok()?;
        if last {
            return Some((total, sha256.finalize().into()));
        }
    }
    None
}

/// Reads until `buffer` is full or the stream ends; returns how much was read.
pub(crate) fn fill<R: Read + ?Sized>(reader: &mut R, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

enum IoFailure {
    Read(io::Error),
    Write(io::Error),
}

/// The second thread's half: keep the cipher supplied with chunks of cleartext, and
/// authenticate and write each chunk it seals, reusing its buffers for the next read. After
/// the last chunk, write the tag. A stream that stops without its last chunk (the reader
/// failed) gets no tag, so no reader can take it for a complete message.
///
/// Reading here rather than beside the cipher takes the copy out of the page cache off the
/// one serial pass: this thread's MAC is the faster of the two.
fn read_and_write<R: Read + ?Sized, O: Output>(
    reader: &mut R,
    mut writer: O,
    mut mac: HmacSha256,
    read: SyncSender<Chunk>,
    sealed: Receiver<Chunk>,
) -> Result<(O, HmacTag), IoFailure> {
    let mut supply = Supply {
        reader,
        to_cipher: read,
        ended: false,
    };
    for _ in 0..POOL {
        supply.send(Chunk::new())?;
    }
    for chunk in sealed {
        writer
            .put(&mut mac, &chunk.ciphertext[..chunk.ciphertext_len])
            .map_err(IoFailure::Write)?;
        if chunk.last {
            let tag: [u8; 32] = mac.finalize().into_bytes().into();
            writer.write_all(&tag).map_err(IoFailure::Write)?;
            writer.flush().map_err(IoFailure::Write)?;
            return Ok((writer, HmacTag::from_bytes(tag)));
        }
        supply.send(chunk)?;
    }
    // The cipher's thread ended early: it panicked, and the panic is resumed.
    Err(IoFailure::Write(io::Error::other(
        "the cleartext stream stopped before its end",
    )))
}

/// The reading end of [`read_and_write`].
struct Supply<'a, R: ?Sized> {
    reader: &'a mut R,
    to_cipher: SyncSender<Chunk>,
    /// A short read was sent: the chunk marked last.
    ended: bool,
}

impl<R: Read + ?Sized> Supply<'_, R> {
    /// Fills `chunk` with the next cleartext and sends it to be sealed, unless the stream has
    /// ended (the buffer is then dropped).
    fn send(&mut self, mut chunk: Chunk) -> Result<(), IoFailure> {
        if self.ended {
            return Ok(());
        }
        let len = fill(self.reader, &mut chunk.cleartext).map_err(IoFailure::Read)?;
        chunk.cleartext_len = len;
        // Only a short read ends the stream, so every chunk before the last is full and whole.
        chunk.last = len < CHUNK_LEN;
        self.ended = chunk.last;
        // If the cipher's thread is gone, it panicked: the panic is resumed.
        let _ = self.to_cipher.send(chunk);
        Ok(())
    }
}
