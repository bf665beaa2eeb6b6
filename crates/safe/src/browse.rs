//! What a file browser reads: pages of a folder in any order, the folder tree, favorites,
//! recent items, items with a tag, the trash. Every row comes with its tags, fetched for the
//! whole page in one query, so a page costs the same in a folder of ten items or of a million.
//!
//! Folders always come before files; within each, rows follow the sort key, then the name.

use std::collections::HashMap;

use rusqlite::Connection;
use uuid::Uuid;

use crate::error::Result;
use crate::item::Item;
use crate::query::{self, ITEM_COLUMNS};
use crate::safe::{Open, Safe};

/// What a folder's page is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// By name (Unicode NFC, as stored).
    #[default]
    Name,
    /// By size.
    Size,
    /// By modification time.
    Modified,
    /// Folders, then files, each by name.
    Kind,
}

/// Which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Smallest, oldest, A first.
    #[default]
    Ascending,
    /// Largest, newest, Z first.
    Descending,
}

/// An item and its tags (sorted).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// The item.
    #[serde(flatten)]
    pub item: Item,
    /// Its tags.
    pub tags: Vec<String>,
}

/// Some rows of a longer list.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Page {
    /// Rows in the whole list.
    pub total: u64,
    /// Where this page starts in it.
    pub offset: u64,
    /// The rows.
    pub rows: Vec<Row>,
}

/// The largest page a caller gets, whatever it asks for.
pub(crate) const MAX_PAGE: u64 = 1000;

/// Items that are in the trash themselves or inside a trashed folder, as a CTE named
/// `in_trash(id)`.
pub(crate) const IN_TRASH_CTE: &str = "in_trash(id) AS (
    SELECT id FROM items WHERE trashed_at IS NOT NULL
    UNION SELECT items.id FROM items JOIN in_trash ON items.parent = in_trash.id)";

/// Adds each row's tags, with one query for the whole page.
pub(crate) fn with_tags(db: &Connection, items: Vec<Item>) -> Result<Vec<Row>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = vec!["?"; items.len()].join(", ");
    let mut statement = db.prepare_cached(&format!(
        "SELECT item_tags.item, tags.name FROM item_tags JOIN tags ON tags.id = item_tags.tag
         WHERE item_tags.item IN ({placeholders}) ORDER BY tags.name"
    ))?;
    let mut tags: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut rows = statement.query(rusqlite::params_from_iter(items.iter().map(|item| item.id)))?;
    while let Some(row) = rows.next()? {
        tags.entry(row.get(0)?).or_default().push(row.get(1)?);
    }
    Ok(items
        .into_iter()
        .map(|item| {
            let tags = tags.remove(&item.id).unwrap_or_default();
            Row { item, tags }
        })
        .collect())
}

fn order_by(sort: SortKey, order: SortOrder) -> String {
    let direction = match order {
        SortOrder::Ascending => "ASC",
        SortOrder::Descending => "DESC",
    };
    match sort {
        SortKey::Name | SortKey::Kind => format!("name_key {direction}"),
        SortKey::Size => format!("size {direction}, name_key {direction}"),
        SortKey::Modified => format!("modified_at {direction}, name_key {direction}"),
    }
}

