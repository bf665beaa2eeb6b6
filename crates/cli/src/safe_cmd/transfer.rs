//! Moving files in and out of a Safe: `arca import` and `arca export`, with a progress bar on
//! a terminal and a list of every file that could not be done.

use std::fs;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use arca_safe::{
    ErrorKind, ExportReport, ImportOptions, ImportReport, ItemProblem, JobControl, JobEvent,
    OnClash, Progress,
};
use clap::{Args, ValueEnum};
use indicatif::{BinaryBytes, HumanDuration, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::output::{self, human_size};
use crate::safe_cmd::{SafeArg, fail, quoted, resolve_folder, resolve_item};

/// What to do when a name is taken.
#[derive(Clone, Copy, Default, ValueEnum)]
pub enum Clash {
    /// Keep both: the new one is called "name (2).ext"
    #[default]
    KeepBoth,
    /// Leave the existing one and skip the new one
    Skip,
    /// Replace the existing one. Importing, the item in the Safe goes to the trash; exporting,
    /// the existing file in the folder is overwritten for good (a folder is merged into)
    Replace,
}

impl From<Clash> for OnClash {
    fn from(clash: Clash) -> Self {
        match clash {
            Clash::KeepBoth => Self::KeepBoth,
            Clash::Skip => Self::Skip,
            Clash::Replace => Self::Replace,
        }
    }
}

/// A progress bar on standard error when it is a terminal and `--quiet` was not given. With
/// `--verbose`, a line every few seconds where there is no terminal to draw on, and the time
/// and rate at the end.
pub struct Bar {
    bar: ProgressBar,
    verb: &'static str,
    /// The last progress, and when a line was last printed for it (`--verbose` only).
    last: Mutex<(Option<Progress>, Option<Instant>)>,
}

/// How often `--verbose` prints a progress line without a terminal.
const LINE_EVERY: Duration = Duration::from_secs(5);

impl Bar {
    /// A bar whose line starts with `verb`.
    pub fn new(verb: &'static str) -> Self {
        let bar = if io::stderr().is_terminal() && !crate::say::quiet() {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes}  {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(verb);
        Self {
            bar,
            verb,
            last: Mutex::new((None, None)),
        }
    }

    /// Shows a job's progress (its problems are listed when it ends).
    pub fn observe(&self, event: JobEvent<'_>) {
        if let JobEvent::Progress(progress) = event {
            self.update(progress);
        }
    }

    /// Shows `progress`.
    pub fn update(&self, progress: &Progress) {
        self.bar.set_length(progress.bytes_total);
        self.bar.set_position(progress.bytes_done);
        let left = progress
            .time_left()
            .map_or_else(|| "-".to_owned(), |left| HumanDuration(left).to_string());
        self.bar.set_message(format!(
            "{}/{} files  {}/s  {left} left",
            progress.files_done,
            progress.files_total,
            BinaryBytes(progress.rate() as u64)
        ));
        if !crate::say::verbose() {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let due = last.1.is_none_or(|at| at.elapsed() >= LINE_EVERY);
        // Nothing to say while the job is still counting what it has to do.
        if self.bar.is_hidden() && due && progress.files_total > 0 {
            step!(
                "{}: {}/{} files, {} of {}, {left} left",
                self.verb,
                progress.files_done,
                progress.files_total,
                BinaryBytes(progress.bytes_done),
                BinaryBytes(progress.bytes_total)
            );
            last.1 = Some(Instant::now());
        }
        last.0 = Some(progress.clone());
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(progress) = &last.0 {
            step!(
                "{}: {} files, {} in {:.1} s ({}/s)",
                self.verb,
                progress.files_done,
                BinaryBytes(progress.bytes_done),
                progress.elapsed.as_secs_f64(),
                BinaryBytes(progress.rate() as u64)
            );
        }
    }
}

/// `arca import SAFE SRC...`.
#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Files and folders to import (folders with everything in them; symbolic links are not
    /// followed)
    #[arg(value_name = "SRC", required_unless_present_any = ["resume", "abandon"])]
    sources: Vec<PathBuf>,

    /// The folder in the Safe to import into; it must exist
    #[arg(long, value_name = "PATH", default_value = "/")]
    into: String,

    /// What to do when an item of the same name is in that folder already
    #[arg(long, value_enum, default_value_t)]
    on_clash: Clash,

    /// First finish the imports that were interrupted (crash, kill, full disk, Ctrl-C)
    #[arg(long, conflicts_with = "abandon")]
    resume: bool,

    /// Drop the imports that were interrupted instead: what they had not imported yet leaves
    /// the Safe (their files already imported stay)
    #[arg(long)]
    abandon: bool,

    /// Print the outcome as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// What `import --json` prints.
#[derive(Serialize)]
struct ImportOutcome {
    resumed: Vec<ImportReport>,
    /// Items removed by --abandon.
    abandoned: u64,
    imported: Option<ImportReport>,
}

/// An import stopped by a full disk or another error of the Safe's storage can be finished
/// later: say how.
fn resumable(path: &std::path::Path) -> impl FnOnce(arca_safe::Error) -> Failure + '_ {
    move |error| {
        let store = matches!(error.kind(), ErrorKind::DiskFull | ErrorKind::Io);
        let failure = fail("cannot import")(error);
        if store {
            failure.with_hint(format!(
                "free space (or fix the disk), then finish the import with `arca import \
                 --resume {}`; nothing already stored was lost",
                path.display()
            ))
        } else {
            failure
        }
    }
}

/// Imports files and folders; finishes interrupted imports first with `--resume`.
pub fn import(args: ImportArgs) -> Result<(), Failure> {
    // A missing SRC is a typo: refused before anything is written.
    for source in &args.sources {
        if let Err(error) = fs::symlink_metadata(source) {
            return Err(Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context(format!("cannot import {}", quoted(source))),
                "check the path; nothing was imported",
            ));
        }
    }
    args.safe.check_manifest()?;
    let password = args.safe.password()?;
    let safe = args.safe.open_as(&password, arca_safe::OpenMode::Write)?;
    drop(password);
    let control = JobControl::new();
    let mut outcome = ImportOutcome {
        resumed: Vec::new(),
        abandoned: 0,
        imported: None,
    };
    let jobs = safe
        .interrupted_imports()
        .map_err(fail("cannot list the interrupted imports"))?;
    if args.resume {
        for job in jobs {
            let bar = Bar::new("resuming");
            let report = safe
                .resume_import(job.id, &control, &mut |event| bar.observe(event))
                .map_err(resumable(&args.safe.path))?;
            outcome.resumed.push(report);
        }
    } else if args.abandon {
        for job in jobs {
            outcome.abandoned += safe.abandon_import(job.id).map_err(fail(format!(
                "cannot abandon the interrupted import {}",
                job.id
            )))?;
        }
    } else if !jobs.is_empty() {
        crate::safe_cmd::note_interrupted_imports(&safe, &args.safe.path);
    }
    if !args.sources.is_empty() {
        let into = resolve_folder(&safe, &args.into)?;
        let options = ImportOptions {
            into,
            on_clash: args.on_clash.into(),
            threads: None,
        };
        let bar = Bar::new("importing");
        let report = safe
            .import(&args.sources, &options, &control, &mut |event| {
                bar.observe(event);
            })
            .map_err(resumable(&args.safe.path))?;
        outcome.imported = Some(report);
    }

    let reports = outcome.resumed.iter().chain(&outcome.imported);
    let failed: usize = reports.clone().map(|report| report.failed.len()).sum();
    if args.json {
        output::print_json(&outcome)?;
    } else {
        let mut text = String::new();
        if args.abandon {
            text.push_str(&format!(
                "abandoned the interrupted imports: {} left the Safe\n",
                output::count(outcome.abandoned, "item")
            ));
        }
        for report in &outcome.resumed {
            text.push_str(&format!(
                "finished the interrupted import {}: {} ({})\n",
                report.job,
                output::count(report.files, "file"),
                human_size(report.bytes)
            ));
            text.push_str(&left_out(report));
        }
        if let Some(report) = &outcome.imported {
            text.push_str(&format!(
                "imported {} ({}) and {} into {}\n",
                output::count(report.files, "file"),
                human_size(report.bytes),
                output::count(report.folders, "folder"),
                arca_safe::escape_for_display(&args.into)
            ));
            text.push_str(&left_out(report));
        }
        output::summary(&text)?;
    }
    for report in reports {
        list_problems("renamed", &report.renamed);
        list_problems("skipped", &report.skipped);
        list_problems("not imported:", &report.failed);
    }
    if failed > 0 {
        return Err(Failure::new(
            Exit::Incomplete,
            anyhow::anyhow!(
                "{failed} item(s) could not be imported (each is listed); the others were imported"
            ),
            "links and special files are never imported; make unreadable files readable and \
             import them again (--on-clash skip leaves out what is already in the Safe)",
        ));
    }
    Ok(())
}

/// One line for the files deleted from the Safe while their import was unfinished (what the
/// person asked for, not a failure); nothing when there were none.
fn left_out(report: &ImportReport) -> String {
    if report.removed == 0 {
        return String::new();
    }
    format!(
        "left out {} deleted from the Safe before the import finished\n",
        output::count(report.removed, "file")
    )
}

/// Renamed and skipped items are what the person asked for: `--quiet` leaves them out.
fn list_problems(what: &str, problems: &[ItemProblem]) {
    if crate::say::quiet() && what != "not imported:" {
        return;
    }
    for problem in problems {
        eprintln!("arca: {what} {problem}");
    }
}

/// `arca export SAFE PATH... --to DIR`.
#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Files and folders to export (folders with everything in them; `/` for everything)
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,

    /// The folder to export into (created if missing)
    #[arg(long, value_name = "DIR")]
    to: PathBuf,

    /// What to do when a file or folder of the same name is in DIR already
    #[arg(long, value_enum, default_value_t)]
    on_clash: Clash,

    /// Print the outcome as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Exports items; each file appears only once its content has been verified.
pub fn export(args: ExportArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let mut ids = Vec::new();
    for path in &args.paths {
        match safe
            .resolve(path)
            .map_err(fail(format!("cannot export {path:?}")))?
        {
            Some(_) => ids.push(resolve_item(&safe, path)?.id),
            None => ids.extend(
                safe.children(None, false)
                    .map_err(fail("cannot list the Safe's root"))?
                    .into_iter()
                    .map(|item| item.id),
            ),
        }
    }
    let report: ExportReport = {
        let bar = Bar::new("exporting");
        safe.export(
            &ids,
            &args.to,
            args.on_clash.into(),
            &JobControl::new(),
            &mut |event| bar.observe(event),
        )
        .map_err(fail(format!("cannot export to {}", quoted(&args.to))))?
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        output::summary(&format!(
            "exported {} ({}) and {} to {}\n",
            output::count(report.files, "file"),
            human_size(report.bytes),
            output::count(report.folders, "folder"),
            args.to.display()
        ))?;
    }
    list_problems("skipped", &report.skipped);
    list_problems("could not export", &report.failed);
    if !report.failed.is_empty() {
        return Err(Failure::new(
            Exit::Damaged,
            anyhow::anyhow!(
                "{} item(s) could not be exported: their content in the Safe is damaged or \
                 missing, or their name cannot be written (each is listed); the others were \
                 exported",
                report.failed.len()
            ),
            "restore those files from a backup, and run `arca check SAFE --full` to find any \
             other damage",
        ));
    }
    Ok(())
}
