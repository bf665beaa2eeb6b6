//! Backup to encrypted XML and restore: round trip, incremental runs, tampering, leaks,
//! restoring chosen items, and the errors a user can meet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;

use std::fs;
use std::path::Path;

use arca_safe::{
    BackupOptions, Error, ImportOptions, ItemProblem, JobControl, OnClash, RestoreInto,
    RestoreItemsOptions, Safe, Unlock, restore_backup, verify_backup,
};
use backup_common::*;
use common::child::pseudo_random;
use common::*;

fn xml_path(target: &Path, id: uuid::Uuid) -> std::path::PathBuf {
    let name = id.to_string();
    target
        .join("items")
        .join(&name[..2])
        .join(format!("{name}.xml.crypt"))
}

fn data_path(target: &Path, id: uuid::Uuid) -> std::path::PathBuf {
    let name = id.to_string();
    target
        .join("files")
        .join(&name[..2])
        .join(format!("{name}.data.crypt"))
}

fn names(problems: &[ItemProblem], id: uuid::Uuid, name: &str) -> bool {
    problems.iter().any(|problem| {
        problem.item == Some(id)
            && problem
                .path
                .as_deref()
                .is_some_and(|path| path.ends_with(name))
    })
}

#[test]
fn round_trip_restores_an_equal_safe() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let recovery_key = safe.create_recovery_key(&password()).unwrap();
    let target = dir.path().join("backup");
    let report = backup(&safe, &target, false);
    let items = all_items(&safe).len() as u64;
    assert_eq!(report.items, items, "{report:?}");
    assert_eq!(report.xml_written, items);
    assert_eq!(report.data_files_copied, 7);
    assert!(report.failed.is_empty() && report.pending.is_empty() && !report.cancelled);
    for key in ["backup.json", "safe.key", "recovery.key", "index.xml.crypt"] {
        assert!(target.join(key).is_file(), "{key} is missing");
    }
    // Data files are the Safe's, byte for byte.
    for (item, _) in all_items(&safe) {
        if item.kind == arca_safe::Kind::File {
            assert_eq!(
                fs::read(data_path(&target, item.id)).unwrap(),
                fs::read(safe.layout().data_file(item.id)).unwrap()
            );
        }
    }
    for full in [false, true] {
        let verified = verify(&target, full);
        assert!(verified.is_clean(), "{:?}", verified.problems);
        assert_eq!(verified.items, items);
        assert!(!verified.interrupted);
    }

    let restored_path = dir.path().join("restored.arca");
    let restored = restore(&target, &restored_path);
    assert!(restored.failed.is_empty(), "{:?}", restored.failed);
    assert!(restored.notes.is_empty(), "{:?}", restored.notes);
    assert_eq!(restored.files, 7);
    let reopened = Safe::open(&restored_path, &password()).unwrap();
    assert_eq!(reopened.id(), safe.id());
    assert_same_safe(&safe, &reopened, "password restore");
    assert_eq!(safe.info().unwrap(), reopened.info().unwrap());
    assert!(
        reopened
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
    assert_eq!(
        safe.search(&arca_safe::SearchQuery {
            text: "Reise".to_owned(),
            ..Default::default()
        })
        .unwrap()
        .0
        .len(),
        reopened
            .search(&arca_safe::SearchQuery {
                text: "Reise".to_owned(),
                ..Default::default()
            })
            .unwrap()
            .0
            .len(),
        "search finds the restored tags"
    );

    // With the recovery key instead of the password; the result opens with both.
    let by_recovery = dir.path().join("by-recovery.arca");
    let report = restore_backup(
        &target,
        Unlock::RecoveryKey(&recovery_key),
        &test_backoff(),
        &by_recovery,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    assert!(report.failed.is_empty());
    let reopened = Safe::open_with_recovery_key(&by_recovery, &recovery_key).unwrap();
    assert_same_safe(&safe, &reopened, "recovery-key restore");

    // A restore never overwrites a Safe.
    assert!(matches!(
        restore_backup(
            &target,
            Unlock::Password(&password()),
            &test_backoff(),
            &restored_path,
            &JobControl::new(),
            &mut |_| {},
        ),
        Err(Error::AlreadyExists(_))
    ));
}

#[test]
fn wrong_password_foreign_safe_and_strange_targets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let wrong = arca_cryptor::Password::new("not the password".to_owned());
    assert!(matches!(
        verify_backup(
            &target,
            Unlock::Password(&wrong),
            &test_backoff(),
            false,
            &JobControl::new(),
            &mut |_| {}
        ),
        Err(Error::WrongPassword)
    ));
    assert!(matches!(
        restore_backup(
            &target,
            Unlock::Password(&wrong),
            &test_backoff(),
            &dir.path().join("x.arca"),
            &JobControl::new(),
            &mut |_| {}
        ),
        Err(Error::WrongPassword)
    ));
    assert!(!dir.path().join("x.arca").exists());

    let other_dir = tempfile::tempdir().unwrap();
    let other = new_safe(other_dir.path());
    assert!(matches!(
        other.backup(
            &target,
            &Default::default(),
            &JobControl::new(),
            &mut |_| {}
        ),
        Err(Error::ForeignBackup { .. })
    ));
    let busy = dir.path().join("busy");
    fs::create_dir_all(&busy).unwrap();
    fs::write(busy.join("holiday.txt"), b"mine").unwrap();
    assert!(matches!(
        safe.backup(&busy, &Default::default(), &JobControl::new(), &mut |_| {}),
        Err(Error::NotABackup(_))
    ));
    assert_eq!(fs::read(busy.join("holiday.txt")).unwrap(), b"mine");
}

