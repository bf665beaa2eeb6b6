//! `arca-bench safe`: import and export throughput, small-file rate against this disk's durable
//! write limit and against `cp -r` and `rclone` crypt, scaling, listing and search at 100,000
//! items, and peak memory for a 2 GiB file — all measured in one run.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use arca_cryptor::{Iterations, Password};
use arca_safe::{ImportOptions, JobControl, OnClash, Safe, SearchQuery};

use crate::measure::{fill_pseudo_random, timed};

const MIB: u64 = 1024 * 1024;

/// Options of `arca-bench safe`.
#[derive(clap::Args)]
pub struct Options {
    /// Where to put the Safes and source trees (on the disk being measured)
    #[arg(long, default_value = "target")]
    dir: PathBuf,
    /// The number of small files of the scaling run (compared with 10,000)
    #[arg(long, default_value_t = 100_000)]
    scaling_files: usize,
}

fn password() -> Password {
    Password::new("benchmark password".to_owned())
}

/// Unlock cost is measured by the cryptor benchmark; here it would only add noise.
pub fn new_safe(path: &Path) -> Result<Safe> {
    Ok(Safe::create(
        path,
        &password(),
        Iterations::new(1_000).context("iterations")?,
    )?)
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

/// Writes `len` bytes of incompressible content.
fn write_big_file(path: &Path, len: u64) -> Result<()> {
    let mut block = vec![0u8; 4 * MIB as usize];
    fill_pseudo_random(&mut block);
    let mut file = File::create(path)?;
    let mut left = len;
    while left > 0 {
        let take = left.min(block.len() as u64) as usize;
        file.write_all(&block[..take])?;
        block.rotate_left(1);
        left -= take as u64;
    }
    Ok(())
}

fn small_tree(root: &Path, files: usize, per_folder: usize) -> Result<()> {
    let content = vec![b'a'; 4096];
    for index in 0..files {
        let folder = root.join(format!("folder {:04}", index / per_folder));
        if index % per_folder == 0 {
            fs::create_dir_all(&folder)?;
        }
        let mut bytes = content.clone();
        bytes[..8].copy_from_slice(&(index as u64).to_le_bytes());
        fs::write(folder.join(format!("file {index:06}.txt")), bytes)?;
    }
    Ok(())
}

/// The same number of 4 KiB files written and fsynced (file and folder) from 16 threads: the
/// most a durable import could reach on this disk.
fn durable_write_limit(root: &Path, files: usize) -> Result<Duration> {
    fs::create_dir_all(root)?;
    let shards: Vec<PathBuf> = (0..256)
        .map(|shard| root.join(format!("{shard:02x}")))
        .collect();
    for shard in &shards {
        fs::create_dir(shard)?;
    }
    let threads = 16;
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let shards = &shards;
                scope.spawn(move || -> Result<()> {
                    let content = vec![b'b'; 4096];
                    for index in (thread..files).step_by(threads) {
                        let shard = &shards[index % shards.len()];
                        let mut file = File::create(shard.join(format!("{index}.tmp")))?;
                        file.write_all(&content)?;
                        file.sync_all()?;
                        fs::rename(
                            shard.join(format!("{index}.tmp")),
                            shard.join(index.to_string()),
                        )?;
                        File::open(shard)?.sync_all()?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("writer thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(start.elapsed())
}

fn run_command(command: &mut Command) -> Result<Duration> {
    let start = Instant::now();
    let status = command
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(start.elapsed())
}

fn rclone_crypt_copy(source: &Path, target: &Path) -> Result<Option<Duration>> {
    let Ok(output) = Command::new("rclone")
        .args(["obscure", "benchmark password"])
        .output()
    else {
        return Ok(None);
    };
    let obscured = String::from_utf8(output.stdout)?.trim().to_owned();
    fs::create_dir_all(target)?;
    let time = run_command(
        Command::new("rclone")
            .args(["copy", "--transfers", "16", "--checkers", "16"])
            .arg(source)
            .arg("benchcrypt:")
            .env("RCLONE_CONFIG_BENCHCRYPT_TYPE", "crypt")
            .env("RCLONE_CONFIG_BENCHCRYPT_REMOTE", target)
            .env("RCLONE_CONFIG_BENCHCRYPT_PASSWORD", obscured)
            .env("RCLONE_CONFIG", "/dev/null"),
    )?;
    Ok(Some(time))
}

fn import_tree(safe: &mut Safe, source: &Path) -> Result<arca_safe::ImportReport> {
    let report = safe.import(
        &[source.to_path_buf()],
        &ImportOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )?;
    if !report.failed.is_empty() {
        bail!("import failed for {} files", report.failed.len());
    }
    Ok(report)
}

fn ratio_line(label: &str, value: f64, limit: f64, target: f64) {
    let ratio = value / limit;
    let verdict = if ratio >= target { "PASS" } else { "BELOW" };
    println!("  {label:<44} {ratio:>6.2} x   (target >= {target:.2})  {verdict}");
}

/// Peak resident memory (VmHWM) of this process, in bytes.
pub fn peak_rss() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The child half of the peak-memory measurement: one import or export in a fresh process.
pub fn rss_child(operation: &str, safe_path: &Path, file: &Path) -> Result<()> {
    let mut safe = Safe::open(safe_path, &password())?;
    match operation {
        "import" => {
            import_tree(&mut safe, file)?;
        }
        "export" => {
            let item = safe
                .resolve("/big.bin")?
                .context("big.bin not in the Safe")?;
            safe.export(
                &[item.id],
                file,
                OnClash::Replace,
                &JobControl::new(),
                &mut |_| {},
            )?;
        }
        other => bail!("unknown operation {other}"),
    }
    println!("{}", peak_rss().unwrap_or(0));
    Ok(())
}

fn peak_rss_of(operation: &str, safe: &Path, file: &Path) -> Result<u64> {
    let output = Command::new(std::env::current_exe()?)
        .args(["rss-child", operation])
        .arg(safe)
        .arg(file)
        .output()?;
    if !output.status.success() {
        bail!(
            "{operation} child failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

/// Runs every Safe benchmark and prints the figures.
pub fn run(options: &Options) -> Result<()> {
    let cryptor_limit_mb_s = crate::cryptor::encrypt_limit_mb_s()?;
    let work = tempfile::Builder::new()
        .prefix("arca-bench-")
        .tempdir_in(&options.dir)?;
    let root = work.path();
    println!(
        "Safe benchmarks in {} ({} threads)",
        root.display(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!(
        "  Cryptor limit (AES-256-CBC + HMAC-SHA256, one pass, this run): {cryptor_limit_mb_s:.0} MB/s"
    );

    // One 1 GiB file.
    let big = root.join("big-source");
    fs::create_dir(&big)?;
    write_big_file(&big.join("big.bin"), 1024 * MIB)?;
    let mut safe = new_safe(&root.join("big.arca"))?;
    let (_, import_time) = timed(|| import_tree(&mut safe, &big.join("big.bin")))?;
    let item = safe.resolve("/big.bin")?.context("big.bin missing")?;
    let (_, export_time) = timed(|| {
        Ok(safe.export(
            &[item.id],
            &root.join("big-export"),
            OnClash::Replace,
            &JobControl::new(),
            &mut |_| {},
        )?)
    })?;
    drop(safe);
    let import_rate = mb_per_s(1024 * MIB, import_time);
    let export_rate = mb_per_s(1024 * MIB, export_time);
    println!("\n1 GiB file");
    println!(
        "  import  {import_rate:>8.0} MB/s   ({:.2} s)",
        import_time.as_secs_f64()
    );
    println!(
        "  export  {export_rate:>8.0} MB/s   ({:.2} s)",
        export_time.as_secs_f64()
    );
    ratio_line(
        "import / Cryptor limit",
        import_rate,
        cryptor_limit_mb_s,
        0.85,
    );
    ratio_line(
        "export / Cryptor limit",
        export_rate,
        cryptor_limit_mb_s,
        0.85,
    );
    fs::remove_dir_all(root.join("big-export"))?;

    // Peak memory for a 2 GiB file, each operation in its own process.
    write_big_file(&big.join("big.bin"), 2048 * MIB)?;
    drop(new_safe(&root.join("rss.arca"))?);
    let import_peak = peak_rss_of("import", &root.join("rss.arca"), &big.join("big.bin"))?;
    let export_peak = peak_rss_of("export", &root.join("rss.arca"), &root.join("rss-export"))?;
    println!("\n2 GiB file, peak resident memory of the whole process");
    for (label, peak) in [("import", import_peak), ("export", export_peak)] {
        let verdict = if peak <= 64 * MIB { "PASS" } else { "ABOVE" };
        println!(
            "  {label:<8} {:>6.1} MiB   (target <= 64 MiB)  {verdict}",
            peak as f64 / MIB as f64
        );
    }
    fs::remove_dir_all(&big)?;
    fs::remove_dir_all(root.join("rss-export"))?;
    fs::remove_dir_all(root.join("rss.arca"))?;
    fs::remove_dir_all(root.join("big.arca"))?;

    // 10,000 files of 4 KiB.
    let files = 10_000;
    let small = root.join("small");
    small_tree(&small, files, 100)?;
    let limit = durable_write_limit(&root.join("durable"), files)?;
    let cp = run_command(
        Command::new("cp")
            .arg("-r")
            .arg(&small)
            .arg(root.join("cp-copy")),
    )?;
    let rclone = rclone_crypt_copy(&small, &root.join("rclone-crypt"))?;
    let mut safe = new_safe(&root.join("small.arca"))?;
    let (_, import_time) = timed(|| import_tree(&mut safe, &small))?;
    drop(safe);
    let rate = |time: Duration| files as f64 / time.as_secs_f64();
    println!("\n{files} files of 4 KiB");
    println!(
        "  Arca import (durable: fsync + rename)  {:>8.0} files/s",
        rate(import_time)
    );
    println!(
        "  durable-write limit (16 threads)       {:>8.0} files/s",
        rate(limit)
    );
    println!(
        "  cp -r (no fsync, no encryption)        {:>8.0} files/s",
        rate(cp)
    );
    match rclone {
        Some(time) => println!(
            "  rclone copy to crypt (no fsync)        {:>8.0} files/s",
            rate(time)
        ),
        None => println!(
            "  rclone copy to crypt                   not installed (apt-get install rclone)"
        ),
    }
    ratio_line(
        "Arca import / durable-write limit",
        rate(import_time),
        rate(limit),
        0.8,
    );

    // Scaling, listing and search.
    let many = root.join("many");
    small_tree(&many, options.scaling_files, options.scaling_files)?;
    let mut safe = new_safe(&root.join("many.arca"))?;
    let (_, many_time) = timed(|| import_tree(&mut safe, &many))?;
    let per_file_small = import_time.as_secs_f64() / files as f64;
    let per_file_many = many_time.as_secs_f64() / options.scaling_files as f64;
    println!(
        "\nScaling: {files} vs {} small files",
        options.scaling_files
    );
    println!(
        "  {:>9.1} µs/file vs {:>9.1} µs/file   ratio {:.2}  (target <= 1.20)  {}",
        per_file_small * 1e6,
        per_file_many * 1e6,
        per_file_many / per_file_small,
        if per_file_many / per_file_small <= 1.2 {
            "PASS"
        } else {
            "ABOVE"
        }
    );
    let folder = safe.resolve_folder("/many/folder 0000")?;
    let (listed, ls_time) = timed(|| Ok(safe.children(folder, false)?))?;
    let (found, search_time) = timed(|| {
        Ok(safe.search(&SearchQuery {
            text: "file 04242".into(),
            ..SearchQuery::default()
        })?)
    })?;
    let (prefix, prefix_time) = timed(|| {
        Ok(safe.search(&SearchQuery {
            text: "file 0424".into(),
            limit: Some(1000),
            ..SearchQuery::default()
        })?)
    })?;
    println!("\n{} items in one folder", listed.len());
    println!("  ls            {:>8.1} ms", ls_time.as_secs_f64() * 1e3);
    println!(
        "  search exact  {:>8.1} ms   ({} found)",
        search_time.as_secs_f64() * 1e3,
        found.len()
    );
    println!(
        "  search prefix {:>8.1} ms   ({} found)",
        prefix_time.as_secs_f64() * 1e3,
        prefix.len()
    );
    Ok(())
}
