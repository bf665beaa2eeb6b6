//! The one path every change to a Safe's attributes takes.
//!
//! A [`ChangeSet`] applies changes to the attribute tables and appends each one, in the same
//! transaction, to this device's transaction log (`operations`): operation UUID, device UUID,
//! per-device sequence number, vector clock, entity and new field values. Nothing else writes
//! `items`, `tags`, `item_tags` or `item_search`, so the log is complete, and sync can replay it.
//! The one other writer is sync's replay (`sync::replay`), inside a change set: it records other
//! devices' operations here and writes the state they resolve to; what it must decide itself
//! (a name two devices gave, an item whose folder is gone) it applies as this device's changes.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde_json::json;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::item::{Item, ItemUpdate, name_key};
use crate::name::validate_name;

/// One change to the Safe's attributes.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    InsertItem(Item),
    UpdateItem { id: Uuid, update: ItemUpdate },
    DeleteItem { id: Uuid },
    InsertTag { id: Uuid, name: String },
    RenameTag { id: Uuid, name: String },
    DeleteTag { id: Uuid },
    TagItem { item: Uuid, tag: Uuid },
    UntagItem { item: Uuid, tag: Uuid },
}

/// A vector clock: device UUID → highest sequence number of that device applied here.
pub(crate) type Clock = BTreeMap<Uuid, u64>;

/// Changes being applied in one transaction; nothing is visible until [`ChangeSet::commit`].
pub(crate) struct ChangeSet<'c> {
    transaction: Transaction<'c>,
    device_id: Uuid,
    clock: Clock,
    at: i64,
    /// Rows of `items` inserted without their search entry yet (see [`Self::defer_search`]).
    unsearched: Option<Vec<i64>>,
}

impl<'c> ChangeSet<'c> {
    /// Starts a write transaction.
    pub(crate) fn begin(connection: &'c mut Connection) -> Result<Self> {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (device_id, clock) = device_clock(&transaction)?;
        Ok(Self {
            transaction,
            device_id,
            clock,
            at: crate::time::now_ns(),
            unsearched: None,
        })
    }

    /// From now on, new items get their search entries at commit, all together. For many
    /// inserts at once (an import's plan): while the search index holds rows not yet written
    /// out, SQLite has it write them at the start of every statement that may need undoing,
    /// such as the next insert into `items`, so row by row it wrote one tiny index segment per
    /// item and spent a third of an insert merging them. Until then, a search through
    /// [`Self::reader`] does not find the new items.
    pub(crate) fn defer_search(&mut self) {
        self.unsearched.get_or_insert_with(Vec::new);
    }

    /// Writes the search entries deferred so far, before anything else reads or changes them.
    fn write_deferred_search(&mut self) -> Result<()> {
        let Some(rows) = self.unsearched.as_mut().filter(|rows| !rows.is_empty()) else {
            return Ok(());
        };
        // One statement: each statement on its own would write the index out again.
        let rowids = serde_json::to_string(rows)
            .map_err(|error| Error::DamagedDatabase(error.to_string()))?;
        rows.clear();
        execute_cached(
            &self.transaction,
            "INSERT INTO item_search (rowid, name, comment, tags)
             SELECT rowid, name, comment, '' FROM items
             WHERE rowid IN (SELECT value FROM json_each(?1)) ORDER BY rowid",
            [rowids],
        )?;
        Ok(())
    }

    /// The transaction, for reads that must see the changes made so far.
    pub(crate) fn reader(&self) -> &Connection {
        &self.transaction
    }

    /// The time stamp of this change set.
    pub(crate) fn at(&self) -> i64 {
        self.at
    }

    /// This device's UUID.
    pub(crate) fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// Records that operation `seq` of `device` is applied here (sync's replay): changes made
    /// after it in this change set come after it in every device's order.
    pub(crate) fn observe(&mut self, device: Uuid, seq: u64) {
        let known = self.clock.entry(device).or_insert(0);
        *known = (*known).max(seq);
    }

    /// Records that operations of `device` after `seq` are no longer applied here (taken back
    /// by sync), so that they are read again if they come to count.
    pub(crate) fn unobserve(&mut self, device: Uuid, seq: u64) {
        if let Some(known) = self.clock.get_mut(&device) {
            *known = (*known).min(seq);
        }
    }

