//! Locking the Safe during each job stops it; the Safe (and the backup) stay consistent, and
//! running the job again completes it. The jobs that run without a Safe handle (restoring a
//! new Safe, verifying a backup with a password) are cancelled through their `JobControl`.
//!
//! Each job is stopped at a point its own observer chooses (it pauses itself there, so the
//! point is the same on every run), and then locked or cancelled from the test's thread.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;
mod open_common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use arca_safe::{
    BackupOptions, Content, Error, ErrorKind, ImportOptions, JobControl, Layout, OnClash, Phase,
    ProblemKind, RestoreItemsOptions, Safe, Unlock, restore_backup, verify_backup,
};
use backup_common::{all_contents, all_items, assert_same_safe, verify};
use common::child::pseudo_random;
use common::{import, password, test_backoff};
use open_common::*;
use uuid::Uuid;

const BIG: u64 = 384 << 20;
const BACKUP: &str = "backup";

/// A Safe with a folder `/docs` of 24 files, a folder `/docs/sub` of 8 more, a file at the root
/// and some attributes; returns it with every file's bytes by path.
fn sample(dir: &Path) -> (Safe, BTreeMap<String, Vec<u8>>) {
    let safe = new_test_safe(dir);
    let source = dir.join("source");
    let docs = source.join("docs");
    fs::create_dir_all(docs.join("sub")).unwrap();
    let mut files = BTreeMap::new();
    for index in 0..32u64 {
        let relative = if index < 24 {
            format!("docs/file-{index:02}.txt")
        } else {
            format!("docs/sub/deep-{index:02}.bin")
        };
        let bytes = pseudo_random(index, (index as usize * 7_919) % 60_000);
        fs::write(source.join(&relative), &bytes).unwrap();
        files.insert(format!("/{relative}"), bytes);
    }
    fs::write(source.join("root.md"), b"# at the root").unwrap();
    files.insert("/root.md".to_owned(), b"# at the root".to_vec());
    import(
        &safe,
        &[docs, source.join("root.md")],
        &ImportOptions::default(),
    );
    let first = safe.resolve("/docs/file-01.txt").unwrap().unwrap().id;
    safe.add_tag(first, "kept").unwrap();
    safe.set_favorite(first, true).unwrap();
    safe.set_comment(first, "a comment").unwrap();
    (safe, files)
}

/// Asserts every file of `expected` that is in the Safe reads back equal (verified).
fn assert_files_whole(safe: &Safe, expected: &BTreeMap<String, Vec<u8>>, context: &str) {
    for (path, bytes) in expected {
        if let Ok(Some(item)) = safe.resolve(path) {
            assert_eq!(item.content, Content::Present, "{context}: {path}");
            let read = safe.read(item.id).unwrap();
            assert!(read.as_slice() == bytes.as_slice(), "{context}: {path}");
        }
    }
}

fn assert_clean(safe: &Safe, context: &str) {
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{context}: {:?}", check.problems);
    assert_eq!(temporaries(safe.layout().root()), Vec::<PathBuf>::new());
}

/// An observer's rule: pause at the first progress event of `phase`.
fn pause_at(phase: Phase, control: &JobControl) -> impl FnMut(&Event) -> bool + Send + 'static {
    let control = control.clone();
    move |event| {
        let hit = event
            .progress()
            .is_some_and(|progress| progress.phase == phase);
        if hit {
            control.pause();
        }
        hit
    }
}

/// An observer's rule: pause at the first problem of `kind`.
fn pause_at_problem(
    kind: ProblemKind,
    control: &JobControl,
) -> impl FnMut(&Event) -> bool + Send + 'static {
    let control = control.clone();
    move |event| {
        let hit = event.problem().is_some_and(|problem| problem.kind == kind);
        if hit {
            control.pause();
        }
        hit
    }
}

