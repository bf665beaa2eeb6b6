//! Sync between devices: `arca sync SAFE [--to FOLDER]` (one run, with the sync target set
//! first if given), `arca sync conflicts SAFE` (what sync decided for the person), and the
//! devices syncing the Safe (`arca sync devices|approve|remove`, in [`super::devices`]).
//!
//! `arca sync` takes either SAFE or a subcommand; a Safe folder literally named like one
//! (`conflicts`, `devices`, `approve`, `remove`) is given as `./conflicts`.
//!
//! Objects on the target that a run refuses (damaged, modified, not this Safe's) are warnings,
//! not failures, like the files `arca backup` leaves out: they are about the target, nothing of
//! them was taken into the Safe, and the next run tries again. A run that could not reach the
//! target, or found it another Safe's, fails with the exit code of its kind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use arca_safe::{
    Conflict, JobControl, S3Settings, Safe, Secret, SyncReport, TargetSettings, escape_for_display,
};
use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::devices::{self, DecideArgs, Decision, DevicesArgs};
use crate::safe_cmd::output::{self, count, human_size};
use crate::safe_cmd::{SafeArg, fail, quoted};

/// What to do about a sync target that serves another Safe.
pub const FOREIGN_TARGET_HINT: &str = "a sync target serves one Safe: give this Safe a folder \
     of its own (new or empty) with `arca sync SAFE --to FOLDER`";

/// The one object every sync target holds at its root (the library writes it on the first
/// run): how a folder that is already a sync target is told from one with other files in it.
const TARGET_MARKER: &str = "arca-sync.json";

/// A marker is a line of JSON; the library reads no more than this of it either.
const MARKER_MAX_LEN: u64 = 4096;

/// `arca sync SAFE [--to FOLDER]`, or one of its subcommands.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SyncArgs {
    #[command(subcommand)]
    command: Option<SyncCommand>,

    #[command(flatten)]
    run: RunArgs,
}

/// `arca sync …` subcommands.
#[derive(Subcommand)]
pub enum SyncCommand {
    /// List what sync decided for you, newest first (a field changed on two devices, a
    /// deleted item kept, a name given twice, a conflicted copy)
    Conflicts(ConflictsArgs),
    /// List the devices syncing the Safe as this one knows them (after its last sync): each
    /// with its id, name, code and state, and which device approved or removed it
    Devices(DevicesArgs),
    /// Approve a device that asks to join (asks to confirm, showing its code): from its next
    /// sync on, its changes reach every device. A sync follows at once, to tell the others
    ///
    /// Approve only a device you added yourself, after checking that it shows the same code
    /// as `arca sync SAFE` shows here for it (DEVICE may be that code).
    Approve(DecideArgs),
    /// Remove a device, or refuse one that asks to join (asks to confirm): its changes from
    /// now on are undone on every device and it no longer syncs. A sync follows at once, to
    /// tell the others
    ///
    /// The device keeps its copy of the Safe, and the Safe's keys: it could still read what is
    /// synced later. A removed device joins again only as a new device, from a new sync
    /// configuration. A device cannot remove itself.
    Remove(DecideArgs),
}

/// `arca sync SAFE [--to FOLDER]`.
#[derive(Args)]
pub struct RunArgs {
    /// The Safe: the folder that holds safe.json (one named like a subcommand, e.g.
    /// "devices", is given as ./devices)
    #[arg(value_name = "SAFE", required = true)]
    safe: Option<PathBuf>,

    /// Sync with this folder from now on (created if missing; otherwise empty, or the sync
    /// target of this Safe), or with a bucket: s3://BUCKET[/PREFIX] with --endpoint. Without
    /// it, the target given last time is used
    #[arg(long, value_name = "FOLDER|s3://BUCKET[/PREFIX]")]
    to: Option<PathBuf>,

    /// For --to s3://…: the S3 service's address, e.g. https://s3.eu-central-1.amazonaws.com
    /// or http://nas.local:3900 (default: $AWS_ENDPOINT_URL)
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,

    /// For --to s3://…: the bucket's region (default: $AWS_REGION, else us-east-1; Garage's
    /// is "garage")
    #[arg(long, value_name = "REGION")]
    region: Option<String>,

    /// For --to s3://…: the access key's id (default: $AWS_ACCESS_KEY_ID). Its secret is read
    /// from $AWS_SECRET_ACCESS_KEY, or asked for on the terminal; it is kept only in the
    /// Safe's encrypted database
    #[arg(long, value_name = "ID")]
    access_key_id: Option<String>,

