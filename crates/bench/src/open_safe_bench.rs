//! `arca-bench open`: the open Safe a window reads from while jobs run — a page of a 100,000-item
//! folder against a bare indexed `SELECT` of the same rows, search over a million items, a random
//! MiB of a 2 GiB file against decrypting and checking one MiB, and locking during a 2 GiB import.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aes::Aes256;
use anyhow::{Context, Result, bail};
use arca_safe::{ImportOptions, JobControl, JobEvent, SearchQuery, SortKey, SortOrder};
use cbc::cipher::{Array, BlockModeDecrypt, KeyIvInit};
use sha2::{Digest, Sha256};

use crate::measure::{Verdict, best_of, fill_pseudo_random, line, timed};
use crate::safe_bench::{new_safe, write_big_file};

const MIB: u64 = 1024 * 1024;
/// A page may cost at most this multiple of the bare `SELECT` of its rows.
const PAGE_TARGET: f64 = 2.0;
/// Search may take at most this long per 100,000 items.
const SEARCH_TARGET_MS: f64 = 10.0;
/// A random MiB may cost at most this multiple of decrypting one MiB and checking its chunk.
const READ_TARGET: f64 = 2.0;
/// Locking during an import must be done within this.
const LOCK_TARGET: Duration = Duration::from_millis(500);

/// Options of `arca-bench open`.
#[derive(clap::Args)]
pub struct Options {
    /// Where to put the Safes (on the disk being measured)
    #[arg(long, default_value = "target")]
    dir: PathBuf,
    /// Items of the folder that is paged
    #[arg(long, default_value_t = 100_000)]
    page_items: usize,
    /// Items searched
    #[arg(long, default_value_t = 1_000_000)]
    search_items: usize,
    /// Size in MiB of the file read at random places and of the import that is locked
    #[arg(long, default_value_t = 2048)]
    big_mib: u64,
}

pub fn run(options: &Options) -> Result<()> {
    let work = tempfile::Builder::new()
        .prefix("arca-bench-")
        .tempdir_in(&options.dir)?;
    let root = work.path();
    println!("The open Safe, in {}", root.display());
    page(root, options.page_items)?;
    search(root, options.search_items)?;
    let big = root.join("big.bin");
    write_big_file(&big, options.big_mib * MIB)?;
    random_reads(root, &big)?;
    lock_during_import(root, &big)?;
    Ok(())
}

/// Sizes that are not in name order, so sorting by size means something.
fn scattered_size(i: usize) -> u64 {
    (i as u64).wrapping_mul(2_654_435_761) % 50_000_000
}

fn page(root: &Path, items: usize) -> Result<()> {
    let safe = new_safe(&root.join("page.arca"))?;
    let folder = safe.create_folder(None, "many")?;
    let (ids, recorded) = timed(|| {
        Ok(safe.bench_record_files(Some(folder), items, &|i| {
            (format!("photo {i:06}.jpg"), scattered_size(i))
        })?)
    })?;
    // Every tenth item tagged, so pages carry tags as real ones do.
    for chunk in ids
        .iter()
        .step_by(10)
        .copied()
        .collect::<Vec<_>>()
        .chunks(1000)
    {
        safe.add_tag_to(chunk, "holiday")?;
    }
    println!(
        "\nA page of 200 rows of a {items}-item folder, sorted by size (recorded in {:.1} s)",
        recorded.as_secs_f64()
    );
    for (label, offset) in [("first page", 0), ("middle page", items as u64 / 2)] {
        let bare = best_of(30, || {
            Ok(safe.bench_bare_page_by_size(Some(folder), offset, 200)?)
        })?;
        let page = best_of(30, || {
            let page = safe.page(
                Some(folder),
                SortKey::Size,
                SortOrder::Descending,
                offset,
                200,
            )?;
            if page.rows.len() != 200 {
                bail!("a page of {} rows", page.rows.len());
            }
            Ok(page)
        })?;
        let ratio = page.as_secs_f64() / bare.as_secs_f64();
        line(
            &format!("{label}: page / bare SELECT"),
            format!(
                "{:>7.2} ms / {:>7.2} ms = {ratio:.2} x   (target <= {PAGE_TARGET:.1})  {}",
                ms(page),
                ms(bare),
                Verdict::at_most(ratio, PAGE_TARGET)
            ),
        );
    }
    for (label, sort) in [
        ("by name", SortKey::Name),
        ("by modified", SortKey::Modified),
    ] {
        let time = best_of(30, || {
            Ok(safe.page(
                Some(folder),
                sort,
                SortOrder::Ascending,
                items as u64 / 2,
                200,
            )?)
        })?;
        line(
            &format!("middle page {label}"),
            format!("{:>7.2} ms", ms(time)),
        );
    }
    Ok(())
}