/// Locks the Safe, printing how long it took; asserts everything stopped in time.
fn lock(safe: &Safe, what: &str) {
    let started = Instant::now();
    assert!(safe.lock(), "{what}: the job did not stop");
    println!("lock during {what} took {:?}", started.elapsed());
}

fn backup_into(safe: &Safe, target: &Path) -> arca_safe::BackupReport {
    safe.backup(
        target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap()
}

/// The relative paths and bytes of the regular files below `dir`; asserts there are no
/// partial exports among them.
fn exported(dir: &Path) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                !name.ends_with(arca_cryptor::PARTIAL_EXPORT_SUFFIX),
                "a partial export was left: {}",
                path.display()
            );
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_string_lossy();
                out.insert(format!("/{relative}"), fs::metadata(&path).unwrap().len());
            }
        }
    }
    out
}

/// The size of the partial export being written below `dir`, if any.
fn partial_export(dir: &Path) -> Option<u64> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        let Ok(entries) = fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(arca_cryptor::PARTIAL_EXPORT_SUFFIX) {
                return fs::metadata(&path).ok().map(|metadata| metadata.len());
            }
            if path.is_dir() {
                stack.push(path);
            }
        }
    }
    None
}

/// Whether the file at `path` holds `len` zero bytes.
fn all_zeros(path: &Path, len: u64) -> bool {
    let mut file = File::open(path).unwrap();
    if file.metadata().unwrap().len() != len {
        return false;
    }
    let zeros = vec![0u8; 1 << 20];
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).unwrap();
        if read == 0 {
            return true;
        }
        if buffer[..read] != zeros[..read] {
            return false;
        }
    }
}

#[test]
fn a_lock_stops_an_export_inside_a_large_file_and_a_second_export_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let big = dir.path().join("source/docs/big.bin");
    sparse_file(&big, BIG);
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    import(
        &safe,
        &[big],
        &ImportOptions {
            into: Some(docs),
            ..ImportOptions::default()
        },
    );
    let target = dir.path().join("export");
    let running = {
        let (safe, target) = (safe.clone(), target.clone());
        run_job(
            |_| false,
            move |observer| {
                safe.export(
                    &[docs],
                    &target,
                    OnClash::KeepBoth,
                    &JobControl::new(),
                    observer,
                )
            },
        )
    };
    wait_until("the large file is being exported", || {
        partial_export(&target).is_some_and(|len| len > 0) || running.is_finished()
    });
    lock(&safe, "an export");
    let report = running.join().unwrap();
    assert!(report.cancelled, "{report:?}");
    // Nothing half-written; what was written is whole.
    let first = exported(&target);
    assert!(
        !first.contains_key("/docs/big.bin"),
        "the large file was exported whole: {report:?}"
    );
    for (path, len) in &first {
        assert_eq!(files[path].len() as u64, *len, "{path}");
        assert!(fs::read(target.join(&path[1..])).unwrap() == files[path]);
    }
    drop(safe);

    let safe = reopen(&root);
    assert_clean(&safe, "after the stopped export");
    let report = safe
        .export(
            &[docs],
            &target,
            OnClash::Skip,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(!report.cancelled && report.failed.is_empty(), "{report:?}");
    let all = exported(&target);
    let mut expected: BTreeMap<String, u64> = files
        .iter()
        .filter(|(path, _)| path.starts_with("/docs/"))
        .map(|(path, bytes)| (path.clone(), bytes.len() as u64))
        .collect();
    expected.insert("/docs/big.bin".to_owned(), BIG);
    assert_eq!(all, expected);
    for (path, bytes) in files.iter().filter(|(path, _)| path.starts_with("/docs/")) {
        assert!(
            fs::read(target.join(&path[1..])).unwrap() == *bytes,
            "{path}"
        );
    }
    assert!(all_zeros(&target.join("docs/big.bin"), BIG));
}

