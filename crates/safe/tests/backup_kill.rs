//! kill -9 at every crash point of an incremental backup run and of a restore (see
//! `arca_cryptor::crash_point` and `tests/kill.rs`): the half-done backup restores without a
//! single item misread, the next run completes it, verify is clean and a restore equals the
//! Safe; an interrupted restore, run again, gives exactly the Safe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use arca_safe::{
    BackupOptions, Error, ImportOptions, Item, JobControl, Safe, Unlock, restore_backup,
};
use backup_common::*;
use common::child::*;
use common::*;
use tempfile::TempDir;
use uuid::Uuid;

const SAFE: &str = "test.arca";
const BACKUP: &str = "backup";
const RESTORED: &str = "restored.arca";

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(env::var_os(name).unwrap_or_else(|| panic!("{name} is not set")))
}

/// The child: runs `ARCA_KILL_CHILD` ("backup" or "restore") on the fixture copy `ARCA_DIR`,
/// then prints how many crash points it passed.
#[test]
#[ignore = "the child process of the kill tests; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(CHILD_OPERATION) else {
        return;
    };
    let dir = env_path("ARCA_DIR");
    let before = arca_cryptor::crash_points_passed();
    match operation.as_str() {
        "backup" => {
            let safe = Safe::open(&dir.join(SAFE), &password()).unwrap();
            let report = safe
                .backup(
                    &dir.join(BACKUP),
                    &BackupOptions {
                        keep_deleted: false,
                        threads: Some(1),
                        items: None,
                    },
                    &JobControl::new(),
                    &mut |_| {},
                )
                .unwrap();
            assert!(report.failed.is_empty(), "{report:?}");
        }
        "restore" => {
            let report = restore_backup(
                &dir.join(BACKUP),
                Unlock::Password(&password()),
                &test_backoff(),
                &dir.join(RESTORED),
                &JobControl::new(),
                &mut |_| {},
            )
            .unwrap();
            assert!(report.failed.is_empty(), "{report:?}");
        }
        other => panic!("unknown operation {other}"),
    }
    let after = arca_cryptor::crash_points_passed();
    println!("ARCA_CRASH_POINTS {before} {after}");
}

/// A Safe with a complete backup, changed since (renamed, commented, new, deleted items).
struct Fixture {
    dir: TempDir,
    /// Every version of every item the backup may hold: before and after the changes.
    versions: BTreeMap<Uuid, Vec<(Item, Vec<String>)>>,
    /// Every file's bytes, by UUID.
    contents: BTreeMap<Uuid, Vec<u8>>,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let safe = sample_safe(dir.path());
        backup(&safe, &dir.path().join(BACKUP), false);
        let mut versions: BTreeMap<Uuid, Vec<(Item, Vec<String>)>> = BTreeMap::new();
        let mut contents = all_contents(&safe);
        for (item, tags) in all_items(&safe) {
            versions.entry(item.id).or_default().push((item, tags));
        }
        let source = dir.path().join("new files");
        fs::create_dir_all(&source).unwrap();
        for index in 0..4u64 {
            fs::write(
                source.join(format!("new-{index}.bin")),
                pseudo_random(index, [0, 33, 5_000, 600_000][index as usize]),
            )
            .unwrap();
        }
        import(
            &safe,
            std::slice::from_ref(&source),
            &ImportOptions::default(),
        );
        fs::remove_dir_all(&source).unwrap();
        let id = |safe: &Safe, path: &str| safe.resolve(path).unwrap().unwrap().id;
        let renamed = id(&safe, "/Fotos Zoë/empty.txt");
        safe.rename(renamed, "renamed.txt").unwrap();
        let commented = id(&safe, "/top level.md");
        safe.set_comment(commented, "a new comment").unwrap();
        safe.add_tag(commented, "neu").unwrap();
        let deleted = id(&safe, "/Fotos Zoë/日本 旅行/Café ☕.txt");
        safe.trash(deleted).unwrap();
        safe.empty_trash().unwrap();
        contents.extend(all_contents(&safe));
        for (item, tags) in all_items(&safe) {
            let known = versions.entry(item.id).or_default();
            if !known.contains(&(item.clone(), tags.clone())) {
                known.push((item, tags));
            }
        }
        Self {
            dir,
            versions,
            contents,
        }
    }

    fn instance(&self) -> TempDir {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(self.dir.path(), dir.path());
        dir
    }

    /// Asserts every item of `restored` is one version the backup may hold, with its bytes.
    fn assert_versions_only(&self, restored: &Safe, context: &str) {
        for (item, tags) in all_items(restored) {
            let known = self
                .versions
                .get(&item.id)
                .unwrap_or_else(|| panic!("{context}: unknown item {}", item.name));
            assert!(
                known.contains(&(item.clone(), tags)),
                "{context}: {} was restored in a state it never had",
                item.name
            );
            if item.kind == arca_safe::Kind::File {
                assert_eq!(
                    restored.read(item.id).unwrap().as_slice(),
                    self.contents[&item.id].as_slice(),
                    "{context}: {} has other bytes",
                    item.name
                );
            }
        }
    }
}

