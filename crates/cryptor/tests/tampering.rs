//! Attacks on messages: every single-byte change, every truncation and appended garbage are
//! rejected with the error that names them, and the sink is never committed, so no cleartext of
//! a forged message can be used. Wrong credentials and unknown headers get their typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use arca_cryptor::format::{HMAC_LEN, KEY_HEADER_LEN};
use arca_cryptor::{
    AtomicFile, CipherKeys, CleartextBuffer, Credentials, Decryptor, EncryptionKey, Encryptor,
    Error, HmacKey, Mode, Password, decrypt,
};
use common::{RecordingSink, fast_iterations, noise, open_in_pieces, seal, test_keys};

const SIZES: [usize; 5] = [0, 1, 16, 100, 4096];
const KEY_SEED: u8 = 11;
const PASSWORD: &str = "tamper-proof passphrase";

/// Opens `message` into a recording sink; returns the outcome and whether anything was committed.
fn open(
    credentials: Credentials<'_>,
    message: &[u8],
    feed: &[usize],
) -> (Result<Vec<u8>, Error>, bool) {
    let (sink, log) = RecordingSink::new();
    let result = open_in_pieces(Decryptor::new(credentials, sink), message, feed);
    let committed = log.borrow().committed;
    (result, committed)
}

/// Asserts `message` is rejected with an error `expected` accepts, and nothing was committed.
fn assert_rejected(
    credentials: Credentials<'_>,
    message: &[u8],
    feed: &[usize],
    what: &str,
    expected: impl Fn(&Error) -> bool,
) {
    let (result, committed) = open(credentials, message, feed);
    match result {
        Err(error) if expected(&error) => {}
        Err(error) => panic!("{what}: wrong error {error:?}"),
        Ok(cleartext) => panic!("{what}: accepted, {} bytes released", cleartext.len()),
    }
    assert!(!committed, "{what}: sink committed");
}

