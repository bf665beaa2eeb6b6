//! A full disk or another write error during import, export and taking back a file edited in
//! another app: a clear error naming the problem, a Safe that opens with everything present
//! before unchanged, no temporary file left, and the job completes once the problem is gone.
//!
//! The disk fills up in a child process (`child_main`, this test binary re-executed) through
//! the `crash-points` hook `ARCA_DISK_FULL_AFTER=n`: once n bytes went through atomic-file
//! writes (data files, exported files), every further write fails with "no space left on
//! device". The limit holds for the child's whole life, as a full disk stays full; the parent,
//! which has no limit, is the machine after space was freed. The database's own writes do not
//! pass the hook, so the fill-ups tried here hit the data and exported files, where the bytes are.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Output;

use arca_cryptor::format::{BLOCK_LEN, HMAC_LEN, KEY_HEADER_LEN};
use arca_safe::{Error, ImportOptions, JobControl, Kind, OnClash, Problem, Safe, SecureArea};
use common::child::*;
use common::*;
use tempfile::TempDir;

const SAFE: &str = "test.arca";
const MARKER: &str = "CLEARTEXT-MARKER-diskfull-93c1";
/// Names used in the fixtures, none of which may show in the Safe's bytes.
const NAMES: [&str; 8] = [
    "incoming",
    "letters",
    "holiday-file",
    "empty folder",
    "big-scan.bin",
    "kept-existing",
    "documents",
    "quarterly",
];

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(env::var_os(name).unwrap_or_else(|| panic!("{name} is not set")))
}

/// The child: runs `import` or `export` on `ARCA_SAFE` and prints its outcome; a failure is
/// printed, not panicked on, so the parent can check what the user would see.
#[test]
#[ignore = "the child process of the disk-full tests; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(CHILD_OPERATION) else {
        return;
    };
    let safe = Safe::open(&env_path("ARCA_SAFE"), &password()).unwrap();
    let threads = env::var("ARCA_THREADS").ok().map(|n| n.parse().unwrap());
    let result = match operation.as_str() {
        "import" => safe
            .import(
                &[env_path("ARCA_SOURCE")],
                &ImportOptions {
                    threads,
                    ..ImportOptions::default()
                },
                &JobControl::new(),
                &mut |_| {},
            )
            .map(|report| format!("{} files, failed {:?}", report.files, report.failed)),
        "export" => {
            let documents = safe.resolve("/documents").unwrap().unwrap().id;
            safe.export(
                &[documents],
                &env_path("ARCA_EXPORT_TO"),
                OnClash::KeepBoth,
                &JobControl::new(),
                &mut |_| {},
            )
            .map(|report| format!("{} files, failed {:?}", report.files, report.failed))
        }
        // A file opened in another app is saved there, and its save cannot be taken back.
        "take-back" => {
            let area = SecureArea::create_under(&env_path("ARCA_RAM_BASE")).unwrap();
            let item = safe.resolve("/letter.txt").unwrap().unwrap().id;
            let mut edit = area.open_copy(&safe, item).unwrap();
            fs::copy(env_path("ARCA_NEW_CONTENT"), edit.file()).unwrap();
            let outcome = safe.take_back(&mut edit);
            if edit.has_changes() {
                area.keep();
            }
            outcome.map(|taken| format!("{taken:?}"))
        }
        other => panic!("unknown operation {other}"),
    };
    match result {
        Ok(report) => println!("ARCA_OUTCOME completed: {report}"),
        Err(error) => {
            match &error {
                Error::Io { path, error } => {
                    println!("ARCA_IO_KIND {:?}", error.kind());
                    println!("ARCA_IO_PATH {}", path.display());
                }
                Error::StoreIo { item, error } => {
                    println!("ARCA_IO_KIND {:?}", error.kind());
                    println!("ARCA_IO_PATH {}", item.clone().unwrap_or_default());
                }
                _ => {}
            }
            println!("ARCA_MESSAGE {error}");
            println!("ARCA_OUTCOME failed");
        }
    }
}

