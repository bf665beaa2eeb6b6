//! Helpers shared by the backup tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use arca_safe::{
    BackupOptions, BackupReport, ImportOptions, Item, JobControl, Kind, RestoreReport, Safe,
    Unlock, VerifyReport, restore_backup, verify_backup,
};
use uuid::Uuid;

use crate::common::child::pseudo_random;
use crate::common::{import, password, test_backoff};

/// Marks that must never appear in any byte of a backup.
pub const NAME_MARKER: &str = "SECRET-NAME-c0ffee";
pub const CONTENT_MARKER: &[u8] = b"CLEARTEXT-MARKER-backup-91";
pub const COMMENT_MARKER: &str = "SECRET-COMMENT-bead";
pub const TAG_MARKER: &str = "SECRET-TAG-f00d";

/// Every item of the Safe (trashed ones and what is inside them included) with its tags,
/// sorted by UUID.
pub fn all_items(safe: &Safe) -> Vec<(Item, Vec<String>)> {
    let mut out = Vec::new();
    let mut stack = vec![None];
    while let Some(folder) = stack.pop() {
        for item in safe.children(folder, true).unwrap() {
            if item.kind == Kind::Folder {
                stack.push(Some(item.id));
            }
            let tags = safe.tags_of(item.id).unwrap();
            out.push((item, tags));
        }
    }
    out.sort_by_key(|(item, _)| item.id);
    out
}

/// Every file's bytes, by UUID.
pub fn all_contents(safe: &Safe) -> BTreeMap<Uuid, Vec<u8>> {
    all_items(safe)
        .into_iter()
        .filter(|(item, _)| item.kind == Kind::File)
        .map(|(item, _)| (item.id, safe.read(item.id).unwrap().to_vec()))
        .collect()
}

/// Asserts two Safes hold the same items (UUIDs, every attribute, tags) and the same bytes.
pub fn assert_same_safe(original: &Safe, restored: &Safe, context: &str) {
    let (a, b) = (all_items(original), all_items(restored));
    assert_eq!(a.len(), b.len(), "{context}: item counts differ");
    for (left, right) in a.iter().zip(&b) {
        assert_eq!(left, right, "{context}: an item differs");
    }
    assert!(
        all_contents(original) == all_contents(restored),
        "{context}: file contents differ"
    );
}

/// A Safe with Unicode names, empty files and folders, nested folders, tags, favorites,
/// comments and trashed items (a file and a folder with content).
pub fn sample_safe(dir: &Path) -> Safe {
    let source = dir.join("source");
    let root = source.join("Fotos Zoë");
    fs::create_dir_all(root.join("日本 旅行/empty folder")).unwrap();
    fs::create_dir_all(root.join("old stuff/inner")).unwrap();
    fs::write(root.join("empty.txt"), b"").unwrap();
    fs::write(
        root.join(format!("{NAME_MARKER}.txt")),
        [CONTENT_MARKER, b" and more"].concat(),
    )
    .unwrap();
    fs::write(root.join("日本 旅行/東京 🗼.jpg"), pseudo_random(1, 70_000)).unwrap();
    fs::write(root.join("日本 旅行/Café ☕.txt"), b"caf\xc3\xa9").unwrap();
    fs::write(root.join("old stuff/inner/deep.bin"), pseudo_random(2, 17)).unwrap();
    fs::write(root.join("old stuff/gone.txt"), b"to the trash").unwrap();
    fs::write(source.join("top level.md"), [CONTENT_MARKER, b"#"].concat()).unwrap();
    let safe = crate::common::new_safe(dir);
    import(
        &safe,
        &[root.clone(), source.join("top level.md")],
        &ImportOptions::default(),
    );
    fs::remove_dir_all(&source).unwrap();
    let id = |safe: &Safe, path: &str| safe.resolve(path).unwrap().unwrap().id;
    let tokyo = id(&safe, "/Fotos Zoë/日本 旅行/東京 🗼.jpg");
    safe.add_tag(tokyo, "Reise").unwrap();
    safe.add_tag(tokyo, TAG_MARKER).unwrap();
    safe.set_favorite(tokyo, true).unwrap();
    safe.set_comment(tokyo, &format!("{COMMENT_MARKER}\nzweite Zeile"))
        .unwrap();
    let top = id(&safe, "/top level.md");
    safe.add_tag(top, "Reise").unwrap();
    safe.set_comment(top, " leading and trailing ").unwrap();
    let folder = id(&safe, "/Fotos Zoë/日本 旅行");
    safe.set_favorite(folder, true).unwrap();
    safe.add_tag(folder, "Ordner").unwrap();
    let gone = id(&safe, "/Fotos Zoë/old stuff/gone.txt");
    safe.trash(gone).unwrap();
    let inner = id(&safe, "/Fotos Zoë/old stuff/inner");
    safe.trash(inner).unwrap();
    safe.create_folder(None, "Leer ∅").unwrap();
    safe
}

pub fn backup(safe: &Safe, target: &Path, keep_deleted: bool) -> BackupReport {
    safe.backup(
        target,
        &BackupOptions {
            keep_deleted,
            threads: Some(2),
            items: None,
        },
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap()
}

pub fn verify(target: &Path, full: bool) -> VerifyReport {
    verify_backup(
        target,
        Unlock::Password(&password()),
        &test_backoff(),
        full,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap()
}

pub fn restore(target: &Path, new_safe: &Path) -> RestoreReport {
    restore_backup(
        target,
        Unlock::Password(&password()),
        &test_backoff(),
        new_safe,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap()
}

/// Every file below `dir` (but the writer lock) with its inode and modification time.
pub fn file_stamps(dir: &Path) -> BTreeMap<String, (u64, i64, i64)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            let metadata = fs::metadata(&path).unwrap();
            if metadata.is_dir() {
                stack.push(path);
            } else if path.file_name() != Some(std::ffi::OsStr::new(arca_safe::LOCK_FILE)) {
                // The lock file names each writer while it holds the lock: not content.
                out.insert(
                    path.strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    (metadata.ino(), metadata.mtime(), metadata.mtime_nsec()),
                );
            }
        }
    }
    out
}
