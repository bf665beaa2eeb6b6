//! What an item or tag is, given every operation on it: the same answer on every device that
//! holds the same operations, whatever order they arrived in.
//!
//! The rules (documented in `docs/formats/sync.md`):
//! - Operations apply in the agreed order ([`super::ops::OrderKey`]); for each field the last
//!   one that set it wins.
//! - A delete wins only over what its device had seen. A change it had not seen (made
//!   concurrently elsewhere) keeps the item, in the trash.
//! - An operation whose values break the rules a local change must follow (a name that is not a
//!   single path component, a tag with control characters) is ignored, on every device alike.

use std::collections::{BTreeMap, HashSet};

use rusqlite::Connection;
use uuid::Uuid;

use super::ops::{self, Op, OrderKey};
use crate::error::Result;
use crate::item::{Item, ItemUpdate};
use crate::name::validate_name;

/// Fields whose concurrent, different values are shown to the person as a conflict.
const SHOWN_FIELDS: &[&str] = &[
    "name",
    "parent",
    "comment",
    "hmac_tag",
    "trashed_at",
    "favorite",
];

/// An operation that lost a field to a concurrent one.
#[derive(Debug, Clone)]
pub(crate) struct Lost {
    pub(crate) field: &'static str,
    pub(crate) loser: Op,
}

#[derive(Debug)]
pub(crate) struct Folded<T> {
    /// The entity as its operations leave it; `None` when deleted or never validly created.
    pub(crate) value: Option<T>,
    /// A delete was outvoted by a change its device had not seen.
    pub(crate) kept_from_delete: bool,
    /// The latest operation that put the entity where it is (created, named, moved, trashed):
    /// of two that claim one name, the earlier keeps it.
    pub(crate) placement: OrderKey,
    /// Concurrent changes of one field that lost, where one side is among `fresh`.
    pub(crate) lost: Vec<Lost>,
}

/// Whether some delete among `deletes` had seen every one of `edits`.
fn deleted(edits: &[&Op], deletes: &[&Op]) -> bool {
    deletes
        .iter()
        .any(|delete| edits.iter().all(|edit| edit.seen_by(delete)))
}

struct FieldWatch<'f> {
    setters: BTreeMap<&'static str, (&'f Op, serde_json::Value)>,
    lost: Vec<Lost>,
    fresh: &'f HashSet<(Uuid, u64)>,
}

impl<'f> FieldWatch<'f> {
    fn saw(&mut self, op: &'f Op) {
        for &field in SHOWN_FIELDS {
            let Some(value) = op.fields.get(field) else {
                continue;
            };
            if let Some((previous, old)) = self.setters.get(field)
                && previous.concurrent_with(op)
                && old != value
                && [*previous, op]
                    .iter()
                    .any(|op| self.fresh.contains(&(op.device, op.seq)))
            {
                self.lost.push(Lost {
                    field,
                    loser: (*previous).clone(),
                });
            }
            self.setters.insert(field, (op, value.clone()));
        }
    }
}

/// Folds the item `id`. `fresh` holds the operations this sync run brought in.
pub(crate) fn item(
    db: &Connection,
    id: Uuid,
    fresh: &HashSet<(Uuid, u64)>,
) -> Result<Folded<Item>> {
    let all = ops::on_entity(db, "item", id)?;
    let (deletes, edits): (Vec<&Op>, Vec<&Op>) = all.iter().partition(|op| op.action == "delete");
    let mut value: Option<Item> = None;
    let mut placement = OrderKey::default();
    let mut watch = FieldWatch {
        setters: BTreeMap::new(),
        lost: Vec::new(),
        fresh,
    };
    for op in &edits {
        match op.action.as_str() {
            "insert" if value.is_none() => {
                let Ok(item) = serde_json::from_value::<Item>(op.fields.clone()) else {
                    continue;
                };
                if item.id != id || validate_name(&item.name).is_err() {
                    continue;
                }
                value = Some(item);
                placement = op.order();
            }
            "update" => {
                let (Some(item), Ok(update)) = (
                    value.as_mut(),
                    serde_json::from_value::<ItemUpdate>(op.fields.clone()),
                ) else {
                    continue;
                };
                if update
                    .name
                    .as_deref()
                    .is_some_and(|name| validate_name(name).is_err())
                {
                    continue;
                }
                if update.name.is_some() || update.parent.is_some() || update.trashed_at.is_some() {
                    placement = op.order();
                }
                apply_update(item, update);
            }
            _ => continue,
        }
        watch.saw(op);
    }
    let mut kept_from_delete = false;
    if !deletes.is_empty() && value.is_some() {
        if deleted(&edits, &deletes) {
            value = None;
        } else if let Some(item) = &mut value {
            kept_from_delete = true;
            // Kept in the trash, unless a device that knew of the delete has since moved it to
            // or out of the trash itself (a restore is not undone).
            let trash_decided_since = edits.iter().any(|edit| {
                edit.fields.get("trashed_at").is_some()
                    && deletes.iter().any(|delete| delete.seen_by(edit))
            });
            if !trash_decided_since {
                let first_delete = deletes.iter().map(|op| op.at).min();
                item.trashed_at = item.trashed_at.or(first_delete);
            }
        }
    }
    Ok(Folded {
        value,
        kept_from_delete,
        placement,
        lost: watch.lost,
    })
}