    /// Applies `change` and logs it. Every name that reaches the database passes the name
    /// rule here, whatever path it came by (an import, a rename, a restore, a sync).
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a name that breaks the rule (nothing is written); database
    /// errors.
    pub(crate) fn apply(&mut self, change: Change) -> Result<()> {
        match &change {
            Change::InsertItem(item) => validate_name(&item.name)?,
            Change::UpdateItem { update, .. } => {
                if let Some(name) = &update.name {
                    validate_name(name)?;
                }
            }
            Change::InsertTag { name, .. } | Change::RenameTag { name, .. } => {
                crate::tags::validate_tag(name)?;
            }
            _ => {}
        }
        let inserts_item = matches!(change, Change::InsertItem(_));
        if !inserts_item {
            self.write_deferred_search()?;
        }
        let (entity, entity_id, action, fields) = self.write(&change)?;
        if let (true, Some(rows)) = (inserts_item, self.unsearched.as_mut()) {
            rows.push(self.transaction.last_insert_rowid());
        }
        let seq = self.clock.entry(self.device_id).or_insert(0);
        *seq += 1;
        let seq = *seq;
        let clock = serde_json::to_string(&self.clock)
            .map_err(|error| Error::DamagedDatabase(error.to_string()))?;
        // A time-ordered op id (UUID v7) adds to the end of its unique index: a random one
        // dirtied a page of it per operation once the log outgrew the page cache.
        execute_cached(
            &self.transaction,
            "INSERT INTO operations (device_id, seq, op_id, clock, at, entity, entity_id, action, fields)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![self.device_id, seq, Uuid::now_v7(), clock, self.at, entity, entity_id, action, fields.to_string()],
        )?;
        Ok(())
    }

    /// Makes every applied change durable and visible at once.
    pub(crate) fn commit(mut self) -> Result<()> {
        self.write_deferred_search()?;
        let clock = serde_json::to_string(&self.clock)
            .map_err(|error| Error::DamagedDatabase(error.to_string()))?;
        self.transaction
            .execute("UPDATE device SET clock = ?1 WHERE singleton = 1", [clock])?;
        self.transaction.commit()?;
        arca_cryptor::crash_point("database commit");
        Ok(())
    }

