//! Arbitrary bytes as a Safe Key File, and as the authenticated payload inside one (the fuzzer
//! cannot forge the HMAC, so the payload parser is reached by sealing the bytes first).
#![no_main]

use std::io::Write;

use arca_cryptor::{
    Credentials, Encryptor, Error, Iterations, KEY_FILE_PAYLOAD_VERSION, Password, SafeKeys,
};
use libfuzzer_sys::fuzz_target;

/// Version (2) + Safe UUID (16) + three 32-byte keys.
const PAYLOAD_LEN: usize = 2 + 16 + 3 * 32;

fuzz_target!(|data: &[u8]| {
    let password = Password::new("fuzz".into());
    let fast = Iterations::new(1).unwrap();

    // Raw bytes: never a panic, never anything but a failed unlock.
    match SafeKeys::open_key_file(data, &password, fast) {
        Err(Error::KeyFileUnlock) => {}
        Err(other) => panic!("unexpected error for raw bytes: {other:?}"),
        Ok(_) => panic!("forged key file accepted"),
    }

    // The bytes as an authentic payload: accepted exactly when they are a valid payload.
    let mut encryptor = Encryptor::new(Credentials::Password(&password, fast), Vec::new()).unwrap();
    encryptor.write_all(data).unwrap();
    let (sealed, _) = encryptor.finish().unwrap();
    let version = data.get(..2).map(|v| u16::from_be_bytes([v[0], v[1]]));
    match (SafeKeys::open_key_file(&sealed, &password, fast), version) {
        (Ok(keys), Some(KEY_FILE_PAYLOAD_VERSION)) if data.len() == PAYLOAD_LEN => {
            assert_eq!(keys.safe_id().as_bytes()[..], data[2..18]);
        }
        (Err(Error::NewerKeyFile { found, .. }), Some(v)) if v > KEY_FILE_PAYLOAD_VERSION => {
            assert_eq!(found, v);
        }
        (Err(Error::KeyFileUnlock), v)
            if matches!(v, None | Some(0))
                || (v == Some(KEY_FILE_PAYLOAD_VERSION) && data.len() != PAYLOAD_LEN) => {}
        (result, _) => panic!(
            "payload of {} bytes, version {version:?}: {:?}",
            data.len(),
            result.map(|_| "keys")
        ),
    }
});