#[test]
fn incremental_run_writes_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("many");
    fs::create_dir_all(&source).unwrap();
    for index in 0..1_000 {
        fs::write(
            source.join(format!("file-{index:04}.txt")),
            pseudo_random(index, (index % 50) as usize),
        )
        .unwrap();
    }
    let safe = new_safe(dir.path());
    import(
        &safe,
        std::slice::from_ref(&source),
        &ImportOptions::default(),
    );
    let target = dir.path().join("backup");
    let first = backup(&safe, &target, false);
    assert_eq!(first.items, 1_001);
    assert_eq!(first.data_files_copied, 1_000);

    let before = file_stamps(&target);
    let again = backup(&safe, &target, false);
    assert_eq!(
        (again.xml_written, again.data_files_copied, again.unchanged),
        (0, 0, 1_001),
        "{again:?}"
    );
    let after_nothing = file_stamps(&target);
    let changed: Vec<&String> = after_nothing
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(stamp))
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        changed,
        ["backup.json", "index.xml.crypt"],
        "nothing else is rewritten"
    );

    let one = safe.resolve("/many/file-0123.txt").unwrap().unwrap().id;
    safe.set_comment(one, "changed").unwrap();
    let third = backup(&safe, &target, false);
    assert_eq!(
        (third.xml_written, third.data_files_copied, third.unchanged),
        (1, 0, 1_000),
        "{third:?}"
    );
    let after_one = file_stamps(&target);
    let mut changed: Vec<String> = after_one
        .iter()
        .filter(|(path, stamp)| after_nothing.get(*path) != Some(stamp))
        .map(|(path, _)| path.clone())
        .collect();
    changed.sort();
    let xml = xml_path(&target, one)
        .strip_prefix(&target)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let mut expected = vec!["backup.json".to_owned(), "index.xml.crypt".to_owned(), xml];
    expected.sort();
    assert_eq!(changed, expected);

    // A deleted item leaves the backup, unless kept.
    let doomed = safe.resolve("/many/file-0007.txt").unwrap().unwrap().id;
    let kept = safe.resolve("/many/file-0008.txt").unwrap().unwrap().id;
    safe.trash(kept).unwrap();
    safe.empty_trash().unwrap();
    let keep = backup(&safe, &target, true);
    assert_eq!((keep.kept_deleted, keep.removed), (1, 0), "{keep:?}");
    assert!(xml_path(&target, kept).exists() && data_path(&target, kept).exists());
    safe.trash(doomed).unwrap();
    safe.empty_trash().unwrap();
    let removed = backup(&safe, &target, false);
    assert_eq!(removed.removed, 2, "{removed:?}");
    assert!(!xml_path(&target, doomed).exists() && !data_path(&target, doomed).exists());
    assert!(!xml_path(&target, kept).exists() && !data_path(&target, kept).exists());
    let verified = verify(&target, true);
    assert!(verified.is_clean(), "{:?}", verified.problems);
    assert_eq!(verified.items, 999);
}

