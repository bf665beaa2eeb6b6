//! Reading items: by id, by path, children of a folder, and the path of an item.

use rusqlite::{Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::item::{Content, Item, Kind, name_key};

pub(crate) const ITEM_COLUMNS: &str = "id, parent, kind, name, size, created_at, modified_at, added_at, \
     trashed_at, favorite, comment, content, hmac_tag, sha256";
/// How many columns [`ITEM_COLUMNS`] names: the index of a column selected after them.
pub(crate) const ITEM_COLUMN_COUNT: usize = 14;

pub(crate) fn item_from_row(row: &Row<'_>) -> rusqlite::Result<Item> {
    let invalid = |index: usize, text: String| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, text.into())
    };
    let kind: String = row.get(2)?;
    let content: String = row.get(11)?;
    Ok(Item {
        id: row.get(0)?,
        parent: row.get(1)?,
        kind: Kind::parse(&kind).ok_or_else(|| invalid(2, format!("unknown kind {kind}")))?,
        name: row.get(3)?,
        size: row.get(4)?,
        created_at: row.get(5)?,
        modified_at: row.get(6)?,
        added_at: row.get(7)?,
        trashed_at: row.get(8)?,
        favorite: row.get(9)?,
        comment: row.get(10)?,
        content: Content::parse(&content)
            .ok_or_else(|| invalid(11, format!("unknown content {content}")))?,
        hmac_tag: row.get(12)?,
        sha256: row.get(13)?,
    })
}

pub(crate) fn item(db: &Connection, id: Uuid) -> Result<Item> {
    // Cached: sync looks up every item it replays, and parsing the statement cost more than
    // running it.
    db.prepare_cached(&format!("SELECT {ITEM_COLUMNS} FROM items WHERE id = ?1"))?
        .query_row([id], item_from_row)
        .optional()?
        .ok_or(Error::NotFound { entity: "item", id })
}

/// The live (not trashed) item called `name` in `parent`, compared as NFC.
pub(crate) fn live_child(
    db: &Connection,
    parent: Option<Uuid>,
    name: &str,
) -> Result<Option<Item>> {
    Ok(db
        .prepare_cached(&format!(
            "SELECT {ITEM_COLUMNS} FROM items
             WHERE ifnull(parent, x'') = ifnull(?1, x'') AND name_key = ?2 AND trashed_at IS NULL"
        ))?
        .query_row(rusqlite::params![parent, name_key(name)], item_from_row)
        .optional()?)
}

pub(crate) fn children(
    db: &Connection,
    parent: Option<Uuid>,
    include_trashed: bool,
) -> Result<Vec<Item>> {
    let filter = if include_trashed {
        ""
    } else {
        "AND trashed_at IS NULL"
    };
    let mut statement = db.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE ifnull(parent, x'') = ifnull(?1, x'') {filter}
         ORDER BY kind = 'file', name_key"
    ))?;
    let items = statement
        .query_map([parent], item_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(items)
}

/// Splits a path inside the Safe (`/Photos/2024/a.jpg`; the leading slash is optional) into
/// names.
pub(crate) fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// The live item at `path`; `None` is the root.
pub(crate) fn resolve(db: &Connection, path: &str) -> Result<Option<Item>> {
    let mut current: Option<Item> = None;
    for (depth, name) in components(path).iter().enumerate() {
        if let Some(folder) = &current
            && folder.kind != Kind::Folder
        {
            return Err(Error::NotAFolder(join(&components(path)[..depth])));
        }
        let parent = current.as_ref().map(|item| item.id);
        current = Some(
            live_child(db, parent, name)?.ok_or_else(|| Error::PathNotFound(path.to_owned()))?,
        );
    }
    Ok(current)
}

/// The path of an item from the root (`/a/b`).
pub(crate) fn path_of(db: &Connection, id: Uuid) -> Result<String> {
    let mut names = Vec::new();
    let mut next = Some(id);
    while let Some(id) = next {
        let (name, parent): (String, Option<Uuid>) = db.query_row(
            "SELECT name, parent FROM items WHERE id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        names.push(name);
        next = parent;
        if names.len() > 10_000 {
            return Err(Error::DamagedDatabase(format!("folder cycle at item {id}")));
        }
    }
    names.reverse();
    Ok(join(&names))
}

fn join<S: AsRef<str>>(names: &[S]) -> String {
    let mut path = String::new();
    for name in names {
        path.push('/');
        path.push_str(name.as_ref());
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// Whether `id` or one of its ancestors is in the trash.
pub(crate) fn in_trash(db: &Connection, id: Uuid) -> Result<bool> {
    Ok(db.query_row(
        "WITH RECURSIVE up(id, parent, trashed_at) AS (
             SELECT id, parent, trashed_at FROM items WHERE id = ?1
             UNION ALL
             SELECT items.id, items.parent, items.trashed_at FROM items JOIN up ON items.id = up.parent)
         SELECT count(*) > 0 FROM up WHERE trashed_at IS NOT NULL",
        [id],
        |row| row.get(0),
    )?)
}

/// `id` and everything below it, parents before their children.
pub(crate) fn subtree(db: &Connection, id: Uuid) -> Result<Vec<Item>> {
    let columns = ITEM_COLUMNS
        .split(", ")
        .map(|c| format!("items.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut statement = db.prepare_cached(&format!(
        "WITH RECURSIVE down(id, depth) AS (
             SELECT ?1, 0
             UNION ALL
             SELECT items.id, down.depth + 1 FROM items JOIN down ON items.parent = down.id)
         SELECT {columns} FROM items JOIN down ON items.id = down.id ORDER BY down.depth"
    ))?;
    let items = statement
        .query_map([id], item_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(items)
}
