//! `arca edit`: a file of the Safe opened in another program through the secure temporary
//! storage (RAM only), every save taken back into the Safe as the same item, the copy wiped at
//! the end.

use std::io::{BufRead, BufReader};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use arca_safe::{Edit, Leftover, Manifest, SecureArea, TakeBack, escape_for_display};
use clap::Args;

use super::{SafeArg, fail, fail_plain, output, resolve_item};
use crate::exit::{Exit, Failure};

#[derive(Args)]
#[command(after_help = "\
The copy lives in RAM only ($XDG_RUNTIME_DIR/arca, made at desktop login); there is no fallback \
to a disk. With --with, APP is run by the shell with the copy's path as its last argument, and the \
edit ends when it exits (use an editor's wait option, like `gedit --wait` or `code --wait`). \
Without it, the desktop's default app opens the copy and the edit ends when you press Enter. \
If arca is killed, the copy stays in RAM: the next `arca edit` wipes it, unless it was changed \
after its last save into the Safe; then take it back with --take-back or delete it with --discard.")]
pub struct EditArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The file to edit, from the Safe's root, like /Documents/letter.odt
    #[arg(value_name = "PATH", required_unless_present_any = ["take_back", "discard"])]
    path: Option<String>,

    /// The program to edit it with (a command; the copy's path is added as its last argument)
    #[arg(long, value_name = "APP", conflicts_with_all = ["take_back", "discard"])]
    with: Option<String>,

    /// Take back into the Safe the changed copies an edit of it left when it was stopped
    #[arg(long, conflicts_with_all = ["path", "discard"])]
    take_back: bool,

    /// Delete those copies instead
    #[arg(long, conflicts_with_all = ["path", "take_back"])]
    discard: bool,
}

pub fn edit(args: EditArgs) -> Result<(), Failure> {
    // Refused before the password is asked for: without RAM to put it in, there is no edit.
    let base = arca_safe::default_base().map_err(fail_plain)?;
    args.safe.check_manifest()?;
    let safe_id = Manifest::read(&arca_safe::Layout::new(&args.safe.path).manifest())
        .map_err(fail(format!("cannot open the Safe {}", args.safe.name())))?
        .safe_id;
    let leftovers: Vec<Leftover> = arca_safe::sweep_leftovers(&base)
        .map_err(fail("cannot look for copies an earlier edit left"))?
        .into_iter()
        .filter(|left| left.record.safe_id == safe_id)
        .collect();

    if (args.discard || args.take_back) && leftovers.is_empty() {
        return output::summary("no copy of this Safe's files was left by an earlier edit\n");
    }
    if args.discard {
        for left in &leftovers {
            left.discard().map_err(fail_plain)?;
            output::summary(&format!(
                "deleted the changed copy of {}\n",
                escape_for_display(&left.record.path)
            ))?;
        }
        return Ok(());
    }
    let safe = args.safe.open()?;
    if args.take_back {
        for left in &leftovers {
            let shown = escape_for_display(&left.record.path);
            safe.take_back_leftover(left)
                .map_err(fail(format!("cannot take back the copy of {shown}")))?;
            output::summary(&format!("took back into the Safe: {shown}\n"))?;
        }
        return Ok(());
    }
    if !leftovers.is_empty() {
        note!(
            "{} copy(ies) changed in an edit that was stopped are kept in RAM; take \
             them back with `arca edit {} --take-back`, or delete them with --discard",
            leftovers.len(),
            args.safe.path.display()
        );
    }

    let Some(path) = &args.path else {
        return Err(Failure::usage(
            "no file to edit",
            "name the file, like /Documents/letter.odt",
        ));
    };
    let item = resolve_item(&safe, path)?;
    let area = SecureArea::create_under(&base).map_err(fail_plain)?;
    let edit = area
        .open_copy(&safe, item.id)
        .map_err(fail(format!("cannot open {path:?} for editing")))?;
    let file = edit.file().to_path_buf();
    let edit = Arc::new(Mutex::new(edit));
    let saves = Arc::new(Mutex::new(0u64));
    let watch = {
        let (safe, shared, saves, shown) =
            (safe.clone(), edit.clone(), saves.clone(), path.clone());
        let guard = edit.lock().unwrap_or_else(PoisonError::into_inner);
        arca_safe::watch(&guard, arca_safe::QUIET, move || {
            let mut edit = shared.lock().unwrap_or_else(PoisonError::into_inner);
            report_take_back(&shown, safe.take_back(&mut edit), &saves);
        })
        .map_err(fail("cannot watch the copy for saves"))?
    };

    let program = match &args.with {
        Some(app) => run_app(app, &file)?,
        None => open_and_wait_for_enter(&file, &edit)?,
    };
    drop(watch);
    // The program is done (or the person said so): what it wrote last goes in now.
    let mut edit = edit.lock().unwrap_or_else(PoisonError::into_inner);
    let last = safe.take_back_settled(&mut edit);
    report_take_back(path, last, &saves);
    let saved = *saves.lock().unwrap_or_else(PoisonError::into_inner);
    if edit.has_changes() {
        // A save that could not be taken back (a full disk): the copy is kept for --take-back.
        area.keep();
        return Err(Failure::new(
            Exit::Io,
            anyhow::anyhow!("the last save of {path} could not be taken back into the Safe"),
            format!(
                "the copy is kept in RAM; free some space, then run `arca edit {} --take-back`",
                args.safe.path.display()
            ),
        ));
    }
    edit.close().map_err(fail_plain)?;
    drop(area);
    output::summary(&format!(
        "done: {saved} save(s) of {path} taken back into the Safe; the copy is gone from RAM\n"
    ))?;
    if let Some(code) = program.filter(|code| *code != 0) {
        note!("the program exited with status {code}");
    }
    Ok(())
}

