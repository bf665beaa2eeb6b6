//! Smaller holes in a backup (issue 9, part 6).
//!
//! - A file anyone can put into the Safe (its content a well-formed item record) has a data
//!   file that is a valid message under the Safe's data keys; copied among the backup's records,
//!   it must never be read as one (records are sealed with keys derived for that alone).
//! - `backup.json` is plaintext, writable by anyone who can write the backup folder: editing it
//!   to claim an interrupted run (or no complete run at all) must not make verify or restore
//!   accept a record the last complete run did not write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::Path;

use arca_safe::{
    BackupOptions, ImportOptions, JobControl, ProblemKind, Safe, Unlock, VerifyReport,
    restore_backup, verify_backup,
};
use common::child::safe_tree;
use common::hostile::{self, IndexMode, Planted};
use common::{import, new_safe, password, test_backoff};
use uuid::Uuid;

fn backup(safe: &Safe, target: &Path) {
    safe.backup(
        target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
}

fn verify(target: &Path) -> VerifyReport {
    verify_backup(
        target,
        Unlock::Password(&password()),
        &test_backoff(),
        true,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap()
}

fn names_after_restore(target: &Path, new_safe: &Path) -> (Vec<String>, arca_safe::RestoreReport) {
    let report = restore_backup(
        target,
        Unlock::Password(&password()),
        &test_backoff(),
        new_safe,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    let safe = common::probe(new_safe, &password()).unwrap();
    let names = safe_tree(&safe, None)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    (names, report)
}

/// Edits `backup.json` as anyone with write access to the folder can.
fn edit_manifest(target: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let path = target.join("backup.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn a_data_file_copied_among_the_records_is_never_read_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let target = root.join("backup");
    let smuggled = Planted::folder("smuggled", None);
    // A file whose content is a well-formed item record (of a folder, so it needs no data).
    let template = hostile::Template {
        size: 0,
        hmac_tag: String::new(),
        sha256: String::new(),
        data_file: root.join("unused"),
    };
    let source = root.join("record.xml");
    fs::write(&source, hostile::item_xml(&smuggled, &template)).unwrap();
    fs::write(root.join("plain.txt"), b"plain").unwrap();
    let safe = new_safe(root);
    import(
        &safe,
        &[source.clone(), root.join("plain.txt")],
        &ImportOptions::default(),
    );
    let carrier = safe.resolve("/record.xml").unwrap().unwrap().id;
    backup(&safe, &target);
    // Its data file — a valid message under the Safe's data keys — put where the record of
    // the smuggled item would be.
    let record = hostile::record_path(&target, smuggled.id);
    fs::create_dir_all(record.parent().unwrap()).unwrap();
    fs::copy(hostile::data_path(&target, carrier), &record).unwrap();
    let keys = hostile::record_keys(&target, &password());
    for (round, index) in [IndexMode::Complete(sha256), IndexMode::Running]
        .into_iter()
        .enumerate()
    {
        // Whatever the index says (even "a run is under way", which accepts records as they
        // are), the copy does not open as a record.
        hostile::rewrite_index(&target, &keys, index);
        let report = verify(&target);
        let problem = report
            .problems
            .iter()
            .find(|problem| problem.item == Some(smuggled.id))
            .unwrap_or_else(|| panic!("not reported: {:#?}", report.problems));
        assert_eq!(problem.kind, ProblemKind::RecordUnreadable, "{problem:?}");
        let (names, restored) = names_after_restore(&target, &root.join(format!("r{round}")));
        assert!(
            restored
                .failed
                .iter()
                .any(|problem| problem.item == Some(smuggled.id)
                    && problem.kind == ProblemKind::RecordUnreadable),
            "{restored:?}"
        );
        assert_eq!(
            names,
            ["plain.txt", "record.xml"],
            "the record was smuggled in"
        );
    }
    // The same with the item's own UUID: its data file over its own record.
    fs::remove_file(&record).unwrap();
    fs::copy(
        hostile::data_path(&target, carrier),
        hostile::record_path(&target, carrier),
    )
    .unwrap();
    let report = verify(&target);
    assert!(
        report
            .problems
            .iter()
            .any(|problem| problem.item == Some(carrier)
                && problem.kind == ProblemKind::RecordUnreadable),
        "{:#?}",
        report.problems
    );
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// A backup in which the record of `/a.txt` was put back to what an earlier run wrote (the
/// file was renamed `b.txt` since): authentic, but not what the last complete run wrote.
fn rolled_back(root: &Path) -> (std::path::PathBuf, Uuid) {
    fs::write(root.join("a.txt"), b"alpha").unwrap();
    let safe = new_safe(root);
    import(&safe, &[root.join("a.txt")], &ImportOptions::default());
    let id = safe.resolve("/a.txt").unwrap().unwrap().id;
    let target = root.join("backup");
    backup(&safe, &target);
    let record = hostile::record_path(&target, id);
    let old = fs::read(&record).unwrap();
    safe.rename(id, "b.txt").unwrap();
    backup(&safe, &target);
    fs::write(&record, old).unwrap();
    (target, id)
}

fn assert_replaced(report: &VerifyReport, id: Uuid, context: &str) {
    assert!(
        report
            .problems
            .iter()
            .any(|problem| problem.item == Some(id) && problem.kind == ProblemKind::RecordReplaced),
        "{context}: the rolled-back record was accepted: {:#?}",
        report.problems
    );
    assert!(!report.interrupted, "{context}: backup.json was believed");
}

#[test]
fn editing_backup_json_to_claim_an_interrupted_run_does_not_make_a_swapped_record_acceptable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (target, id) = rolled_back(root);
    assert_replaced(&verify(&target), id, "as it is");
    // "A run started after the last complete one" (last_started > last_complete).
    edit_manifest(&target, |manifest| {
        let complete = manifest["last_complete"].as_i64().unwrap();
        manifest["last_started"] = (complete + 1_000).into();
    });
    assert_replaced(&verify(&target), id, "a later run claimed");
    // "No run ever completed."
    edit_manifest(&target, |manifest| {
        manifest["last_complete"] = serde_json::Value::Null;
    });
    assert_replaced(&verify(&target), id, "no complete run claimed");
    // The old name does not come back through a restore either.
    let (names, report) = names_after_restore(&target, &root.join("restored"));
    assert!(
        report
            .failed
            .iter()
            .any(|problem| problem.item == Some(id) && problem.kind == ProblemKind::RecordReplaced),
        "{report:?}"
    );
    assert!(!names.contains(&"a.txt".to_owned()), "{names:?}");
}

#[test]
fn deleting_the_index_and_editing_backup_json_does_not_make_a_swapped_record_acceptable() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let (target, id) = rolled_back(root);
    fs::remove_file(target.join("index.xml.crypt")).unwrap();
    edit_manifest(&target, |manifest| {
        manifest["last_complete"] = serde_json::Value::Null;
    });
    let report = verify(&target);
    assert!(
        report.problems.iter().any(|problem| problem.item == Some(id)
            || problem.kind == ProblemKind::IndexUnreadable),
        "the rolled-back record was accepted silently: {report:?}"
    );
}

#[test]
fn a_deleted_index_is_reported_while_backup_json_says_a_run_completed() {
    let dir = tempfile::tempdir().unwrap();
    let (target, _) = rolled_back(dir.path());
    fs::remove_file(target.join("index.xml.crypt")).unwrap();
    let report = verify(&target);
    assert!(
        report
            .problems
            .iter()
            .any(|problem| problem.kind == ProblemKind::IndexUnreadable),
        "{report:?}"
    );
}
