//! A page's total is kept as items come and go (not counted per page): it must stay equal to
//! what the folder holds through every way an item enters, moves, is trashed, restored or
//! deleted, and through a reopen.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use arca_safe::{ImportOptions, Safe, SortKey, SortOrder};
use uuid::Uuid;

use common::{import, new_safe, password};

/// Asserts that every folder's page total is the number of live items it holds.
fn assert_totals(safe: &Safe, folders: &[Option<Uuid>]) {
    for &folder in folders {
        let total = safe
            .page(folder, SortKey::Name, SortOrder::Ascending, 0, 1)
            .unwrap()
            .total;
        let live = safe.children(folder, false).unwrap().len() as u64;
        assert_eq!(total, live, "folder {folder:?}");
    }
}

#[test]
fn page_totals_follow_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("Photos");
    fs::create_dir_all(source.join("Inner")).unwrap();
    for i in 0..5 {
        fs::write(source.join(format!("p{i}.jpg")), [i as u8; 10]).unwrap();
    }
    fs::write(source.join("Inner/deep.txt"), b"deep").unwrap();
    let safe = new_safe(dir.path());
    import(&safe, &[source], &ImportOptions::default());
    let photos = safe.resolve_folder("/Photos").unwrap();
    let inner = safe.resolve_folder("/Photos/Inner").unwrap();
    let other = Some(safe.create_folder(None, "Other").unwrap());
    let all = [None, photos, inner, other];
    assert_totals(&safe, &all);
    assert_eq!(
        safe.page(photos, SortKey::Size, SortOrder::Descending, 0, 100)
            .unwrap()
            .total,
        6
    );

    let p0 = safe.resolve("/Photos/p0.jpg").unwrap().unwrap().id;
    let p1 = safe.resolve("/Photos/p1.jpg").unwrap().unwrap().id;
    safe.move_to(p0, other).unwrap();
    assert_totals(&safe, &all);
    safe.rename(p0, "renamed.jpg").unwrap();
    safe.trash(p1).unwrap();
    assert_totals(&safe, &all);
    safe.trash(inner.unwrap()).unwrap();
    assert_totals(&safe, &all);
    safe.restore_from_trash(p1).unwrap();
    assert_totals(&safe, &all);
    safe.move_to(p1, None).unwrap();
    safe.trash(p1).unwrap();
    assert_totals(&safe, &all);
    safe.empty_trash().unwrap();
    assert_totals(&safe, &[None, photos, other]);
    assert_eq!(
        safe.page(photos, SortKey::Name, SortOrder::Ascending, 0, 10)
            .unwrap()
            .total,
        3
    );

    // The same after the Safe is closed and opened again.
    let path = safe.layout().root().to_path_buf();
    drop(safe);
    let safe = Safe::open(&path, &password()).unwrap();
    assert_totals(&safe, &[None, photos, other]);
}
