//! The two-thread encryptor: for the same salts and IV it writes exactly the bytes of the serial
//! [`Encryptor`], whatever the length and however the reader splits its reads; it reports the
//! cleartext's length and SHA-256; a failing writer or reader surfaces as the right error and
//! never leaves a complete-looking message; and a panic on either side neither hangs nor is lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{self, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use arca_cryptor::format::HMAC_LEN;
use arca_cryptor::{
    CleartextBuffer, Credentials, Encryptor, Error, Password, PipelineError, chunk_hashes, decrypt,
    encrypt_pipelined, encrypt_pipelined_hashing_chunks, encrypt_pipelined_with_rng,
};
use common::{PinnedRng, fast_iterations, noise, test_keys};
use sha2::{Digest, Sha256};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Lengths where block, serial-chunk (64 KiB) and pipeline-chunk (128 or 256 KiB) boundaries
/// fall, and a few multi-MiB streams.
const SIZES: [usize; 21] = [
    0,
    1,
    15,
    16,
    17,
    64 * KIB - 1,
    64 * KIB,
    64 * KIB + 1,
    128 * KIB - 1,
    128 * KIB,
    128 * KIB + 1,
    256 * KIB - 1,
    256 * KIB,
    256 * KIB + 1,
    256 * KIB + 16,
    512 * KIB - 16,
    MIB - 1,
    MIB,
    MIB + 1,
    3 * MIB + 7,
    5 * MIB,
];

/// Read sizes (cycled) that split blocks and chunks in awkward places.
const ODD_READS: [usize; 7] = [1, 7, 4093, 65_537, 15, 131_071, 300_000];

/// A reader that returns at most the next of `sizes` bytes per call and, before every third
/// read, an `Interrupted` error that must be retried.
struct Trickle<'a> {
    data: &'a [u8],
    sizes: std::iter::Cycle<std::slice::Iter<'a, usize>>,
    calls: usize,
}

impl<'a> Trickle<'a> {
    fn new(data: &'a [u8], sizes: &'a [usize]) -> Self {
        Self {
            data,
            sizes: sizes.iter().cycle(),
            calls: 0,
        }
    }
}

impl Read for Trickle<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls.is_multiple_of(3) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "signal"));
        }
        let take = (*self.sizes.next().unwrap())
            .min(buffer.len())
            .min(self.data.len());
        buffer[..take].copy_from_slice(&self.data[..take]);
        self.data = &self.data[take..];
        Ok(take)
    }
}

fn serial(credentials: Credentials<'_>, pinned: &[u8], cleartext: &[u8]) -> Vec<u8> {
    let mut encryptor =
        Encryptor::with_rng(credentials, Vec::new(), &mut PinnedRng(pinned.to_vec())).unwrap();
    // Odd write sizes on this side too, so neither stream's chunking is what makes them agree.
    let mut rest = cleartext;
    for &size in ODD_READS.iter().rev().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        encryptor.write_all(piece).unwrap();
        rest = tail;
    }
    encryptor.finish().unwrap().0
}

fn assert_same_as_serial(credentials: Credentials<'_>, pinned: &[u8], reads: &[usize]) {
    for (index, &len) in SIZES.iter().enumerate() {
        let cleartext = noise(len, index as u64 + 1);
        let expected = serial(credentials, pinned, &cleartext);
        let sealed = encrypt_pipelined_with_rng(
            credentials,
            &mut Trickle::new(&cleartext, reads),
            Vec::new(),
            &mut PinnedRng(pinned.to_vec()),
        )
        .unwrap();
        assert!(
            sealed.writer == expected,
            "{len} bytes, reads of {reads:?}: the message differs from the serial Encryptor's"
        );
        assert_eq!(
            sealed.tag.as_bytes(),
            &expected[expected.len() - HMAC_LEN..]
        );
        assert_eq!(sealed.cleartext_len, len as u64);
        assert_eq!(
            sealed.cleartext_sha256,
            <[u8; 32]>::from(Sha256::digest(&cleartext)),
            "{len} bytes"
        );
    }
}

#[test]
fn key_mode_writes_the_serial_encryptors_bytes() {
    let keys = test_keys(3);
    let iv = noise(16, 99);
    assert_same_as_serial(Credentials::Keys(&keys), &iv, &ODD_READS);
    assert_same_as_serial(Credentials::Keys(&keys), &iv, &[usize::MAX]);
}

#[test]
fn password_mode_writes_the_serial_encryptors_bytes() {
    let password = Password::new("pipelined \u{1f510}".into());
    let salts_and_iv = noise(32, 5);
    let credentials = Credentials::Password(&password, fast_iterations());
    assert_same_as_serial(credentials, &salts_and_iv, &ODD_READS);
}

#[test]
fn chunk_hashes_taken_on_the_way_are_those_of_the_message_written() {
    let keys = test_keys(3);
    let password = Password::new("chunks".into());
    let key_mode = Credentials::Keys(&keys);
    let password_mode = Credentials::Password(&password, fast_iterations());
    // Header lengths differ by mode, so the chunk and block boundaries fall differently.
    for credentials in [key_mode, password_mode] {
        for len in [MIB, 3 * MIB + 17] {
            let cleartext = noise(len, 2);
            let (sealed, hashes) =
                encrypt_pipelined_hashing_chunks(credentials, &mut &cleartext[..], Vec::new())
                    .unwrap();
            let message = sealed.writer;
            assert_eq!(hashes, chunk_hashes(&message[..]).unwrap(), "{len} bytes");
            assert_eq!(
                sealed.cleartext_sha256,
                <[u8; 32]>::from(Sha256::digest(&cleartext))
            );
            let opened = decrypt(credentials, &message[..], CleartextBuffer::new()).unwrap();
            assert!(opened[..] == cleartext[..], "{len} bytes");
        }
    }
}

