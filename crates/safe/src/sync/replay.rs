//! Applying other devices' operations to this copy of the Safe, in one change set.
//!
//! Each entity an operation touches is folded again from every operation on it ([`super::fold`])
//! and written as it comes out. What the fold leaves impossible is then repaired as this
//! device's own changes, which reach the other devices like any other:
//! - an item whose folder is gone (deleted elsewhere) moves to the top of the Safe;
//! - two moves that made folders contain each other: the later one goes to the top;
//! - two items (or tags) with one name: the one placed there first keeps it, the other gets
//!   "name (2)";
//! - a file whose content this device changed, outvoted by another device's concurrent change:
//!   this device's version stays beside it as "name (conflicted copy)".

use std::collections::{BTreeSet, HashSet};
use std::fs;

use rusqlite::{OptionalExtension, params};
use uuid::Uuid;

use super::fold::{self, Lost};
use super::ops::{self, Op, OrderKey};
use crate::changes::{Change, ChangeSet, execute_cached, insert_item_row, item_row};
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind, name_key};
use crate::layout::Layout;
use crate::organise::free_name;
use crate::query;

/// Something sync decided for the person, for the conflict view.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// When this device decided it (ns since the epoch).
    pub at: i64,
    /// The item it concerns, if one.
    pub item: Option<Uuid>,
    /// `field` (two devices changed one field), `kept` (a delete outvoted by a change),
    /// `moved` (its folder was gone, or two moves made a loop), `renamed` (a name taken twice),
    /// `copy` (this device's version of a file kept beside the other's).
    pub kind: &'static str,
    /// What happened, in a sentence.
    pub detail: String,
}

/// What a replay changed beyond the attributes.
#[derive(Debug, Default)]
pub(crate) struct Replayed {
    pub(crate) conflicts: Vec<Conflict>,
}

/// Records `new` (ready: every operation they depend on is applied), forgets `withdrawn` (made
/// by removed devices after their removal), and brings the tables to what every operation now
/// says.
pub(crate) fn replay(
    changes: &mut ChangeSet<'_>,
    layout: &Layout,
    new: &[Op],
    withdrawn: &[Op],
) -> Result<Replayed> {
    let db = changes.reader();
    let mut touched = Touched::default();
    for op in withdrawn {
        ops::forget(db, op)?;
    }
    for op in new {
        ops::store(db, op)?;
    }
    for op in new.iter().chain(withdrawn) {
        touched.add(op);
    }
    for op in withdrawn {
        changes.unobserve(op.device, op.seq - 1);
    }
    for op in new {
        changes.observe(op.device, op.seq);
    }
    let fresh: HashSet<(Uuid, u64)> = new.iter().map(|op| (op.device, op.seq)).collect();
    refold(changes, layout, touched, &fresh)
}

/// The entities whose operations changed.
#[derive(Debug, Default)]
pub(crate) struct Touched {
    items: BTreeSet<Uuid>,
    tags: BTreeSet<Uuid>,
    assignment_items: BTreeSet<Uuid>,
}

impl Touched {
    pub(crate) fn add(&mut self, op: &Op) {
        match op.entity.as_str() {
            "item" => self.items.insert(op.id),
            "tag" => self.tags.insert(op.id),
            _ => self.assignment_items.insert(op.id),
        };
    }
}

/// Brings the `touched` entities' rows to what their operations (already in the log) say.
/// `fresh` holds the operations new to this copy whose concurrent losers are shown.
pub(crate) fn refold(
    changes: &mut ChangeSet<'_>,
    layout: &Layout,
    touched: Touched,
    fresh: &HashSet<(Uuid, u64)>,
) -> Result<Replayed> {
    let Touched {
        items,
        tags,
        mut assignment_items,
    } = touched;
    // Rows are written one by one; a child may briefly point at a parent written after it.
    changes
        .reader()
        .pragma_update(None, "defer_foreign_keys", true)?;
    let mut replayed = Replayed::default();
    let mut replay = Replay {
        changes,
        layout,
        replayed: &mut replayed,
    };
    replay.tags(&tags)?;
    let Placed { live, parked } = replay.items(&items, fresh)?;
    let moved = replay.rehome(&live)?;
    replay.names(parked.into_iter().chain(moved).collect())?;
    assignment_items.extend(items.iter().copied());
    replay.assignments(&assignment_items, &tags)?;
    Ok(replayed)
}

