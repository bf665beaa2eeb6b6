//! Round trips through the streaming Encryptor and Decryptor in both modes, at the sizes where
//! block, padding and chunk boundaries fall, with the cleartext written and the message fed in
//! arbitrary pieces: whatever the pieces, the cleartext comes back exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{self, Read, Write};

use arca_cryptor::format::{HMAC_LEN, KEY_HEADER_LEN, PASSWORD_HEADER_LEN};
use arca_cryptor::{
    CleartextBuffer, Credentials, Decryptor, Encryptor, HashingEncryptor, Password, decrypt,
};
use common::{fast_iterations, noise, open_in_pieces, test_keys};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const MIB: usize = 1024 * 1024;
const SIZES: [usize; 11] = [0, 1, 15, 16, 17, 4095, 4096, 4097, MIB - 1, MIB, MIB + 1];

/// Writes `cleartext` to `writer` in pieces of the given lengths (cycled).
fn write_in_pieces(writer: &mut impl Write, cleartext: &[u8], pieces: &[usize]) {
    let mut rest = cleartext;
    let mut lengths = pieces.iter().copied().cycle();
    while !rest.is_empty() {
        let take = lengths.next().unwrap().clamp(1, rest.len());
        let (piece, tail) = rest.split_at(take);
        writer.write_all(piece).unwrap();
        rest = tail;
    }
}

/// Writes `cleartext` in pieces of the given lengths (cycled) and returns the message.
fn seal_in_pieces(credentials: Credentials<'_>, cleartext: &[u8], pieces: &[usize]) -> Vec<u8> {
    let mut encryptor = Encryptor::new(credentials, Vec::new()).unwrap();
    write_in_pieces(&mut encryptor, cleartext, pieces);
    let (message, tag) = encryptor.finish().unwrap();
    assert_eq!(&message[message.len() - HMAC_LEN..], tag.as_bytes());
    message
}

fn expected_len(password: bool, cleartext_len: usize) -> usize {
    let header = if password {
        PASSWORD_HEADER_LEN
    } else {
        KEY_HEADER_LEN
    };
    // PKCS#7 always pads, by a whole block when the cleartext fills its last one.
    header + (cleartext_len / 16 + 1) * 16 + HMAC_LEN
}

fn round_trip(password_mode: bool, cleartext: &[u8], write_pieces: &[usize], feed: &[usize]) {
    let keys = test_keys(7);
    let password = Password::new("round trip \u{1f511}".into());
    let credentials = if password_mode {
        Credentials::Password(&password, fast_iterations())
    } else {
        Credentials::Keys(&keys)
    };
    let message = seal_in_pieces(credentials, cleartext, write_pieces);
    assert_eq!(message.len(), expected_len(password_mode, cleartext.len()));
    assert_eq!(message[..2], [3, u8::from(password_mode)]);

    let opened = open_in_pieces(
        Decryptor::new(credentials, CleartextBuffer::new()),
        &message,
        feed,
    )
    .unwrap();
    // Compare lengths first so a mismatch does not print a megabyte.
    assert_eq!(opened.len(), cleartext.len());
    assert!(opened[..] == cleartext[..], "cleartext differs");
}

/// A reader that returns at most the given numbers of bytes per call (cycled), as pipes and
/// sockets do.
struct ShortReads<'a> {
    data: &'a [u8],
    lengths: std::iter::Cycle<std::slice::Iter<'a, usize>>,
}

impl Read for ShortReads<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let want = self.lengths.next().copied().unwrap_or(1).max(1);
        let take = want.min(buffer.len()).min(self.data.len());
        buffer[..take].copy_from_slice(&self.data[..take]);
        self.data = &self.data[take..];
        Ok(take)
    }
}

#[test]
fn every_boundary_size_in_both_modes() {
    for password_mode in [false, true] {
        for (index, &size) in SIZES.iter().enumerate() {
            let cleartext = noise(size, index as u64);
            round_trip(password_mode, &cleartext, &[size.max(1)], &[1 << 16]);
            round_trip(password_mode, &cleartext, &[15, 1, 4097], &[33, 65_537, 7]);
        }
    }
}

#[test]
fn decrypt_reads_through_short_reads() {
    let keys = test_keys(3);
    let credentials = Credentials::Keys(&keys);
    for &size in &[0, 17, 4097, MIB + 1] {
        let cleartext = noise(size, 99);
        let message = seal_in_pieces(credentials, &cleartext, &[size.max(1)]);
        let reader = ShortReads {
            data: &message,
            lengths: [1, 31, 16, 70_000].iter().cycle(),
        };
        let opened = decrypt(credentials, reader, CleartextBuffer::new()).unwrap();
        assert!(opened[..] == cleartext[..], "size {size}");
    }
}

#[test]
fn the_hashing_encryptor_seals_the_same_and_hashes_every_byte_once() {
    use sha2::{Digest, Sha256};
    let keys = test_keys(4);
    let credentials = Credentials::Keys(&keys);
    for (size, pieces) in SIZES
        .iter()
        .zip([[1, 7], [15, 33], [16, 64], [65_537, 3]].iter().cycle())
    {
        let cleartext = noise(*size, 6);
        let mut encryptor = HashingEncryptor::new(credentials, Vec::new()).unwrap();
        write_in_pieces(&mut encryptor, &cleartext, pieces);
        let (message, tag, sha256) = encryptor.finish().unwrap();
        assert_eq!(
            sha256,
            <[u8; 32]>::from(Sha256::digest(&cleartext)),
            "{size} bytes"
        );
        let decryptor = Decryptor::new(credentials, CleartextBuffer::new()).expecting_tag(tag);
        let opened = open_in_pieces(decryptor, &message, &[4096]).unwrap();
        assert!(opened[..] == cleartext[..], "{size} bytes");
    }
}

#[test]
fn the_returned_tag_is_accepted_when_expected() {
    let keys = test_keys(9);
    let credentials = Credentials::Keys(&keys);
    let mut encryptor = Encryptor::new(credentials, Vec::new()).unwrap();
    encryptor.write_all(b"pinned").unwrap();
    let (message, tag) = encryptor.finish().unwrap();
    let decryptor = Decryptor::new(credentials, CleartextBuffer::new()).expecting_tag(tag);
    let opened = open_in_pieces(decryptor, &message, &[5]).unwrap();
    assert_eq!(&opened[..], b"pinned");
}

fn piece_len() -> impl Strategy<Value = usize> {
    prop_oneof![1usize..=17, 1usize..=4097, 1usize..=200_000]
}

proptest! {
    // Each case moves up to a megabyte through both directions: a few dozen keep the file fast.
    // Failing seeds are kept beside this file (tests/ has no lib.rs for the default to find).
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn round_trips_with_any_chunking(
        size in proptest::sample::select(SIZES.to_vec()),
        password_mode in any::<bool>(),
        seed in any::<u64>(),
        write_pieces in proptest::collection::vec(piece_len(), 1..6),
        feed in proptest::collection::vec(piece_len(), 1..6),
    ) {
        round_trip(password_mode, &noise(size, seed), &write_pieces, &feed);
    }
}
