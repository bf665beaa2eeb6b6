//! Creating, unlocking and re-keying a Safe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arca_cryptor::{Iterations, Password, RecoveryKey};
use arca_safe::{Error, Safe};
use common::assert_no_leaks;

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
    drop(Safe::create(&path, &password("right password"), iterations()).unwrap());
    let before = snapshot(&path);
    let wrong = Safe::open(&path, &password("wrong password"))
        .err()
        .unwrap();
    assert!(matches!(wrong, Error::WrongPassword));
    assert_eq!(snapshot(&path), before);

    let mut key_file = fs::read(path.join("safe.key")).unwrap();
    key_file[40] ^= 0x01;
    fs::write(path.join("safe.key"), &key_file).unwrap();
    let damaged = Safe::open(&path, &password("right password"))
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
    let safe = Safe::create(&path, &password("old password"), iterations()).unwrap();
    let recovery = safe.create_recovery_key(&password("old password")).unwrap();
    drop(safe);
    let before: BTreeMap<_, _> = snapshot(&path).into_iter().collect();
    let safe = Safe::open(&path, &password("old password")).unwrap();
    assert!(matches!(
        safe.change_password(&password("not it"), &password("new password")),
        Err(Error::WrongPassword)
    ));
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
        Safe::open(&path, &password("old password")),
        Err(Error::WrongPassword)
    ));
    Safe::open(&path, &password("new password")).unwrap();
    // The recovery key stays valid across a password change.
    Safe::open_with_recovery_key(
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
    let safe = Safe::create(&path, &password("forgotten"), iterations()).unwrap();
    assert!(matches!(
        safe.create_recovery_key(&password("wrong")),
        Err(Error::WrongPassword)
    ));
    let recovery = safe.create_recovery_key(&password("forgotten")).unwrap();
    drop(safe);
    let typed = recovery
        .expose_for_display()
        .to_lowercase()
        .replace('-', " ");
    let other = RecoveryKey::generate().unwrap();
    assert!(matches!(
        Safe::open_with_recovery_key(&path, &other),
        Err(Error::WrongRecoveryKey)
    ));
    let safe = Safe::open_with_recovery_key(&path, &RecoveryKey::parse(&typed).unwrap()).unwrap();
    safe.reset_password(&password("brand new")).unwrap();
    drop(safe);
    Safe::open(&path, &password("brand new")).unwrap();
    assert!(Safe::open(&path, &password("forgotten")).is_err());
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
