//! Full-text search over names, comments and tags (SQLite FTS5 inside the encrypted database),
//! in the whole Safe or inside one folder, a page at a time.

use std::collections::HashMap;

use uuid::Uuid;

use crate::browse::{MAX_PAGE, Row, with_tags};
use crate::error::Result;
use crate::item::Item;
use crate::query::{self, ITEM_COLUMN_COUNT, ITEM_COLUMNS};
use crate::safe::{Open, Safe};

/// What to look for. Every word of `text` must match the start of a word in the name, comment
/// or tags (case and accents ignored).
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Words to find; empty matches everything the filters allow.
    pub text: String,
    /// Only inside this folder, at any depth (the whole Safe for `None`).
    pub folder: Option<Uuid>,
    /// Only items carrying this tag.
    pub tag: Option<String>,
    /// Only favorites.
    pub favorites: bool,
    /// Search the trash instead of the live items.
    pub trash: bool,
    /// Skip this many results (paging).
    pub offset: u64,
    /// At most this many results (all when `None`).
    pub limit: Option<u64>,
}

/// One search result: the item, its tags, and the path of the folder it is in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SearchHit {
    /// The item and its tags.
    #[serde(flatten)]
    pub row: Row,
    /// The path of its folder (`/` at the root).
    pub folder_path: String,
}

/// An FTS5 expression that treats every user word as a literal prefix.
fn match_expression(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The rowids of live or trashed items as `in_trash(id, r)`: trashed themselves or inside a
/// trashed folder (read from indexes; the trash is small beside the Safe).
const TRASH_ROWS_CTE: &str = "in_trash(id, r) AS (
    SELECT id, rowid FROM items WHERE trashed_at IS NOT NULL
    UNION SELECT items.id, items.rowid FROM items JOIN in_trash ON items.parent = in_trash.id)";

/// How much cheaper a step along the name index is than fetching a row by rowid to sort it.
const WALK_STEP_COST: u64 = 20;

