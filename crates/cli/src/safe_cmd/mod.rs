//! The commands on a Safe (`arca create`, `ls`, `import`, …): what they share is here — naming
//! the Safe, unlocking it, and turning a Safe error into a message, a hint and an exit code.

pub mod backup;
pub mod check;
pub mod create;
pub mod devices;
pub mod edit;
pub mod items;
pub mod output;
pub mod qr;
pub mod search;
pub mod security;
pub mod sync;
pub mod sync_config;
pub mod tags;
pub mod transfer;

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arca_cryptor::Password;
use arca_safe::{
    Error, ErrorKind, Item, Layout, Manifest, OpenMode, OpenOptions, Safe, Strength, Unlock,
};
use clap::Args;
use uuid::Uuid;

use crate::exit::{Exit, Failure};
use crate::secret_input;

/// The Safe a command works on, and where its password comes from.
#[derive(Args)]
pub struct SafeArg {
    /// The Safe: the folder that holds safe.json
    #[arg(id = "safe", value_name = "SAFE")]
    pub path: PathBuf,

    /// Read the Safe Password from standard input (all of it, minus one trailing line break)
    /// instead of asking on the terminal
    #[arg(long)]
    pub password_stdin: bool,
}

impl SafeArg {
    /// How messages name the Safe.
    pub fn name(&self) -> String {
        quoted(&self.path)
    }

    /// Checks that the folder is a Safe this build can open before any password is asked for,
    /// so that a typo in SAFE or a newer Safe costs no typing.
    pub fn check_manifest(&self) -> Result<Manifest, Failure> {
        Manifest::read(&Layout::new(&self.path).manifest())
            .map_err(fail(format!("cannot open the Safe {}", self.name())))
    }

    /// Asks for (or reads) the Safe Password; an empty one is refused as a usage error.
    pub fn password(&self) -> Result<Password, Failure> {
        ask_password(&self.name(), self.password_stdin)
    }

    /// Unlocks the Safe for reading only: lists, search, reading and export work beside a
    /// program that is writing to it, and on read-only media.
    pub fn open_reading(&self) -> Result<Safe, Failure> {
        self.check_manifest()?;
        let password = self.password()?;
        self.open_as(&password, OpenMode::Read)
    }

    /// Unlocks the Safe for writing (holding its writer lock until the command ends).
    pub fn open(&self) -> Result<Safe, Failure> {
        self.check_manifest()?;
        let password = self.password()?;
        self.open_with(&password)
    }

    /// Unlocks the Safe for writing with a password already read.
    pub fn open_with(&self, password: &Password) -> Result<Safe, Failure> {
        let safe = self.open_as(password, OpenMode::Write)?;
        note_interrupted_imports(&safe, &self.path);
        Ok(safe)
    }

    /// Unlocks the Safe with `password` in `mode`.
    pub fn open_as(&self, password: &Password, mode: OpenMode) -> Result<Safe, Failure> {
        let started = Instant::now();
        let safe = Safe::open_with(
            &self.path,
            Unlock::Password(password),
            &OpenOptions::mode(mode),
        )
        .map_err(fail(format!("cannot open the Safe {}", self.name())))?;
        step!(
            "unlocked the Safe {} (id {}) for {} in {:.2} s",
            self.name(),
            safe.id(),
            if safe.writable().is_ok() {
                "writing"
            } else {
                "reading"
            },
            started.elapsed().as_secs_f64()
        );
        Ok(safe)
    }
}

/// Asks for (or reads) the Safe Password of `what`; an empty one is refused as a usage error.
pub fn ask_password(what: &str, password_stdin: bool) -> Result<Password, Failure> {
    let password = if password_stdin {
        secret_input::read_password_stdin()?
    } else {
        secret_input::prompt(&format!("Safe Password for {what}: "))?
    };
    if password.is_empty() {
        return Err(Failure::usage(
            "the Safe Password is empty; nothing was tried",
            "type the Safe Password (with --password-stdin, pipe it in)",
        ));
    }
    Ok(password)
}

/// Says so when the Safe holds imports a crash, a kill or a full disk interrupted.
pub fn note_interrupted_imports(safe: &Safe, path: &Path) {
    if let Ok(jobs) = safe.interrupted_imports()
        && !jobs.is_empty()
    {
        note!(
            "{} interrupted import(s) in this Safe; finish them with \
             `arca import --resume {}` (or drop what they had not imported with \
             `arca import --abandon {}`)",
            jobs.len(),
            path.display(),
            path.display()
        );
    }
}

