//! Shortcuts for `arca-bench` only, hidden from the documentation: a million rows recorded
//! through import would take an hour and gigabytes of data files, and a page is measured against
//! a bare `SELECT` on the same database. Nothing else calls them.

use uuid::Uuid;

use crate::changes::Change;
use crate::error::Result;
use crate::item::{Content, Item, Kind};
use crate::safe::Safe;

/// Rows recorded per transaction.
const BATCH: usize = 50_000;

impl Safe {
    /// Records `count` files in `folder` as `row(i)` names and sizes them, without data files
    /// (their content is missing), in a few large transactions.
    ///
    /// # Errors
    /// As any write to the database.
    #[doc(hidden)]
    pub fn bench_record_files(
        &self,
        folder: Option<Uuid>,
        count: usize,
        row: &dyn Fn(usize) -> (String, u64),
    ) -> Result<Vec<Uuid>> {
        self.writing(|open| {
            let mut ids = Vec::with_capacity(count);
            for start in (0..count).step_by(BATCH) {
                let mut changes = open.changes()?;
                changes.defer_search();
                let now = changes.at();
                for i in start..(start + BATCH).min(count) {
                    let (name, size) = row(i);
                    let id = Uuid::new_v4();
                    changes.apply(Change::InsertItem(Item {
                        id,
                        parent: folder,
                        kind: Kind::File,
                        name,
                        size,
                        created_at: Some(now),
                        modified_at: Some(now - i as i64),
                        added_at: now,
                        trashed_at: None,
                        favorite: false,
                        comment: String::new(),
                        content: Content::Missing,
                        hmac_tag: None,
                        sha256: None,
                    }))?;
                    ids.push(id);
                }
                changes.commit()?;
            }
            Ok(ids)
        })
    }

    /// The least a page of `folder`'s files sorted by size (largest first) can cost: the same
    /// rows, columns and tags in one statement from the same index, with nothing made of them.
    /// Returns the row count.
    ///
    /// # Errors
    /// As any read of the database.
    #[doc(hidden)]
    pub fn bench_bare_page_by_size(
        &self,
        folder: Option<Uuid>,
        offset: u64,
        limit: u64,
    ) -> Result<usize> {
        self.reading(|open| {
            let mut statement = open.db().prepare_cached(&format!(
                "SELECT {}, (SELECT group_concat(tags.name) FROM item_tags
                     JOIN tags ON tags.id = item_tags.tag WHERE item_tags.item = items.id)
                 FROM items INDEXED BY items_by_size
                 WHERE ifnull(parent, x'') = ifnull(?1, x'') AND kind = 'file' AND trashed_at IS NULL
                 ORDER BY size DESC, name_key DESC LIMIT ?2 OFFSET ?3",
                crate::query::ITEM_COLUMNS
            ))?;
            let mut rows = statement.query(rusqlite::params![folder, limit, offset])?;
            let mut count = 0;
            while let Some(row) = rows.next()? {
                for column in 0..=crate::query::ITEM_COLUMN_COUNT {
                    std::hint::black_box(row.get_ref(column)?);
                }
                count += 1;
            }
            Ok(count)
        })
    }
}