#[test]
fn tampering_is_named_and_nothing_wrong_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let id = |path: &str| safe.resolve(path).unwrap().unwrap().id;
    let flipped_xml = id("/top level.md");
    let flipped_data = id("/Fotos Zoë/日本 旅行/東京 🗼.jpg");
    let swapped = (
        id("/Fotos Zoë/empty.txt"),
        id("/Fotos Zoë/日本 旅行/Café ☕.txt"),
    );
    let deleted = id(&format!("/Fotos Zoë/{NAME_MARKER}.txt"));

    let flip = |path: &Path, at: usize| {
        let mut bytes = fs::read(path).unwrap();
        let at = at.min(bytes.len() - 1);
        bytes[at] ^= 0x01;
        fs::write(path, bytes).unwrap();
    };
    flip(&xml_path(&target, flipped_xml), 40);
    flip(&data_path(&target, flipped_data), 5_000);
    let (a, b) = (xml_path(&target, swapped.0), xml_path(&target, swapped.1));
    let (bytes_a, bytes_b) = (fs::read(&a).unwrap(), fs::read(&b).unwrap());
    fs::write(&a, bytes_b).unwrap();
    fs::write(&b, bytes_a).unwrap();
    fs::remove_file(xml_path(&target, deleted)).unwrap();

    let full = verify(&target, true);
    let expected = [
        (flipped_xml, "top level.md"),
        (flipped_data, "東京 🗼.jpg"),
        (swapped.0, "empty.txt"),
        (swapped.1, "Café ☕.txt"),
        (deleted, &format!("{NAME_MARKER}.txt")),
    ];
    for (id, name) in &expected {
        assert!(
            names(&full.problems, *id, name),
            "{name} is not named: {:?}",
            full.problems
        );
    }
    // Without --full, a data file changed in the middle keeps its tag: only the others show.
    let quick = verify(&target, false);
    assert!(!quick.problems.iter().any(|p| p.item == Some(flipped_data)));
    assert!(names(
        &quick.problems,
        deleted,
        &format!("{NAME_MARKER}.txt")
    ));

    let restored_path = dir.path().join("restored.arca");
    let report = restore(&target, &restored_path);
    for (id, name) in &expected {
        assert!(
            names(&report.failed, *id, name),
            "{name} is not listed: {:?}",
            report.failed
        );
    }
    let restored = Safe::open(&restored_path, &password()).unwrap();
    let original: std::collections::BTreeMap<_, _> = all_items(&safe)
        .into_iter()
        .map(|(item, tags)| (item.id, (item, tags)))
        .collect();
    let restored_items = all_items(&restored);
    assert_eq!(restored_items.len(), original.len() - expected.len());
    for (item, tags) in restored_items {
        assert!(
            expected.iter().all(|(id, _)| *id != item.id),
            "{} restored",
            item.name
        );
        assert_eq!(original[&item.id], (item.clone(), tags));
        if item.kind == arca_safe::Kind::File {
            assert_eq!(restored.read(item.id).unwrap(), safe.read(item.id).unwrap());
        }
    }
    // The next backup run rewrites every damaged, swapped or deleted attribute file; a data
    // file damaged in the middle keeps its tag, so only a full verify still names it.
    let rerun = backup(&safe, &target, false);
    assert_eq!(
        (rerun.xml_written, rerun.data_files_copied),
        (4, 0),
        "{rerun:?}"
    );
    let after = verify(&target, true);
    assert_eq!(after.problems.len(), 1, "{:?}", after.problems);
    assert!(names(&after.problems, flipped_data, "東京 🗼.jpg"));
}

