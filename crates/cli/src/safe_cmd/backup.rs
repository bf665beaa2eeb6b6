//! Backups: `arca backup SAFE TARGET` (incremental), `arca backup verify TARGET`,
//! `arca restore TARGET NEW_SAFE` and `arca restore TARGET SAFE --items PATH...`. Every item
//! something is wrong with is listed by its path in the Safe.
//!
//! `arca backup` takes either SAFE TARGET or the `verify` subcommand; a Safe folder literally
//! named `verify` is given as `./verify`.

use std::path::{Path, PathBuf};

use arca_cryptor::{Password, RecoveryKey};
use arca_safe::{
    Backoff, BackupManifest, BackupOptions, BackupReport, Error, ItemProblem, JobControl, Layout,
    OpenMode, OpenOptions, RestoreInto, RestoreItemsOptions, RestoreReport, Safe, Unlock,
    VerifyReport, restore_backup, verify_backup,
};
use clap::{Args, Subcommand};

use crate::exit::{Exit, Failure};
use crate::safe_cmd::output::{self, human_size, utc};
use crate::safe_cmd::transfer::{Bar, Clash};
use crate::safe_cmd::{SafeArg, fail, quoted, resolve_folder};
use crate::secret_input;

/// `arca backup SAFE TARGET` or `arca backup verify TARGET`.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,

    #[command(flatten)]
    run: RunArgs,
}

/// `arca backup …` subcommands.
#[derive(Subcommand)]
pub enum BackupCommand {
    /// Check a backup without the Safe; each problem names the item
    ///
    /// Every attribute file must decrypt and parse, and every data file be there with its
    /// recorded HMAC tag (with --full, decrypted and its SHA-256 compared). Asks for the Safe
    /// Password of the backup's last run (or the recovery key with --recovery).
    Verify(VerifyArgs),
}

/// `arca backup SAFE TARGET`.
#[derive(Args)]
pub struct RunArgs {
    /// The Safe: the folder that holds safe.json (one named "verify" is given as ./verify)
    #[arg(value_name = "SAFE", required = true)]
    safe: Option<PathBuf>,

    /// The backup folder: created if missing; otherwise empty or a backup of this Safe
    #[arg(value_name = "TARGET", required = true)]
    target: Option<PathBuf>,

    /// Keep items in the backup that were deleted from the Safe since an earlier run
    #[arg(long)]
    keep_deleted: bool,

    /// Read the Safe Password from standard input (all of it, minus one trailing line break)
    /// instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,

    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `arca backup verify TARGET`.
#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    backup: BackupArg,

    /// Also decrypt every data file and compare its content with the recorded SHA-256 (slow:
    /// reads everything)
    #[arg(long)]
    full: bool,

    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// A backup folder and how to unlock it.
#[derive(Args)]
pub struct BackupArg {
    /// The backup folder: the one that holds backup.json
    #[arg(value_name = "TARGET")]
    target: PathBuf,

    /// Unlock with the recovery key instead of the Safe Password
    #[arg(long)]
    recovery: bool,

    /// Read the Safe Password (or with --recovery, the recovery key) from standard input (all
    /// of it, minus one trailing line break) instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,
}

/// The secret a backup (or a Safe) is unlocked with.
enum Secret {
    Password(Password),
    RecoveryKey(RecoveryKey),
}

impl Secret {
    fn unlock(&self) -> Unlock<'_> {
        match self {
            Self::Password(password) => Unlock::Password(password),
            Self::RecoveryKey(key) => Unlock::RecoveryKey(key),
        }
    }

    /// Asks for (or reads) the Safe Password, or the recovery key, of `what`.
    fn read(recovery: bool, password_stdin: bool, what: &str) -> Result<Self, Failure> {
        let typed = if password_stdin {
            secret_input::read_password_stdin()?
        } else if recovery {
            secret_input::prompt(&format!("Recovery key for {what}: "))?
        } else {
            secret_input::prompt(&format!("Safe Password for {what}: "))?
        };
        if recovery {
            Ok(Self::RecoveryKey(secret_input::recovery_key(&typed)?))
        } else {
            Ok(Self::Password(typed))
        }
    }
}

impl BackupArg {
    fn name(&self) -> String {
        format!("the backup {}", quoted(&self.target))
    }

    /// Checks that TARGET is a backup this build reads (and has a recovery key file, if that
    /// is to be used) before a secret is asked for, so a typo costs no typing.
    fn check(&self) -> Result<BackupManifest, Failure> {
        let context = || format!("cannot open {}", self.name());
        let manifest = BackupManifest::read(&self.target.join("backup.json"))
            .and_then(|manifest| manifest.ok_or_else(|| Error::NotABackup(self.target.clone())))
            .map_err(fail(context()))?;
        if self.recovery && !self.target.join("recovery.key").exists() {
            return Err(fail(context())(Error::NoRecoveryKey));
        }
        Ok(manifest)
    }

    fn secret(&self) -> Result<Secret, Failure> {
        Secret::read(self.recovery, self.password_stdin, &self.name())
    }
}