impl Open<'_> {
    /// The matching items (by name) and how many match in all.
    pub(crate) fn search(&self, query: &SearchQuery) -> Result<(Vec<SearchHit>, u64)> {
        let limit = query
            .limit
            .map_or(i64::MAX as u64, |limit| limit.min(MAX_PAGE));
        let (items, total) = match match_expression(&query.text) {
            Some(expression) => self.text_search(query, &expression, limit)?,
            None => self.filter_search(query, limit)?,
        };
        let mut folder_paths: HashMap<Option<Uuid>, String> = HashMap::new();
        let mut hits = Vec::with_capacity(items.len());
        for row in with_tags(self.db(), items)? {
            let parent = row.item.parent;
            let folder_path = match folder_paths.get(&parent) {
                Some(path) => path.clone(),
                None => {
                    let path = match parent {
                        Some(parent) => self.path_of(parent)?,
                        None => "/".to_owned(),
                    };
                    folder_paths.insert(parent, path.clone());
                    path
                }
            };
            hits.push(SearchHit { row, folder_path });
        }
        Ok((hits, total))
    }

    /// The filters of `query` as CTEs and conditions on a rowid `of`, with their values.
    fn filters(
        query: &SearchQuery,
        of: &str,
        values: &mut Vec<Box<dyn rusqlite::ToSql>>,
    ) -> (Vec<String>, Vec<String>) {
        let mut ctes = vec![TRASH_ROWS_CTE.to_owned()];
        let mut conditions = vec![format!(
            "{of} {} IN (SELECT r FROM in_trash)",
            if query.trash { "" } else { "NOT" }
        )];
        if let Some(tag) = &query.tag {
            values.push(Box::new(tag.trim().to_owned()));
            conditions.push(format!(
                "{of} IN (SELECT items.rowid FROM item_tags JOIN tags ON tags.id = item_tags.tag
                     JOIN items ON items.id = item_tags.item WHERE tags.name = ?{})",
                values.len()
            ));
        }
        if query.favorites {
            conditions.push(format!(
                "{of} IN (SELECT rowid FROM items WHERE favorite = 1)"
            ));
        }
        if let Some(folder) = query.folder {
            // The folders below `folder` (itself included): an item is inside when its parent
            // is one of them.
            values.push(Box::new(folder));
            ctes.push(format!(
                "scope(id) AS (SELECT ?{}
                 UNION SELECT items.id FROM items JOIN scope ON items.parent = scope.id
                     WHERE items.kind = 'folder')",
                values.len()
            ));
            conditions.push(format!(
                "{of} IN (SELECT items.rowid FROM items JOIN scope ON items.parent = scope.id)"
            ));
        }
        (ctes, conditions)
    }

    /// Text search. The matches are found in the full-text index alone (with the filters as
    /// sets of rowids), so a common word among a million items costs no row of `items` each;
    /// the page is then either sorted out of the matches (few of them) or picked up along the
    /// name index (many of them), whichever reads less.
    fn text_search(
        &self,
        query: &SearchQuery,
        expression: &str,
        limit: u64,
    ) -> Result<(Vec<Item>, u64)> {
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(expression.to_owned())];
        let (ctes, conditions) = Self::filters(query, "item_search.rowid", &mut values);
        let matches = format!(
            "SELECT item_search.rowid FROM item_search WHERE item_search MATCH ?1 AND {}",
            conditions.join(" AND ")
        );
        let ctes = ctes.join(", ");
        let mut rowids: Vec<i64> = Vec::new();
        {
            let mut statement = self
                .db()
                .prepare_cached(&format!("WITH RECURSIVE {ctes} {matches}"))?;
            let mut rows = statement.query(rusqlite::params_from_iter(
                values.iter().map(|v| v.as_ref()),
            ))?;
            while let Some(row) = rows.next()? {
                rowids.push(row.get(0)?);
            }
        }
        let total = rowids.len() as u64;
        if total <= query.offset {
            return Ok((Vec::new(), total));
        }
        let items: i64 =
            self.db()
                .query_row("SELECT ifnull(max(rowid), 0) FROM items", [], |row| {
                    row.get(0)
                })?;
        let walk = query
            .offset
            .saturating_add(limit)
            .saturating_mul(items as u64)
            / total;
        if walk < total.saturating_mul(WALK_STEP_COST) {
            let wanted: std::collections::HashSet<i64> = rowids.into_iter().collect();
            let mut statement = self.db().prepare_cached(
                "SELECT rowid FROM items INDEXED BY items_by_name_anywhere ORDER BY name_key, rowid",
            )?;
            let mut rows = statement.query([])?;
            let mut page = Vec::new();
            let mut skip = query.offset;
            while let Some(row) = rows.next()? {
                let rowid: i64 = row.get(0)?;
                if !wanted.contains(&rowid) {
                    continue;
                }
                if skip > 0 {
                    skip -= 1;
                    continue;
                }
                page.push(rowid);
                if page.len() as u64 == limit {
                    break;
                }
            }
            drop(rows);
            let mut by_rowid = self.db().prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE rowid = ?1"
            ))?;
            let items = page
                .into_iter()
                .map(|rowid| Ok(by_rowid.query_row([rowid], query::item_from_row)?))
                .collect::<Result<Vec<_>>>()?;
            return Ok((items, total));
        }
        values.push(Box::new(limit as i64));
        values.push(Box::new(query.offset.min(i64::MAX as u64) as i64));
        let mut statement = self.db().prepare_cached(&format!(
            "WITH RECURSIVE {ctes} SELECT {ITEM_COLUMNS} FROM items WHERE rowid IN ({matches})
             ORDER BY name_key, rowid LIMIT ?{} OFFSET ?{}",
            values.len() - 1,
            values.len()
        ))?;
        let items = statement
            .query_map(
                rusqlite::params_from_iter(values.iter().map(|v| v.as_ref())),
                query::item_from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok((items, total))
    }

    /// Search by filters alone (no text): what they allow, by name.
    fn filter_search(&self, query: &SearchQuery, limit: u64) -> Result<(Vec<Item>, u64)> {
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let (ctes, conditions) = Self::filters(query, "items.rowid", &mut values);
        values.push(Box::new(limit as i64));
        values.push(Box::new(query.offset.min(i64::MAX as u64) as i64));
        let mut statement = self.db().prepare_cached(&format!(
            "WITH RECURSIVE {} SELECT {ITEM_COLUMNS}, count(*) OVER () FROM items WHERE {}
             ORDER BY name_key, rowid LIMIT ?{} OFFSET ?{}",
            ctes.join(", "),
            conditions.join(" AND "),
            values.len() - 1,
            values.len()
        ))?;
        let mut rows = statement.query(rusqlite::params_from_iter(
            values.iter().map(|v| v.as_ref()),
        ))?;
        let mut items = Vec::new();
        let mut total = 0;
        while let Some(row) = rows.next()? {
            total = row.get(ITEM_COLUMN_COUNT)?;
            items.push(query::item_from_row(row)?);
        }
        drop(rows);
        if items.is_empty() && query.offset > 0 {
            // Past the end: the count comes with the rows, so ask for the first alone.
            let first = SearchQuery {
                offset: 0,
                limit: Some(1),
                ..query.clone()
            };
            total = self.filter_search(&first, 1)?.1;
        }
        Ok((items, total))
    }
}

impl Safe {
    /// Items matching `query`, by name, and how many match in all (for paging).
    ///
    /// # Errors
    /// [`crate::Error::Database`], [`crate::Error::SafeLocked`].
    pub fn search(&self, query: &SearchQuery) -> Result<(Vec<SearchHit>, u64)> {
        self.reading(|open| open.search(query))
    }
}