    /// Read the Safe Password from standard input (all of it, minus one trailing line break)
    /// instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,

    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `arca sync conflicts SAFE`.
#[derive(Args)]
pub struct ConflictsArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Print the list as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs `arca sync`.
pub fn sync(args: SyncArgs) -> Result<(), Failure> {
    match args.command {
        Some(SyncCommand::Conflicts(conflicts_args)) => conflicts(conflicts_args),
        Some(SyncCommand::Devices(devices_args)) => devices::devices(devices_args),
        Some(SyncCommand::Approve(decide_args)) => devices::decide(decide_args, Decision::Approve),
        Some(SyncCommand::Remove(decide_args)) => devices::decide(decide_args, Decision::Remove),
        None => run(args.run),
    }
}

fn run(args: RunArgs) -> Result<(), Failure> {
    let Some(path) = args.safe.clone() else {
        return Err(Failure::usage(
            "give the Safe to sync",
            "run `arca sync SAFE [--to FOLDER]`, or `arca sync conflicts|devices SAFE`",
        ));
    };
    let safe_arg = SafeArg {
        path,
        password_stdin: args.password_stdin,
    };
    let manifest = safe_arg.check_manifest()?;
    if let Some(location) = args
        .to
        .as_deref()
        .and_then(Path::to_str)
        .and_then(|to| to.strip_prefix("s3://"))
    {
        let bucket = BucketArgs::check(location, &args)?;
        let safe = safe_arg.open()?;
        let settings = bucket.settings_for(&safe, &safe_arg)?;
        let report = run_sync(&safe, &safe_arg, &settings)?;
        return print_report(&report, &safe_arg, &settings, args.json);
    }
    // A wrong FOLDER is said before the password is typed.
    let to = args
        .to
        .as_deref()
        .map(|folder| {
            let folder = TargetFolder::check(folder, &safe_arg.path, Need::CreateIfMissing)?;
            folder.refuse_foreign(manifest.safe_id)?;
            Ok::<_, Failure>(folder)
        })
        .transpose()?;
    let safe = safe_arg.open()?;
    let stored = safe.sync_target().map_err(fail(format!(
        "cannot read the sync target of the Safe {}",
        safe_arg.name()
    )))?;
    let settings = match (to, stored) {
        // The same folder again is no new choice: it is not made anew if its drive is not
        // connected, and what this copy uploaded there is not read again.
        (Some(folder), Some(stored)) if folder.names(&stored) => reachable(stored, &safe_arg)?,
        (Some(folder), stored) => {
            let settings = folder.create()?;
            set_target(&safe, &safe_arg, stored.as_ref(), &settings)?;
            settings
        }
        (None, Some(stored)) => reachable(stored, &safe_arg)?,
        (None, None) => {
            return Err(Failure::usage(
                format!(
                    "the Safe {} has no sync target yet; nothing was synced",
                    safe_arg.name()
                ),
                format!(
                    "pass the folder to sync with once: `arca sync {} --to FOLDER` (a USB drive, \
                     a network share or a folder a cloud client syncs); later runs use it",
                    safe_arg.path.display()
                ),
            ));
        }
    };
    let report = run_sync(&safe, &safe_arg, &settings)?;
    print_report(&report, &safe_arg, &settings, args.json)
}

/// A bucket given with `--to s3://BUCKET[/PREFIX]`, its fields checked before the password is
/// asked for; the secret comes last.
struct BucketArgs(S3Settings);

impl BucketArgs {
    fn check(location: &str, args: &RunArgs) -> Result<Self, Failure> {
        let from_env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        let refused = |error: arca_safe::Error| {
            Failure::usage(
                format!("--to s3://{location}: {error}"),
                "give s3://BUCKET[/PREFIX] with --endpoint URL, --region and --access-key-id",
            )
        };
        S3Settings::checked_bucket(bucket).map_err(refused)?;
        let Some(endpoint) = args
            .endpoint
            .clone()
            .or_else(|| from_env("AWS_ENDPOINT_URL"))
        else {
            return Err(Failure::usage(
                "a bucket needs the address of its S3 service",
                "pass --endpoint URL (e.g. https://s3.eu-central-1.amazonaws.com, or your \
                 Garage or MinIO address), or set AWS_ENDPOINT_URL",
            ));
        };
        let Some(access_key_id) = args
            .access_key_id
            .clone()
            .or_else(|| from_env("AWS_ACCESS_KEY_ID"))
        else {
            return Err(Failure::usage(
                "a bucket needs an access key",
                "pass --access-key-id ID (or set AWS_ACCESS_KEY_ID); its secret is read from \
                 AWS_SECRET_ACCESS_KEY, or asked for on the terminal",
            ));
        };
        let region = args
            .region
            .clone()
            .or_else(|| from_env("AWS_REGION"))
            .or_else(|| from_env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".to_owned());
        S3Settings::checked(
            &endpoint,
            &region,
            bucket,
            prefix,
            &access_key_id,
            Secret::new(String::new()),
        )
        .map(Self)
        .map_err(refused)
    }

    /// The settings to sync with: the stored ones if they name this bucket and key (the
    /// secret is not asked for again), otherwise new ones, set as the Safe's target.
    fn settings_for(self, safe: &Safe, safe_arg: &SafeArg) -> Result<TargetSettings, Failure> {
        let wanted = self.0;
        let stored = safe.sync_target().map_err(fail(format!(
            "cannot read the sync target of the Safe {}",
            safe_arg.name()
        )))?;
        let secret_given = std::env::var("AWS_SECRET_ACCESS_KEY")
            .ok()
            .filter(|secret| !secret.is_empty());
        if let Some(TargetSettings::S3(settings)) = &stored
            && secret_given.is_none()
            && (S3Settings {
                secret_access_key: settings.secret_access_key.clone(),
                ..wanted.clone()
            }) == *settings
        {
            return Ok(TargetSettings::S3(settings.clone()));
        }
        let typed = match secret_given {
            Some(secret) => Secret::new(secret),
            None => {
                let typed = crate::secret_input::prompt(&format!(
                    "Secret access key of {} for s3://{}: ",
                    wanted.access_key_id, wanted.bucket
                ))?;
                Secret::new(typed.expose_for_strength_meter().to_owned())
            }
        };
        let secret_access_key = Secret::checked(typed.expose()).map_err(|error| {
            Failure::usage(
                error.to_string(),
                "give the secret that belongs to the access key",
            )
        })?;
        let settings = TargetSettings::S3(S3Settings {
            secret_access_key,
            ..wanted
        });
        set_target(safe, safe_arg, stored.as_ref(), &settings)?;
        Ok(settings)
    }
}

/// The target stored for the Safe, which must be reachable: a folder target whose drive is not
/// connected would otherwise be made anew, empty, where the drive is mounted.
pub fn reachable(settings: TargetSettings, safe_arg: &SafeArg) -> Result<TargetSettings, Failure> {
    if let TargetSettings::Folder { path } = &settings
        && !path.is_dir()
    {
        return Err(Failure::new(
            Exit::NotFound,
            anyhow::anyhow!(
                "cannot sync the Safe {}: its sync target {} is not there",
                safe_arg.name(),
                quoted(path)
            ),
            "connect the drive it is on (or mount the share), then run the command again; to \
             sync with another folder, pass --to FOLDER",
        ));
    }
    Ok(settings)
}

/// Makes `settings` the Safe's sync target in place of `before` (a new target starts from
/// nothing: the next run uploads everything this copy has that it lacks).
fn set_target(
    safe: &Safe,
    safe_arg: &SafeArg,
    before: Option<&TargetSettings>,
    settings: &TargetSettings,
) -> Result<(), Failure> {
    safe.set_sync_target(settings).map_err(fail(format!(
        "cannot set the sync target of the Safe {} to {}",
        safe_arg.name(),
        describe_target(settings)
    )))?;
    match before {
        Some(before) => note!(
            "the Safe {} now syncs with {} (instead of {})",
            safe_arg.name(),
            describe_target(settings),
            describe_target(before)
        ),
        None => note!(
            "the Safe {} now syncs with {}",
            safe_arg.name(),
            describe_target(settings)
        ),
    }
    Ok(())
}

/// One sync run with the target stored in `safe`.
pub fn run_sync(
    safe: &Safe,
    safe_arg: &SafeArg,
    settings: &TargetSettings,
) -> Result<SyncReport, Failure> {
    step!("syncing with {}", describe_target(settings));
    safe.sync(&JobControl::new())
        .map_err(fail(format!("cannot sync the Safe {}", safe_arg.name())))
}

/// Prints the report (text or JSON), then [`finish`].
fn print_report(
    report: &SyncReport,
    safe_arg: &SafeArg,
    settings: &TargetSettings,
    json: bool,
) -> Result<(), Failure> {
    if json {
        output::print_json(report)?;
    } else {
        output::summary(&describe_report(report, safe_arg, settings))?;
    }
    finish(report, safe_arg)
}

/// Lists the run's problems as warnings; fails only if the run was stopped before its end.
pub fn finish(report: &SyncReport, safe_arg: &SafeArg) -> Result<(), Failure> {
    warn_problems(report);
    if report.stopped {
        return Err(Failure::new(
            Exit::Incomplete,
            anyhow::anyhow!(
                "the sync of the Safe {} was stopped before its end",
                safe_arg.name()
            ),
            "what was done is kept; run `arca sync SAFE` again to finish",
        ));
    }
    Ok(())
}

/// Each refused object on standard error; see the module documentation for why these are
/// warnings.
fn warn_problems(report: &SyncReport) {
    for problem in &report.problems {
        eprintln!(
            "arca: warning: refused from the sync target: {}",
            escape_for_display(problem)
        );
    }
    if !report.problems.is_empty() {
        note!(
            "nothing refused was taken into the Safe; if the next run refuses them again, the \
             sync target is damaged or was tampered with"
        );
    }
}

/// The report in a few lines: what went each way, what waits, and each decision.
pub fn describe_report(
    report: &SyncReport,
    safe_arg: &SafeArg,
    settings: &TargetSettings,
) -> String {
    let mut text = format!(
        "synced the Safe {} with {}: sent {} and {} ({}), received {} and {} ({})\n",
        safe_arg.name(),
        describe_target(settings),
        count(report.operations_sent, "change"),
        count(report.files_sent, "file"),
        human_size(report.bytes_sent),
        count(report.operations_received, "change"),
        count(report.files_received, "file"),
        human_size(report.bytes_received),
    );
    if report.files_waiting > 0 {
        text.push_str(&format!(
            "{} for content from a device that has not synced since\n",
            super::check::waiting(report.files_waiting)
        ));
    }
    if report.operations_waiting > 0 {
        text.push_str(&format!(
            "{} received wait for earlier ones another device has not synced yet\n",
            count(report.operations_waiting, "change")
        ));
    }
    if report.files_removed > 0 {
        text.push_str(&format!(
            "removed {} from the sync target (old versions and deleted files)\n",
            count(report.files_removed, "file")
        ));
    }
    for conflict in &report.conflicts {
        text.push_str(&format!("conflict: {}\n", describe_conflict(conflict)));
    }
    text.push_str(&devices::describe_report(report, safe_arg));
    text
}

fn describe_conflict(conflict: &Conflict) -> String {
    escape_for_display(&conflict.detail)
}

/// A target as people read it: a folder's path, a bucket's address; never a credential.
pub fn describe_target(settings: &TargetSettings) -> String {
    match settings {
        TargetSettings::Folder { path } => quoted(path),
        TargetSettings::S3(s3) => s3.describe(),
        // Not `serde_json` of the settings: they would show a credential (S3's secret key).
        _ => "a kind of sync target this version of arca cannot show".to_owned(),
    }
}

/// A target as JSON, without its credentials (`TargetSettings` itself serialises the S3
/// secret key, for the sealed configuration and the Safe's database).
pub fn target_json(settings: &TargetSettings) -> serde_json::Value {
    match settings {
        TargetSettings::Folder { path } => serde_json::json!({ "kind": "folder", "path": path }),
        TargetSettings::S3(s3) => serde_json::json!({
            "kind": "s3",
            "endpoint": s3.endpoint,
            "region": s3.region,
            "bucket": s3.bucket,
            "prefix": s3.prefix,
            "accessKeyId": s3.access_key_id,
        }),
        _ => serde_json::json!({ "kind": "unknown" }),
    }
}

fn conflicts(args: ConflictsArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let conflicts = safe.sync_conflicts().map_err(fail(format!(
        "cannot read the sync conflicts of the Safe {}",
        args.safe.name()
    )))?;
    if args.json {
        return output::print_json(&conflicts);
    }
    if conflicts.is_empty() {
        return output::summary(&format!(
            "sync has decided nothing for you in the Safe {}\n",
            args.safe.name()
        ));
    }
    let mut text = String::new();
    for conflict in &conflicts {
        text.push_str(&format!(
            "{:<8} {}\n",
            conflict.kind,
            describe_conflict(conflict)
        ));
    }
    output::write_stdout(text.as_bytes())
}

/// Whether a folder target must exist already.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// `arca sync --to`: a new target is made where none is.
    CreateIfMissing,
    /// `arca join`: the target another device syncs with must be there.
    Existing,
}

/// A folder given as sync target, checked: not inside the Safe, and missing, empty or a sync
/// target already (whose Safe the library checks on the first run).
pub struct TargetFolder {
    /// Absolute, so that the stored target does not depend on the directory `arca` ran in.
    path: PathBuf,
}

impl TargetFolder {
    /// Checks `folder` as the sync target of the Safe in `safe` (missing for a Safe not made
    /// yet).
    pub fn check(folder: &Path, safe: &Path, need: Need) -> Result<Self, Failure> {
        let name = quoted(folder);
        let unusable = |error: io::Error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context(format!("cannot use {name} as the sync target")),
                "check that the folder exists and is readable",
            )
        };
        let path = match fs::metadata(folder) {
            Ok(metadata) if !metadata.is_dir() => {
                return Err(Failure::usage(
                    format!("the sync target {name} is a file, not a folder"),
                    "give the folder to sync with (a new or empty one, or the one another \
                     device of this Safe syncs with)",
                ));
            }
            Ok(_) => {
                let path = fs::canonicalize(folder).map_err(unusable)?;
                let mut entries = fs::read_dir(&path).map_err(unusable)?;
                if entries.next().is_some() && !path.join(TARGET_MARKER).is_file() {
                    return Err(Failure::new(
                        Exit::NotFound,
                        anyhow::anyhow!(
                            "the folder {name} is not a sync target: it holds other files"
                        ),
                        "give an empty or new folder, or the one another device of this Safe \
                         syncs with",
                    ));
                }
                path
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                if need == Need::Existing {
                    return Err(Failure::new(
                        Exit::NotFound,
                        anyhow::anyhow!("the sync target {name} does not exist"),
                        "give the folder the other devices sync with as it is reached here \
                         (where its disk is mounted, or its share)",
                    ));
                }
                std::path::absolute(folder).map_err(unusable)?
            }
            Err(error) => return Err(unusable(error)),
        };
        // A Safe not made yet (`arca join`) is compared by its absolute path.
        if let Ok(safe) = fs::canonicalize(safe).or_else(|_| std::path::absolute(safe))
            && (path.starts_with(&safe) || safe.starts_with(&path))
        {
            return Err(Failure::usage(
                format!(
                    "the sync target {name} {} the Safe {}",
                    if path.starts_with(&safe) {
                        "is inside"
                    } else {
                        "holds"
                    },
                    quoted(&safe)
                ),
                "give a folder apart from the Safe, best on another disk",
            ));
        }
        Ok(Self { path })
    }

    /// Whether `settings` name this folder.
    pub fn names(&self, settings: &TargetSettings) -> bool {
        matches!(settings, TargetSettings::Folder { path } if *path == self.path)
    }

    /// Refuses a folder that is the sync target of another Safe. The library refuses it too,
    /// but only once the run has started: said here, no password is typed for nothing and the
    /// setting is never stored.
    pub fn refuse_foreign(&self, safe_id: Uuid) -> Result<(), Failure> {
        match self.owner() {
            Some(owner) if owner != safe_id => Err(Failure::new(
                Exit::Clash,
                anyhow::anyhow!(
                    "the folder {} is the sync target of another Safe (UUID {owner}), not of \
                     this one (UUID {safe_id})",
                    quoted(&self.path)
                ),
                FOREIGN_TARGET_HINT,
            )),
            _ => Ok(()),
        }
    }

    /// The Safe the folder serves, as its marker says; `None` without one, or with one the
    /// library will refuse in its own words.
    fn owner(&self) -> Option<Uuid> {
        let file = fs::File::open(self.path.join(TARGET_MARKER)).ok()?;
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut io::Read::take(file, MARKER_MAX_LEN), &mut bytes).ok()?;
        let marker: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        marker.get("safe")?.as_str()?.parse().ok()
    }

    /// Creates the folder where missing (private, with its missing parents, as a backup
    /// folder is); the settings that name it.
    pub fn create(self) -> Result<TargetSettings, Failure> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&self.path).map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context(format!(
                    "cannot create the sync target {}",
                    quoted(&self.path)
                )),
                "check that the disk is connected and writable",
            )
        })?;
        Ok(self.settings())
    }

    /// The settings that name the folder.
    pub fn settings(self) -> TargetSettings {
        TargetSettings::Folder { path: self.path }
    }
}
