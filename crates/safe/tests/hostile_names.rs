//! Names from a Safe or backup someone else made (issue 9, part 1).
//!
//! Each test performs the attack: a backup whose records carry names that break the name rule
//! (`../escape`, an absolute path, `a/b`, control characters, NUL, `.`, `..`, 300 bytes),
//! written and sealed by hand with the backup's own record keys, with an index that vouches
//! for them; or names written straight into a Safe's database with its own key. Then restore
//! (into a new Safe, and as chosen items) and export, with every clash rule. What the defence
//! promises: nothing is written outside the target folder, each bad item is named, the rest
//! restores and exports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use arca_cryptor::{CleartextBuffer, Credentials, Iterations, decrypt};
use arca_safe::{
    ImportOptions, ItemProblem, JobControl, OnClash, ProblemKind, RestoreInto, RestoreItemsOptions,
    Safe, Unlock, restore_backup, validate_name, verify_backup,
};
use common::child::safe_tree;
use common::hostile::{self, IndexMode, Planted};
use common::{import, new_safe, password, probe, test_backoff, test_open_options};
use sha2::{Digest, Sha256};
use uuid::Uuid;

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The test's folders: everything the attack could reach lives below `root`.
struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    backup: PathBuf,
    /// Where restores and exports go; the only folders allowed to change.
    work: PathBuf,
    /// Files an escaping name would overwrite (a name `../escape` exported into `work/export`
    /// lands on `work/escape`; the absolute name points into `outside/`).
    absolute: PathBuf,
    sentinels: Vec<PathBuf>,
    /// The records planted, bad and good.
    hostile: Vec<Planted>,
    /// A good file planted inside a folder whose name is bad.
    orphan: Planted,
    /// A good file planted at the root, among the bad ones.
    fine: Planted,
}

const SENTINEL: &[u8] = b"a file of the person's own, never to be touched";
const DEEP: &str = "/tmp/arca-hostile-deep";

impl World {
    /// A Safe with a folder and files, backed up; then records with hostile names planted in
    /// the backup, at the root, inside a good folder and inside a folder with a bad name.
    fn new(index: IndexMode) -> (Self, Safe) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let source = root.join("source");
        fs::create_dir_all(source.join("docs")).unwrap();
        fs::write(source.join("docs/a.txt"), b"alpha content").unwrap();
        fs::write(source.join("docs/b.txt"), b"beta").unwrap();
        fs::write(source.join("top.txt"), b"top of the safe").unwrap();
        let safe = new_safe(&root);
        import(
            &safe,
            &[source.join("docs"), source.join("top.txt")],
            &ImportOptions::default(),
        );
        let backup = root.join("backup");
        safe.backup(
            &backup,
            &arca_safe::BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();

        let work = root.join("work");
        let outside = root.join("outside");
        fs::create_dir_all(&work).unwrap();
        fs::create_dir_all(&outside).unwrap();
        let absolute = outside.join("absolute-evil");
        let sentinels = vec![work.join("escape"), root.join("escape"), absolute.clone()];
        for sentinel in &sentinels {
            fs::write(sentinel, SENTINEL).unwrap();
        }

        let keys = hostile::record_keys(&backup, &password());
        let template = hostile::template(&backup, &keys, "a.txt");
        let docs = hostile::record_id(&backup, &keys, "docs");
        let mut hostile: Vec<Planted> = hostile::hostile_names(&absolute)
            .iter()
            .map(|name| Planted::file(name, None))
            .collect();
        hostile.push(Planted::file("", None));
        hostile.push(Planted::file("../escape", Some(docs)));
        hostile.push(Planted::file("a/b", Some(docs)));
        let bad_folder = Planted::folder("evil/dir", None);
        let orphan = Planted::file("child.txt", Some(bad_folder.id));
        hostile.push(bad_folder);
        hostile.push(Planted::folder("..", Some(docs)));
        let fine = Planted::file("fine.txt", None);
        let mut planted = hostile.clone();
        planted.push(orphan.clone());
        planted.push(fine.clone());
        hostile::plant(&backup, &keys, &planted, &template, index);
        (
            Self {
                _dir: dir,
                root,
                backup,
                work,
                absolute,
                sentinels,
                hostile,
                orphan,
                fine,
            },
            safe,
        )
    }

