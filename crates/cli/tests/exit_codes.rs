//! Every exit code `arca --help` documents, each held to a case that produces it (issue 9,
//! part 7), and the back-off after wrong passwords as the command line shows it (part 4).
//!
//! The table is read from `arca --help` itself: a code documented without a case here, or a
//! case whose code is not documented, fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use arca_safe::{OpenMode, OpenOptions, Safe, Unlock};

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";
const KEYS: &str = "\
000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f
";

/// A temporary folder with a Safe, and a state folder for the back-off (fresh unless a test
/// asks to share it).
struct Fixture {
    dir: tempfile::TempDir,
    safe: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let safe = dir.path().join("vault");
        let fixture = Self { dir, safe };
        let output = fixture.run(
            &[&"create", &fixture.safe, &"--iterations", &"1000"],
            PASSWORD,
        );
        assert!(output.status.success(), "{}", describe(&output));
        fs::write(fixture.path("a.txt"), b"alpha").unwrap();
        let output = fixture.run(
            &[&"import", &fixture.safe, &fixture.path("a.txt")],
            PASSWORD,
        );
        assert!(output.status.success(), "{}", describe(&output));
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `arca ARGS --password-stdin` with `stdin`, and a state folder of its own.
    fn run(&self, args: &[&dyn AsRef<OsStr>], stdin: &str) -> Output {
        let state = self.path("states").join(uuid::Uuid::new_v4().to_string());
        run_in(&state, args, Some(stdin), &[])
    }

    /// Like `run`, with the state folder `state` (the back-off's counter lives there).
    fn run_in_state(&self, state: &Path, args: &[&dyn AsRef<OsStr>], stdin: &str) -> Output {
        run_in(state, args, Some(stdin), &[])
    }
}

