//! Random access into a key-based message: every range reads back what was written, and no
//! byte of a modified, truncated or swapped message is released.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use arca_cryptor::{
    CHUNK_LEN, ChunkHasher, ChunkHashes, CipherKeys, Credentials, EncryptionKey, Encryptor, Error,
    HmacKey, HmacTag, SeekableDecryptor, chunk_hashes,
};

fn keys() -> CipherKeys {
    CipherKeys::new(
        EncryptionKey::from_slice(&[7; 32]).unwrap(),
        HmacKey::from_slice(&[9; 32]).unwrap(),
    )
}

fn cleartext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// A message of `len` bytes, its tag and its chunk hashes.
fn sealed(keys: &CipherKeys, data: &[u8]) -> (Vec<u8>, HmacTag, ChunkHashes) {
    let mut encryptor =
        Encryptor::new(Credentials::Keys(keys), ChunkHasher::new(Vec::new())).unwrap();
    encryptor.write_all(data).unwrap();
    let (hasher, tag) = encryptor.finish().unwrap();
    let (message, hashes) = hasher.finish();
    assert_eq!(chunk_hashes(&message[..]).unwrap(), hashes);
    (message, tag, hashes)
}

fn open(
    message: Vec<u8>,
    len: u64,
    tag: HmacTag,
    hashes: ChunkHashes,
) -> Result<SeekableDecryptor<Cursor<Vec<u8>>>, Error> {
    let message_len = message.len() as u64;
    SeekableDecryptor::new(Cursor::new(message), message_len, len, tag, hashes)
}

#[test]
fn every_range_reads_back_at_chunk_and_block_boundaries() {
    let keys = keys();
    let chunk = CHUNK_LEN as usize;
    for len in [
        0,
        1,
        15,
        16,
        17,
        4095,
        chunk - 50,
        chunk - 18,
        chunk,
        chunk + 1,
        3 * chunk + 5,
    ] {
        let data = cleartext(len);
        let (message, tag, hashes) = sealed(&keys, &data);
        let mut decryptor = open(message, len as u64, tag, hashes).unwrap();
        let mut reader = decryptor
            .with_credentials(Credentials::Keys(&keys))
            .unwrap();
        let mut whole = Vec::new();
        reader.read_to_end(&mut whole).unwrap();
        assert_eq!(whole, data, "whole of {len}");
        for (start, size) in [
            (0, 1),
            (len / 2, 33),
            (len.saturating_sub(1), 1),
            (chunk - 20, 40),
            (len.saturating_sub(17), 100),
        ] {
            if start >= len {
                continue;
            }
            reader.seek(SeekFrom::Start(start as u64)).unwrap();
            let mut out = vec![0u8; size.min(len - start)];
            reader.read_exact(&mut out).unwrap();
            assert_eq!(out, data[start..start + out.len()], "{len}: {start}+{size}");
        }
    }
}

#[test]
fn a_modified_chunk_releases_nothing_of_itself() {
    let keys = keys();
    let len = 2 * CHUNK_LEN as usize + 100;
    let data = cleartext(len);
    let (mut message, tag, hashes) = sealed(&keys, &data);
    // A byte in the middle of the second chunk.
    message[CHUNK_LEN as usize + 1000] ^= 1;
    let mut decryptor = open(message, len as u64, tag, hashes).unwrap();
    let mut reader = decryptor
        .with_credentials(Credentials::Keys(&keys))
        .unwrap();
    let mut first = vec![0u8; 1000];
    reader.read_exact(&mut first).unwrap();
    assert_eq!(first, data[..1000]);
    reader.seek(SeekFrom::Start(CHUNK_LEN + 10)).unwrap();
    let error = reader.read(&mut [0u8; 10]).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
}

/// A read across a chunk border checks both chunks at once: either one modified still releases
/// nothing of itself, and the other stays readable.
#[test]
fn a_read_across_a_border_releases_nothing_of_a_modified_chunk_on_either_side() {
    let keys = keys();
    let len = 3 * CHUNK_LEN as usize;
    let data = cleartext(len);
    let border = CHUNK_LEN as usize;
    for (damaged, intact) in [
        (border + 5000, border - 5000),
        (border - 5000, border + 5000),
    ] {
        let (mut message, tag, hashes) = sealed(&keys, &data);
        message[damaged] ^= 1;
        let mut decryptor = open(message, len as u64, tag, hashes).unwrap();
        let mut reader = decryptor
            .with_credentials(Credentials::Keys(&keys))
            .unwrap();
        let mut across = vec![0u8; 64 * 1024];
        reader
            .seek(SeekFrom::Start((border - 32 * 1024) as u64))
            .unwrap();
        let mut released = 0;
        let error = loop {
            match reader.read(&mut across[released..]) {
                Ok(0) => panic!("the read ended early"),
                Ok(read) => released += read,
                Err(error) => break error,
            }
            assert!(released < across.len(), "a modified chunk was released");
        };
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        let start = border - 32 * 1024;
        assert_eq!(across[..released], data[start..start + released]);
        // The cleartext of the modified chunk never came out; the other chunk reads as it was.
        let releasable = if damaged > border { border - start } else { 0 };
        assert!(released <= releasable, "{released} bytes released");
        let mut other = vec![0u8; 100];
        reader.seek(SeekFrom::Start(intact as u64 - 16)).unwrap();
        reader.read_exact(&mut other).unwrap();
        assert_eq!(other, data[intact - 16..intact + 84]);
    }
}

#[test]
fn swapped_truncated_and_mismatched_messages_are_refused() {
    let keys = keys();
    let data = cleartext(5000);
    let (message, tag, hashes) = sealed(&keys, &data);
    let (other, other_tag, other_hashes) = sealed(&keys, &data);
    // Another message under the same keys: authentic, but not the recorded one.
    assert!(matches!(
        open(other.clone(), 5000, tag, other_hashes.clone()),
        Err(Error::UnexpectedTag)
    ));
    // Its hashes do not match the recorded ones.
    assert!(matches!(
        open(other, 5000, other_tag, hashes.clone()),
        Err(Error::Authentication)
    ));
    // Shorter than recorded.
    let mut short = message.clone();
    short.truncate(message.len() - 16);
    assert!(open(short, 5000, tag, hashes.clone()).is_err());
    // A wrong recorded length.
    assert!(matches!(
        open(message.clone(), 4000, tag, hashes.clone()),
        Err(Error::Authentication)
    ));
    // Hashes of the right count but not of this message.
    let wrong = ChunkHashes::from_bytes(&[0u8; 32]).unwrap();
    assert!(matches!(
        open(message, 5000, tag, wrong),
        Err(Error::Authentication)
    ));
}