impl Open<'_> {
    pub(crate) fn page(
        &self,
        folder: Option<Uuid>,
        sort: SortKey,
        order: SortOrder,
        offset: u64,
        limit: u64,
    ) -> Result<Page> {
        let limit = limit.min(MAX_PAGE);
        let count = |kind: &str| -> Result<u64> {
            Ok(self
                .db()
                .prepare_cached(
                    "SELECT ifnull((SELECT live FROM child_counts
                     WHERE parent = ifnull(?1, x'') AND kind = ?2), 0)",
                )?
                .query_row(rusqlite::params![folder, kind], |row| row.get(0))?)
        };
        let folders = count("folder")?;
        let files = count("file")?;
        // Folders come first, whichever way the rest is sorted.
        let mut items = Vec::new();
        let parts = [("folder", 0, folders), ("file", folders, folders + files)];
        for (kind, start, end) in parts {
            let from = offset.max(start);
            let to = offset.saturating_add(limit).min(end);
            if from >= to {
                continue;
            }
            let mut statement = self.db().prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items
                 WHERE ifnull(parent, x'') = ifnull(?1, x'') AND kind = ?2 AND trashed_at IS NULL
                 ORDER BY {} LIMIT ?3 OFFSET ?4",
                order_by(sort, order)
            ))?;
            let rows = statement.query_map(
                rusqlite::params![folder, kind, to - from, from - start],
                query::item_from_row,
            )?;
            for row in rows {
                items.push(row?);
            }
        }
        Ok(Page {
            total: folders + files,
            offset,
            rows: with_tags(self.db(), items)?,
        })
    }

    /// A page of a list of live items selected by `condition` (on `items`), in `order`.
    fn live_page(
        &self,
        condition: &str,
        order: &str,
        parameter: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Page> {
        let limit = limit.min(MAX_PAGE);
        let mut statement = self.db().prepare_cached(&format!(
            "WITH RECURSIVE {IN_TRASH_CTE}
             SELECT {ITEM_COLUMNS}, count(*) OVER () FROM items
             WHERE {condition} AND id NOT IN (SELECT id FROM in_trash)
             ORDER BY {order} LIMIT ?1 OFFSET ?2"
        ))?;
        let mut total = 0;
        let mut items = Vec::new();
        let mut rows = match parameter {
            Some(parameter) => statement.query(rusqlite::params![limit, offset, parameter])?,
            None => statement.query(rusqlite::params![limit, offset])?,
        };
        while let Some(row) = rows.next()? {
            total = row.get(query::ITEM_COLUMN_COUNT)?;
            items.push(query::item_from_row(row)?);
        }
        drop(rows);
        if items.is_empty() && offset > 0 {
            // Past the end: the count comes from the first row, so ask for it alone.
            total = self.live_page(condition, order, parameter, 0, 1)?.total;
        }
        Ok(Page {
            total,
            offset,
            rows: with_tags(self.db(), items)?,
        })
    }

    pub(crate) fn favorites(&self, offset: u64, limit: u64) -> Result<Page> {
        self.live_page("favorite = 1", "kind DESC, name_key", None, offset, limit)
    }

    pub(crate) fn recent(&self, offset: u64, limit: u64) -> Result<Page> {
        self.live_page(
            "kind = 'file'",
            "added_at DESC, name_key",
            None,
            offset,
            limit,
        )
    }

    pub(crate) fn tagged(&self, tag: &str, offset: u64, limit: u64) -> Result<Page> {
        self.live_page(
            "id IN (SELECT item FROM item_tags JOIN tags ON tags.id = item_tags.tag
                    WHERE tags.name = ?3)",
            "kind DESC, name_key",
            Some(tag.trim()),
            offset,
            limit,
        )
    }

    pub(crate) fn trash_page(&self, offset: u64, limit: u64) -> Result<Page> {
        let limit = limit.min(MAX_PAGE);
        let mut statement = self.db().prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS}, count(*) OVER () FROM items WHERE trashed_at IS NOT NULL
             ORDER BY trashed_at DESC, name_key LIMIT ?1 OFFSET ?2"
        ))?;
        let mut total = 0;
        let mut items = Vec::new();
        let mut rows = statement.query(rusqlite::params![limit, offset])?;
        while let Some(row) = rows.next()? {
            total = row.get(query::ITEM_COLUMN_COUNT)?;
            items.push(query::item_from_row(row)?);
        }
        drop(rows);
        if items.is_empty() && offset > 0 {
            // Past the end: the count comes with the rows, so ask for it alone.
            total = self.db().query_row(
                "SELECT count(*) FROM items WHERE trashed_at IS NOT NULL",
                [],
                |row| row.get(0),
            )?;
        }
        Ok(Page {
            total,
            offset,
            rows: with_tags(self.db(), items)?,
        })
    }

    pub(crate) fn subfolders(&self, parent: Option<Uuid>) -> Result<Vec<(Item, bool)>> {
        let mut statement = self.db().prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS}, EXISTS (SELECT 1 FROM items AS inside
                 WHERE inside.parent = items.id AND inside.kind = 'folder'
                 AND inside.trashed_at IS NULL)
             FROM items WHERE ifnull(parent, x'') = ifnull(?1, x'') AND kind = 'folder'
                 AND trashed_at IS NULL
             ORDER BY name_key"
        ))?;
        let rows = statement.query_map([parent], |row| {
            Ok((
                query::item_from_row(row)?,
                row.get(query::ITEM_COLUMN_COUNT)?,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Files and folders inside `folder` at any depth, not counting the trash.
    pub(crate) fn count_inside(&self, folder: Uuid) -> Result<u64> {
        Ok(self.db().query_row(
            "WITH RECURSIVE inside(id) AS (
                 SELECT id FROM items WHERE parent = ?1 AND trashed_at IS NULL
                 UNION ALL SELECT items.id FROM items JOIN inside ON items.parent = inside.id
                     WHERE items.trashed_at IS NULL)
             SELECT count(*) FROM inside",
            [folder],
            |row| row.get(0),
        )?)
    }
}

impl Safe {
    /// A page of `folder` (the root for `None`): folders first, then files, each sorted by
    /// `sort` (then by name), from `offset`, at most `limit` (≤ 1,000) rows, with their tags.
    ///
    /// # Errors
    /// [`crate::Error::Database`], [`crate::Error::SafeLocked`].
    pub fn page(
        &self,
        folder: Option<Uuid>,
        sort: SortKey,
        order: SortOrder,
        offset: u64,
        limit: u64,
    ) -> Result<Page> {
        self.reading(|open| open.page(folder, sort, order, offset, limit))
    }

    /// Favorites outside the trash: folders first, by name.
    ///
    /// # Errors
    /// As [`Safe::page`].
    pub fn favorites(&self, offset: u64, limit: u64) -> Result<Page> {
        self.reading(|open| open.favorites(offset, limit))
    }

    /// Files outside the trash, most recently added first.
    ///
    /// # Errors
    /// As [`Safe::page`].
    pub fn recent(&self, offset: u64, limit: u64) -> Result<Page> {
        self.reading(|open| open.recent(offset, limit))
    }

    /// Items outside the trash carrying `tag`: folders first, by name.
    ///
    /// # Errors
    /// As [`Safe::page`].
    pub fn tagged(&self, tag: &str, offset: u64, limit: u64) -> Result<Page> {
        self.reading(|open| open.tagged(tag, offset, limit))
    }

    /// The items at the top of the trash, most recently trashed first.
    ///
    /// # Errors
    /// As [`Safe::page`].
    pub fn trash_page(&self, offset: u64, limit: u64) -> Result<Page> {
        self.reading(|open| open.trash_page(offset, limit))
    }

    /// The folders in `parent` (the root for `None`), by name, each with whether it has
    /// folders in it: the folder tree, one level at a time.
    ///
    /// # Errors
    /// As [`Safe::page`].
    pub fn subfolders(&self, parent: Option<Uuid>) -> Result<Vec<(Item, bool)>> {
        self.reading(|open| open.subfolders(parent))
    }

    /// How many files and folders `folder` holds at any depth (the trash not counted).
    ///
    /// # Errors
    /// As [`Safe::page`].
    pub fn count_inside(&self, folder: Uuid) -> Result<u64> {
        self.reading(|open| open.count_inside(folder))
    }
}