/// What the user was told, from the child's output.
struct Failure {
    kind: String,
    path: PathBuf,
    message: String,
}

fn failure(output: &Output, context: &str) -> Failure {
    assert_succeeded(output);
    assert_eq!(
        child_value(output, "ARCA_OUTCOME").as_deref(),
        Some("failed"),
        "{context}: the operation did not fail: {}",
        describe(output)
    );
    Failure {
        kind: child_value(output, "ARCA_IO_KIND").unwrap_or_default(),
        path: PathBuf::from(child_value(output, "ARCA_IO_PATH").unwrap_or_default()),
        message: child_value(output, "ARCA_MESSAGE").unwrap(),
    }
}

fn assert_disk_full(failure: &Failure, context: &str) {
    assert_eq!(
        failure.kind, "StorageFull",
        "{context}: {}",
        failure.message
    );
    assert!(
        failure.message.contains("no space left on device"),
        "{context}: the message does not say the disk is full: {}",
        failure.message
    );
}

/// The size of a data file holding `cleartext` bytes (RNCryptor v3, key mode).
fn data_file_len(cleartext: u64) -> u64 {
    KEY_HEADER_LEN as u64 + (cleartext / BLOCK_LEN as u64 + 1) * BLOCK_LEN as u64 + HMAC_LEN as u64
}

/// Byte budgets for a job that writes `total` bytes: nothing at all, a few bytes, inside the
/// job at several places, and one byte short of the end.
fn budgets(total: u64) -> Vec<u64> {
    vec![
        0,
        1,
        100,
        total / 5,
        total / 3,
        total / 2,
        total * 4 / 5,
        total - 1,
    ]
}

/// A Safe that already holds files, to copy for every run.
struct Fixture {
    dir: TempDir,
    /// Every file in the Safe, with its bytes.
    existing: Existing,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("kept-existing");
        for (index, size) in [0usize, 1, 17, 4_096, 70_000].into_iter().enumerate() {
            let mut bytes = MARKER.as_bytes().to_vec();
            bytes.extend(pseudo_random(index as u64, size));
            fs::create_dir_all(&seed).unwrap();
            fs::write(seed.join(format!("holiday-file-{index}.bin")), bytes).unwrap();
        }
        let safe = new_safe(dir.path());
        import(
            &safe,
            std::slice::from_ref(&seed),
            &ImportOptions::default(),
        );
        fs::remove_dir_all(&seed).unwrap();
        let mut fixture = Self {
            dir,
            existing: Existing::default(),
        };
        fixture.snapshot(&safe);
        fixture
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn open(&self) -> Safe {
        Safe::open(&self.path().join(SAFE), &password()).unwrap()
    }

    fn snapshot(&mut self, safe: &Safe) {
        self.existing = Existing::of(safe);
    }

    fn instance(&self) -> TempDir {
        instance_of(self.path())
    }

    fn assert_existing_intact(&self, safe: &Safe, context: &str) {
        self.existing.assert_intact(safe, context);
    }
}

fn leak_markers() -> Vec<&'static [u8]> {
    let mut texts = vec![MARKER];
    texts.extend(NAMES);
    markers(&texts)
}

/// Files of many sizes in nested folders, one of them large, and an empty folder.
fn import_source(root: &Path) -> (PathBuf, u64) {
    let source = root.join("incoming");
    fs::create_dir_all(source.join("empty folder")).unwrap();
    let mut written = 0;
    for index in 0..24usize {
        let folder = match index % 3 {
            0 => source.clone(),
            1 => source.join("letters"),
            _ => source.join("letters/quarterly"),
        };
        fs::create_dir_all(&folder).unwrap();
        let mut bytes = MARKER.as_bytes().to_vec();
        bytes.extend(pseudo_random(
            index as u64,
            [0, 1, 15, 16, 17, 100, 4_096, 30_000][index % 8],
        ));
        written += data_file_len(bytes.len() as u64);
        fs::write(folder.join(format!("holiday-file-{index:02}.txt")), bytes).unwrap();
    }
    let big = [MARKER.as_bytes(), &pseudo_random(99, 1 << 20)].concat();
    written += data_file_len(big.len() as u64);
    fs::write(source.join("big-scan.bin"), big).unwrap();
    (source, written)
}