    /// Everything below the test's folder except `work/restored*` and `work/export*`, and
    /// except the original Safe (restoring chosen items changes it).
    fn outside(&self) -> Vec<(PathBuf, String)> {
        let mut skip: Vec<PathBuf> = fs::read_dir(&self.work)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.starts_with("restored") || name.starts_with("export")
            })
            .collect();
        skip.push(self.root.join("test.arca"));
        let skip: Vec<&Path> = skip.iter().map(PathBuf::as_path).collect();
        hostile::snapshot(&self.root, &skip)
    }

    /// Asserts nothing outside the targets changed, and nothing appeared beside the test.
    fn assert_nothing_outside(&self, before: &[(PathBuf, String)], context: &str) {
        let after = self.outside();
        assert!(
            before == after.as_slice(),
            "{context}: something outside the target changed:\nbefore {before:#?}\nafter {after:#?}"
        );
        for sentinel in &self.sentinels {
            assert_eq!(fs::read(sentinel).unwrap(), SENTINEL, "{context}");
        }
        assert!(!Path::new(DEEP).exists(), "{context}: {DEEP} was written");
    }
}

/// Asserts each planted bad record is named in `problems` (by UUID) as unreadable or invalid,
/// with the reason given.
fn assert_each_named(problems: &[ItemProblem], hostile: &[Planted], context: &str) {
    for record in hostile {
        let found = problems
            .iter()
            .find(|problem| problem.item == Some(record.id))
            .unwrap_or_else(|| {
                panic!(
                    "{context}: the record named {:?} ({}) is not reported: {problems:#?}",
                    record.name, record.id
                )
            });
        assert!(
            matches!(
                found.kind,
                ProblemKind::RecordUnreadable | ProblemKind::InvalidName
            ),
            "{context}: {found:?}"
        );
        assert!(
            found.problem.contains("cannot be used as a name"),
            "{context}: the reason is not given: {found:?}"
        );
    }
}

/// Asserts every item of `safe` has a name that follows the rule.
fn assert_all_names_valid(safe: &Safe, context: &str) {
    for (path, item) in safe_tree(safe, None) {
        assert!(
            validate_name(&item.name).is_ok(),
            "{context}: {path:?} has a name that breaks the rule"
        );
    }
}

/// Every entry below `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    hostile::snapshot(dir, &[])
        .into_iter()
        .map(|(path, _)| path.to_string_lossy().into_owned())
        .collect()
}

fn export_all(safe: &Safe, to: &Path, on_clash: OnClash) -> arca_safe::ExportReport {
    let roots: Vec<Uuid> = safe
        .children(None, false)
        .unwrap()
        .into_iter()
        .map(|item| item.id)
        .collect();
    safe.export(&roots, to, on_clash, &JobControl::new(), &mut |_| {})
        .unwrap()
}

#[test]
fn a_hostile_backup_verifies_with_each_bad_record_named() {
    let (world, _safe) = World::new(IndexMode::Complete(sha256));
    let report = verify_backup(
        &world.backup,
        Unlock::Password(&password()),
        &test_backoff(),
        true,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    assert!(!report.interrupted);
    assert_each_named(&report.problems, &world.hostile, "verify");
    // The good planted records are not among the problems (the child of the bad folder is
    // reported for its missing folder only).
    assert!(
        !report
            .problems
            .iter()
            .any(|problem| problem.item == Some(world.fine.id)),
        "{:#?}",
        report.problems
    );
    for problem in &report.problems {
        if problem.item == Some(world.orphan.id) {
            assert_eq!(problem.kind, ProblemKind::FolderMissing, "{problem:?}");
        }
    }
}

#[test]
fn restoring_a_hostile_backup_into_a_new_safe_writes_nothing_outside_and_names_each_item() {
    for index in [IndexMode::Complete(sha256), IndexMode::Running] {
        let (world, _safe) = World::new(index);
        let before = world.outside();
        let restored_path = world.work.join("restored.arca");
        let report = restore_backup(
            &world.backup,
            Unlock::Password(&password()),
            &test_backoff(),
            &restored_path,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
        world.assert_nothing_outside(&before, "restore");
        assert_each_named(&report.failed, &world.hostile, "restore");
        // Exactly the bad records failed; the rest restored: a.txt, b.txt, top.txt, fine.txt
        // and child.txt (at the root, its folder being unreadable: noted).
        assert_eq!(
            report.failed.len(),
            world.hostile.len(),
            "{:#?}",
            report.failed
        );
        assert_eq!(report.files, 5, "{report:?}");
        assert!(
            report
                .notes
                .iter()
                .any(|note| note.item == Some(world.orphan.id)),
            "{:#?}",
            report.notes
        );

        let restored = Safe::open_with(
            &restored_path,
            Unlock::Password(&password()),
            &test_open_options(),
        )
        .unwrap();
        assert_all_names_valid(&restored, "restored Safe");
        let mut names: Vec<String> = safe_tree(&restored, None)
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "child.txt",
                "docs",
                "docs/a.txt",
                "docs/b.txt",
                "fine.txt",
                "top.txt"
            ]
        );

        // Exported with every clash rule, twice into the same folder: only the good items, and
        // only inside it.
        let export = world.work.join("export");
        for on_clash in [
            OnClash::KeepBoth,
            OnClash::Replace,
            OnClash::Skip,
            OnClash::Replace,
        ] {
            let report = export_all(&restored, &export, on_clash);
            assert!(report.failed.is_empty(), "{on_clash:?}: {report:?}");
            world.assert_nothing_outside(&before, "export of the restored Safe");
        }
        let exported = listing(&export);
        for name in &exported {
            assert!(
                !name.contains("escape") && !name.contains("evil"),
                "{exported:?}"
            );
        }
        assert_eq!(
            fs::read(export.join("docs/a.txt")).unwrap(),
            b"alpha content"
        );
        assert!(!world.absolute.with_file_name("absolute-evil (2)").exists());
    }
}