/// Folds the tag `id` to its name.
pub(crate) fn tag(db: &Connection, id: Uuid) -> Result<Folded<String>> {
    let all = ops::on_entity(db, "tag", id)?;
    let (deletes, edits): (Vec<&Op>, Vec<&Op>) = all.iter().partition(|op| op.action == "delete");
    let mut value = None;
    let mut placement = OrderKey::default();
    for op in &edits {
        let name = op.fields.get("name").and_then(serde_json::Value::as_str);
        let Some(name) = name.and_then(|name| crate::tags::validate_tag(name).ok()) else {
            continue;
        };
        if op.action == "insert" || value.is_some() {
            value = Some(name.to_owned());
            placement = op.order();
        }
    }
    let kept_from_delete = !deletes.is_empty() && value.is_some() && !deleted(&edits, &deletes);
    if !deletes.is_empty() && !kept_from_delete {
        value = None;
    }
    Ok(Folded {
        value,
        kept_from_delete,
        placement,
        lost: Vec::new(),
    })
}

/// Whether each tag in `ops` (assignments and removals, any items) is on its item: the last
/// operation for an (item, tag) pair decides.
pub(crate) fn assignments(ops: &[Op]) -> BTreeMap<(Uuid, Uuid), bool> {
    let mut assigned = BTreeMap::new();
    for op in ops {
        let tag = op
            .fields
            .get("tag")
            .and_then(serde_json::Value::as_str)
            .and_then(|tag| Uuid::try_parse(tag).ok());
        if let Some(tag) = tag {
            assigned.insert((op.id, tag), op.action == "insert");
        }
    }
    assigned
}

