//! `arca completions` and `arca man`: shell completions and manual pages generated from the
//! clap definition that parses the arguments, so they always match it. The packages install
//! both; a person who built `arca` themselves runs these commands once.

use std::io;
use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::{output, quoted};

/// `arca completions SHELL`.
#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: Shell,
}

/// `arca man [--dir DIR]`.
#[derive(Args)]
pub struct ManArgs {
    /// Write arca.1 and a page per command (arca-import.1, …) into this folder (created if
    /// missing) instead of printing arca.1
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell`.
pub fn completions(args: CompletionsArgs, mut command: clap::Command) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "arca", &mut script);
    output::write_stdout(&script)
}

/// Prints the main manual page, or writes every page into `args.dir`.
pub fn man(args: ManArgs, command: clap::Command) -> Result<(), Failure> {
    // `arca help` has no page of its own: each command has one.
    let command = command.disable_help_subcommand(true);
    let Some(dir) = args.dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(|error| written(error, "the manual page".to_owned()))?;
        return output::write_stdout(&page);
    };
    std::fs::create_dir_all(&dir)
        .and_then(|()| clap_mangen::generate_to(command, &dir))
        .map_err(|error| written(error, format!("the manual pages into {}", quoted(&dir))))
}

fn written(error: io::Error, what: String) -> Failure {
    Failure::new(
        Exit::Io,
        anyhow::Error::new(error).context(format!("cannot write {what}")),
        "check that the folder can be written (and that the disk is not full)",
    )
}
