//! `arca`, Arca's command line: parses the arguments, runs one command and turns its failure
//! into a message and an exit code (see [`exit`]). Each command group is a module.

// The `note!` and `step!` macros, for every module declared after it.
#[macro_use]
mod say;

mod exit;
mod rncryptor;
mod safe_cmd;
mod secret_input;
mod shell;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use safe_cmd::{
    backup, check, create, edit, items, search, security, sync, sync_config, tags, transfer,
};

const ABOUT_PASSWORDS: &str = "\
Every command that needs the Safe Password asks for it on the terminal, or reads it with
--password-stdin: all of standard input, minus one trailing line break. `passwd` and
`recovery reset` need two secrets: with --password-stdin, line 1 is the current password (or
the recovery key) and line 2 the new password. Paths inside a Safe start at its root, like
/Photos/2024/a.jpg.";

/// Arca, an encrypted file vault.
#[derive(Parser)]
#[command(
    name = "arca",
    version,
    after_help = format!("{ABOUT_PASSWORDS}\n\n{}", exit::help_section())
)]
struct Cli {
    /// Print only the data asked for, warnings and errors (no progress, notes or summaries)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Also say what is being done: unlocking, progress when standard error is not a
    /// terminal, times and rates
    #[arg(short, long, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a new, empty Safe (the password is asked twice and its strength shown)
    Create(create::CreateArgs),
    /// Show a Safe's id, versions, key settings and what it holds
    Info(create::InfoArgs),
    /// Import files and folders into a Safe
    Import(transfer::ImportArgs),
    /// Export files and folders from a Safe into a folder
    Export(transfer::ExportArgs),
    /// List a folder of a Safe
    Ls(items::LsArgs),
    /// Show every attribute of an item
    Stat(items::StatArgs),
    /// Write a file's content to standard output, once it has been verified
    Cat(items::CatArgs),
    /// Edit a file in another program; every save goes back into the Safe (the copy stays in RAM)
    Edit(edit::EditArgs),
    /// Create folders (with missing parents, like mkdir -p)
    Mkdir(items::MkdirArgs),
    /// Move or rename an item
    Mv(items::MvArgs),
    /// Move items to the trash
    Rm(items::RmArgs),
    /// List, restore or empty the trash
    Trash {
        #[command(subcommand)]
        command: items::TrashCommand,
    },
    /// Add, remove or list tags
    Tag {
        #[command(subcommand)]
        command: tags::TagCommand,
    },
    /// Mark or unmark favorites
    Fav {
        #[command(subcommand)]
        command: tags::FavCommand,
    },
    /// Set or clear an item's comment
    Comment {
        #[command(subcommand)]
        command: tags::CommentCommand,
    },
    /// Find items by name, comment and tag
    Search(search::SearchArgs),
    /// Change the Safe Password (rewrites only the key file)
    Passwd(security::PasswdArgs),
    /// Make a recovery key, or use one to set a new password
    Recovery {
        #[command(subcommand)]
        command: security::RecoveryCommand,
    },
    /// Check that a Safe is whole; list every problem
    Check(check::CheckArgs),
    /// Back a Safe up into a folder (incremental; still encrypted), or verify a backup
    Backup(backup::BackupArgs),
    /// Restore a backup into a new Safe, or chosen items into the Safe backed up
    Restore(backup::RestoreArgs),
    /// Sync a Safe with its other devices through a folder (USB drive, share, cloud folder),
    /// list what sync decided, or approve and remove the devices that sync it
    ///
    /// Each run sends this device's changes and the files the target lacks, and brings the
    /// other devices' changes and files. What two devices changed differently is decided by
    /// fixed rules; each decision is printed, and `arca sync conflicts SAFE` lists them all.
    /// Objects on the target that a run refuses (damaged, modified, or not this Safe's) are
    /// warnings on standard error and leave the exit status at 0, like the files `arca backup`
    /// leaves out: nothing of them was taken into the Safe, and the next run tries again.
    /// Another device joins with `arca sync-config export` here and `arca join` there; once it
    /// has synced, it waits until a device already syncing approves it (`arca sync approve`,
    /// after comparing the code both show).
    Sync(sync::SyncArgs),
    /// Export the sync configuration another device joins with, or show what one holds
    SyncConfig {
        #[command(subcommand)]
        command: sync_config::SyncConfigCommand,
    },
    /// Make this device's copy of a Safe from a sync configuration, and sync it (its own changes
    /// reach the other devices once one of them approves it)
    Join(sync_config::JoinArgs),
    /// Encrypt and decrypt single files in the RNCryptor v3 data format.
    Rncryptor {
        #[command(subcommand)]
        command: rncryptor::Command,
    },
    /// Print the completion script for a shell (bash, zsh, fish, …)
    Completions(shell::CompletionsArgs),
    /// Print the manual page, or write every page into a folder
    Man(shell::ManArgs),
}

fn main() -> ExitCode {
    if let Err(error) = arca_cryptor::keep_secrets_out_of_core_dumps() {
        eprintln!(
            "arca: warning: cannot turn core dumps off ({error}); a crash could leave keys on disk"
        );
    }
    let cli = Cli::parse();
    say::set(if cli.quiet {
        say::Level::Quiet
    } else if cli.verbose {
        say::Level::Verbose
    } else {
        say::Level::Normal
    });
    let result = match cli.command {
        Command::Create(args) => create::create(args),
        Command::Info(args) => create::info(args),
        Command::Import(args) => transfer::import(args),
        Command::Export(args) => transfer::export(args),
        Command::Ls(args) => items::ls(args),
        Command::Stat(args) => items::stat(args),
        Command::Cat(args) => items::cat(args),
        Command::Edit(args) => edit::edit(args),
        Command::Mkdir(args) => items::mkdir(args),
        Command::Mv(args) => items::mv(args),
        Command::Rm(args) => items::rm(args),
        Command::Trash { command } => items::trash(command),
        Command::Tag { command } => tags::tag(command),
        Command::Fav { command } => tags::fav(command),
        Command::Comment { command } => tags::comment(command),
        Command::Search(args) => search::search(args),
        Command::Passwd(args) => security::passwd(args),
        Command::Recovery { command } => security::recovery(command),
        Command::Check(args) => check::check(args),
        Command::Backup(args) => backup::backup(args),
        Command::Restore(args) => backup::restore(args),
        Command::Sync(args) => sync::sync(args),
        Command::SyncConfig { command } => sync_config::sync_config(command),
        Command::Join(args) => sync_config::join(args),
        Command::Rncryptor { command } => rncryptor::run(command),
        Command::Completions(args) => shell::completions(args, Cli::command()),
        Command::Man(args) => shell::man(args, Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
