//! `arca-bench`: benchmarks that print figures next to the limits measured in the same run, and
//! the targets they are held to. They never fail on a slow machine: a figure below its target is
//! marked `BELOW` and the process still exits 0. Build with `--release`.

mod backup_bench;
mod cryptor;
mod measure;
mod open_safe_bench;
mod safe_bench;
mod sync_bench;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "arca-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// The Cryptor: streaming RNCryptor throughput against raw AES-CBC + HMAC, and unlock time
    /// against OpenSSL's PBKDF2.
    Cryptor(cryptor::Options),
    /// The Safe: import and export against the Cryptor's limit, small files against this disk's
    /// durable-write limit, `cp -r` and rclone crypt, scaling, listing and search, peak memory.
    Safe(safe_bench::Options),
    /// The open Safe: a page of 100,000 items against a bare SELECT, search of 1,000,000
    /// items, a random MiB of a 2 GiB file, locking during a 2 GiB import.
    Open(open_safe_bench::Options),
    /// Backup: a Safe of 10,000 files to an empty folder and an unchanged incremental run,
    /// against restic backing up the same cleartext.
    Backup(backup_bench::Options),
    /// Sync: the first sync of a Safe of 100,000 items and 1 GiB of data up to a folder and to
    /// a Garage cluster and down to a second device, then one change, against `rclone sync` of
    /// the same ciphertext.
    Sync(sync_bench::Options),
    /// One import or export in a fresh process, printing its peak memory (used by `safe`).
    #[command(hide = true)]
    RssChild {
        operation: String,
        safe: PathBuf,
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("arca-bench: this is a debug build; the figures mean little without --release");
    }
    match Cli::parse().bench {
        Bench::Cryptor(options) => cryptor::run(&options),
        Bench::Safe(options) => safe_bench::run(&options),
        Bench::Open(options) => open_safe_bench::run(&options),
        Bench::Backup(options) => backup_bench::run(&options),
        Bench::Sync(options) => sync_bench::run(&options),
        Bench::RssChild {
            operation,
            safe,
            file,
        } => safe_bench::rss_child(&operation, &safe, &file),
    }
}
