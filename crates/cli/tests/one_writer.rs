//! One writer at a time, with real processes (issue 9, part 3).
//!
//! While one `arca` imports a large file (held still with SIGSTOP once its lock names it, so
//! the test does not race the clock), every other command that writes — a second import,
//! `--resume`, `--abandon`, `mv`, `passwd`, `check --repair` — fails at once with exit code 12
//! and names the holder (process id and host), and the reading commands (`ls`, `search`,
//! `cat`, `info`, `export`) work beside it. Then the import finishes and `check --full` is
//! clean. Two backups to one folder: the second is refused the same way. Several imports
//! started together: none fails with a database error. And a lock left by a process killed
//! with SIGKILL is no obstacle to the next writer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";
const NEW_PASSWORD: &str = "amber-quartz-lantern-7731-fjord";
const IN_USE: i32 = 12;
/// A refused writer must not wait: well under this (the key derivation is fast in tests).
const AT_ONCE: Duration = Duration::from_secs(10);

/// A Safe in a temporary folder, with a state folder of its own for the back-off.
struct Fixture {
    dir: tempfile::TempDir,
    safe: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let safe = dir.path().join("vault");
        let fixture = Self { dir, safe };
        fixture.ok(&[&"create", &fixture.safe, &"--iterations", &"1000"]);
        let docs = fixture.path("docs");
        fs::create_dir_all(&docs).unwrap();
        fs::write(docs.join("a.txt"), b"alpha").unwrap();
        fs::write(docs.join("b.txt"), b"beta").unwrap();
        fixture.ok(&[&"import", &fixture.safe, &docs]);
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, args: &[&dyn AsRef<OsStr>]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_arca"));
        command
            .args(args)
            .arg("--password-stdin")
            .env("XDG_STATE_HOME", self.path("state"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `arca ARGS --password-stdin` with `stdin`.
    fn run_with(&self, args: &[&dyn AsRef<OsStr>], stdin: &str) -> Output {
        let mut child = self.command(args).spawn().unwrap();
        // A command may end before it reads (a usage error): a closed pipe is no failure.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&dyn AsRef<OsStr>]) -> Output {
        self.run_with(args, PASSWORD)
    }

    fn ok(&self, args: &[&dyn AsRef<OsStr>]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{}", describe(args, &output));
        String::from_utf8(output.stdout).unwrap()
    }

    /// Starts `arca ARGS` in the background, its password given.
    fn spawn(&self, args: &[&dyn AsRef<OsStr>]) -> Running {
        let mut child = self.command(args).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(PASSWORD.as_bytes());
        drop(stdin);
        Running(Some(child))
    }

    /// A sparse file of `size` bytes: quick to make, long to encrypt.
    fn big_file(&self, name: &str, size: u64) -> PathBuf {
        let path = self.path(name);
        File::create(&path).unwrap().set_len(size).unwrap();
        path
    }
}

fn describe(args: &[&dyn AsRef<OsStr>], output: &Output) -> String {
    format!(
        "arca {:?}: {:?}\n--- stdout\n{}--- stderr\n{}",
        args.iter().map(|arg| arg.as_ref()).collect::<Vec<_>>(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A process started in the background; killed if the test ends before it.
struct Running(Option<Child>);

impl Running {
    fn pid(&self) -> u32 {
        self.0.as_ref().unwrap().id()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal}");
    }

    fn wait(mut self) -> Output {
        self.0.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until the lock file in `folder` names the process `pid` (it has taken the lock).
fn wait_for_lock(folder: &Path, running: &Running) {
    let started = Instant::now();
    loop {
        let holder: Option<Value> = fs::read(folder.join("writer.lock"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        if holder.is_some_and(|holder| holder["pid"] == running.pid()) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "process {} never took the lock of {}",
            running.pid(),
            folder.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until an import writes a data file in the Safe `folder` (a temporary one, growing).
fn wait_for_encryption(folder: &Path) {
    let started = Instant::now();
    loop {
        let writing = fs::read_dir(folder.join("files"))
            .into_iter()
            .flatten()
            .flatten()
            .flat_map(|shard| fs::read_dir(shard.path()).into_iter().flatten().flatten())
            .any(|entry| {
                entry.file_name().to_string_lossy().ends_with(".tmp")
                    && entry.metadata().is_ok_and(|metadata| metadata.len() > 0)
            });
        if writing {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import never started encrypting"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Asserts the command was refused at once with exit code 12, naming the holder.
fn assert_refused(fixture: &Fixture, args: &[&dyn AsRef<OsStr>], stdin: &str, holder: u32) {
    let started = Instant::now();
    let output = fixture.run_with(args, stdin);
    let elapsed = started.elapsed();
    let context = describe(args, &output);
    assert_eq!(output.status.code(), Some(IN_USE), "{context}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("process {holder} on ")),
        "the holder is not named: {context}"
    );
    assert!(
        stderr.contains("arca"),
        "the program is not named: {context}"
    );
    assert!(elapsed < AT_ONCE, "it waited {elapsed:?}: {context}");
}

#[test]
fn while_an_import_runs_every_other_writer_is_refused_at_once_and_readers_work() {
    let fixture = Fixture::new();
    let big = fixture.big_file("big.bin", 1 << 30);
    let small = fixture.path("small.txt");
    fs::write(&small, b"small").unwrap();
    let importer = fixture.spawn(&[&"import", &fixture.safe, &big]);
    wait_for_lock(&fixture.safe, &importer);
    // Stopped while it encrypts, between database transactions: stopped inside one (opening
    // the database runs SQLite's recovery of its log under exclusive locks), it would keep
    // readers out for as long as it stays stopped, which no running writer does.
    wait_for_encryption(&fixture.safe);
    importer.signal("-STOP");
    let pid = importer.pid();
    let safe = &fixture.safe;

    for args in [
        vec![&"import" as &dyn AsRef<OsStr>, safe, &small],
        vec![&"import", safe, &"--resume"],
        vec![&"import", safe, &"--abandon"],
        vec![&"mv", safe, &"/docs/a.txt", &"/docs/renamed.txt"],
        vec![&"mkdir", safe, &"/new folder"],
        vec![&"rm", safe, &"/docs/b.txt"],
        vec![&"check", safe, &"--repair"],
        vec![&"check", safe],
        vec![&"recovery", &"create", safe],
    ] {
        assert_refused(&fixture, &args, PASSWORD, pid);
    }
    assert_refused(
        &fixture,
        &[&"passwd", safe],
        &format!("{PASSWORD}\n{NEW_PASSWORD}"),
        pid,
    );

    // Readers work beside the writer.
    let listing = fixture.ok(&[&"ls", safe, &"/docs"]);
    assert!(
        listing.contains("a.txt") && listing.contains("b.txt"),
        "{listing}"
    );
    let found = fixture.ok(&[&"search", safe, &"b.txt"]);
    assert!(found.contains("b.txt"), "{found}");
    assert_eq!(fixture.ok(&[&"cat", safe, &"/docs/a.txt"]), "alpha");
    fixture.ok(&[&"info", safe]);
    fixture.ok(&[&"export", safe, &"/docs", &"--to", &fixture.path("out")]);
    assert_eq!(fs::read(fixture.path("out/docs/b.txt")).unwrap(), b"beta");

    // The import goes on and finishes; nothing was changed by the refused commands.
    importer.signal("-CONT");
    let output = importer.wait();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fixture.ok(&[&"check", safe, &"--full"]);
    let listing = fixture.ok(&[&"ls", safe, &"/", &"-R"]);
    for path in ["/big.bin", "/docs/a.txt", "/docs/b.txt"] {
        assert!(listing.contains(path), "{path} missing:\n{listing}");
    }
    assert!(!listing.contains("renamed") && !listing.contains("new folder"));
    // The password was not changed.
    fixture.ok(&[&"ls", safe]);
}

#[test]
fn searching_works_beside_a_writer() {
    let fixture = Fixture::new();
    let big = fixture.big_file("big.bin", 1 << 29);
    let importer = fixture.spawn(&[&"import", &fixture.safe, &big]);
    wait_for_lock(&fixture.safe, &importer);
    // Stopped while it encrypts, between database transactions: stopped inside one (opening
    // the database runs SQLite's recovery of its log under exclusive locks), it would keep
    // readers out for as long as it stays stopped, which no running writer does.
    wait_for_encryption(&fixture.safe);
    importer.signal("-STOP");
    let hits = fixture.ok(&[&"search", &fixture.safe, &"a.txt"]);
    assert!(hits.contains("a.txt"), "{hits}");
    importer.signal("-CONT");
    assert!(importer.wait().status.success());
}

/// Whether any file below `dir` ends in `.tmp`.
fn has_temporary(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            has_temporary(&path)
        } else {
            path.to_string_lossy().ends_with(".tmp")
        }
    })
}

#[test]
fn a_lock_left_by_a_killed_writer_is_no_obstacle() {
    let fixture = Fixture::new();
    let big = fixture.big_file("big.bin", 1 << 30);
    let importer = fixture.spawn(&[&"import", &fixture.safe, &big]);
    wait_for_lock(&fixture.safe, &importer);
    // Killed while it encrypts (its plan recorded, a data file being written).
    let started = Instant::now();
    while !has_temporary(&fixture.safe.join("files")) {
        assert!(started.elapsed() < Duration::from_secs(60), "no data file");
        std::thread::sleep(Duration::from_millis(1));
    }
    importer.signal("-KILL");
    let output = importer.wait();
    assert_eq!(output.status.signal(), Some(9));
    // The lock file still names the dead process; the next writer goes ahead at once.
    assert!(fixture.safe.join("writer.lock").exists());
    let safe = &fixture.safe;
    let started = Instant::now();
    fixture.ok(&[&"mv", safe, &"/docs/a.txt", &"/docs/renamed.txt"]);
    assert!(started.elapsed() < AT_ONCE);
    fixture.ok(&[&"import", safe, &"--resume"]);
    fixture.ok(&[&"check", safe, &"--full"]);
    let listing = fixture.ok(&[&"ls", safe, &"/", &"-R"]);
    for path in ["/big.bin", "/docs/renamed.txt", "/docs/b.txt"] {
        assert!(listing.contains(path), "{path} missing:\n{listing}");
    }
}

#[test]
fn a_second_backup_to_the_same_folder_is_refused_while_the_first_runs() {
    let fixture = Fixture::new();
    let big = fixture.big_file("big.bin", 1 << 29);
    fixture.ok(&[&"import", &fixture.safe, &big]);
    let target = fixture.path("backup");
    let first = fixture.spawn(&[&"backup", &fixture.safe, &target]);
    wait_for_lock(&target, &first);
    first.signal("-STOP");
    let started = Instant::now();
    let output = fixture.run(&[&"backup", &fixture.safe, &target]);
    let context = describe(&[&"backup"], &output);
    assert_eq!(output.status.code(), Some(IN_USE), "{context}");
    assert!(started.elapsed() < AT_ONCE, "{context}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("process {} on ", first.pid())),
        "{context}"
    );
    assert!(stderr.contains("backup"), "{context}");
    // A backup elsewhere, and writing to the Safe, are not held up by it.
    fixture.ok(&[&"backup", &fixture.safe, &fixture.path("other backup")]);
    fixture.ok(&[&"mkdir", &fixture.safe, &"/made meanwhile"]);
    first.signal("-CONT");
    let output = first.wait();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fixture.ok(&[&"backup", &fixture.safe, &target]);
    fixture.ok(&[&"backup", &"verify", &target, &"--full"]);
    fixture.ok(&[&"check", &fixture.safe, &"--full"]);
    let restored = fixture.path("restored");
    fixture.ok(&[&"restore", &target, &restored]);
    let listing = fixture.ok(&[&"ls", &restored, &"/", &"-R"]);
    for path in ["/big.bin", "/docs/a.txt", "/made meanwhile"] {
        assert!(listing.contains(path), "{path} missing:\n{listing}");
    }
}

#[test]
fn a_second_restore_into_the_same_new_safe_is_refused_while_the_first_runs() {
    let fixture = Fixture::new();
    let big = fixture.big_file("big.bin", 1 << 28);
    fixture.ok(&[&"import", &fixture.safe, &big]);
    let target = fixture.path("backup");
    fixture.ok(&[&"backup", &fixture.safe, &target]);
    let restored = fixture.path("restored");
    let first = fixture.spawn(&[&"restore", &target, &restored]);
    wait_for_lock(&restored, &first);
    first.signal("-STOP");
    assert_refused(
        &fixture,
        &[&"restore", &target, &restored],
        PASSWORD,
        first.pid(),
    );
    first.signal("-CONT");
    let output = first.wait();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    fixture.ok(&[&"check", &restored, &"--full"]);
    let listing = fixture.ok(&[&"ls", &restored, &"/", &"-R"]);
    assert!(
        listing.contains("/big.bin") && listing.contains("/docs/a.txt"),
        "{listing}"
    );
}

#[test]
fn imports_started_together_never_fail_with_a_database_error_and_lose_nothing() {
    let fixture = Fixture::new();
    let folder = fixture.path("photos");
    fs::create_dir_all(&folder).unwrap();
    for index in 0..200 {
        fs::write(
            folder.join(format!("{index:03}.jpg")),
            format!("photo {index}"),
        )
        .unwrap();
    }
    fs::write(folder.join("large.bin"), vec![7u8; 64 << 20]).unwrap();
    let runs: Vec<Running> = (0..3)
        .map(|_| fixture.spawn(&[&"import", &fixture.safe, &folder]))
        .collect();
    let outputs: Vec<Output> = runs.into_iter().map(Running::wait).collect();
    let mut imported = 0;
    for output in &outputs {
        let context = describe(&[&"import"], output);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("UNIQUE") && !stderr.contains("database error"),
            "{context}"
        );
        match output.status.code() {
            Some(0) => imported += 1,
            Some(IN_USE) => assert!(stderr.contains("process "), "{context}"),
            _ => panic!("{context}"),
        }
    }
    assert!(imported >= 1);
    fixture.ok(&[&"check", &fixture.safe, &"--full"]);
    // Each import that ran holds the whole folder, once ("photos", "photos (2)", …).
    let listing: Value =
        serde_json::from_str(&fixture.ok(&[&"ls", &fixture.safe, &"/", &"-R", &"--json"])).unwrap();
    let files = listing
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["path"].as_str().unwrap().starts_with("/photos"))
        .filter(|entry| entry["kind"] == "file")
        .count();
    assert_eq!(files, 201 * imported, "{listing:#}");
    // Nothing is left interrupted: no other process owns a job.
    let output = fixture.run(&[&"import", &fixture.safe, &"--resume"]);
    assert!(output.status.success());
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("interrupted"),
        "{}",
        describe(&[&"import", &"--resume"], &output)
    );
}
