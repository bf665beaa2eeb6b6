//! Rebuilding a Safe's damaged attribute database from a backup: every item and attribute as of
//! the backup, files byte-identical, the damaged database kept aside, data files the backup does
//! not know kept for `check --repair`, and kill -9 at every step of the rebuild.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use arca_safe::{
    Error, ImportOptions, Item, Problem, RebuildReport, Safe, Unlock, rebuild_database_from_backup,
};
use backup_common::*;
use common::child::*;
use common::*;
use uuid::Uuid;

const SAFE: &str = "test.arca";
const BACKUP: &str = "backup";

/// Damages the first page of the (closed) Safe's database past its salt, so SQLCipher's HMAC
/// of that page fails and the database no longer opens.
fn damage_database(safe: &Path) -> Vec<u8> {
    let database = safe.join("attributes.db");
    assert!(
        !safe.join("attributes.db-wal").exists(),
        "the database was not closed cleanly"
    );
    let mut bytes = fs::read(&database).unwrap();
    for byte in &mut bytes[100..140] {
        *byte ^= 0x5a;
    }
    fs::write(&database, &bytes).unwrap();
    assert!(matches!(
        Safe::open(safe, &password()),
        Err(Error::DamagedDatabase(_))
    ));
    bytes
}

fn rebuild(safe: &Path, target: &Path) -> (Safe, RebuildReport) {
    let (safe, report) = rebuild_database_from_backup(
        safe,
        Unlock::Password(&password()),
        &test_open_options(),
        target,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    (safe.expect("the rebuild stopped"), report)
}

/// The folders `attributes.db.damaged-…` inside the Safe.
fn kept_aside(safe: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(safe)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("attributes.db.damaged-")
        })
        .collect();
    out.sort();
    out
}

fn id(safe: &Safe, path: &str) -> Uuid {
    safe.resolve(path).unwrap().unwrap().id
}

