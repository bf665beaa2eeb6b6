//! A person's first year with Arca, through the `arca` command as they would type it, with the
//! production key derivation (1,000,000 PBKDF2 iterations) — and every promise checked from the
//! outside: with the Safe library, and on the bytes of the disk.
//!
//! Runs the `arca` binary that `cargo test --workspace` builds beside this test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use arca_cryptor::Password;
use arca_safe::Safe;
use serde_json::Value;

const PASSWORD: &str = "violet granite orbit 2049 ketch";
const NEW_PASSWORD: &str = "amber quartz lantern 7731 fjord";
const SECRET_MARKER: &[u8] = b"MARKER-tax-return-cleartext";

/// The `arca` binary of this build (target/<profile>/arca).
fn arca_binary() -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let profile = deps.parent().and_then(Path::parent).unwrap();
    let binary = profile.join("arca");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p arca-cli`) first",
        binary.display()
    );
    binary
}

/// The state folder of this user (the back-off after wrong passwords lives there).
fn state_home() -> PathBuf {
    // Under target/, not the system's temporary folder, which kept one per run.
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("journey-state-{}", std::process::id()))
}

/// Runs `arca ARGS --password-stdin` with `stdin`.
fn arca(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(arca_binary())
        .env("XDG_STATE_HOME", state_home())
        .args(args)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command as a person would after a wrong password: told to wait (exit 11, "try
/// again in N s"), they wait and try again.
fn patiently(args: &[&str], stdin: &str) -> Output {
    let output = arca(args, stdin);
    if output.status.code() != Some(11) {
        return output;
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let seconds: u64 = stderr
        .split("try again in ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("exit 11 without the seconds to wait: {stderr}"));
    assert!(
        seconds <= 4,
        "a wait of {seconds} s after one or two wrong passwords"
    );
    std::thread::sleep(std::time::Duration::from_secs(seconds));
    arca(args, stdin)
}

fn ok(args: &[&str], stdin: &str) -> String {
    let output = patiently(args, stdin);
    assert!(
        output.status.success(),
        "arca {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn listing(safe: &str, password: &str) -> Value {
    serde_json::from_str(&ok(&["ls", safe, "/", "-R", "--json"], password)).unwrap()
}

/// Every file under `dir`, with its bytes, by path relative to `dir`.
fn tree(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = fs::read(&path).unwrap();
                files.push((path.strip_prefix(dir).unwrap().to_path_buf(), bytes));
            }
        }
    }
    files.sort();
    files
}

/// Asserts no byte of any file under `dir` (names included) contains `needle`.
fn assert_absent(dir: &Path, needle: &[u8]) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().as_encoded_bytes();
            assert!(!contains(name, needle), "{} names it", path.display());
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = fs::read(&path).unwrap();
                assert!(!contains(&bytes, needle), "{} holds it", path.display());
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn a_year_with_a_safe() {
    let home = tempfile::tempdir().unwrap();
    let documents = home.path().join("Documents");
    fs::create_dir_all(documents.join("Taxes/2025")).unwrap();
    fs::create_dir_all(documents.join("Empty folder")).unwrap();
    let mut return_pdf = b"%PDF-1.7 ".to_vec();
    return_pdf.extend_from_slice(SECRET_MARKER);
    return_pdf.extend((0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 9) as u8));
    fs::write(documents.join("Taxes/2025/return.pdf"), &return_pdf).unwrap();
    fs::write(documents.join("Taxes/receipts-Zoë.txt"), "café 4.50\n").unwrap();
    fs::write(documents.join("empty.txt"), b"").unwrap();
    let safe_dir = home.path().join("Private.arca");
    let safe = safe_dir.to_str().unwrap();
    let backup_dir = home.path().join("usb-stick/Private backup");
    let backup = backup_dir.to_str().unwrap();

    // Day 1: create the Safe with the production key derivation, and put the documents in.
    ok(&["create", safe], PASSWORD);
    let info: Value = serde_json::from_str(&ok(&["info", safe, "--json"], PASSWORD)).unwrap();
    assert_eq!(info["kdf_iterations"], 1_000_000);
    ok(&["import", safe, documents.to_str().unwrap()], PASSWORD);
    ok(
        &[
            "tag",
            "add",
            safe,
            "/Documents/Taxes/2025/return.pdf",
            "taxes",
        ],
        PASSWORD,
    );
    ok(
        &[
            "comment",
            "set",
            safe,
            "/Documents/Taxes",
            "for the accountant",
        ],
        PASSWORD,
    );
    let found = ok(&["search", safe, "accountant"], PASSWORD);
    assert!(found.contains("/Documents/Taxes"), "{found}");
    let cat = Command::new(arca_binary())
        .env("XDG_STATE_HOME", state_home())
        .args([
            "cat",
            safe,
            "/Documents/Taxes/2025/return.pdf",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut cat = cat;
    cat.stdin
        .take()
        .unwrap()
        .write_all(PASSWORD.as_bytes())
        .unwrap();
    assert_eq!(cat.wait_with_output().unwrap().stdout, return_pdf);

    // Nothing of the documents is readable on disk: no name, no content.
    for needle in [
        SECRET_MARKER,
        b"return.pdf",
        "Zoë".as_bytes(),
        b"accountant",
    ] {
        assert_absent(&safe_dir, needle);
    }

    // A recovery key, written down; a backup on the USB stick.
    let recovery_key = ok(&["recovery", "create", safe], PASSWORD)
        .trim()
        .to_owned();
    ok(&["backup", safe, backup], PASSWORD);
    let verify = arca(&["backup", "verify", backup, "--full"], PASSWORD);
    assert!(verify.status.success(), "{verify:?}");
    for needle in [SECRET_MARKER, b"return.pdf", b"accountant"] {
        assert_absent(&backup_dir, needle);
    }
    let before = listing(safe, PASSWORD);

    // Months later the password is forgotten: the recovery key sets a new one.
    let wrong = arca(&["ls", safe], "not my password");
    assert_eq!(wrong.status.code(), Some(3));
    ok(
        &["recovery", "reset", safe],
        &format!("{recovery_key}\n{NEW_PASSWORD}\n"),
    );
    assert_eq!(patiently(&["ls", safe], PASSWORD).status.code(), Some(3));
    assert_eq!(listing(safe, NEW_PASSWORD), before);

    // Then the disk damages the attribute database: the backup rebuilds it.
    let database = safe_dir.join("attributes.db");
    let mut bytes = fs::read(&database).unwrap();
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 64] {
        *byte ^= 0x5a;
    }
    fs::write(&database, bytes).unwrap();
    let damaged = arca(&["check", safe], NEW_PASSWORD);
    assert!(!damaged.status.success());
    // The backup was made before the reset, under the old password; the Safe's own key file
    // (now under the new one) holds the same keys, so the current password is all it takes.
    let repaired = arca(
        &["check", safe, "--repair", "--from-backup", backup],
        NEW_PASSWORD,
    );
    assert!(
        matches!(repaired.status.code(), Some(0 | 8)),
        "{}",
        String::from_utf8_lossy(&repaired.stderr)
    );
    let kept_aside = fs::read_dir(&safe_dir)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with("attributes.db.damaged-")
        })
        .count();
    assert_eq!(kept_aside, 1, "the damaged database is kept aside");
    let clean = arca(&["check", safe, "--full"], NEW_PASSWORD);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );

    // The library sees what the command line promised; the export gives back every byte.
    let library = Safe::open(&safe_dir, &Password::new(NEW_PASSWORD.to_owned())).unwrap();
    let item = library
        .resolve("/Documents/Taxes/2025/return.pdf")
        .unwrap()
        .unwrap();
    assert_eq!(library.tags_of(item.id).unwrap(), ["taxes"]);
    assert_eq!(&library.read(item.id).unwrap()[..], &return_pdf[..]);
    drop(library);
    let restored = home.path().join("restored");
    ok(
        &[
            "export",
            safe,
            "/Documents",
            "--to",
            restored.to_str().unwrap(),
        ],
        NEW_PASSWORD,
    );
    assert_eq!(tree(&restored.join("Documents")), tree(&documents));
    assert!(restored.join("Documents/Empty folder").is_dir());
}
