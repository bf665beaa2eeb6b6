//! Shared by the Cryptor's integration tests: the vector-file reader and a pinned RNG.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;

use rand_core::{TryCryptoRng, TryRng};

pub fn fixture(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(relative)
}

/// One record of an RNCryptor vector file (see fixtures/rncryptor-v3/README.md).
pub struct Record(HashMap<String, String>);

impl Record {
    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).unwrap_or_else(|| panic!("record has no field {name}"))
    }

    pub fn hex(&self, name: &str) -> Vec<u8> {
        let compact: String = self.text(name).chars().filter(|c| !c.is_whitespace()).collect();
        hex::decode(compact).unwrap_or_else(|e| panic!("{name} is not hex: {e}"))
    }

    pub fn hex_array<const N: usize>(&self, name: &str) -> [u8; N] {
        self.hex(name).try_into().unwrap_or_else(|_| panic!("{name} is not {N} bytes"))
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
        current.insert(field.trim().to_owned(), value.trim_matches([' ', '\t']).to_owned());
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
