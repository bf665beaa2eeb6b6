//! `arca-bench sync`: the first sync of a Safe of 100,000 items and 1 GiB of data from one
//! device to a target and down to a second device, then an incremental sync of one change, to a
//! folder and to a Garage cluster on loopback; next to `rclone sync` (folder) and `aws s3 sync`
//! (bucket) of the same ciphertext (the target's objects) measured in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use arca_safe::{JobControl, Safe, SyncReport, TargetSettings};

use crate::measure::{line, timed};
use crate::safe_bench::{import_tree, new_safe, password, settle, write_big_file};

#[path = "../../safe/tests/common/garage.rs"]
#[allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
mod garage;

/// Options of `arca-bench sync`.
#[derive(clap::Args)]
pub struct Options {
    /// Where to put the Safes, the targets and the peers' copies
    #[arg(long, default_value = "target")]
    dir: PathBuf,
    /// Items recorded without data (names, dates: the metadata)
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    /// Files of 16 MiB imported with their data
    #[arg(long, default_value_t = 64)]
    files: usize,
}

/// Runs the sync benchmark and prints its figures.
pub fn run(options: &Options) -> Result<()> {
    let work = tempfile::Builder::new()
        .prefix("arca-bench-sync-")
        .tempdir_in(&options.dir)?;
    let root = work.path();
    let source = root.join("source");
    std::fs::create_dir_all(&source)?;
    for index in 0..options.files {
        write_big_file(&source.join(format!("film {index:03}.bin")), 16 << 20)?;
    }
    let mut safe = new_safe(&root.join("A.arca"))?;
    safe.bench_record_files(None, options.items, &|index| {
        (format!("item {index:06}"), 1_000)
    })?;
    import_tree(&mut safe, &source)?;
    let data = options.files as u64 * (16 << 20);
    println!(
        "arca-bench sync: {} items without data and {} files, {:.2} GiB, in {}",
        options.items,
        options.files,
        data as f64 / f64::from(1u32 << 30),
        root.display()
    );

    let folder = root.join("folder-target");
    run_target(
        root,
        &safe,
        "folder",
        &TargetSettings::Folder {
            path: folder.clone(),
        },
    )?;
    match garage::Cluster::start_or_skip(3) {
        Some(cluster) => {
            let settings = cluster.settings("bench");
            run_target(root, &safe, "Garage (3 nodes)", &settings)?;
        }
        None => println!("  Garage: not installed (scripts/install-garage builds it)"),
    }
    Ok(())
}

fn run_target(root: &Path, safe: &Safe, name: &str, settings: &TargetSettings) -> Result<()> {
    safe.set_sync_target(settings)?;
    settle(&[])?;
    let (up, up_time) = timed(|| sync(safe))?;
    // Device B joins from A's configuration (A may vouch for others once it has synced).
    let config = safe.export_sync_config(&password(), "")?;
    let joined = root.join(format!("B-{}.arca", name.split(' ').next().unwrap_or(name)));
    let (second, _) = Safe::join(&joined, &config, &password(), None)?;
    settle(&[])?;
    let (down, down_time) = timed(|| sync(&second))?;
    // One change: an item renamed (a new name each run, as both targets share the Safe).
    let renamed = safe.resolve("/item 000001")?.context("item 000001")?;
    let new_name = format!("renamed for {name}");
    safe.rename(renamed.id, &new_name)?;
    settle(&[])?;
    let (_, change_up) = timed(|| sync(safe))?;
    let (_, change_down) = timed(|| sync(&second))?;
    safe.rename(renamed.id, "item 000001")?;
    sync(safe)?;
    if second.item(renamed.id)?.name != new_name {
        bail!("the change did not reach the second device");
    }

    println!();
    println!("  target: {name}");
    line(
        "first sync up (device A)",
        format!(
            "{:>8.2} s   ({} operations, {} files, {:.2} GB)",
            up_time.as_secs_f64(),
            up.operations_sent,
            up.files_sent,
            up.bytes_sent as f64 / 1e9
        ),
    );
    line(
        "first sync down (device B)",
        format!(
            "{:>8.2} s   ({} operations, {} files)",
            down_time.as_secs_f64(),
            down.operations_received,
            down.files_received
        ),
    );
    line(
        "one change: up, then down",
        format!(
            "{:>8.2} s + {:.2} s",
            change_up.as_secs_f64(),
            change_down.as_secs_f64()
        ),
    );
    match peer_runs(root, name, settings) {
        Ok((peer, first, again)) => {
            println!("  peer: {peer}");
            line(
                "peer sync of the same objects, first",
                format!("{:>8.2} s", first.as_secs_f64()),
            );
            line(
                "peer sync again, one object changed",
                format!("{:>8.2} s", again.as_secs_f64()),
            );
            line(
                "first sync up: Arca / peer",
                format!("{:>8.2} x", up_time.as_secs_f64() / first.as_secs_f64()),
            );
            line(
                "one change up: Arca / peer",
                format!("{:>8.2} x", change_up.as_secs_f64() / again.as_secs_f64()),
            );
        }
        Err(error) => println!("  peer: {error:#}"),
    }
    Ok(())
}