#[test]
fn a_damaged_database_is_rebuilt_equal_to_the_safe_as_backed_up() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let recovery_key = safe.create_recovery_key(&password()).unwrap();
    let target = dir.path().join(BACKUP);
    backup(&safe, &target, false);
    let items = all_items(&safe);
    let contents = all_contents(&safe);
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
    let path = safe.layout().root().to_path_buf();
    let data_before = tree(&path.join("files"));
    drop(safe);

    let damaged = damage_database(&path);
    // The recovery key unlocks the key file as well as the password does.
    let (rebuilt, report) = rebuild_database_from_backup(
        &path,
        Unlock::RecoveryKey(&recovery_key),
        &test_open_options(),
        &target,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    let rebuilt = rebuilt.unwrap();
    assert!(report.rebuilt(), "{report:?}");
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    assert!(report.set_aside.is_empty() && report.unknown_data_files.is_empty());
    assert_eq!(report.data_files_kept, 7);
    assert_eq!(report.data_files_copied, 0);
    assert_eq!(report.files + report.folders, items.len() as u64);
    assert!(report.backup_completed_at.is_some() && !report.interrupted_backup);

    assert!(all_items(&rebuilt) == items, "an item or attribute differs");
    assert!(all_contents(&rebuilt) == contents, "file contents differ");
    assert_eq!(
        tree(&path.join("files")),
        data_before,
        "the data files were not kept as they were"
    );
    let check = rebuilt
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{:?}", check.problems);

    // The damaged database is kept, byte for byte, in one dated folder.
    let aside = kept_aside(&path);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(report.damaged_database_kept_in.as_ref(), Some(&aside[0]));
    assert_eq!(fs::read(aside[0].join("attributes.db")).unwrap(), damaged);
    assert!(!path.join("attributes.rebuilding.db").exists());

    // The rebuilt database is the Safe's: it opens with the password, and changes are logged.
    drop(rebuilt);
    let reopened = Safe::open(&path, &password()).unwrap();
    let tokyo = id(&reopened, "/Fotos Zoë/日本 旅行/東京 🗼.jpg");
    reopened.rename(tokyo, "Tokyo.jpg").unwrap();
    assert!(
        reopened
            .check(false, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
}

#[test]
fn missing_and_different_data_files_come_from_the_backup_and_unknown_ones_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join(BACKUP);
    backup(&safe, &target, false);
    let items = all_items(&safe);
    let contents = all_contents(&safe);

    // After the backup: a new file (the backup does not know it), a data file lost, and a data
    // file replaced by another (valid) one.
    let source = dir.path().join("later.txt");
    fs::write(&source, b"imported after the backup").unwrap();
    import(&safe, &[source], &ImportOptions::default());
    let later = id(&safe, "/later.txt");
    let tokyo = id(&safe, "/Fotos Zoë/日本 旅行/東京 🗼.jpg");
    let cafe = id(&safe, "/Fotos Zoë/日本 旅行/Café ☕.txt");
    let top = id(&safe, "/top level.md");
    let layout = safe.layout().clone();
    fs::remove_file(layout.data_file(tokyo)).unwrap();
    let swapped_in = fs::read(layout.data_file(top)).unwrap();
    fs::write(layout.data_file(cafe), &swapped_in).unwrap();
    drop(safe);
    damage_database(layout.root());

    let (rebuilt, report) = rebuild(layout.root(), &target);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.data_files_copied, 2, "{report:?}");
    assert_eq!(report.data_files_kept, 5);
    assert_eq!(report.set_aside.len(), 1, "{:?}", report.set_aside);
    let aside = &report.set_aside[0];
    assert_eq!(aside.item, Some(cafe));
    assert!(aside.path.as_deref().unwrap().ends_with("/Café ☕.txt"));
    let aside_file = aside.file.clone().unwrap();
    assert_eq!(
        fs::read(layout.root().join(&aside_file)).unwrap(),
        swapped_in,
        "the different data file was not kept"
    );
    let later_file = format!("files/{}/{later}.data.crypt", &later.to_string()[..2]);
    let mut unknown = vec![later_file, aside_file];
    unknown.sort();
    assert_eq!(report.unknown_data_files, unknown);

    assert!(all_items(&rebuilt) == items, "an item or attribute differs");
    assert!(all_contents(&rebuilt) == contents, "file contents differ");

    // check --repair gives the data files the backup did not know an item in /Recovered.
    let check = rebuilt
        .check(true, true, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert_eq!(
        check
            .problems
            .iter()
            .filter(|problem| matches!(problem, Problem::OrphanDataFile { .. }))
            .count(),
        2,
        "{:?}",
        check.problems
    );
    let recovered = id(&rebuilt, "/Recovered");
    let mut bytes: Vec<Vec<u8>> = rebuilt
        .children(Some(recovered), false)
        .unwrap()
        .into_iter()
        .map(|item: Item| rebuilt.read(item.id).unwrap().to_vec())
        .collect();
    bytes.sort();
    let mut expected = vec![
        b"imported after the backup".to_vec(),
        contents[&top].clone(),
    ];
    expected.sort();
    assert!(bytes == expected, "the recovered files have other bytes");
    assert!(
        rebuilt
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
}

#[test]
fn an_item_whose_copies_are_both_bad_is_recorded_without_content_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join(BACKUP);
    backup(&safe, &target, false);
    let cafe = id(&safe, "/Fotos Zoë/日本 旅行/Café ☕.txt");
    let layout = safe.layout().clone();
    drop(safe);
    let name = cafe.to_string();
    let in_backup = target
        .join("files")
        .join(&name[..2])
        .join(format!("{name}.data.crypt"));
    fs::remove_file(layout.data_file(cafe)).unwrap();
    let mut bytes = fs::read(&in_backup).unwrap();
    bytes[40] ^= 1;
    fs::write(&in_backup, bytes).unwrap();
    damage_database(layout.root());

    let (rebuilt, report) = rebuild(layout.root(), &target);
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    let failed = &report.failed[0];
    assert_eq!(failed.item, Some(cafe));
    assert!(failed.path.as_deref().unwrap().ends_with("/Café ☕.txt"));
    assert!(failed.problem.contains("missing"), "{}", failed.problem);
    // Nothing wrong was put in place: the damaged copy stays in the backup only.
    assert!(!layout.data_file(cafe).exists());
    assert_eq!(
        rebuilt.item(cafe).unwrap().content,
        arca_safe::Content::Missing
    );
    assert!(rebuilt.read(cafe).is_err());
    // A file without content stays a problem until it is restored or deleted.
    let check = rebuilt
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(
        matches!(check.problems.as_slice(), [arca_safe::Problem::MissingContent { path }] if path.ends_with("/Café ☕.txt")),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_rebuild_cancelled_half_way_leaves_the_damaged_database_and_the_next_one_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    // A large file at the root: its copy comes before the files deeper down, and takes long
    // enough to be cancelled in the middle.
    let big = dir.path().join("big.bin");
    fs::File::create(&big).unwrap().set_len(384 << 20).unwrap();
    import(&safe, &[big], &ImportOptions::default());
    let big = id(&safe, "/big.bin");
    let target = dir.path().join(BACKUP);
    backup(&safe, &target, false);
    let items = all_items(&safe);
    // Every data file lost: the rebuild copies each from the backup.
    let layout = safe.layout().clone();
    let files: Vec<Uuid> = items
        .iter()
        .filter(|(item, _)| item.content == arca_safe::Content::Present)
        .map(|(item, _)| item.id)
        .collect();
    for file in &files {
        fs::remove_file(layout.data_file(*file)).unwrap();
    }
    drop(safe);
    let damaged = damage_database(layout.root());

    let control = JobControl::new();
    let running = {
        let (path, target, control) =
            (layout.root().to_path_buf(), target.clone(), control.clone());
        std::thread::spawn(move || {
            rebuild_database_from_backup(
                &path,
                Unlock::Password(&password()),
                &test_open_options(),
                &target,
                &control,
                &mut |_| {},
            )
        })
    };
    let started = std::time::Instant::now();
    while temporaries(&layout.files_dir()).is_empty() && !running.is_finished() {
        assert!(
            started.elapsed().as_secs() < 60,
            "the large file was never copied"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let cancelled = std::time::Instant::now();
    control.cancel();
    let (safe, report) = running.join().unwrap().unwrap();
    println!(
        "the rebuild stopped {:?} after the cancel",
        cancelled.elapsed()
    );
    assert!(safe.is_none() && report.stopped, "{report:?}");
    assert!(
        report.files + report.folders < items.len() as u64,
        "not stopped half-way: {report:?}"
    );
    // The Safe is as it was: its damaged database in place, nothing half-written beside it.
    assert!(matches!(
        Safe::open(layout.root(), &password()),
        Err(Error::DamagedDatabase(_))
    ));
    assert_eq!(fs::read(layout.database()).unwrap(), damaged);
    assert!(kept_aside(layout.root()).is_empty());
    assert!(!layout.root().join("attributes.rebuilding.db").exists());
    assert_eq!(temporaries(layout.root()), Vec::<PathBuf>::new());
    assert!(!layout.data_file(big).exists(), "the stopped copy was kept");

    let (rebuilt, report) = rebuild(layout.root(), &target);
    assert!(report.rebuilt() && !report.stopped, "{report:?}");
    assert!(
        report.failed.is_empty() && report.set_aside.is_empty(),
        "{report:?}"
    );
    assert!(report.unknown_data_files.is_empty(), "{report:?}");
    assert_eq!(
        report.data_files_kept + report.data_files_copied,
        files.len() as u64,
        "{report:?}"
    );
    assert!(all_items(&rebuilt) == items, "an item or attribute differs");
    let check = rebuilt
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{:?}", check.problems);
    assert_eq!(kept_aside(layout.root()).len(), 1);
}

#[test]
fn a_whole_database_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join(BACKUP);
    backup(&safe, &target, false);
    // A change after the backup that a rebuild would lose.
    let top = id(&safe, "/top level.md");
    safe.set_comment(top, "newer than the backup").unwrap();
    let items = all_items(&safe);
    let path = safe.layout().root().to_path_buf();
    drop(safe);
    let database = fs::read(path.join("attributes.db")).unwrap();

    let (opened, report) = rebuild(&path, &target);
    assert!(!report.rebuilt(), "{report:?}");
    assert!(report.damaged_database_kept_in.is_none());
    assert!(all_items(&opened) == items);
    assert!(kept_aside(&path).is_empty());
    drop(opened);
    assert_eq!(fs::read(path.join("attributes.db")).unwrap(), database);
}

#[test]
fn a_wrong_password_or_another_safes_backup_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let safe = sample_safe(dir.path());
    let target = dir.path().join(BACKUP);
    backup(&safe, &target, false);
    let path = safe.layout().root().to_path_buf();
    drop(safe);
    let other_dir = dir.path().join("other");
    fs::create_dir(&other_dir).unwrap();
    let other = new_safe(&other_dir);
    let other_backup = dir.path().join("other backup");
    backup(&other, &other_backup, false);
    damage_database(&path);
    let before = tree(&path);

    let wrong = arca_cryptor::Password::new("not the password".to_owned());
    assert!(matches!(
        rebuild_database_from_backup(
            &path,
            Unlock::Password(&wrong),
            &test_open_options(),
            &target,
            &JobControl::new(),
            &mut |_| {}
        ),
        Err(Error::WrongPassword)
    ));
    assert!(matches!(
        rebuild_database_from_backup(
            &path,
            Unlock::Password(&password()),
            &test_open_options(),
            &other_backup,
            &JobControl::new(),
            &mut |_| {}
        ),
        Err(Error::ForeignBackup { .. })
    ));
    assert!(matches!(
        rebuild_database_from_backup(
            &path,
            Unlock::Password(&password()),
            &test_open_options(),
            &dir.path().join("source-less"),
            &JobControl::new(),
            &mut |_| {}
        ),
        Err(Error::NotABackup(_))
    ));
    assert_eq!(tree(&path), before, "a refused rebuild changed the Safe");
}

/// The child of the kill test: rebuilds the Safe in `ARCA_DIR`, then prints how many crash
/// points it passed.
#[test]
#[ignore = "the child process of the kill test; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(CHILD_OPERATION) else {
        return;
    };
    assert_eq!(operation, "rebuild");
    let dir = PathBuf::from(env::var_os("ARCA_DIR").unwrap());
    let before = arca_cryptor::crash_points_passed();
    let (_, report) = rebuild(&dir.join(SAFE), &dir.join(BACKUP));
    assert!(report.rebuilt() && report.failed.is_empty(), "{report:?}");
    let after = arca_cryptor::crash_points_passed();
    println!("ARCA_CRASH_POINTS {before} {after}");
}