/// `'path'`, for messages.
pub fn quoted(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// Turns a Safe error into a failure: `context` says what was being done, the error what went
/// wrong (naming the thing), and the hint what to do about it.
pub fn fail(context: impl Display + Send + Sync + 'static) -> impl FnOnce(Error) -> Failure {
    move |error| {
        let (exit, hint) = classify(&error);
        Failure::new(exit, anyhow::Error::new(error).context(context), hint)
    }
}

/// Turns a Safe error that names its thing itself (a damaged file names the item) into a
/// failure, with no context in front.
pub fn fail_plain(error: Error) -> Failure {
    let (exit, hint) = classify(&error);
    Failure::new(exit, error, hint)
}

/// The exit code and the advice for each kind of Safe error: the one table of the command
/// line (the app has its own, by the same kinds).
fn classify(error: &Error) -> (Exit, &'static str) {
    if let Error::SyncTarget { error, .. } = error {
        return classify_sync_target(error);
    }
    match error.kind() {
        ErrorKind::WrongPassword => (
            Exit::Authentication,
            "check the Safe Password (it is case-sensitive; nothing was changed); if it is \
             lost, set a new one with `arca recovery reset SAFE` and the recovery key",
        ),
        ErrorKind::WrongRecoveryKey => (
            Exit::Authentication,
            "check the recovery key as it was written down (dashes and spaces do not matter); \
             nothing was changed",
        ),
        ErrorKind::RecoveryKeyTypo => (
            Exit::Usage,
            "type the recovery key exactly as it was written down",
        ),
        ErrorKind::TryLater => (
            Exit::TryLater,
            "wait, then try again: each wrong password in a row doubles the wait (up to five \
             minutes); the right one resets it",
        ),
        ErrorKind::NoRecoveryKey => (
            Exit::NotFound,
            "a recovery key is made with `arca recovery create SAFE` while the password is \
             known; without one, a lost password cannot be replaced",
        ),
        ErrorKind::NotASafe => (
            Exit::NotFound,
            "SAFE is the folder that holds safe.json; check the path, or make a new Safe with \
             `arca create SAFE`",
        ),
        ErrorKind::AlreadyExists => (
            Exit::Clash,
            "give a folder that does not exist yet (or an empty one)",
        ),
        ErrorKind::NewerFormat => (
            Exit::NewerFormat,
            "install a newer Arca to open it; this one left it untouched",
        ),
        ErrorKind::DamagedDatabase => (
            Exit::Damaged,
            "the Safe's attribute database (names, folders, tags) cannot be read; rebuild it \
             from a backup of this Safe with `arca check SAFE --repair --from-backup TARGET` \
             (the damaged database is kept aside, and the data files stay as they are)",
        ),
        ErrorKind::NotABackup => (
            Exit::NotFound,
            "TARGET is a backup folder (it holds backup.json); a new backup needs an empty or \
             new folder",
        ),
        ErrorKind::ForeignTarget => (Exit::Clash, sync::FOREIGN_TARGET_HINT),
        ErrorKind::ForeignBackup => (
            Exit::Clash,
            "this backup folder belongs to another Safe; give this Safe's backup folder, or an \
             empty or new folder for a new backup",
        ),
        ErrorKind::Damaged => match error {
            Error::DamagedBackup { .. } => (
                Exit::Damaged,
                "this part of the backup is needed to open it; use another backup of the Safe, \
                 or make a new one with `arca backup SAFE TARGET` into an empty folder",
            ),
            Error::DamagedFile { .. } => (
                Exit::Damaged,
                "the other files are unaffected; restore this one from a backup, and run \
                 `arca check SAFE --full` to find any other damage",
            ),
            _ => (
                Exit::Damaged,
                "the Safe itself is damaged or its files were mixed with another Safe's; \
                 restore it from a backup, and run `arca check SAFE` to see what else is \
                 affected",
            ),
        },
        ErrorKind::NotFound => (
            Exit::NotFound,
            "paths in a Safe start at its root, like /Photos/2024/a.jpg; see what is there with \
             `arca ls SAFE /`",
        ),
        ErrorKind::NameClash => (
            Exit::Clash,
            "choose another name, or move or rename the existing item first",
        ),
        ErrorKind::InvalidName => (
            Exit::Usage,
            "a name is 1 to 255 bytes without '/', NUL or control characters, and not '.' or \
             '..'",
        ),
        ErrorKind::MoveIntoItself => (Exit::Usage, "move the folder somewhere outside itself"),
        ErrorKind::TrashState => (
            Exit::Usage,
            "see what is in the trash with `arca trash list SAFE`",
        ),
        ErrorKind::NotStoredYet => (
            Exit::Incomplete,
            "if an import is still running, wait until it has finished; if one was interrupted, \
             finish it with `arca import --resume SAFE` (or end it with --abandon); then try \
             again. A file added on another device can be read once `arca sync SAFE` has brought \
             it (after that device has synced)",
        ),
        ErrorKind::AlreadyRunning => (Exit::InUse, "wait until it has finished, then try again"),
        ErrorKind::LockedByOther => (
            Exit::InUse,
            "wait until that program has finished (or close the Safe there), then try again; \
             reading commands (ls, search, cat, export) work meanwhile",
        ),
        ErrorKind::ReadOnly => (
            Exit::Io,
            "the Safe can be read (ls, search, cat, export, check) but not changed there; \
             copy it to a writable disk to change it",
        ),
        ErrorKind::DiskFull => (
            Exit::Io,
            "free some space and run the command again; nothing already stored was lost",
        ),
        ErrorKind::Io => (
            Exit::Io,
            "check that the path exists and is readable or writable",
        ),
        ErrorKind::NoSecureArea => (
            Exit::Io,
            "Arca keeps the copy of a file opened in another program in RAM only \
             ($XDG_RUNTIME_DIR, made at a desktop login); run it in a desktop session, or use \
             `arca export` if a copy on disk is what you want",
        ),
        ErrorKind::SyncDiverged => (
            Exit::Clash,
            "nothing was changed, and this copy can still be read, but it cannot sync any more: \
             on a device that syncs, `arca sync-config export SAFE --out FILE`; here, `arca join \
             FILE NEW_SAFE` for a new copy; move across what was made only here since (export, \
             then import)",
        ),
        ErrorKind::SyncDevice => (Exit::Device, devices::DEVICE_HINT),
        ErrorKind::InvalidInput if matches!(error, Error::BadSyncConfig(_)) => (
            Exit::Usage,
            "give the file `arca sync-config export` wrote on a device of the Safe (export a \
             new one if this one is damaged)",
        ),
        ErrorKind::InvalidInput => (
            Exit::Usage,
            "check the arguments (a source or target folder inside the Safe, an empty password)",
        ),
        _ => (
            Exit::General,
            "try again; if it keeps failing, run `arca check SAFE` and report it",
        ),
    }
}

/// The exit code and the advice when the sync target cannot be used: nothing is lost, and the
/// next run goes on from where this one stopped.
fn classify_sync_target(error: &std::io::Error) -> (Exit, &'static str) {
    match error.kind() {
        std::io::ErrorKind::NotFound => (
            Exit::NotFound,
            "connect the disk the sync target is on (or mount the share) and run the command \
             again; nothing was lost",
        ),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => (
            Exit::Io,
            "free some space on the sync target and run the command again; nothing was lost, \
             and the next run goes on from here",
        ),
        std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => (
            Exit::Io,
            "the sync target cannot be written here: check its permissions (or its \
             write-protection), then run the command again",
        ),
        _ => (
            Exit::Io,
            "check that the sync target is connected, readable and writable, then run the \
             command again; nothing was lost, and the next run goes on from here",
        ),
    }
}

/// The live item at `path`, which must not be the root.
pub fn resolve_item(safe: &Safe, path: &str) -> Result<Item, Failure> {
    safe.resolve(path)
        .map_err(fail(format!("cannot find {path:?} in the Safe")))?
        .ok_or_else(|| {
            Failure::usage(
                "the root folder '/' cannot be used here",
                "name an item inside the Safe, like /Photos",
            )
        })
}

/// The folder at `path` (`None` for the root).
pub fn resolve_folder(safe: &Safe, path: &str) -> Result<Option<Uuid>, Failure> {
    safe.resolve_folder(path)
        .map_err(fail(format!("cannot find the folder {path:?} in the Safe")))
}

/// Prints zxcvbn's estimate of a new password (on standard error, next to the prompts) and
/// refuses a weak one unless the user accepted it.
pub fn judge_new_password(
    password: &Password,
    context: &[&str],
    accept_weak: bool,
) -> Result<(), Failure> {
    if password.is_empty() {
        return Err(Failure::usage(
            "the new Safe Password is empty",
            "choose a passphrase of several unrelated words",
        ));
    }
    // Two lines piped into `create --password-stdin` (as for `passwd`) would make one password
    // that nobody can type at a prompt.
    if password.expose_for_strength_meter().contains(['\n', '\r']) {
        return Err(Failure::usage(
            "the new Safe Password holds a line break, so it could never be typed at a prompt; \
             nothing was changed",
            "give the password on one line; `create` reads it alone, `passwd` and `recovery \
             reset` read the old secret on the first line and the new password on the second",
        ));
    }
    let strength = arca_safe::password_strength(password, context);
    if !crate::say::quiet() {
        eprint!("{}", describe_strength(&strength));
    }
    if !strength.is_acceptable() && !accept_weak {
        return Err(Failure::usage(
            format!(
                "the new password is weak (score {} of 4; at least {} is needed); nothing was \
                 changed",
                strength.score,
                arca_safe::MIN_SCORE
            ),
            "choose a longer passphrase of unrelated words, or pass --accept-weak to use it \
             anyway",
        ));
    }
    Ok(())
}

fn describe_strength(strength: &Strength) -> String {
    let mut text = format!(
        "Password strength: {} of 4 (an offline attack would take {})\n",
        strength.score, strength.crack_time
    );
    if let Some(warning) = &strength.warning {
        text.push_str(&format!("  Warning: {warning}\n"));
    }
    for suggestion in &strength.suggestions {
        text.push_str(&format!("  Suggestion: {suggestion}\n"));
    }
    text
}
