//! kill -9 at every crash point of every operation that writes.
//!
//! The test binary re-executes itself as the child (`child_main`), which opens a copy of a
//! pristine Safe and runs one operation with `ARCA_CRASH_AT=k`: the `k`-th durability step
//! (see `arca_cryptor::crash_point`) sends it a real SIGKILL. A first run without a crash
//! learns how many steps the operation passes; then every `k` is tried on a fresh copy, and the
//! parent checks what the durability rules promise: the Safe opens, nothing present before is
//! lost, an interrupted import is listed and resumes to completion, check is clean after
//! repair, no temporary file stays behind, and nothing half-written appears under a final name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::env;
use std::ffi::OsString;
use std::fs;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::process::Output;

use arca_cryptor::{Password, RecoveryKey};
use arca_safe::{Error, ImportOptions, JobControl, Kind, OnClash, Problem, Safe, Unlock};
use common::child::*;
use common::*;
use tempfile::TempDir;
use uuid::Uuid;

const NEW_PASSWORD: &str = "another long test passphrase";
const SAFE: &str = "test.arca";

fn new_password() -> Password {
    Password::new(NEW_PASSWORD.to_owned())
}

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(env::var_os(name).unwrap_or_else(|| panic!("{name} is not set")))
}

/// The child: runs the operation named by `ARCA_KILL_CHILD` on the Safe `ARCA_SAFE`, then
/// prints how many crash points the operation passed. Does nothing in a normal test run.
#[test]
#[ignore = "the child process of the kill tests; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(CHILD_OPERATION) else {
        return;
    };
    let safe_path = env_path("ARCA_SAFE");
    let safe = Safe::open(&safe_path, &password()).unwrap();
    let before = arca_cryptor::crash_points_passed();
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
            assert!(report.failed.is_empty(), "{report:?}");
        }
        "export" => {
            let docs = safe.resolve("/docs").unwrap().unwrap().id;
            let report = safe
                .export(
                    &[docs],
                    &env_path("ARCA_EXPORT_TO"),
                    OnClash::Replace,
                    &JobControl::new(),
                    &mut |_| {},
                )
                .unwrap();
            assert!(report.failed.is_empty(), "{report:?}");
        }
        "mv" => {
            for (path, folder, name) in MOVES {
                let id = safe.resolve(path).unwrap().unwrap().id;
                let folder = safe.resolve_folder(folder).unwrap();
                safe.move_and_rename(id, folder, name).unwrap();
            }
        }
        "passwd" => safe.change_password(&password(), &new_password()).unwrap(),
        "recovery" => {
            let key = safe.create_recovery_key(&password()).unwrap();
            println!("ARCA_RECOVERY_KEY {}", key.expose_for_display());
        }
        other => panic!("unknown operation {other}"),
    }
    let after = arca_cryptor::crash_points_passed();
    println!("ARCA_CRASH_POINTS {before} {after}");
}

/// A pristine Safe (and whatever else the operation needs) to copy for each run.
struct Fixture {
    dir: TempDir,
    /// The files in the Safe before the operation, with their bytes.
    existing: Existing,
    /// The recovery key the Safe has before the operation, if any.
    recovery: Option<String>,
}