#[test]
fn disk_full_during_import_loses_nothing_and_the_job_resumes() {
    let fixture = Fixture::new();
    let (_, total) = import_source(fixture.path());
    let mut runs = 0;
    for budget in budgets(total) {
        for threads in ["1", "2"] {
            let context =
                format!("import, disk full after {budget} of {total} bytes, {threads} threads");
            let instance = fixture.instance();
            let safe_path = instance.path().join(SAFE);
            let source = instance.path().join("incoming");
            let output = run_child(
                "import",
                &[
                    ("ARCA_SAFE", safe_path.clone().into_os_string()),
                    ("ARCA_SOURCE", source.clone().into_os_string()),
                    ("ARCA_THREADS", OsString::from(threads)),
                    ("ARCA_DISK_FULL_AFTER", OsString::from(budget.to_string())),
                ],
            );
            let failure = failure(&output, &context);
            assert_disk_full(&failure, &context);
            // The item being imported is named, never a path inside the Safe's store.
            assert!(
                failure.path.starts_with(&source),
                "{context}: the error names {} instead of the file being imported",
                failure.path.display()
            );
            assert!(
                !failure.message.contains("/files/"),
                "{context}: {}",
                failure.message
            );

            let safe = Safe::open(&safe_path, &password())
                .unwrap_or_else(|error| panic!("{context}: the Safe does not open: {error}"));
            fixture.assert_existing_intact(&safe, &context);
            assert_eq!(temporaries(&safe_path), Vec::<PathBuf>::new(), "{context}");
            let jobs = safe.interrupted_imports().unwrap();
            assert_eq!(jobs.len(), 1, "{context}: the job is not kept for resuming");
            let found = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert!(
                matches!(found.problems.as_slice(), [Problem::InterruptedImport { job, .. }] if *job == jobs[0].id),
                "{context}: {:?}",
                found.problems
            );
            // What was imported before the disk filled up is whole and readable.
            let folder = safe.resolve("/incoming").unwrap().unwrap().id;
            for (path, item) in safe_tree(&safe, Some(folder)) {
                if item.kind == Kind::File && item.content == arca_safe::Content::Present {
                    let read = safe.read(item.id).unwrap();
                    assert!(
                        read.as_slice() == fs::read(source.join(&path)).unwrap().as_slice(),
                        "{context}: {path} has other bytes"
                    );
                }
            }
            assert_no_leaks(&safe_path, &leak_markers());

            // Space is back: the job finishes.
            let report = safe
                .resume_import(jobs[0].id, &JobControl::new(), &mut |_| {})
                .unwrap_or_else(|error| panic!("{context}: resume failed: {error}"));
            assert!(report.failed.is_empty(), "{context}: {report:?}");
            assert!(safe.interrupted_imports().unwrap().is_empty(), "{context}");
            assert_same_tree(&safe, folder, &source, &context);
            fixture.assert_existing_intact(&safe, &context);
            let after = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert!(after.is_clean(), "{context}: {:?}", after.problems);
            assert_eq!(temporaries(&safe_path), Vec::<PathBuf>::new(), "{context}");
            assert_no_leaks(&safe_path, &leak_markers());
            runs += 1;
        }
    }
    println!("import: {runs} disk-full runs");
}

/// Every file below `dir` by relative path, for comparing the Safe's folder before and after.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .map(|(path, bytes)| (path.to_string_lossy().into_owned(), bytes))
        .collect()
}