fn both_modes(
    password: &Password,
    keys: &CipherKeys,
    mut check: impl FnMut(Credentials<'_>, Mode),
) {
    check(Credentials::Keys(keys), Mode::Keys);
    check(
        Credentials::Password(password, fast_iterations()),
        Mode::Password,
    );
}

/// What a changed options byte means: the other mode, or no mode at all.
fn options_error(options: u8, mode: Mode) -> impl Fn(&Error) -> bool {
    move |error| match (options, error) {
        (0 | 1, Error::ModeMismatch { expected, found }) => *expected == mode && *found != mode,
        (_, Error::UnsupportedOptions(found)) => *found == options,
        _ => false,
    }
}

#[test]
fn every_single_byte_change_is_rejected() {
    let password = Password::new(PASSWORD.into());
    let keys = test_keys(KEY_SEED);
    both_modes(&password, &keys, |credentials, mode| {
        for size in SIZES {
            let message = seal(credentials, &noise(size, size as u64));
            for position in 0..message.len() {
                for flip in [0x01, 1u8 << (position % 8), 0xff] {
                    let mut forged = message.clone();
                    forged[position] ^= flip;
                    let what = format!("{mode}, {size} bytes, byte {position} ^ {flip:#04x}");
                    let feed = [1 + position % 23];
                    match position {
                        0 => assert_rejected(
                            credentials,
                            &forged,
                            &feed,
                            &what,
                            |e| matches!(e, Error::UnsupportedVersion(v) if *v == forged[0]),
                        ),
                        1 => assert_rejected(
                            credentials,
                            &forged,
                            &feed,
                            &what,
                            options_error(forged[1], mode),
                        ),
                        _ => assert_rejected(credentials, &forged, &feed, &what, |e| {
                            matches!(e, Error::Authentication)
                        }),
                    }
                }
            }
        }
    });
}

#[test]
fn changed_bytes_never_reach_an_atomic_file() {
    let keys = test_keys(KEY_SEED);
    let credentials = Credentials::Keys(&keys);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cleartext.bin");
    let message = seal(credentials, &noise(100, 1));
    for position in 0..message.len() {
        let mut forged = message.clone();
        forged[position] ^= 0x20;
        let sink = AtomicFile::create_private(&path).unwrap();
        assert!(
            decrypt(credentials, &forged[..], sink).is_err(),
            "byte {position}"
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "byte {position}"
        );
    }
    decrypt(
        credentials,
        &message[..],
        AtomicFile::create_private(&path).unwrap(),
    )
    .unwrap();
    assert_eq!(fs::read(&path).unwrap(), noise(100, 1));
}

/// Past 64 KiB the decryptor hands unauthenticated cleartext to the sink as it streams; a
/// change anywhere, even in the last byte of the tag, must still leave it uncommitted.
#[test]
fn large_messages_stream_into_the_sink_but_never_commit_when_changed() {
    let keys = test_keys(KEY_SEED);
    let credentials = Credentials::Keys(&keys);
    let message = seal(credentials, &noise(300 * 1024, 5));
    let len = message.len();
    for position in [
        KEY_HEADER_LEN,
        KEY_HEADER_LEN + 70_000,
        len - HMAC_LEN - 1,
        len - 1,
    ] {
        let mut forged = message.clone();
        forged[position] ^= 0x01;
        let (sink, log) = RecordingSink::new();
        let result = open_in_pieces(Decryptor::new(credentials, sink), &forged, &[4096]);
        assert!(
            matches!(result, Err(Error::Authentication)),
            "byte {position}"
        );
        let log = log.borrow();
        assert!(log.received > 0, "the test should exercise streaming");
        assert!(!log.committed, "byte {position}: committed");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        let sink = AtomicFile::create_private(&path).unwrap();
        assert!(decrypt(credentials, &forged[..], sink).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

/// The error a message cut to `len` bytes must give.
fn truncation_error(mode: Mode, len: usize) -> impl Fn(&Error) -> bool {
    move |error| {
        let body = len.saturating_sub(mode.header_len());
        if len < mode.header_len() || body < 16 + HMAC_LEN {
            matches!(error, Error::Truncated)
        } else if !(body - HMAC_LEN).is_multiple_of(16) {
            matches!(error, Error::Misaligned)
        } else {
            matches!(error, Error::Authentication)
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    let password = Password::new(PASSWORD.into());
    let keys = test_keys(KEY_SEED);
    both_modes(&password, &keys, |credentials, mode| {
        for size in SIZES {
            let message = seal(credentials, &noise(size, 3));
            for len in 0..message.len() {
                let what = format!("{mode}, {size} bytes cut to {len}");
                let feed = [1 + len % 19];
                assert_rejected(
                    credentials,
                    &message[..len],
                    &feed,
                    &what,
                    truncation_error(mode, len),
                );
            }
        }
    });
}

#[test]
fn appended_bytes_are_rejected() {
    let password = Password::new(PASSWORD.into());
    let keys = test_keys(KEY_SEED);
    both_modes(&password, &keys, |credentials, mode| {
        for size in SIZES {
            let message = seal(credentials, &noise(size, 4));
            for extra in 1..=64usize {
                let mut longer = message.clone();
                longer.extend_from_slice(&noise(extra, extra as u64));
                let what = format!("{mode}, {size} bytes + {extra}");
                assert_rejected(credentials, &longer, &[4096], &what, |e| {
                    if extra.is_multiple_of(16) {
                        matches!(e, Error::Authentication)
                    } else {
                        matches!(e, Error::Misaligned)
                    }
                });
            }
            // A second copy of the tag: the old tag now authenticates nothing.
            let mut doubled = message.clone();
            doubled.extend_from_slice(&message[message.len() - HMAC_LEN..]);
            assert_rejected(credentials, &doubled, &[4096], "tag twice", |e| {
                matches!(e, Error::Authentication)
            });
        }
    });
}

#[test]
fn wrong_password_is_an_authentication_failure() {
    let password = Password::new(PASSWORD.into());
    let message = seal(
        Credentials::Password(&password, fast_iterations()),
        b"secret",
    );
    for wrong in ["tamper-proof passphrasE", "", "tamper-proof passphrase "] {
        let wrong = Password::new(wrong.into());
        assert_rejected(
            Credentials::Password(&wrong, fast_iterations()),
            &message,
            &[64],
            "wrong password",
            |e| matches!(e, Error::Authentication),
        );
    }
    // The right password with another iteration count derives other keys.
    assert_rejected(
        Credentials::Password(&password, arca_cryptor::Iterations::new(2).unwrap()),
        &message,
        &[64],
        "wrong iteration count",
        |e| matches!(e, Error::Authentication),
    );
}

fn keys_from(encryption: [u8; 32], hmac: [u8; 32]) -> CipherKeys {
    CipherKeys::new(
        EncryptionKey::from_slice(&encryption).unwrap(),
        HmacKey::from_slice(&hmac).unwrap(),
    )
}

#[test]
fn wrong_or_swapped_keys_are_an_authentication_failure() {
    let (encryption, hmac) = ([0x11; 32], [0x22; 32]);
    let right = keys_from(encryption, hmac);
    let message = seal(Credentials::Keys(&right), &noise(100, 8));
    let mut other = [0x11; 32];
    other[31] = 0x12;
    let candidates = [
        ("both keys wrong", keys_from([0x33; 32], [0x44; 32])),
        ("HMAC key wrong", keys_from(encryption, other)),
        ("keys swapped", keys_from(hmac, encryption)),
    ];
    for (what, keys) in &candidates {
        assert_rejected(Credentials::Keys(keys), &message, &[64], what, |e| {
            matches!(e, Error::Authentication)
        });
    }
}

#[test]
fn unknown_versions_are_named() {
    let keys = test_keys(KEY_SEED);
    let credentials = Credentials::Keys(&keys);
    let message = seal(credentials, b"v3");
    for version in (0..=u8::MAX).filter(|&v| v != 3) {
        let mut other = message.clone();
        other[0] = version;
        assert_rejected(
            credentials,
            &other,
            &[1],
            "version",
            |e| matches!(e, Error::UnsupportedVersion(v) if *v == version),
        );
    }
    // Too short to know the version yet: that is a truncation, not a version error.
    assert_rejected(credentials, &[3], &[1], "one byte", |e| {
        matches!(e, Error::Truncated)
    });
    assert_rejected(credentials, &[], &[1], "empty", |e| {
        matches!(e, Error::Truncated)
    });
}

#[test]
fn unknown_options_are_named() {
    let password = Password::new(PASSWORD.into());
    let keys = test_keys(KEY_SEED);
    both_modes(&password, &keys, |credentials, mode| {
        let message = seal(credentials, b"options");
        for options in 2..=u8::MAX {
            let mut other = message.clone();
            other[1] = options;
            assert_rejected(
                credentials,
                &other,
                &[2],
                &format!("{mode}"),
                |e| matches!(e, Error::UnsupportedOptions(o) if *o == options),
            );
        }
    });
}

#[test]
fn credentials_of_the_other_mode_are_named() {
    let password = Password::new(PASSWORD.into());
    let keys = test_keys(KEY_SEED);
    let by_key = seal(Credentials::Keys(&keys), b"k");
    let by_password = seal(Credentials::Password(&password, fast_iterations()), b"p");
    assert_rejected(
        Credentials::Password(&password, fast_iterations()),
        &by_key,
        &[64],
        "key message, password given",
        |e| {
            matches!(
                e,
                Error::ModeMismatch {
                    expected: Mode::Password,
                    found: Mode::Keys
                }
            )
        },
    );
    assert_rejected(
        Credentials::Keys(&keys),
        &by_password,
        &[64],
        "password message, keys given",
        |e| {
            matches!(
                e,
                Error::ModeMismatch {
                    expected: Mode::Keys,
                    found: Mode::Password
                }
            )
        },
    );
}

#[test]
fn an_empty_password_is_refused_for_encryption() {
    let empty = Password::new(String::new());
    let result = Encryptor::new(Credentials::Password(&empty, fast_iterations()), Vec::new());
    assert!(matches!(result, Err(Error::EmptyPassword)));
}

/// A message swapped for another sealed with the same keys, or rolled back to an older version,
/// is authentic; only the recorded tag tells it apart.
#[test]
fn swapped_or_rolled_back_messages_fail_the_recorded_tag() {
    let keys = test_keys(KEY_SEED);
    let credentials = Credentials::Keys(&keys);
    let old = seal(credentials, b"version 1");
    let new = seal(credentials, b"version 2");
    let new_tag = arca_cryptor::HmacTag::from_slice(&new[new.len() - HMAC_LEN..]).unwrap();
    for (what, message) in [
        ("rolled back", &old),
        ("same cleartext, new IV", &seal(credentials, b"version 2")),
    ] {
        let (sink, log) = RecordingSink::new();
        let decryptor = Decryptor::new(credentials, sink).expecting_tag(new_tag);
        let result = open_in_pieces(decryptor, message, &[7]);
        assert!(matches!(result, Err(Error::UnexpectedTag)), "{what}");
        assert!(!log.borrow().committed, "{what}");
    }
    let decryptor = Decryptor::new(credentials, CleartextBuffer::new()).expecting_tag(new_tag);
    assert_eq!(
        &open_in_pieces(decryptor, &new, &[7]).unwrap()[..],
        b"version 2"
    );
}
