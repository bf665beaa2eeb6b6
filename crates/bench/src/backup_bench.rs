//! `arca-bench backup`: a backup of a Safe of 10,000 files of mixed sizes (about 1 GiB) to an
//! empty folder, then an incremental run with nothing changed, next to `restic backup` and
//! `borg create` of the same cleartext tree into new local repositories, measured in the same
//! run. Every timed run starts from an empty page cache (as root), so each reads from the disk
//! alike and none pays for reclaiming what an earlier one cached.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use arca_safe::{BackupOptions, JobControl, Safe};

use crate::measure::{Verdict, fill_pseudo_random, line, timed};
use crate::safe_bench::{import_tree, new_safe, settle};

/// Cleartext sizes in a repeating pattern: about 106 KB on average, 1.06 GB for 10,000 files.
const SIZES: [usize; 6] = [2_000, 8_000, 32_000, 96_000, 200_000, 300_000];
/// The peers' repository password.
const PEER_PASSWORD: &str = "benchmark password";

/// Options of `arca-bench backup`.
#[derive(clap::Args)]
pub struct Options {
    /// Where to put the Safe, the trees, the backups and the restic repository
    #[arg(long, default_value = "target")]
    dir: PathBuf,
    /// How many files the Safe holds
    #[arg(long, default_value_t = 10_000)]
    files: usize,
}

/// Runs the backup benchmark and prints its figures.
pub fn run(options: &Options) -> Result<()> {
    let work = tempfile::Builder::new()
        .prefix("arca-bench-backup-")
        .tempdir_in(&options.dir)?;
    let root = work.path();
    let tree = root.join("tree");
    let bytes = mixed_tree(&tree, options.files)?;
    println!(
        "arca-bench backup: {} files, {:.2} GB of cleartext in {}",
        options.files,
        bytes as f64 / 1e9,
        root.display()
    );

    let mut safe = new_safe(&root.join("bench.arca"))?;
    import_tree(&mut safe, &tree)?;
    // Both sides read warm files: the tree and the Safe's data files were just written.

    let target = root.join("backup");
    settle(&[])?;
    let (first, arca_first) = timed(|| backup(&safe, &target))?;
    settle(&[])?;
    let (again, arca_again) = timed(|| backup(&safe, &target))?;
    if again.data_files_copied != 0 || again.xml_written != 0 {
        bail!("the unchanged incremental run wrote {again:?}");
    }

    let mut peers = Vec::new();
    for (name, runs) in [
        ("restic", restic_runs(&tree, &root.join("restic-repo"))),
        ("borg", borg_runs(&tree, &root.join("borg-repo"))),
    ] {
        match runs {
            Ok(times) => peers.push((name, times)),
            Err(error) => println!("  {name}: {error:#} (scripts/bench installs it)"),
        }
    }

    println!();
    line(
        "Arca backup to an empty folder",
        format!(
            "{:>8.2} s   ({} items, {:.2} GB copied)",
            arca_first.as_secs_f64(),
            first.items,
            first.bytes_copied as f64 / 1e9
        ),
    );
    line(
        "Arca incremental, nothing changed",
        format!("{:>8.2} s", arca_again.as_secs_f64()),
    );
    for (name, (peer_first, peer_again)) in &peers {
        line(
            &format!("{name}, into a new repository"),
            format!("{:>8.2} s", peer_first.as_secs_f64()),
        );
        line(
            &format!("{name} again, nothing changed"),
            format!("{:>8.2} s", peer_again.as_secs_f64()),
        );
    }
    for (name, (peer_first, peer_again)) in &peers {
        for (label, arca, peer) in [
            (format!("first run: Arca / {name}"), arca_first, peer_first),
            (
                format!("incremental: Arca / {name}"),
                arca_again,
                peer_again,
            ),
        ] {
            let ratio = arca.as_secs_f64() / peer.as_secs_f64();
            line(
                &label,
                format!(
                    "{ratio:>8.2} x   target < 1.00   {}",
                    Verdict::at_most(ratio, 0.999)
                ),
            );
        }
    }
    Ok(())
}

fn backup(safe: &Safe, target: &Path) -> Result<arca_safe::BackupReport> {
    let report = safe.backup(
        target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )?;
    if !report.failed.is_empty() {
        bail!("backup failed for {} items", report.failed.len());
    }
    Ok(report)
}

/// `restic init`, then `restic backup` twice; the times of the two backups.
fn restic_runs(tree: &Path, repo: &Path) -> Result<(Duration, Duration)> {
    print_version("restic", "version")?;
    restic(repo, &["init"])?;
    settle(&[])?;
    let (_, first) = timed(|| restic(repo, &["backup", "--quiet", &tree.to_string_lossy()]))?;
    settle(&[])?;
    let (_, again) = timed(|| restic(repo, &["backup", "--quiet", &tree.to_string_lossy()]))?;
    Ok((first, again))
}

/// `borg init` (encrypted, key in the repository), then `borg create` twice; the times of the
/// two archives.
fn borg_runs(tree: &Path, repo: &Path) -> Result<(Duration, Duration)> {
    print_version("borg", "--version")?;
    let repo_arg = repo.to_string_lossy().into_owned();
    borg(repo, &["init", "--encryption=repokey-blake2", &repo_arg])?;
    let tree = tree.to_string_lossy().into_owned();
    settle(&[])?;
    let (_, first) = timed(|| borg(repo, &["create", &format!("{repo_arg}::first"), &tree]))?;
    settle(&[])?;
    let (_, again) = timed(|| borg(repo, &["create", &format!("{repo_arg}::again"), &tree]))?;
    Ok((first, again))
}

fn borg(repo: &Path, args: &[&str]) -> Result<()> {
    let mut command = Command::new("borg");
    command
        .args(args)
        .env("BORG_PASSPHRASE", PEER_PASSWORD)
        .env("BORG_BASE_DIR", repo.with_extension("base"));
    run_peer(command, args)
}

fn restic(repo: &Path, args: &[&str]) -> Result<()> {
    let mut command = Command::new("restic");
    command
        .arg("--repo")
        .arg(repo)
        .args(args)
        .env("RESTIC_PASSWORD", PEER_PASSWORD)
        .env("RESTIC_CACHE_DIR", repo.with_extension("cache"));
    run_peer(command, args)
}

/// Prints a peer's version; fails if it is not installed.
fn print_version(program: &str, arg: &str) -> Result<()> {
    let version = Command::new(program)
        .arg(arg)
        .output()
        .with_context(|| format!("{program} is not installed"))?;
    println!(
        "  peer: {}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    Ok(())
}

/// Runs a peer's command; its error output if it fails.
fn run_peer(mut command: Command, args: &[&str]) -> Result<()> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command
        .output()
        .with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        bail!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Writes `files` files of the [`SIZES`] pattern into 10 folders; returns the bytes written.
fn mixed_tree(root: &Path, files: usize) -> Result<u64> {
    let mut content = vec![0u8; SIZES.iter().copied().max().unwrap_or(0) + files];
    fill_pseudo_random(&mut content);
    let mut total = 0;
    for index in 0..files {
        let folder = root.join(format!("folder {}", index % 10));
        if index < 10 {
            fs::create_dir_all(&folder)?;
        }
        let size = SIZES[index % SIZES.len()];
        // A different window of the noise for each file, so none is a duplicate of another
        // (restic would deduplicate them).
        fs::write(
            folder.join(format!("file {index:05}.bin")),
            &content[index..index + size],
        )?;
        total += size as u64;
    }
    Ok(total)
}