#[test]
fn disk_full_during_export_leaves_only_whole_files_and_the_export_completes_later() {
    let mut fixture = Fixture::new();
    let seed = fixture.path().join("documents");
    fs::create_dir_all(seed.join("quarterly/empty folder")).unwrap();
    let mut total = 0;
    for index in 0..16usize {
        let folder = if index % 4 == 3 {
            seed.join("quarterly")
        } else {
            seed.clone()
        };
        let mut bytes = MARKER.as_bytes().to_vec();
        bytes.extend(pseudo_random(
            500 + index as u64,
            [0, 5, 16, 33, 1_000, 65_536, 300_000][index % 7],
        ));
        total += bytes.len() as u64;
        fs::write(folder.join(format!("holiday-file-{index:02}.bin")), bytes).unwrap();
    }
    let safe = fixture.open();
    import(
        &safe,
        std::slice::from_ref(&seed),
        &ImportOptions::default(),
    );
    fixture.snapshot(&safe);
    drop(safe);
    let expected = snapshot(&fixture.path().join("documents"));
    let expected_folders = folders(&seed);
    fs::remove_dir_all(&seed).unwrap();

    for budget in budgets(total) {
        let context = format!("export, disk full after {budget} of {total} bytes");
        let instance = fixture.instance();
        let safe_path = instance.path().join(SAFE);
        let out = instance.path().join("out");
        let safe_before = snapshot(&safe_path);
        let output = run_child(
            "export",
            &[
                ("ARCA_SAFE", safe_path.clone().into_os_string()),
                ("ARCA_EXPORT_TO", out.clone().into_os_string()),
                ("ARCA_DISK_FULL_AFTER", OsString::from(budget.to_string())),
            ],
        );
        let failure = failure(&output, &context);
        assert_disk_full(&failure, &context);
        assert!(
            failure.path.starts_with(&out),
            "{context}: the error names {} instead of the exported file being written",
            failure.path.display()
        );
        // Only whole, correct files under their final names; no temporary file.
        let partial = snapshot(&out);
        for (path, bytes) in &partial {
            let wanted = expected
                .get(path.strip_prefix("documents/").unwrap_or(path))
                .unwrap_or_else(|| panic!("{context}: unexpected file {path}"));
            assert!(bytes == wanted, "{context}: {path} is partial or wrong");
        }
        assert_eq!(temporaries(&out), Vec::<PathBuf>::new(), "{context}");

        // The Safe is untouched by a failed export.
        let safe = Safe::open(&safe_path, &password())
            .unwrap_or_else(|error| panic!("{context}: the Safe does not open: {error}"));
        fixture.assert_existing_intact(&safe, &context);
        let found = safe
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(found.is_clean(), "{context}: {:?}", found.problems);
        let files = |all: &BTreeMap<String, Vec<u8>>| {
            all.iter()
                // The database's log and the lock file change with every opening.
                .filter(|(path, _)| {
                    !path.starts_with("attributes.db") && path.as_str() != arca_safe::LOCK_FILE
                })
                .map(|(path, bytes)| (path.clone(), bytes.clone()))
                .collect::<Vec<_>>()
        };
        assert!(
            files(&snapshot(&safe_path)) == files(&safe_before),
            "{context}: the Safe's files changed"
        );

        // Space is back: exporting again, skipping what is there, completes the export.
        let documents = safe.resolve("/documents").unwrap().unwrap().id;
        let report = safe
            .export(
                &[documents],
                &out,
                OnClash::Skip,
                &JobControl::new(),
                &mut |_| {},
            )
            .unwrap_or_else(|error| panic!("{context}: the second export failed: {error}"));
        assert!(report.failed.is_empty(), "{context}: {report:?}");
        assert_eq!(report.skipped.len(), partial.len(), "{context}: {report:?}");
        let exported: BTreeMap<String, Vec<u8>> = snapshot(&out.join("documents"));
        assert!(
            exported == expected,
            "{context}: the completed export differs"
        );
        assert_eq!(
            folders(&out.join("documents")),
            expected_folders,
            "{context}"
        );
        assert_eq!(fs::read_dir(&out).unwrap().count(), 1, "{context}");
        assert_no_leaks(&safe_path, &leak_markers());
    }
}