/// The live items a replay wrote, with their placement: all of them (for loops of folders),
/// and those whose name was taken (decided afterwards).
struct Placed {
    live: Vec<(OrderKey, Uuid)>,
    parked: Vec<(OrderKey, Uuid)>,
}

struct Replay<'r, 'c> {
    changes: &'r mut ChangeSet<'c>,
    layout: &'r Layout,
    replayed: &'r mut Replayed,
}

/// The stored kind of a conflict as the `'static` name [`Conflict::kind`] holds.
pub(crate) fn conflict_kind(kind: &str) -> &'static str {
    ["field", "kept", "moved", "renamed", "copy"]
        .into_iter()
        .find(|known| *known == kind)
        .unwrap_or("field")
}

/// A live row's name key while its final name is decided: never a real name's key.
fn parked(id: Uuid) -> String {
    format!("\u{0}{id}")
}

impl Replay<'_, '_> {
    fn conflict(&mut self, item: Option<Uuid>, kind: &'static str, detail: String) -> Result<()> {
        execute_cached(
            self.changes.reader(),
            "INSERT INTO sync_conflicts (at, item, kind, detail) VALUES (?1, ?2, ?3, ?4)",
            params![self.changes.at(), item, kind, detail],
        )?;
        self.replayed.conflicts.push(Conflict {
            at: self.changes.at(),
            item,
            kind,
            detail,
        });
        Ok(())
    }

    fn tags(&mut self, tags: &BTreeSet<Uuid>) -> Result<()> {
        let mut named = Vec::new();
        for &id in tags {
            let folded = fold::tag(self.changes.reader(), id)?;
            let db = self.changes.reader();
            match folded.value {
                None => {
                    let items: Vec<Uuid> = db
                        .prepare_cached("SELECT item FROM item_tags WHERE tag = ?1")?
                        .query_map([id], |row| row.get(0))?
                        .collect::<rusqlite::Result<_>>()?;
                    execute_cached(db, "DELETE FROM tags WHERE id = ?1", [id])?;
                    for item in items {
                        self.changes.refresh_search_tags(item)?;
                    }
                }
                Some(name) => {
                    execute_cached(
                        db,
                        "INSERT INTO tags (id, name) VALUES (?1, ?2)
                         ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                        params![id, parked(id)],
                    )?;
                    named.push((folded.placement, id, name, folded.kept_from_delete));
                }
            }
        }
        named.sort();
        for (placement, id, name, kept) in named {
            if kept {
                self.conflict(None, "kept", format!("The tag “{name}” was deleted on one device and changed on another; it was kept."))?;
            }
            let holder: Option<Uuid> = self
                .changes
                .reader()
                .query_row("SELECT id FROM tags WHERE name = ?1", [&name], |row| {
                    row.get(0)
                })
                .optional()?;
            if let Some(holder) = holder {
                let free = self.free_tag_name(&name)?;
                let renamed = if fold::tag(self.changes.reader(), holder)?.placement < placement {
                    id
                } else {
                    holder
                };
                self.changes.apply(Change::RenameTag {
                    id: renamed,
                    name: free.clone(),
                })?;
                self.conflict(
                    None,
                    "renamed",
                    format!("Two devices made a tag “{name}”; one is now “{free}”."),
                )?;
                if renamed == id {
                    continue;
                }
            }
            execute_cached(
                self.changes.reader(),
                "UPDATE tags SET name = ?2 WHERE id = ?1",
                params![id, name],
            )?;
        }
        Ok(())
    }

    fn free_tag_name(&self, name: &str) -> Result<String> {
        crate::organise::free_name_where(name, |candidate| {
            Ok(self
                .changes
                .reader()
                .query_row(
                    "SELECT 1 FROM tags WHERE name = ?1",
                    [candidate],
                    |_| Ok(()),
                )
                .optional()?
                .is_some())
        })
    }

