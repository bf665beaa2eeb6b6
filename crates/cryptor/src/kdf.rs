//! Password-based key derivation: PBKDF2-HMAC-SHA1, as RNCryptor v3 specifies.

use std::num::NonZeroU32;
use std::thread;

use sha1::Sha1;

use crate::format::{KEY_LEN, SALT_LEN, Salts};
use crate::secret::{CipherKeys, EncryptionKey, HmacKey, Password, SecretArray};

/// A PBKDF2 iteration count. Always explicit: no hidden global decides how slow a derivation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Iterations(NonZeroU32);

impl Iterations {
    /// RNCryptor's standard count (its spec and its test vectors).
    pub const RNCRYPTOR: Self = Self(NonZeroU32::new(10_000).unwrap());
    /// Arca's count for the Safe Key File and the Recovery Key File.
    pub const KEY_FILE: Self = Self(NonZeroU32::new(1_000_000).unwrap());

    /// The highest count a Safe or backup may ask for (about four seconds of derivation here):
    /// a manifest that names more is damaged or hostile, and would keep every unlock spinning.
    pub const CEILING: u32 = 20_000_000;

    /// An iteration count, or `None` for zero.
    pub fn new(count: u32) -> Option<Self> {
        NonZeroU32::new(count).map(Self)
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0.get()
    }
}

/// One PBKDF2-HMAC-SHA1 derivation of a 32-byte key.
pub(crate) fn derive_key(
    password: &Password,
    salt: &[u8; SALT_LEN],
    iterations: Iterations,
) -> SecretArray<KEY_LEN> {
    let mut key = SecretArray::<KEY_LEN>::zeroed();
    pbkdf2_sha1(
        password.as_bytes(),
        salt,
        iterations.get(),
        key.expose_mut(),
    );
    key
}

/// PBKDF2-HMAC-SHA1 over raw bytes: the one place the derivation happens.
pub(crate) fn pbkdf2_sha1(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, out);
}

/// Both keys of a password-based message. The two derivations are independent, so they run on
/// two threads and an unlock costs about one derivation.
pub(crate) fn derive_keys(
    password: &Password,
    salts: &Salts,
    iterations: Iterations,
) -> CipherKeys {
    let (encryption, hmac) = thread::scope(|scope| {
        let hmac_thread = thread::Builder::new()
            .name("pbkdf2-hmac-key".into())
            .spawn_scoped(scope, || derive_key(password, &salts.hmac, iterations));
        let encryption = derive_key(password, &salts.encryption, iterations);
        let hmac = match hmac_thread.map(|handle| handle.join()) {
            Ok(Ok(hmac)) => hmac,
            // No thread could be started (or it died): derive here instead; slower, same result.
            _ => derive_key(password, &salts.hmac, iterations),
        };
        (encryption, hmac)
    });
    CipherKeys::new(EncryptionKey(encryption), HmacKey(hmac))
}
