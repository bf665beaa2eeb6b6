//! `check` finds what is wrong and names it; `repair` fixes what it safely can.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;

use arca_safe::{Content, ImportOptions, JobControl, Problem};
use common::*;

#[test]
fn clean_safe_checks_clean_then_each_problem_is_named_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("documents");
    fs::create_dir(&src).unwrap();
    for name in ["a.txt", "b.txt", "c.txt", "d.txt"] {
        fs::write(src.join(name), format!("the content of {name}").repeat(100)).unwrap();
    }
    let safe = new_safe(dir.path());
    import(&safe, &[src], &ImportOptions::default());
    let report = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    assert_eq!(report.files_checked, 4);

    let id = |safe: &arca_safe::Safe, name: &str| {
        safe.resolve(&format!("/documents/{name}"))
            .unwrap()
            .unwrap()
            .id
    };
    let (a, b, c, d) = (
        id(&safe, "a.txt"),
        id(&safe, "b.txt"),
        id(&safe, "c.txt"),
        id(&safe, "d.txt"),
    );
    let layout = safe.layout().clone();
    // A flipped byte in the middle only shows with --full; a swap shows in the quick check.
    let mut bytes = fs::read(layout.data_file(a)).unwrap();
    bytes[100] ^= 1;
    fs::write(layout.data_file(a), bytes).unwrap();
    let (file_b, file_c) = (
        fs::read(layout.data_file(b)).unwrap(),
        fs::read(layout.data_file(c)).unwrap(),
    );
    fs::write(layout.data_file(b), &file_c).unwrap();
    fs::write(layout.data_file(c), &file_b).unwrap();
    // An orphan: d's data file copied under a UUID no item has; and a leftover temp file.
    let orphan_id = uuid::Uuid::new_v4();
    let orphan = layout.data_file(orphan_id);
    fs::create_dir_all(orphan.parent().unwrap()).unwrap();
    fs::copy(layout.data_file(d), &orphan).unwrap();
    fs::write(
        layout.data_file(d).with_extension("crypt.abc.tmp"),
        b"partial",
    )
    .unwrap();

    let quick = safe
        .check(false, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    let names = |report: &arca_safe::CheckReport| format!("{:?}", report.problems);
    assert!(
        !names(&quick).contains("/documents/a.txt"),
        "a flipped byte is found only by --full"
    );
    let full = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    for expected in [
        "/documents/a.txt",
        "/documents/b.txt",
        "/documents/c.txt",
        "OrphanDataFile",
        "TemporaryFile",
    ] {
        assert!(
            names(&full).contains(expected),
            "{expected} not in {}",
            names(&full)
        );
    }
    assert!(full.problems.iter().any(
        |p| matches!(p, Problem::DamagedDataFile { reason, .. } if reason.contains("replaced"))
    ));

    let repaired = safe
        .check(true, true, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(!repaired.repairs.is_empty());
    for damaged in [a, b, c] {
        assert_eq!(safe.item(damaged).unwrap().content, Content::Missing);
    }
    let recovered = safe
        .children(safe.resolve_folder("/Recovered").unwrap(), false)
        .unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(
        &safe.read(recovered[0].id).unwrap()[..],
        fs::read(dir.path().join("documents/d.txt"))
            .unwrap_or_else(|_| b"the content of d.txt".repeat(100))
            .as_slice()
    );
    // The files marked missing stay problems (named, and found again by every check) until
    // they are restored or deleted; nothing else is left.
    let after = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    let mut missing: Vec<&str> = after
        .problems
        .iter()
        .map(|problem| match problem {
            Problem::MissingContent { path } => path.as_str(),
            other => panic!("unexpected problem after the repair: {other:?}"),
        })
        .collect();
    missing.sort_unstable();
    assert_eq!(
        missing,
        ["/documents/a.txt", "/documents/b.txt", "/documents/c.txt"]
    );
    for damaged in [a, b, c] {
        safe.trash(damaged).unwrap();
    }
    safe.empty_trash().unwrap();
    let after = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(after.is_clean(), "{:?}", after.problems);
    assert_eq!(
        &safe.read(d).unwrap()[..],
        "the content of d.txt".repeat(100).as_bytes()
    );
    assert_no_leaks(
        safe.layout().root(),
        &[b"the content of", b"documents", b"a.txt", b"d.txt"],
    );
}
