//! Decrypting one large message on two threads.
//!
//! CBC decryption is parallel and cheap; the HMAC is one serial pass over the ciphertext and
//! the ceiling. So a second thread reads the ciphertext and authenticates it, while the calling
//! thread decrypts what was read and writes it to the sink. As with [`Decryptor`](crate::Decryptor),
//! the sink is committed only after the HMAC (and the expected tag) matched, so nothing
//! unauthenticated is ever released.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use hmac::Mac;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::decrypt::{HELD_BACK, end_ciphertext_len, release_end};
use crate::error::Error;
use crate::format::{HMAC_LEN, Header, HmacTag};
use crate::pipelined::fill;
use crate::primitives::{CbcDecryptor, HmacSha256, new_mac};
use crate::sink::Sink;

/// Ciphertext per hand-over (a multiple of the block size).
const CHUNK_LEN: usize = 256 * 1024;
/// Chunks in flight between the threads.
const POOL: usize = 4;

/// Ciphertext read and authenticated, decrypted in place by the calling thread.
type Buffer = Zeroizing<Vec<u8>>;

enum Handed {
    /// `len` bytes of ciphertext that are not the end of the message.
    Body(Buffer, usize),
    /// The rest of the message: `len` bytes of ciphertext ending in the padded block (the tag
    /// follows them in the buffer), and what the HMAC computed over everything.
    Last(Buffer, usize, HmacTag),
    Failed(Error),
}

/// Decrypts the message `reader` yields into `sink` like [`decrypt`](crate::decrypt) (and
/// [`Decryptor::expecting_tag`](crate::Decryptor::expecting_tag) when `expected` is given), with
/// the reading and the HMAC on a second thread. Worth it from about a MiB on.
///
/// # Errors
/// As [`decrypt`](crate::decrypt): a malformed header, the wrong kind of credentials,
/// [`Error::Truncated`], [`Error::Misaligned`], [`Error::Authentication`],
/// [`Error::UnexpectedTag`], or [`Error::Io`] from the reader or the sink.
pub fn decrypt_pipelined<R, S>(
    credentials: Credentials<'_>,
    expected: Option<HmacTag>,
    mut reader: R,
    mut sink: S,
) -> Result<S::Output, Error>
where
    R: Read + Send,
    S: Sink,
{
    let mut first = [0u8; 2];
    read_exact(&mut reader, &mut first)?;
    let mode = Header::peek_mode(first)?;
    if mode != credentials.mode() {
        return Err(Error::ModeMismatch {
            expected: credentials.mode(),
            found: mode,
        });
    }
    let mut header_bytes = vec![0u8; mode.header_len()];
    header_bytes[..2].copy_from_slice(&first);
    read_exact(&mut reader, &mut header_bytes[2..])?;
    let header = Header::parse(&header_bytes)?;
    let keys = credentials.keys_for(&header)?;
    let mut mac = new_mac(keys.get().hmac.0.expose());
    mac.update(&header_bytes);
    // Boxed and the stack scrubbed: no copy of the key schedule stays behind (see stack.rs).
    let mut cbc = Box::new(CbcDecryptor::new(
        keys.get().encryption.0.expose(),
        &header.iv,
    ));
    drop(keys);
    crate::stack::scrub_stack();

    thread::scope(|scope| {
        let (full_sender, full_receiver) = mpsc::sync_channel::<Handed>(POOL);
        let (empty_sender, empty_receiver) = mpsc::channel::<Buffer>();
        thread::Builder::new()
            .name("arca-open-reader".to_owned())
            .spawn_scoped(scope, move || {
                read_and_authenticate(reader, mac, &full_sender, &empty_receiver);
                crate::stack::scrub_stack();
            })
            .map_err(Error::Io)?;
        // Returning drops the receiver, so a reader still sending stops at once.
        decrypt_chunks(&mut cbc, expected, full_receiver, &empty_sender, &mut sink)?;
        Ok(sink.commit()?)
    })
}

/// The calling thread's half: decrypt each chunk into the sink, and at the end check the tag
/// before the last block (and its padding) is decrypted and released.
fn decrypt_chunks<S: Sink>(
    cbc: &mut CbcDecryptor,
    expected: Option<HmacTag>,
    full: Receiver<Handed>,
    empty: &Sender<Buffer>,
    sink: &mut S,
) -> Result<(), Error> {
    for read in full {
        match read {
            Handed::Body(mut buffer, len) => {
                cbc.decrypt_blocks_in_place(&mut buffer[..len]);
                sink.write_all(&buffer[..len])?;
                let _ = empty.send(buffer);
            }
            Handed::Last(mut buffer, len, computed) => {
                let (ciphertext, stored) = buffer[..len + HMAC_LEN].split_at_mut(len);
                return release_end(cbc, ciphertext, stored, &computed, expected.as_ref(), sink);
            }
            Handed::Failed(error) => return Err(error),
        }
    }
    Err(Error::Io(io::Error::other(
        "the reading thread stopped early",
    )))
}

