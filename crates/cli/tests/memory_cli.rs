//! The password in the memory of `arca` itself (issue 9, part 5).
//!
//! The attack: read the memory of a running `arca` (what a core dump or anyone who can read
//! `/proc/PID/mem` gets) after it has unlocked the Safe and dropped the password. `arca ls` of a
//! large folder, its standard output a pipe nobody reads, stops in the middle of writing the
//! listing: the Safe is open (its keys are in memory, as they must be) and the password, read
//! from standard input, was dropped long before. The test reads every readable mapping of that
//! process and looks for the password.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `arca ARGS --password-stdin` with `password`.
fn arca(state: &Path, args: &[&dyn AsRef<std::ffi::OsStr>], password: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arca"))
        .args(args)
        .arg("--password-stdin")
        .env("XDG_STATE_HOME", state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(password.as_bytes());
    child.wait_with_output().unwrap()
}

/// Where `needle` is in the readable memory of process `pid`: (address, mapping, context).
fn find_in_memory(pid: u32, needle: &[u8]) -> (Vec<String>, u64) {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut memory = File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut found = Vec::new();
    let mut scanned = 0u64;
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !fields[1].starts_with('r') || line.ends_with("[vvar]") || line.ends_with("[vsyscall]") {
            continue;
        }
        let (start, end) = fields[0].split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut bytes = vec![0u8; usize::try_from(end - start).unwrap()];
        if memory.seek(SeekFrom::Start(start)).is_err() || memory.read_exact(&mut bytes).is_err() {
            continue;
        }
        scanned += end - start;
        for (offset, window) in bytes.windows(needle.len()).enumerate() {
            if window[0] == needle[0] && window == needle {
                found.push(format!(
                    "{:#x} in {line} (offset {offset:#x} of the mapping)",
                    start + offset as u64
                ));
            }
        }
    }
    (found, scanned)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until the process is blocked writing to its standard output (a full pipe).
fn wait_until_blocked_on_output(pid: u32) {
    let started = Instant::now();
    loop {
        let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        if wchan.contains("pipe") {
            return;
        }
        if wchan.is_empty() || wchan == "0" {
            // This kernel does not say where a process waits: give it time to get there.
            if started.elapsed() > Duration::from_secs(5) {
                return;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "arca never blocked on its output (wchan {wchan:?})"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn the_password_is_gone_from_the_memory_of_arca_once_it_has_unlocked() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let safe = dir.path().join("vault");
    let password = format!("memory test {}", uuid::Uuid::new_v4().simple());
    let output = arca(
        &state,
        &[&"create", &safe, &"--iterations", &"1000"],
        &password,
    );
    assert!(output.status.success(), "{output:?}");
    // A folder whose listing is much larger than a pipe holds.
    let source = dir.path().join("many");
    fs::create_dir_all(&source).unwrap();
    for index in 0..3_000 {
        File::create(source.join(format!(
            "a file with a rather long name, number {index:05}.txt"
        )))
        .unwrap();
    }
    let output = arca(&state, &[&"import", &safe, &source], &password);
    assert!(output.status.success(), "{output:?}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_arca"))
        .args(["ls"])
        .arg(&safe)
        .args(["/many", "--password-stdin"])
        .env("XDG_STATE_HOME", &state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let child = Killed(child);
    let pid = child.0.id();
    wait_until_blocked_on_output(pid);
    let (found, scanned) = find_in_memory(pid, password.as_bytes());
    assert!(scanned > 1 << 20, "only {scanned} bytes could be read");
    assert!(
        found.is_empty(),
        "the password is still in the memory of arca after it unlocked the Safe:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_the_memory_of_arca() {
    // The same scan finds what arca must hold while it lists: a name of the listing.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let safe = dir.path().join("vault");
    let password = format!("memory test {}", uuid::Uuid::new_v4().simple());
    assert!(
        arca(
            &state,
            &[&"create", &safe, &"--iterations", &"1000"],
            &password
        )
        .status
        .success()
    );
    let source = dir.path().join("many");
    fs::create_dir_all(&source).unwrap();
    for index in 0..3_000 {
        File::create(source.join(format!(
            "a file with a rather long name, number {index:05}.txt"
        )))
        .unwrap();
    }
    assert!(
        arca(&state, &[&"import", &safe, &source], &password)
            .status
            .success()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_arca"))
        .args(["ls"])
        .arg(&safe)
        .args(["/many", "--password-stdin"])
        .env("XDG_STATE_HOME", &state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(password.as_bytes())
        .unwrap();
    let child = Killed(child);
    wait_until_blocked_on_output(child.0.id());
    let (found, _) = find_in_memory(child.0.id(), b"rather long name, number 02999.txt");
    assert!(!found.is_empty(), "the scan cannot see arca's memory");
}