/// `arca ARGS` (with `--password-stdin` and `stdin` if given) and extra environment.
fn run_in(
    state: &Path,
    args: &[&dyn AsRef<OsStr>],
    stdin: Option<&str>,
    env: &[(&str, &OsStr)],
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_arca"));
    command
        .args(args)
        .env("XDG_STATE_HOME", state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if stdin.is_some() {
        command.arg("--password-stdin");
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(stdin) = stdin {
        // A command may end before it reads (a usage error): a closed pipe is no failure.
        let _ = input.write_all(stdin.as_bytes());
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn describe(output: &Output) -> String {
    format!(
        "{:?}\n--- stdout\n{}--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The exit codes of the "Exit status" table `arca --help` prints, with their text.
fn documented_codes() -> BTreeMap<i32, String> {
    let output = Command::new(env!("CARGO_BIN_EXE_arca"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let table = &help[help
        .find("Exit status:")
        .expect("no exit-code table in --help")..];
    let mut codes: BTreeMap<i32, String> = BTreeMap::new();
    let mut current = None;
    for line in table.lines().skip(1) {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let number = trimmed
            .split_whitespace()
            .next()
            .and_then(|word| word.parse::<i32>().ok());
        match number {
            Some(code) if indent <= 4 => {
                current = Some(code);
                codes.insert(code, trimmed[code.to_string().len()..].trim().to_owned());
            }
            _ if indent >= 6 && !trimmed.is_empty() => {
                let code = current.expect("a continuation line before any code");
                let text = codes.get_mut(&code).unwrap();
                text.push(' ');
                text.push_str(trimmed);
            }
            _ => break,
        }
    }
    codes
}

#[test]
fn help_lists_codes_0_to_13_each_explained_in_whole_sentences() {
    let codes = documented_codes();
    assert_eq!(
        codes.keys().copied().collect::<Vec<_>>(),
        (0..=13).collect::<Vec<_>>()
    );
    for (code, text) in &codes {
        assert!(text.len() > 6, "{code}: {text:?}");
        assert!(
            !text.ends_with(" the") && !text.ends_with(','),
            "{code}: {text:?}"
        );
    }
    assert!(codes[&11].contains("try later"), "{:?}", codes[&11]);
    assert!(codes[&12].contains("in use"), "{:?}", codes[&12]);
    assert!(codes[&13].contains("not approved yet"), "{:?}", codes[&13]);
    assert!(
        codes[&2].contains("empty"),
        "an empty password is a usage error"
    );
    assert!(codes[&6].contains("not an Arca Safe"));
}

#[test]
fn no_sentence_of_the_exit_code_table_is_cut_off() {
    for (code, text) in documented_codes() {
        assert!(!text.ends_with(" were"), "{code}: {text:?}");
    }
}

/// A tiny shared library that makes the system's random number generator fail for the
/// requests a message's IV makes (16 bytes, no flags), as on a system without randomness; the
/// standard library's own requests (other flags) and the probe (0 bytes) still work. `None` if
/// no C compiler is installed.
fn no_randomness_library(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("no_random.c");
    fs::write(
        &source,
        r#"
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t getrandom(void *buffer, size_t length, unsigned int flags) {
    if (length == 16 && flags == 0) {
        errno = EIO;
        return -1;
    }
    return syscall(SYS_getrandom, buffer, length, flags);
}
"#,
    )
    .unwrap();
    let library = dir.join("libno_random.so");
    let compiled = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .status()
        .is_ok_and(|status| status.success());
    compiled.then_some(library)
}

/// Holds the Safe's writer lock from this process, as another program would.
fn holding_the_lock(safe: &Path) -> Safe {
    Safe::open_with(
        safe,
        Unlock::Password(&arca_cryptor::Password::new(PASSWORD.to_owned())),
        &OpenOptions {
            mode: OpenMode::Write,
            backoff: arca_safe::Backoff::in_folder(
                // Beside the Safe, so it goes with the fixture's folder.
                safe.with_extension("lock-holder-state"),
            ),
        },
    )
    .unwrap()
}

#[test]
fn every_documented_exit_code_has_a_case_that_produces_it() {
    let fixture = Fixture::new();
    let safe = &fixture.safe;
    let mut produced: BTreeMap<i32, String> = BTreeMap::new();
    let mut skipped_general = false;
    let mut expect = |code: i32, what: &str, output: Output| {
        assert_eq!(
            output.status.code(),
            Some(code),
            "{what}: expected exit code {code}: {}",
            describe(&output)
        );
        if code != 0 && what != "unknown option" {
            let stderr = stderr(&output);
            assert!(stderr.contains("arca: error: "), "{what}: {stderr}");
            assert!(stderr.contains("arca: hint: "), "{what}: {stderr}");
        }
        produced.entry(code).or_insert_with(|| what.to_owned());
    };

    // 0: success.
    expect(0, "ls", fixture.run(&[&"ls", safe], PASSWORD));

    // 1: general — no system randomness for a message's IV.
    match no_randomness_library(fixture.dir.path()) {
        Some(library) => {
            fs::write(fixture.path("keys.txt"), KEYS).unwrap();
            fs::write(fixture.path("in.txt"), b"cleartext").unwrap();
            let output = run_in(
                &fixture.path("state"),
                &[
                    &"rncryptor",
                    &"encrypt",
                    &"--keys-file",
                    &fixture.path("keys.txt"),
                    &fixture.path("in.txt"),
                    &fixture.path("out.bin"),
                ],
                None,
                &[("LD_PRELOAD", library.as_os_str())],
            );
            assert!(stderr(&output).contains("random"), "{}", describe(&output));
            assert!(!fixture.path("out.bin").exists());
            expect(1, "no system randomness", output);
        }
        None => {
            println!("skipped: exit code 1 needs a C compiler (cc) to make randomness fail");
            skipped_general = true;
        }
    }

    // 2: usage — an empty password (nothing is tried), a bad argument.
    expect(2, "empty password", fixture.run(&[&"ls", safe], ""));
    expect(2, "a line break only", fixture.run(&[&"ls", safe], "\n"));
    expect(
        2,
        "unknown option",
        fixture.run(&[&"ls", safe, &"--no-such-option"], PASSWORD),
    );
    expect(
        2,
        "an invalid name",
        fixture.run(&[&"mkdir", safe, &"/a\u{7}b"], PASSWORD),
    );

    // 3: a wrong password.
    expect(
        3,
        "wrong password",
        fixture.run(&[&"ls", safe], "wrong password"),
    );

    // 4: not an RNCryptor v3 message.
    fs::write(fixture.path("not-rncryptor.bin"), [2u8; 100]).unwrap();
    fs::write(fixture.path("keys.txt"), KEYS).unwrap();
    expect(
        4,
        "malformed input",
        run_in(
            &fixture.path("state"),
            &[
                &"rncryptor",
                &"decrypt",
                &"--keys-file",
                &fixture.path("keys.txt"),
                &fixture.path("not-rncryptor.bin"),
                &fixture.path("decrypted.bin"),
            ],
            None,
            &[],
        ),
    );

    // 5: I/O — a source that does not exist. The OS error is printed once, and there is no
    // `--resume` hint for it (nothing was imported, nothing is left to resume).
    let output = fixture.run(&[&"import", safe, &fixture.path("no such file")], PASSWORD);
    let text = stderr(&output);
    assert_eq!(text.matches("os error").count(), 1, "{text}");
    assert!(!text.contains("--resume"), "{text}");
    expect(5, "missing source", output);

    // 6: not found — a Safe path that is a regular file, a folder that is not a Safe, a path
    // inside the Safe that does not exist.
    expect(
        6,
        "a Safe path that is a file",
        fixture.run(&[&"ls", &fixture.path("a.txt")], PASSWORD),
    );
    expect(
        6,
        "not a Safe",
        fixture.run(&[&"ls", &fixture.dir.path()], PASSWORD),
    );
    expect(
        6,
        "no such path",
        fixture.run(&[&"ls", safe, &"/nothing here"], PASSWORD),
    );

    // 7: a name clash.
    let output = fixture.run(&[&"mkdir", safe, &"/folder"], PASSWORD);
    assert!(output.status.success(), "{}", describe(&output));
    expect(
        7,
        "the name is taken",
        fixture.run(&[&"mv", safe, &"/folder", &"/a.txt"], PASSWORD),
    );
    expect(
        7,
        "the new Safe's folder exists",
        fixture.run(&[&"create", &fixture.dir.path()], PASSWORD),
    );

    // 8: damaged — a data file changed, found by check.
    let listing: serde_json::Value = serde_json::from_slice(
        &fixture
            .run(&[&"stat", safe, &"/a.txt", &"--json"], PASSWORD)
            .stdout,
    )
    .unwrap();
    let id = listing["id"].as_str().unwrap().to_owned();
    let data = safe
        .join("files")
        .join(&id[..2])
        .join(format!("{id}.data.crypt"));
    let mut bytes = fs::read(&data).unwrap();
    bytes[40] ^= 1;
    let damaged_copy = fixture.path("damaged");
    copy_dir(safe, &damaged_copy);
    fs::write(
        damaged_copy
            .join("files")
            .join(&id[..2])
            .join(format!("{id}.data.crypt")),
        &bytes,
    )
    .unwrap();
    expect(
        8,
        "a damaged file",
        fixture.run(&[&"check", &damaged_copy, &"--full"], PASSWORD),
    );

    // 9: a newer format.
    let newer = fixture.path("newer");
    copy_dir(safe, &newer);
    let manifest = fs::read_to_string(newer.join("safe.json")).unwrap();
    fs::write(
        newer.join("safe.json"),
        manifest.replace("\"version\": 1", "\"version\": 2"),
    )
    .unwrap();
    expect(9, "a newer Safe", fixture.run(&[&"ls", &newer], PASSWORD));

    // 10: incomplete — a link named on the command line is not imported.
    symlink(fixture.path("a.txt"), fixture.path("link.txt")).unwrap();
    expect(
        10,
        "a link imported",
        fixture.run(&[&"import", safe, &fixture.path("link.txt")], PASSWORD),
    );

    // 11: try later — a wrong password, then at once another try.
    let state = fixture.path("shared state");
    let output = fixture.run_in_state(&state, &[&"ls", safe], "wrong password");
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    expect(
        11,
        "a retry during the back-off",
        fixture.run_in_state(&state, &[&"ls", safe], PASSWORD),
    );

    // 12: in use — another program holds the Safe's writer lock.
    let holder = holding_the_lock(safe);
    let output = fixture.run(&[&"mkdir", safe, &"/x"], PASSWORD);
    assert!(
        stderr(&output).contains(&format!("process {} on ", std::process::id())),
        "{}",
        describe(&output)
    );
    expect(12, "the Safe in use", output);
    drop(holder);

    // 13: device — a copy that joined cannot export a sync configuration before a device
    // already syncing approves it.
    let target = fixture.path("sync target");
    let config = fixture.path("vault.arca-sync");
    let joined = fixture.path("joined");
    for args in [
        vec![&"sync" as &dyn AsRef<OsStr>, safe, &"--to", &target],
        vec![&"sync-config", &"export", safe, &"--out", &config],
        vec![&"join", &config, &joined],
    ] {
        let output = fixture.run(&args, PASSWORD);
        assert!(output.status.success(), "{}", describe(&output));
    }
    expect(
        13,
        "a device not approved yet",
        fixture.run(
            &[
                &"sync-config",
                &"export",
                &joined,
                &"--out",
                &fixture.path("again.arca-sync"),
            ],
            PASSWORD,
        ),
    );

    if skipped_general {
        produced.insert(1, "skipped: no C compiler".to_owned());
    }
    let documented = documented_codes();
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        produced.keys().collect::<Vec<_>>(),
        "documented codes without a case, or cases without a documented code: {produced:#?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The seconds a "try again in N s" message asks to wait.
fn seconds_to_wait(text: &str) -> u64 {
    let start = text
        .find("try again in ")
        .unwrap_or_else(|| panic!("no wait given: {text}"))
        + "try again in ".len();
    let rest = &text[start..];
    rest[..rest.find(' ').unwrap()].parse().unwrap()
}

#[test]
fn a_wrong_password_then_an_immediate_retry_is_told_to_wait() {
    let fixture = Fixture::new();
    let state = fixture.path("state");
    let safe = &fixture.safe;
    let output = fixture.run_in_state(&state, &[&"ls", safe], "wrong password");
    assert_eq!(output.status.code(), Some(3), "{}", describe(&output));
    // Every way in waits: the right password, a reading and a writing command, a backup.
    for args in [
        vec![&"ls" as &dyn AsRef<OsStr>, safe],
        vec![&"mkdir", safe, &"/new"],
        vec![&"info", safe],
        vec![&"backup", safe, &fixture.path("backup")],
    ] {
        let started = Instant::now();
        let output = fixture.run_in_state(&state, &args, PASSWORD);
        assert_eq!(output.status.code(), Some(11), "{}", describe(&output));
        let text = stderr(&output);
        let seconds = seconds_to_wait(&text);
        assert!((1..=2).contains(&seconds), "{text}");
        assert!(text.contains("arca: hint: "), "{text}");
        assert!(started.elapsed() < Duration::from_secs(10), "it waited");
    }
    // Another Safe is not held up by this one's count.
    let other = fixture.path("other");
    let output = fixture.run_in_state(
        &state,
        &[&"create", &other, &"--iterations", &"1000"],
        PASSWORD,
    );
    assert!(output.status.success(), "{}", describe(&output));
    let output = fixture.run_in_state(&state, &[&"ls", &other], PASSWORD);
    assert!(output.status.success(), "{}", describe(&output));
}
