//! The file system around the Safe (issue 9, part 2).
//!
//! Each test performs the attack on the folders a Safe reads from and writes to: links, FIFOs
//! and devices planted in an export target, folders that are not the export's own, import
//! sources swapped between planning and encrypting (the importing process killed after its plan
//! was recorded, the sources swapped, the job resumed), sources that hold the Safe, backup
//! shards that are links to folders outside, permissions, and the cleartext temporary files a
//! crashed export leaves behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::env;
use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use arca_safe::{
    BackupOptions, Content, ImportOptions, ImportReport, ItemProblem, JobControl, JobEvent, Kind,
    OnClash, ProblemKind, Safe, Unlock, restore_backup, verify_backup,
};
use common::child::{assert_killed, describe, pseudo_random, run_child, safe_tree};
use common::hostile::{self, Planted};
use common::{import, new_safe, password, test_backoff, test_open_options};
use uuid::Uuid;

const SAFE: &str = "test.arca";

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(env::var_os(name).unwrap_or_else(|| panic!("{name} is not set")))
}

fn open(path: &Path) -> Safe {
    Safe::open_with(path, Unlock::Password(&password()), &test_open_options()).unwrap()
}

/// The child: runs one operation on the Safe `ARCA_SAFE` (killed at a crash point when
/// `ARCA_CRASH_AT` says so). Does nothing in a normal test run.
#[test]
#[ignore = "the child process of the crash tests in this file; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(common::child::CHILD_OPERATION) else {
        return;
    };
    let safe = open(&env_path("ARCA_SAFE"));
    match operation.as_str() {
        "import" => {
            let report = safe
                .import(
                    &[env_path("ARCA_SOURCE")],
                    &ImportOptions {
                        threads: Some(1),
                        ..ImportOptions::default()
                    },
                    &JobControl::new(),
                    &mut |_| {},
                )
                .unwrap();
            println!("ARCA_IMPORTED {}", report.files);
        }
        "export" => {
            let roots: Vec<Uuid> = safe
                .children(None, false)
                .unwrap()
                .into_iter()
                .map(|item| item.id)
                .collect();
            let report = safe
                .export(
                    &roots,
                    &env_path("ARCA_EXPORT_TO"),
                    OnClash::KeepBoth,
                    &JobControl::new(),
                    &mut |_| {},
                )
                .unwrap();
            println!("ARCA_EXPORTED {}", report.files);
        }
        other => panic!("unknown operation {other}"),
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

/// A character device with the numbers of /dev/null (the tests run as root).
fn mknod_null(path: &Path) -> bool {
    Command::new("mknod")
        .arg(path)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|status| status.success())
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

/// Runs `work` on another thread; fails the test if it does not end within a minute (a FIFO
/// opened for writing or reading would block it for ever).
fn within_a_minute<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(work());
    });
    receiver
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} hung (a FIFO or device was opened?)"))
}

/// A Safe holding `/docs/a.txt`, `/docs/sub/b.txt` and `/top.txt`.
fn small_safe(root: &Path) -> Safe {
    let source = root.join("source");
    fs::create_dir_all(source.join("docs/sub")).unwrap();
    fs::write(source.join("docs/a.txt"), b"alpha").unwrap();
    fs::write(source.join("docs/sub/b.txt"), b"beta").unwrap();
    fs::write(source.join("top.txt"), b"top").unwrap();
    let safe = new_safe(root);
    import(
        &safe,
        &[source.join("docs"), source.join("top.txt")],
        &ImportOptions::default(),
    );
    fs::remove_dir_all(&source).unwrap();
    safe
}

fn roots(safe: &Safe) -> Vec<Uuid> {
    safe.children(None, false)
        .unwrap()
        .into_iter()
        .map(|item| item.id)
        .collect()
}

fn export(safe: &Safe, to: &Path, on_clash: OnClash) -> arca_safe::ExportReport {
    let (safe, items, to) = (safe.clone(), roots(safe), to.to_path_buf());
    within_a_minute("the export", move || {
        safe.export(&items, &to, on_clash, &JobControl::new(), &mut |_| {})
            .unwrap()
    })
}

const VICTIM: &[u8] = b"the person's own file outside the export folder";

