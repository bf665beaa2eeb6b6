//! The sync configuration, how another device joins a Safe: `arca sync-config export SAFE
//! --out FILE`, `arca sync-config show FILE` and `arca join CONFIG NEW_SAFE`.
//!
//! The configuration holds the Safe's key file, sealed under the Safe Password: whoever has it
//! can try passwords offline, as with the Safe's own folder. So it is written readable by its
//! owner only, never over an existing file without `--force`, and never onto the sync target
//! (the one place the library keeps the key file away from).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use arca_cryptor::Password;
use arca_safe::{
    Error, MAX_SYNC_CONFIG_LEN, Safe, SyncConfig, SyncReport, TargetSettings, escape_for_display,
    read_sync_config,
};
use clap::{Args, Subcommand};
use serde::Serialize;
use uuid::Uuid;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::output::{self, utc};
use crate::safe_cmd::sync::{self as sync_cmd, Need, TargetFolder, describe_target, target_json};
use crate::safe_cmd::{SafeArg, ask_password, fail, qr, quoted};

/// `arca sync-config …`.
#[derive(Subcommand)]
pub enum SyncConfigCommand {
    /// Write the sync configuration another device joins with (asks for the Safe Password;
    /// the Safe needs a sync target: `arca sync SAFE --to FOLDER`)
    ///
    /// The file holds the Safe's key file, sealed under the Safe Password: anyone who has it
    /// can try passwords against it. It is written readable by you only; carry it to the
    /// other device yourself (not on the sync target), and delete it once that device has
    /// joined.
    Export(ExportArgs),
    /// Show what a sync configuration holds: the Safe's name and UUID, the sync target, when
    /// it was exported and its comment (asks for the Safe Password)
    Show(ShowArgs),
}

/// `arca sync-config export SAFE --out FILE`.
#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The file to write (readable by you only)
    #[arg(long, value_name = "FILE", required_unless_present = "qr")]
    out: Option<PathBuf>,

    /// Also (or instead) write it as a QR code: an image, FILE.svg or FILE.png (readable by
    /// you only). `arca join` takes a photo or screenshot of it (PNG or JPEG) as CONFIG
    #[arg(long, value_name = "FILE.svg|FILE.png")]
    qr: Option<PathBuf>,

    /// A note for whoever joins with it, e.g. which device it is for
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "",
        hide_default_value = true
    )]
    comment: String,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,
}

/// `arca sync-config show FILE`.
#[derive(Args)]
pub struct ShowArgs {
    /// The sync configuration
    #[arg(value_name = "FILE")]
    config: PathBuf,

    /// Read the Safe Password from standard input (all of it, minus one trailing line break)
    /// instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,

    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `arca join CONFIG NEW_SAFE [--target FOLDER]`.
#[derive(Args)]
pub struct JoinArgs {
    /// The sync configuration, written by `arca sync-config export` on a device of the Safe
    #[arg(value_name = "CONFIG")]
    config: PathBuf,

    /// The folder to make this device's copy of the Safe in; it must not exist yet, or be
    /// empty
    #[arg(value_name = "NEW_SAFE")]
    safe: PathBuf,

    /// Where the sync target folder is on this device, if not where the configuration says
    /// (a USB drive mounted elsewhere, a share under another path)
    #[arg(long, value_name = "FOLDER")]
    target: Option<PathBuf>,

    /// Read the Safe Password from standard input (all of it, minus one trailing line break)
    /// instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,