    /// Writes the change to the tables; returns what the log records.
    fn write(
        &self,
        change: &Change,
    ) -> Result<(&'static str, Uuid, &'static str, serde_json::Value)> {
        let tx = &self.transaction;
        Ok(match change {
            Change::InsertItem(item) => {
                let key = name_key(&item.name);
                match &self.unsearched {
                    Some(_) => insert_item_row_unsearched(tx, item, &key)?,
                    None => insert_item_row(tx, item, &key)?,
                }
                ("item", item.id, "insert", json_value(item)?)
            }
            Change::UpdateItem { id, update } => {
                self.update_item(*id, update)?;
                ("item", *id, "update", json_value(update)?)
            }
            Change::DeleteItem { id } => {
                execute_cached(
                    tx,
                    "DELETE FROM item_search WHERE rowid = (SELECT rowid FROM items WHERE id = ?1)",
                    [id],
                )?;
                execute_cached(tx, "DELETE FROM item_tags WHERE item = ?1", [id])?;
                expect_one(
                    execute_cached(tx, "DELETE FROM items WHERE id = ?1", [id])?,
                    "item",
                    *id,
                )?;
                ("item", *id, "delete", json!({}))
            }
            Change::InsertTag { id, name } => {
                execute_cached(
                    tx,
                    "INSERT INTO tags (id, name) VALUES (?1, ?2)",
                    params![id, name],
                )?;
                ("tag", *id, "insert", json!({ "name": name }))
            }
            Change::RenameTag { id, name } => {
                expect_one(
                    execute_cached(
                        tx,
                        "UPDATE tags SET name = ?2 WHERE id = ?1",
                        params![id, name],
                    )?,
                    "tag",
                    *id,
                )?;
                let items: Vec<Uuid> = tx
                    .prepare_cached("SELECT item FROM item_tags WHERE tag = ?1")?
                    .query_map([id], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for item in items {
                    self.refresh_search_tags(item)?;
                }
                ("tag", *id, "update", json!({ "name": name }))
            }
            Change::DeleteTag { id } => {
                let items: Vec<Uuid> = tx
                    .prepare("SELECT item FROM item_tags WHERE tag = ?1")?
                    .query_map([id], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                execute_cached(tx, "DELETE FROM item_tags WHERE tag = ?1", [id])?;
                expect_one(
                    execute_cached(tx, "DELETE FROM tags WHERE id = ?1", [id])?,
                    "tag",
                    *id,
                )?;
                for item in items {
                    self.refresh_search_tags(item)?;
                }
                ("tag", *id, "delete", json!({}))
            }
            Change::TagItem { item, tag } => {
                execute_cached(
                    tx,
                    "INSERT OR IGNORE INTO item_tags (item, tag) VALUES (?1, ?2)",
                    params![item, tag],
                )?;
                self.refresh_search_tags(*item)?;
                ("item_tag", *item, "insert", json!({ "tag": tag }))
            }
            Change::UntagItem { item, tag } => {
                execute_cached(
                    tx,
                    "DELETE FROM item_tags WHERE item = ?1 AND tag = ?2",
                    params![item, tag],
                )?;
                self.refresh_search_tags(*item)?;
                ("item_tag", *item, "delete", json!({ "tag": tag }))
            }
        })
    }

    fn update_item(&self, id: Uuid, update: &ItemUpdate) -> Result<()> {
        let tx = &self.transaction;
        let mut sets: Vec<&str> = Vec::new();
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let mut set = |column: &'static str, value: Box<dyn rusqlite::ToSql>| {
            sets.push(column);
            values.push(value);
        };
        if let Some(parent) = update.parent {
            set("parent", Box::new(parent));
        }
        if let Some(name) = &update.name {
            set("name", Box::new(name.clone()));
            set("name_key", Box::new(name_key(name)));
        }
        if let Some(size) = update.size {
            set("size", Box::new(size));
        }
        if let Some(modified_at) = update.modified_at {
            set("modified_at", Box::new(modified_at));
        }
        if let Some(trashed_at) = update.trashed_at {
            set("trashed_at", Box::new(trashed_at));
        }
        if let Some(favorite) = update.favorite {
            set("favorite", Box::new(favorite));
        }
        if let Some(comment) = &update.comment {
            set("comment", Box::new(comment.clone()));
        }
        if let Some(content) = update.content {
            set("content", Box::new(content.as_str()));
        }
        if let Some(hmac_tag) = &update.hmac_tag {
            set("hmac_tag", Box::new(*hmac_tag));
        }
        if let Some(sha256) = &update.sha256 {
            set("sha256", Box::new(*sha256));
        }
        if sets.is_empty() {
            return Ok(());
        }
        let assignments: Vec<String> = sets
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{column} = ?{}", index + 1))
            .collect();
        let sql = format!(
            "UPDATE items SET {} WHERE id = ?{}",
            assignments.join(", "),
            sets.len() + 1
        );
        values.push(Box::new(id));
        let changed = execute_cached(
            tx,
            &sql,
            rusqlite::params_from_iter(values.iter().map(|value| value.as_ref())),
        )?;
        expect_one(changed, "item", id)?;
        if update.name.is_some() || update.comment.is_some() {
            execute_cached(
                tx,
                "UPDATE item_search SET name = items.name, comment = items.comment
                 FROM items WHERE items.id = ?1 AND item_search.rowid = items.rowid",
                [id],
            )?;
        }
        Ok(())
    }

    pub(crate) fn refresh_search_tags(&self, item: Uuid) -> Result<()> {
        execute_cached(
            &self.transaction,
            "UPDATE item_search SET tags = (
                 SELECT ifnull(group_concat(tags.name, ' '), '') FROM item_tags
                 JOIN tags ON tags.id = item_tags.tag WHERE item_tags.item = ?1)
             WHERE rowid = (SELECT rowid FROM items WHERE id = ?1)",
            [item],
        )?;
        Ok(())
    }
}

/// Writes a new item's row and its search entry, the row keyed under `key` (its name's key, or
/// a placeholder while sync decides its name).
pub(crate) fn insert_item_row(db: &Connection, item: &Item, key: &str) -> Result<()> {
    insert_item_row_unsearched(db, item, key)?;
    execute_cached(
        db,
        "INSERT INTO item_search (rowid, name, comment, tags) VALUES (last_insert_rowid(), ?1, ?2, '')",
        params![item.name, item.comment],
    )?;
    Ok(())
}

/// Writes a new item's row only: its search entry is the caller's to add.
fn insert_item_row_unsearched(db: &Connection, item: &Item, key: &str) -> Result<()> {
    execute_cached(
        db,
        "INSERT INTO items (id, parent, kind, name, name_key, size, created_at, modified_at,
            added_at, trashed_at, favorite, comment, content, hmac_tag, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        item_row(item, &key),
    )?;
    Ok(())
}