#[test]
fn export_never_follows_a_link_planted_where_a_file_or_folder_will_go() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    let outside = root.join("outside");
    fs::create_dir_all(outside.join("folder")).unwrap();
    fs::write(outside.join("victim.txt"), VICTIM).unwrap();
    fs::write(outside.join("folder/a.txt"), VICTIM).unwrap();
    let before = hostile::snapshot(&outside, &[]);
    for on_clash in [OnClash::KeepBoth, OnClash::Replace, OnClash::Skip] {
        let target = root.join(format!("export-{on_clash:?}"));
        fs::create_dir_all(&target).unwrap();
        // Where the file /top.txt and the folder /docs will go.
        symlink(outside.join("victim.txt"), target.join("top.txt")).unwrap();
        symlink(outside.join("folder"), target.join("docs")).unwrap();
        let report = export(&safe, &target, on_clash);
        assert!(report.failed.is_empty(), "{on_clash:?}: {report:?}");
        assert_eq!(
            hostile::snapshot(&outside, &[]),
            before,
            "{on_clash:?}: the link was followed"
        );
        assert_eq!(
            fs::read_link(target.join("top.txt")).unwrap(),
            outside.join("victim.txt")
        );
        assert_eq!(
            fs::read_link(target.join("docs")).unwrap(),
            outside.join("folder")
        );
        match on_clash {
            OnClash::Skip => {
                assert_eq!(report.skipped.len(), 2, "{report:?}");
                assert_eq!(report.files, 0);
            }
            _ => {
                // A link is a clash: exported beside it, under another name.
                assert_eq!(fs::read(target.join("top (2).txt")).unwrap(), b"top");
                assert_eq!(fs::read(target.join("docs (2)/a.txt")).unwrap(), b"alpha");
                assert_eq!(
                    fs::read(target.join("docs (2)/sub/b.txt")).unwrap(),
                    b"beta"
                );
                assert_eq!(report.files, 3);
            }
        }
    }

    // Links deeper down, where a file and a folder inside an exported folder will go: the
    // folder is merged into (Replace), the links are still never followed.
    let target = root.join("export-deep");
    fs::create_dir_all(target.join("docs")).unwrap();
    symlink(outside.join("victim.txt"), target.join("docs/a.txt")).unwrap();
    symlink(outside.join("folder"), target.join("docs/sub")).unwrap();
    let report = export(&safe, &target, OnClash::Replace);
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(
        hostile::snapshot(&outside, &[]),
        before,
        "a link was followed"
    );
    assert_eq!(fs::read(target.join("docs/a (2).txt")).unwrap(), b"alpha");
    assert_eq!(
        fs::read(target.join("docs/sub (2)/b.txt")).unwrap(),
        b"beta"
    );
    assert!(
        fs::symlink_metadata(target.join("docs/a.txt"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_fifo_or_device_in_the_export_target_neither_hangs_it_nor_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    for on_clash in [OnClash::KeepBoth, OnClash::Replace, OnClash::Skip] {
        let target = root.join(format!("export-{on_clash:?}"));
        fs::create_dir_all(target.join("docs")).unwrap();
        mkfifo(&target.join("top.txt"));
        mkfifo(&target.join("docs/a.txt"));
        let device = mknod_null(&target.join("docs/sub"));
        let report = export(&safe, &target, on_clash);
        assert!(report.failed.is_empty(), "{on_clash:?}: {report:?}");
        let kind = |name: &str| fs::symlink_metadata(target.join(name)).unwrap().file_type();
        assert!(kind("top.txt").is_fifo() && kind("docs/a.txt").is_fifo());
        if device {
            assert!(kind("docs/sub").is_char_device());
        }
        match on_clash {
            OnClash::Skip => assert!(!target.join("top (2).txt").exists()),
            _ => {
                assert_eq!(fs::read(target.join("top (2).txt")).unwrap(), b"top");
            }
        }
        if on_clash == OnClash::Replace {
            // Merged into the real folder; the FIFO and the device are clashes.
            assert_eq!(fs::read(target.join("docs/a (2).txt")).unwrap(), b"alpha");
            if device {
                assert_eq!(
                    fs::read(target.join("docs/sub (2)/b.txt")).unwrap(),
                    b"beta"
                );
            }
        }
    }
}

#[test]
fn export_merges_only_into_a_real_folder_and_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    let fresh = |name: &str| {
        let target = root.join(name);
        fs::create_dir_all(target.join("docs")).unwrap();
        fs::write(target.join("docs/mine.txt"), VICTIM).unwrap();
        fs::write(target.join("docs/a.txt"), VICTIM).unwrap();
        target
    };

    // Keep both (the default): the folder that was there is left as it was.
    let target = fresh("keep-both");
    let before = hostile::snapshot(&target.join("docs"), &[]);
    let report = export(&safe, &target, OnClash::KeepBoth);
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(hostile::snapshot(&target.join("docs"), &[]), before);
    assert_eq!(fs::read(target.join("docs (2)/a.txt")).unwrap(), b"alpha");

    // Skip: merged, but nothing that was there is touched.
    let target = fresh("skip");
    let report = export(&safe, &target, OnClash::Skip);
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(fs::read(target.join("docs/a.txt")).unwrap(), VICTIM);
    assert_eq!(fs::read(target.join("docs/mine.txt")).unwrap(), VICTIM);
    assert!(!target.join("docs (2)").exists());

    // Replace, asked for: merged, the file of the same name replaced, the others kept.
    let target = fresh("replace");
    let report = export(&safe, &target, OnClash::Replace);
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(fs::read(target.join("docs/a.txt")).unwrap(), b"alpha");
    assert_eq!(fs::read(target.join("docs/mine.txt")).unwrap(), VICTIM);
    assert!(!target.join("docs (2)").exists());
}

/// Source files for the swap test: `keep.txt` stays as it is, each other is swapped after
/// planning.
const SWAPPED: [&str; 5] = [
    "fifo.txt",
    "link.txt",
    "other.txt",
    "folder.txt",
    "gone.txt",
];

/// Kills an import of `source` right after its plan was recorded; returns the Safe's path.
fn import_killed_after_planning(root: &Path, source: &Path) -> PathBuf {
    let safe_path = root.join(SAFE);
    drop(new_safe(root));
    let output = run_child(
        "import",
        &[
            ("ARCA_SAFE", safe_path.clone().into_os_string()),
            ("ARCA_SOURCE", source.as_os_str().to_owned()),
            ("ARCA_CRASH_AT", OsString::from("1")),
        ],
    );
    assert_killed(&output, "import");
    safe_path
}

/// The problems an observer was told of, and the report.
fn resume(safe: &Safe) -> (ImportReport, Vec<ItemProblem>) {
    let jobs = safe.interrupted_imports().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].files_done, 0, "{jobs:?}");
    let (safe, job) = (safe.clone(), jobs[0].id);
    within_a_minute("resuming the import", move || {
        let mut told = Vec::new();
        let report = safe
            .resume_import(job, &JobControl::new(), &mut |event| {
                if let JobEvent::Problem(problem) = event {
                    told.push(problem.clone());
                }
            })
            .unwrap();
        (report, told)
    })
}