#[test]
fn backup_folder_leaks_no_name_content_comment_or_tag() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let bytes = all_bytes(&target);
    for marker in [
        NAME_MARKER.as_bytes(),
        CONTENT_MARKER,
        COMMENT_MARKER.as_bytes(),
        TAG_MARKER.as_bytes(),
        "東京".as_bytes(),
        "Fotos Zoë".as_bytes(),
        b"Reise",
        b"<item",
    ] {
        assert!(
            !contains(&bytes, marker),
            "{:?} appears in the backup",
            String::from_utf8_lossy(marker)
        );
    }
}

#[test]
fn chosen_items_are_restored_into_the_existing_safe() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    safe.empty_trash().unwrap();
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let before = all_items(&safe);
    let folder = safe.resolve("/Fotos Zoë/日本 旅行").unwrap().unwrap().id;
    safe.trash(folder).unwrap();
    safe.empty_trash().unwrap();
    let report = safe
        .restore_items_from_backup(
            &target,
            &[
                "/Fotos Zoë/日本 旅行".to_owned(),
                "/top level.md".to_owned(),
            ],
            &RestoreItemsOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    // The folder comes back whole with its UUIDs; "top level.md" is still there, so a copy
    // is kept beside it under a new UUID.
    assert_eq!((report.folders, report.files), (2, 3), "{report:?}");
    let copy = safe.resolve("/top level (2).md").unwrap().unwrap();
    let original = safe.resolve("/top level.md").unwrap().unwrap();
    assert_ne!(copy.id, original.id);
    assert_eq!(safe.read(copy.id).unwrap(), safe.read(original.id).unwrap());
    assert_eq!(safe.tags_of(copy.id).unwrap(), ["Reise"]);
    let after: Vec<_> = all_items(&safe)
        .into_iter()
        .filter(|(item, _)| item.id != copy.id)
        .collect();
    assert_eq!(after, before);
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );

    let skipped = safe
        .restore_items_from_backup(
            &target,
            &["/top level.md".to_owned()],
            &RestoreItemsOptions {
                on_clash: OnClash::Skip,
                ..Default::default()
            },
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!((skipped.files, skipped.skipped.len()), (0, 1));
    assert!(matches!(
        safe.restore_items_from_backup(
            &target,
            &["/no such thing".to_owned()],
            &RestoreItemsOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        ),
        Err(Error::PathNotFound(_))
    ));
}