/// An item's columns in table order (`id`, `parent`, `kind`, `name`, `name_key`, `size`,
/// `created_at`, `modified_at`, `added_at`, `trashed_at`, `favorite`, `comment`, `content`,
/// `hmac_tag`, `sha256`) as statement parameters ?1-?15, the name keyed under `key`.
pub(crate) fn item_row<'a>(item: &'a Item, key: &'a &'a str) -> [&'a dyn rusqlite::ToSql; 15] {
    [
        &item.id,
        &item.parent,
        &item.kind,
        &item.name,
        key,
        &item.size,
        &item.created_at,
        &item.modified_at,
        &item.added_at,
        &item.trashed_at,
        &item.favorite,
        &item.comment,
        &item.content,
        &item.hmac_tag,
        &item.sha256,
    ]
}

/// This copy's device UUID and vector clock.
pub(crate) fn device_clock(db: &Connection) -> Result<(Uuid, Clock)> {
    let (device_id, clock): (Uuid, String) = db.query_row(
        "SELECT device_id, clock FROM device WHERE singleton = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let clock = serde_json::from_str(&clock)
        .map_err(|error| Error::DamagedDatabase(format!("device clock: {error}")))?;
    Ok((device_id, clock))
}

/// The device row of a new database.
pub(crate) fn init_device(connection: &Connection) -> Result<Uuid> {
    let existing: Option<Uuid> = connection
        .query_row(
            "SELECT device_id FROM device WHERE singleton = 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if let Some(device_id) = existing {
        return Ok(device_id);
    }
    let device_id = Uuid::new_v4();
    connection.execute(
        "INSERT INTO device (singleton, device_id, clock) VALUES (1, ?1, '{}')",
        [device_id],
    )?;
    Ok(device_id)
}

fn json_value<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|error| Error::DamagedDatabase(error.to_string()))
}

fn expect_one(changed: usize, entity: &'static str, id: Uuid) -> Result<()> {
    if changed == 1 {
        Ok(())
    } else {
        Err(Error::NotFound { entity, id })
    }
}

/// Runs `sql` through the connection's statement cache: each statement here runs once per
/// change, thousands of times in an import, and parsing it each time cost more than running it.
pub(crate) fn execute_cached(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    connection.prepare_cached(sql)?.execute(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::Kind;

    fn database() -> Connection {
        let mut db = Connection::open_in_memory().unwrap();
        db.pragma_update(None, "foreign_keys", true).unwrap();
        crate::db::migrations::migrate(&mut db).unwrap();
        init_device(&db).unwrap();
        db
    }

    fn file(name: &str) -> Item {
        Item::bare(Kind::File, name)
    }

    fn found(db: &Connection, words: &str) -> Vec<String> {
        db.prepare(
            "SELECT item_search.name FROM item_search WHERE item_search MATCH ?1
             ORDER BY item_search.name",
        )
        .unwrap()
        .query_map([words], |row| row.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn deferred_search_entries_are_written_before_anything_changes_them_and_at_commit() {
        let mut db = database();
        let mut changes = ChangeSet::begin(&mut db).unwrap();
        changes.defer_search();
        let (renamed, tagged, kept, deleted) = (
            file("draft one.txt"),
            file("draft two.txt"),
            file("draft three.txt"),
            file("draft four.txt"),
        );
        let tag = Uuid::new_v4();
        for item in [&renamed, &tagged, &kept, &deleted] {
            changes.apply(Change::InsertItem(item.clone())).unwrap();
        }
        changes
            .apply(Change::UpdateItem {
                id: renamed.id,
                update: ItemUpdate {
                    name: Some("final.txt".to_owned()),
                    ..ItemUpdate::default()
                },
            })
            .unwrap();
        changes
            .apply(Change::InsertTag {
                id: tag,
                name: "taxes".to_owned(),
            })
            .unwrap();
        changes
            .apply(Change::TagItem {
                item: tagged.id,
                tag,
            })
            .unwrap();
        changes
            .apply(Change::DeleteItem { id: deleted.id })
            .unwrap();
        let late = file("draft five.txt");
        changes.apply(Change::InsertItem(late)).unwrap();
        changes.commit().unwrap();

        assert_eq!(found(&db, "final"), ["final.txt"]);
        assert_eq!(
            found(&db, "draft"),
            ["draft five.txt", "draft three.txt", "draft two.txt"]
        );
        assert_eq!(found(&db, "taxes"), ["draft two.txt"]);
        let entries: i64 = db
            .query_row("SELECT count(*) FROM item_search", [], |row| row.get(0))
            .unwrap();
        assert_eq!(entries, 4, "one entry per item, none for the deleted one");
    }
}
