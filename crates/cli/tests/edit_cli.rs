//! `arca edit` with real processes: a scripted "editor" saves twice (once by writing a new file
//! and renaming it over the copy) and exits → the Safe holds the last bytes, the secure storage
//! is empty, and the cleartext is nowhere on disk; `kill -9` of arca while the edit is open →
//! the next start keeps the copy the editor changed afterwards and takes it back (or deletes
//! it), and wipes an unchanged one; a secure storage on disk, or none, is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";

/// A Safe on disk, and a runtime folder in RAM (`/dev/shm`) standing in for `$XDG_RUNTIME_DIR`.
struct Fixture {
    dir: tempfile::TempDir,
    runtime: PathBuf,
    safe: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let runtime =
            Path::new("/dev/shm").join(format!("arca-edit-test-{}", uuid::Uuid::new_v4()));
        fs::create_dir(&runtime).unwrap();
        let safe = dir.path().join("vault");
        let fixture = Self { dir, runtime, safe };
        fixture.ok(&[&"create", &fixture.safe, &"--iterations", &"1000"]);
        let docs = fixture.path("docs");
        fs::create_dir_all(&docs).unwrap();
        fs::write(docs.join("letter.txt"), b"the first draft").unwrap();
        fs::write(docs.join("other.txt"), b"never edited").unwrap();
        fixture.ok(&[
            &"import",
            &fixture.safe,
            &docs.join("letter.txt"),
            &docs.join("other.txt"),
        ]);
        fs::remove_dir_all(&docs).unwrap();
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
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn run(&self, args: &[&dyn AsRef<OsStr>]) -> Output {
        let mut child = self.command(args).spawn().unwrap();
        let _ = child.stdin.take().unwrap().write_all(PASSWORD.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&dyn AsRef<OsStr>]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{}", describe(args, &output));
        String::from_utf8(output.stdout).unwrap()
    }

    fn cat(&self, path: &str) -> Vec<u8> {
        let output = self.run(&[&"cat", &self.safe, &path]);
        assert!(output.status.success(), "{}", describe(&[&"cat"], &output));
        output.stdout
    }

    /// An executable script in the test folder.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    }

    /// Starts `arca edit PATH` with an editor that says where its copy is and then stays open;
    /// arca's process and the copy, once the editor runs.
    fn start_open_edit(&self, path: &str) -> (Child, PathBuf) {
        let ready = self.path("editor-ready");
        let _ = fs::remove_file(&ready);
        let editor = self.script(
            "slow-editor.sh",
            &format!("printf '%s' \"$1\" > '{}'\nsleep 60", ready.display()),
        );
        let mut child = self
            .command(&[&"edit", &self.safe, &path, &"--with", &editor])
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(PASSWORD.as_bytes());
        let start = Instant::now();
        while !ready.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the editor never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        (child, PathBuf::from(fs::read_to_string(&ready).unwrap()))
    }