#[test]
fn restoring_chosen_items_from_a_hostile_backup_writes_nothing_outside() {
    let (world, safe) = World::new(IndexMode::Complete(sha256));
    let before = world.outside();
    for on_clash in [OnClash::KeepBoth, OnClash::Replace, OnClash::Skip] {
        for into in [RestoreInto::Original, RestoreInto::Root] {
            let report = safe
                .restore_items_from_backup(
                    &world.backup,
                    &["/docs".to_owned(), "/fine.txt".to_owned()],
                    &RestoreItemsOptions { into, on_clash },
                    &JobControl::new(),
                    &mut |_| {},
                )
                .unwrap();
            // A folder was chosen: every unreadable record may have been inside it, so each
            // is listed as not restored, by UUID.
            assert_each_named(&report.failed, &world.hostile, "restore chosen items");
            world.assert_nothing_outside(&before, "restore chosen items");
            assert_all_names_valid(&safe, "after restoring chosen items");
        }
    }
    // A hostile name cannot even be asked for: the backup holds no item at such a path.
    for path in [
        "/../escape",
        "/docs/../escape",
        "/a/b",
        "/evil/dir/child.txt",
    ] {
        let error = safe
            .restore_items_from_backup(
                &world.backup,
                &[path.to_owned()],
                &RestoreItemsOptions::default(),
                &JobControl::new(),
                &mut |_| {},
            )
            .unwrap_err();
        assert!(
            matches!(error, arca_safe::Error::PathNotFound(_)),
            "{path}: {error:?}"
        );
    }
    let export = world.work.join("export");
    for on_clash in [OnClash::KeepBoth, OnClash::Replace] {
        let report = export_all(&safe, &export, on_clash);
        assert!(report.failed.is_empty(), "{report:?}");
    }
    world.assert_nothing_outside(&before, "export after restoring chosen items");
}

/// The database key of a Safe, as SQLCipher's raw-key literal, from its key file.
fn database_key_literal(safe_dir: &Path) -> String {
    let payload = decrypt(
        Credentials::Password(&password(), Iterations::new(1_000).unwrap()),
        &fs::read(safe_dir.join("safe.key")).unwrap()[..],
        CleartextBuffer::new(),
    )
    .unwrap();
    format!("x'{}'", hex::encode(&payload[82..114]))
}

