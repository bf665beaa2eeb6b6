//! Full-text search over names, comments and tags (SQLite FTS5 inside the encrypted database),
//! in the whole Safe or inside one folder, a page at a time.

use std::collections::HashMap;

use uuid::Uuid;

use crate::browse::{IN_TRASH_CTE, MAX_PAGE, Row, with_tags};
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

impl Open<'_> {
    /// The matching items (by name) and how many match in all.
    pub(crate) fn search(&self, query: &SearchQuery) -> Result<(Vec<SearchHit>, u64)> {
        let columns = ITEM_COLUMNS
            .split(", ")
            .map(|c| format!("items.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut ctes = vec![IN_TRASH_CTE.to_owned()];
        let mut sql = String::new();
        let mut conditions = Vec::new();
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        if let Some(expression) = match_expression(&query.text) {
            sql.push_str(" JOIN item_search ON item_search.rowid = items.rowid");
            values.push(Box::new(expression));
            conditions.push(format!("item_search MATCH ?{}", values.len()));
        }
        if let Some(tag) = &query.tag {
            values.push(Box::new(tag.trim().to_owned()));
            conditions.push(format!(
                "items.id IN (SELECT item FROM item_tags JOIN tags ON tags.id = item_tags.tag WHERE tags.name = ?{})",
                values.len()
            ));
        }
        if query.favorites {
            conditions.push("items.favorite = 1".to_owned());
        }
        conditions.push(if query.trash {
            "items.id IN (SELECT id FROM in_trash)".to_owned()
        } else {
            "items.id NOT IN (SELECT id FROM in_trash)".to_owned()
        });
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
            conditions.push("items.parent IN (SELECT id FROM scope)".to_owned());
        }
        values.push(Box::new(
            query
                .limit
                .map_or(i64::MAX, |limit| limit.min(MAX_PAGE) as i64),
        ));
        let limit = values.len();
        values.push(Box::new(query.offset as i64));
        let offset = values.len();
        let sql = format!(
            "WITH RECURSIVE {} SELECT {columns}, count(*) OVER () FROM items{sql} WHERE {}
             ORDER BY items.name_key LIMIT ?{limit} OFFSET ?{offset}",
            ctes.join(", "),
            conditions.join(" AND ")
        );
        let mut statement = self.db().prepare_cached(&sql)?;
        let mut rows = statement.query(rusqlite::params_from_iter(
            values.iter().map(|v| v.as_ref()),
        ))?;
        let mut items: Vec<Item> = Vec::new();
        let mut total = 0;
        while let Some(row) = rows.next()? {
            total = row.get(ITEM_COLUMN_COUNT)?;
            items.push(query::item_from_row(row)?);
        }
        drop(rows);
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