fn search(root: &Path, items: usize) -> Result<()> {
    let safe = new_safe(&root.join("search.arca"))?;
    let words = [
        "beach", "family", "invoice", "garden", "concert", "passport", "recipe",
    ];
    let (_, recorded) = timed(|| {
        Ok(safe.bench_record_files(None, items, &|i| {
            (
                format!("{} {i:07}.jpg", words[i % words.len()]),
                scattered_size(i),
            )
        })?)
    })?;
    println!(
        "\nSearch of {items} items (recorded in {:.1} s)",
        recorded.as_secs_f64()
    );
    let per_100k = |time: Duration| ms(time) * 100_000.0 / items as f64;
    let cases = [
        (
            "one name",
            format!("concert {:07}", items / 2 - (items / 2) % 7 + 4),
        ),
        ("a word in 1/7 of names, first 200", "passport".to_owned()),
        ("a prefix, first 200", "gard".to_owned()),
    ];
    for (label, text) in cases {
        let mut found = 0;
        let time = best_of(10, || {
            let (hits, total) = safe.search(&SearchQuery {
                text: text.clone(),
                limit: Some(200),
                ..SearchQuery::default()
            })?;
            if hits.is_empty() {
                bail!("nothing found for {text:?}");
            }
            found = total;
            Ok(hits)
        })?;
        line(
            label,
            format!(
                "{:>7.2} ms = {:>5.2} ms per 100,000 ({found} found)   (target < {SEARCH_TARGET_MS:.0})  {}",
                ms(time),
                per_100k(time),
                Verdict::at_most(per_100k(time), SEARCH_TARGET_MS)
            ),
        );
    }
    Ok(())
}

/// What reading a MiB costs at least: AES-256-CBC decryption of it, and the SHA-256 of one
/// chunk of a MiB (returned apart).
fn decrypt_and_check_limit() -> Result<(Duration, Duration)> {
    let mut buffer = vec![0u8; MIB as usize];
    fill_pseudo_random(&mut buffer);
    let check = best_of(30, || Ok(Sha256::digest(&buffer)))?;
    let decrypt = best_of(30, || {
        let mut cbc = cbc::Decryptor::<Aes256>::new(&[0x11; 32].into(), &[0x33; 16].into());
        cbc.decrypt_blocks(Array::slice_as_chunks_mut(&mut buffer).0);
        Ok(buffer[0])
    })?;
    Ok((decrypt, check))
}