    /// Writes every folded item.
    fn items(&mut self, ids: &BTreeSet<Uuid>, fresh: &HashSet<(Uuid, u64)>) -> Result<Placed> {
        let mut placed = Vec::new();
        let mut parked_items = Vec::new();
        let mut copies = Vec::new();
        for &id in ids {
            let folded = fold::item(self.changes.reader(), id, fresh)?;
            let old = match query::item(self.changes.reader(), id) {
                Ok(item) => Some(item),
                Err(Error::NotFound { .. }) => None,
                Err(error) => return Err(error),
            };
            let Some(mut item) = folded.value else {
                if let Some(old) = old {
                    self.delete_row(&old)?;
                }
                continue;
            };
            for lost in &folded.lost {
                self.report_lost(&item, lost)?;
                if lost.field == "hmac_tag"
                    && lost.loser.device == self.changes.device_id()
                    && let Some(old) = &old
                    && old.content == Content::Present
                    && old.hmac_tag.is_some()
                    && old.hmac_tag != item.hmac_tag
                {
                    copies.push(old.clone());
                }
            }
            if folded.kept_from_delete {
                self.conflict(Some(id), "kept", format!(
                    "“{}” was deleted on one device and changed on another; it was kept, in the trash.",
                    item.name
                ))?;
            }
            item.content = local_content(&item, old.as_ref(), self.layout)?;
            if self.write_row(&item, old.is_some())? {
                parked_items.push((folded.placement, id));
            }
            if item.trashed_at.is_none() {
                placed.push((folded.placement, id));
            }
        }
        for original in copies {
            self.keep_copy(original)?;
        }
        Ok(Placed {
            live: placed,
            parked: parked_items,
        })
    }

    fn report_lost(&mut self, item: &Item, lost: &Lost) -> Result<()> {
        let other = lost
            .loser
            .fields
            .get(lost.field)
            .and_then(serde_json::Value::as_str);
        let detail = match (lost.field, other) {
            ("name", Some(other)) => format!(
                "Renamed on two devices at once: “{}” was kept, “{other}” was not.",
                item.name
            ),
            ("comment", Some(other)) => format!(
                "The comment of “{}” was changed on two devices at once; the other comment was “{other}”.",
                item.name
            ),
            (field, _) => {
                let what = match field {
                    "parent" => "moved to two different folders",
                    "hmac_tag" => "edited",
                    "trashed_at" => "moved to and out of the trash",
                    _ => "marked and unmarked as a favorite",
                };
                format!(
                    "“{}” was {what} on two devices at once; one change was kept, the same on every device.",
                    item.name
                )
            }
        };
        self.conflict(Some(item.id), "field", detail)
    }

    /// Keeps this device's version of a file, outvoted by another device's, as a new item
    /// beside it: its data file is copied (the same bytes open under the same keys).
    fn keep_copy(&mut self, original: Item) -> Result<()> {
        let id = Uuid::new_v4();
        let from = self.layout.data_file(original.id);
        let to = self.layout.data_file(id);
        let store = |error| Error::store(original.name.clone())(error);
        let temporary = super::temporary_data_file(self.layout, id, "copy");
        fs::copy(&from, &temporary).map_err(store)?;
        fs::File::open(&temporary)
            .and_then(|file| file.sync_all())
            .map_err(store)?;
        fs::rename(&temporary, &to).map_err(store)?;
        arca_cryptor::sync_parent_dir(&to).map_err(store)?;
        let (stem, extension) = match original.name.rfind('.') {
            Some(dot) if dot > 0 => original.name.split_at(dot),
            _ => (original.name.as_str(), ""),
        };
        let wanted = format!("{stem} (conflicted copy){extension}");
        let parent = query::item(self.changes.reader(), original.id)
            .map(|item| item.parent)
            .unwrap_or(original.parent);
        let name = free_name(self.changes.reader(), parent, &wanted)?;
        self.conflict(Some(original.id), "copy", format!(
            "“{}” was edited on two devices at once; this device's version is kept beside it as “{name}”.",
            original.name
        ))?;
        self.changes.apply(Change::InsertItem(Item {
            id,
            parent,
            name,
            trashed_at: None,
            added_at: self.changes.at(),
            ..original
        }))
    }

    fn delete_row(&mut self, old: &Item) -> Result<()> {
        let db = self.changes.reader();
        execute_cached(
            db,
            "DELETE FROM item_search WHERE rowid = (SELECT rowid FROM items WHERE id = ?1)",
            [old.id],
        )?;
        execute_cached(db, "DELETE FROM items WHERE id = ?1", [old.id])?;
        Ok(())
    }