impl Fixture {
    /// A Safe that already holds some files, at the root and in a folder.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("seed");
        fs::create_dir_all(seed.join("Existing/nested")).unwrap();
        fs::write(seed.join("top.txt"), b"a file at the root").unwrap();
        for (index, size) in [0usize, 1, 16, 5_000, 70_000].into_iter().enumerate() {
            fs::write(
                seed.join(format!("Existing/kept-{index}.bin")),
                pseudo_random(100 + index as u64, size),
            )
            .unwrap();
        }
        fs::write(seed.join("Existing/nested/deep.txt"), b"deep").unwrap();
        let safe = new_safe(dir.path());
        import(
            &safe,
            &[seed.join("top.txt"), seed.join("Existing")],
            &ImportOptions::default(),
        );
        fs::remove_dir_all(&seed).unwrap();
        let mut fixture = Self {
            dir,
            existing: Existing::default(),
            recovery: None,
        };
        fixture.snapshot(&safe);
        fixture
    }

    fn safe_path(&self) -> PathBuf {
        self.dir.path().join(SAFE)
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn open(&self) -> Safe {
        Safe::open(&self.safe_path(), &password()).unwrap()
    }

    /// Records every file now in the Safe as "present before".
    fn snapshot(&mut self, safe: &Safe) {
        self.existing = Existing::of(safe);
    }

    /// A fresh copy of the fixture: the Safe and the files beside it.
    fn instance(&self) -> TempDir {
        instance_of(self.path())
    }

    /// Asserts every file present before is still there with the same bytes.
    fn assert_existing_intact(&self, safe: &Safe, context: &str) {
        self.existing.assert_intact(safe, context);
    }
}

/// The environment a child needs to work on the copy `instance`.
fn safe_env(instance: &Path) -> Vec<(&'static str, OsString)> {
    vec![("ARCA_SAFE", instance.join(SAFE).into_os_string())]
}

