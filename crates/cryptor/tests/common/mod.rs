//! Shared by the Cryptor's integration tests: the vector-file reader and a pinned RNG.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;

use rand_core::{TryCryptoRng, TryRng};

pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(relative)
}

/// One record of an RNCryptor vector file (see fixtures/rncryptor-v3/README.md).
pub struct Record(HashMap<String, String>);

impl Record {
    pub fn text(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("record has no field {name}"))
    }

    pub fn hex(&self, name: &str) -> Vec<u8> {
        let compact: String = self
            .text(name)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        hex::decode(compact).unwrap_or_else(|e| panic!("{name} is not hex: {e}"))
    }

    pub fn hex_array<const N: usize>(&self, name: &str) -> [u8; N] {
        self.hex(name)
            .try_into()
            .unwrap_or_else(|_| panic!("{name} is not {N} bytes"))
    }

    pub fn title(&self) -> &str {
        self.text("title")
    }
}

pub fn read_vectors(name: &str) -> Vec<Record> {
    let text = std::fs::read_to_string(fixture(&format!("rncryptor-v3/{name}"))).unwrap();
    let mut records = Vec::new();
    let mut current = HashMap::new();
    for line in text.lines().chain(std::iter::once("")) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if !current.is_empty() {
                records.push(Record(std::mem::take(&mut current)));
            }
            continue;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let (field, value) = line.split_once(':').expect("a name: value line");
        current.insert(
            field.trim().to_owned(),
            value.trim_matches([' ', '\t']).to_owned(),
        );
    }
    records
}

/// Yields the given bytes in order, so salts and IVs can be pinned to a vector's values.
pub struct PinnedRng(pub Vec<u8>);

impl TryRng for PinnedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut bytes = [0; 4];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u32::from_le_bytes(bytes))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut bytes = [0; 8];
        self.try_fill_bytes(&mut bytes)?;
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert!(self.0.len() >= dst.len(), "pinned RNG ran out of bytes");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}

impl TryCryptoRng for PinnedRng {}

/// A PBKDF2 count small enough for tests that derive keys thousands of times; the real
/// 1,000,000-iteration path is tested in key_file.rs.
pub fn fast_iterations() -> arca_cryptor::Iterations {
    arca_cryptor::Iterations::new(1).unwrap()
}

/// Key-mode keys that differ with `seed`.
pub fn test_keys(seed: u8) -> arca_cryptor::CipherKeys {
    arca_cryptor::CipherKeys::new(
        arca_cryptor::EncryptionKey::from_slice(&[seed; 32]).unwrap(),
        arca_cryptor::HmacKey::from_slice(&[seed ^ 0xa5; 32]).unwrap(),
    )
}

/// `len` bytes of cheap deterministic noise (xorshift64*), so large cleartexts need no
/// per-byte strategy in proptest.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Encrypts `cleartext` in one write.
pub fn seal(credentials: arca_cryptor::Credentials<'_>, cleartext: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encryptor = arca_cryptor::Encryptor::new(credentials, Vec::new()).unwrap();
    encryptor.write_all(cleartext).unwrap();
    encryptor.finish().unwrap().0
}

/// What a [`RecordingSink`] saw, shared with the test after the sink is consumed.
#[derive(Default, Debug)]
pub struct SinkLog {
    /// Bytes handed to the sink before commit (unauthenticated until then).
    pub received: usize,
    /// Whether [`arca_cryptor::Sink::commit`] was called: the only way cleartext gets out.
    pub committed: bool,
}

/// A sink that records whether it was ever committed.
pub struct RecordingSink {
    buffer: Vec<u8>,
    log: std::rc::Rc<std::cell::RefCell<SinkLog>>,
}

impl RecordingSink {
    pub fn new() -> (Self, std::rc::Rc<std::cell::RefCell<SinkLog>>) {
        let log = std::rc::Rc::default();
        let sink = Self {
            buffer: Vec::new(),
            log: std::rc::Rc::clone(&log),
        };
        (sink, log)
    }
}

impl std::io::Write for RecordingSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.log.borrow_mut().received += data.len();
        self.buffer.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl arca_cryptor::Sink for RecordingSink {
    type Output = Vec<u8>;

    fn commit(self) -> std::io::Result<Vec<u8>> {
        self.log.borrow_mut().committed = true;
        Ok(self.buffer)
    }
}

/// Feeds `message` to a decryptor in pieces of the given lengths (cycled; 0 is read as 1), then
/// finishes it. The first error wins, whether from a piece or from the end.
pub fn open_in_pieces<S: arca_cryptor::Sink>(
    mut decryptor: arca_cryptor::Decryptor<'_, S>,
    message: &[u8],
    pieces: &[usize],
) -> Result<S::Output, arca_cryptor::Error> {
    let mut rest = message;
    let mut lengths = pieces.iter().copied().cycle();
    while !rest.is_empty() {
        let take = lengths.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(take);
        decryptor.update(piece)?;
        rest = tail;
    }
    decryptor.finish()
}
