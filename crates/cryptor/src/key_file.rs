//! The Safe Key File and the Recovery Key File, and the unlocked keys they hold.
//!
//! Both files are plain RNCryptor v3 password-based messages (so any RNCryptor implementation
//! can open them, given the iteration count from `safe.json`). Their cleartext payload, big-endian:
//!
//! | bytes   | field |
//! |---------|-------|
//! | 0..2    | payload version (1) |
//! | 2..18   | Safe UUID |
//! | 18..50  | file data AES-256 key |
//! | 50..82  | file data HMAC-SHA256 key |
//! | 82..114 | database key (SQLCipher raw key) |

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use getrandom::SysRng;
use rand_core::TryCryptoRng;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::credentials::Credentials;
use crate::decrypt::decrypt;
use crate::durable::write_atomically_private;
use crate::encrypt::Encryptor;
use crate::error::Error;
use crate::format::KEY_LEN;
use crate::kdf::Iterations;
use crate::recovery::RecoveryKey;
use crate::secret::{CipherKeys, EncryptionKey, HmacKey, Password, SecretArray};
use crate::sink::CleartextBuffer;

/// The payload version this build writes and the newest it reads.
pub const KEY_FILE_PAYLOAD_VERSION: u16 = 1;
const PAYLOAD_LEN: usize = 2 + 16 + 3 * KEY_LEN;
/// Key files are tiny; anything larger is damaged, and is not read whole into memory.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// What derived keys are for; each purpose has its own fixed HKDF label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyPurpose {
    /// A backup's item records and index (backup format 2 on).
    BackupRecords,
    /// The operation logs a Safe exchanges through a sync target.
    SyncEvents,
}

impl KeyPurpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::BackupRecords => b"arca backup records v2",
            Self::SyncEvents => b"arca sync events v1",
        }
    }
}

/// The unlocked keys of one Safe. The layer above uses them through this handle (to build
/// encryptors and decryptors and to open the database) and never sees their bytes.
pub struct SafeKeys {
    safe_id: Uuid,
    file_keys: CipherKeys,
    database_key: SecretArray<KEY_LEN>,
}

impl SafeKeys {
    /// New random keys for the Safe `safe_id`.
    ///
    /// # Errors
    /// [`Error::Random`] if the system random number generator fails.
    pub fn generate(safe_id: Uuid) -> Result<Self, Error> {
        Self::generate_with_rng(safe_id, &mut SysRng)
    }

    /// New keys drawn from `rng`.
    ///
    /// # Errors
    /// [`Error::Random`] if `rng` fails.
    pub fn generate_with_rng<R: TryCryptoRng + ?Sized>(
        safe_id: Uuid,
        rng: &mut R,
    ) -> Result<Self, Error> {
        Ok(Self {
            safe_id,
            file_keys: CipherKeys::random(rng)?,
            database_key: SecretArray::random(rng)?,
        })
    }

    /// The Safe these keys belong to.
    pub fn safe_id(&self) -> Uuid {
        self.safe_id
    }

