//! Creating, unlocking and re-keying a Safe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use std::time::{Duration, SystemTime};

use arca_cryptor::{Iterations, Password, RecoveryKey};
use arca_safe::{Backoff, Clock, Error, OpenMode, OpenOptions, Safe, Unlock};
use common::assert_no_leaks;

/// Unlocks through a back-off of the test's own, whose clock the test moves past each wait:
/// these tests are about keys, not about the back-off (tests/backoff.rs is).
struct Unlocker {
    backoff: Backoff,
    clock: Clock,
}

impl Unlocker {
    fn new(dir: &Path) -> Self {
        let clock = Clock::fixed(SystemTime::now());
        Self {
            backoff: Backoff::in_folder(dir.join("state")).with_clock(clock.clone()),
            clock,
        }
    }

    fn options(&self) -> OpenOptions {
        self.clock.advance(Duration::from_secs(3600));
        OpenOptions {
            mode: OpenMode::Write,
            backoff: self.backoff.clone(),
        }
    }

    fn create(&self, path: &Path, password: &Password) -> Safe {
        Safe::create_with(path, password, iterations(), self.backoff.clone()).unwrap()
    }

    fn open(&self, path: &Path, password: &Password) -> arca_safe::Result<Safe> {
        Safe::open_with(path, Unlock::Password(password), &self.options())
    }

    fn open_recovery(&self, path: &Path, key: &RecoveryKey) -> arca_safe::Result<Safe> {
        Safe::open_with(path, Unlock::RecoveryKey(key), &self.options())
    }

    /// Lets the back-off's wait pass.
    fn wait(&self) {
        self.clock.advance(Duration::from_secs(3600));
    }
}

fn iterations() -> Iterations {
    Iterations::new(1_000).unwrap()
}

fn password(text: &str) -> Password {
    Password::new(text.to_owned())
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walk(dir)
        .into_iter()
        .map(|path| {
            let bytes = fs::read(&path).unwrap();
            (path.strip_prefix(dir).unwrap().display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn create_then_open_with_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Holiday.arca");
    let id = Safe::create(&path, &password("correct horse battery"), iterations())
        .unwrap()
        .id();
    for name in ["safe.json", "safe.key", "attributes.db", "files"] {
        assert!(path.join(name).exists(), "{name} missing");
    }
    let safe = Safe::open(&path, &password("correct horse battery")).unwrap();
    assert_eq!(safe.id(), id);
    let info = safe.info().unwrap();
    assert_eq!(
        (info.files, info.folders, info.has_recovery_key),
        (0, 0, false)
    );
    assert_no_leaks(&path, &[b"correct horse battery"]);
}

#[test]
fn wrong_password_and_damaged_key_file_are_the_same_error_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.arca");
    let unlock = Unlocker::new(dir.path());
    drop(unlock.create(&path, &password("right password")));
    let before = snapshot(&path);
    let wrong = unlock
        .open(&path, &password("wrong password"))
        .err()
        .unwrap();
    assert!(matches!(wrong, Error::WrongPassword));
    assert_eq!(snapshot(&path), before);

    let mut key_file = fs::read(path.join("safe.key")).unwrap();
    key_file[40] ^= 0x01;
    fs::write(path.join("safe.key"), &key_file).unwrap();
    let damaged = unlock
        .open(&path, &password("right password"))
        .err()
        .unwrap();
    assert_eq!(damaged.to_string(), wrong.to_string());
    assert_no_leaks(&path, &[b"right password", b"wrong password"]);
}

#[test]
fn refuses_existing_folder_and_newer_format() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("occupied"), b"x").unwrap();
    assert!(matches!(
        Safe::create(dir.path(), &password("pw long enough"), iterations()),
        Err(Error::AlreadyExists(_))
    ));
    let path = dir.path().join("s.arca");
    drop(Safe::create(&path, &password("pw"), iterations()).unwrap());
    let manifest = fs::read_to_string(path.join("safe.json")).unwrap();
    fs::write(
        path.join("safe.json"),
        manifest.replace("\"version\": 1", "\"version\": 7"),
    )
    .unwrap();
    let before = snapshot(&path);
    assert!(matches!(
        Safe::open(&path, &password("pw")),
        Err(Error::NewerFormat { found: 7, .. })
    ));
    assert_eq!(snapshot(&path), before);
}

#[test]
fn change_password_rewrites_only_the_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.arca");
    let unlock = Unlocker::new(dir.path());
    let safe = unlock.create(&path, &password("old password"));
    let recovery = safe.create_recovery_key(&password("old password")).unwrap();
    drop(safe);
    let before: BTreeMap<_, _> = snapshot(&path).into_iter().collect();
    let safe = unlock.open(&path, &password("old password")).unwrap();
    assert!(matches!(
        safe.change_password(&password("not it"), &password("new password")),
        Err(Error::WrongPassword)
    ));
    unlock.wait();
    safe.change_password(&password("old password"), &password("new password"))
        .unwrap();
    drop(safe);
    let after: BTreeMap<_, _> = snapshot(&path).into_iter().collect();
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let changed: Vec<_> = before
        .keys()
        .filter(|name| before[*name] != after[*name])
        .collect();
    assert_eq!(changed, ["safe.key"]);
    assert!(matches!(
        unlock.open(&path, &password("old password")),
        Err(Error::WrongPassword)
    ));
    unlock.open(&path, &password("new password")).unwrap();
    // The recovery key stays valid across a password change.
    unlock
        .open_recovery(
            &path,
            &RecoveryKey::parse(recovery.expose_for_display()).unwrap(),
        )
        .unwrap();
    assert_no_leaks(
        &path,
        &[
            b"old password",
            b"new password",
            recovery.expose_for_display().as_bytes(),
        ],
    );
}

#[test]
fn recovery_key_resets_a_forgotten_password() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.arca");
    let unlock = Unlocker::new(dir.path());
    let safe = unlock.create(&path, &password("forgotten"));
    assert!(matches!(
        safe.create_recovery_key(&password("wrong")),
        Err(Error::WrongPassword)
    ));
    unlock.wait();
    let recovery = safe.create_recovery_key(&password("forgotten")).unwrap();
    drop(safe);
    let typed = recovery
        .expose_for_display()
        .to_lowercase()
        .replace('-', " ");
    let other = RecoveryKey::generate().unwrap();
    assert!(matches!(
        unlock.open_recovery(&path, &other),
        Err(Error::WrongRecoveryKey)
    ));
    let safe = unlock
        .open_recovery(&path, &RecoveryKey::parse(&typed).unwrap())
        .unwrap();
    safe.reset_password(&password("brand new")).unwrap();
    drop(safe);
    unlock.open(&path, &password("brand new")).unwrap();
    assert!(matches!(
        unlock.open(&path, &password("forgotten")),
        Err(Error::WrongPassword)
    ));
    assert_no_leaks(
        &path,
        &[
            b"forgotten",
            b"brand new",
            typed.as_bytes(),
            recovery.expose_for_display().as_bytes(),
        ],
    );
}

#[test]
fn real_key_file_iterations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.arca");
    drop(Safe::create(&path, &password("production cost"), Iterations::KEY_FILE).unwrap());
    assert!(
        fs::read_to_string(path.join("safe.json"))
            .unwrap()
            .contains("1000000")
    );
    Safe::open(&path, &password("production cost")).unwrap();
}
