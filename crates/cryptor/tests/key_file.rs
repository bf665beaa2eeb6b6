//! The Safe Key File and the Recovery Key File. One write and one read go through the real
//! 1,000,000-iteration derivation (the only test of this crate that pays for it, ≈ 0.2 s each);
//! the damage tests use a small count, since they test the file, not the KDF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::io::Write;

use arca_cryptor::{
    CleartextBuffer, Credentials, Encryptor, Error, Iterations, KEY_FILE_PAYLOAD_VERSION,
    KeyPurpose, Password, RecoveryKey, RecoveryKeyTypo, SafeKeys, decrypt,
};
use common::{PinnedRng, fast_iterations, noise, seal};
use uuid::Uuid;

const PASSWORD: &str = "the Safe Password, long enough";
const PAYLOAD_LEN: usize = 2 + 16 + 3 * 32;

fn password() -> Password {
    Password::new(PASSWORD.into())
}

fn safe_id() -> Uuid {
    Uuid::from_bytes([0x42; 16])
}

fn database_key(keys: &SafeKeys) -> String {
    keys.with_database_key(str::to_owned)
}

/// Both sets of keys open each other's data files and name the same database key.
fn assert_same_keys(a: &SafeKeys, b: &SafeKeys) {
    assert_eq!(a.safe_id(), b.safe_id());
    assert_eq!(database_key(a), database_key(b));
    let message = seal(a.data_credentials(), b"a data file");
    let opened = decrypt(b.data_credentials(), &message[..], CleartextBuffer::new()).unwrap();
    assert_eq!(&opened[..], b"a data file");
}

#[test]
fn real_iterations_write_then_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.rncryptor");
    let keys = SafeKeys::generate(safe_id()).unwrap();
    keys.write_key_file(&path, &password(), Iterations::KEY_FILE)
        .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "key file readable by others");
    }
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        1,
        "temp file left"
    );

    let read = SafeKeys::read_key_file(&path, &password(), Iterations::KEY_FILE).unwrap();
    assert_same_keys(&keys, &read);
    assert_eq!(Iterations::KEY_FILE.get(), 1_000_000);

    // The wrong password costs the same derivation and says only that it failed.
    let wrong = Password::new(format!("{PASSWORD}!"));
    assert!(matches!(
        SafeKeys::read_key_file(&path, &wrong, Iterations::KEY_FILE),
        Err(Error::KeyFileUnlock)
    ));
}

#[test]
fn a_key_file_is_a_plain_rncryptor_message_with_the_documented_payload() {
    let keys = SafeKeys::generate(safe_id()).unwrap();
    let sealed = keys.seal_key_file(&password(), fast_iterations()).unwrap();
    assert_eq!(sealed[..2], [3, 1], "RNCryptor v3, password-based");
    let payload = decrypt(
        Credentials::Password(&password(), fast_iterations()),
        &sealed[..],
        CleartextBuffer::new(),
    )
    .unwrap();
    assert_eq!(payload.len(), PAYLOAD_LEN);
    assert_eq!(payload[..2], KEY_FILE_PAYLOAD_VERSION.to_be_bytes());
    assert_eq!(&payload[2..18], safe_id().as_bytes());
    let hex: String = payload[82..].iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(database_key(&keys), format!("x'{hex}'"));
}

#[test]
fn every_damaged_byte_truncation_and_extension_is_a_failed_unlock() {
    let keys = SafeKeys::generate(safe_id()).unwrap();
    let sealed = keys.seal_key_file(&password(), fast_iterations()).unwrap();
    let unlock = |bytes: &[u8]| SafeKeys::open_key_file(bytes, &password(), fast_iterations());
    assert_same_keys(&keys, &unlock(&sealed).unwrap());
    for position in 0..sealed.len() {
        let mut damaged = sealed.clone();
        damaged[position] ^= 0x04;
        assert!(
            matches!(unlock(&damaged), Err(Error::KeyFileUnlock)),
            "byte {position}"
        );
    }
    for len in 0..sealed.len() {
        assert!(
            matches!(unlock(&sealed[..len]), Err(Error::KeyFileUnlock)),
            "cut to {len}"
        );
    }
    for extra in [1, 16, 32] {
        let mut longer = sealed.clone();
        longer.extend_from_slice(&noise(extra, 1));
        assert!(
            matches!(unlock(&longer), Err(Error::KeyFileUnlock)),
            "+{extra}"
        );
    }
    let other_count = Iterations::new(2).unwrap();
    assert!(matches!(
        SafeKeys::open_key_file(&sealed, &password(), other_count),
        Err(Error::KeyFileUnlock)
    ));
}

#[test]
fn damaged_files_on_disk_are_failed_unlocks_and_missing_ones_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.rncryptor");
    let read = || SafeKeys::read_key_file(&path, &password(), fast_iterations());
    assert!(matches!(read(), Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound));

    let keys = SafeKeys::generate(safe_id()).unwrap();
    keys.write_key_file(&path, &password(), fast_iterations())
        .unwrap();
    assert_same_keys(&keys, &read().unwrap());

    let mut bytes = fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x80;
    fs::write(&path, &bytes).unwrap();
    assert!(matches!(read(), Err(Error::KeyFileUnlock)));

    fs::write(&path, b"").unwrap();
    assert!(matches!(read(), Err(Error::KeyFileUnlock)));

    // Far larger than any key file: refused without reading it whole.
    fs::write(&path, noise(1024 * 1024, 2)).unwrap();
    assert!(matches!(read(), Err(Error::KeyFileUnlock)));
}

