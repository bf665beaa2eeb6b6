//! Backing up chosen items (with what is inside them and the folders they are in) and nothing
//! else; an existing backup keeps everything else as it was; listing what a backup holds
//! (paths, kinds, sizes, dates, the trash) without restoring or writing anything.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;
mod open_common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arca_safe::{
    BackupEntry, BackupOptions, BackupReport, ErrorKind, ImportOptions, JobControl, Kind, Safe,
    Unlock, list_backup,
};
use backup_common::{file_stamps, verify};
use common::child::pseudo_random;
use common::{import, password, test_backoff};
use open_common::*;
use uuid::Uuid;

/// A Safe with two folders, a nested one, a file at the root, a trashed file and a trashed
/// folder with a file in it.
fn sample(dir: &Path) -> Safe {
    let safe = new_test_safe(dir);
    let source = dir.join("source");
    fs::create_dir_all(source.join("A/Inner")).unwrap();
    fs::create_dir_all(source.join("B")).unwrap();
    fs::create_dir_all(source.join("Old")).unwrap();
    for (path, len) in [
        ("A/x.txt", 1_000),
        ("A/y.txt", 2_000),
        ("A/Inner/deep.txt", 3_000),
        ("B/z.txt", 4_000),
        ("root.txt", 500),
        ("gone.txt", 600),
        ("Old/inside.txt", 700),
    ] {
        fs::write(source.join(path), pseudo_random(len, len as usize)).unwrap();
    }
    let sources: Vec<_> = ["A", "B", "Old", "root.txt", "gone.txt"]
        .iter()
        .map(|name| source.join(name))
        .collect();
    import(&safe, &sources, &ImportOptions::default());
    safe.add_tag(id(&safe, "/A/x.txt"), "chosen").unwrap();
    safe.trash(id(&safe, "/gone.txt")).unwrap();
    safe.trash(id(&safe, "/Old")).unwrap();
    safe
}

fn id(safe: &Safe, path: &str) -> Uuid {
    safe.resolve(path).unwrap().unwrap().id
}

fn backup_of(safe: &Safe, target: &Path, items: Option<Vec<Uuid>>) -> BackupReport {
    let report = safe
        .backup(
            target,
            &BackupOptions {
                items,
                ..BackupOptions::default()
            },
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(
        report.completed_at.is_some() && report.failed.is_empty(),
        "{report:?}"
    );
    report
}

/// What a listing says, by path: kind, size, in the trash.
fn listed(entries: &[BackupEntry]) -> BTreeMap<String, (Kind, u64, bool)> {
    entries
        .iter()
        .map(|entry| (entry.path.clone(), (entry.kind, entry.size, entry.in_trash)))
        .collect()
}

/// How many attribute files and data files the backup holds.
fn files_in_backup(target: &Path) -> (usize, usize) {
    let count = |dir: &str, suffix: &str| {
        let mut count = 0;
        let Ok(shards) = fs::read_dir(target.join(dir)) else {
            return 0;
        };
        for shard in shards {
            for entry in fs::read_dir(shard.unwrap().path()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(suffix) {
                    count += 1;
                }
            }
        }
        count
    };
    (count("items", ".xml.crypt"), count("files", ".data.crypt"))
}

#[test]
fn a_backup_of_chosen_items_writes_only_them_and_their_folders() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample(dir.path());
    let target = dir.path().join("chosen");
    let report = backup_of(&safe, &target, Some(vec![id(&safe, "/A/x.txt")]));
    assert_eq!(report.items, 2, "{report:?}");
    assert_eq!(report.data_files_copied, 1, "{report:?}");
    assert_eq!(files_in_backup(&target), (2, 1));
    let listing = safe.list_backup(&target).unwrap();
    assert_eq!(
        listed(&listing.entries),
        BTreeMap::from([
            ("/A".to_owned(), (Kind::Folder, 0, false)),
            ("/A/x.txt".to_owned(), (Kind::File, 1_000, false)),
        ])
    );
    assert!(verify(&target, true).is_clean());

    // A chosen folder brings everything inside it.
    let report = backup_of(&safe, &target, Some(vec![id(&safe, "/A/Inner")]));
    assert_eq!(report.items, 3, "{report:?}");
    let listing = safe.list_backup(&target).unwrap();
    assert_eq!(
        listing
            .entries
            .iter()
            .map(|entry| entry.path.as_str())
            .collect::<Vec<_>>(),
        ["/A", "/A/Inner", "/A/Inner/deep.txt", "/A/x.txt"]
    );
    assert_eq!(files_in_backup(&target), (4, 2));
    let found = verify(&target, true);
    assert!(found.is_clean() && !found.interrupted, "{found:?}");

    // Restoring such a backup gives just those items, whole.
    let restored = dir.path().join("restored.arca");
    backup_common::restore(&target, &restored);
    let restored = reopen(&restored);
    let x = id(&safe, "/A/x.txt");
    assert_eq!(restored.read(x).unwrap(), safe.read(x).unwrap());
    assert_eq!(restored.tags_of(x).unwrap(), ["chosen"]);
    assert!(restored.resolve("/B").is_err());
}