/// The second thread's half: read the ciphertext in chunks, authenticate each, hand it over,
/// and hold back the last bytes read until the end shows whether they are the tag.
fn read_and_authenticate<R: Read>(
    mut reader: R,
    mut mac: HmacSha256,
    full: &SyncSender<Handed>,
    empty: &Receiver<Buffer>,
) {
    let mut carried = [0u8; HELD_BACK];
    let mut carried_len = 0;
    loop {
        let mut buffer = empty
            .try_recv()
            .unwrap_or_else(|_| Zeroizing::new(vec![0; CHUNK_LEN + HELD_BACK]));
        buffer[..carried_len].copy_from_slice(&carried[..carried_len]);
        let filled = match fill(&mut reader, &mut buffer[carried_len..]) {
            Ok(read) => carried_len + read,
            Err(error) => {
                let _ = full.send(Handed::Failed(error.into()));
                return;
            }
        };
        let message = if filled == buffer.len() {
            // Full: everything but the held-back bytes is ciphertext that is not the end.
            mac.update(&buffer[..CHUNK_LEN]);
            carried.copy_from_slice(&buffer[CHUNK_LEN..]);
            carried_len = HELD_BACK;
            Handed::Body(buffer, CHUNK_LEN)
        } else {
            match end_ciphertext_len(filled) {
                Ok(len) => {
                    mac.update(&buffer[..len]);
                    let computed = HmacTag::from_bytes(mac.clone().finalize().into_bytes().into());
                    Handed::Last(buffer, len, computed)
                }
                Err(error) => Handed::Failed(error),
            }
        };
        let last = !matches!(message, Handed::Body(..));
        if full.send(message).is_err() || last {
            return;
        }
    }
}

fn read_exact<R: Read>(reader: &mut R, buffer: &mut [u8]) -> Result<(), Error> {
    reader.read_exact(buffer).map_err(|error| {
        if error.kind() == io::ErrorKind::UnexpectedEof {
            Error::Truncated
        } else {
            Error::Io(error)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::CleartextBuffer;
    use crate::{CipherKeys, EncryptionKey, Encryptor, HmacKey, decrypt};

    fn keys(seed: u8) -> CipherKeys {
        CipherKeys::new(
            EncryptionKey::from_slice(&[seed; 32]).unwrap(),
            HmacKey::from_slice(&[seed ^ 0x5a; 32]).unwrap(),
        )
    }

    fn sealed(len: usize) -> (Vec<u8>, Vec<u8>) {
        let cleartext: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let keys = keys(1);
        let mut encryptor = Encryptor::new(Credentials::Keys(&keys), Vec::new()).unwrap();
        io::Write::write_all(&mut encryptor, &cleartext).unwrap();
        (cleartext, encryptor.finish().unwrap().0)
    }

    fn pipelined(message: &[u8], expected: Option<HmacTag>) -> Result<Zeroizing<Vec<u8>>, Error> {
        let keys = keys(1);
        decrypt_pipelined(
            Credentials::Keys(&keys),
            expected,
            message,
            CleartextBuffer::new(),
        )
    }

    #[test]
    fn gives_what_the_serial_decryptor_gives_at_every_chunk_boundary() {
        for len in [
            0,
            1,
            15,
            16,
            17,
            CHUNK_LEN - 16,
            CHUNK_LEN - 1,
            CHUNK_LEN,
            CHUNK_LEN + 16,
            3 * CHUNK_LEN + 5,
        ] {
            let (cleartext, message) = sealed(len);
            let keys = keys(1);
            let serial = decrypt(
                Credentials::Keys(&keys),
                &message[..],
                CleartextBuffer::new(),
            )
            .unwrap();
            assert_eq!(
                *pipelined(&message, None).unwrap(),
                cleartext,
                "length {len}"
            );
            assert_eq!(*serial, cleartext);
        }
    }

    #[test]
    fn refuses_every_flipped_bit_truncation_and_a_wrong_expected_tag() {
        let (_, message) = sealed(2 * CHUNK_LEN + 100);
        let tag = HmacTag::from_bytes(message[message.len() - HMAC_LEN..].try_into().unwrap());
        for at in [
            0,
            1,
            40,
            CHUNK_LEN,
            message.len() - HMAC_LEN - 1,
            message.len() - 1,
        ] {
            let mut bad = message.clone();
            bad[at] ^= 1;
            assert!(
                pipelined(&bad, None).is_err(),
                "a flip at {at} went through"
            );
        }
        for cut in [1, 16, 32, HMAC_LEN + 1, message.len() - 10] {
            assert!(
                pipelined(&message[..message.len() - cut], None).is_err(),
                "cut {cut}"
            );
        }
        assert!(matches!(
            pipelined(&message, Some(HmacTag::from_bytes([7; 32]))),
            Err(Error::UnexpectedTag)
        ));
        assert!(pipelined(&message, Some(tag)).is_ok());
    }

    #[test]
    fn wrong_keys_release_nothing() {
        let (_, message) = sealed(CHUNK_LEN * 2);
        let other = keys(2);
        let sink = CleartextBuffer::new();
        let result = decrypt_pipelined(Credentials::Keys(&other), None, &message[..], sink);
        assert!(matches!(result, Err(Error::Authentication)));
    }
}
