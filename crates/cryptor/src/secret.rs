//! Secret byte strings and passwords: zeroized on drop, redacted in `Debug`, never `Clone`.

use std::fmt;

use rand_core::TryCryptoRng;
use zeroize::Zeroize;

use crate::error::Error;
use crate::format::KEY_LEN;

/// Fixed-size secret bytes on the heap, so moving the owner never leaves copies on the stack.
pub(crate) struct SecretArray<const N: usize>(Box<[u8; N]>);

impl<const N: usize> SecretArray<N> {
    pub(crate) fn zeroed() -> Self {
        Self(Box::new([0u8; N]))
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != N {
            return None;
        }
        let mut secret = Self::zeroed();
        secret.0.copy_from_slice(bytes);
        Some(secret)
    }

    /// From a slice known to be `N` bytes long (a sub-slice of a fixed-size secret).
    pub(crate) fn from_array(bytes: &[u8]) -> Self {
        let mut secret = Self::zeroed();
        secret.0.copy_from_slice(&bytes[..N]);
        secret
    }

    pub(crate) fn random<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        let mut secret = Self::zeroed();
        rng.try_fill_bytes(&mut secret.0[..])
            .map_err(|_| Error::Random)?;
        Ok(secret)
    }

    pub(crate) fn expose(&self) -> &[u8; N] {
        &self.0
    }

    pub(crate) fn expose_mut(&mut self) -> &mut [u8; N] {
        &mut self.0
    }
}

impl<const N: usize> Drop for SecretArray<N> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<const N: usize> fmt::Debug for SecretArray<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{N} secret bytes]")
    }
}

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(pub(crate) SecretArray<KEY_LEN>);

        impl $name {
            /// Takes a copy of 32 key bytes; the caller should zeroize its own copy.
            ///
            /// # Errors
            /// [`Error::InvalidKeyLength`] unless `bytes` is exactly 32 bytes long.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
                SecretArray::from_slice(bytes)
                    .map(Self)
                    .ok_or(Error::InvalidKeyLength { found: bytes.len() })
            }

            pub(crate) fn random<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
                SecretArray::random(rng).map(Self)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(redacted)"))
            }
        }
    };
}

secret_key!(
    /// The 256-bit AES key of key-based RNCryptor messages.
    EncryptionKey
);
secret_key!(
    /// The 256-bit HMAC-SHA256 key of key-based RNCryptor messages.
    HmacKey
);

/// An encryption key and an HMAC key: what key-based messages (options byte 0) are sealed with.
#[derive(Debug)]
pub struct CipherKeys {
    pub(crate) encryption: EncryptionKey,
    pub(crate) hmac: HmacKey,
}

impl CipherKeys {
    /// Pairs an encryption key with an HMAC key.
    pub fn new(encryption: EncryptionKey, hmac: HmacKey) -> Self {
        Self { encryption, hmac }
    }

    pub(crate) fn random<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, Error> {
        Ok(Self::new(
            EncryptionKey::random(rng)?,
            HmacKey::random(rng)?,
        ))
    }
}

/// A password, kept as the UTF-8 text the user typed: no trimming, no Unicode normalisation,
/// because RNCryptor derives keys from exactly these bytes.
pub struct Password(String);

impl Password {
    /// Takes ownership of the text so no unzeroized copy is left behind.
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// Whether the password is the empty string (which RNCryptor refuses to encrypt with).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The text itself, for the one place that needs it: a strength estimate shown to the user.
    pub fn expose_for_strength_meter(&self) -> &str {
        &self.0
    }
}

impl From<String> for Password {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl Drop for Password {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_prints_no_secret() {
        let key = EncryptionKey::from_slice(&[0xAB; 32]).unwrap();
        let password = Password::new("hunter2-correct-horse".into());
        let printed = format!(
            "{key:?} {password:?} {:?}",
            SecretArray::<4>::from_slice(b"abcd")
        );
        assert!(!printed.to_lowercase().contains("ab, ab") && !printed.contains("171"));
        assert!(!printed.contains("hunter2"));
        assert!(!printed.contains("abcd"));
    }

    #[test]
    fn key_length_is_checked() {
        assert!(matches!(
            HmacKey::from_slice(&[0; 31]),
            Err(Error::InvalidKeyLength { found: 31 })
        ));
    }
}