    /// Print {"safe", "id", "config", "target", "sync"} as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs one `arca sync-config` subcommand.
pub fn sync_config(command: SyncConfigCommand) -> Result<(), Failure> {
    match command {
        SyncConfigCommand::Export(args) => export(args),
        SyncConfigCommand::Show(args) => show(args),
    }
}

fn export(args: ExportArgs) -> Result<(), Failure> {
    args.safe.check_manifest()?;
    for out in args.out.iter().chain(&args.qr) {
        check_out(out, args.force)?;
    }
    let qr_format = args.qr.as_deref().map(qr::Format::of).transpose()?;
    let password = args.safe.password()?;
    let safe = args.safe.open_as(&password, arca_safe::OpenMode::Read)?;
    let context = || {
        format!(
            "cannot export the sync configuration of the Safe {}",
            args.safe.name()
        )
    };
    let Some(target) = safe.sync_target().map_err(fail(context()))? else {
        return Err(Failure::usage(
            format!(
                "the Safe {} has no sync target yet, so there is nothing to join; nothing was \
                 written",
                args.safe.name()
            ),
            format!(
                "choose one (and sync once) with `arca sync {} --to FOLDER`, then export",
                args.safe.path.display()
            ),
        ));
    };
    for out in args.out.iter().chain(&args.qr) {
        refuse_out_on_target(out, &target)?;
    }
    // Checks the password again, as every security setting does: the file carries the keys.
    let bytes = safe
        .export_sync_config(&password, &args.comment)
        .map_err(fail(context()))?;
    let mut written = Vec::new();
    if let Some(out) = &args.out {
        write_private(out, &bytes)?;
        written.push(out);
    }
    if let (Some(out), Some(format)) = (&args.qr, qr_format) {
        let text = arca_safe::sync_config_text(&bytes).map_err(fail(context()))?;
        write_private(out, &qr::image(&text, format)?)?;
        written.push(out);
    }
    for out in &written {
        output::summary(&format!(
            "wrote the sync configuration of the Safe {} (sync target {}) to {}\n",
            args.safe.name(),
            describe_target(&target),
            quoted(out)
        ))?;
    }
    note!(
        "it opens with the Safe Password and holds the Safe's keys: carry it to the other device \
         yourself, run `arca join {} NEW_SAFE` there, then delete it",
        written
            .first()
            .map_or(String::new(), |out| out.display().to_string())
    );
    Ok(())
}

fn write_private(out: &Path, bytes: &[u8]) -> Result<(), Failure> {
    arca_cryptor::write_atomically_private(out, bytes).map_err(|error| {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context(format!("cannot write {}", quoted(out))),
            "check that the folder is writable (and that the disk is not full); nothing was \
             written",
        )
    })
}

/// Refuses an OUT that is a folder, in a missing folder, or (without `--force`) exists.
fn check_out(out: &Path, force: bool) -> Result<(), Failure> {
    let name = quoted(out);
    if let Ok(existing) = fs::symlink_metadata(out) {
        if existing.is_dir() || out.is_dir() {
            return Err(Failure::usage(
                format!("--out {name} is a folder"),
                "give the path of the file to write, including its name",
            ));
        }
        if !force {
            return Err(Failure::usage(
                format!("--out {name} already exists; nothing was written"),
                "choose another file, or pass --force to replace it",
            ));
        }
    }
    let folder = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Failure::new(
            Exit::Io,
            anyhow::anyhow!(
                "cannot write {name}: the folder {} does not exist",
                quoted(folder)
            ),
            "create the folder first, or write the file elsewhere",
        ));
    }
    Ok(())
}

/// The configuration must not travel with the events: whoever can read the target could then
/// try passwords against the Safe's key file.
fn refuse_out_on_target(out: &Path, target: &TargetSettings) -> Result<(), Failure> {
    let TargetSettings::Folder { path } = target else {
        return Ok(());
    };
    let folder = out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let (Ok(folder), Ok(target)) = (fs::canonicalize(folder), fs::canonicalize(path))
        && folder.starts_with(&target)
    {
        return Err(Failure::usage(
            format!(
                "--out {} is inside the sync target {}; nothing was written",
                quoted(out),
                quoted(path)
            ),
            "the configuration holds the Safe's keys, which never go to the sync target: write \
             it elsewhere (another USB drive, a folder of yours) and carry it over",
        ));
    }
    Ok(())
}

fn show(args: ShowArgs) -> Result<(), Failure> {
    let bytes = read_config(&args.config)?;
    let password = config_password(&args.config, args.password_stdin)?;
    let config = read_sync_config(&bytes, &password).map_err(config_failure(&args.config))?;
    if args.json {
        return output::print_json(&ConfigView::of(&config));
    }
    let text = format!(
        "Safe:      {}\n\
         Id:        {}\n\
         Target:    {}\n\
         Exported:  {} UTC\n\
         Comment:   {}\n",
        escape_for_display(&config.name),
        config.safe_id,
        describe_target(&config.target),
        utc(config.exported_at),
        if config.comment.is_empty() {
            "-".to_owned()
        } else {
            escape_for_display(&config.comment)
        },
    );
    output::write_stdout(text.as_bytes())
}

/// Reads a configuration file whole (up to the library's limit, so a wrong path to a large
/// file costs no memory); from a photo or screenshot of its QR code, the text it holds.
fn read_config(path: &Path) -> Result<Vec<u8>, Failure> {
    let name = quoted(path);
    let unreadable = |error: io::Error| {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context(format!("cannot read the sync configuration {name}")),
            "check the path of the file `arca sync-config export` wrote",
        )
    };
    let file = File::open(path).map_err(unreadable)?;
    if file.metadata().map_err(unreadable)?.is_dir() {
        return Err(Failure::usage(
            format!("the sync configuration {name} is a folder"),
            "give the file `arca sync-config export` wrote",
        ));
    }
    let mut bytes = Vec::new();
    // A photo of a QR code is larger than any configuration; past that, one byte more than
    // allowed, so that the library can say it is too large.
    file.take(arca_safe::MAX_PICTURE_LEN.max(MAX_SYNC_CONFIG_LEN as u64 + 1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if arca_safe::is_picture(&bytes) {
        return arca_safe::sync_config_from_picture(&bytes)
            .map(String::into_bytes)
            .map_err(|reason| {
                Failure::usage(
                    format!("{name} is an image, but {reason}"),
                    "photograph or screenshot the whole QR code `arca sync-config export --qr` \
                 made (sharp, straight, with its white border), or use the configuration file",
                )
            });
    }
    bytes.truncate(MAX_SYNC_CONFIG_LEN + 1);
    Ok(bytes)
}

fn config_password(path: &Path, password_stdin: bool) -> Result<Password, Failure> {
    ask_password(
        &format!("the sync configuration {}", quoted(path)),
        password_stdin,
    )
}

/// A configuration error as a failure: one that does not open with the password gets the
/// wrong-password code, as `arca rncryptor decrypt` gives a message that does not open.
fn config_failure(path: &Path) -> impl FnOnce(Error) -> Failure {
    let context = format!("cannot open the sync configuration {}", quoted(path));
    move |error| match &error {
        // A wrong password and a damaged file look the same (one HMAC).
        Error::WrongSyncConfigPassword => Failure::new(
            Exit::Authentication,
            anyhow::Error::new(error).context(context),
            "check the Safe Password (the one the Safe had when the configuration was \
             exported); if it is right, the file is damaged: export a new one on a device that \
             syncs",
        ),
        _ => fail(context)(error),
    }
}

/// A configuration as `show --json` and `join --json` print it: as [`SyncConfig`], but the
/// target without its credentials.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigView<'a> {
    name: &'a str,
    safe_id: Uuid,
    target: serde_json::Value,
    exported_at: i64,
    comment: &'a str,
}

