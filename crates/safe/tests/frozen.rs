//! Safes and backups written by earlier versions of Arca (`fixtures/frozen/*/`) open with this
//! one, with every item, attribute and byte as recorded when they were written. A change that
//! breaks an old Safe fails here. Each goes through the real 1,000,000-iteration unlock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use arca_cryptor::{Password, RecoveryKey};
use arca_safe::{Content, Item, Kind, Safe, Unlock};
use common::{JobControl, probe, test_backoff, test_open_options};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const SAFE: &str = "Holiday.arca";
const BACKUP: &str = "Holiday-backup";

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/frozen");
    let mut found: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("expected.json").is_file())
        .collect();
    found.sort();
    assert!(!found.is_empty(), "no frozen fixture in {}", root.display());
    found
}

/// A copy of a fixture folder: opening a Safe may write to it (a schema migration, SQLite's
/// log), and the committed fixture must stay as it was written.
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

struct Fixture {
    name: String,
    copy: tempfile::TempDir,
    expected: Value,
}

impl Fixture {
    fn load(folder: &Path) -> Self {
        let copy = tempfile::tempdir().unwrap();
        copy_tree(&folder.join(SAFE), &copy.path().join(SAFE));
        copy_tree(&folder.join(BACKUP), &copy.path().join(BACKUP));
        let expected =
            serde_json::from_slice(&fs::read(folder.join("expected.json")).unwrap()).unwrap();
        Self {
            name: folder.file_name().unwrap().to_string_lossy().into_owned(),
            copy,
            expected,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.copy.path().join(name)
    }

    fn password(&self) -> Password {
        Password::new(self.expected["password"].as_str().unwrap().to_owned())
    }

    fn recovery_key(&self) -> RecoveryKey {
        RecoveryKey::parse(self.expected["recovery_key"].as_str().unwrap()).unwrap()
    }
}

/// Every item below `folder`, trashed ones and what is inside them too, by path.
fn walk(safe: &Safe, folder: Option<Uuid>, prefix: &str, out: &mut Vec<(String, Item)>) {
    for item in safe.children(folder, true).unwrap() {
        let path = format!("{prefix}/{}", item.name);
        if item.kind == Kind::Folder {
            walk(safe, Some(item.id), &path, out);
        }
        out.push((path, item));
    }
}

/// The Safe holds exactly the expected items, with every attribute, and every file's bytes.
fn assert_holds_expected(safe: &Safe, expected: &Value, context: &str) {
    let mut found = Vec::new();
    walk(safe, None, "", &mut found);
    found.sort_by(|a, b| a.0.cmp(&b.0));
    let wanted = expected["items"].as_array().unwrap();
    let paths = |items: &[(String, Item)]| items.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    let mut wanted_paths: Vec<String> = wanted
        .iter()
        .map(|item| item["path"].as_str().unwrap().to_owned())
        .collect();
    wanted_paths.sort();
    assert_eq!(paths(&found), wanted_paths, "{context}: the items");

    for want in wanted {
        let path = want["path"].as_str().unwrap();
        let (_, item) = found.iter().find(|(p, _)| p == path).unwrap();
        let at = |key: &str| want[key].as_i64();
        assert_eq!(
            item.id.to_string(),
            want["id"].as_str().unwrap(),
            "{context}: {path}"
        );
        let kind = match item.kind {
            Kind::File => "file",
            Kind::Folder => "folder",
        };
        assert_eq!(kind, want["kind"].as_str().unwrap(), "{context}: {path}");
        assert_eq!(Some(item.size), want["size"].as_u64(), "{context}: {path}");
        assert_eq!(item.created_at, at("created_at"), "{context}: {path}");
        assert_eq!(item.modified_at, at("modified_at"), "{context}: {path}");
        assert_eq!(Some(item.added_at), at("added_at"), "{context}: {path}");
        assert_eq!(item.trashed_at, at("trashed_at"), "{context}: {path}");
        assert_eq!(
            Some(item.favorite),
            want["favorite"].as_bool(),
            "{context}: {path}"
        );
        assert_eq!(
            item.comment,
            want["comment"].as_str().unwrap(),
            "{context}: {path}"
        );
        let tags: Vec<String> = want["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| tag.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(safe.tags_of(item.id).unwrap(), tags, "{context}: {path}");
        if item.kind == Kind::File {
            assert_eq!(item.content, Content::Present, "{context}: {path}");
            let bytes = safe.read(item.id).unwrap();
            assert_eq!(bytes.len() as u64, item.size, "{context}: {path}");
            assert_eq!(
                hex::encode(Sha256::digest(&bytes[..])),
                want["sha256"].as_str().unwrap(),
                "{context}: the bytes of {path}"
            );
        }
    }
}

#[test]
fn every_frozen_safe_opens_with_its_password_and_holds_what_it_held() {
    for folder in fixtures() {
        let fixture = Fixture::load(&folder);
        let context = format!("{} (password, writable)", fixture.name);
        // Writable: an older schema is migrated on the way, and the check runs on the result.
        let safe = Safe::open_with(
            &fixture.path(SAFE),
            Unlock::Password(&fixture.password()),
            &test_open_options(),
        )
        .unwrap_or_else(|error| panic!("{context}: {error}"));
        assert_holds_expected(&safe, &fixture.expected, &context);
        let report = safe
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(report.is_clean(), "{context}: {report:?}");
    }
}

#[test]
fn every_frozen_safe_opens_with_its_recovery_key() {
    for folder in fixtures() {
        let fixture = Fixture::load(&folder);
        // Writable: a database of an older schema cannot be read before it is migrated.
        let safe = Safe::open_with(
            &fixture.path(SAFE),
            Unlock::RecoveryKey(&fixture.recovery_key()),
            &test_open_options(),
        )
        .unwrap_or_else(|error| panic!("{}: {error}", fixture.name));
        assert_holds_expected(
            &safe,
            &fixture.expected,
            &format!("{} (recovery key)", fixture.name),
        );
        drop(safe);
        assert!(
            probe(
                &fixture.path(SAFE),
                &Password::new("not the password".to_owned())
            )
            .is_err(),
            "{}: a wrong password opened it",
            fixture.name
        );
    }
}

#[test]
fn every_frozen_backup_verifies_and_restores_what_the_safe_held() {
    for folder in fixtures() {
        let fixture = Fixture::load(&folder);
        let password = fixture.password();
        let verify = arca_safe::verify_backup(
            &fixture.path(BACKUP),
            Unlock::Password(&password),
            &test_backoff(),
            true,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
        assert!(verify.is_clean(), "{}: {verify:?}", fixture.name);
        assert!(verify.full && verify.files_checked > 0, "{}", fixture.name);

        let restored = fixture.path("Restored.arca");
        let report = arca_safe::restore_backup(
            &fixture.path(BACKUP),
            Unlock::RecoveryKey(&fixture.recovery_key()),
            &test_backoff(),
            &restored,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
        assert!(
            report.failed.is_empty() && report.notes.is_empty(),
            "{}: {report:?}",
            fixture.name
        );
        let safe = probe(&restored, &password).unwrap();
        assert_holds_expected(
            &safe,
            &fixture.expected,
            &format!("{} (restored)", fixture.name),
        );
    }
}