fn with_crash_at(envs: &[(&'static str, OsString)], k: u64) -> Vec<(&'static str, OsString)> {
    let mut envs = envs.to_vec();
    envs.push(("ARCA_CRASH_AT", OsString::from(k.to_string())));
    envs
}

/// Runs the operation once without crashing (on a copy, handed to `inspect`) and returns the
/// crash points it passes.
fn learn(
    fixture: &Fixture,
    operation: &str,
    envs: impl Fn(&Path) -> Vec<(&'static str, OsString)>,
    inspect: impl FnOnce(&Path, &Output),
) -> RangeInclusive<u64> {
    let instance = fixture.instance();
    // The counter only runs while ARCA_CRASH_AT is set: a point never reached counts them all.
    let output = run_child(operation, &with_crash_at(&envs(instance.path()), u64::MAX));
    assert_succeeded(&output);
    let points = child_value(&output, "ARCA_CRASH_POINTS")
        .unwrap_or_else(|| panic!("no crash point count: {}", describe(&output)));
    let (before, after) = points.split_once(' ').unwrap();
    let (before, after): (u64, u64) = (before.parse().unwrap(), after.parse().unwrap());
    inspect(instance.path(), &output);
    before + 1..=after
}

/// Kills the operation at every point of `points`, each on a fresh copy, and runs `verify`.
fn kill_at_every_point(
    fixture: &Fixture,
    operation: &str,
    points: RangeInclusive<u64>,
    envs: impl Fn(&Path) -> Vec<(&'static str, OsString)>,
    mut verify: impl FnMut(&Path, &str),
) {
    for k in points {
        let instance = fixture.instance();
        let output = run_child(operation, &with_crash_at(&envs(instance.path()), k));
        let context = format!("{operation} killed at crash point {k}");
        // Import commits a batch every 250 ms as well as every 512 files, so a run may pass
        // fewer points than the learning run did and finish before point k.
        let passed = child_value(&output, "ARCA_CRASH_POINTS")
            .and_then(|points| points.split_once(' ').map(|(_, after)| after.to_owned()))
            .and_then(|after| after.parse::<u64>().ok());
        if output.status.success() && passed.is_some_and(|after| after < k) {
            verify(
                instance.path(),
                &format!("{operation} finished before crash point {k}"),
            );
            continue;
        }
        assert_killed(&output, &context);
        verify(instance.path(), &context);
    }
}

fn is_temporary_or_interrupted(problem: &Problem) -> bool {
    matches!(
        problem,
        Problem::TemporaryFile { .. } | Problem::InterruptedImport { .. }
    )
}

fn import_source(root: &Path) -> PathBuf {
    let source = root.join("incoming");
    fs::create_dir_all(source.join("empty folder")).unwrap();
    for index in 0..40usize {
        let folder = match index % 3 {
            0 => source.clone(),
            1 => source.join("letters"),
            _ => source.join("deep/er"),
        };
        fs::create_dir_all(&folder).unwrap();
        let size = [0, 1, 15, 16, 17, 100, 4_096, 9_999][index % 8] + index / 8 * 3;
        fs::write(
            folder.join(format!("file-{index:02}.txt")),
            pseudo_random(index as u64, size),
        )
        .unwrap();
    }
    fs::write(source.join("big.bin"), pseudo_random(1_000, 1 << 20)).unwrap();
    source
}

#[test]
fn kill_during_import_loses_nothing_and_resumes() {
    let fixture = Fixture::new();
    import_source(fixture.path());
    let top_level_before: Vec<String> = safe_tree(&fixture.open(), None)
        .into_iter()
        .filter(|(path, _)| !path.contains('/'))
        .map(|(path, _)| path)
        .collect();
    let envs = |instance: &Path| {
        let mut envs = safe_env(instance);
        envs.push(("ARCA_SOURCE", instance.join("incoming").into_os_string()));
        envs
    };
    let points = learn(&fixture, "import", envs, |instance, _| {
        let safe = Safe::open(&instance.join(SAFE), &password()).unwrap();
        let folder = safe.resolve("/incoming").unwrap().unwrap().id;
        assert_same_tree(&safe, folder, &instance.join("incoming"), "import");
    });
    assert!(*points.end() >= 100, "too few crash points: {points:?}");
    let mut resumed = 0;
    kill_at_every_point(
        &fixture,
        "import",
        points.clone(),
        envs,
        |instance, context| {
            let source = instance.join("incoming");
            let safe = Safe::open(&instance.join(SAFE), &password())
                .unwrap_or_else(|error| panic!("{context}: the Safe does not open: {error}"));
            fixture.assert_existing_intact(&safe, context);
            let found = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert_problems_only(&found.problems, is_temporary_or_interrupted, context);
            let jobs = safe.interrupted_imports().unwrap();
            assert!(jobs.len() <= 1, "{context}: {jobs:?}");
            match (jobs.first(), safe.resolve("/incoming").unwrap()) {
                (Some(job), Some(_)) => {
                    let report = safe
                        .resume_import(job.id, &JobControl::new(), &mut |_| {})
                        .unwrap_or_else(|error| panic!("{context}: resume failed: {error}"));
                    assert!(report.failed.is_empty(), "{context}: {report:?}");
                    assert!(safe.interrupted_imports().unwrap().is_empty(), "{context}");
                    resumed += 1;
                }
                (Some(job), None) => panic!("{context}: job {} has no folder in the Safe", job.id),
                (None, Some(folder)) => {
                    // No job left: the import must have finished completely.
                    assert_same_tree(&safe, folder.id, &source, context);
                    safe.check(true, true, &JobControl::new(), &mut |_| {})
                        .unwrap();
                }
                // Killed before phase 1 committed: nothing of it is in the Safe.
                (None, None) => {
                    safe.check(true, true, &JobControl::new(), &mut |_| {})
                        .unwrap();
                }
            }
            let after = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert!(after.is_clean(), "{context}: {:?}", after.problems);
            assert_eq!(
                temporaries(&instance.join(SAFE)),
                Vec::<PathBuf>::new(),
                "{context}"
            );
            fixture.assert_existing_intact(&safe, context);
            let top_level: Vec<String> = safe_tree(&safe, None)
                .into_iter()
                .filter(|(path, _)| !path.contains('/') && path != "incoming")
                .map(|(path, _)| path)
                .collect();
            assert_eq!(
                top_level, top_level_before,
                "{context}: the import was duplicated"
            );
            if let Some(folder) = safe.resolve("/incoming").unwrap() {
                assert_same_tree(&safe, folder.id, &source, context);
            }
        },
    );
    println!(
        "import: {} kill points ({resumed} left a job that resume_import finished)",
        points.count()
    );
}

#[test]
fn kill_during_export_leaves_no_partial_file_under_a_final_name() {
    let mut fixture = Fixture::new();
    let seed = fixture.path().join("docs");
    fs::create_dir_all(seed.join("inner/empty")).unwrap();
    for index in 0..20usize {
        let folder = if index % 4 == 3 {
            seed.join("inner")
        } else {
            seed.clone()
        };
        let size = [0, 5, 16, 33, 1_000, 65_536, 200_000][index % 7] + index;
        fs::write(
            folder.join(format!("{index:02}.bin")),
            pseudo_random(500 + index as u64, size),
        )
        .unwrap();
    }
    let safe = fixture.open();
    import(
        &safe,
        std::slice::from_ref(&seed),
        &ImportOptions::default(),
    );
    fs::remove_dir_all(&seed).unwrap();
    fixture.snapshot(&safe);
    let docs = safe.resolve("/docs").unwrap().unwrap().id;
    let expected: BTreeMap<String, Vec<u8>> = safe_tree(&safe, Some(docs))
        .into_iter()
        .filter(|(_, item)| item.kind == Kind::File)
        .map(|(path, item)| (format!("docs/{path}"), safe.read(item.id).unwrap().to_vec()))
        .collect();
    assert_eq!(expected.len(), 20);
    drop(safe);
    // The destination already holds an unrelated file and an older "docs/05.bin".
    let out = fixture.path().join("out");
    fs::create_dir_all(out.join("docs")).unwrap();
    let unrelated = b"not from the Safe".to_vec();
    let older = b"an older 05.bin".to_vec();
    fs::write(out.join("unrelated.txt"), &unrelated).unwrap();
    fs::write(out.join("docs/05.bin"), &older).unwrap();

    let envs = |instance: &Path| {
        let mut envs = safe_env(instance);
        envs.push(("ARCA_EXPORT_TO", instance.join("out").into_os_string()));
        envs
    };
    let points = learn(&fixture, "export", envs, |instance, _| {
        let exported: BTreeMap<String, Vec<u8>> = tree(&instance.join("out"))
            .into_iter()
            .map(|(path, bytes)| (path.to_string_lossy().into_owned(), bytes))
            .collect();
        let mut wanted = expected.clone();
        wanted.insert("unrelated.txt".to_owned(), unrelated.clone());
        assert!(exported == wanted, "the export differs");
    });
    assert!(*points.end() >= 40, "too few crash points: {points:?}");
    let (mut temporaries_left, mut replaced) = (0, 0);
    kill_at_every_point(
        &fixture,
        "export",
        points.clone(),
        envs,
        |instance, context| {
            let safe = Safe::open(&instance.join(SAFE), &password())
                .unwrap_or_else(|error| panic!("{context}: the Safe does not open: {error}"));
            fixture.assert_existing_intact(&safe, context);
            let report = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert!(report.is_clean(), "{context}: {:?}", report.problems);
            assert_eq!(
                temporaries(&instance.join(SAFE)),
                Vec::<PathBuf>::new(),
                "{context}"
            );
            for (path, bytes) in tree(&instance.join("out")) {
                let name = path.file_name().unwrap().to_string_lossy();
                let path = path.to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".arca-partial") {
                    temporaries_left += 1;
                } else if path == "unrelated.txt" {
                    assert!(bytes == unrelated, "{context}: a file not exported changed");
                } else if path == "docs/05.bin" && bytes == older {
                    // Not replaced yet: the older file is whole.
                } else {
                    let wanted = expected
                        .get(&path)
                        .unwrap_or_else(|| panic!("{context}: unexpected file {path}"));
                    assert!(
                        &bytes == wanted,
                        "{context}: {path} is partial or wrong ({} of {} bytes)",
                        bytes.len(),
                        wanted.len()
                    );
                    replaced += usize::from(path == "docs/05.bin");
                }
            }
            for folder in folders(&instance.join("out")) {
                assert!(
                    ["docs", "docs/inner", "docs/inner/empty"].contains(&folder.as_str()),
                    "{context}: unexpected folder {folder}"
                );
            }
        },
    );
    println!(
        "export: {} kill points ({temporaries_left} temporary files left in the destination, \
         the older file replaced in {replaced})",
        points.count()
    );
}

/// The moves and renames of the "mv" operation: item, target folder, new name.
const MOVES: [(&str, &str, &str); 4] = [
    ("/A/f1.txt", "/A", "f1 renamed.txt"),
    ("/A/sub", "/B", "sub"),
    ("/B/sub/g1.txt", "/", "g1 moved.txt"),
    ("/h.txt", "/A", "h.txt"),
];

/// An item, its old parent and name, its new parent and name.
type Move = (Uuid, Option<Uuid>, String, Option<Uuid>, String);

#[test]
fn kill_during_moves_and_renames_applies_each_whole_or_not_at_all() {
    let mut fixture = Fixture::new();
    let seed = fixture.path().join("seed");
    fs::create_dir_all(seed.join("A/sub")).unwrap();
    fs::create_dir_all(seed.join("B")).unwrap();
    fs::write(seed.join("A/f1.txt"), b"f1").unwrap();
    fs::write(seed.join("A/sub/g1.txt"), b"g1").unwrap();
    fs::write(seed.join("A/sub/g2.txt"), b"g2").unwrap();
    fs::write(seed.join("h.txt"), b"h").unwrap();
    let safe = fixture.open();
    import(
        &safe,
        &[seed.join("A"), seed.join("B"), seed.join("h.txt")],
        &ImportOptions::default(),
    );
    fs::remove_dir_all(&seed).unwrap();
    fixture.snapshot(&safe);
    // Each move as (item, old parent, old name, new parent, new name).
    let moves: Vec<Move> = {
        let (f1, sub, g1, h) = (
            safe.resolve("/A/f1.txt").unwrap().unwrap(),
            safe.resolve("/A/sub").unwrap().unwrap(),
            safe.resolve("/A/sub/g1.txt").unwrap().unwrap(),
            safe.resolve("/h.txt").unwrap().unwrap(),
        );
        let a = safe.resolve_folder("/A").unwrap();
        let b = safe.resolve_folder("/B").unwrap();
        [(f1, a), (sub, b), (g1, None), (h, a)]
            .into_iter()
            .zip(MOVES)
            .map(|((item, to), (_, _, name))| {
                (item.id, item.parent, item.name, to, name.to_owned())
            })
            .collect()
    };
    drop(safe);
    let points = learn(&fixture, "mv", safe_env, |instance, _| {
        let safe = Safe::open(&instance.join(SAFE), &password()).unwrap();
        for (id, _, _, parent, name) in &moves {
            let item = safe.item(*id).unwrap();
            assert_eq!((&item.parent, &item.name), (parent, name));
        }
    });
    assert!(
        !points.is_empty(),
        "moves and renames pass no crash point: a kill between their database commits is \
         never tried"
    );
    let mut applied_counts = BTreeMap::new();
    kill_at_every_point(
        &fixture,
        "mv",
        points.clone(),
        safe_env,
        |instance, context| {
            let safe = Safe::open(&instance.join(SAFE), &password())
                .unwrap_or_else(|error| panic!("{context}: the Safe does not open: {error}"));
            fixture.assert_existing_intact(&safe, context);
            let applied: Vec<bool> = moves
                .iter()
                .map(|(id, old_parent, old_name, new_parent, new_name)| {
                    let item = safe.item(*id).unwrap();
                    let state = (item.parent, item.name);
                    if state == (*new_parent, new_name.clone()) {
                        true
                    } else {
                        assert_eq!(
                            state,
                            (*old_parent, old_name.clone()),
                            "{context}: half a move"
                        );
                        false
                    }
                })
                .collect();
            let done = applied.iter().take_while(|applied| **applied).count();
            assert!(
                applied[done..].iter().all(|applied| !applied),
                "{context}: a later move is applied without an earlier one: {applied:?}"
            );
            *applied_counts.entry(done).or_insert(0) += 1;
            let report = safe
                .check(true, true, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert_problems_only(
                &report.problems,
                |problem| matches!(problem, Problem::TemporaryFile { .. }),
                context,
            );
            let report = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert!(report.is_clean(), "{context}: {:?}", report.problems);
            assert_eq!(
                temporaries(&instance.join(SAFE)),
                Vec::<PathBuf>::new(),
                "{context}"
            );
        },
    );
    println!(
        "mv: {} kill points (moves applied before the kill → runs: {applied_counts:?})",
        points.count()
    );
}

/// Only the temporary files an interrupted key-file write leaves in the Safe's own folder;
/// `check --repair` does not remove them yet (see `key_file_temporaries_are_removed_by_repair`).
fn key_file_temporaries(safe: &Path, context: &str) -> usize {
    let left = temporaries(safe);
    for path in &left {
        let name = path.file_name().unwrap().to_string_lossy();
        assert!(
            path.parent() == Some(safe)
                && (name.starts_with(".safe.key.") || name.starts_with(".recovery.key.")),
            "{context}: temporary file {} left",
            path.display()
        );
    }
    left.len()
}

fn recovery_key(text: &str) -> RecoveryKey {
    RecoveryKey::parse(text).unwrap()
}

#[test]
fn kill_during_password_change_leaves_exactly_one_password_working() {
    let mut fixture = Fixture::new();
    let safe = fixture.open();
    fixture.recovery = Some(
        safe.create_recovery_key(&password())
            .unwrap()
            .expose_for_display()
            .to_owned(),
    );
    drop(safe);
    let points = learn(&fixture, "passwd", safe_env, |instance, _| {
        Safe::open(&instance.join(SAFE), &new_password()).unwrap();
    });
    assert!(!points.is_empty());
    let (mut old, mut new, mut temporaries_left) = (0, 0, 0);
    kill_at_every_point(
        &fixture,
        "passwd",
        points.clone(),
        safe_env,
        |instance, context| {
            let path = instance.join(SAFE);
            let (safe, works) = match (probe(&path, &password()), probe(&path, &new_password())) {
                (Ok(safe), Err(Error::WrongPassword)) => {
                    old += 1;
                    (safe, password())
                }
                (Err(Error::WrongPassword), Ok(safe)) => {
                    new += 1;
                    (safe, new_password())
                }
                (Ok(_), Ok(_)) => panic!("{context}: both passwords open the Safe"),
                (with_old, with_new) => panic!(
                    "{context}: no password opens the Safe: old {:?}, new {:?}",
                    with_old.err(),
                    with_new.err()
                ),
            };
            fixture.assert_existing_intact(&safe, context);
            let recovery = fixture.recovery.as_deref().unwrap();
            probe_recovery(&path, &recovery_key(recovery)).unwrap_or_else(|error| {
                panic!("{context}: the recovery key stopped working: {error}")
            });
            drop(safe);
            let safe = Safe::open_with(&path, Unlock::Password(&works), &test_open_options())
                .unwrap_or_else(|error| panic!("{context}: {error}"));
            safe.check(true, true, &JobControl::new(), &mut |_| {})
                .unwrap();
            let report = safe
                .check(true, false, &JobControl::new(), &mut |_| {})
                .unwrap();
            assert!(report.is_clean(), "{context}: {:?}", report.problems);
            temporaries_left += key_file_temporaries(&path, context);
        },
    );
    println!(
        "passwd: {} kill points (old password works after {old}, the new one after {new}; \
         {temporaries_left} left a temporary key file)",
        points.count()
    );
}

#[test]
fn kill_during_recovery_key_creation_leaves_a_whole_recovery_file_or_none() {
    let mut total = 0;
    for replace in [false, true] {
        let mut fixture = Fixture::new();
        if replace {
            let safe = fixture.open();
            let key = safe.create_recovery_key(&password()).unwrap();
            fixture.recovery = Some(key.expose_for_display().to_owned());
        }
        let recovery_file = |instance: &Path| instance.join(SAFE).join("recovery.key");
        let old_file = fs::read(recovery_file(fixture.path())).ok();
        let mut new_len = 0;
        let points = learn(&fixture, "recovery", safe_env, |instance, output| {
            let key = child_value(output, "ARCA_RECOVERY_KEY").unwrap();
            Safe::open_with_recovery_key(&instance.join(SAFE), &recovery_key(&key)).unwrap();
            new_len = fs::metadata(recovery_file(instance)).unwrap().len();
        });
        assert!(!points.is_empty());
        let (mut kept, mut written, mut temporaries_left) = (0, 0, 0);
        kill_at_every_point(
            &fixture,
            "recovery",
            points.clone(),
            safe_env,
            |instance, context| {
                let path = instance.join(SAFE);
                let safe = probe(&path, &password()).unwrap_or_else(|error| {
                    panic!("{context}: the password stopped working: {error}")
                });
                fixture.assert_existing_intact(&safe, context);
                match fs::read(recovery_file(instance)) {
                    Ok(bytes) if Some(&bytes) == old_file.as_ref() => {
                        let recovery = fixture.recovery.as_deref().unwrap();
                        probe_recovery(&path, &recovery_key(recovery)).unwrap();
                        kept += 1;
                    }
                    Ok(bytes) => {
                        // A new recovery key nobody has seen: it must at least be whole.
                        assert_eq!(
                            bytes.len() as u64,
                            new_len,
                            "{context}: partial recovery.key"
                        );
                        assert_eq!(
                            &bytes[..2],
                            [3, 1],
                            "{context}: not an RNCryptor v3 password file"
                        );
                        written += 1;
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                        assert!(
                            old_file.is_none(),
                            "{context}: the old recovery.key is gone"
                        );
                        kept += 1;
                    }
                    Err(error) => panic!("{context}: {error}"),
                }
                drop(safe);
                let safe =
                    Safe::open_with(&path, Unlock::Password(&password()), &test_open_options())
                        .unwrap_or_else(|error| panic!("{context}: {error}"));
                safe.check(true, true, &JobControl::new(), &mut |_| {})
                    .unwrap();
                let report = safe
                    .check(true, false, &JobControl::new(), &mut |_| {})
                    .unwrap();
                assert!(report.is_clean(), "{context}: {:?}", report.problems);
                temporaries_left += key_file_temporaries(&path, context);
            },
        );
        println!(
            "recovery ({}): {} kill points (the old state kept after {kept}, a whole new file \
             after {written}; {temporaries_left} left a temporary key file)",
            if replace {
                "replacing one"
            } else {
                "first one"
            },
            points.clone().count()
        );
        total += points.count();
    }
    println!("recovery: {total} kill points");
}

/// A kill while a key file is being replaced leaves its temporary file in the Safe's own
/// folder; `check` must name it and `check --repair` remove it, as it does for data files.
#[test]
fn key_file_temporaries_are_removed_by_repair() {
    let fixture = Fixture::new();
    for operation in ["passwd", "recovery"] {
        let points = learn(&fixture, operation, safe_env, |_, _| {});
        let instance = fixture.instance();
        let output = run_child(
            operation,
            &with_crash_at(&safe_env(instance.path()), *points.start()),
        );
        assert_killed(&output, operation);
        let path = instance.path().join(SAFE);
        assert!(
            !temporaries(&path).is_empty(),
            "{operation}: the kill left no temporary file"
        );
        let safe = Safe::open(&path, &password()).unwrap();
        let found = safe
            .check(false, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(
            found
                .problems
                .iter()
                .any(|problem| matches!(problem, Problem::TemporaryFile { .. })),
            "{operation}: check does not report the temporary key file: {:?}",
            found.problems
        );
        safe.check(false, true, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert_eq!(temporaries(&path), Vec::<PathBuf>::new(), "{operation}");
    }
}
