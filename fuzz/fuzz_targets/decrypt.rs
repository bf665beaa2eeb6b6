//! Arbitrary bytes as an RNCryptor message, in key mode and in password mode: no panic, and the
//! outcome does not depend on how the bytes are split into `update` calls. Also a round trip of
//! the bytes as cleartext.
#![no_main]

use std::io::Write;

use arca_cryptor::{
    CipherKeys, CleartextBuffer, Credentials, Decryptor, EncryptionKey, Encryptor, HmacKey,
    Iterations, Password, decrypt,
};
use libfuzzer_sys::fuzz_target;

/// The outcome in a comparable form (the error types are not `PartialEq`).
fn outcome<T: AsRef<[u8]>>(result: Result<T, arca_cryptor::Error>) -> Result<Vec<u8>, String> {
    result
        .map(|cleartext| cleartext.as_ref().to_vec())
        .map_err(|error| error.to_string())
}

/// Decrypts `message` whole, then again fed in pieces of `piece` bytes, and checks both agree.
fn decrypt_both_ways(credentials: Credentials<'_>, message: &[u8], piece: usize) {
    let whole = outcome(decrypt(credentials, message, CleartextBuffer::new()));
    let mut decryptor = Decryptor::new(credentials, CleartextBuffer::new());
    let mut pieced = None;
    for chunk in message.chunks(piece) {
        if let Err(error) = decryptor.update(chunk) {
            pieced = Some(outcome::<Vec<u8>>(Err(error)));
            break;
        }
    }
    let pieced = pieced.unwrap_or_else(|| outcome(decryptor.finish()));
    assert_eq!(whole, pieced, "the outcome depends on the chunking");
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, message)) = data.split_first() else {
        return;
    };
    let piece = usize::from(first) + 1;
    let keys = CipherKeys::new(
        EncryptionKey::from_slice(&[0x11; 32]).unwrap(),
        HmacKey::from_slice(&[0x22; 32]).unwrap(),
    );
    let password = Password::new("fuzz".into());
    let fast = Iterations::new(1).unwrap();

    decrypt_both_ways(Credentials::Keys(&keys), message, piece);
    decrypt_both_ways(Credentials::Password(&password, fast), message, piece);

    let mut encryptor = Encryptor::new(Credentials::Keys(&keys), Vec::new()).unwrap();
    encryptor.write_all(message).unwrap();
    let (sealed, _) = encryptor.finish().unwrap();
    let opened = decrypt(
        Credentials::Keys(&keys),
        &sealed[..],
        CleartextBuffer::new(),
    )
    .unwrap();
    assert_eq!(&opened[..], message);
});
