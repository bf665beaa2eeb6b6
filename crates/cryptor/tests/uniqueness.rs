//! Fresh randomness for every message: no IV repeats across 100,000 key-based messages, and no
//! salt (nor IV) repeats across password-based ones. A repeated IV under the same keys would
//! leak whether two files start alike; a repeated salt would reuse derived keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use arca_cryptor::format::{IV_LEN, SALT_LEN};
use arca_cryptor::{Credentials, Encryptor, Password};
use common::{fast_iterations, test_keys};

fn header_of(credentials: Credentials<'_>) -> Vec<u8> {
    let encryptor = Encryptor::new(credentials, Vec::new()).unwrap();
    encryptor.finish().unwrap().0
}

#[test]
fn no_repeated_iv_in_100_000_key_based_messages() {
    const RUNS: usize = 100_000;
    let keys = test_keys(1);
    let mut ivs = HashSet::with_capacity(RUNS);
    for _ in 0..RUNS {
        let message = header_of(Credentials::Keys(&keys));
        let iv: [u8; IV_LEN] = message[2..2 + IV_LEN].try_into().unwrap();
        assert!(ivs.insert(iv), "IV repeated after {} messages", ivs.len());
    }
    // Not a constant or a counter in disguise: the bytes vary in every position.
    for position in 0..IV_LEN {
        let seen: HashSet<u8> = ivs.iter().take(1000).map(|iv| iv[position]).collect();
        assert!(seen.len() > 200, "IV byte {position} barely varies");
    }
}

#[test]
fn no_repeated_salt_or_iv_in_password_based_messages() {
    // Each message derives two keys (one iteration each, on two threads): a few thousand runs
    // take well under a second and would show any salt reuse between or within messages.
    const RUNS: usize = 5_000;
    let password = Password::new("salt shaker".into());
    let credentials = Credentials::Password(&password, fast_iterations());
    let mut salts = HashSet::with_capacity(2 * RUNS);
    let mut ivs = HashSet::with_capacity(RUNS);
    for run in 0..RUNS {
        let message = header_of(credentials);
        let (encryption, rest) = message[2..].split_at(SALT_LEN);
        let (hmac, rest) = rest.split_at(SALT_LEN);
        let encryption: [u8; SALT_LEN] = encryption.try_into().unwrap();
        let hmac: [u8; SALT_LEN] = hmac.try_into().unwrap();
        assert!(
            salts.insert(encryption),
            "encryption salt repeated in run {run}"
        );
        assert!(salts.insert(hmac), "HMAC salt repeated in run {run}");
        let iv: [u8; IV_LEN] = rest[..IV_LEN].try_into().unwrap();
        assert!(ivs.insert(iv), "IV repeated in run {run}");
    }
}
