//! The Cryptor's one error type.

use std::io;

use crate::format::Mode;

/// Everything that can go wrong in the Cryptor. Messages name the problem and never contain
/// secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The first byte is not 3: this is not an RNCryptor v3 message.
    #[error("not an RNCryptor v3 message: version byte is {0:#04x}, expected 0x03")]
    UnsupportedVersion(u8),
    /// The options byte is neither 0 (key-based) nor 1 (password-based).
    #[error("unsupported RNCryptor options byte {0:#04x} (expected 0x00 or 0x01)")]
    UnsupportedOptions(u8),
    /// The message ended before a header, one cipher block and the HMAC were complete.
    #[error("message is truncated: shorter than a header, one cipher block and the HMAC")]
    Truncated,
    /// The ciphertext between header and HMAC is not a whole number of AES blocks.
    #[error("message is malformed: ciphertext length is not a multiple of 16 bytes")]
    Misaligned,
    /// The HMAC did not match, or the padding was invalid. Deliberately one error: wrong key,
    /// wrong password and modified data are indistinguishable (no padding oracle).
    #[error("authentication failed: wrong password or key, or the data was modified")]
    Authentication,
    /// The message is authentic but is not the version of the data that was recorded for it:
    /// it was swapped with another message under the same keys, or rolled back.
    #[error("authentic data, but not the recorded version: it was replaced or rolled back")]
    UnexpectedTag,
    /// A key-based message was given a password, or the other way round.
    #[error("the message is {found} but {expected} was given")]
    ModeMismatch {
        /// What the credentials were for.
        expected: Mode,
        /// What the message header says.
        found: Mode,
    },
    /// RNCryptor forbids encrypting with an empty password.
    #[error("refusing to encrypt with an empty password")]
    EmptyPassword,
    /// A key was not 32 bytes long.
    #[error("a key must be 32 bytes long, got {found}")]
    InvalidKeyLength {
        /// The length given.
        found: usize,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The Safe Key File could not be opened: the password is wrong or the file is damaged.
    /// Deliberately one error: the two cannot be told apart.
    #[error("wrong password, or the key file is damaged")]
    KeyFileUnlock,
    /// The Recovery Key File could not be opened with a well-formed recovery key.
    #[error("wrong recovery key, or the recovery key file is damaged")]
    RecoveryKeyUnlock,
    /// The key file was written by a newer version of Arca.
    #[error(
        "the key file has payload version {found}, newer than this build supports ({supported}); \
         update Arca to open this Safe"
    )]
    NewerKeyFile {
        /// The version in the file.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// A recovery key as typed is not well-formed: a typo, not a wrong key.
    #[error("this is not a valid recovery key: {0}")]
    RecoveryKeyTypo(RecoveryKeyTypo),
    /// Reading or writing failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// What is wrong with a mistyped recovery key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecoveryKeyTypo {
    /// Too few or too many characters (spaces and dashes are not counted).
    #[error("it has {found} characters, a recovery key has {expected}")]
    Length {
        /// Characters given.
        found: usize,
        /// Characters expected.
        expected: usize,
    },
    /// A character that never appears in a recovery key.
    #[error("character {position} ('{character}') is not used in recovery keys")]
    Character {
        /// 1-based position among the significant characters.
        position: usize,
        /// The character.
        character: char,
    },
    /// All characters are valid but the checksum does not match: at least one is mistyped.
    #[error("the checksum does not match, so at least one character is mistyped")]
    Checksum,
}

impl From<Error> for io::Error {
    fn from(error: Error) -> Self {
        match error {
            Error::Io(inner) => inner,
            other => io::Error::new(io::ErrorKind::InvalidData, other),
        }
    }
}
