//! The official RNCryptor v3 vectors (fixtures/rncryptor-v3), in both directions: the pinned
//! salts and IV reproduce `ciphertext_hex` byte for byte, and decrypting it gives the plaintext.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use arca_cryptor::{
    CipherKeys, CleartextBuffer, Credentials, EncryptionKey, Encryptor, HmacKey, Iterations,
    Password, decrypt, hazmat,
};
use common::{PinnedRng, read_vectors};

fn encrypt_pinned(credentials: Credentials<'_>, pinned: Vec<u8>, plaintext: &[u8]) -> Vec<u8> {
    let mut encryptor =
        Encryptor::with_rng(credentials, Vec::new(), &mut PinnedRng(pinned)).unwrap();
    encryptor.write_all(plaintext).unwrap();
    encryptor.finish().unwrap().0
}

#[test]
fn kdf_vectors() {
    let records = read_vectors("kdf");
    assert_eq!(records.len(), 6);
    for record in &records {
        let mut key = [0u8; 32];
        let salt = record.hex("salt_hex");
        hazmat::pbkdf2_sha1(record.text("password").as_bytes(), &salt, 10_000, &mut key);
        assert_eq!(key.to_vec(), record.hex("key_hex"), "{}", record.title());
    }
}

#[test]
fn key_based_vectors_both_directions() {
    let records = read_vectors("key");
    assert_eq!(records.len(), 4);
    for record in &records {
        let keys = CipherKeys::new(
            EncryptionKey::from_slice(&record.hex("enc_key_hex")).unwrap(),
            HmacKey::from_slice(&record.hex("hmac_key_hex")).unwrap(),
        );
        let credentials = Credentials::Keys(&keys);
        let plaintext = record.hex("plaintext_hex");
        let expected = record.hex("ciphertext_hex");
        let message = encrypt_pinned(credentials, record.hex("iv_hex"), &plaintext);
        assert_eq!(message, expected, "encrypt: {}", record.title());
        let cleartext = decrypt(credentials, &expected[..], CleartextBuffer::new()).unwrap();
        assert_eq!(
            &cleartext[..],
            &plaintext[..],
            "decrypt: {}",
            record.title()
        );
    }
}

#[test]
fn password_based_vectors_both_directions() {
    let records = read_vectors("password");
    assert_eq!(records.len(), 6);
    for record in &records {
        let password = Password::new(record.text("password").to_owned());
        let credentials = Credentials::Password(&password, Iterations::RNCRYPTOR);
        let plaintext = record.hex("plaintext_hex");
        let expected = record.hex("ciphertext_hex");
        let mut pinned = record.hex("enc_salt_hex");
        pinned.extend(record.hex("hmac_salt_hex"));
        pinned.extend(record.hex("iv_hex"));
        let message = encrypt_pinned(credentials, pinned, &plaintext);
        assert_eq!(message, expected, "encrypt: {}", record.title());
        let cleartext = decrypt(credentials, &expected[..], CleartextBuffer::new()).unwrap();
        assert_eq!(
            &cleartext[..],
            &plaintext[..],
            "decrypt: {}",
            record.title()
        );
    }
}
