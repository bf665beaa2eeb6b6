//! The RNCryptor data format v3: constants and the header.
//!
//! `version (1) | options (1) | [encryption salt (8) | HMAC salt (8)] | IV (16) | ciphertext |
//! HMAC-SHA256 (32)`, where the ciphertext is AES-256-CBC with PKCS#7 padding and the HMAC covers
//! everything before it. Specification: `RNCryptor-Spec-v3.md` (RNCryptor/RNCryptor-Spec).

use std::fmt;

use crate::error::Error;

/// The format version this module reads and writes.
pub const VERSION: u8 = 3;
/// Options bit 0: the keys are derived from a password.
pub(crate) const OPTION_PASSWORD: u8 = 0x01;
/// PBKDF2 salt length (one for the encryption key, one for the HMAC key).
pub const SALT_LEN: usize = 8;
/// AES block and CBC IV length.
pub const BLOCK_LEN: usize = 16;
/// The IV length equals the block length in CBC mode.
pub const IV_LEN: usize = BLOCK_LEN;
/// AES-256 and HMAC-SHA256 key length.
pub const KEY_LEN: usize = 32;
/// HMAC-SHA256 tag length.
pub const HMAC_LEN: usize = 32;
/// Version + options + IV.
pub const KEY_HEADER_LEN: usize = 2 + IV_LEN;
/// Version + options + two salts + IV.
pub const PASSWORD_HEADER_LEN: usize = 2 + 2 * SALT_LEN + IV_LEN;

/// How a message's keys are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Options byte 0: the caller holds the encryption and HMAC keys.
    Keys,
    /// Options byte 1: both keys are derived from a password with PBKDF2.
    Password,
}

impl Mode {
    pub(crate) fn from_options(options: u8) -> Result<Self, Error> {
        match options {
            0 => Ok(Self::Keys),
            OPTION_PASSWORD => Ok(Self::Password),
            other => Err(Error::UnsupportedOptions(other)),
        }
    }

    pub(crate) fn options(self) -> u8 {
        match self {
            Self::Keys => 0,
            Self::Password => OPTION_PASSWORD,
        }
    }

    /// Length of the header in this mode.
    pub fn header_len(self) -> usize {
        match self {
            Self::Keys => KEY_HEADER_LEN,
            Self::Password => PASSWORD_HEADER_LEN,
        }
    }

    /// The shortest complete message: header, one padded block, HMAC.
    pub fn min_message_len(self) -> usize {
        self.header_len() + BLOCK_LEN + HMAC_LEN
    }

    /// The length of the message holding `cleartext_len` bytes: header, the cleartext padded
    /// to whole blocks (PKCS#7 always adds 1 to 16 bytes), HMAC.
    pub fn message_len(self, cleartext_len: u64) -> u64 {
        let blocks = cleartext_len / BLOCK_LEN as u64 + 1;
        self.header_len() as u64 + blocks * BLOCK_LEN as u64 + HMAC_LEN as u64
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Keys => "key-based",
            Self::Password => "password-based",
        })
    }
}

/// The salts of a password-based header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Salts {
    pub(crate) encryption: [u8; SALT_LEN],
    pub(crate) hmac: [u8; SALT_LEN],
}

/// A parsed header. Salts and IV are public values, not secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) salts: Option<Salts>,
    pub(crate) iv: [u8; IV_LEN],
}

impl Header {
    pub(crate) fn mode(&self) -> Mode {
        if self.salts.is_some() {
            Mode::Password
        } else {
            Mode::Keys
        }
    }

    /// The mode a header announces in its first two bytes, checked strictly.
    pub(crate) fn peek_mode(first_two: [u8; 2]) -> Result<Mode, Error> {
        if first_two[0] != VERSION {
            return Err(Error::UnsupportedVersion(first_two[0]));
        }
        Mode::from_options(first_two[1])
    }

    /// Parses exactly one complete header (its length given by [`Header::peek_mode`]).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let (&[version, options], rest) = bytes.split_first_chunk::<2>().ok_or(Error::Truncated)?;
        let mode = Self::peek_mode([version, options])?;
        if bytes.len() != mode.header_len() {
            return Err(Error::Truncated);
        }
        let (salts, rest) = match mode {
            Mode::Keys => (None, rest),
            Mode::Password => {
                let (encryption, rest) = rest
                    .split_first_chunk::<SALT_LEN>()
                    .ok_or(Error::Truncated)?;
                let (hmac, rest) = rest
                    .split_first_chunk::<SALT_LEN>()
                    .ok_or(Error::Truncated)?;
                (
                    Some(Salts {
                        encryption: *encryption,
                        hmac: *hmac,
                    }),
                    rest,
                )
            }
        };
        let iv: [u8; IV_LEN] = rest.try_into().map_err(|_| Error::Truncated)?;
        Ok(Self { salts, iv })
    }

    pub(crate) fn to_bytes(self) -> Vec<u8> {
        let mode = self.mode();
        let mut out = Vec::with_capacity(mode.header_len());
        out.push(VERSION);
        out.push(mode.options());
        if let Some(salts) = &self.salts {
            out.extend_from_slice(&salts.encryption);
            out.extend_from_slice(&salts.hmac);
        }
        out.extend_from_slice(&self.iv);
        out
    }
}

/// The HMAC-SHA256 tag that ends a message. Public (it is stored in the clear at the end of every
/// message); a Safe records it to detect a data file swapped for another or rolled back.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct HmacTag([u8; HMAC_LEN]);

impl HmacTag {
    /// Wraps 32 tag bytes.
    pub fn from_bytes(bytes: [u8; HMAC_LEN]) -> Self {
        Self(bytes)
    }

    /// Wraps a slice of 32 tag bytes, or `None` if the length is wrong.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The tag's bytes.
    pub fn as_bytes(&self) -> &[u8; HMAC_LEN] {
        &self.0
    }

    /// Compares in constant time.
    pub(crate) fn ct_eq(&self, other: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_slice().ct_eq(other).into()
    }
}

impl fmt::Debug for HmacTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacTag(")?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_in_both_modes() {
        let keys = Header {
            salts: None,
            iv: [7; IV_LEN],
        };
        let password = Header {
            salts: Some(Salts {
                encryption: [1; SALT_LEN],
                hmac: [2; SALT_LEN],
            }),
            iv: [3; IV_LEN],
        };
        for header in [keys, password] {
            let bytes = header.to_bytes();
            assert_eq!(bytes.len(), header.mode().header_len());
            assert_eq!(Header::parse(&bytes).unwrap(), header);
        }
    }

    #[test]
    fn message_lengths_at_block_boundaries() {
        for (cleartext, message) in [(0, 66), (1, 66), (15, 66), (16, 82), (17, 82)] {
            assert_eq!(Mode::Keys.message_len(cleartext), message, "{cleartext}");
        }
        assert_eq!(Mode::Password.message_len(0), 82);
    }

    #[test]
    fn strict_version_and_options() {
        assert!(matches!(
            Header::peek_mode([2, 0]),
            Err(Error::UnsupportedVersion(2))
        ));
        assert!(matches!(
            Header::peek_mode([3, 2]),
            Err(Error::UnsupportedOptions(2))
        ));
        assert!(matches!(Header::parse(&[3, 0, 1]), Err(Error::Truncated)));
    }
}