#[test]
fn a_backup_of_chosen_items_into_a_full_backup_leaves_everything_else_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample(dir.path());
    let target = dir.path().join("full");
    backup_of(&safe, &target, None);
    let full = listed(&safe.list_backup(&target).unwrap().entries);
    assert_eq!(full.len(), 11, "{full:?}");

    // Changed since: x and z get new content, root.txt a new name, B a new file.
    let x = id(&safe, "/A/x.txt");
    safe.replace_content_from(x, &mut vec![7u8; 1_234].as_slice(), None)
        .unwrap();
    safe.replace_content_from(id(&safe, "/B/z.txt"), &mut &b"z, changed"[..], None)
        .unwrap();
    safe.rename(id(&safe, "/root.txt"), "renamed.txt").unwrap();
    let extra = dir.path().join("new.txt");
    fs::write(&extra, b"new").unwrap();
    import(
        &safe,
        &[extra],
        &ImportOptions {
            into: Some(id(&safe, "/B")),
            ..ImportOptions::default()
        },
    );

    let report = backup_of(&safe, &target, Some(vec![x]));
    assert_eq!(report.data_files_copied, 1, "{report:?}");
    assert_eq!(report.removed, 0, "{report:?}");
    let after = listed(&safe.list_backup(&target).unwrap().entries);
    let mut expected = full.clone();
    expected.insert("/A/x.txt".to_owned(), (Kind::File, 1_234, false));
    assert_eq!(after, expected);
    let found = verify(&target, true);
    assert!(found.is_clean() && !found.interrupted, "{found:?}");

    // A full run then brings the rest.
    backup_of(&safe, &target, None);
    let all = listed(&safe.list_backup(&target).unwrap().entries);
    assert_eq!(all["/B/z.txt"].1, 10);
    assert!(all.contains_key("/renamed.txt") && !all.contains_key("/root.txt"));
    assert!(all.contains_key("/B/new.txt"));
}

#[test]
fn a_backup_of_chosen_items_keeps_what_was_deleted_from_the_safe_since() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample(dir.path());
    let target = dir.path().join("full");
    backup_of(&safe, &target, None);
    safe.trash(id(&safe, "/A/y.txt")).unwrap();
    safe.empty_trash().unwrap();
    let report = backup_of(&safe, &target, Some(vec![id(&safe, "/A/x.txt")]));
    let after = listed(&safe.list_backup(&target).unwrap().entries);
    assert!(after.contains_key("/A/y.txt"), "{report:?}");
}

#[test]
fn a_listing_names_every_item_with_its_kind_size_date_and_trash_state_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample(dir.path());
    let target = dir.path().join("backup");
    backup_of(&safe, &target, None);
    let stamps = file_stamps(&target);
    let names: Vec<String> = fs::read_dir(&target)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();

    let listing = safe.list_backup(&target).unwrap();
    assert!(listing.problems.is_empty() && !listing.interrupted);
    assert!(listing.last_complete.is_some());
    assert_eq!(
        listed(&listing.entries),
        BTreeMap::from([
            ("/A".to_owned(), (Kind::Folder, 0, false)),
            ("/A/Inner".to_owned(), (Kind::Folder, 0, false)),
            ("/A/Inner/deep.txt".to_owned(), (Kind::File, 3_000, false)),
            ("/A/x.txt".to_owned(), (Kind::File, 1_000, false)),
            ("/A/y.txt".to_owned(), (Kind::File, 2_000, false)),
            ("/B".to_owned(), (Kind::Folder, 0, false)),
            ("/B/z.txt".to_owned(), (Kind::File, 4_000, false)),
            ("/Old".to_owned(), (Kind::Folder, 0, true)),
            ("/Old/inside.txt".to_owned(), (Kind::File, 700, true)),
            ("/gone.txt".to_owned(), (Kind::File, 600, true)),
            ("/root.txt".to_owned(), (Kind::File, 500, false)),
        ])
    );
    let mut by_path = BTreeMap::new();
    let mut stack = vec![None];
    while let Some(folder) = stack.pop() {
        for item in safe.children(folder, true).unwrap() {
            if item.kind == Kind::Folder {
                stack.push(Some(item.id));
            }
            by_path.insert(safe.path_of(item.id).unwrap(), item);
        }
    }
    for entry in &listing.entries {
        assert_eq!(
            entry.modified_at, by_path[&entry.path].modified_at,
            "{}",
            entry.path
        );
    }
    // By password, without the Safe: the same.
    let by_password = list_backup(&target, Unlock::Password(&password()), &test_backoff()).unwrap();
    assert_eq!(by_password.entries, listing.entries);
    let wrong = list_backup(
        &target,
        Unlock::Password(&wrong_password()),
        &test_backoff(),
    )
    .unwrap_err();
    assert_eq!(wrong.kind(), ErrorKind::WrongPassword, "{wrong}");
    // Nothing was written, touched or added.
    assert_eq!(file_stamps(&target), stamps);
    let after: Vec<String> = fs::read_dir(&target)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(after, names);

    // Not a backup, or another Safe's.
    let empty = dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    assert_eq!(
        safe.list_backup(&empty).unwrap_err().kind(),
        ErrorKind::NotABackup
    );
    fs::create_dir_all(dir.path().join("other")).unwrap();
    let other = new_test_safe(&dir.path().join("other"));
    assert_eq!(
        other.list_backup(&target).unwrap_err().kind(),
        ErrorKind::ForeignBackup
    );
}

#[test]
fn a_listing_of_an_interrupted_backup_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample(dir.path());
    let target = dir.path().join("backup");
    let control = JobControl::new();
    control.cancel();
    let report = safe
        .backup(&target, &BackupOptions::default(), &control, &mut |_| {})
        .unwrap();
    assert!(report.cancelled);
    let listing = safe.list_backup(&target).unwrap();
    assert!(
        listing.interrupted && listing.last_complete.is_none(),
        "{listing:?}"
    );
}
