//! Helpers for the tests that run an operation in a child process (kill -9, full disk): the test
//! binary re-executes itself, running only its `child_main` test, with the operation and its
//! paths in the environment.

use std::ffi::OsString;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arca_safe::{Item, Kind, Problem, Safe};
use uuid::Uuid;

/// The environment variable naming the operation `child_main` runs.
pub const CHILD_OPERATION: &str = "ARCA_KILL_CHILD";

/// Runs `child_main` of this test binary with `operation` and `envs`. Crash and disk-full
/// settings of this process are never inherited.
pub fn run_child(operation: &str, envs: &[(&str, OsString)]) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child_main", "--nocapture", "--include-ignored"])
        .env(CHILD_OPERATION, operation)
        .env_remove("ARCA_CRASH_AT")
        .env_remove("ARCA_DISK_FULL_AFTER")
        .env("RUST_BACKTRACE", "0");
    for (name, value) in envs {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// The child's stdout and stderr, for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The text after `key` on the child's stdout (up to the end of that line).
pub fn child_value(output: &Output, key: &str) -> Option<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let start = stdout.find(key)? + key.len();
    let rest = &stdout[start..];
    Some(
        rest[..rest.find('\n').unwrap_or(rest.len())]
            .trim()
            .to_owned(),
    )
}

/// Asserts the child finished its operation normally.
pub fn assert_succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "child failed: {}",
        describe(output)
    );
}

/// Asserts the child died by SIGKILL.
pub fn assert_killed(output: &Output, what: &str) {
    assert_eq!(
        output.status.signal(),
        Some(9),
        "{what}: the child was not killed: {}",
        describe(output)
    );
}

/// Copies a folder tree (files, folders; nothing else is expected in a fixture).
pub fn copy_dir(from: &Path, to: &Path) {
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

/// Every file and folder below `dir` whose name ends in `.tmp`, at any depth.
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            if path.to_string_lossy().ends_with(".tmp") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every folder below `root` (relative paths, sorted), `root` itself excluded.
pub fn folders(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
                stack.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Every live item below `folder` (the root for `None`), by its path relative to `folder`.
pub fn safe_tree(safe: &Safe, folder: Option<Uuid>) -> Vec<(String, Item)> {
    let mut out = Vec::new();
    let mut stack = vec![(folder, String::new())];
    while let Some((folder, prefix)) = stack.pop() {
        for item in safe.children(folder, false).unwrap() {
            let path = if prefix.is_empty() {
                item.name.clone()
            } else {
                format!("{prefix}/{}", item.name)
            };
            if item.kind == Kind::Folder {
                stack.push((Some(item.id), path.clone()));
            }
            out.push((path, item));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Asserts that the Safe below `folder` holds exactly the files and folders of `source`, each
/// file once, present, with the same bytes (read back through the Safe, so verified).
pub fn assert_same_tree(safe: &Safe, folder: Uuid, source: &Path, context: &str) {
    let in_safe = safe_tree(safe, Some(folder));
    let safe_folders: Vec<String> = in_safe
        .iter()
        .filter(|(_, item)| item.kind == Kind::Folder)
        .map(|(path, _)| path.clone())
        .collect();
    assert_eq!(safe_folders, folders(source), "{context}: folders differ");
    let safe_files: Vec<(String, Vec<u8>)> = in_safe
        .iter()
        .filter(|(_, item)| item.kind == Kind::File)
        .map(|(path, item)| {
            assert_eq!(
                item.content,
                arca_safe::Content::Present,
                "{context}: {path} is not present"
            );
            (path.clone(), safe.read(item.id).unwrap().to_vec())
        })
        .collect();
    let source_files: Vec<(String, Vec<u8>)> = super::tree(source)
        .into_iter()
        .map(|(path, bytes)| (path.to_string_lossy().into_owned(), bytes))
        .collect();
    let names = |files: &[(String, Vec<u8>)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&safe_files),
        names(&source_files),
        "{context}: files differ"
    );
    for ((path, in_safe), (_, original)) in safe_files.iter().zip(&source_files) {
        assert!(in_safe == original, "{context}: {path} has other bytes");
    }
}

/// Asserts that every problem is one `allowed` accepts.
pub fn assert_problems_only(
    problems: &[Problem],
    allowed: impl Fn(&Problem) -> bool,
    context: &str,
) {
    for problem in problems {
        assert!(
            allowed(problem),
            "{context}: unexpected problem {problem:?} in {problems:?}"
        );
    }
}

/// Deterministic pseudo-random bytes (xorshift), so fixtures are the same on every run.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Every file in a Safe with its bytes: what "nothing present before is lost" is checked
/// against after a kill or a full disk.
#[derive(Default)]
pub struct Existing(Vec<(Uuid, Vec<u8>)>);

impl Existing {
    /// Records every file now in `safe`.
    pub fn of(safe: &Safe) -> Self {
        Self(
            safe_tree(safe, None)
                .into_iter()
                .filter(|(_, item)| item.kind == Kind::File)
                .map(|(_, item)| (item.id, safe.read(item.id).unwrap().to_vec()))
                .collect(),
        )
    }

    /// Asserts every recorded file is still there, outside the trash, with the same bytes.
    pub fn assert_intact(&self, safe: &Safe, context: &str) {
        for (id, bytes) in &self.0 {
            let item = safe.item(*id).unwrap_or_else(|error| {
                panic!("{context}: a file present before is gone: {error}")
            });
            assert_eq!(item.trashed_at, None, "{context}: {} trashed", item.name);
            let read = safe
                .read(*id)
                .unwrap_or_else(|error| panic!("{context}: {} unreadable: {error}", item.name));
            assert!(
                read.as_slice() == bytes.as_slice(),
                "{context}: {} changed",
                item.name
            );
        }
    }
}

/// A fresh copy of the fixture folder `path`, for one run.
pub fn instance_of(path: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(path, dir.path());
    dir
}