/// A source folder, an import of it killed after planning, and its files swapped: a FIFO, a
/// link to a file outside, another file (a new inode), a folder, and nothing.
fn swapped_sources(root: &Path) -> (Safe, PathBuf) {
    let source = root.join("source");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("keep.txt"), b"kept as it was").unwrap();
    for name in SWAPPED {
        fs::write(source.join(name), format!("original {name}")).unwrap();
    }
    let safe_path = import_killed_after_planning(root, &source);
    let outside = root.join("outside.txt");
    fs::write(&outside, VICTIM).unwrap();
    fs::remove_file(source.join("fifo.txt")).unwrap();
    mkfifo(&source.join("fifo.txt"));
    fs::remove_file(source.join("link.txt")).unwrap();
    symlink(&outside, source.join("link.txt")).unwrap();
    // Written beside it, then renamed over it: certainly another inode.
    let inode = fs::metadata(source.join("other.txt")).unwrap().ino();
    fs::write(source.join("other.new"), b"another file").unwrap();
    fs::rename(source.join("other.new"), source.join("other.txt")).unwrap();
    assert_ne!(fs::metadata(source.join("other.txt")).unwrap().ino(), inode);
    fs::remove_file(source.join("folder.txt")).unwrap();
    fs::create_dir(source.join("folder.txt")).unwrap();
    fs::write(source.join("folder.txt/inside"), b"not planned").unwrap();
    fs::remove_file(source.join("gone.txt")).unwrap();
    (open(&safe_path), source)
}

fn expected_kind(name: &str) -> ProblemKind {
    if name == "gone.txt" {
        ProblemKind::Unreadable
    } else {
        ProblemKind::ChangedSinceScan
    }
}

#[test]
fn sources_swapped_after_planning_do_not_hang_the_import_and_are_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (safe, _source) = swapped_sources(root);
    let (report, told) = resume(&safe);
    assert_eq!(report.files, 1, "{report:?}");
    assert_eq!(report.failed.len(), SWAPPED.len(), "{report:?}");
    // Each is named as it happens, with what happened to it.
    for name in SWAPPED {
        let problem = told
            .iter()
            .find(|problem| problem.path.as_deref().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} was not reported: {told:?}"));
        assert_eq!(problem.kind, expected_kind(name), "{name}: {problem:?}");
        assert!(
            report
                .failed
                .iter()
                .any(|failed| failed.path.as_deref().is_some_and(|p| p.ends_with(name))),
            "{name} is not in the report: {report:?}"
        );
    }
    // The Safe holds the one file that was still the one planned, and nothing pending.
    let tree = safe_tree(&safe, None);
    let paths: Vec<&str> = tree.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(paths, ["source", "source/keep.txt"], "{tree:?}");
    assert_eq!(tree[1].1.content, Content::Present);
    assert_eq!(
        safe.read(tree[1].1.id).unwrap().as_slice(),
        b"kept as it was"
    );
    assert!(safe.interrupted_imports().unwrap().is_empty());
    assert_eq!(fs::read(root.join("outside.txt")).unwrap(), VICTIM);
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{check:?}");
}

#[test]
fn the_report_of_a_resumed_import_keeps_what_happened_to_each_source() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _source) = swapped_sources(dir.path());
    let (report, _) = resume(&safe);
    for name in SWAPPED {
        let problem = report
            .failed
            .iter()
            .find(|problem| problem.path.as_deref().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} is not in the report: {report:?}"));
        assert_eq!(problem.kind, expected_kind(name), "{name}: {problem:?}");
    }
}

