//! Replacing a file's content in place: the same item (UUID, name, folder, tags, comment,
//! favourite, added date) with new bytes, size and modification time, seen by every handle;
//! and kill -9 at every crash point of a replacement leaves the old or the new content, whole
//! and verified, never a broken item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;
mod open_common;

use std::collections::BTreeSet;
use std::env;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use arca_safe::{Content, ErrorKind, ImportOptions, Item, JobControl, Problem, Safe, SearchQuery};
use common::child::*;
use common::import;
use open_common::temporaries;
use open_common::*;
use uuid::Uuid;

const ITEM_PATH: &str = "/Docs/report.txt";

fn old_bytes() -> Vec<u8> {
    pseudo_random(1, (5 << 19) + 3)
}

fn new_bytes() -> Vec<u8> {
    pseudo_random(2, (1 << 20) + 77)
}

/// A Safe with `/Docs/report.txt` (tagged, commented, a favourite) and another file.
fn report_safe(dir: &Path) -> (Safe, Uuid) {
    let safe = new_test_safe(dir);
    let source = dir.join("seed/Docs");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("report.txt"), old_bytes()).unwrap();
    fs::write(source.join("other.txt"), b"another file, left alone").unwrap();
    import(&safe, &[source], &ImportOptions::default());
    let id = safe.resolve(ITEM_PATH).unwrap().unwrap().id;
    safe.add_tag(id, "work").unwrap();
    safe.add_tag(id, "draft").unwrap();
    safe.set_comment(id, "the quarterly report").unwrap();
    safe.set_favorite(id, true).unwrap();
    (safe, id)
}

/// The attributes a replacement keeps.
fn kept(item: &Item) -> (Uuid, Option<Uuid>, String, i64, Option<i64>, bool, String) {
    (
        item.id,
        item.parent,
        item.name.clone(),
        item.added_at,
        item.created_at,
        item.favorite,
        item.comment.clone(),
    )
}

fn read_all(safe: &Safe, id: Uuid) -> Vec<u8> {
    let mut reader = safe.open_file(id).unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).unwrap();
    out
}

fn ns(time: std::time::SystemTime) -> i64 {
    i64::try_from(time.duration_since(UNIX_EPOCH).unwrap().as_nanos()).unwrap()
}

#[test]
fn replacing_content_keeps_the_item_and_every_handle_sees_the_new_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = report_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let before = safe.item(id).unwrap();
    let tags = safe.tags_of(id).unwrap();
    let clone = safe.clone();
    let viewer = reopen_read_only(&root);
    let mut old_reader = safe.open_file(id).unwrap();
    let mut head = vec![0u8; 1000];
    old_reader.read_exact(&mut head).unwrap();

    let source = dir.path().join("edited.txt");
    fs::write(&source, new_bytes()).unwrap();
    let modified = UNIX_EPOCH + Duration::from_secs(1_700_000_000) + Duration::from_nanos(123);
    File::options()
        .write(true)
        .open(&source)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    safe.replace_content(id, &source).unwrap();

    let after = safe.item(id).unwrap();
    assert_eq!(kept(&after), kept(&before));
    assert_eq!(safe.tags_of(id).unwrap(), tags);
    assert_eq!(after.size, new_bytes().len() as u64);
    assert_eq!(after.modified_at, Some(ns(modified)));
    assert_eq!(after.content, Content::Present);
    assert_ne!(after.hmac_tag, before.hmac_tag);
    assert_ne!(after.sha256, before.sha256);
    // Every handle reads the new bytes, whole and in part.
    for (what, handle) in [
        ("the handle", &safe),
        ("a clone", &clone),
        ("a reader", &viewer),
    ] {
        assert!(
            handle.read(id).unwrap().as_slice() == new_bytes().as_slice(),
            "{what}: read"
        );
        assert!(read_all(handle, id) == new_bytes(), "{what}: open_file");
        assert_eq!(handle.item(id).unwrap().size, new_bytes().len() as u64);
    }
    // A reader opened before keeps reading the content it opened, or fails: never a mixture.
    let mut rest = Vec::new();
    if old_reader.read_to_end(&mut rest).is_ok() {
        assert!(
            rest == old_bytes()[1000..],
            "a reader opened before read mixed bytes"
        );
    }
    old_reader.seek(SeekFrom::Start(2 << 20)).unwrap();
    let mut part = vec![0u8; 4096];
    if old_reader.read_exact(&mut part).is_ok() {
        assert!(part == old_bytes()[2 << 20..(2 << 20) + 4096]);
    }
    // Found as before; one data file for it, nothing left over.
    let (hits, _) = safe
        .search(&SearchQuery {
            text: "report draft".to_owned(),
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].row.item.id, id);
    assert_eq!(data_files(&root).len(), 2);
    assert_eq!(temporaries(&root), Vec::<PathBuf>::new());
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{:?}", check.problems);

    // From any reader, stamped now; and to nothing at all.
    let earlier = ns(std::time::SystemTime::now());
    safe.replace_content_from(id, &mut &b"short"[..], None)
        .unwrap();
    let item = safe.item(id).unwrap();
    assert!(item.modified_at.unwrap() >= earlier, "{item:?}");
    assert_eq!(safe.read(id).unwrap().as_slice(), b"short");
    let stamp: i64 = 1_650_000_000_000_000_000;
    safe.replace_content_from(id, &mut &b""[..], Some(stamp))
        .unwrap();
    let item = safe.item(id).unwrap();
    assert_eq!((item.size, item.modified_at), (0, Some(stamp)));
    assert!(safe.open_file(id).unwrap().is_empty());
    assert_eq!(kept(&item), kept(&before));
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{:?}", check.problems);
}