    /// The run folders in the secure storage.
    fn runs(&self) -> Vec<PathBuf> {
        fs::read_dir(self.runtime.join("arca"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.runtime);
    }
}

fn describe(args: &[&dyn AsRef<OsStr>], output: &Output) -> String {
    let args: Vec<String> = args
        .iter()
        .map(|arg| arg.as_ref().to_string_lossy().into_owned())
        .collect();
    format!(
        "arca {}: {}\nstdout: {}\nstderr: {}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Every file below `dir` that holds `marker`.
fn files_holding(dir: &Path, marker: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            found.extend(files_holding(&path, marker));
        } else if fs::read(&path)
            .unwrap_or_default()
            .windows(marker.len())
            .any(|window| window == marker)
        {
            found.push(path);
        }
    }
    found
}

#[test]
fn an_editor_that_saves_twice_and_exits_leaves_its_last_save_in_the_safe_and_nothing_behind() {
    let fixture = Fixture::new();
    let first = format!("first save {}", uuid::Uuid::new_v4());
    let last = format!("last save by rename {}", uuid::Uuid::new_v4());
    // What the editor writes comes from RAM, so that a copy found on disk is a leak.
    let (first_source, last_source) = (fixture.runtime.join("first"), fixture.runtime.join("last"));
    fs::write(&first_source, &first).unwrap();
    fs::write(&last_source, &last).unwrap();
    let editor = fixture.script(
        "editor.sh",
        &format!(
            "cat '{}' > \"$1\"\nsleep 1\ncat '{}' > \"$1.saving\"\nmv \"$1.saving\" \"$1\"\nsleep 1",
            first_source.display(),
            last_source.display()
        ),
    );
    let output = fixture.run(&[&"edit", &fixture.safe, &"/letter.txt", &"--with", &editor]);
    assert!(output.status.success(), "{}", describe(&[&"edit"], &output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("saved to the Safe: /letter.txt"),
        "no sign of a save: {stderr}"
    );
    assert_eq!(fixture.cat("/letter.txt"), last.as_bytes());
    assert_eq!(fixture.cat("/other.txt"), b"never edited");
    assert!(
        fixture.runs().is_empty(),
        "left in RAM: {:?}",
        fixture.runs()
    );
    // Neither save is anywhere on disk: not in the Safe (encrypted), not in HOME or TMPDIR.
    for marker in [&first, &last] {
        assert_eq!(
            files_holding(fixture.dir.path(), marker.as_bytes()),
            Vec::<PathBuf>::new(),
            "cleartext on disk"
        );
    }
    let check = fixture.run(&[&"check", &fixture.safe, &"--full"]);
    assert!(check.status.success(), "{}", describe(&[&"check"], &check));
}

#[test]
fn after_kill_9_the_next_start_takes_back_a_copy_changed_later_and_wipes_an_unchanged_one() {
    let fixture = Fixture::new();
    let (mut child, copy) = fixture.start_open_edit("/letter.txt");
    assert!(
        copy.starts_with(fixture.runtime.join("arca")),
        "{}",
        copy.display()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The editor outlives arca and saves once more.
    let late = format!("saved after arca died {}", uuid::Uuid::new_v4());
    fs::write(&copy, &late).unwrap();
    assert_eq!(fixture.runs().len(), 1);

    // A second edit that was killed leaves an unchanged copy: wiped at the next start.
    let (mut other, _) = fixture.start_open_edit("/other.txt");
    other.kill().unwrap();
    other.wait().unwrap();
    assert_eq!(fixture.runs().len(), 2);

    let taken = fixture.ok(&[&"edit", &fixture.safe, &"--take-back"]);
    assert!(taken.contains("/letter.txt"), "{taken}");
    assert_eq!(fixture.cat("/letter.txt"), late.as_bytes());
    assert_eq!(fixture.cat("/other.txt"), b"never edited");
    assert!(
        fixture.runs().is_empty(),
        "left in RAM: {:?}",
        fixture.runs()
    );
    assert!(
        files_holding(fixture.dir.path(), late.as_bytes()).is_empty(),
        "cleartext on disk"
    );
}

#[test]
fn a_changed_copy_can_be_discarded_instead() {
    let fixture = Fixture::new();
    let (mut child, copy) = fixture.start_open_edit("/letter.txt");
    child.kill().unwrap();
    child.wait().unwrap();
    fs::write(&copy, b"unwanted change").unwrap();

    // Any edit of the Safe mentions the kept copy; --discard deletes it; the Safe is as it was.
    let noted = fixture.run(&[&"edit", &fixture.safe, &"/other.txt", &"--with", &"true"]);
    assert!(noted.status.success(), "{}", describe(&[&"edit"], &noted));
    assert!(
        String::from_utf8_lossy(&noted.stderr).contains("--take-back"),
        "{}",
        describe(&[&"edit"], &noted)
    );
    let discarded = fixture.ok(&[&"edit", &fixture.safe, &"--discard"]);
    assert!(discarded.contains("/letter.txt"), "{discarded}");
    assert!(fixture.runs().is_empty());
    assert_eq!(fixture.cat("/letter.txt"), b"the first draft");
}

#[test]
fn a_secure_storage_on_disk_or_none_at_all_is_refused_before_the_password() {
    let fixture = Fixture::new();
    let on_disk = fixture.path("runtime-on-disk");
    fs::create_dir(&on_disk).unwrap();
    let mut command =
        fixture.command(&[&"edit", &fixture.safe, &"/letter.txt", &"--with", &"true"]);
    command.env("XDG_RUNTIME_DIR", &on_disk);
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        describe(&[&"edit"], &output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not in RAM"), "{stderr}");
    assert!(
        fs::read_dir(&on_disk).unwrap().next().is_none(),
        "written on disk"
    );

    let mut command =
        fixture.command(&[&"edit", &fixture.safe, &"/letter.txt", &"--with", &"true"]);
    command.env_remove("XDG_RUNTIME_DIR");
    let output = command.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(5),
        "{}",
        describe(&[&"edit"], &output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("XDG_RUNTIME_DIR is not set"),
        "{}",
        describe(&[&"edit"], &output)
    );
}