#[test]
fn links_fifos_and_devices_among_the_sources_are_reported_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let source = root.join("source");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("plain.txt"), b"plain").unwrap();
    fs::write(root.join("outside.txt"), VICTIM).unwrap();
    symlink(root.join("outside.txt"), source.join("link.txt")).unwrap();
    symlink(root, source.join("link-to-folder")).unwrap();
    mkfifo(&source.join("fifo"));
    let device = mknod_null(&source.join("device"));
    let safe = new_safe(root);
    let (safe2, sources) = (
        safe.clone(),
        vec![source.clone(), source.join("link.txt"), source.join("fifo")],
    );
    let report = within_a_minute("the import", move || {
        safe2
            .import(
                &sources,
                &ImportOptions::default(),
                &JobControl::new(),
                &mut |_| {},
            )
            .unwrap()
    });
    let expected = if device { 6 } else { 5 };
    assert_eq!(report.failed.len(), expected, "{report:?}");
    for problem in &report.failed {
        assert_eq!(problem.kind, ProblemKind::NotARegularFile, "{problem:?}");
    }
    assert_eq!(report.files, 1);
    let paths: Vec<String> = safe_tree(&safe, None)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(paths, ["source", "source/plain.txt"]);
}

#[test]
fn a_source_that_holds_the_safe_or_lies_inside_it_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("good.txt"), b"good").unwrap();
    let safe = new_safe(root);
    let safe_dir = root.join(SAFE);
    symlink(&safe_dir, root.join("link-to-safe")).unwrap();
    let data_files = || hostile::snapshot(&safe_dir.join("files"), &[]);
    let files_before = data_files();
    for source in [
        root.to_path_buf(),
        safe_dir.clone(),
        safe_dir.join("safe.json"),
        safe_dir.join("files"),
        safe_dir.join("files/00"),
        safe_dir.join("files/../attributes.db"),
        root.join("link-to-safe"),
        root.join(".").join(SAFE).join("."),
    ] {
        let error = safe
            .import(
                &[root.join("good.txt"), source.clone()],
                &ImportOptions::default(),
                &JobControl::new(),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(
            matches!(error, arca_safe::Error::SourceInSafe(_)),
            "{}: {error:?}",
            source.display()
        );
        assert_eq!(error.kind(), arca_safe::ErrorKind::InvalidInput);
        assert!(safe.children(None, true).unwrap().is_empty());
        assert!(safe.interrupted_imports().unwrap().is_empty());
        assert_eq!(data_files(), files_before);
    }
}

/// The errors of an export of `id` to `target` and of a backup to it, both to be refused.
fn export_and_backup_errors(safe: &Safe, id: Uuid, target: &Path) -> [arca_safe::Error; 2] {
    let exported = safe.export(
        &[id],
        target,
        OnClash::KeepBoth,
        &JobControl::new(),
        &mut |_| {},
    );
    let backed_up = safe.backup(
        target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    );
    [
        exported.map(drop).unwrap_err(),
        backed_up.map(drop).unwrap_err(),
    ]
}

fn back_up(safe: &Safe, target: &Path) {
    safe.backup(
        target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
}

/// Exporting or backing up into the Safe's own folder would put cleartext among the ciphertext,
/// or a backup where it is lost with the Safe: refused before anything is written, however the
/// folder is named.
#[test]
fn an_export_or_backup_into_the_safe_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("good.txt"), b"good cleartext").unwrap();
    let safe = new_safe(root);
    import(&safe, &[root.join("good.txt")], &ImportOptions::default());
    let id = safe.resolve("/good.txt").unwrap().unwrap().id;
    let safe_dir = root.join(SAFE);
    symlink(&safe_dir, root.join("link-to-safe")).unwrap();
    let database: Vec<PathBuf> = ["attributes.db", "attributes.db-wal", "attributes.db-shm"]
        .into_iter()
        .map(|name| safe_dir.join(name))
        .collect();
    let skip: Vec<&Path> = database.iter().map(PathBuf::as_path).collect();
    let before = hostile::snapshot(&safe_dir, &skip);
    for target in [
        safe_dir.clone(),
        safe_dir.join("out"),
        safe_dir.join("files/new/deeper"),
        root.join("link-to-safe/out"),
        root.join(".").join(SAFE).join("files/.."),
    ] {
        for error in export_and_backup_errors(&safe, id, &target) {
            assert!(
                matches!(error, arca_safe::Error::TargetInSafe(_)),
                "{}: {error:?}",
                target.display()
            );
            assert_eq!(error.kind(), arca_safe::ErrorKind::InvalidInput);
        }
        assert_eq!(
            hostile::snapshot(&safe_dir, &skip),
            before,
            "{}",
            target.display()
        );
    }
    // Beside the Safe is fine.
    export(&safe, &root.join("out"), OnClash::KeepBoth);
    assert_eq!(
        fs::read(root.join("out/good.txt")).unwrap(),
        b"good cleartext"
    );
}

