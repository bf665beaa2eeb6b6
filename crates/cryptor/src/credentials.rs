//! What a message is sealed or opened with.

use rand_core::TryCryptoRng;

use crate::error::Error;
use crate::format::{Header, Mode, Salts};
use crate::kdf::{self, Iterations};
use crate::secret::{CipherKeys, Password};

/// The secret a message is encrypted or decrypted with.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    /// Key-based messages (options byte 0).
    Keys(&'a CipherKeys),
    /// Password-based messages (options byte 1), with the PBKDF2 iteration count to use.
    Password(&'a Password, Iterations),
}

/// Keys either borrowed from the caller or derived from a password for this one message.
pub(crate) enum MessageKeys<'a> {
    Borrowed(&'a CipherKeys),
    Derived(CipherKeys),
}

impl MessageKeys<'_> {
    pub(crate) fn get(&self) -> &CipherKeys {
        match self {
            Self::Borrowed(keys) => keys,
            Self::Derived(keys) => keys,
        }
    }
}

impl<'a> Credentials<'a> {
    pub(crate) fn mode(&self) -> Mode {
        match self {
            Self::Keys(_) => Mode::Keys,
            Self::Password(..) => Mode::Password,
        }
    }

    /// A fresh header (random salts and IV) and the keys to seal the message with.
    pub(crate) fn new_header<R: TryCryptoRng + ?Sized>(
        self,
        rng: &mut R,
    ) -> Result<(Header, MessageKeys<'a>), Error> {
        let mut iv = [0u8; crate::format::IV_LEN];
        match self {
            Self::Keys(keys) => {
                rng.try_fill_bytes(&mut iv).map_err(|_| Error::Random)?;
                Ok((Header { salts: None, iv }, MessageKeys::Borrowed(keys)))
            }
            Self::Password(password, iterations) => {
                if password.is_empty() {
                    return Err(Error::EmptyPassword);
                }
                let mut salts = Salts {
                    encryption: [0; 8],
                    hmac: [0; 8],
                };
                // The order salts-then-IV is what the RNCryptor vectors' fixed bytes assume.
                rng.try_fill_bytes(&mut salts.encryption)
                    .map_err(|_| Error::Random)?;
                rng.try_fill_bytes(&mut salts.hmac)
                    .map_err(|_| Error::Random)?;
                rng.try_fill_bytes(&mut iv).map_err(|_| Error::Random)?;
                let keys = kdf::derive_keys(password, &salts, iterations);
                Ok((
                    Header {
                        salts: Some(salts),
                        iv,
                    },
                    MessageKeys::Derived(keys),
                ))
            }
        }
    }

    /// The keys to open a message with the given header.
    pub(crate) fn keys_for(self, header: &Header) -> Result<MessageKeys<'a>, Error> {
        match (self, &header.salts) {
            (Self::Keys(keys), None) => Ok(MessageKeys::Borrowed(keys)),
            (Self::Password(password, iterations), Some(salts)) => Ok(MessageKeys::Derived(
                kdf::derive_keys(password, salts, iterations),
            )),
            (credentials, _) => Err(Error::ModeMismatch {
                expected: credentials.mode(),
                found: header.mode(),
            }),
        }
    }
}