#[test]
fn messages_open_and_take_a_fresh_iv_each_time() {
    let keys = test_keys(9);
    let cleartext = noise(2 * MIB + 3, 8);
    let first = encrypt_pipelined(Credentials::Keys(&keys), &mut &cleartext[..], Vec::new())
        .unwrap()
        .writer;
    let second = encrypt_pipelined(Credentials::Keys(&keys), &mut &cleartext[..], Vec::new())
        .unwrap()
        .writer;
    assert_ne!(first[2..18], second[2..18], "the IV was reused");
    for message in [first, second] {
        let opened = decrypt(
            Credentials::Keys(&keys),
            &message[..],
            CleartextBuffer::new(),
        )
        .unwrap();
        assert!(opened[..] == cleartext[..]);
    }
}

#[test]
fn an_empty_password_is_refused() {
    let password = Password::new(String::new());
    let result = encrypt_pipelined(
        Credentials::Password(&password, fast_iterations()),
        &mut &b"data"[..],
        Vec::new(),
    );
    assert!(matches!(
        result,
        Err(PipelineError::Encrypt(Error::EmptyPassword))
    ));
}

/// Accepts `room` bytes into a shared buffer, then fails as a full disk does.
#[derive(Clone)]
struct FillsUp {
    written: Arc<Mutex<Vec<u8>>>,
    room: usize,
}

impl FillsUp {
    fn new(room: usize) -> Self {
        Self {
            written: Arc::default(),
            room,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        self.written.lock().unwrap().clone()
    }
}

impl Write for FillsUp {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut written = self.written.lock().unwrap();
        let take = data.len().min(self.room - written.len());
        if take == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        written.extend_from_slice(&data[..take]);
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_surfaces_its_error_wherever_it_fails() {
    let keys = test_keys(4);
    let cleartext = noise(3 * MIB + 5, 4);
    let full = serial(Credentials::Keys(&keys), &[0; 16], &cleartext).len();
    // In the header, in the first chunk, far into the stream, in the final block, in the tag.
    for room in [0, 10, 40, 2 * MIB + 9, full - HMAC_LEN - 3, full - 1] {
        let writer = FillsUp::new(room);
        let result = encrypt_pipelined_with_rng(
            Credentials::Keys(&keys),
            &mut &cleartext[..],
            writer.clone(),
            &mut PinnedRng(vec![0; 16]),
        );
        match result {
            Err(PipelineError::Encrypt(Error::Io(error))) => {
                assert_eq!(error.kind(), io::ErrorKind::StorageFull, "room {room}");
            }
            Err(other) => panic!("room {room}: wrong error {other:?}"),
            Ok(_) => panic!("room {room}: a full writer went unnoticed"),
        }
        assert_eq!(writer.bytes().len(), room, "room {room}");
    }
}

/// Returns `good` bytes, then fails.
struct BreaksAfter {
    data: Vec<u8>,
    position: usize,
}

impl Read for BreaksAfter {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.position == self.data.len() {
            return Err(io::Error::other("the source went away"));
        }
        let take = buffer
            .len()
            .min(self.data.len() - self.position)
            .min(50_000);
        buffer[..take].copy_from_slice(&self.data[self.position..][..take]);
        self.position += take;
        Ok(take)
    }
}

#[test]
fn a_failing_reader_is_a_read_error_and_leaves_no_complete_message() {
    let keys = test_keys(5);
    for good in [0, 100, 128 * KIB, 2 * MIB + 1] {
        let writer = FillsUp::new(usize::MAX);
        let mut reader = BreaksAfter {
            data: noise(good, 6),
            position: 0,
        };
        let result = encrypt_pipelined(Credentials::Keys(&keys), &mut reader, writer.clone());
        match result {
            Err(PipelineError::Read(error)) => {
                assert_eq!(error.to_string(), "the source went away");
            }
            Err(other) => panic!("{good} bytes: wrong error {other:?}"),
            Ok(_) => panic!("{good} bytes: a failed read went unnoticed"),
        }
        // Whatever reached the writer is not an authentic message of any cleartext.
        let written = writer.bytes();
        assert!(
            decrypt(
                Credentials::Keys(&keys),
                &written[..],
                CleartextBuffer::new()
            )
            .is_err(),
            "{good} bytes: a truncated message passes as complete"
        );
    }
}

struct PanicsAfter(usize);

impl Read for PanicsAfter {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.0 == 0 {
            panic!("reader bug");
        }
        let take = buffer.len().min(self.0);
        buffer[..take].fill(1);
        self.0 -= take;
        Ok(take)
    }
}

struct PanickingWriter(usize);

impl Write for PanickingWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.0 < data.len() {
            panic!("writer bug");
        }
        self.0 -= data.len();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panic_on_either_thread_reaches_the_caller_without_hanging() {
    let keys = test_keys(6);
    let reader_panic = catch_unwind(AssertUnwindSafe(|| {
        encrypt_pipelined(
            Credentials::Keys(&keys),
            &mut PanicsAfter(MIB + 3),
            Vec::new(),
        )
        .map(drop)
    }));
    assert!(reader_panic.is_err());
    let writer_panic = catch_unwind(AssertUnwindSafe(|| {
        encrypt_pipelined(
            Credentials::Keys(&keys),
            &mut &noise(4 * MIB, 1)[..],
            PanickingWriter(MIB),
        )
        .map(drop)
    }));
    let payload = writer_panic.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"writer bug"));
}