    /// Writes the row; a live item whose name is taken in its folder is parked (its name is
    /// decided later, with the others'). Returns whether it was.
    fn write_row(&mut self, item: &Item, exists: bool) -> Result<bool> {
        let db = self.changes.reader();
        let taken = item.trashed_at.is_none()
            && query::live_child(db, item.parent, &item.name)?
                .is_some_and(|holder| holder.id != item.id);
        let key = if taken {
            parked(item.id)
        } else {
            name_key(&item.name)
        };
        if !exists {
            insert_item_row(db, item, &key)?;
            return Ok(taken);
        }
        execute_cached(
            db,
            "UPDATE items SET parent = ?2, kind = ?3, name = ?4, name_key = ?5, size = ?6,
                created_at = ?7, modified_at = ?8, added_at = ?9, trashed_at = ?10, favorite = ?11,
                comment = ?12, content = ?13, hmac_tag = ?14, sha256 = ?15
             WHERE id = ?1",
            item_row(item, &key.as_str()),
        )?;
        execute_cached(
            db,
            "UPDATE item_search SET name = ?2, comment = ?3
             WHERE rowid = (SELECT rowid FROM items WHERE id = ?1)",
            params![item.id, item.name, item.comment],
        )?;
        Ok(taken)
    }

    /// Moves to the top of the Safe every item whose folder is gone, and one item of every loop
    /// of folders; returns the items moved.
    fn rehome(&mut self, placed: &[(OrderKey, Uuid)]) -> Result<Vec<(OrderKey, Uuid)>> {
        let db = self.changes.reader();
        let orphans: Vec<Uuid> = db
            .prepare(
                "SELECT child.id FROM items AS child LEFT JOIN items AS parent ON parent.id = child.parent
                 WHERE child.parent IS NOT NULL AND (parent.id IS NULL OR parent.kind != 'folder')",
            )?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut moved = Vec::new();
        for id in orphans {
            self.move_to_top(id)?;
            let name = query::item(self.changes.reader(), id)?.name;
            self.conflict(Some(id), "moved", format!(
                "“{name}” was in a folder that another device deleted; it is now at the top of the Safe."
            ))?;
            moved.push((OrderKey::default(), id));
        }
        for &(_, id) in placed {
            if let Some(cycle) = self.cycle_through(id)? {
                let mut latest = (OrderKey::default(), id);
                for &member in &cycle {
                    let placement =
                        fold::item(self.changes.reader(), member, &HashSet::new())?.placement;
                    latest = latest.max((placement, member));
                }
                self.move_to_top(latest.1)?;
                let name = query::item(self.changes.reader(), latest.1)?.name;
                self.conflict(Some(latest.1), "moved", format!(
                    "Two devices moved folders into each other; “{name}” is now at the top of the Safe."
                ))?;
                moved.push(latest);
            }
        }
        Ok(moved)
    }

    fn move_to_top(&mut self, id: Uuid) -> Result<()> {
        // Its name is decided with the others', against its new neighbours.
        execute_cached(
            self.changes.reader(),
            "UPDATE items SET name_key = ?2 WHERE id = ?1 AND trashed_at IS NULL",
            params![id, parked(id)],
        )?;
        self.changes.apply(Change::UpdateItem {
            id,
            update: ItemUpdate {
                parent: Some(None),
                ..ItemUpdate::default()
            },
        })
    }

    /// The folders of a loop `id` is in, if its ancestors lead back to it.
    fn cycle_through(&self, id: Uuid) -> Result<Option<Vec<Uuid>>> {
        let mut chain = vec![id];
        let mut seen = HashSet::from([id]);
        let mut current = id;
        loop {
            let parent: Option<Uuid> = self
                .changes
                .reader()
                .prepare_cached("SELECT parent FROM items WHERE id = ?1")?
                .query_row([current], |row| row.get(0))
                .optional()?
                .flatten();
            let Some(parent) = parent else {
                return Ok(None);
            };
            if parent == id {
                return Ok(Some(chain));
            }
            if !seen.insert(parent) {
                // A loop above this item, not through it: found from one of its members.
                return Ok(None);
            }
            chain.push(parent);
            current = parent;
        }
    }