fn restore_items_from_backup(
    safe: &mut Safe,
    target: &Path,
    paths: &[&str],
    into: RestoreInto,
    on_clash: OnClash,
) -> arca_safe::RestoreReport {
    let paths: Vec<String> = paths.iter().map(|path| (*path).to_owned()).collect();
    safe.restore_items_from_backup(
        target,
        &paths,
        &RestoreItemsOptions { into, on_clash },
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap()
}

fn root_names(safe: &Safe) -> Vec<String> {
    let mut names: Vec<String> = safe
        .children(None, false)
        .unwrap()
        .into_iter()
        .map(|item| item.name)
        .collect();
    names.sort();
    names
}

#[test]
fn a_skipped_folder_takes_everything_in_it_along() {
    let dir = tempfile::tempdir().unwrap();
    let mut safe = sample_safe(dir.path());
    safe.empty_trash().unwrap();
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let before = all_items(&safe);
    let folder = safe.resolve("/Fotos Zoë/日本 旅行").unwrap().unwrap().id;

    // The folder is still there: it is skipped once, with everything inside it, and nothing
    // lands at the root.
    let report = restore_items_from_backup(
        &mut safe,
        &target,
        &["/Fotos Zoë/日本 旅行"],
        RestoreInto::Original,
        OnClash::Skip,
    );
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(report.skipped[0].item, Some(folder));
    assert_eq!(
        report.skipped[0].path.as_deref(),
        Some("/Fotos Zoë/日本 旅行")
    );
    assert!(
        report.skipped[0].problem.contains("日本 旅行"),
        "{report:?}"
    );
    assert!(
        report.notes.is_empty() && report.failed.is_empty(),
        "{report:?}"
    );
    assert_eq!((report.files, report.folders), (0, 0));
    assert_eq!(all_items(&safe), before);

    // At the root, on request: the folder comes whole, under new UUIDs (the old are in use).
    let report = restore_items_from_backup(
        &mut safe,
        &target,
        &["/Fotos Zoë/日本 旅行"],
        RestoreInto::Root,
        OnClash::Skip,
    );
    assert!(
        report.notes.is_empty() && report.skipped.is_empty(),
        "{report:?}"
    );
    assert_eq!((report.folders, report.files), (2, 2), "{report:?}");
    let copy = safe.resolve("/日本 旅行").unwrap().unwrap();
    assert_ne!(copy.id, folder);
    let tokyo = safe.resolve("/日本 旅行/東京 🗼.jpg").unwrap().unwrap();
    let original = safe
        .resolve("/Fotos Zoë/日本 旅行/東京 🗼.jpg")
        .unwrap()
        .unwrap();
    assert_eq!(
        safe.read(tokyo.id).unwrap(),
        safe.read(original.id).unwrap()
    );
    safe.resolve("/日本 旅行/empty folder").unwrap().unwrap();
    // Skipped there too now.
    let count = all_items(&safe).len();
    let report = restore_items_from_backup(
        &mut safe,
        &target,
        &["/Fotos Zoë/日本 旅行"],
        RestoreInto::Root,
        OnClash::Skip,
    );
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert!(report.notes.is_empty() && report.failed.is_empty());
    assert_eq!(all_items(&safe).len(), count);

    // A chosen item inside another chosen folder stays inside it, whatever the order given.
    let into = safe.create_folder(None, "Ziel").unwrap();
    let report = restore_items_from_backup(
        &mut safe,
        &target,
        &["/Fotos Zoë/日本 旅行/Café ☕.txt", "/Fotos Zoë/日本 旅行"],
        RestoreInto::Folder(into),
        OnClash::KeepBoth,
    );
    assert_eq!((report.folders, report.files), (2, 2), "{report:?}");
    safe.resolve("/Ziel/日本 旅行/Café ☕.txt")
        .unwrap()
        .unwrap();
    assert_eq!(safe.children(Some(into), false).unwrap().len(), 1);
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
}

#[test]
fn a_folder_the_backup_cannot_read_is_reported_never_spilled_to_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let mut safe = sample_safe(dir.path());
    safe.empty_trash().unwrap();
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let folder = safe.resolve("/Fotos Zoë/日本 旅行").unwrap().unwrap().id;
    let mut bytes = fs::read(xml_path(&target, folder)).unwrap();
    bytes[40] ^= 0x01;
    fs::write(xml_path(&target, folder), bytes).unwrap();
    let top = safe.resolve("/Fotos Zoë").unwrap().unwrap().id;
    safe.trash(top).unwrap();
    safe.empty_trash().unwrap();
    let root_before = root_names(&safe);

    // Where the unreadable folder was is unknown: restoring a folder names it as not restored,
    // with the items the backup still holds inside it, and restores nothing at the root.
    let report = restore_items_from_backup(
        &mut safe,
        &target,
        &["/Fotos Zoë"],
        RestoreInto::Original,
        OnClash::KeepBoth,
    );
    assert_eq!((report.folders, report.files), (2, 2), "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].item, Some(folder));
    assert_eq!(report.failed[0].path.as_deref(), Some("日本 旅行"));
    assert!(
        report.failed[0].problem.contains("the 3 item(s) in it"),
        "{report:?}"
    );
    assert!(report.notes.is_empty(), "{report:?}");
    let mut root_after = root_before.clone();
    root_after.push("Fotos Zoë".to_owned());
    root_after.sort();
    assert_eq!(root_names(&safe), root_after);
    safe.resolve("/Fotos Zoë/empty.txt").unwrap().unwrap();
    safe.resolve("/Fotos Zoë/old stuff").unwrap().unwrap();
    assert!(safe.resolve("/Fotos Zoë/日本 旅行").is_err());
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );

    // Restoring a file says nothing about it.
    let report = restore_items_from_backup(
        &mut safe,
        &target,
        &["/top level.md"],
        RestoreInto::Original,
        OnClash::Skip,
    );
    assert!(report.failed.is_empty(), "{report:?}");

    // A full restore puts what it holds at the root of the new Safe, naming the folder.
    let restored_path = dir.path().join("restored.arca");
    let report = restore(&target, &restored_path);
    assert!(names(&report.failed, folder, "日本 旅行"), "{report:?}");
    assert_eq!(report.notes.len(), 3, "{report:?}");
    for note in &report.notes {
        assert!(
            note.problem.contains(&format!(
                "its folder \"日本 旅行\" ({folder}) could not be restored"
            )) && note.problem.ends_with("restored at the root"),
            "{note:?}"
        );
    }
    let restored = Safe::open(&restored_path, &password()).unwrap();
    for name in ["東京 🗼.jpg", "Café ☕.txt", "empty folder"] {
        restored
            .resolve(&format!("/{name}"))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} is not at the root"));
    }
}