#[test]
fn a_backup_after_a_replacement_holds_the_new_content() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = report_safe(dir.path());
    let target = dir.path().join("backup");
    backup_common::backup(&safe, &target, false);
    safe.replace_content_from(id, &mut new_bytes().as_slice(), None)
        .unwrap();
    let report = backup_common::backup(&safe, &target, false);
    assert_eq!(report.data_files_copied, 1, "{report:?}");
    let found = backup_common::verify(&target, true);
    assert!(found.is_clean(), "{found:?}");
    let restored = dir.path().join("restored.arca");
    backup_common::restore(&target, &restored);
    let restored = reopen(&restored);
    assert!(restored.read(id).unwrap().as_slice() == new_bytes().as_slice());
    assert_eq!(restored.tags_of(id).unwrap(), ["draft", "work"]);
}

#[test]
fn replacing_what_cannot_be_replaced_fails_with_its_kind() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = report_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let folder = safe.resolve("/Docs").unwrap().unwrap().id;
    let kind = |result: arca_safe::Result<()>| result.unwrap_err().kind();
    assert_eq!(
        kind(safe.replace_content_from(folder, &mut &b"x"[..], None)),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        kind(safe.replace_content_from(Uuid::new_v4(), &mut &b"x"[..], None)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(safe.replace_content(id, &dir.path().join("no such file"))),
        ErrorKind::NotFound
    );
    drop(safe);
    let viewer = reopen_read_only(&root);
    assert_eq!(
        kind(viewer.replace_content_from(id, &mut &b"x"[..], None)),
        ErrorKind::ReadOnly
    );
    assert!(viewer.read(id).unwrap().as_slice() == old_bytes().as_slice());
}

// ----- kill -9 at every crash point ----------------------------------------------------------

fn env_path(name: &str) -> PathBuf {
    PathBuf::from(env::var_os(name).unwrap_or_else(|| panic!("{name} is not set")))
}

/// The child: replaces the content of `ARCA_ITEM` in the Safe `ARCA_SAFE` with the file
/// `ARCA_SOURCE`, then prints how many crash points it passed.
#[test]
#[ignore = "the child process of the kill tests; does nothing by itself"]
fn child_main() {
    let Ok(operation) = env::var(CHILD_OPERATION) else {
        return;
    };
    assert_eq!(operation, "replace");
    let safe = reopen(&env_path("ARCA_SAFE"));
    let id = Uuid::parse_str(&env::var("ARCA_ITEM").unwrap()).unwrap();
    let before = arca_cryptor::crash_points_passed();
    safe.replace_content(id, &env_path("ARCA_SOURCE")).unwrap();
    let after = arca_cryptor::crash_points_passed();
    println!("ARCA_CRASH_POINTS {before} {after}");
}