/// Runs `arca backup`.
pub fn backup(args: BackupArgs) -> Result<(), Failure> {
    match args.command {
        Some(BackupCommand::Verify(verify_args)) => verify(verify_args),
        None => run(args.run),
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let (Some(path), Some(target)) = (args.safe, args.target) else {
        return Err(Failure::usage(
            "give the Safe and the backup folder",
            "run `arca backup SAFE TARGET`, or `arca backup verify TARGET`",
        ));
    };
    let safe_arg = SafeArg {
        path,
        password_stdin: args.password_stdin,
    };
    let safe = safe_arg.open_reading()?;
    let report = {
        let bar = Bar::new("backing up");
        safe.backup(
            &target,
            &BackupOptions {
                keep_deleted: args.keep_deleted,
                items: None,
                threads: None,
            },
            &JobControl::new(),
            &mut |event| bar.observe(event),
        )
        .map_err(fail(format!(
            "cannot back up the Safe {} to {}",
            safe_arg.name(),
            quoted(&target)
        )))?
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        output::summary(&describe_backup(&report, &target))?;
    }
    list("left out", &report.pending);
    list("could not back up", &report.failed);
    if !report.pending.is_empty() {
        note!(
            "finish the interrupted imports with `arca import --resume {}`, then \
             back up again",
            safe_arg.path.display()
        );
    }
    if !report.failed.is_empty() {
        return Err(Failure::new(
            Exit::Damaged,
            anyhow::anyhow!(
                "{} file(s) could not be backed up because their data file in the Safe is \
                 missing or damaged (each is listed); everything else was",
                report.failed.len()
            ),
            "an earlier copy of them in the backup, if any, was kept; run `arca check SAFE \
             --full` to see what else is affected",
        ));
    }
    Ok(())
}

fn describe_backup(report: &BackupReport, target: &Path) -> String {
    let mut text = format!(
        "backed up {} item(s) to {}: {} attribute file(s) and {} data file(s) ({}) written, {} \
         unchanged",
        report.items,
        quoted(target),
        report.xml_written,
        report.data_files_copied,
        human_size(report.bytes_copied),
        report.unchanged
    );
    if report.removed > 0 {
        text.push_str(&format!(
            ", {} removed (deleted from the Safe)",
            report.removed
        ));
    }
    if report.kept_deleted > 0 {
        text.push_str(&format!(
            ", {} kept although deleted from the Safe",
            report.kept_deleted
        ));
    }
    text.push('\n');
    text
}

/// Prints each problem on standard error as `arca: WHAT PATH: PROBLEM (FILE)`.
fn list(what: &str, problems: &[ItemProblem]) {
    for problem in problems {
        eprintln!("arca: {what} {}", describe(problem));
    }
}

/// One problem in words: the item's path (or UUID), what is wrong, and the file concerned.
fn describe(problem: &ItemProblem) -> String {
    match &problem.file {
        Some(file) if problem.path.is_some() || problem.item.is_some() => {
            format!("{problem} ({})", arca_safe::escape_for_display(file))
        }
        _ => problem.to_string(),
    }
}

fn verify(args: VerifyArgs) -> Result<(), Failure> {
    args.backup.check()?;
    let secret = args.backup.secret()?;
    let report: VerifyReport = {
        let bar = Bar::new("verifying");
        verify_backup(
            &args.backup.target,
            secret.unlock(),
            &Backoff::for_user(),
            args.full,
            &JobControl::new(),
            &mut |event| bar.observe(event),
        )
        .map_err(fail(format!("cannot verify {}", args.backup.name())))?
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        let mut text = format!(
            "{} {} (last complete run {}): {} item(s), {} data file(s){}: {}\n",
            if report.stopped {
                "stopped verifying"
            } else {
                "verified"
            },
            args.backup.name(),
            report.last_complete.map_or_else(|| "never".to_owned(), utc),
            report.items,
            report.files_checked,
            if args.full { " decrypted" } else { " checked" },
            output::problems(report.problems.len())
        );
        for problem in &report.problems {
            text.push_str(&format!("problem: {}\n", describe(problem)));
        }
        output::summary(&text)?;
    }
    if report.interrupted {
        note!(
            "the last backup run did not complete; the next `arca backup SAFE {}` \
             completes it",
            args.backup.target.display()
        );
    }
    if report.is_clean() {
        return Ok(());
    }
    if report.stopped && report.problems.is_empty() {
        return Err(Failure::new(
            Exit::Incomplete,
            anyhow::anyhow!(
                "the verify of {} was stopped before its end: only {} data file(s) were checked, \
                 and no problem was found in them",
                args.backup.name(),
                report.files_checked
            ),
            "the files after them are not vouched for; run `arca backup verify TARGET` again to \
             check the whole backup",
        ));
    }
    Err(Failure::new(
        Exit::Damaged,
        anyhow::anyhow!(
            "{} has {} problem(s) (each is listed){}",
            args.backup.name(),
            report.problems.len(),
            if report.stopped {
                "; the verify was stopped before its end, so there may be more"
            } else {
                ""
            }
        ),
        "`arca backup SAFE TARGET` rewrites damaged attribute files and missing or replaced \
         data files from the Safe (delete a data file damaged inside first, so that it is \
         copied again); what the Safe no longer holds can only come from another backup",
    ))
}

/// `arca restore TARGET NEW_SAFE` or `arca restore TARGET SAFE --items PATH...`.
#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    backup: BackupArg,

    /// The new Safe's folder (must not exist yet, or be empty); with --items, the existing
    /// Safe to restore into, which must be the Safe backed up
    #[arg(value_name = "SAFE")]
    safe: PathBuf,

    /// Restore only these items, with everything in them (paths in the backed-up Safe, like
    /// /Photos/2024), into the existing Safe SAFE
    #[arg(long, value_name = "PATH", num_args = 1..)]
    items: Vec<String>,

    /// With --items: the folder of SAFE to restore into, `/` for the root (default: each
    /// item's original folder if it is still there, else the root)
    #[arg(long, value_name = "PATH", requires = "items")]
    into: Option<String>,

    /// With --items: what to do when an item of the same name is there already
    #[arg(long, value_enum, requires = "items")]
    on_clash: Option<Clash>,

    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs `arca restore`.
pub fn restore(args: RestoreArgs) -> Result<(), Failure> {
    let target = args.backup.target.clone();
    let report = if args.items.is_empty() {
        restore_new(&args)?
    } else {
        restore_items(&args)?
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        output::summary(&format!(
            "restored {} file(s) ({}) and {} folder(s) from {} into {}{}\n",
            report.files,
            human_size(report.bytes),
            report.folders,
            quoted(&target),
            if args.items.is_empty() {
                "the new Safe "
            } else {
                "the Safe "
            },
            quoted(&args.safe)
        ))?;
    }
    if report.already_restored > 0 {
        note!(
            "{} item(s) were restored already by an earlier run of this restore that \
             was stopped: kept as they are, and what was missing restored",
            report.already_restored
        );
    }
    list("note:", &report.notes);
    // The library's text starts with "skipped:".
    list("note:", &report.skipped);
    list("could not restore", &report.failed);
    if report.interrupted_backup {
        note!(
            "the last backup run had not completed; the items it had changed were \
             restored as it left them"
        );
    }
    if !report.failed.is_empty() {
        return Err(Failure::new(
            Exit::Damaged,
            anyhow::anyhow!(
                "{} item(s) could not be restored because their copy in the backup is damaged \
                 or missing (each is listed); everything else was restored",
                report.failed.len()
            ),
            "nothing damaged was restored; get the listed items from another backup, or run \
             `arca backup verify TARGET --full` to see the backup's state",
        ));
    }
    Ok(())
}

fn restore_new(args: &RestoreArgs) -> Result<RestoreReport, Failure> {
    args.backup.check()?;
    // Said before the secret is typed: a finished Safe is never overwritten.
    if Layout::new(&args.safe).manifest().exists() {
        return Err(fail(format!(
            "cannot restore {} into {}",
            args.backup.name(),
            quoted(&args.safe)
        ))(Error::AlreadyExists(args.safe.clone())));
    }
    let secret = args.backup.secret()?;
    let bar = Bar::new("restoring");
    restore_backup(
        &args.backup.target,
        secret.unlock(),
        &Backoff::for_user(),
        &args.safe,
        &JobControl::new(),
        &mut |event| bar.observe(event),
    )
    .map_err(fail(format!(
        "cannot restore {} into {}",
        args.backup.name(),
        quoted(&args.safe)
    )))
}

fn restore_items(args: &RestoreArgs) -> Result<RestoreReport, Failure> {
    let safe_arg = SafeArg {
        path: args.safe.clone(),
        password_stdin: args.backup.password_stdin,
    };
    args.backup.check()?;
    safe_arg.check_manifest()?;
    let secret = Secret::read(
        args.backup.recovery,
        args.backup.password_stdin,
        &format!("the Safe {}", safe_arg.name()),
    )?;
    let safe = Safe::open_with(
        &args.safe,
        secret.unlock(),
        &OpenOptions::mode(OpenMode::Write),
    )
    .map_err(fail(format!("cannot open the Safe {}", safe_arg.name())))?;
    let into = match &args.into {
        Some(path) => match resolve_folder(&safe, path)? {
            Some(folder) => RestoreInto::Folder(folder),
            None => RestoreInto::Root,
        },
        None => RestoreInto::Original,
    };
    let options = RestoreItemsOptions {
        into,
        on_clash: args.on_clash.unwrap_or_default().into(),
    };
    let bar = Bar::new("restoring");
    safe.restore_items_from_backup(
        &args.backup.target,
        &args.items,
        &options,
        &JobControl::new(),
        &mut |event| bar.observe(event),
    )
    .map_err(fail(format!(
        "cannot restore from {} into {}",
        args.backup.name(),
        safe_arg.name()
    )))
}