    /// Credentials for the Safe's data files (key-based messages).
    pub fn data_credentials(&self) -> Credentials<'_> {
        Credentials::Keys(&self.file_keys)
    }

    /// Keys for one purpose other than data files, derived from the file keys with HKDF-SHA256
    /// under the purpose's fixed label: a message sealed for one purpose never opens as
    /// another (a data file copied among a backup's records is not a record).
    pub fn derived_keys(&self, purpose: KeyPurpose) -> CipherKeys {
        let mut input = Zeroizing::new([0u8; 2 * KEY_LEN]);
        input[..KEY_LEN].copy_from_slice(self.file_keys.encryption.0.expose());
        input[KEY_LEN..].copy_from_slice(self.file_keys.hmac.0.expose());
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(None, &input[..]);
        let mut output = Zeroizing::new([0u8; 2 * KEY_LEN]);
        if hkdf.expand(purpose.label(), &mut output[..]).is_err() {
            unreachable!("64 bytes is far below HKDF-SHA256's limit");
        }
        CipherKeys::new(
            EncryptionKey(SecretArray::from_array(&output[..KEY_LEN])),
            HmacKey(SecretArray::from_array(&output[KEY_LEN..])),
        )
    }

    /// Calls `open` with the database key as SQLCipher's raw-key literal (`x'…'`, 64 hex
    /// digits), for `PRAGMA key`. The string is zeroized when `open` returns.
    pub fn with_database_key<T>(&self, open: impl FnOnce(&str) -> T) -> T {
        let mut literal = Zeroizing::new(String::with_capacity(3 + 2 * KEY_LEN));
        literal.push_str("x'");
        for byte in self.database_key.expose() {
            literal.push(hex_digit(byte >> 4));
            literal.push(hex_digit(byte & 0x0f));
        }
        literal.push('\'');
        open(&literal)
    }

    fn payload(&self) -> Zeroizing<Vec<u8>> {
        let mut payload = Zeroizing::new(Vec::with_capacity(PAYLOAD_LEN));
        payload.extend_from_slice(&KEY_FILE_PAYLOAD_VERSION.to_be_bytes());
        payload.extend_from_slice(self.safe_id.as_bytes());
        payload.extend_from_slice(self.file_keys.encryption.0.expose());
        payload.extend_from_slice(self.file_keys.hmac.0.expose());
        payload.extend_from_slice(self.database_key.expose());
        payload
    }

    /// Parses an authenticated payload; `damaged` is the error for one that makes no sense.
    fn from_payload(payload: &[u8], damaged: fn() -> Error) -> Result<Self, Error> {
        let (version, rest) = payload.split_first_chunk::<2>().ok_or_else(damaged)?;
        let version = u16::from_be_bytes(*version);
        if version > KEY_FILE_PAYLOAD_VERSION {
            return Err(Error::NewerKeyFile {
                found: version,
                supported: KEY_FILE_PAYLOAD_VERSION,
            });
        }
        if version == 0 || payload.len() != PAYLOAD_LEN {
            return Err(damaged());
        }
        let (safe_id, rest) = rest.split_first_chunk::<16>().ok_or_else(damaged)?;
        let (encryption, rest) = rest.split_at(KEY_LEN);
        let (hmac, database) = rest.split_at(KEY_LEN);
        Ok(Self {
            safe_id: Uuid::from_bytes(*safe_id),
            file_keys: CipherKeys::new(
                EncryptionKey::from_slice(encryption).map_err(|_| damaged())?,
                HmacKey::from_slice(hmac).map_err(|_| damaged())?,
            ),
            database_key: SecretArray::from_slice(database).ok_or_else(damaged)?,
        })
    }

    fn seal(&self, password: &Password, iterations: Iterations) -> Result<Vec<u8>, Error> {
        let mut encryptor =
            Encryptor::new(Credentials::Password(password, iterations), Vec::new())?;
        std::io::Write::write_all(&mut encryptor, &self.payload())?;
        Ok(encryptor.finish()?.0)
    }

    fn open(
        bytes: &[u8],
        password: &Password,
        iterations: Iterations,
        damaged: fn() -> Error,
    ) -> Result<Self, Error> {
        let payload = decrypt(
            Credentials::Password(password, iterations),
            bytes,
            CleartextBuffer::new(),
        )
        .map_err(|error| match error {
            Error::Io(io) => Error::Io(io),
            _ => damaged(),
        })?;
        Self::from_payload(&payload, damaged)
    }

    /// The Safe Key File's bytes: these keys sealed under the Safe Password.
    ///
    /// # Errors
    /// [`Error::EmptyPassword`], [`Error::Random`].
    pub fn seal_key_file(
        &self,
        password: &Password,
        iterations: Iterations,
    ) -> Result<Vec<u8>, Error> {
        self.seal(password, iterations)
    }

    /// Opens a Safe Key File's bytes.
    ///
    /// # Errors
    /// [`Error::KeyFileUnlock`] for a wrong password or a damaged file (deliberately the same),
    /// [`Error::NewerKeyFile`] for a key file written by a newer Arca.
    pub fn open_key_file(
        bytes: &[u8],
        password: &Password,
        iterations: Iterations,
    ) -> Result<Self, Error> {
        Self::open(bytes, password, iterations, || Error::KeyFileUnlock)
    }

    /// Writes the Safe Key File atomically and durably: temporary file, fsync, rename, fsync of
    /// the folder. The previous key file stays intact until the new one is complete.
    ///
    /// # Errors
    /// As [`SafeKeys::seal_key_file`], plus [`Error::Io`].
    pub fn write_key_file(
        &self,
        path: &Path,
        password: &Password,
        iterations: Iterations,
    ) -> Result<(), Error> {
        let sealed = self.seal_key_file(password, iterations)?;
        Ok(write_atomically_private(path, &sealed)?)
    }

    /// Reads and opens the Safe Key File at `path`.
    ///
    /// # Errors
    /// As [`SafeKeys::open_key_file`], plus [`Error::Io`] if the file cannot be read.
    pub fn read_key_file(
        path: &Path,
        password: &Password,
        iterations: Iterations,
    ) -> Result<Self, Error> {
        let bytes = read_small_file(path)?;
        Self::open_key_file(&bytes, password, iterations)
    }

    /// The Recovery Key File's bytes: these keys sealed under a recovery key.
    ///
    /// # Errors
    /// [`Error::Random`].
    pub fn seal_recovery_file(
        &self,
        recovery_key: &RecoveryKey,
        iterations: Iterations,
    ) -> Result<Vec<u8>, Error> {
        self.seal(recovery_key.as_password(), iterations)
    }

    /// Opens a Recovery Key File's bytes.
    ///
    /// # Errors
    /// [`Error::RecoveryKeyUnlock`] for a wrong recovery key or a damaged file,
    /// [`Error::NewerKeyFile`].
    pub fn open_recovery_file(
        bytes: &[u8],
        recovery_key: &RecoveryKey,
        iterations: Iterations,
    ) -> Result<Self, Error> {
        Self::open(bytes, recovery_key.as_password(), iterations, || {
            Error::RecoveryKeyUnlock
        })
    }

    /// Writes the Recovery Key File atomically and durably.
    ///
    /// # Errors
    /// As [`SafeKeys::seal_recovery_file`], plus [`Error::Io`].
    pub fn write_recovery_file(
        &self,
        path: &Path,
        recovery_key: &RecoveryKey,
        iterations: Iterations,
    ) -> Result<(), Error> {
        let sealed = self.seal_recovery_file(recovery_key, iterations)?;
        Ok(write_atomically_private(path, &sealed)?)
    }

    /// Reads and opens the Recovery Key File at `path`.
    ///
    /// # Errors
    /// As [`SafeKeys::open_recovery_file`], plus [`Error::Io`].
    pub fn read_recovery_file(
        path: &Path,
        recovery_key: &RecoveryKey,
        iterations: Iterations,
    ) -> Result<Self, Error> {
        let bytes = read_small_file(path)?;
        Self::open_recovery_file(&bytes, recovery_key, iterations)
    }
}

impl fmt::Debug for SafeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeKeys")
            .field("safe_id", &self.safe_id)
            .finish_non_exhaustive()
    }
}

fn read_small_file(path: &Path) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(nibble & 0x0f)])
}
