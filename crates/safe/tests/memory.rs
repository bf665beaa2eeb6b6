//! Keys out of memory (issue 9, part 5).
//!
//! The attack: a core dump (or anything else that reads a process's memory) of a program that
//! had a Safe open and has closed it. A child process — this test binary run again — creates a
//! Safe, imports a file, reads it back, locks the Safe, opens it again with the password, reads
//! the file, searches, locks it and drops everything, through the production code paths; then
//! it says so and waits. The parent reads every readable mapping of the child's memory through
//! `/proc/PID/maps` and `/proc/PID/mem` (what a core dump taken at that moment would hold) and
//! looks for the password, the raw file keys, the database key and the database key's hex form
//! (`x'…'`, as SQLCipher is given it). It knows them by opening the Safe's key file itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::env;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use arca_cryptor::{CleartextBuffer, Credentials, Iterations, Password, decrypt};
use arca_safe::{ImportOptions, JobControl, OpenMode, OpenOptions, Safe, SearchQuery, Unlock};
use common::child::CHILD_OPERATION;
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

const ITERATIONS: u32 = 1_000;

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(env::var_os(name).unwrap_or_else(|| panic!("{name} is not set")))
}

/// Reads the password from standard input without a buffer of the standard library (which
/// would keep a copy): one read into a wiped array, then a string of exactly its length.
fn read_password() -> Password {
    let mut stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().unwrap());
    let mut buffer = Zeroizing::new([0u8; 256]);
    let mut filled = 0;
    while !buffer[..filled].contains(&b'\n') {
        let read = stdin.read(&mut buffer[filled..]).unwrap();
        assert!(read > 0, "no password on standard input");
        filled += read;
    }
    let end = buffer.iter().position(|byte| *byte == b'\n').unwrap();
    let mut text = String::with_capacity(end);
    text.push_str(std::str::from_utf8(&buffer[..end]).unwrap());
    buffer.zeroize();
    Password::new(text)
}

/// The child: uses a Safe through the production code paths, drops everything, says
/// `ARCA_READY` and waits until its standard input is closed.
#[test]
#[ignore = "the child process of the memory tests; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(CHILD_OPERATION) else {
        return;
    };
    assert_eq!(operation, "keys");
    let safe_path = env_path("ARCA_SAFE");
    let source = env_path("ARCA_SOURCE");
    {
        let password = read_password();
        let iterations = Iterations::new(ITERATIONS).unwrap();
        let safe = Safe::create(&safe_path, &password, iterations).unwrap();
        safe.import(
            std::slice::from_ref(&source),
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
        let id = safe.resolve("/secret.txt").unwrap().unwrap().id;
        drop(safe.read(id).unwrap());
        assert!(safe.lock());
        drop(safe);

        for mode in [OpenMode::Write, OpenMode::Read] {
            let safe = Safe::open_with(
                &safe_path,
                Unlock::Password(&password),
                &OpenOptions {
                    mode,
                    ..OpenOptions::default()
                },
            )
            .unwrap();
            drop(safe.read(id).unwrap());
            let (hits, _) = safe
                .search(&SearchQuery {
                    text: "secret".to_owned(),
                    ..SearchQuery::default()
                })
                .unwrap();
            assert_eq!(hits.len(), 1);
            if mode == OpenMode::Write {
                safe.check_password(&password).unwrap();
            }
            assert!(safe.lock());
            drop(safe);
        }
    }
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ARCA_READY").unwrap();
    stdout.flush().unwrap();
    drop(stdout);
    // Wait for the parent to have looked (it closes our standard input).
    let mut stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().unwrap());
    let mut rest = [0u8; 64];
    while stdin.read(&mut rest).unwrap_or(0) > 0 {}
}

/// What the parent looks for, by name.
struct Secrets(Vec<(&'static str, Vec<u8>)>);

impl Secrets {
    /// The password, and the keys in the Safe's key file (opened here, in the parent).
    fn of(safe: &Path, password: &str) -> Self {
        let payload = decrypt(
            Credentials::Password(
                &Password::new(password.to_owned()),
                Iterations::new(ITERATIONS).unwrap(),
            ),
            &fs::read(safe.join("safe.key")).unwrap()[..],
            CleartextBuffer::new(),
        )
        .unwrap();
        // Layout of the payload: crates/cryptor/src/key_file.rs.
        assert_eq!(payload.len(), 114);
        let database_key = payload[82..114].to_vec();
        Self(vec![
            ("the password", password.as_bytes().to_vec()),
            ("the file encryption key", payload[18..50].to_vec()),
            ("the file HMAC key", payload[50..82].to_vec()),
            ("the database key", database_key.clone()),
            (
                "the database key in hex (as given to SQLCipher)",
                hex::encode(&database_key).into_bytes(),
            ),
            (
                "the database key in upper-case hex",
                hex::encode_upper(&database_key).into_bytes(),
            ),
            (
                "the first half of the database key in hex",
                hex::encode(&database_key[..16]).into_bytes(),
            ),
        ])
    }
}

/// One place a secret was found.
struct Found {
    secret: &'static str,
    address: u64,
    mapping: String,
    /// The bytes around it, printable ones as they are.
    context: String,
}

fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|byte| {
            if byte.is_ascii_graphic() || *byte == b' ' {
                char::from(*byte).to_string()
            } else {
                format!("\\x{byte:02x}")
            }
        })
        .collect()
}