/// A run syncs its copies once, at its end. After a run that did not complete (a power loss
/// may have torn a copy while its tail reached the disk), the next run reads every copy in full
/// instead of trusting its trailing tag, and replaces the torn one.
#[test]
fn after_an_interrupted_run_a_copy_with_an_intact_tail_is_read_in_full() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join("backup");
    backup(&safe, &target, false);
    let tokyo = safe
        .resolve("/Fotos Zoë/日本 旅行/東京 🗼.jpg")
        .unwrap()
        .unwrap()
        .id;
    let copy = data_path(&target, tokyo);
    let torn = |copy: &Path| {
        let mut bytes = fs::read(copy).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle..middle + 4096].fill(0);
        fs::write(copy, bytes).unwrap();
    };

    // After a complete run, the tail is trusted: only `verify --full` finds the damage.
    torn(&copy);
    let trusted = backup(&safe, &target, false);
    assert_eq!(trusted.data_files_copied, 0, "{trusted:?}");
    assert!(!verify(&target, true).is_clean());

    // A run stopped at its start leaves the backup marked (inside its sealed index) as a power
    // loss during a run would.
    let stopped = JobControl::new();
    stopped.cancel();
    let interrupted = safe
        .backup(&target, &BackupOptions::default(), &stopped, &mut |_| {})
        .unwrap();
    assert!(interrupted.cancelled);

    let repaired = backup(&safe, &target, false);
    assert_eq!(repaired.data_files_copied, 1, "{repaired:?}");
    assert!(verify(&target, true).is_clean());
    assert_same_safe(
        &safe,
        &restore_into(&target, dir.path()),
        "after the repair",
    );
}

fn restore_into(target: &Path, dir: &Path) -> Safe {
    let restored = dir.join("restored.arca");
    let report = restore(target, &restored);
    assert!(report.failed.is_empty(), "{report:?}");
    Safe::open(&restored, &password()).unwrap()
}
