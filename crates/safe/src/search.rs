//! Full-text search over names, comments and tags (SQLite FTS5 inside the encrypted database).

use crate::error::Result;
use crate::item::Item;
use crate::query::{self, ITEM_COLUMNS};
use crate::safe::Safe;

/// What to look for. Every word of `text` must match the start of a word in the name, comment
/// or tags (case and accents ignored).
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    /// Words to find; empty matches everything the filters allow.
    pub text: String,
    /// Only items carrying this tag.
    pub tag: Option<String>,
    /// Only favorites.
    pub favorites: bool,
    /// Search the trash instead of the live items.
    pub trash: bool,
    /// At most this many results (all when `None`).
    pub limit: Option<usize>,
}

/// An FTS5 expression that treats every user word as a literal prefix.
fn match_expression(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Safe {
    /// Items matching `query`, by name.
    ///
    /// # Errors
    /// [`crate::Error::Database`].
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Item>> {
        let columns = ITEM_COLUMNS
            .split(", ")
            .map(|c| format!("items.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = format!("SELECT {columns} FROM items");
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
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY items.name_key");
        let mut statement = self.db().prepare(&sql)?;
        let rows = statement.query_map(
            rusqlite::params_from_iter(values.iter().map(|v| v.as_ref())),
            query::item_from_row,
        )?;
        let mut found = Vec::new();
        for item in rows {
            let item = item?;
            if query::in_trash(self.db(), item.id)? == query.trash {
                found.push(item);
                if query.limit.is_some_and(|limit| found.len() >= limit) {
                    break;
                }
            }
        }
        Ok(found)
    }
}