fn report_take_back(path: &str, outcome: arca_safe::Result<TakeBack>, saves: &Mutex<u64>) {
    match outcome {
        Ok(TakeBack::Saved { size }) => {
            *saves.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            if !crate::say::quiet() {
                eprintln!("arca: saved to the Safe: {path} ({size} bytes)");
            }
        }
        Ok(TakeBack::Unchanged | TakeBack::Missing | TakeBack::Changing) => {}
        Err(error) => eprintln!(
            "arca: warning: a save of {path} could not be taken back into the Safe ({error}); \
             the copy keeps it, and it is tried again at the next save and at the end"
        ),
    }
}

/// Runs `app` on the copy through the shell and waits for it; its exit code.
fn run_app(app: &str, file: &std::path::Path) -> Result<Option<i32>, Failure> {
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{app} \"$1\""))
        .arg("arca-edit")
        .arg(file)
        .status()
        .map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context(format!("cannot start {app:?}")),
                "check the program's name",
            )
        })?;
    Ok(status.code())
}

/// Opens the copy in the desktop's default app and waits until the person presses Enter and
/// no other program holds the copy open.
fn open_and_wait_for_enter(
    file: &std::path::Path,
    edit: &Mutex<Edit>,
) -> Result<Option<i32>, Failure> {
    let terminal = std::fs::File::open("/dev/tty").map_err(|_| {
        Failure::usage(
            "no terminal to say when the edit is done",
            "give the program with --with APP; the edit ends when it exits",
        )
    })?;
    let mut terminal = BufReader::new(terminal);
    Command::new("xdg-open")
        .arg(file)
        .spawn()
        .map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context("cannot start the default app (xdg-open)"),
                "install xdg-utils, or give the program with --with APP",
            )
        })?;
    eprintln!("Editing in your default app: each save goes back into the Safe.");
    loop {
        eprintln!("Press Enter here when you have saved and closed it.");
        let mut line = String::new();
        if terminal.read_line(&mut line).unwrap_or(0) == 0 {
            return Ok(None);
        }
        let edit = edit.lock().unwrap_or_else(PoisonError::into_inner);
        if arca_safe::open_elsewhere(&[&edit]).is_empty() {
            return Ok(None);
        }
        eprintln!(
            "arca: {} is still open in another program; what is not saved there would be lost.",
            edit.name()
        );
    }
}