#[test]
fn disk_full_while_taking_back_an_edit_keeps_the_copy_to_take_back_later() {
    let dir = tempfile::tempdir().unwrap();
    let ram = Path::new("/dev/shm").join(format!("arca-test-{}", uuid::Uuid::new_v4()));
    fs::create_dir(&ram).expect("/dev/shm must be a writable tmpfs for this test");
    let base = ram.join("arca");
    let safe = new_safe(dir.path());
    let old = vec![b'o'; 100_000];
    let letter = dir.path().join("letter.txt");
    fs::write(&letter, &old).unwrap();
    import(&safe, &[letter], &ImportOptions::default());
    drop(safe);
    // Room for the copy and its record, not for the data file of the new content.
    let new = format!("{MARKER} {}", "n".repeat(200_000));
    let saved = dir.path().join("saved-in-the-other-app");
    fs::write(&saved, &new).unwrap();
    let output = run_child(
        "take-back",
        &[
            ("ARCA_SAFE", dir.path().join(SAFE).into()),
            ("ARCA_RAM_BASE", base.clone().into()),
            ("ARCA_NEW_CONTENT", saved.into()),
            ("ARCA_DISK_FULL_AFTER", "102000".into()),
        ],
    );
    let failure = failure(&output, "take back");
    assert_disk_full(&failure, "take back");

    // The Safe keeps its old content; the save waits in RAM and goes in once there is room.
    let safe = Safe::open(&dir.path().join(SAFE), &password()).unwrap();
    let item = safe.resolve("/letter.txt").unwrap().unwrap().id;
    assert_eq!(&safe.read(item).unwrap()[..], &old[..]);
    let leftovers = arca_safe::sweep_leftovers(&base).unwrap();
    assert_eq!(leftovers.len(), 1, "{}", describe(&output));
    safe.take_back_leftover(&leftovers[0]).unwrap();
    assert_eq!(&safe.read(item).unwrap()[..], new.as_bytes());
    assert!(arca_safe::sweep_leftovers(&base).unwrap().is_empty());
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
    fs::remove_dir_all(&ram).unwrap();
}

#[test]
fn unwritable_safe_and_destination_give_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let (source, _) = import_source(dir.path());
    let safe = new_safe(dir.path());
    let safe_path = safe.layout().root().to_path_buf();
    // Every shard folder a data file could go to is blocked by a file: each write fails.
    let files = safe.layout().files_dir();
    let blockers: Vec<PathBuf> = (0..=255u8)
        .map(|shard| files.join(format!("{shard:02x}")))
        .collect();
    for blocker in &blockers {
        fs::remove_dir(blocker).unwrap();
        fs::write(blocker, b"").unwrap();
    }
    let error = safe
        .import(
            std::slice::from_ref(&source),
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap_err();
    match &error {
        // Named by the item, never by the path of its data file inside the store.
        Error::StoreIo {
            item: Some(item), ..
        } => {
            assert!(
                !error.to_string().contains(&files.display().to_string()),
                "{error}"
            );
            assert!(!item.is_empty());
        }
        other => panic!("expected an I/O error of the store naming the item, got {other:?}"),
    }
    let job = safe.interrupted_imports().unwrap();
    assert_eq!(job.len(), 1);
    for blocker in &blockers {
        fs::remove_file(blocker).unwrap();
    }
    let report = safe
        .resume_import(job[0].id, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    let folder = safe.resolve("/incoming").unwrap().unwrap().id;
    assert_same_tree(&safe, folder, &source, "after the blockers were removed");
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );

    // An export whose destination cannot be created names the destination.
    let in_the_way = dir.path().join("a file in the way");
    fs::write(&in_the_way, b"").unwrap();
    let to = in_the_way.join("out");
    let error = safe
        .export(
            &[folder],
            &to,
            OnClash::KeepBoth,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap_err();
    match &error {
        Error::Io { path, error: cause } => {
            assert!(path.starts_with(&in_the_way), "{error}");
            assert_ne!(cause.kind(), ErrorKind::StorageFull);
        }
        other => panic!("expected an I/O error naming the destination, got {other:?}"),
    }
    assert!(
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap()
            .is_clean()
    );
    assert_no_leaks(&safe_path, &leak_markers());
}