#[test]
fn a_lock_stops_a_backup_and_the_next_run_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let target = dir.path().join(BACKUP);
    let control = JobControl::new();
    let running = {
        let (safe, target, control) = (safe.clone(), target.clone(), control.clone());
        run_job(pause_at(Phase::Copying, &control), move |observer| {
            safe.backup(&target, &BackupOptions::default(), &control, observer)
        })
    };
    running.wait_reached();
    lock(&safe, "a backup");
    let report = running.join().unwrap();
    assert!(
        report.cancelled && report.completed_at.is_none(),
        "{report:?}"
    );

    // The backup is consistent: it opens, says its run did not complete, and has no damage.
    let found = verify(&target, true);
    assert!(found.interrupted, "{found:?}");
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    drop(safe);

    let safe = reopen(&root);
    assert_clean(&safe, "after the stopped backup");
    let report = backup_into(&safe, &target);
    assert!(
        !report.cancelled && report.completed_at.is_some(),
        "{report:?}"
    );
    let found = verify(&target, true);
    assert!(!found.interrupted && found.is_clean(), "{found:?}");
    assert_eq!(found.items, all_items(&safe).len() as u64);
    let listing = safe.list_backup(&target).unwrap();
    assert_eq!(listing.entries.len(), all_items(&safe).len());
}

#[test]
fn a_lock_stops_a_verify_and_it_runs_again_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let target = dir.path().join(BACKUP);
    backup_into(&safe, &target);
    let control = JobControl::new();
    let running = {
        let (safe, target, control) = (safe.clone(), target.clone(), control.clone());
        run_job(pause_at(Phase::Verifying, &control), move |observer| {
            safe.verify_backup(&target, true, &control, observer)
        })
    };
    running.wait_reached();
    lock(&safe, "a verify");
    let report = running.join().unwrap();
    assert!(report.files_checked < files.len() as u64, "{report:?}");
    drop(safe);

    let safe = reopen(&root);
    let report = safe
        .verify_backup(&target, true, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.files_checked, files.len() as u64);
    assert!(report.full && !report.interrupted);
}

#[test]
fn cancelling_a_verify_by_password_stops_it_and_it_runs_again_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let target = dir.path().join(BACKUP);
    backup_into(&safe, &target);
    let control = JobControl::new();
    let running = {
        let (target, control) = (target.clone(), control.clone());
        run_job(pause_at(Phase::Verifying, &control), move |observer| {
            verify_backup(
                &target,
                Unlock::Password(&password()),
                &test_backoff(),
                true,
                &control,
                observer,
            )
        })
    };
    running.wait_reached();
    control.cancel();
    let report = running.join().unwrap();
    assert!(report.files_checked < files.len() as u64, "{report:?}");
    let report = verify(&target, true);
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.files_checked, files.len() as u64);
}

#[test]
fn a_stopped_verify_does_not_look_complete() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _) = sample(dir.path());
    let target = dir.path().join(BACKUP);
    backup_into(&safe, &target);
    let control = JobControl::new();
    control.cancel();
    let log = EventLog::default();
    let report = safe
        .verify_backup(&target, true, &control, &mut |event| log.push(&event))
        .unwrap();
    assert_eq!(report.files_checked, 0);
    assert!(
        !report.is_clean() || !log.phases().contains(&Phase::Finished),
        "a verify that checked nothing looks complete and clean: {report:?}"
    );
}

#[test]
fn a_lock_stops_a_check_and_it_runs_again_to_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let control = JobControl::new();
    let running = {
        let (safe, control) = (safe.clone(), control.clone());
        run_job(pause_at(Phase::Verifying, &control), move |observer| {
            safe.check(true, false, &control, observer)
        })
    };
    running.wait_reached();
    lock(&safe, "a check");
    let report = running.join().unwrap();
    assert!(report.stopped, "{report:?}");
    assert!(report.files_checked < files.len() as u64, "{report:?}");
    drop(safe);

    let safe = reopen(&root);
    let report = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.is_clean() && !report.stopped, "{report:?}");
    assert_eq!(report.files_checked, files.len() as u64);
}