/// Every readable mapping of the process `pid`, read through /proc, searched for `secrets`.
fn scan(pid: u32, secrets: &Secrets) -> (Vec<Found>, u64) {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut memory = File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut first_bytes = [false; 256];
    for (_, needle) in &secrets.0 {
        first_bytes[usize::from(needle[0])] = true;
    }
    let mut found = Vec::new();
    let mut scanned = 0u64;
    let mut previous_perms = String::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (range, perms) = (fields[0], fields[1]);
        let after_guard = std::mem::replace(&mut previous_perms, perms.to_owned()) == "---p";
        let mut mapping = fields.get(5).map_or_else(
            || "an anonymous mapping".to_owned(),
            |name| (*name).to_owned(),
        );
        if after_guard && fields.get(5).is_none() {
            // What glibc gives a thread for its stack: anonymous, above a guard page.
            mapping = "an anonymous mapping above a guard page (a thread's stack)".to_owned();
        }
        mapping = format!("{mapping} {range} {perms}");
        if !perms.starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vsyscall]") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut bytes = vec![0u8; usize::try_from(end - start).unwrap()];
        if memory.seek(SeekFrom::Start(start)).is_err() || memory.read_exact(&mut bytes).is_err() {
            continue;
        }
        scanned += end - start;
        for (offset, byte) in bytes.iter().enumerate() {
            if !first_bytes[usize::from(*byte)] {
                continue;
            }
            for (secret, needle) in &secrets.0 {
                if bytes[offset..].starts_with(needle) {
                    let from = offset.saturating_sub(64);
                    let to = (offset + needle.len() + 32).min(bytes.len());
                    found.push(Found {
                        secret,
                        address: start + offset as u64,
                        mapping: mapping.clone(),
                        context: printable(&bytes[from..to]),
                    });
                }
            }
        }
    }
    (found, scanned)
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the child until it has closed its Safe, scans it, lets it end; what was found.
fn run_and_scan() -> (Vec<Found>, u64) {
    let dir = tempfile::tempdir().unwrap();
    let safe = dir.path().join("memory.arca");
    let source = dir.path().join("secret.txt");
    fs::write(&source, b"the content of a secret file").unwrap();
    // Random, so no copy of it exists anywhere but where the child put it.
    let password = format!("pw {} {}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
    let mut child = ChildGuard(
        Command::new(env::current_exe().unwrap())
            .args(["--exact", "child_main", "--nocapture", "--include-ignored"])
            .env(CHILD_OPERATION, "keys")
            .env("ARCA_SAFE", &safe)
            .env("ARCA_SOURCE", &source)
            .env("XDG_STATE_HOME", dir.path().join("state"))
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdin = child.0.stdin.take().unwrap();
    stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "the child ended before it was ready"
        );
        if line.trim() == "ARCA_READY" {
            break;
        }
    }
    let secrets = Secrets::of(&safe, &password);
    let scanned = scan(child.0.id(), &secrets);
    drop(stdin);
    let status = child.0.wait().unwrap();
    assert!(status.success(), "the child failed: {status:?}");
    scanned
}

fn describe(found: &[Found]) -> String {
    found
        .iter()
        .map(|found| {
            format!(
                "{} at {:#x} in {}: …{}…",
                found.secret, found.address, found.mapping, found.context
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_scan_finds_a_secret_that_is_there() {
    // The scanner itself: this process holds a secret in memory; the scan of itself sees it.
    let secret = format!("visible {}", Uuid::new_v4().simple());
    let secrets = Secrets(vec![("a marker", secret.clone().into_bytes())]);
    let (found, scanned) = scan(std::process::id(), &secrets);
    assert!(scanned > 0);
    assert!(!found.is_empty(), "the scan cannot see memory");
    drop(secret);
}

#[test]
fn a_closed_safe_leaves_no_key_or_password_in_the_memory_of_its_process() {
    let (found, scanned) = run_and_scan();
    assert!(scanned > 1 << 20, "only {scanned} bytes could be read");
    assert!(
        found.is_empty(),
        "secrets left in the memory of a process that closed its Safe:\n{}",
        describe(&found)
    );
}

/// What holds today, kept from regressing while the encryption key's copies above are fixed.
#[test]
fn a_closed_safe_leaves_no_password_hmac_key_or_database_key_in_the_memory_of_its_process() {
    let (found, scanned) = run_and_scan();
    assert!(scanned > 1 << 20, "only {scanned} bytes could be read");
    let others: Vec<&Found> = found
        .iter()
        .filter(|found| found.secret != "the file encryption key")
        .collect();
    assert!(
        others.is_empty(),
        "secrets left in the memory of a process that closed its Safe:\n{}",
        describe(&found)
    );
}