/// A file where the export or backup folder should be is named as such, not as "File exists",
/// and is left as it was.
#[test]
fn an_export_or_backup_onto_a_file_says_a_file_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("good.txt"), b"good").unwrap();
    let safe = new_safe(root);
    import(&safe, &[root.join("good.txt")], &ImportOptions::default());
    let id = safe.resolve("/good.txt").unwrap().unwrap().id;
    let file = root.join("a file");
    fs::write(&file, b"mine").unwrap();
    for error in export_and_backup_errors(&safe, id, &file) {
        assert!(
            error.to_string().contains("a file is there, not a folder"),
            "{error}"
        );
    }
    assert_eq!(fs::read(&file).unwrap(), b"mine");
}

/// A Safe restored into the folder of its own backup would be lost with the backup.
#[test]
fn a_restore_into_the_backup_folder_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_safe(dir.path());
    let backup = dir.path().join("backup");
    back_up(&safe, &backup);
    let before = hostile::snapshot(&backup, &[]);
    for new_safe in [
        backup.clone(),
        backup.join("restored"),
        backup.join("items/x"),
    ] {
        let error = restore_backup(
            &backup,
            Unlock::Password(&password()),
            &test_backoff(),
            &new_safe,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(error, arca_safe::Error::TargetInBackup(_)),
            "{}: {error:?}",
            new_safe.display()
        );
        assert_eq!(hostile::snapshot(&backup, &[]), before);
    }
}

/// A new Safe made or restored inside another Safe's folder or a backup's would be lost with
/// that folder: refused, and nothing is created.
#[test]
fn a_new_safe_inside_a_safe_or_a_backup_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_safe(dir.path());
    let safe_dir = dir.path().join(SAFE);
    let backup = dir.path().join("backup");
    back_up(&safe, &backup);
    let iterations = arca_cryptor::Iterations::new(1_000).unwrap();
    for (inside, in_safe) in [
        (safe_dir.join("inner"), true),
        (safe_dir.join("files/00/inner"), true),
        (dir.path().join("other/../test.arca/inner"), true),
        (backup.join("items/inner"), false),
    ] {
        let created = Safe::create(&inside, &password(), iterations).map(drop);
        let restored = restore_backup(
            &backup,
            Unlock::Password(&password()),
            &test_backoff(),
            &inside,
            &JobControl::new(),
            &mut |_| {},
        )
        .map(drop);
        for error in [created, restored] {
            let error = error.unwrap_err();
            let refused = if in_safe {
                matches!(error, arca_safe::Error::TargetInSafe(_))
            } else {
                matches!(error, arca_safe::Error::TargetInBackup(_))
            };
            assert!(refused, "{}: {error:?}", inside.display());
        }
        assert!(!inside.exists(), "{}", inside.display());
    }
}

/// A shard name (two hex digits) not used in `dir` yet.
fn free_shard(dir: &Path) -> String {
    (0..=255u8)
        .map(|n| format!("{n:02x}"))
        .find(|name| !dir.join(name).exists())
        .unwrap()
}

fn uuid_in_shard(shard: &str) -> Uuid {
    loop {
        let id = Uuid::new_v4();
        if id.as_hyphenated().to_string().starts_with(shard) {
            return id;
        }
    }
}

struct PlantedShards {
    outside: PathBuf,
    items_shard: String,
    files_shard: String,
    /// A valid record (sealed with the backup's keys) of a folder, reachable only through the
    /// link.
    through_link: Planted,
}

/// Links `items/XX` and `files/YY` of a backup to folders outside holding a valid record and a
/// data file (named as the backup names them), and adds a real shard folder with a name that
/// is not two hex digits.
fn plant_shard_links(root: &Path, backup: &Path) -> PlantedShards {
    let outside = root.join("outside");
    let items_shard = free_shard(&backup.join("items"));
    let files_shard = free_shard(&backup.join("files"));
    let keys = hostile::record_keys(backup, &password());
    let template = hostile::template(backup, &keys, "a.txt");
    let mut through_link = Planted::folder("through-link", None);
    through_link.id = uuid_in_shard(&items_shard);
    fs::create_dir_all(outside.join("items")).unwrap();
    fs::create_dir_all(outside.join("files")).unwrap();
    let record = hostile::record_path(backup, through_link.id);
    fs::write(
        outside.join("items").join(record.file_name().unwrap()),
        hostile::seal(&keys, &hostile::item_xml(&through_link, &template)),
    )
    .unwrap();
    let data = hostile::data_path(backup, uuid_in_shard(&files_shard));
    fs::write(
        outside.join("files").join(data.file_name().unwrap()),
        VICTIM,
    )
    .unwrap();
    symlink(
        outside.join("items"),
        backup.join("items").join(&items_shard),
    )
    .unwrap();
    symlink(
        outside.join("files"),
        backup.join("files").join(&files_shard),
    )
    .unwrap();
    fs::create_dir_all(backup.join("items/zz")).unwrap();
    fs::write(backup.join("items/zz/kept.xml.crypt"), VICTIM).unwrap();
    PlantedShards {
        outside,
        items_shard,
        files_shard,
        through_link,
    }
}

