//! The one way keys are unlocked, for a Safe and for a backup alike: the back-off is asked
//! first, then the key file (or recovery key file) is opened, then its Safe UUID is checked.

use std::path::Path;

use arca_cryptor::{Iterations, Password, RecoveryKey, SafeKeys};
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::error::{Error, Result};

/// How to unlock: with the Safe Password (the key file) or the recovery key (the recovery key
/// file).
#[derive(Debug, Clone, Copy)]
pub enum Unlock<'a> {
    /// The Safe Password.
    Password(&'a Password),
    /// The recovery key, as typed (already checked for typos by [`RecoveryKey::parse`]).
    RecoveryKey(&'a RecoveryKey),
}

/// The key files of one Safe or backup, and what they must belong to.
pub(crate) struct KeyFiles<'a> {
    pub(crate) key_file: &'a Path,
    pub(crate) recovery_file: &'a Path,
    pub(crate) iterations: Iterations,
    /// The UUID the manifest names: the key file must hold the same.
    pub(crate) safe_id: Uuid,
    /// "the key file" or "the backup's key file", for a newer-format error.
    pub(crate) what: &'static str,
}

/// Unlocks the keys, counting the attempt in `backoff`.
///
/// # Errors
/// [`Error::TryLater`] while the back-off runs; [`Error::WrongPassword`] /
/// [`Error::WrongRecoveryKey`] (counted); [`Error::NoRecoveryKey`]; [`Error::NewerFormat`];
/// [`Error::ForeignKeyFile`]; [`Error::Io`] if a key file cannot be read (not counted).
pub(crate) fn unlock(
    files: &KeyFiles<'_>,
    unlock: Unlock<'_>,
    backoff: &Backoff,
) -> Result<SafeKeys> {
    if let Unlock::RecoveryKey(_) = unlock
        && !files.recovery_file.exists()
    {
        return Err(Error::NoRecoveryKey);
    }
    let attempt = backoff.begin(files.safe_id)?;
    let opened = match unlock {
        Unlock::Password(password) => {
            SafeKeys::read_key_file(files.key_file, password, files.iterations)
        }
        Unlock::RecoveryKey(recovery_key) => {
            SafeKeys::read_recovery_file(files.recovery_file, recovery_key, files.iterations)
        }
    };
    let path = match unlock {
        Unlock::Password(_) => files.key_file,
        Unlock::RecoveryKey(_) => files.recovery_file,
    };
    match opened {
        Ok(keys) if keys.safe_id() == files.safe_id => {
            attempt.succeeded()?;
            Ok(keys)
        }
        Ok(keys) => {
            attempt.not_counted()?;
            Err(Error::ForeignKeyFile {
                expected: files.safe_id,
                found: keys.safe_id(),
            })
        }
        Err(arca_cryptor::Error::KeyFileUnlock) => Err(Error::WrongPassword),
        Err(arca_cryptor::Error::RecoveryKeyUnlock) => Err(Error::WrongRecoveryKey),
        Err(other) => {
            attempt.not_counted()?;
            Err(match other {
                arca_cryptor::Error::NewerKeyFile { found, supported } => Error::NewerFormat {
                    what: files.what,
                    found: u64::from(found),
                    supported: u64::from(supported),
                },
                arca_cryptor::Error::Io(error) => Error::Io {
                    path: path.to_path_buf(),
                    error,
                },
                other => Error::Crypto(other),
            })
        }
    }
}