fn random_reads(root: &Path, big: &Path) -> Result<()> {
    let safe = new_safe(&root.join("read.arca"))?;
    let len = std::fs::metadata(big)?.len();
    let (report, imported) = timed(|| {
        Ok(safe.import(
            &[big.to_path_buf()],
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )?)
    })?;
    if !report.failed.is_empty() {
        bail!("the import failed");
    }
    let id = safe
        .resolve("/big.bin")?
        .context("big.bin is not in the Safe")?
        .id;
    // A large file's chunk hashes are recorded by its first open, in one checked pass.
    let (_, first_open) = timed(|| Ok(safe.open_file(id)?))?;
    let (mut reader, next_open) = timed(|| Ok(safe.open_file(id)?))?;
    let mut buffer = vec![0u8; MIB as usize];
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut times = Vec::new();
    for _ in 0..40 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let offset = state % (len - MIB);
        let start = Instant::now();
        reader.seek(SeekFrom::Start(offset))?;
        reader.read_exact(&mut buffer)?;
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[times.len() / 2];
    let (decrypt, check) = decrypt_and_check_limit()?;
    println!(
        "\nA random MiB of a {} MiB file (imported at {:.0} MB/s)",
        len / MIB,
        len as f64 / 1e6 / imported.as_secs_f64()
    );
    // A MiB read anywhere spans two chunks of a MiB (the block before it included), so both
    // are checked: that is the least any reader of these chunks can do.
    for (label, checks) in [
        ("decrypt 1 MiB + check 2 chunks", 2),
        ("decrypt 1 MiB + check 1 chunk", 1),
    ] {
        let limit = decrypt + check * checks;
        let ratio = median.as_secs_f64() / limit.as_secs_f64();
        line(
            &format!("median read / ({label})"),
            format!(
                "{:>7.2} ms / {:>7.2} ms = {ratio:.2} x   (target <= {READ_TARGET:.1})  {}",
                ms(median),
                ms(limit),
                Verdict::at_most(ratio, READ_TARGET)
            ),
        );
    }
    line(
        "first open (one checked pass), next open",
        format!("{:>7.0} ms, {:.2} ms", ms(first_open), ms(next_open)),
    );
    line(
        "fastest, slowest of 40",
        format!(
            "{:>7.2} ms, {:.2} ms",
            ms(times[0]),
            ms(times[times.len() - 1])
        ),
    );
    line(
        "a pass over the file would take at least",
        format!("{:>7.0} ms", ms(decrypt + check) * (len / MIB) as f64),
    );
    Ok(())
}

fn lock_during_import(root: &Path, big: &Path) -> Result<()> {
    let safe = new_safe(&root.join("lock.arca"))?;
    let (started_tx, started_rx) = mpsc::channel();
    let importing = safe.clone();
    let source = big.to_path_buf();
    let import = std::thread::spawn(move || {
        let mut told = false;
        importing.import(
            &[source],
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |event: JobEvent<'_>| {
                if let JobEvent::Progress(progress) = event
                    && !told
                    && progress.bytes_done >= 256 * MIB
                {
                    told = true;
                    let _ = started_tx.send(());
                }
            },
        )
    });
    started_rx
        .recv_timeout(Duration::from_secs(120))
        .context("the import never got 256 MiB in")?;
    let start = Instant::now();
    let stopped_in_time = safe.lock();
    let locked = start.elapsed();
    let outcome = import
        .join()
        .map_err(|_| anyhow::anyhow!("the import panicked"))?;
    let ended = start.elapsed();
    println!(
        "\nLocking while a {} MiB import runs",
        std::fs::metadata(big)?.len() / MIB
    );
    line(
        "lock() returned, keys dropped",
        format!(
            "{:>7.1} ms   (target < {} ms)  {}{}",
            ms(locked),
            LOCK_TARGET.as_millis(),
            Verdict::at_most(locked.as_secs_f64(), LOCK_TARGET.as_secs_f64()),
            if stopped_in_time {
                ""
            } else {
                "  (work was still running)"
            }
        ),
    );
    line(
        "the import had returned",
        format!(
            "{:>7.1} ms   ({})",
            ms(ended),
            match outcome {
                Ok(report) if !report.is_complete() => "interrupted, resumable".to_owned(),
                Ok(_) => "it had finished".to_owned(),
                Err(error) => format!("error: {error}"),
            }
        ),
    );
    Ok(())
}

fn ms(time: Duration) -> f64 {
    time.as_secs_f64() * 1e3
}