/// A backup of `safe` whose copy of one file of `/docs/sub` is damaged, so that restoring it
/// reports a problem half-way: the files of `/docs` come before those of `/docs/sub`, and those
/// in the order of their UUIDs, so the one with the first UUID is followed by the others.
fn backup_with_a_damaged_copy(safe: &Safe, target: &Path) -> Uuid {
    backup_into(safe, target);
    let sub = safe.resolve("/docs/sub").unwrap().unwrap().id;
    let damaged = safe
        .children(Some(sub), false)
        .unwrap()
        .into_iter()
        .map(|item| item.id)
        .min()
        .unwrap();
    flip_byte(&Layout::new(target).data_file(damaged), 40);
    damaged
}

#[test]
fn a_lock_stops_a_restore_of_chosen_items_half_way_and_leaves_a_consistent_safe() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let target = dir.path().join(BACKUP);
    backup_with_a_damaged_copy(&safe, &target);
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    safe.trash(docs).unwrap();
    safe.empty_trash().unwrap();

    let control = JobControl::new();
    let running = {
        let (safe, target, control) = (safe.clone(), target.clone(), control.clone());
        run_job(
            pause_at_problem(ProblemKind::DataDamaged, &control),
            move |observer| {
                safe.restore_items_from_backup(
                    &target,
                    &["/docs".to_owned()],
                    &RestoreItemsOptions::default(),
                    &control,
                    observer,
                )
            },
        )
    };
    running.wait_reached();
    lock(&safe, "a restore of chosen items");
    let report = running.join().unwrap();
    assert!(report.cancelled, "{report:?}");
    drop(safe);

    let safe = reopen(&root);
    assert_clean(&safe, "after the stopped restore");
    // What was restored is whole: the folders, and every file of /docs (they come first).
    assert_files_whole(&safe, &files, "after the stopped restore");
    for index in 0..24 {
        let path = format!("/docs/file-{index:02}.txt");
        assert!(
            safe.resolve(&path).unwrap().is_some(),
            "{path} not restored"
        );
    }
    assert!(safe.resolve("/docs/sub").unwrap().is_some());
}

#[test]
fn running_a_stopped_restore_of_chosen_items_again_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let target = dir.path().join(BACKUP);
    let damaged = backup_with_a_damaged_copy(&safe, &target);
    let damaged = safe.path_of(damaged).unwrap();
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    safe.trash(docs).unwrap();
    safe.empty_trash().unwrap();
    let control = JobControl::new();
    let running = {
        let (safe, target, control) = (safe.clone(), target.clone(), control.clone());
        run_job(
            pause_at_problem(ProblemKind::DataDamaged, &control),
            move |observer| {
                safe.restore_items_from_backup(
                    &target,
                    &["/docs".to_owned()],
                    &RestoreItemsOptions::default(),
                    &control,
                    observer,
                )
            },
        )
    };
    running.wait_reached();
    lock(&safe, "a restore of chosen items");
    assert!(running.join().unwrap().cancelled);
    let safe = reopen(&root);
    let report = safe
        .restore_items_from_backup(
            &target,
            &["/docs".to_owned()],
            &RestoreItemsOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(!report.cancelled, "{report:?}");
    let top: Vec<String> = safe
        .children(None, false)
        .unwrap()
        .into_iter()
        .map(|item| item.name)
        .collect();
    assert_eq!(top, ["docs", "root.md"], "{report:?}");
    for path in files.keys().filter(|path| **path != damaged) {
        assert!(safe.resolve(path).unwrap().is_some(), "{path} not restored");
    }
    assert_files_whole(&safe, &files, "after running the restore again");
}