/// Renames items by writing their rows directly (no change path, no name rule): a database
/// written by an older version or by someone who holds the keys.
fn rename_in_database(safe_dir: &Path, renames: &[(Uuid, &str)]) {
    let db = rusqlite::Connection::open(safe_dir.join("attributes.db")).unwrap();
    db.pragma_update(None, "key", database_key_literal(safe_dir))
        .unwrap();
    for (id, name) in renames {
        let changed = db
            .execute(
                "UPDATE items SET name = ?2, name_key = ?2 WHERE id = ?1",
                rusqlite::params![id, name],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
}

#[test]
fn names_written_into_the_database_directly_never_leave_the_export_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let source = root.join("source");
    fs::create_dir_all(source.join("docs/inner")).unwrap();
    let names = ["one", "two", "three", "four", "five", "six"];
    for name in names {
        fs::write(source.join("docs").join(name), name.as_bytes()).unwrap();
    }
    fs::write(source.join("docs/inner/deep.txt"), b"deep").unwrap();
    fs::write(source.join("docs/good.txt"), b"good").unwrap();
    let safe = new_safe(root);
    import(&safe, &[source.join("docs")], &ImportOptions::default());
    let id = |path: &str| safe.resolve(path).unwrap().unwrap().id;
    let docs = id("/docs");
    let outside = root.join("outside");
    fs::create_dir_all(&outside).unwrap();
    let absolute = outside.join("absolute-evil");
    fs::write(&absolute, SENTINEL).unwrap();
    fs::write(root.join("escape"), SENTINEL).unwrap();
    let absolute_name = absolute.to_string_lossy().into_owned();
    let renames: Vec<(Uuid, &str)> = vec![
        (id("/docs/one"), "../escape"),
        (id("/docs/two"), absolute_name.as_str()),
        (id("/docs/three"), "a/b"),
        (id("/docs/four"), "line\nbreak\u{1b}[2J"),
        (id("/docs/five"), ".."),
        (
            id("/docs/six"),
            "../../../../../../../../../../tmp/arca-hostile-deep",
        ),
        (id("/docs/inner"), "../inner-escaped"),
    ];
    safe.lock();
    drop(safe);
    let safe_dir = root.join("test.arca");
    rename_in_database(&safe_dir, &renames);

    let exports = root.join("exports");
    let skip = [exports.as_path(), safe_dir.as_path()];
    let before = hostile::snapshot(root, &skip);
    let assert_nothing_outside = |context: &str| {
        let after = hostile::snapshot(root, &skip);
        assert!(before == after, "{context}: something outside changed");
        assert_eq!(fs::read(&absolute).unwrap(), SENTINEL, "{context}");
        assert_eq!(
            fs::read(root.join("escape")).unwrap(),
            SENTINEL,
            "{context}"
        );
        assert!(!Path::new(DEEP).exists(), "{context}");
    };
    let assert_each_refused = |report: &arca_safe::ExportReport, context: &str| {
        for (id, name) in &renames {
            let problem = report
                .failed
                .iter()
                .find(|problem| problem.item == Some(*id))
                .unwrap_or_else(|| panic!("{context}: {name:?} not reported: {report:?}"));
            assert_eq!(
                problem.kind,
                ProblemKind::InvalidName,
                "{context}: {problem:?}"
            );
        }
        assert_eq!(report.failed.len(), renames.len(), "{context}: {report:?}");
    };
    let safe = probe(&safe_dir, &password()).unwrap();
    for (n, on_clash) in [OnClash::KeepBoth, OnClash::Replace, OnClash::Skip]
        .into_iter()
        .enumerate()
    {
        let target = exports.join(format!("export-{n}"));
        for round in 0..2 {
            let context = format!("{on_clash:?}, round {round}");
            let report = safe
                .export(&[docs], &target, on_clash, &JobControl::new(), &mut |_| {})
                .unwrap();
            // Each bad item is named and left out (what is inside the bad folder with it);
            // the good one is exported. (Skip leaves out the whole folder the second time.)
            if round == 0 || on_clash != OnClash::Skip {
                assert_each_refused(&report, &context);
            }
            assert_nothing_outside(&context);
        }
        assert_eq!(fs::read(target.join("docs/good.txt")).unwrap(), b"good");
        // Each bad item exported on its own, straight into the target folder.
        let ids: Vec<Uuid> = renames.iter().map(|(id, _)| *id).collect();
        let report = safe
            .export(&ids, &target, on_clash, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert_each_refused(&report, &format!("{on_clash:?}, alone"));
        assert_nothing_outside(&format!("{on_clash:?}, alone"));
        for entry in listing(&target) {
            assert!(
                entry.starts_with("docs") && !entry.contains("escape"),
                "{on_clash:?}: {entry:?} was written"
            );
        }
    }

    // Shown to people with control characters escaped, wherever a name is printed.
    let four = safe.path_of(renames[3].0).unwrap();
    let shown = arca_safe::escape_for_display(&four);
    assert!(
        !shown.contains('\n') && !shown.contains('\u{1b}'),
        "{shown}"
    );
    // The content is unaffected: read by UUID, it verifies.
    assert_eq!(safe.read(renames[3].0).unwrap().as_slice(), b"four");
}
