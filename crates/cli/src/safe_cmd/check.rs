//! `arca check`: is the Safe whole? Every problem is listed naming the item or file it is about.

use std::path::PathBuf;

use arca_safe::{
    CheckReport, Error, ErrorKind, JobControl, JobEvent, OpenMode, OpenOptions, Problem,
    RebuildReport, Safe, Unlock, rebuild_database_from_backup,
};
use clap::Args;
use serde::Serialize;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::output::{self, human_size, utc};
use crate::safe_cmd::transfer::Bar;
use crate::safe_cmd::{SafeArg, fail, quoted};

/// `arca check SAFE`.
#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Also decrypt every file and compare its content with the recorded SHA-256 (slow:
    /// reads everything). Without it, each data file's size and HMAC tag are checked
    #[arg(long)]
    full: bool,

    /// Fix what can be fixed safely: finish interrupted imports, mark damaged or missing
    /// content, move orphan data files into /Recovered, remove temporary files. Nothing that
    /// could hold your data is deleted
    #[arg(long)]
    repair: bool,

    /// With --repair: if the attribute database is damaged, rebuild it from this backup of
    /// the Safe first (names, folders and tags as of the backup's last run; the damaged
    /// database is kept aside in the Safe's folder, and data files the backup does not know
    /// are recovered into /Recovered)
    #[arg(long, value_name = "TARGET", requires = "repair")]
    from_backup: Option<PathBuf>,

    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// What `check --from-backup --json` prints.
#[derive(Serialize)]
struct RebuildOutcome<'a> {
    rebuild: &'a RebuildReport,
    check: &'a CheckReport,
}

/// How to rebuild a damaged database, for hints.
const REBUILD_HINT: &str = "the attribute database is damaged: rebuild it from a backup of \
     this Safe with `arca check SAFE --repair --from-backup TARGET` (the damaged database is \
     kept aside; names, folders and tags come back as of the backup)";

/// Checks the Safe; fails with [`Exit::Damaged`] if anything was found.
pub fn check(args: CheckArgs) -> Result<(), Failure> {
    let (safe, rebuild) = match &args.from_backup {
        Some(target) => {
            args.safe.check_manifest()?;
            let password = args.safe.password()?;
            let bar = Bar::new("rebuilding");
            let (safe, report) = rebuild_database_from_backup(
                &args.safe.path,
                Unlock::Password(&password),
                &OpenOptions::mode(OpenMode::Write),
                target,
                &JobControl::new(),
                &mut |event| bar.observe(event),
            )
            .map_err(fail(format!(
                "cannot rebuild the database of the Safe {} from the backup {}",
                args.safe.name(),
                quoted(target)
            )))?;
            let Some(safe) = safe else {
                return Err(Failure::new(
                    Exit::Incomplete,
                    anyhow::anyhow!(
                        "the rebuild of the database of the Safe {} was stopped before its end",
                        args.safe.name()
                    ),
                    "the damaged database is still in place, untouched; run the same command \
                     again to rebuild it",
                ));
            };
            (safe, Some(report))
        }
        None => (open_for_check(&args)?, None),
    };
    let report = {
        let bar = Bar::new("checking");
        safe.check(args.full, args.repair, &JobControl::new(), &mut |event| {
            if let JobEvent::Progress(progress) = event {
                bar.update(progress);
            }
        })
    }
    .map_err(|error| match error {
        Error::Database(_) | Error::DamagedDatabase(_) => Failure::new(
            Exit::Damaged,
            anyhow::Error::new(error)
                .context(format!("cannot check the Safe {}", args.safe.name())),
            REBUILD_HINT,
        ),
        other => fail(format!("cannot check the Safe {}", args.safe.name()))(other),
    })?;
    if args.json {
        match &rebuild {
            Some(rebuild) => output::print_json(&RebuildOutcome {
                rebuild,
                check: &report,
            })?,
            None => output::print_json(&report)?,
        }
    } else {
        if let (Some(rebuild), Some(target)) = (&rebuild, &args.from_backup) {
            output::write_stdout(describe_rebuild(rebuild, &args.safe, target).as_bytes())?;
        }
        let mut text = format!(
            "checked the database and {} data file(s){}: {}\n",
            report.files_checked,
            if args.full { ", decrypting each" } else { "" },
            output::problems(report.problems.len())
        );
        for problem in &report.problems {
            text.push_str(&format!(
                "problem: {}\n",
                arca_safe::escape_for_display(&describe(problem))
            ));
        }
        if report.waiting_for_sync > 0 {
            text.push_str(&format!(
                "{} for content from another device (not a problem: `arca sync SAFE` \
                 brings it once that device has synced)\n",
                waiting(report.waiting_for_sync)
            ));
        }
        for repair in &report.repairs {
            text.push_str(&format!("repaired: {repair}\n"));
        }
        output::write_stdout(text.as_bytes())?;
    }
    let lost = rebuild.as_ref().map_or(0, |rebuild| rebuild.failed.len());
    if report.is_clean() && lost == 0 {
        return Ok(());
    }
    let damaged_database = report
        .problems
        .iter()
        .any(|problem| matches!(problem, Problem::Database { .. }));
    let hint = if damaged_database && args.from_backup.is_none() {
        REBUILD_HINT
    } else if lost > 0 {
        "the items listed as lost have their names but no content: restore them from another \
         backup with `arca restore TARGET SAFE --items PATH`"
    } else if args.repair {
        "the repairs are listed; run `arca check SAFE` again to confirm the Safe is whole, and \
         restore lost files from a backup"
    } else {
        "restore damaged files from a backup; `arca check SAFE --repair` fixes what can be \
         fixed safely (it deletes nothing that could hold your data)"
    };
    Err(Failure::new(
        Exit::Damaged,
        anyhow::anyhow!(
            "the Safe {} has {} problem(s) (each is listed)",
            args.safe.name(),
            report.problems.len() + lost
        ),
        hint,
    ))
}