fn run_backup(safe: &Safe, backup: &Path) -> (arca_safe::BackupReport, Vec<ItemProblem>) {
    let mut told = Vec::new();
    let report = safe
        .backup(
            backup,
            &BackupOptions::default(),
            &JobControl::new(),
            &mut |event| {
                if let JobEvent::Problem(problem) = event {
                    told.push(problem.clone());
                }
            },
        )
        .unwrap();
    (report, told)
}

#[test]
fn backup_shards_that_are_links_are_never_entered_and_nothing_outside_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    let backup = root.join("backup");
    run_backup(&safe, &backup);
    let planted = plant_shard_links(root, &backup);
    let before = hostile::snapshot(&planted.outside, &[]);
    // Items deleted from the Safe since: the run removes their files, but only in its own
    // shards.
    let top = safe.resolve("/top.txt").unwrap().unwrap().id;
    safe.trash(top).unwrap();
    safe.empty_trash().unwrap();
    run_backup(&safe, &backup);
    run_backup(&safe, &backup);
    assert_eq!(
        hostile::snapshot(&planted.outside, &[]),
        before,
        "the run deleted or changed files through a link"
    );
    for link in [
        backup.join("items").join(&planted.items_shard),
        backup.join("files").join(&planted.files_shard),
    ] {
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }
    assert_eq!(
        fs::read(backup.join("items/zz/kept.xml.crypt")).unwrap(),
        VICTIM
    );

    // Verify lists each, and never reads the record behind the link.
    let report = verify_backup(
        &backup,
        Unlock::Password(&password()),
        &test_backoff(),
        true,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    for shard in [
        format!("items/{}", planted.items_shard),
        format!("files/{}", planted.files_shard),
        "items/zz".to_owned(),
    ] {
        assert!(
            report
                .problems
                .iter()
                .any(|problem| problem.kind == ProblemKind::StrayFile
                    && problem.file.as_deref() == Some(shard.as_str())),
            "{shard} not reported: {:#?}",
            report.problems
        );
    }
    assert!(
        !report
            .problems
            .iter()
            .any(|problem| problem.item == Some(planted.through_link.id))
    );

    // Restore reads nothing through the link either.
    let restored = root.join("restored.arca");
    restore_backup(
        &backup,
        Unlock::Password(&password()),
        &test_backoff(),
        &restored,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    let restored = open(&restored);
    let names: Vec<String> = safe_tree(&restored, None)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(names, ["docs", "docs/a.txt", "docs/sub", "docs/sub/b.txt"]);
    assert_eq!(hostile::snapshot(&planted.outside, &[]), before);
}

#[test]
fn a_backup_run_reports_shards_that_are_links() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    let backup = root.join("backup");
    run_backup(&safe, &backup);
    let planted = plant_shard_links(root, &backup);
    let (report, told) = run_backup(&safe, &backup);
    for shard in [
        format!("items/{}", planted.items_shard),
        format!("files/{}", planted.files_shard),
        "items/zz".to_owned(),
    ] {
        assert!(
            told.iter().any(|problem| problem
                .file
                .as_deref()
                .is_some_and(|file| file.ends_with(&shard))),
            "the run did not report {shard}: {told:?}"
        );
        assert!(
            report
                .strays
                .iter()
                .any(|problem| problem.kind == ProblemKind::StrayFile
                    && problem.file.as_deref() == Some(shard.as_str())),
            "{shard} is not in the run's report: {:?}",
            report.strays
        );
    }
    assert!(report.failed.is_empty(), "{report:?}");
}

#[test]
fn a_new_safes_files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    let safe_dir = root.join(SAFE);
    // While it is open (the -wal and -shm files exist).
    assert!(safe_dir.join("attributes.db-wal").exists());
    for name in [
        "attributes.db",
        "attributes.db-wal",
        "attributes.db-shm",
        "safe.key",
        "safe.json",
        "writer.lock",
    ] {
        assert_eq!(mode(&safe_dir.join(name)), 0o600, "{name}");
    }
    for (path, item) in safe_tree(&safe, None) {
        if item.kind == Kind::File {
            assert_eq!(mode(&safe.layout().data_file(item.id)), 0o600, "{path}");
        }
    }
    assert_eq!(mode(&safe_dir), 0o700);

    // A database made readable by someone (or an older version) is private again once the
    // Safe is opened for writing.
    drop(safe);
    for name in ["attributes.db", "attributes.db-wal", "attributes.db-shm"] {
        let path = safe_dir.join(name);
        if path.exists() {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let _safe = open(&safe_dir);
    for name in ["attributes.db", "attributes.db-wal", "attributes.db-shm"] {
        assert_eq!(mode(&safe_dir.join(name)), 0o600, "{name} after reopening");
    }
}

#[test]
fn a_new_safes_folders_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let safe = small_safe(dir.path());
    let files = safe.layout().files_dir();
    assert_eq!(mode(safe.layout().root()), 0o700);
    assert_eq!(mode(&files), 0o700, "files/");
    for shard in fs::read_dir(&files).unwrap() {
        let shard = shard.unwrap().path();
        assert_eq!(mode(&shard), 0o700, "{}", shard.display());
    }
}

