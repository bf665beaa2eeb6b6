//! `arca check`: is the Safe whole? Every problem is listed naming the item or file it is about.

use arca_safe::Problem;
use clap::Args;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::output;
use crate::safe_cmd::{SafeArg, fail};

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

    /// Print the report as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Checks the Safe; fails with [`Exit::Damaged`] if anything was found.
pub fn check(args: CheckArgs) -> Result<(), Failure> {
    let mut safe = args.safe.open()?;
    let report = safe
        .check(args.full, args.repair)
        .map_err(fail(format!("cannot check the Safe {}", args.safe.name())))?;
    if args.json {
        output::print_json(&report)?;
    } else {
        let mut text = format!(
            "checked the database and {} data file(s){}: {}\n",
            report.files_checked,
            if args.full { ", decrypting each" } else { "" },
            match report.problems.len() {
                0 => "no problems".to_owned(),
                1 => "1 problem".to_owned(),
                n => format!("{n} problems"),
            }
        );
        for problem in &report.problems {
            text.push_str(&format!("problem: {}\n", describe(problem)));
        }
        for repair in &report.repairs {
            text.push_str(&format!("repaired: {repair}\n"));
        }
        output::write_stdout(text.as_bytes())?;
    }
    if report.is_clean() {
        return Ok(());
    }
    let hint = if args.repair {
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
            report.problems.len()
        ),
        hint,
    ))
}

/// One problem in words, naming the item (by its path in the Safe) or the file.
fn describe(problem: &Problem) -> String {
    match problem {
        Problem::Database { message } => format!("the attribute database: {message}"),
        Problem::MissingDataFile { path } => format!("{path}: its data file is missing"),
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
