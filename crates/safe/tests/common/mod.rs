//! Helpers shared by the Safe's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod child;
pub mod garage;
pub mod hostile;

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use arca_cryptor::{Iterations, Password};
pub use arca_safe::JobControl;
use arca_safe::{Backoff, ImportOptions, ImportReport, OpenMode, OpenOptions, Safe};

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

pub fn import(safe: &Safe, sources: &[PathBuf], options: &ImportOptions) -> ImportReport {
    safe.import(sources, options, &JobControl::new(), &mut |_| {})
        .unwrap()
}

/// A back-off with a counter folder of its own, so that a test which is not about the back-off
/// never waits on it (each call starts from no failures).
pub fn test_backoff() -> Backoff {
    Backoff::in_folder(
        std::env::temp_dir()
            .join("arca-test-backoff")
            .join(uuid::Uuid::new_v4().to_string()),
    )
}

/// Opens a Safe for reading, with a back-off of its own: a test that tries which password
/// works is not slowed down by its own wrong tries, and holds no writer lock.
pub fn probe(path: &Path, password: &Password) -> arca_safe::Result<Safe> {
    Safe::open_with(
        path,
        arca_safe::Unlock::Password(password),
        &OpenOptions {
            mode: OpenMode::Read,
            backoff: test_backoff(),
        },
    )
}

/// Like [`probe`], with the recovery key.
pub fn probe_recovery(path: &Path, key: &arca_cryptor::RecoveryKey) -> arca_safe::Result<Safe> {
    Safe::open_with(
        path,
        arca_safe::Unlock::RecoveryKey(key),
        &OpenOptions {
            mode: OpenMode::Read,
            backoff: test_backoff(),
        },
    )
}

/// Options to open a Safe for writing with [`test_backoff`].
pub fn test_open_options() -> OpenOptions {
    OpenOptions {
        mode: OpenMode::Write,
        backoff: test_backoff(),
    }
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

/// Asserts that none of `markers` (file names used in a test, cleartext placed in its files)
/// appears anywhere in the Safe folder `safe_dir`: in any file or folder name, or in any byte of
/// any file (data files, the database and its -wal and -shm files, temporary files). Files are
/// streamed, so a Safe holding gigabytes is scanned in constant memory.
pub fn assert_no_leaks(safe_dir: &Path, markers: &[&[u8]]) {
    assert!(
        markers.iter().all(|marker| !marker.is_empty()),
        "an empty marker matches everything"
    );
    // Ciphertext is random bytes: a short marker turns up in a big Safe by chance.
    let scanned = bytes_under(safe_dir) as f64;
    for marker in markers {
        let chance = scanned * 256f64.powi(-(marker.len() as i32));
        assert!(
            chance < 1e-6,
            "{} is too short to tell a leak from chance in {scanned} bytes",
            shown(marker)
        );
    }
    let scanner = LeakScanner::new(markers);
    let mut stack = vec![safe_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().as_encoded_bytes();
            if let Some((marker, _)) = scanner.find(name) {
                panic!("{} leaked into the name {}", shown(marker), path.display());
            }
            let metadata = fs::symlink_metadata(&path).unwrap();
            if metadata.is_dir() {
                stack.push(path);
            } else if metadata.is_file() {
                if let Some((marker, offset)) = scanner.find_in_file(&path) {
                    panic!(
                        "{} leaked into {} at byte {offset}",
                        shown(marker),
                        path.display()
                    );
                }
            } else {
                panic!("unexpected special file {} in the Safe", path.display());
            }
        }
    }
}

fn bytes_under(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let metadata = fs::symlink_metadata(entry.path()).unwrap();
        total += if metadata.is_dir() {
            bytes_under(&entry.path())
        } else {
            metadata.len()
        };
    }
    total
}

fn shown(marker: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(marker))
}

/// Finds any of several byte strings at once: a table of their first bytes skips most
/// positions with one lookup, which keeps a debug build scanning at a usable speed.
struct LeakScanner<'a> {
    markers: &'a [&'a [u8]],
    first_bytes: [bool; 256],
    longest: usize,
}

impl<'a> LeakScanner<'a> {
    fn new(markers: &'a [&'a [u8]]) -> Self {
        let mut first_bytes = [false; 256];
        for marker in markers {
            first_bytes[usize::from(marker[0])] = true;
        }
        Self {
            markers,
            first_bytes,
            longest: markers.iter().map(|marker| marker.len()).max().unwrap_or(1),
        }
    }

    /// The first marker found in `haystack`, and where.
    fn find(&self, haystack: &[u8]) -> Option<(&'a [u8], usize)> {
        for (offset, byte) in haystack.iter().enumerate() {
            if self.first_bytes[usize::from(*byte)] {
                let rest = &haystack[offset..];
                if let Some(marker) = self.markers.iter().find(|marker| rest.starts_with(marker)) {
                    return Some((marker, offset));
                }
            }
        }
        None
    }

    /// Like `find` over a file's bytes, read in chunks that overlap by a marker's length.
    fn find_in_file(&self, path: &Path) -> Option<(&'a [u8], u64)> {
        const CHUNK: usize = 1 << 20;
        let mut file = File::open(path).unwrap();
        let overlap = self.longest - 1;
        let mut buffer = vec![0u8; overlap + CHUNK];
        // `carried` bytes at the front of the buffer are the previous chunk's tail.
        let (mut carried, mut consumed) = (0usize, 0u64);
        loop {
            let read = file.read(&mut buffer[carried..]).unwrap();
            if read == 0 {
                return None;
            }
            let filled = carried + read;
            if let Some((marker, offset)) = self.find(&buffer[..filled]) {
                return Some((marker, consumed - carried as u64 + offset as u64));
            }
            consumed += read as u64;
            let keep = overlap.min(filled);
            buffer.copy_within(filled - keep..filled, 0);
            carried = keep;
        }
    }
}

/// The markers of a test as the byte strings `assert_no_leaks` takes.
pub fn markers<'a>(texts: &[&'a str]) -> Vec<&'a [u8]> {
    texts.iter().map(|text| text.as_bytes()).collect()
}
