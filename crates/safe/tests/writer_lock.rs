//! One writer at a time, through the library (issue 9, part 3): a second writer of a Safe, a
//! backup folder or a Safe being restored is refused at once with the holder named (or "another
//! program" when it said nothing); readers take no part in it; a lock file left by a process
//! that is gone is no obstacle. The command line's tests do the same with real processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs::{self, File};
use std::path::Path;

use arca_safe::{
    Access, BackupOptions, Error, ErrorKind, JobControl, LOCK_FILE, OpenMode, OpenOptions,
    ReadOnlyReason, Safe, Unlock, restore_backup,
};
use common::{password, test_backoff};

fn open(path: &Path, mode: OpenMode) -> arca_safe::Result<Safe> {
    Safe::open_with(
        path,
        Unlock::Password(&password()),
        &OpenOptions {
            mode,
            backoff: test_backoff(),
        },
    )
}

fn small_safe(root: &Path) -> Safe {
    fs::write(root.join("a.txt"), b"alpha").unwrap();
    let safe = common::new_safe(root);
    common::import(
        &safe,
        &[root.join("a.txt")],
        &arca_safe::ImportOptions::default(),
    );
    safe
}

/// Holds an flock on `folder/writer.lock` as a program that writes nothing into it would.
fn hold_lock(folder: &Path) -> File {
    fs::create_dir_all(folder).unwrap();
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(folder.join(LOCK_FILE))
        .unwrap();
    file.lock().unwrap();
    file
}

#[test]
fn a_second_writer_is_refused_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let writer = small_safe(dir.path());
    let path = writer.layout().root().to_path_buf();
    let error = open(&path, OpenMode::Write).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LockedByOther);
    match &error {
        Error::LockedByOther {
            what,
            holder: Some(holder),
        } => {
            assert_eq!(*what, "the Safe");
            assert_eq!(holder.pid, std::process::id());
            assert!(!holder.host.is_empty() && !holder.program.is_empty());
        }
        other => panic!("{other:?}"),
    }
    let message = error.to_string();
    assert!(
        message.contains(&format!("process {} on ", std::process::id())),
        "{message}"
    );
    // The lock file names the holder for anyone to read.
    let named: serde_json::Value =
        serde_json::from_slice(&fs::read(path.join(LOCK_FILE)).unwrap()).unwrap();
    assert_eq!(named["pid"], std::process::id());

    // Readers are no part of it: they open, list, read and export beside the writer.
    let reader = open(&path, OpenMode::Read).unwrap();
    assert_eq!(reader.access(), &Access::Read(ReadOnlyReason::Requested));
    let id = reader.resolve("/a.txt").unwrap().unwrap().id;
    assert_eq!(reader.read(id).unwrap().as_slice(), b"alpha");
    // Write-or-read falls back to reading, and says who writes.
    let fallback = open(&path, OpenMode::WriteOrRead).unwrap();
    match fallback.access() {
        Access::Read(ReadOnlyReason::InUse(Some(holder))) => {
            assert_eq!(holder.pid, std::process::id());
        }
        other => panic!("{other:?}"),
    }
    let refused = fallback.create_folder(None, "x").unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::ReadOnly, "{refused}");

    // Locked, or dropped: the next writer goes ahead.
    writer.lock();
    let second = open(&path, OpenMode::Write).unwrap();
    assert!(open(&path, OpenMode::Write).is_err());
    drop(second);
    open(&path, OpenMode::Write).unwrap();
}

#[test]
fn a_writer_that_said_nothing_is_another_program() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_safe(dir.path()).layout().root().to_path_buf();
    fs::write(path.join(LOCK_FILE), b"not json").unwrap();
    let held = hold_lock(&path);
    let error = open(&path, OpenMode::Write).map(drop).unwrap_err();
    assert!(
        matches!(error, Error::LockedByOther { holder: None, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("another program"), "{error}");
    drop(held);
    open(&path, OpenMode::Write).unwrap();
}

/// A holder that has not yet written its name leaves the last holder's name in the file: a name
/// of a process that is gone is not given as the holder.
#[test]
fn a_name_left_by_a_process_that_is_gone_is_not_given_as_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_safe(dir.path()).layout().root().to_path_buf();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    fs::write(
        path.join(LOCK_FILE),
        format!(r#"{{"pid":{gone_pid},"host":"{host}","program":"arca"}}"#),
    )
    .unwrap();
    let held = hold_lock(&path);
    let error = open(&path, OpenMode::Write).map(drop).unwrap_err();
    assert!(
        matches!(error, Error::LockedByOther { holder: None, .. }),
        "{error:?}"
    );
    drop(held);
}

#[test]
fn a_lock_file_left_by_a_process_that_is_gone_is_no_obstacle() {
    let dir = tempfile::tempdir().unwrap();
    let path = small_safe(dir.path()).layout().root().to_path_buf();
    fs::write(
        path.join(LOCK_FILE),
        br#"{"pid":999999,"host":"elsewhere","program":"arca"}"#,
    )
    .unwrap();
    let safe = open(&path, OpenMode::Write).unwrap();
    safe.create_folder(None, "after a crash").unwrap();
}

#[test]
fn a_backup_folder_has_one_writer_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let safe = small_safe(dir.path());
    let target = dir.path().join("backup");
    let held = hold_lock(&target);
    let error = safe
        .backup(
            &target,
            &BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .map(drop)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::LockedByOther {
                what: "the backup",
                ..
            }
        ),
        "{error:?}"
    );
    // Nothing was written into it.
    let entries: Vec<_> = fs::read_dir(&target).unwrap().flatten().collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    drop(held);
    safe.backup(
        &target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();

    // A restore holds the new Safe's lock: a second restore into it is refused.
    let new_safe = dir.path().join("restored.arca");
    let held = hold_lock(&new_safe);
    let error = restore_backup(
        &target,
        Unlock::Password(&password()),
        &test_backoff(),
        &new_safe,
        &JobControl::new(),
        &mut |_| {},
    )
    .map(drop)
    .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::LockedByOther, "{error:?}");
    assert!(!new_safe.join("safe.json").exists());
    drop(held);
    restore_backup(
        &target,
        Unlock::Password(&password()),
        &test_backoff(),
        &new_safe,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
}
