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
            let first_delete = deletes.iter().map(|op| op.at).min();
            item.trashed_at = item.trashed_at.or(first_delete);
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