impl<'a> ConfigView<'a> {
    fn of(config: &'a SyncConfig) -> Self {
        Self {
            name: &config.name,
            safe_id: config.safe_id,
            target: target_json(&config.target),
            exported_at: config.exported_at,
            comment: &config.comment,
        }
    }
}

/// What `join --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Joined<'a> {
    safe: &'a Path,
    id: Uuid,
    config: ConfigView<'a>,
    target: serde_json::Value,
    sync: &'a SyncReport,
}

/// Makes this device's copy and runs its first sync right away: joining is asked for to get
/// the Safe's files here, and the target was just checked to be reachable. A first sync that
/// fails leaves a working copy that `arca sync NEW_SAFE` goes on from.
pub fn join(args: JoinArgs) -> Result<(), Failure> {
    let name = quoted(&args.safe);
    // Said before the password is typed; the library checks again.
    let taken = match fs::read_dir(&args.safe) {
        Ok(mut entries) => entries.next().is_some(),
        Err(error) => error.kind() == io::ErrorKind::NotADirectory,
    };
    if taken {
        return Err(fail(format!("cannot join into {name}"))(
            Error::AlreadyExists(args.safe.clone()),
        ));
    }
    let bytes = read_config(&args.config)?;
    let given = args
        .target
        .as_deref()
        .map(|folder| TargetFolder::check(folder, &args.safe, Need::Existing))
        .transpose()?;
    let password = config_password(&args.config, args.password_stdin)?;
    let config = read_sync_config(&bytes, &password).map_err(config_failure(&args.config))?;
    let folder = match (given, &config.target) {
        (Some(folder), _) => Some(folder),
        (None, TargetSettings::Folder { path }) => Some(
            TargetFolder::check(path, &args.safe, Need::Existing).map_err(|failure| {
                failure.with_hint(
                    "the configuration names the folder as the exporting device reaches it; \
                     give where it is on this device with --target FOLDER (nothing was made)",
                )
            })?,
        ),
        (None, _) => None,
    };
    if let Some(folder) = &folder {
        folder.refuse_foreign(config.safe_id)?;
    }
    let target_here = folder.map_or_else(|| config.target.clone(), TargetFolder::settings);
    let (safe, config) = Safe::join(&args.safe, &bytes, &password, Some(target_here.clone()))
        .map_err(config_failure(&args.config))?;
    // The long part follows: the password is wiped first.
    drop(password);
    if !args.json {
        output::summary(&format!(
            "made {name}, this device's copy of the Safe {} (id {}); its first sync follows\n",
            escape_for_display(&config.name),
            config.safe_id
        ))?;
    }
    let safe_arg = SafeArg {
        path: args.safe.clone(),
        password_stdin: args.password_stdin,
    };
    let report = sync_cmd::run_sync(&safe, &safe_arg, &target_here).map_err(|failure| {
        failure.with_hint(format!(
            "the copy {name} is made and keeps what it received; run `arca sync {}` to go on \
             (with --to FOLDER if the sync target is elsewhere on this device)",
            args.safe.display()
        ))
    })?;
    if args.json {
        output::print_json(&Joined {
            safe: &args.safe,
            id: config.safe_id,
            config: ConfigView::of(&config),
            target: target_json(&target_here),
            sync: &report,
        })?;
    } else {
        output::summary(&sync_cmd::describe_report(&report, &safe_arg, &target_here))?;
    }
    note!(
        "delete the sync configuration {} now that this device has joined: it holds the Safe's \
         keys. From now on, `arca sync {}` syncs this copy",
        quoted(&args.config),
        args.safe.display()
    );
    sync_cmd::finish(&report, &safe_arg)
}
