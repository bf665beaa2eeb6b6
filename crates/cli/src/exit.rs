//! How `arca` ends: the one table of exit codes, and the failure a command returns.

use std::fmt::Write as _;
use std::process::ExitCode;

/// Why a command failed, as a script sees it: each kind has its own exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Anything not covered by a more specific kind.
    General,
    /// The command line or the password input is not acceptable (clap uses the same code).
    Usage,
    /// The password or key is wrong, or the data was modified.
    Authentication,
    /// The input is not a well-formed RNCryptor v3 message.
    Malformed,
    /// Reading the input or writing the output failed.
    Io,
    /// The folder is not a Safe, or nothing is at a path inside the Safe.
    NotFound,
    /// A name or folder is taken already.
    Clash,
    /// Part of the Safe is damaged or was tampered with (found by reading or by `check`).
    Damaged,
    /// The Safe was written by a newer Arca.
    NewerFormat,
    /// The command finished, but some files could not be done (each is listed); or it was
    /// stopped before its end.
    Incomplete,
    /// Too many wrong passwords in a row: the next attempt must wait.
    TryLater,
    /// Another program is writing to the Safe or backup.
    InUse,
    /// This device may not do that among the Safe's synced devices: it was removed, it is not
    /// approved yet, or the device named is not one of them.
    Device,
}

/// Every exit code with its meaning; `arca --help` prints this table.
const TABLE: [(u8, &str); 14] = [
    (0, "success"),
    (
        1,
        "general failure (anything not listed below, e.g. no system randomness)",
    ),
    (
        2,
        "usage: invalid arguments, an empty or non-UTF-8 password, a mistyped recovery key, IN \
         and OUT the same file, OUT exists and --force was not given, no terminal to ask a \
         password on, the two entries of a new password differ, a weak new password without \
         --accept-weak, an invalid name, a source that holds the Safe, an operation the \
         item's state does not allow (e.g. moving a folder into itself), a Safe without a sync \
         target and no --to, a sync target inside the Safe, or a file that is not a sync \
         configuration",
    ),
    (
        3,
        "authentication failed: wrong password or key (or wrong --iterations), a wrong Safe \
         Password or recovery key (or a damaged key file: the two look alike), or the input \
         was modified (a sync configuration that does not open with the password is either)",
    ),
    (
        4,
        "input malformed: not RNCryptor v3 (version or options byte), truncated, or not a \
         whole number of blocks",
    ),
    (
        5,
        "I/O error: input missing or unreadable, output not writable, disk full, read-only \
         media (a Safe there can be read, not changed), no folder in RAM for `arca edit`, a sync \
         target that cannot be read or written",
    ),
    (
        6,
        "not found: SAFE is not an Arca Safe, TARGET is not an Arca backup, a path inside the \
         Safe (or the backup) does not exist (or is a file where a folder is needed), the \
         Safe (or backup) has no recovery key, or the sync target folder is not there (its disk \
         not connected) or holds other files",
    ),
    (
        7,
        "name clash: the target already exists (a new Safe's folder, or an item of that name \
         in the folder), the backup folder or the sync target belongs to another Safe, or \
         this copy of the Safe was restored from an older state after it had synced (join \
         again)",
    ),
    (
        8,
        "damaged: part of the Safe is damaged or was tampered with (a file's content, the \
         database, the manifest, a key file of another Safe), or `check` found problems; or \
         part of a backup is (`backup verify` found problems, items could not be backed up or \
         restored: each is listed)",
    ),
    (
        9,
        "newer format: the Safe (or a sync configuration, or the sync target) was written by \
         a newer Arca; it was left untouched",
    ),
    (
        10,
        "incomplete: some items could not be imported (unreadable, a link or special file, \
         changed meanwhile: each is listed); the others were imported. Or a backup verify, a \
         database rebuild or a sync was stopped before its end (run it again)",
    ),
    (
        11,
        "try later: too many wrong passwords or recovery keys in a row; the error says how \
         many seconds to wait (2, 4, 8 … up to 300)",
    ),
    (
        12,
        "in use: another program is writing to the Safe (or the backup); the error names it",
    ),
    (
        13,
        "device: this device may not do that among the devices syncing the Safe. It was removed \
         from the Safe's sync (it keeps its copy but no longer syncs), or it is not approved yet \
         (it cannot approve or remove devices, nor export a sync configuration, until a device \
         already syncing approves it), or the device named is not one of the Safe's",
    ),
];

impl Exit {
    /// The process exit code; the numbers are the ones in [`TABLE`].
    pub fn code(self) -> u8 {
        match self {
            Self::General => 1,
            Self::Usage => 2,
            Self::Authentication => 3,
            Self::Malformed => 4,
            Self::Io => 5,
            Self::NotFound => 6,
            Self::Clash => 7,
            Self::Damaged => 8,
            Self::NewerFormat => 9,
            Self::Incomplete => 10,
            Self::TryLater => 11,
            Self::InUse => 12,
            Self::Device => 13,
        }
    }
}

/// The "Exit status" section of `arca --help`.
pub fn help_section() -> String {
    let mut text = String::from("Exit status:\n");
    for (code, meaning) in TABLE {
        let _ = write!(text, "  {code:>2}");
        // Wrapped by hand: clap prints this section as it is.
        let mut column = 6;
        for (index, word) in meaning.split(' ').enumerate() {
            if index == 0 {
                text.push_str("  ");
            } else if column + 1 + word.len() > WIDTH {
                text.push_str("\n      ");
                column = 6;
            } else {
                text.push(' ');
                column += 1;
            }
            text.push_str(word);
            column += word.len();
        }
        text.push('\n');
    }
    text
}

/// The width the exit-code table is wrapped to.
const WIDTH: usize = 96;

/// A failed command: what failed (with its causes), what to do about it, and the exit code.
#[derive(Debug)]
pub struct Failure {
    exit: Exit,
    error: anyhow::Error,
    hint: String,
}

impl Failure {
    /// A failure of kind `exit`, explained by `error` and `hint`.
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>, hint: impl Into<String>) -> Self {
        Self {
            exit,
            error: error.into(),
            hint: hint.into(),
        }
    }

    /// The same failure with other advice.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = hint.into();
        self
    }

    /// The same failure with `first` said before its advice.
    #[must_use]
    pub fn with_hint_first(mut self, first: &str) -> Self {
        self.hint = format!("{first}; {}", self.hint);
        self
    }

    /// A usage failure with a message.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::new(Exit::Usage, anyhow::Error::msg(message.into()), hint)
    }

    /// Prints `arca: error: …` and `arca: hint: …` on standard error, and gives the exit code.
    pub fn report(&self) -> ExitCode {
        eprintln!("arca: error: {:#}", self.error);
        eprintln!("arca: hint: {}", self.hint);
        ExitCode::from(self.exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_in_the_table() {
        for exit in [
            Exit::General,
            Exit::Usage,
            Exit::Authentication,
            Exit::Malformed,
            Exit::Io,
            Exit::NotFound,
            Exit::Clash,
            Exit::Damaged,
            Exit::NewerFormat,
            Exit::Incomplete,
            Exit::TryLater,
            Exit::InUse,
            Exit::Device,
        ] {
            assert!(TABLE.iter().any(|(code, _)| *code == exit.code()));
        }
        let codes: Vec<u8> = TABLE.iter().map(|(code, _)| *code).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    }
}