/// Files below `dir` whose names end in `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    hostile::snapshot(dir, &[])
        .into_iter()
        .map(|(path, _)| dir.join(path))
        .filter(|path| path.to_string_lossy().ends_with(suffix))
        .collect()
}

#[test]
fn temporary_files_are_private_from_the_moment_they_are_created() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let source = root.join("source");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("big.bin"), pseudo_random(7, 3 << 20)).unwrap();
    // An import killed at its first write of a data file leaves that temporary file.
    let safe_path = root.join(SAFE);
    drop(new_safe(root));
    let output = run_child(
        "import",
        &[
            ("ARCA_SAFE", safe_path.clone().into_os_string()),
            ("ARCA_SOURCE", source.clone().into_os_string()),
            ("ARCA_CRASH_AT", OsString::from("2")),
        ],
    );
    assert_killed(&output, "import");
    let temporaries = files_ending(&safe_path.join("files"), ".tmp");
    assert_eq!(
        temporaries.len(),
        1,
        "{temporaries:?}\n{}",
        describe(&output)
    );
    assert_eq!(mode(&temporaries[0]), 0o600, "{}", temporaries[0].display());

    // Finished, then exported by a process killed at its first write: the cleartext's
    // temporary file it leaves is private, and named so the next export finds it.
    let safe = open(&safe_path);
    let job = safe.interrupted_imports().unwrap()[0].id;
    safe.resume_import(job, &JobControl::new(), &mut |_| {})
        .unwrap();
    drop(safe);
    let target = root.join("export");
    let output = run_child(
        "export",
        &[
            ("ARCA_SAFE", safe_path.clone().into_os_string()),
            ("ARCA_EXPORT_TO", target.clone().into_os_string()),
            ("ARCA_CRASH_AT", OsString::from("1")),
        ],
    );
    assert_killed(&output, "export");
    let partial = files_ending(&target, arca_cryptor::PARTIAL_EXPORT_SUFFIX);
    assert_eq!(partial.len(), 1, "{partial:?}\n{}", describe(&output));
    assert_eq!(mode(&partial[0]), 0o600, "{}", partial[0].display());
    assert!(
        partial[0]
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with('.')
    );
}

