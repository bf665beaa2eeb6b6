//! Streaming decryption of RNCryptor v3, releasing nothing before the HMAC has matched.

use std::io::{self, Read, Write};

use hmac::Mac;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::encrypt::CHUNK_LEN;
use crate::error::Error;
use crate::format::{BLOCK_LEN, HMAC_LEN, Header, HmacTag};
use crate::primitives::{CbcDecryptor, HmacSha256, new_mac, pkcs7_unpadded_len};
use crate::sink::Sink;

/// The bytes that may be the end of the message: the HMAC and the padded last block. They are
/// held back until [`Decryptor::finish`] knows the message is complete.
pub(crate) const HELD_BACK: usize = HMAC_LEN + BLOCK_LEN;

enum State<'a> {
    Header {
        credentials: Credentials<'a>,
        bytes: Vec<u8>,
    },
    // Boxed: the cipher and MAC states dwarf the header variant.
    Body(Box<(CbcDecryptor, HmacSha256)>),
}

/// Decrypts an RNCryptor v3 message of any length in constant memory.
///
/// Ciphertext goes in through [`Decryptor::update`] (or [`Write`]); cleartext goes to a
/// [`Sink`], which releases it only when [`Decryptor::finish`] has verified the HMAC. Any
/// failure (wrong key, modified or truncated data) leaves the sink uncommitted, so no
/// unauthenticated cleartext can be used.
pub struct Decryptor<'a, S: Sink> {
    state: State<'a>,
    /// Ciphertext (and possibly the HMAC) not yet processed; at most a chunk plus [`HELD_BACK`].
    pending: Zeroizing<Vec<u8>>,
    expected_tag: Option<HmacTag>,
    sink: S,
}

impl<'a, S: Sink> Decryptor<'a, S> {
    /// Starts decrypting a message opened with `credentials` into `sink`.
    pub fn new(credentials: Credentials<'a>, sink: S) -> Self {
        Self {
            state: State::Header {
                credentials,
                bytes: Vec::with_capacity(64),
            },
            pending: Zeroizing::new(Vec::with_capacity(CHUNK_LEN + HELD_BACK + BLOCK_LEN)),
            expected_tag: None,
            sink,
        }
    }

    /// Also requires the message's HMAC tag to equal `tag`, the one recorded when it was written.
    /// A message replaced by another sealed with the same keys, or by an older version of
    /// itself, then fails with [`Error::UnexpectedTag`] before anything is released.
    #[must_use]
    pub fn expecting_tag(mut self, tag: HmacTag) -> Self {
        self.expected_tag = Some(tag);
        self
    }

    /// Feeds the next piece of the message.
    ///
    /// # Errors
    /// A malformed header ([`Error::UnsupportedVersion`], [`Error::UnsupportedOptions`]), the
    /// wrong kind of credentials ([`Error::ModeMismatch`]), or the sink failing ([`Error::Io`]).
    /// After an error the decryptor must be dropped.
    pub fn update(&mut self, mut data: &[u8]) -> Result<(), Error> {
        if let State::Header { credentials, bytes } = &mut self.state {
            if bytes.len() < 2 {
                let take = (2 - bytes.len()).min(data.len());
                bytes.extend_from_slice(&data[..take]);
                data = &data[take..];
                if bytes.len() < 2 {
                    return Ok(());
                }
            }
            let mode = Header::peek_mode([bytes[0], bytes[1]])?;
            if mode != credentials.mode() {
                return Err(Error::ModeMismatch {
                    expected: credentials.mode(),
                    found: mode,
                });
            }
            let take = (mode.header_len() - bytes.len()).min(data.len());
            bytes.extend_from_slice(&data[..take]);
            data = &data[take..];
            if bytes.len() < mode.header_len() {
                return Ok(());
            }
            let header = Header::parse(bytes)?;
            let keys = credentials.keys_for(&header)?;
            let mut mac = new_mac(keys.get().hmac.0.expose());
            mac.update(bytes);
            let cbc = CbcDecryptor::new(keys.get().encryption.0.expose(), &header.iv);
            self.state = State::Body(Box::new((cbc, mac)));
            crate::stack::scrub_stack();
        }
        while !data.is_empty() {
            let room = CHUNK_LEN + HELD_BACK - self.pending.len();
            let take = room.min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            self.release_all_but_tail()?;
        }
        Ok(())
    }

