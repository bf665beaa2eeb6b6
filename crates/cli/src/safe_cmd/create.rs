//! `arca create` (a new, empty Safe) and `arca info` (what a Safe holds).

use std::path::{Path, PathBuf};

use arca_cryptor::{Iterations, Password};
use arca_safe::Safe;
use clap::Args;
use serde::Serialize;

use crate::exit::Failure;
use crate::safe_cmd::output::{self, human_size};
use crate::safe_cmd::{SafeArg, fail, judge_new_password, quoted};
use crate::secret_input;

/// `arca create SAFE`.
#[derive(Args)]
pub struct CreateArgs {
    /// The folder to make the Safe in; it must not exist yet, or be empty
    #[arg(value_name = "SAFE")]
    path: PathBuf,

    /// Read the new Safe Password from standard input (all of it, minus one trailing line
    /// break) instead of asking twice on the terminal
    #[arg(long)]
    password_stdin: bool,

    /// Use the password even if it is weak (zxcvbn score below 3)
    #[arg(long)]
    accept_weak: bool,

    /// Print {"safe": …, "id": …} as JSON instead of text
    #[arg(long)]
    json: bool,

    // PBKDF2 iterations of the key files. Only for tests: the production count is the default,
    // and the Safe records it, so other commands need no flag.
    #[arg(
        long,
        hide = true,
        value_name = "N",
        default_value_t = Iterations::KEY_FILE.get(),
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    iterations: u32,
}

/// Makes a new Safe after judging its password.
pub fn create(args: CreateArgs) -> Result<(), Failure> {
    // Fewer iterations make every password guess cheaper: only test builds may ask for them.
    if !cfg!(debug_assertions) && args.iterations < Iterations::KEY_FILE.get() {
        return Err(Failure::usage(
            format!(
                "--iterations {} is below the production count of {}",
                args.iterations,
                Iterations::KEY_FILE.get()
            ),
            "leave --iterations out",
        ));
    }
    let iterations = Iterations::new(args.iterations)
        .filter(|count| count.get() <= Iterations::CEILING)
        .ok_or_else(|| {
            Failure::usage(
                format!("--iterations must be between 1 and {}", Iterations::CEILING),
                "leave it out to use the production count",
            )
        })?;
    let name = quoted(&args.path);
    // Refused before the password is typed twice; `Safe::create` checks again.
    let taken = match std::fs::read_dir(&args.path) {
        Ok(mut entries) => entries.next().is_some(),
        Err(error) => error.kind() == std::io::ErrorKind::NotADirectory,
    };
    if taken {
        return Err(fail(format!("cannot create the Safe {name}"))(
            arca_safe::Error::AlreadyExists(args.path.clone()),
        ));
    }
    let password: Password = if args.password_stdin {
        secret_input::read_password_stdin()?
    } else {
        secret_input::prompt_new("Safe Password")?
    };
    // The Safe's own name is the first thing an attacker would try.
    let folder_name = args
        .path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    judge_new_password(&password, &[folder_name.as_str()], args.accept_weak)?;
    let safe = Safe::create(&args.path, &password, iterations)
        .map_err(fail(format!("cannot create the Safe {name}")))?;
    if args.json {
        return output::print_json(&NewSafe {
            safe: &args.path,
            id: safe.id().to_string(),
        });
    }
    output::summary(&format!(
        "Created the Safe {name} (id {}).\nWithout its password nothing in it can be read: \
             make a recovery key now with `arca recovery create {}` and keep it apart.\n",
        safe.id(),
        args.path.display()
    ))
}

/// What `create --json` prints.
#[derive(Serialize)]
struct NewSafe<'a> {
    safe: &'a Path,
    id: String,
}

/// `arca info SAFE`.
#[derive(Args)]
pub struct InfoArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Prints a summary of the Safe.
pub fn info(args: InfoArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let info = safe
        .info()
        .map_err(fail(format!("cannot read the Safe {}", args.safe.name())))?;
    if args.json {
        return output::print_json(&info);
    }
    let text = format!(
        "Safe:              {}\n\
         Id:                {}\n\
         Format version:    {}\n\
         Schema version:    {}\n\
         PBKDF2 iterations: {}\n\
         Recovery key:      {}\n\
         Files:             {} ({})\n\
         Folders:           {}\n\
         In the trash:      {}\n\
         Content missing:   {}\n",
        args.safe.path.display(),
        info.safe_id,
        info.format_version,
        info.schema_version,
        info.kdf_iterations,
        if info.has_recovery_key { "yes" } else { "no" },
        info.files,
        human_size(info.bytes),
        info.folders,
        info.trashed,
        info.missing,
    );
    output::write_stdout(text.as_bytes())
}