struct Fixture {
    dir: tempfile::TempDir,
    id: Uuid,
    before: Item,
    tags: Vec<String>,
    other: Uuid,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (safe, id) = report_safe(dir.path());
        fs::remove_dir_all(dir.path().join("seed")).unwrap();
        fs::write(dir.path().join("edited.txt"), new_bytes()).unwrap();
        let before = safe.item(id).unwrap();
        let tags = safe.tags_of(id).unwrap();
        let other = safe.resolve("/Docs/other.txt").unwrap().unwrap().id;
        Self {
            dir,
            id,
            before,
            tags,
            other,
        }
    }

    fn envs(&self, instance: &Path) -> Vec<(&'static str, OsString)> {
        vec![
            ("ARCA_SAFE", instance.join(SAFE).into_os_string()),
            ("ARCA_SOURCE", instance.join("edited.txt").into_os_string()),
            ("ARCA_ITEM", OsString::from(self.id.to_string())),
        ]
    }

    /// Runs the child on a fresh copy, killed at crash point `k` (never for `u64::MAX`);
    /// returns the copy and the child's output.
    fn run(&self, k: u64) -> (tempfile::TempDir, std::process::Output) {
        let instance = instance_of(self.dir.path());
        let mut envs = self.envs(instance.path());
        envs.push(("ARCA_CRASH_AT", OsString::from(k.to_string())));
        let output = run_child("replace", &envs);
        (instance, output)
    }

    /// The crash points a replacement passes.
    fn points(&self) -> std::ops::RangeInclusive<u64> {
        let (_instance, output) = self.run(u64::MAX);
        assert_succeeded(&output);
        let points = child_value(&output, "ARCA_CRASH_POINTS").unwrap();
        let (before, after) = points.split_once(' ').unwrap();
        let (before, after): (u64, u64) = (before.parse().unwrap(), after.parse().unwrap());
        assert!(after - before >= 5, "too few crash points: {points}");
        println!("a replacement passes {} crash points", after - before);
        before + 1..=after
    }

    /// Which content the item has in `safe`, checked whole and in parts; asserts the item is
    /// otherwise as it was.
    fn content_of(&self, safe: &Safe, context: &str) -> &'static str {
        let item = safe
            .item(self.id)
            .unwrap_or_else(|error| panic!("{context}: the item is gone: {error}"));
        assert_eq!(kept(&item), kept(&self.before), "{context}");
        assert_eq!(safe.tags_of(self.id).unwrap(), self.tags, "{context}");
        assert_eq!(item.content, Content::Present, "{context}");
        let whole = safe
            .read(self.id)
            .unwrap_or_else(|error| panic!("{context}: unreadable: {error}"));
        let which = if whole.as_slice() == old_bytes().as_slice() {
            assert_eq!(item.size, old_bytes().len() as u64, "{context}");
            "old"
        } else if whole.as_slice() == new_bytes().as_slice() {
            assert_eq!(item.size, new_bytes().len() as u64, "{context}");
            "new"
        } else {
            panic!("{context}: neither the old nor the new content");
        };
        let mut reader = safe
            .open_file(self.id)
            .unwrap_or_else(|error| panic!("{context}: open_file: {error}"));
        let mut streamed = Vec::new();
        reader
            .read_to_end(&mut streamed)
            .unwrap_or_else(|error| panic!("{context}: reading: {error}"));
        assert!(streamed.as_slice() == whole.as_slice(), "{context}");
        which
    }
}

#[test]
fn kill_during_a_replacement_leaves_the_old_or_the_new_content() {
    let fixture = Fixture::new();
    let points = fixture.points();
    let mut outcomes = BTreeSet::new();
    for k in points {
        let (instance, output) = fixture.run(k);
        let context = format!("replace killed at crash point {k}");
        assert_killed(&output, &context);
        let path = instance.path().join(SAFE);
        let safe = reopen(&path);
        let which = fixture.content_of(&safe, &context);
        outcomes.insert(which);
        assert_eq!(
            safe.read(fixture.other).unwrap().as_slice(),
            b"another file, left alone",
            "{context}"
        );
        // At most a temporary file of the new content is left (see the test below); a repair
        // removes it, and nothing else is wrong.
        let check = safe
            .check(true, true, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(
            check
                .problems
                .iter()
                .all(|problem| matches!(problem, Problem::TemporaryFile { .. })),
            "{context}: {:?}",
            check.problems
        );
        let check = safe
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(check.is_clean(), "{context}: {:?}", check.problems);
        assert_eq!(temporaries(&path), Vec::<PathBuf>::new(), "{context}");
        assert_eq!(data_files(&path).len(), 2, "{context}");
        // Replacing again works from there.
        safe.replace_content(fixture.id, &instance.path().join("edited.txt"))
            .unwrap();
        assert_eq!(fixture.content_of(&safe, &context), "new");
    }
    assert_eq!(outcomes, BTreeSet::from(["new", "old"]), "{outcomes:?}");
}

#[test]
fn kill_during_a_replacement_leaves_a_readable_item_for_a_reader_too() {
    let fixture = Fixture::new();
    for k in fixture.points() {
        let (instance, output) = fixture.run(k);
        let context = format!("replace killed at crash point {k}, opened for reading");
        assert_killed(&output, &context);
        let safe = reopen_read_only(&instance.path().join(SAFE));
        fixture.content_of(&safe, &context);
    }
}

#[test]
fn kill_during_a_replacement_leaves_no_temporary_file_after_the_next_unlock() {
    let fixture = Fixture::new();
    for k in fixture.points() {
        let (instance, output) = fixture.run(k);
        let context = format!("replace killed at crash point {k}");
        assert_killed(&output, &context);
        let path = instance.path().join(SAFE);
        let safe = reopen(&path);
        assert_eq!(temporaries(&path), Vec::<PathBuf>::new(), "{context}");
        let check = safe
            .check(true, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(check.is_clean(), "{context}: {:?}", check.problems);
    }
}