    /// Authenticates and decrypts whatever can no longer be the end of the message.
    fn release_all_but_tail(&mut self) -> Result<(), Error> {
        let State::Body(body) = &mut self.state else {
            return Ok(());
        };
        let (cbc, mac) = &mut **body;
        if self.pending.len() <= HELD_BACK {
            return Ok(());
        }
        let ready = (self.pending.len() - HELD_BACK) / BLOCK_LEN * BLOCK_LEN;
        if ready == 0 {
            return Ok(());
        }
        let blocks = &mut self.pending[..ready];
        mac.update(blocks);
        cbc.decrypt_blocks_in_place(blocks);
        self.sink.write_all(blocks)?;
        self.pending.drain(..ready);
        Ok(())
    }

    /// Ends the message: checks its length, verifies the HMAC in constant time (and the
    /// expected tag, if one was given), removes the padding and only then commits the sink.
    ///
    /// # Errors
    /// [`Error::Truncated`], [`Error::Misaligned`], [`Error::Authentication`] (wrong key or
    /// password, modified data, bad padding: deliberately one error), [`Error::UnexpectedTag`],
    /// or [`Error::Io`] from the sink.
    pub fn finish(mut self) -> Result<S::Output, Error> {
        let State::Body(body) = &mut self.state else {
            return Err(Error::Truncated);
        };
        let (cbc, mac) = &mut **body;
        let ciphertext_len = end_ciphertext_len(self.pending.len())?;
        let (ciphertext, stored) = self.pending.split_at_mut(ciphertext_len);
        mac.update(ciphertext);
        let computed = HmacTag::from_bytes(mac.clone().finalize().into_bytes().into());
        release_end(
            cbc,
            ciphertext,
            stored,
            &computed,
            self.expected_tag.as_ref(),
            &mut self.sink,
        )?;
        Ok(self.sink.commit()?)
    }
}

/// The ciphertext length of a message's end of `len` bytes (the rest of the ciphertext, ending
/// in the padded block, then the tag).
///
/// # Errors
/// [`Error::Truncated`] if it cannot hold a block and the tag, [`Error::Misaligned`] if the
/// ciphertext is not whole blocks.
pub(crate) fn end_ciphertext_len(len: usize) -> Result<usize, Error> {
    if len < HELD_BACK {
        return Err(Error::Truncated);
    }
    if !(len - HMAC_LEN).is_multiple_of(BLOCK_LEN) {
        return Err(Error::Misaligned);
    }
    Ok(len - HMAC_LEN)
}

/// Releases a message's end: checks the `stored` tag against the `computed` one in constant time
/// (and against `expected`, if given), and only then decrypts `ciphertext`, removes the padding
/// and writes the cleartext to `sink`.
///
/// # Errors
/// [`Error::Authentication`] (a tag that differs or bad padding: deliberately one error),
/// [`Error::UnexpectedTag`], or [`Error::Io`] from the sink.
pub(crate) fn release_end<W: Write>(
    cbc: &mut CbcDecryptor,
    ciphertext: &mut [u8],
    stored: &[u8],
    computed: &HmacTag,
    expected: Option<&HmacTag>,
    sink: &mut W,
) -> Result<(), Error> {
    if !computed.ct_eq(stored) {
        return Err(Error::Authentication);
    }
    if expected.is_some_and(|expected| !expected.ct_eq(computed.as_bytes())) {
        return Err(Error::UnexpectedTag);
    }
    cbc.decrypt_blocks_in_place(ciphertext);
    let (body, last) = ciphertext.split_at(ciphertext.len() - BLOCK_LEN);
    let last: &[u8; BLOCK_LEN] = last.try_into().map_err(|_| Error::Truncated)?;
    let kept = pkcs7_unpadded_len(last).ok_or(Error::Authentication)?;
    sink.write_all(body)?;
    sink.write_all(&last[..kept])?;
    Ok(())
}

impl<S: Sink> Write for Decryptor<'_, S> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.update(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Decrypts the whole message read from `reader` into `sink`, and commits the sink only if the
/// message is authentic.
///
/// # Errors
/// As [`Decryptor::update`] and [`Decryptor::finish`], plus [`Error::Io`] from the reader.
pub fn decrypt<R: Read, S: Sink>(
    credentials: Credentials<'_>,
    reader: R,
    sink: S,
) -> Result<S::Output, Error> {
    decrypt_with(Decryptor::new(credentials, sink), reader)
}

/// Drives `decryptor` over everything `reader` yields, then finishes it.
///
/// # Errors
/// As [`decrypt`].
pub fn decrypt_with<R: Read, S: Sink>(
    mut decryptor: Decryptor<'_, S>,
    mut reader: R,
) -> Result<S::Output, Error> {
    let mut buffer = vec![0u8; CHUNK_LEN];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        decryptor.update(&buffer[..read])?;
    }
    decryptor.finish()
}