    /// Gives every parked item its name, earliest placed first; a name taken by an item placed
    /// earlier gets a number.
    fn names(&mut self, mut items: Vec<(OrderKey, Uuid)>) -> Result<()> {
        items.sort();
        items.dedup_by_key(|(_, id)| *id);
        for (placement, id) in items {
            let Ok(item) = query::item(self.changes.reader(), id) else {
                continue;
            };
            if item.trashed_at.is_some() {
                continue;
            }
            let holder = query::live_child(self.changes.reader(), item.parent, &item.name)?
                .filter(|holder| holder.id != id);
            if let Some(holder) = holder {
                let free = free_name(self.changes.reader(), item.parent, &item.name)?;
                let holder_placement =
                    fold::item(self.changes.reader(), holder.id, &HashSet::new())?.placement;
                let renamed = if holder_placement < placement {
                    id
                } else {
                    holder.id
                };
                self.changes.apply(Change::UpdateItem {
                    id: renamed,
                    update: ItemUpdate {
                        name: Some(free.clone()),
                        ..ItemUpdate::default()
                    },
                })?;
                self.conflict(Some(renamed), "renamed", format!(
                    "Two devices put an item named “{}” in one folder; this one is now “{free}”.", item.name
                ))?;
                if renamed == id {
                    continue;
                }
            }
            execute_cached(
                self.changes.reader(),
                "UPDATE items SET name_key = ?2 WHERE id = ?1",
                params![id, name_key(&item.name)],
            )?;
        }
        Ok(())
    }

    /// Brings the tags on `items`, and every assignment of `tags`, to what their operations say.
    fn assignments(&mut self, items: &BTreeSet<Uuid>, tags: &BTreeSet<Uuid>) -> Result<()> {
        let mut all = Vec::new();
        for &item in items {
            all.extend(ops::on_entity(self.changes.reader(), "item_tag", item)?);
        }
        for &tag in tags {
            all.extend(ops::on_tag_assignments(self.changes.reader(), tag)?);
        }
        all.sort_by(ops::by_order);
        all.dedup_by_key(|op| (op.device, op.seq));
        let mut decided = fold::assignments(&all);
        // A tag on one of these items (or of these tags) that no operation puts there any more
        // (it came from a removed device's change, taken back) comes off.
        let db = self.changes.reader();
        for &item in items {
            let on_item: Vec<Uuid> = db
                .prepare_cached("SELECT tag FROM item_tags WHERE item = ?1")?
                .query_map([item], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for tag in on_item {
                decided.entry((item, tag)).or_insert(false);
            }
        }
        for &tag in tags {
            let with_tag: Vec<Uuid> = db
                .prepare_cached("SELECT item FROM item_tags WHERE tag = ?1")?
                .query_map([tag], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for item in with_tag {
                decided.entry((item, tag)).or_insert(false);
            }
        }
        let mut touched = BTreeSet::new();
        for ((item, tag), assigned) in decided {
            let db = self.changes.reader();
            let exists = |table: &str, id: Uuid| -> Result<bool> {
                Ok(db
                    .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
                    .query_row([id], |_| Ok(()))
                    .optional()?
                    .is_some())
            };
            if assigned && exists("items", item)? && exists("tags", tag)? {
                execute_cached(
                    db,
                    "INSERT OR IGNORE INTO item_tags (item, tag) VALUES (?1, ?2)",
                    params![item, tag],
                )?;
            } else {
                execute_cached(
                    db,
                    "DELETE FROM item_tags WHERE item = ?1 AND tag = ?2",
                    params![item, tag],
                )?;
            }
            touched.insert(item);
        }
        // Rows written by this replay start with no tags in the index; only items whose
        // assignments were decided here can have any.
        for item in touched {
            self.changes.refresh_search_tags(item)?;
        }
        Ok(())
    }
}

/// A file's content state on this device: present only if this device holds the data file the
/// operations name (in the row, or kept after a delete this item has now outlived); otherwise
/// it waits for that file to come down.
fn local_content(item: &Item, old: Option<&Item>, layout: &Layout) -> Result<Content> {
    if item.kind == Kind::Folder {
        return Ok(Content::None);
    }
    let here = match old {
        Some(old) => {
            old.content == Content::Present
                && old.hmac_tag.is_some()
                && old.hmac_tag == item.hmac_tag
        }
        None => item.hmac_tag.is_some_and(|tag| {
            std::fs::File::open(layout.data_file(item.id))
                .and_then(|mut file| crate::data_file::trailing_tag(&mut file))
                .is_ok_and(|found| found == tag)
        }),
    };
    Ok(match item.content {
        _ if here => Content::Present,
        Content::Present => Content::Pending,
        other => other,
    })
}