/// Runs a restore of `/docs` from `target` (whose copy of a file of `/docs/sub` is damaged)
/// and locks the Safe at the damaged file; returns the Safe opened again.
fn stopped_restore_of_docs(safe: Safe, target: &Path) -> Safe {
    let root = safe.layout().root().to_path_buf();
    let control = JobControl::new();
    let running = {
        let (safe, target, control) = (safe.clone(), target.to_path_buf(), control.clone());
        run_job(
            pause_at_problem(ProblemKind::DataDamaged, &control),
            move |observer| {
                safe.restore_items_from_backup(
                    &target,
                    &["/docs".to_owned()],
                    &RestoreItemsOptions::default(),
                    &control,
                    observer,
                )
            },
        )
    };
    running.wait_reached();
    lock(&safe, "a restore of chosen items");
    assert!(running.join().unwrap().cancelled);
    drop(safe);
    reopen(&root)
}

fn restore_docs(safe: &Safe, target: &Path) -> arca_safe::RestoreReport {
    let report = safe
        .restore_items_from_backup(
            target,
            &["/docs".to_owned()],
            &RestoreItemsOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(!report.cancelled, "{report:?}");
    report
}

#[test]
fn a_restore_completed_by_running_it_again_is_forgotten_and_the_next_one_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let root = safe.layout().root().to_path_buf();
    let target = dir.path().join(BACKUP);
    backup_with_a_damaged_copy(&safe, &target);
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    safe.trash(docs).unwrap();
    safe.empty_trash().unwrap();
    let safe = stopped_restore_of_docs(safe, &target);
    assert!(root.join("restore-jobs.crypt").is_file());

    // Run again: it completes the stopped one, keeping what it restored.
    let report = restore_docs(&safe, &target);
    assert!(report.already_restored >= 26, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(report.notes.is_empty(), "{report:?}");
    assert!(!root.join("restore-jobs.crypt").exists());
    assert_eq!(safe.resolve("/docs").unwrap().unwrap().id, docs);

    // Once it has run to its end, the same restore is a new one: a copy beside the original.
    let report = restore_docs(&safe, &target);
    assert_eq!(report.already_restored, 0, "{report:?}");
    let copy = safe.resolve("/docs (2)").unwrap().unwrap();
    assert_ne!(copy.id, docs);
    assert_files_whole(&safe, &files, "after the copy");
    assert!(!root.join("restore-jobs.crypt").exists());
    assert_clean(&safe, "after the copy");
}

#[test]
fn what_a_stopped_restore_restored_and_was_trashed_since_is_restored_anew() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, files) = sample(dir.path());
    let target = dir.path().join(BACKUP);
    let damaged = backup_with_a_damaged_copy(&safe, &target);
    let damaged = safe.path_of(damaged).unwrap();
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    safe.trash(docs).unwrap();
    safe.empty_trash().unwrap();
    let safe = stopped_restore_of_docs(safe, &target);
    let partial = safe.resolve("/docs").unwrap().unwrap().id;
    safe.trash(partial).unwrap();

    // Nothing goes into the trashed folder: a whole new /docs comes back.
    let report = restore_docs(&safe, &target);
    assert_eq!(report.already_restored, 0, "{report:?}");
    let restored = safe.resolve("/docs").unwrap().unwrap();
    assert_ne!(restored.id, partial);
    for path in files.keys().filter(|path| **path != damaged) {
        assert!(safe.resolve(path).unwrap().is_some(), "{path} not restored");
    }
    assert_files_whole(&safe, &files, "after restoring anew");
    assert!(safe.is_in_trash(partial).unwrap());
    assert_clean(&safe, "after restoring anew");
}

