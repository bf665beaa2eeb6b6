//! Streaming encryption to RNCryptor v3.

use std::io::{self, Write};

use getrandom::SysRng;
use hmac::Mac;
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::error::Error;
use crate::format::{BLOCK_LEN, HmacTag};
use crate::primitives::{CbcEncryptor, HmacSha256, new_mac, pkcs7_pad};

/// Cleartext is encrypted in chunks of this size: large enough to amortise calls, small enough
/// to stay in cache.
pub(crate) const CHUNK_LEN: usize = 64 * 1024;

/// Encrypts a stream of any length into an RNCryptor v3 message, in constant memory.
///
/// Write the cleartext through [`Write`], then call [`Encryptor::finish`]: without it the message
/// has no final block and no HMAC, and every reader will reject it.
///
/// ```
/// use std::io::Write;
/// use arca_cryptor::{Credentials, Iterations, Password, Encryptor, decrypt, CleartextBuffer};
///
/// let password = Password::new("correct horse battery staple".into());
/// let credentials = Credentials::Password(&password, Iterations::RNCRYPTOR);
/// let mut encryptor = Encryptor::new(credentials, Vec::new())?;
/// encryptor.write_all(b"attack at dawn")?;
/// let (message, _tag) = encryptor.finish()?;
///
/// let cleartext = decrypt(credentials, &message[..], CleartextBuffer::new())?;
/// assert_eq!(&cleartext[..], b"attack at dawn");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encryptor<W: Write> {
    writer: W,
    /// Boxed, so that moving the encryptor moves a pointer and leaves no copy of the key
    /// schedule behind on the stack.
    state: Box<(CbcEncryptor, HmacSha256)>,
    /// Cleartext bytes waiting for a whole block (fewer than 16).
    partial: Zeroizing<Vec<u8>>,
    /// Ciphertext of the chunk being written.
    out: Vec<u8>,
}

impl<W: Write> Encryptor<W> {
    /// Starts a message with a random IV (and random salts in password mode), writing its header.
    ///
    /// # Errors
    /// [`Error::EmptyPassword`] for an empty password, [`Error::Random`] if the system random
    /// number generator fails, [`Error::Io`] if the header cannot be written.
    pub fn new(credentials: Credentials<'_>, writer: W) -> Result<Self, Error> {
        Self::with_rng(credentials, writer, &mut SysRng)
    }

    /// Like [`Encryptor::new`], drawing salts and IV from `rng` (so tests can pin them).
    ///
    /// # Errors
    /// As [`Encryptor::new`].
    pub fn with_rng<R: TryCryptoRng + ?Sized>(
        credentials: Credentials<'_>,
        mut writer: W,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let (header, keys) = credentials.new_header(rng)?;
        let keys = keys.get();
        let header_bytes = header.to_bytes();
        let mut mac = new_mac(keys.hmac.0.expose());
        mac.update(&header_bytes);
        writer.write_all(&header_bytes)?;
        let state = Box::new((
            CbcEncryptor::new(keys.encryption.0.expose(), &header.iv),
            mac,
        ));
        crate::stack::scrub_stack();
        Ok(Self {
            writer,
            state,
            partial: Zeroizing::new(Vec::with_capacity(BLOCK_LEN)),
            out: vec![0; CHUNK_LEN],
        })
    }

    /// Encrypts and writes whole blocks, hashing their cleartext into `sha256` if given.
    fn encrypt_and_write(
        &mut self,
        blocks: &[u8],
        mut sha256: Option<&mut Sha256>,
    ) -> io::Result<()> {
        for chunk in blocks.chunks(CHUNK_LEN) {
            let out = &mut self.out[..chunk.len()];
            let (cbc, mac) = &mut *self.state;
            match sha256.as_deref_mut() {
                Some(sha256) => cbc.encrypt_blocks_hashing(chunk, out, sha256),
                None => cbc.encrypt_blocks(chunk, out),
            }
            mac.update(out);
            self.writer.write_all(out)?;
        }
        Ok(())
    }

    /// [`Write::write`], hashing into `sha256` the cleartext it encrypts (all of it but the
    /// partial block left for [`Encryptor::finish`]).
    fn write_hashing(
        &mut self,
        mut data: &[u8],
        mut sha256: Option<&mut Sha256>,
    ) -> io::Result<usize> {
        let written = data.len();
        if !self.partial.is_empty() {
            let take = (BLOCK_LEN - self.partial.len()).min(data.len());
            self.partial.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.partial.len() < BLOCK_LEN {
                return Ok(written);
            }
            let mut block = [0u8; BLOCK_LEN];
            block.copy_from_slice(&self.partial);
            self.partial.clear();
            self.encrypt_and_write(&block, sha256.as_deref_mut())?;
        }
        let whole = data.len() - data.len() % BLOCK_LEN;
        self.encrypt_and_write(&data[..whole], sha256)?;
        self.partial.extend_from_slice(&data[whole..]);
        Ok(written)
    }

    /// Pads and encrypts the last block, appends the HMAC and flushes. Returns the writer and the
    /// message's HMAC tag.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn finish(mut self) -> Result<(W, HmacTag), Error> {
        let mut block = pkcs7_pad(&self.partial);
        let (cbc, mac) = &mut *self.state;
        cbc.encrypt_blocks_in_place(&mut block);
        mac.update(&block);
        self.writer.write_all(&block)?;
        let tag: [u8; 32] = mac.clone().finalize().into_bytes().into();
        self.writer.write_all(&tag)?;
        self.writer.flush()?;
        Ok((self.writer, HmacTag::from_bytes(tag)))
    }
}

impl<W: Write> Write for Encryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.write_hashing(data, None)
    }

    /// Flushes the underlying writer. The final block and HMAC are written only by
    /// [`Encryptor::finish`].
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// An [`Encryptor`] that also computes the cleartext's SHA-256, for callers that record it.
///
/// Cheaper than hashing beside the encryptor: the hash runs in the waits of the CBC chain, on
/// the same core.
pub struct HashingEncryptor<W: Write> {
    encryptor: Encryptor<W>,
    sha256: Sha256,
}

impl<W: Write> HashingEncryptor<W> {
    /// As [`Encryptor::new`].
    ///
    /// # Errors
    /// As [`Encryptor::new`].
    pub fn new(credentials: Credentials<'_>, writer: W) -> Result<Self, Error> {
        Ok(Self {
            encryptor: Encryptor::new(credentials, writer)?,
            sha256: Sha256::new(),
        })
    }

    /// As [`Encryptor::finish`]; also returns the cleartext's SHA-256.
    ///
    /// # Errors
    /// [`Error::Io`] if writing fails.
    pub fn finish(mut self) -> Result<(W, HmacTag, [u8; 32]), Error> {
        self.sha256.update(&self.encryptor.partial);
        let sha256 = self.sha256.finalize().into();
        let (writer, tag) = self.encryptor.finish()?;
        Ok((writer, tag, sha256))
    }
}

impl<W: Write> Write for HashingEncryptor<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.encryptor.write_hashing(data, Some(&mut self.sha256))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encryptor.flush()
    }
}
