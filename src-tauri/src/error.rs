//! Errors as the window receives them: the library's error kinds mapped onto the IPC's, in one
//! table. The window shows its own translated text for each kind; the library's English
//! message travels along for details.

use arca_cryptor::RecoveryKeyTypo as Typo;
use arca_safe::ErrorKind as Library;

use crate::dto::{AppError, ErrorKind, RecoveryKeyTypo};

impl AppError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after_seconds: None,
            typo: None,
        }
    }

    /// The arguments of a command are not acceptable.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    /// No Safe is unlocked.
    pub fn locked() -> Self {
        Self::new(ErrorKind::SafeLocked, "no Safe is unlocked")
    }
}

/// The IPC kind of each library kind.
fn kind(kind: Library) -> ErrorKind {
    match kind {
        Library::WrongPassword => ErrorKind::WrongPassword,
        Library::WrongRecoveryKey => ErrorKind::WrongRecoveryKey,
        Library::RecoveryKeyTypo => ErrorKind::RecoveryKeyTypo,
        Library::TryLater => ErrorKind::TryLater,
        Library::NoRecoveryKey => ErrorKind::NoRecoveryKey,
        Library::NotASafe => ErrorKind::NotASafe,
        Library::AlreadyExists => ErrorKind::AlreadyExists,
        Library::NewerFormat => ErrorKind::NewerFormat,
        Library::Damaged => ErrorKind::Damaged,
        Library::DamagedDatabase => ErrorKind::DamagedDatabase,
        Library::NotFound => ErrorKind::NotFound,
        Library::NameClash => ErrorKind::NameClash,
        Library::InvalidName => ErrorKind::InvalidName,
        Library::MoveIntoItself => ErrorKind::MoveIntoItself,
        Library::TrashState => ErrorKind::TrashState,
        Library::NotStoredYet => ErrorKind::NotStoredYet,
        Library::AlreadyRunning => ErrorKind::AlreadyRunning,
        Library::LockedByOther => ErrorKind::LockedByOther,
        Library::ReadOnly => ErrorKind::ReadOnly,
        Library::DiskFull => ErrorKind::DiskFull,
        Library::Io => ErrorKind::Io,
        Library::SafeLocked => ErrorKind::SafeLocked,
        Library::InvalidInput => ErrorKind::InvalidInput,
        Library::NotABackup => ErrorKind::NotABackup,
        Library::ForeignBackup => ErrorKind::ForeignBackup,
        Library::NoSecureArea => ErrorKind::NoSecureArea,
        Library::SyncDiverged => ErrorKind::SyncDiverged,
        Library::ForeignTarget => ErrorKind::ForeignTarget,
        Library::SyncDevice => ErrorKind::SyncDevice,
        _ => ErrorKind::Internal,
    }
}

/// What is wrong with a mistyped recovery key, for the window.
pub fn typo(typo: &Typo) -> RecoveryKeyTypo {
    match typo {
        Typo::Length { found, expected } => RecoveryKeyTypo::Length {
            found: u32::try_from(*found).unwrap_or(u32::MAX),
            expected: u32::try_from(*expected).unwrap_or(u32::MAX),
        },
        Typo::Character {
            position,
            character,
        } => RecoveryKeyTypo::Character {
            position: u32::try_from(*position).unwrap_or(u32::MAX),
            character: character.to_string(),
        },
        _ => RecoveryKeyTypo::Checksum,
    }
}

impl From<arca_safe::Error> for AppError {
    fn from(error: arca_safe::Error) -> Self {
        let mut app = Self::new(kind(error.kind()), error.to_string());
        match &error {
            // The library files these under the kind of their I/O error or under InvalidInput;
            // the window tells the person what they are about.
            arca_safe::Error::SyncTarget { .. } if app.kind != ErrorKind::DiskFull => {
                app.kind = ErrorKind::SyncTarget;
            }
            arca_safe::Error::BadSyncConfig(_) => app.kind = ErrorKind::BadSyncConfig,
            arca_safe::Error::TryLater { seconds } => app.retry_after_seconds = Some(*seconds),
            arca_safe::Error::Crypto(arca_cryptor::Error::RecoveryKeyTypo(found)) => {
                app.typo = Some(typo(found));
            }
            _ => {}
        }
        app
    }
}

impl From<arca_cryptor::Error> for AppError {
    fn from(error: arca_cryptor::Error) -> Self {
        Self::from(arca_safe::Error::Crypto(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn try_later_carries_its_seconds_and_typos_their_place() {
        let error = AppError::from(arca_safe::Error::TryLater { seconds: 8 });
        assert_eq!(error.kind, ErrorKind::TryLater);
        assert_eq!(error.retry_after_seconds, Some(8));
        let typed = arca_cryptor::RecoveryKey::parse("0000")
            .err()
            .map(AppError::from);
        let typed = typed.unwrap_or_else(|| AppError::invalid("parsed"));
        assert_eq!(typed.kind, ErrorKind::RecoveryKeyTypo);
        assert!(matches!(typed.typo, Some(RecoveryKeyTypo::Length { .. })));
    }

    #[test]
    fn sync_errors_say_what_they_are_about() {
        let unreachable = AppError::from(arca_safe::Error::SyncTarget {
            target: "/media/usb/sync".to_owned(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "gone"),
        });
        assert_eq!(unreachable.kind, ErrorKind::SyncTarget);
        assert!(unreachable.message.contains("/media/usb/sync"));
        let full = AppError::from(arca_safe::Error::SyncTarget {
            target: "/media/usb/sync".to_owned(),
            error: std::io::Error::new(std::io::ErrorKind::StorageFull, "full"),
        });
        assert_eq!(full.kind, ErrorKind::DiskFull);
        let config = AppError::from(arca_safe::Error::BadSyncConfig("is damaged".to_owned()));
        assert_eq!(config.kind, ErrorKind::BadSyncConfig);
        let password = AppError::from(arca_safe::Error::WrongSyncConfigPassword);
        assert_eq!(password.kind, ErrorKind::WrongPassword);
        let diverged = AppError::from(arca_safe::Error::SyncDiverged("restored".to_owned()));
        assert_eq!(diverged.kind, ErrorKind::SyncDiverged);
        let removed = AppError::from(arca_safe::Error::SyncDevice(
            "this device was removed from the Safe's sync by desk".to_owned(),
        ));
        assert_eq!(removed.kind, ErrorKind::SyncDevice);
        assert!(removed.message.contains("removed"), "{}", removed.message);
    }
}
