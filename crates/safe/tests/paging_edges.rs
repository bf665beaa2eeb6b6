//! Pages asked for far past the end: never a panic, never the first page again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod open_common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use arca_safe::{SearchQuery, SortKey, SortOrder};
use open_common::*;

#[test]
fn a_page_far_past_the_end_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let folder = safe.create_folder(None, "a").unwrap();
    safe.set_favorite(folder, true).unwrap();
    safe.add_tag(folder, "t").unwrap();
    for offset in [u64::MAX, 1 << 63, (1 << 63) - 5] {
        let rows = |what: &str, list: &dyn Fn() -> arca_safe::Result<usize>| {
            match catch_unwind(AssertUnwindSafe(list)) {
                Err(_) => panic!("{what} at offset {offset} panicked"),
                Ok(Ok(rows)) => assert_eq!(rows, 0, "{what} at offset {offset}"),
                // Refusing an offset no list can reach is fine too.
                Ok(Err(_)) => {}
            }
        };
        rows("search", &|| {
            safe.search(&SearchQuery {
                offset,
                limit: Some(10),
                ..SearchQuery::default()
            })
            .map(|(hits, _)| hits.len())
        });
        rows("page", &|| {
            safe.page(None, SortKey::Name, SortOrder::Ascending, offset, 10)
                .map(|page| page.rows.len())
        });
        rows("recent", &|| {
            safe.recent(offset, 10).map(|page| page.rows.len())
        });
        rows("favorites", &|| {
            safe.favorites(offset, 10).map(|page| page.rows.len())
        });
        rows("tagged", &|| {
            safe.tagged("t", offset, 10).map(|page| page.rows.len())
        });
        rows("trash", &|| {
            safe.trash_page(offset, 10).map(|page| page.rows.len())
        });
    }
}
