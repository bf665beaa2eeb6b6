//! Helpers shared by the Safe's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod child;

use std::fs;
use std::path::{Path, PathBuf};

use arca_cryptor::{Iterations, Password};
use arca_safe::{ImportOptions, ImportReport, JobControl, Safe};

pub const PASSWORD: &str = "a long test passphrase";

pub fn password() -> Password {
    Password::new(PASSWORD.to_owned())
}

pub fn new_safe(dir: &Path) -> Safe {
    Safe::create(
        &dir.join("test.arca"),
        &password(),
        Iterations::new(1_000).unwrap(),
    )
    .unwrap()
}

pub fn import(safe: &mut Safe, sources: &[PathBuf], options: &ImportOptions) -> ImportReport {
    safe.import(sources, options, &JobControl::new(), &mut |_| {})
        .unwrap()
}

/// Every regular file below `root`, relative path → bytes.
pub fn tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let metadata = fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                stack.push(path);
            } else if metadata.is_file() {
                out.push((
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

/// Every byte of every file under `dir` (names included), for leak scans.
pub fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            bytes.extend(path.file_name().unwrap().as_encoded_bytes());
            if path.is_dir() {
                stack.push(path);
            } else {
                bytes.extend(fs::read(&path).unwrap());
            }
        }
    }
    bytes
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