/// A well-sealed payload that is not a key payload: authentic, but still a damaged key file.
fn sealed_payload(payload: &[u8]) -> Vec<u8> {
    let mut encryptor = Encryptor::new(
        Credentials::Password(&password(), fast_iterations()),
        Vec::new(),
    )
    .unwrap();
    encryptor.write_all(payload).unwrap();
    encryptor.finish().unwrap().0
}

#[test]
fn payload_versions_and_lengths_are_checked() {
    let open = |payload: &[u8]| {
        SafeKeys::open_key_file(&sealed_payload(payload), &password(), fast_iterations())
    };
    let mut payload = vec![0u8; PAYLOAD_LEN];
    payload[..2].copy_from_slice(&KEY_FILE_PAYLOAD_VERSION.to_be_bytes());
    assert!(open(&payload).is_ok());

    let newer = KEY_FILE_PAYLOAD_VERSION + 1;
    payload[..2].copy_from_slice(&newer.to_be_bytes());
    assert!(matches!(
        open(&payload),
        Err(Error::NewerKeyFile { found, supported })
            if found == newer && supported == KEY_FILE_PAYLOAD_VERSION
    ));

    payload[..2].copy_from_slice(&0u16.to_be_bytes());
    assert!(matches!(open(&payload), Err(Error::KeyFileUnlock)));

    payload[..2].copy_from_slice(&KEY_FILE_PAYLOAD_VERSION.to_be_bytes());
    for len in [0, 1, 2, PAYLOAD_LEN - 1, PAYLOAD_LEN + 1] {
        let mut other = payload.clone();
        other.resize(len, 0);
        assert!(
            matches!(open(&other), Err(Error::KeyFileUnlock)),
            "payload of {len} bytes"
        );
    }
}

#[test]
fn recovery_file_round_trip_at_real_iterations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recovery.rncryptor");
    let keys = SafeKeys::generate(safe_id()).unwrap();
    let recovery_key = RecoveryKey::generate().unwrap();
    keys.write_recovery_file(&path, &recovery_key, Iterations::KEY_FILE)
        .unwrap();

    // What the user types back: lower case, spaces instead of dashes.
    let typed = recovery_key
        .expose_for_display()
        .to_lowercase()
        .replace('-', " ");
    let parsed = RecoveryKey::parse(&typed).unwrap();
    let read = SafeKeys::read_recovery_file(&path, &parsed, Iterations::KEY_FILE).unwrap();
    assert_same_keys(&keys, &read);
}

#[test]
fn a_mistyped_recovery_key_is_a_typo_and_a_wrong_one_a_failed_unlock() {
    let keys = SafeKeys::generate(safe_id()).unwrap();
    // Pinned, so the one substitution below is known to be caught (a 20-bit checksum misses
    // about one in a million substitutions of some other key).
    let recovery_key = RecoveryKey::generate_with_rng(&mut PinnedRng(noise(26, 77))).unwrap();
    let sealed = keys
        .seal_recovery_file(&recovery_key, fast_iterations())
        .unwrap();
    let canonical = recovery_key.expose_for_display().to_owned();

    // One character changed to another valid symbol: caught by the checksum, never tried.
    let mut typo: Vec<char> = canonical.chars().collect();
    typo[7] = if typo[7] == '7' { '8' } else { '7' };
    let typo: String = typo.into_iter().collect();
    assert!(matches!(
        RecoveryKey::parse(&typo),
        Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Checksum))
    ));
    assert!(matches!(
        RecoveryKey::parse(&canonical[..canonical.len() - 1]),
        Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Length {
            found: 29,
            expected: 30
        }))
    ));
    let mut unknown = canonical.clone();
    unknown.replace_range(0..1, "U");
    assert!(matches!(
        RecoveryKey::parse(&unknown),
        Err(Error::RecoveryKeyTypo(RecoveryKeyTypo::Character {
            position: 1,
            character: 'U'
        }))
    ));

    // A well-formed key that is not this file's.
    let other = RecoveryKey::generate().unwrap();
    assert!(matches!(
        SafeKeys::open_recovery_file(&sealed, &other, fast_iterations()),
        Err(Error::RecoveryKeyUnlock)
    ));
    let mut damaged = sealed.clone();
    damaged[40] ^= 1;
    assert!(matches!(
        SafeKeys::open_recovery_file(&damaged, &recovery_key, fast_iterations()),
        Err(Error::RecoveryKeyUnlock)
    ));
    // The Safe Password does not open the recovery file, nor the recovery key the key file.
    assert!(matches!(
        SafeKeys::open_key_file(&sealed, &password(), fast_iterations()),
        Err(Error::KeyFileUnlock)
    ));
    let opened = SafeKeys::open_recovery_file(&sealed, &recovery_key, fast_iterations()).unwrap();
    assert_same_keys(&keys, &opened);
}

#[test]
fn derived_keys_are_separate_from_the_data_keys_and_stable() {
    let keys = SafeKeys::generate(safe_id()).unwrap();
    let records = keys.derived_keys(KeyPurpose::BackupRecords);
    let record = seal(Credentials::Keys(&records), b"a backup record");
    // A record never opens as a data file, nor a data file as a record.
    assert!(matches!(
        decrypt(keys.data_credentials(), &record[..], CleartextBuffer::new()),
        Err(Error::Authentication)
    ));
    let data_file = seal(keys.data_credentials(), b"a data file");
    assert!(matches!(
        decrypt(
            Credentials::Keys(&records),
            &data_file[..],
            CleartextBuffer::new()
        ),
        Err(Error::Authentication)
    ));
    // The same keys derive the same record keys (a backup opens after an unlock).
    let again = keys.derived_keys(KeyPurpose::BackupRecords);
    let opened = decrypt(
        Credentials::Keys(&again),
        &record[..],
        CleartextBuffer::new(),
    )
    .unwrap();
    assert_eq!(&opened[..], b"a backup record");
}