#[test]
fn cancelling_a_restore_into_a_new_safe_half_way_and_running_it_again_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _) = sample(dir.path());
    let target = dir.path().join(BACKUP);
    let damaged = backup_with_a_damaged_copy(&safe, &target);
    let new_safe = dir.path().join("restored.arca");
    let control = JobControl::new();
    let running = {
        let (target, new_safe, control) = (target.clone(), new_safe.clone(), control.clone());
        run_job(
            pause_at_problem(ProblemKind::DataDamaged, &control),
            move |observer| {
                restore_backup(
                    &target,
                    Unlock::Password(&password()),
                    &test_backoff(),
                    &new_safe,
                    &control,
                    observer,
                )
            },
        )
    };
    running.wait_reached();
    control.cancel();
    let report = running.join().unwrap();
    assert!(report.cancelled, "{report:?}");
    // Not a Safe yet: it cannot be opened half-restored.
    let half = Safe::open_with(
        &new_safe,
        Unlock::Password(&password()),
        &common::test_open_options(),
    )
    .err()
    .expect("a half-restored Safe opens");
    assert_eq!(half.kind(), ErrorKind::NotASafe, "{half}");

    let report = restore_backup(
        &target,
        Unlock::Password(&password()),
        &test_backoff(),
        &new_safe,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    assert!(!report.cancelled, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].item, Some(damaged));
    let restored = reopen(&new_safe);
    assert_clean(&restored, "the restored Safe");
    // Everything but the damaged file, exactly as in the Safe backed up.
    let mut original: Vec<_> = all_items(&safe);
    original.retain(|(item, _)| item.id != damaged);
    assert_eq!(all_items(&restored), original);
    let mut contents = all_contents(&safe);
    contents.remove(&damaged);
    assert!(all_contents(&restored) == contents);
}

#[test]
fn cancelling_a_restore_into_a_new_safe_before_any_item_and_running_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _) = sample(dir.path());
    let target = dir.path().join(BACKUP);
    backup_into(&safe, &target);
    let new_safe = dir.path().join("restored.arca");
    let control = JobControl::new();
    let running = {
        let (target, new_safe, control) = (target.clone(), new_safe.clone(), control.clone());
        run_job(pause_at(Phase::Copying, &control), move |observer| {
            restore_backup(
                &target,
                Unlock::Password(&password()),
                &test_backoff(),
                &new_safe,
                &control,
                observer,
            )
        })
    };
    running.wait_reached();
    control.cancel();
    assert!(running.join().unwrap().cancelled);
    backup_common::restore(&target, &new_safe);
    assert_same_safe(&safe, &reopen(&new_safe), "restored after a cancel");
}

#[test]
fn a_lock_stops_a_backup_inside_a_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let big = dir.path().join("big.bin");
    sparse_file(&big, BIG);
    import(&safe, &[big], &ImportOptions::default());
    let id = safe.resolve("/big.bin").unwrap().unwrap().id;
    let target = dir.path().join(BACKUP);
    let running = {
        let (safe, target) = (safe.clone(), target.clone());
        run_job(
            |_| false,
            move |observer| {
                safe.backup(
                    &target,
                    &BackupOptions::default(),
                    &JobControl::new(),
                    observer,
                )
            },
        )
    };
    wait_until("the large file is being copied", || {
        target.join("files").is_dir() && !temporaries(&target.join("files")).is_empty()
            || running.is_finished()
    });
    lock(&safe, "a backup inside a large file");
    let report = running.join().unwrap();
    assert!(report.cancelled, "{report:?}");
    assert!(
        !Layout::new(&target).data_file(id).exists(),
        "the large file was copied whole before the backup stopped"
    );
}

/// Locks the Safe once the job running in `running` has been reading its only (large) file for
/// a moment: a job that checks for a stop only between files would hold the lock until the
/// whole file is read.
fn lock_inside_the_file<T>(safe: &Safe, running: &Running<T>, what: &str) {
    wait_until("the job reaches its only file", || {
        running.log.phases().contains(&Phase::Verifying) || running.is_finished()
    });
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(!running.is_finished(), "{what} ended before the lock");
    lock(safe, what);
}