fn sync(safe: &Safe) -> Result<SyncReport> {
    let report = safe.sync(&JobControl::new())?;
    if !report.problems.is_empty() {
        bail!("sync reported {:?}", report.problems);
    }
    Ok(report)
}

/// A peer's `sync` of the folder target's objects (the same ciphertext) into an empty copy of
/// the target kind, then again after one object changed: `rclone sync` to a folder, and
/// `aws s3 sync` to a bucket (Debian's rclone 1.60 cannot talk S3 to Garage here).
fn peer_runs(
    root: &Path,
    name: &str,
    settings: &TargetSettings,
) -> Result<(String, Duration, Duration)> {
    let objects = root.join("folder-target");
    let (program, mut command) = match settings {
        TargetSettings::Folder { .. } => {
            let mut command = Command::new("rclone");
            command
                .args(["sync", "--transfers", "4"])
                .arg(&objects)
                .arg(root.join(format!("rclone-{}", name.replace(' ', "-"))));
            ("rclone", command)
        }
        TargetSettings::S3(s3) => {
            let mut command = Command::new("aws");
            command
                .args([
                    "--endpoint-url",
                    &s3.endpoint,
                    "s3",
                    "sync",
                    "--delete",
                    "--only-show-errors",
                ])
                .arg(&objects)
                .arg(format!("s3://{}/peer", s3.bucket))
                .env("AWS_ACCESS_KEY_ID", &s3.access_key_id)
                .env("AWS_SECRET_ACCESS_KEY", s3.secret_access_key.expose())
                .env("AWS_DEFAULT_REGION", &s3.region);
            ("aws", command)
        }
        _ => bail!("no peer for this kind of target"),
    };
    let version = Command::new(program)
        .arg("--version")
        .output()
        .with_context(|| format!("{program} is not installed (scripts/bench installs it)"))?;
    let version = String::from_utf8_lossy(&version.stdout)
        .lines()
        .next()
        .unwrap_or(program)
        .to_owned();
    let mut run = || -> Result<Duration> {
        let (output, time) = timed(|| Ok(command.output()?))?;
        if !output.status.success() {
            bail!(
                "{program} failed: {}",
                String::from_utf8_lossy(&output.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
        }
        Ok(time)
    };
    settle(&[])?;
    let first = run()?;
    let changed = objects.join("arca-sync.json");
    let text = std::fs::read_to_string(&changed)?;
    std::fs::write(&changed, text.replace('}', " }"))?;
    settle(&[])?;
    let again = run();
    std::fs::write(&changed, text)?;
    Ok((version, first, again?))
}