/// Opens the Safe with its writer lock (a check needs a Safe nobody changes meanwhile); a Safe
/// on read-only media is checked as it is (a repair needs it writable).
fn open_for_check(args: &CheckArgs) -> Result<Safe, Failure> {
    args.safe.check_manifest()?;
    let password = args.safe.password()?;
    let writing = Safe::open_with(
        &args.safe.path,
        Unlock::Password(&password),
        &OpenOptions::mode(OpenMode::Write),
    );
    match writing {
        Err(error) if error.kind() == ErrorKind::ReadOnly && !args.repair => {
            note!("the Safe cannot be written here; checking it as it is");
            args.safe.open_as(&password, OpenMode::Read)
        }
        other => other.map_err(fail(format!("cannot open the Safe {}", args.safe.name()))),
    }
}

/// What the rebuild found and did, one line each.
fn describe_rebuild(rebuild: &RebuildReport, safe: &SafeArg, target: &std::path::Path) -> String {
    let Some(damage) = &rebuild.damage else {
        return format!(
            "the attribute database of {} is whole: nothing was rebuilt\n",
            safe.name()
        );
    };
    let mut text = format!(
        "the attribute database of {} was damaged ({damage})\n\
         rebuilt it from the backup {} as of {}: {} file(s) and {} folder(s); {} data file(s) \
         kept, {} ({}) copied from the backup\n",
        safe.name(),
        quoted(target),
        rebuild
            .backup_completed_at
            .map_or_else(|| "its last run (it never completed)".to_owned(), utc),
        rebuild.files,
        rebuild.folders,
        rebuild.data_files_kept,
        rebuild.data_files_copied,
        human_size(rebuild.bytes_copied),
    );
    if let Some(folder) = &rebuild.damaged_database_kept_in {
        text.push_str(&format!(
            "the damaged database is kept in {}\n",
            quoted(folder)
        ));
    }
    for problem in &rebuild.set_aside {
        text.push_str(&format!(
            "set aside: {problem} ({})\n",
            problem.file.as_deref().unwrap_or("-")
        ));
    }
    for problem in &rebuild.notes {
        text.push_str(&format!("note: {problem}\n"));
    }
    for problem in &rebuild.failed {
        text.push_str(&format!("lost: {problem}\n"));
    }
    if !rebuild.unknown_data_files.is_empty() {
        text.push_str(&format!(
            "{} data file(s) the backup does not know were kept (recovered into /Recovered \
             below, if they decrypt)\n",
            rebuild.unknown_data_files.len()
        ));
    }
    if rebuild.interrupted_backup {
        text.push_str("note: the backup's last run had not completed\n");
    }
    text
}

/// One problem in words, naming the item (by its path in the Safe) or the file.
fn describe(problem: &Problem) -> String {
    match problem {
        Problem::Database { message } => format!("the attribute database: {message}"),
        Problem::MissingDataFile { path } => format!("{path}: its data file is missing"),
        Problem::MissingContent { path } => format!(
            "{path}: its content is missing (found damaged or gone earlier); restore it from a \
             backup with `arca restore TARGET SAFE --items {path}`, or delete it"
        ),
        Problem::DamagedDataFile { path, reason } => format!("{path}: {reason}"),
        Problem::OrphanDataFile { file } => {
            format!("{file}: a data file that no item refers to")
        }
        Problem::TemporaryFile { file } => {
            format!("{file}: a temporary file left by an interrupted write")
        }
        Problem::PendingWithoutJob { path } => {
            format!("{path}: its import never finished and no job will finish it")
        }
        Problem::InterruptedImport { job, files_left } => format!(
            "import {job} was interrupted with {files_left} file(s) left (finish it with \
             `arca import --resume SAFE`)"
        ),
    }
}

/// "1 file waits", "N files wait".
pub fn waiting(files: u64) -> String {
    if files == 1 {
        "1 file waits".to_owned()
    } else {
        format!("{files} files wait")
    }
}