#[test]
fn kill_at_every_step_of_a_rebuild_then_rebuilding_again_gives_the_safe() {
    let fixture = tempfile::tempdir().unwrap();
    let safe = sample_safe(fixture.path());
    let target = fixture.path().join(BACKUP);
    backup(&safe, &target, false);
    let items = all_items(&safe);
    let contents = all_contents(&safe);
    // One data file lost, so the rebuild copies one from the backup too.
    let tokyo = id(&safe, "/Fotos Zoë/日本 旅行/東京 🗼.jpg");
    fs::remove_file(safe.layout().data_file(tokyo)).unwrap();
    let path = safe.layout().root().to_path_buf();
    drop(safe);
    damage_database(&path);

    let envs = |instance: &Path, k: u64| {
        vec![
            ("ARCA_DIR", instance.as_os_str().to_owned()),
            ("ARCA_CRASH_AT", OsString::from(k.to_string())),
        ]
    };
    let instance = tempfile::tempdir().unwrap();
    copy_dir(fixture.path(), instance.path());
    let output = run_child("rebuild", &envs(instance.path(), u64::MAX));
    assert_succeeded(&output);
    let points = child_value(&output, "ARCA_CRASH_POINTS").unwrap();
    let (first, last) = points.split_once(' ').unwrap();
    let points = first.parse::<u64>().unwrap() + 1..=last.parse::<u64>().unwrap();
    assert!(
        points.clone().count() >= 5,
        "too few crash points: {points:?}"
    );

    for k in points {
        let instance = tempfile::tempdir().unwrap();
        copy_dir(fixture.path(), instance.path());
        let safe_path = instance.path().join(SAFE);
        let output = run_child("rebuild", &envs(instance.path(), k));
        assert_killed(&output, &format!("crash point {k}"));
        let (rebuilt, report) = match Safe::open(&safe_path, &password()) {
            // Killed after the new database was in place: the rebuild is done.
            Ok(safe) => (safe, None),
            Err(Error::DamagedDatabase(_)) => {
                let (safe, report) = rebuild(&safe_path, &instance.path().join(BACKUP));
                (safe, Some(report))
            }
            Err(other) => panic!("crash point {k}: the Safe fails to open: {other}"),
        };
        if let Some(report) = &report {
            assert!(report.rebuilt() && report.failed.is_empty(), "{report:?}");
        }
        assert!(
            all_items(&rebuilt) == items,
            "crash point {k}: an item differs"
        );
        assert!(
            all_contents(&rebuilt) == contents,
            "crash point {k}: contents differ"
        );
        // Nothing is lost: at most a data file set aside or copied twice, which check recovers.
        let check = rebuilt
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert_problems_only(
            &check.problems,
            |problem| matches!(problem, Problem::TemporaryFile { .. }),
            &format!("crash point {k}"),
        );
        assert!(!kept_aside(&safe_path).is_empty(), "crash point {k}");
        assert!(
            kept_aside(&safe_path)
                .iter()
                .any(|folder| folder.join("attributes.db").is_file()),
            "crash point {k}: the damaged database is lost"
        );
    }
}
