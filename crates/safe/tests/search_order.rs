//! Search pages come in name order whichever way they are found: sorted out of a few matches,
//! or picked up along the name index when a word matches much of the Safe.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use arca_safe::{ImportOptions, SearchQuery};

use common::{import, new_safe};

#[test]
fn every_page_of_a_common_word_is_in_name_order_and_pages_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("mix");
    fs::create_dir(&source).unwrap();
    // Names out of insertion order, a third of them with the word, some with equal names in
    // two folders.
    for i in 0..240u32 {
        let scrambled = (i * 97) % 240;
        let name = if i % 3 == 0 {
            format!("common {scrambled:03}.txt")
        } else {
            format!("rare {scrambled:03}.txt")
        };
        fs::write(source.join(name), i.to_le_bytes()).unwrap();
    }
    fs::create_dir(source.join("twin")).unwrap();
    fs::write(source.join("twin/common 000.txt"), b"twin").unwrap();
    let safe = new_safe(dir.path());
    import(&safe, &[source], &ImportOptions::default());

    let query = |offset, limit| SearchQuery {
        text: "common".into(),
        offset,
        limit,
        ..SearchQuery::default()
    };
    let (all, total) = safe.search(&query(0, None)).unwrap();
    assert_eq!(total, 81);
    let names: Vec<_> = all.iter().map(|hit| hit.row.item.name.clone()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for limit in [1, 7, 50] {
        let mut paged = Vec::new();
        for offset in (0..total + limit).step_by(limit as usize) {
            let (hits, page_total) = safe.search(&query(offset, Some(limit))).unwrap();
            assert_eq!(page_total, total, "offset {offset}");
            paged.extend(hits);
        }
        assert_eq!(paged, all, "pages of {limit}");
    }
}