#[test]
fn a_lock_stops_a_full_verify_a_full_check_and_a_restore_inside_a_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let big = dir.path().join("big.bin");
    sparse_file(&big, BIG);
    import(&safe, &[big], &ImportOptions::default());
    let id = safe.resolve("/big.bin").unwrap().unwrap().id;
    let target = dir.path().join(BACKUP);
    backup_into(&safe, &target);

    // verify --full
    let running = {
        let (safe, target) = (safe.clone(), target.clone());
        run_job(
            |_| false,
            move |observer| safe.verify_backup(&target, true, &JobControl::new(), observer),
        )
    };
    lock_inside_the_file(&safe, &running, "a full verify inside a large file");
    let report = running.join().unwrap();
    assert!(
        report.stopped && report.files_checked == 0 && !report.is_clean(),
        "{report:?}"
    );
    drop(safe);

    // check --full
    let safe = reopen(&root);
    let running = {
        let safe = safe.clone();
        run_job(
            |_| false,
            move |observer| safe.check(true, false, &JobControl::new(), observer),
        )
    };
    lock_inside_the_file(&safe, &running, "a full check inside a large file");
    let report = running.join().unwrap();
    assert!(report.stopped && report.files_checked == 0, "{report:?}");
    drop(safe);

    // A restore of the file, deleted from the Safe meanwhile.
    let safe = reopen(&root);
    safe.trash(id).unwrap();
    safe.empty_trash().unwrap();
    let running = {
        let (safe, target) = (safe.clone(), target.clone());
        run_job(
            |_| false,
            move |observer| {
                safe.restore_items_from_backup(
                    &target,
                    &["/big.bin".to_owned()],
                    &RestoreItemsOptions::default(),
                    &JobControl::new(),
                    observer,
                )
            },
        )
    };
    let files = root.join("files");
    wait_until("the large file is being restored", || {
        !temporaries(&files).is_empty() || running.is_finished()
    });
    lock(&safe, "a restore inside a large file");
    let report = running.join().unwrap();
    assert!(report.cancelled && report.files == 0, "{report:?}");
    drop(safe);
    let safe = reopen(&root);
    assert!(safe.resolve("/big.bin").ok().flatten().is_none());
    assert!(!safe.layout().data_file(id).exists());
    assert_clean(&safe, "after the stopped restore");

    // Each runs again to its end.
    let report = safe
        .restore_items_from_backup(
            &target,
            &["/big.bin".to_owned()],
            &RestoreItemsOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert!(!report.cancelled && report.files == 1, "{report:?}");
    let restored = safe.resolve("/big.bin").unwrap().unwrap();
    assert_eq!((restored.id, restored.size), (id, BIG));
    assert_clean(&safe, "after the restore ran again");
    let report = safe
        .verify_backup(&target, true, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(
        report.is_clean() && !report.stopped && report.files_checked == 1,
        "{report:?}"
    );
}

#[test]
fn every_job_started_on_a_locked_safe_fails_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _) = sample(dir.path());
    let target = dir.path().join(BACKUP);
    backup_into(&safe, &target);
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    assert!(safe.lock());
    let locked = |what: &str, error: Option<Error>| {
        let error = error.unwrap_or_else(|| panic!("{what} ran on a locked Safe"));
        assert_eq!(error.kind(), ErrorKind::SafeLocked, "{what}: {error}");
    };
    locked(
        "verify",
        safe.verify_backup(&target, false, &JobControl::new(), &mut |_| {})
            .err(),
    );
    locked(
        "restore of chosen items",
        safe.restore_items_from_backup(
            &target,
            &["/docs".to_owned()],
            &RestoreItemsOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .err(),
    );
    locked("list backup", safe.list_backup(&target).err());
    locked(
        "export",
        safe.export(
            &[docs],
            &dir.path().join("out"),
            OnClash::Skip,
            &JobControl::new(),
            &mut |_| {},
        )
        .err(),
    );
}