fn apply_update(item: &mut Item, update: ItemUpdate) {
    let ItemUpdate {
        parent,
        name,
        size,
        modified_at,
        trashed_at,
        favorite,
        comment,
        content,
        hmac_tag,
        sha256,
    } = update;
    if let Some(parent) = parent {
        item.parent = parent;
    }
    if let Some(name) = name {
        item.name = name;
    }
    if let Some(size) = size {
        item.size = size;
    }
    if let Some(modified_at) = modified_at {
        item.modified_at = modified_at;
    }
    if let Some(trashed_at) = trashed_at {
        item.trashed_at = trashed_at;
    }
    if let Some(favorite) = favorite {
        item.favorite = favorite;
    }
    if let Some(comment) = comment {
        item.comment = comment;
    }
    if let Some(content) = content {
        item.content = content;
    }
    if let Some(hmac_tag) = hmac_tag {
        item.hmac_tag = hmac_tag;
    }
    if let Some(sha256) = sha256 {
        item.sha256 = sha256;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::changes::Clock;
    use crate::item::Kind;

    const DAY: i64 = 86_400 * 1_000_000_000;

    fn database() -> Connection {
        let mut db = Connection::open_in_memory().unwrap();
        crate::db::migrations::migrate(&mut db).unwrap();
        db
    }

    fn op(
        device: Uuid,
        seq: u64,
        clock: &[(Uuid, u64)],
        at: i64,
        action: &str,
        fields: serde_json::Value,
        id: Uuid,
    ) -> Op {
        Op {
            device,
            seq,
            op: Uuid::new_v4(),
            clock: clock.iter().copied().collect::<Clock>(),
            at,
            entity: "item".to_owned(),
            id,
            action: action.to_owned(),
            fields,
        }
    }

    fn folder(id: Uuid, name: &str) -> serde_json::Value {
        serde_json::to_value(Item {
            id,
            ..Item::bare(Kind::Folder, name)
        })
        .unwrap()
    }

    #[test]
    fn causality_decides_not_the_wall_clock() {
        let db = database();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let id = Uuid::new_v4();
        let now = 1_800_000_000 * 1_000_000_000;
        // B's clock runs a day behind A's: its rename, made after it saw A's, carries an
        // earlier time, and still wins.
        for op in [
            op(a, 1, &[(a, 1)], now, "insert", folder(id, "Photos"), id),
            op(
                a,
                2,
                &[(a, 2)],
                now + DAY,
                "update",
                serde_json::json!({ "name": "By A" }),
                id,
            ),
            op(
                b,
                1,
                &[(a, 2), (b, 1)],
                now - DAY,
                "update",
                serde_json::json!({ "name": "By B" }),
                id,
            ),
        ] {
            ops::store(&db, &op).unwrap();
        }
        let folded = item(&db, id, &HashSet::new()).unwrap();
        assert_eq!(folded.value.unwrap().name, "By B");
        assert!(
            folded.lost.is_empty(),
            "one change saw the other: no conflict"
        );
    }

    #[test]
    fn a_delete_wins_only_over_what_it_saw() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        // Item one: B renames it, A deletes it having seen the rename.
        let db = database();
        let id = Uuid::new_v4();
        ops::store(&db, &op(a, 1, &[(a, 1)], 5, "insert", folder(id, "x"), id)).unwrap();
        ops::store(
            &db,
            &op(
                b,
                1,
                &[(a, 1), (b, 1)],
                6,
                "update",
                serde_json::json!({ "name": "y" }),
                id,
            ),
        )
        .unwrap();
        ops::store(
            &db,
            &op(
                a,
                2,
                &[(a, 2), (b, 1)],
                7,
                "delete",
                serde_json::json!({}),
                id,
            ),
        )
        .unwrap();
        assert!(item(&db, id, &HashSet::new()).unwrap().value.is_none());
        // Item two: the same, but A had not seen the rename: kept, in the trash since the delete.
        let db = database();
        ops::store(&db, &op(a, 1, &[(a, 1)], 5, "insert", folder(id, "x"), id)).unwrap();
        ops::store(
            &db,
            &op(
                b,
                1,
                &[(a, 1), (b, 1)],
                6,
                "update",
                serde_json::json!({ "name": "y" }),
                id,
            ),
        )
        .unwrap();
        ops::store(
            &db,
            &op(a, 2, &[(a, 2)], 7, "delete", serde_json::json!({}), id),
        )
        .unwrap();
        let folded = item(&db, id, &HashSet::new()).unwrap();
        assert!(folded.kept_from_delete);
        let kept = folded.value.unwrap();
        assert_eq!((kept.name.as_str(), kept.trashed_at), ("y", Some(7)));
    }

    #[test]
    fn a_restore_made_knowing_of_the_delete_is_not_undone() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let id = Uuid::new_v4();
        let db = database();
        ops::store(&db, &op(a, 1, &[(a, 1)], 5, "insert", folder(id, "x"), id)).unwrap();
        // A deletes it while B renames it; B, having since learned of the delete (the item
        // kept in its trash), restores it.
        ops::store(
            &db,
            &op(a, 2, &[(a, 2)], 6, "delete", serde_json::json!({}), id),
        )
        .unwrap();
        ops::store(
            &db,
            &op(
                b,
                1,
                &[(a, 1), (b, 1)],
                6,
                "update",
                serde_json::json!({ "name": "y" }),
                id,
            ),
        )
        .unwrap();
        let restore = serde_json::json!({ "trashed_at": null });
        ops::store(&db, &op(b, 2, &[(a, 2), (b, 2)], 9, "update", restore, id)).unwrap();
        let kept = item(&db, id, &HashSet::new()).unwrap().value.unwrap();
        assert_eq!(kept.trashed_at, None);
    }

    #[test]
    fn concurrent_changes_of_one_field_are_reported_and_invalid_names_ignored() {
        let db = database();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let id = Uuid::new_v4();
        ops::store(&db, &op(a, 1, &[(a, 1)], 5, "insert", folder(id, "x"), id)).unwrap();
        ops::store(
            &db,
            &op(
                a,
                2,
                &[(a, 2)],
                6,
                "update",
                serde_json::json!({ "comment": "A" }),
                id,
            ),
        )
        .unwrap();
        ops::store(
            &db,
            &op(
                b,
                1,
                &[(a, 1), (b, 1)],
                6,
                "update",
                serde_json::json!({ "comment": "B" }),
                id,
            ),
        )
        .unwrap();
        ops::store(
            &db,
            &op(
                b,
                2,
                &[(a, 1), (b, 2)],
                7,
                "update",
                serde_json::json!({ "name": "../escape" }),
                id,
            ),
        )
        .unwrap();
        let fresh = HashSet::from([(b, 1)]);
        let folded = item(&db, id, &fresh).unwrap();
        let value = folded.value.unwrap();
        assert_eq!(value.name, "x", "a name that breaks the rule is ignored");
        assert_eq!(folded.lost.len(), 1);
        assert_eq!(folded.lost[0].field, "comment");
        // Neither saw the other and their clocks sum alike: the larger device UUID decides, on
        // every device.
        assert_eq!(value.comment, if b > a { "B" } else { "A" });
    }
}