fn envs(instance: &Path, k: u64) -> Vec<(&'static str, OsString)> {
    vec![
        ("ARCA_DIR", instance.as_os_str().to_owned()),
        ("ARCA_CRASH_AT", OsString::from(k.to_string())),
    ]
}

/// Runs the operation once without crashing and returns the crash points it passes.
fn learn(fixture: &Fixture, operation: &str) -> RangeInclusive<u64> {
    let instance = fixture.instance();
    let output = run_child(operation, &envs(instance.path(), u64::MAX));
    assert_succeeded(&output);
    let points = child_value(&output, "ARCA_CRASH_POINTS")
        .unwrap_or_else(|| panic!("no crash point count: {}", describe(&output)));
    let (before, after) = points.split_once(' ').unwrap();
    before.parse::<u64>().unwrap() + 1..=after.parse().unwrap()
}

fn restore_to(instance: &Path, name: &str) -> Safe {
    let path = instance.join(name);
    let report = restore_backup(
        &instance.join(BACKUP),
        Unlock::Password(&password()),
        &test_backoff(),
        &path,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    Safe::open(&path, &password()).unwrap()
}

#[test]
fn kill_during_backup_never_misreads_and_the_next_run_completes() {
    let fixture = Fixture::new();
    let points = learn(&fixture, "backup");
    assert!(*points.end() >= 20, "too few crash points: {points:?}");
    for k in points.clone() {
        let instance = fixture.instance();
        let output = run_child("backup", &envs(instance.path(), k));
        let context = format!("backup killed at crash point {k}");
        assert_killed(&output, &context);

        // The half-done backup restores, every item as one of its real versions.
        let half = restore_to(instance.path(), "half.arca");
        fixture.assert_versions_only(&half, &context);

        let safe = Safe::open(&instance.path().join(SAFE), &password()).unwrap();
        let report = backup(&safe, &instance.path().join(BACKUP), false);
        assert!(report.failed.is_empty(), "{context}: {report:?}");
        let verified = verify(&instance.path().join(BACKUP), true);
        assert!(verified.is_clean(), "{context}: {:?}", verified.problems);
        assert_eq!(
            temporaries(&instance.path().join(BACKUP)),
            Vec::<PathBuf>::new(),
            "{context}"
        );
        let restored = restore_to(instance.path(), "after.arca");
        assert_same_safe(&safe, &restored, &context);
    }
    println!("backup: {} kill points", points.count());
}

#[test]
fn kill_during_restore_resumes_to_an_equal_safe() {
    let fixture = Fixture::new();
    {
        // Bring the backup up to date, so the restore has the changed Safe to produce.
        let safe = Safe::open(&fixture.dir.path().join(SAFE), &password()).unwrap();
        backup(&safe, &fixture.dir.path().join(BACKUP), false);
    }
    let points = learn(&fixture, "restore");
    assert!(*points.end() >= 10, "too few crash points: {points:?}");
    for k in points.clone() {
        let instance = fixture.instance();
        let output = run_child("restore", &envs(instance.path(), k));
        let context = format!("restore killed at crash point {k}");
        assert_killed(&output, &context);
        let again = restore_backup(
            &instance.path().join(BACKUP),
            Unlock::Password(&password()),
            &test_backoff(),
            &instance.path().join(RESTORED),
            &JobControl::new(),
            &mut |_| {},
        );
        match again {
            Ok(report) => assert!(report.failed.is_empty(), "{context}: {report:?}"),
            // Killed after the last step: the Safe was complete.
            Err(Error::AlreadyExists(_)) => {}
            Err(error) => panic!("{context}: the restore does not resume: {error}"),
        }
        let safe = Safe::open(&instance.path().join(SAFE), &password()).unwrap();
        let restored = Safe::open(&instance.path().join(RESTORED), &password())
            .unwrap_or_else(|error| panic!("{context}: {error}"));
        assert_same_safe(&safe, &restored, &context);
        let check = restored
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(check.is_clean(), "{context}: {:?}", check.problems);
        assert_eq!(
            temporaries(&instance.path().join(RESTORED)),
            Vec::<PathBuf>::new(),
            "{context}"
        );
    }
    println!("restore: {} kill points", points.count());
}