#[test]
fn stale_partial_exports_are_removed_by_the_next_export_and_nothing_else_is() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe_path = {
        let safe = small_safe(root);
        safe.layout().root().to_path_buf()
    };
    let target = root.join("export");
    // A real leftover: an export killed while it wrote.
    let output = run_child(
        "export",
        &[
            ("ARCA_SAFE", safe_path.clone().into_os_string()),
            ("ARCA_EXPORT_TO", target.clone().into_os_string()),
            ("ARCA_CRASH_AT", OsString::from("1")),
        ],
    );
    assert_killed(&output, "export");
    let crashed = files_ending(&target, arca_cryptor::PARTIAL_EXPORT_SUFFIX);
    assert_eq!(crashed.len(), 1, "{crashed:?}");
    // Others planted: deeper down, and things that only look like leftovers.
    fs::create_dir_all(target.join("older/deeper")).unwrap();
    let stale = [
        target.join(".report.pdf.0a1b2c3d4e5f.arca-partial"),
        target.join("older/deeper/.x.ffffffffffff.arca-partial"),
    ];
    for path in &stale {
        fs::write(path, b"cleartext left by a crash").unwrap();
    }
    let outside = root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join(".victim.arca-partial"), VICTIM).unwrap();
    fs::write(outside.join("victim.txt"), VICTIM).unwrap();
    let kept = [
        target.join("visible.arca-partial"),
        target.join("notes.arca-partial.txt"),
    ];
    for path in &kept {
        fs::write(path, VICTIM).unwrap();
    }
    fs::create_dir(target.join(".folder.arca-partial")).unwrap();
    symlink(
        outside.join("victim.txt"),
        target.join(".link.arca-partial"),
    )
    .unwrap();
    symlink(&outside, target.join("link-to-outside")).unwrap();
    let outside_before = hostile::snapshot(&outside, &[]);

    let safe = open(&safe_path);
    let report = export(&safe, &target, OnClash::KeepBoth);
    assert!(report.failed.is_empty(), "{report:?}");
    for path in crashed.iter().chain(&stale) {
        assert!(!path.exists(), "{} was not removed", path.display());
    }
    for path in &kept {
        assert_eq!(fs::read(path).unwrap(), VICTIM, "{}", path.display());
    }
    assert!(target.join(".folder.arca-partial").is_dir());
    assert!(
        fs::symlink_metadata(target.join(".link.arca-partial"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(hostile::snapshot(&outside, &[]), outside_before);
}

#[test]
fn a_folder_swapped_for_a_link_during_an_export_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let source = root.join("source/docs");
    fs::create_dir_all(&source).unwrap();
    for index in 0..24u8 {
        fs::write(
            source.join(format!("part-{index:02}.bin")),
            vec![index; 4 << 20],
        )
        .unwrap();
    }
    let safe = new_safe(root);
    import(
        &safe,
        std::slice::from_ref(&source),
        &ImportOptions::default(),
    );
    let outside = root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let target = root.join("export");
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    let mut swapped = false;
    // Between two files (the observer runs on the export's own thread), the folder the export
    // created is moved away and a link to a folder outside put in its place — what another
    // program writing to the same folder could do.
    let report = safe.export(
        &[docs],
        &target,
        OnClash::KeepBoth,
        &JobControl::new(),
        &mut |event| {
            if let JobEvent::Progress(progress) = event
                && !swapped
                && progress.files_done >= 1
                && progress.files_done < progress.files_total
            {
                fs::rename(target.join("docs"), target.join("docs-moved")).unwrap();
                symlink(&outside, target.join("docs")).unwrap();
                swapped = true;
            }
        },
    );
    assert!(swapped, "the export ended before the swap");
    let written: Vec<_> = fs::read_dir(&outside).unwrap().flatten().collect();
    assert!(
        written.is_empty(),
        "the export wrote through the link: {written:?} ({report:?})"
    );
}

#[test]
fn an_export_beside_an_unfinished_import_leaves_out_only_its_pending_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let source = root.join("source");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("pending.txt"), b"not stored yet").unwrap();
    let safe_path = import_killed_after_planning(root, &source);
    let safe = open(&safe_path);
    let extra = root.join("extra");
    fs::create_dir_all(&extra).unwrap();
    fs::write(extra.join("stored.txt"), b"stored").unwrap();
    import(&safe, &[extra], &ImportOptions::default());
    let target = root.join("export");
    let report = export(&safe, &target, OnClash::KeepBoth);
    assert_eq!(report.files, 1, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].kind, ProblemKind::Pending, "{report:?}");
    assert_eq!(
        fs::read(target.join("extra/stored.txt")).unwrap(),
        b"stored"
    );
    assert!(!target.join("source/pending.txt").exists());
}

#[test]
fn a_source_folder_swapped_for_a_link_after_planning_is_not_read_through() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let source = root.join("source");
    fs::create_dir_all(source.join("sub")).unwrap();
    fs::write(source.join("keep.txt"), b"kept").unwrap();
    fs::write(source.join("sub/inner.txt"), b"planned").unwrap();
    let safe_path = import_killed_after_planning(root, &source);
    // The folder is moved away, and a link to a folder outside with a file of the same name
    // put in its place.
    let outside = root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("inner.txt"), VICTIM).unwrap();
    fs::rename(source.join("sub"), root.join("moved")).unwrap();
    symlink(&outside, source.join("sub")).unwrap();
    let safe = open(&safe_path);
    let (report, told) = resume(&safe);
    assert_eq!(report.files, 1, "{report:?}");
    let problem = told
        .iter()
        .find(|problem| {
            problem
                .path
                .as_deref()
                .is_some_and(|path| path.ends_with("inner.txt"))
        })
        .unwrap_or_else(|| panic!("inner.txt not reported: {told:?}"));
    assert_eq!(problem.kind, ProblemKind::ChangedSinceScan, "{problem:?}");
    for (path, item) in safe_tree(&safe, None) {
        if item.kind == Kind::File {
            assert_ne!(
                safe.read(item.id).unwrap().as_slice(),
                VICTIM,
                "{path}: read through the link"
            );
        }
    }
}

#[test]
fn a_backup_run_never_writes_through_a_shard_that_was_swapped_for_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let safe = small_safe(root);
    let backup = root.join("backup");
    run_backup(&safe, &backup);
    // The shard holding top.txt's record is moved outside and a link put in its place.
    let top = safe.resolve("/top.txt").unwrap().unwrap().id;
    let record = hostile::record_path(&backup, top);
    let shard = record.parent().unwrap().to_path_buf();
    let outside = root.join("outside-shard");
    fs::rename(&shard, &outside).unwrap();
    symlink(&outside, &shard).unwrap();
    let moved = outside.join(record.file_name().unwrap());
    let before = fs::read(&moved).unwrap();

    // Its record must be written again, and is not: the run stops, naming the link.
    safe.set_comment(top, "changed since the last run").unwrap();
    let refused = safe
        .backup(
            &backup,
            &BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .expect_err("a run wrote through a link");
    assert!(refused.to_string().contains("is a link"), "{refused}");
    assert_eq!(fs::read(&moved).unwrap(), before);
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
}
