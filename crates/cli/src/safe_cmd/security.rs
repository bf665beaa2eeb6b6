//! The security settings: `arca passwd` (a new Safe Password) and `arca recovery create|reset`.
//! Each rewrites only a key file, atomically; the data and the database stay as they are.

use std::path::{Path, PathBuf};

use arca_cryptor::Password;
use arca_safe::{Layout, Safe};
use clap::{Args, Subcommand};
use serde::Serialize;

use crate::exit::Failure;
use crate::safe_cmd::output;
use crate::safe_cmd::{SafeArg, fail, judge_new_password};
use crate::secret_input;

/// `arca passwd SAFE`.
#[derive(Args)]
pub struct PasswdArgs {
    /// The Safe: the folder that holds safe.json
    #[arg(value_name = "SAFE")]
    path: PathBuf,

    /// Read both passwords from standard input: line 1 the current one, line 2 (all the rest,
    /// minus one trailing line break) the new one
    #[arg(long)]
    password_stdin: bool,

    /// Use the new password even if it is weak (zxcvbn score below 3)
    #[arg(long)]
    accept_weak: bool,
}

/// The new password's strength is judged against the Safe's folder name, the first guess.
fn context_of(safe: &SafeArg) -> String {
    safe.path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Changes the Safe Password after checking the current one.
pub fn passwd(args: PasswdArgs) -> Result<(), Failure> {
    let target = SafeArg {
        path: args.path,
        password_stdin: args.password_stdin,
    };
    let context = context_of(&target);
    target.check_manifest()?;
    let (safe, current, new) = if target.password_stdin {
        let (current, new) = secret_input::read_two_secrets_stdin("the current Safe Password")?;
        judge_new_password(&new, &[context.as_str()], args.accept_weak)?;
        (target.open_with(&current)?, current, new)
    } else {
        let current =
            secret_input::prompt(&format!("Current Safe Password for {}: ", target.name()))?;
        let safe = target.open_with(&current)?;
        let new = secret_input::prompt_new("Safe Password")?;
        judge_new_password(&new, &[context.as_str()], args.accept_weak)?;
        (safe, current, new)
    };
    safe.change_password(&current, &new).map_err(fail(format!(
        "cannot change the password of the Safe {}",
        target.name()
    )))?;
    output::summary(&format!(
        "changed the Safe Password of {}; the recovery key, if one was made, still works\n",
        target.name()
    ))
}

/// `arca recovery …`.
#[derive(Subcommand)]
pub enum RecoveryCommand {
    /// Make a recovery key (asks for the Safe Password; replaces an older recovery key) and
    /// print it once
    Create(CreateKeyArgs),
    /// Set a new Safe Password with the recovery key, when the password is lost
    Reset(ResetArgs),
}

/// `arca recovery create SAFE`.
#[derive(Args)]
pub struct CreateKeyArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Print {"safe": …, "recoveryKey": …} as JSON instead of the key alone
    #[arg(long)]
    json: bool,
}

/// `arca recovery reset SAFE`.
#[derive(Args)]
pub struct ResetArgs {
    /// The Safe: the folder that holds safe.json
    #[arg(value_name = "SAFE")]
    path: PathBuf,

    /// Read both from standard input: line 1 the recovery key, line 2 (all the rest, minus
    /// one trailing line break) the new Safe Password
    #[arg(long)]
    password_stdin: bool,

    /// Use the new password even if it is weak (zxcvbn score below 3)
    #[arg(long)]
    accept_weak: bool,
}

/// Runs one `arca recovery` subcommand.
pub fn recovery(command: RecoveryCommand) -> Result<(), Failure> {
    match command {
        RecoveryCommand::Create(args) => create_key(args),
        RecoveryCommand::Reset(args) => reset(args),
    }
}

fn create_key(args: CreateKeyArgs) -> Result<(), Failure> {
    args.safe.check_manifest()?;
    let password = args.safe.password()?;
    let safe = args.safe.open_with(&password)?;
    let replacing = safe.layout().recovery_file().exists();
    let key = safe.create_recovery_key(&password).map_err(fail(format!(
        "cannot make a recovery key for the Safe {}",
        args.safe.name()
    )))?;
    if replacing {
        eprintln!("arca: the Safe's previous recovery key no longer works.");
    }
    eprintln!(
        "arca: the recovery key of {} follows, shown this once. Write it down and keep it \
         apart from the Safe: with it, anyone can set a new Safe Password.",
        args.safe.name()
    );
    if args.json {
        return output::print_json(&NewRecoveryKey {
            safe: &args.safe.path,
            recovery_key: key.expose_for_display(),
        });
    }
    // The key alone on standard output, so a script can take it.
    output::write_stdout(format!("{}\n", key.expose_for_display()).as_bytes())
}

/// What `recovery create --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewRecoveryKey<'a> {
    safe: &'a Path,
    recovery_key: &'a str,
}

fn reset(args: ResetArgs) -> Result<(), Failure> {
    let target = SafeArg {
        path: args.path,
        password_stdin: args.password_stdin,
    };
    let context = context_of(&target);
    target.check_manifest()?;
    // Said before the key is typed: without a recovery key file no key can help.
    if !Layout::new(&target.path).recovery_file().exists() {
        return Err(fail(format!(
            "cannot reset the password of the Safe {}",
            target.name()
        ))(arca_safe::Error::NoRecoveryKey));
    }
    let opening = format!(
        "cannot open the Safe {} with the recovery key",
        target.name()
    );
    let (safe, new): (Safe, Password) = if target.password_stdin {
        let (typed, new) = secret_input::read_two_secrets_stdin("the recovery key")?;
        let key = secret_input::recovery_key(&typed)?;
        judge_new_password(&new, &[context.as_str()], args.accept_weak)?;
        let safe = Safe::open_with_recovery_key(&target.path, &key).map_err(fail(opening))?;
        (safe, new)
    } else {
        let typed = secret_input::prompt(&format!("Recovery key for {}: ", target.name()))?;
        let key = secret_input::recovery_key(&typed)?;
        let safe = Safe::open_with_recovery_key(&target.path, &key).map_err(fail(opening))?;
        let new = secret_input::prompt_new("Safe Password")?;
        judge_new_password(&new, &[context.as_str()], args.accept_weak)?;
        (safe, new)
    };
    safe.reset_password(&new).map_err(fail(format!(
        "cannot set the new password of the Safe {}",
        target.name()
    )))?;
    output::summary(&format!(
        "set a new Safe Password for {}; the recovery key still works\n",
        target.name()
    ))
}
