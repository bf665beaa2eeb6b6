//! Operations as sync moves them: a row of the transaction log, and the one order every device
//! puts them in.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use rusqlite::{Connection, Row, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::changes::{Clock, execute_cached};
use crate::error::{Error, Result};

/// One logged change, by any device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Op {
    pub(crate) device: Uuid,
    pub(crate) seq: u64,
    pub(crate) op: Uuid,
    /// What the device had applied when it made the change, itself included (`clock[device]`
    /// is `seq`).
    pub(crate) clock: Clock,
    /// The device's wall clock, for display only: devices' clocks disagree, so no decision
    /// depends on it.
    pub(crate) at: i64,
    pub(crate) entity: String,
    pub(crate) id: Uuid,
    pub(crate) action: String,
    pub(crate) fields: serde_json::Value,
}

/// Where an operation stands in the order every device agrees on: the sum of its vector clock
/// first (an operation that saw another has a larger sum, so causes come before effects), then
/// the device and its sequence number to break ties between concurrent ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) struct OrderKey(u64, Uuid, u64);

impl Op {
    pub(crate) fn order(&self) -> OrderKey {
        OrderKey(
            self.clock
                .values()
                .fold(0u64, |sum, seq| sum.saturating_add(*seq)),
            self.device,
            self.seq,
        )
    }

    /// Whether `later` was made by a device that had applied this operation.
    pub(crate) fn seen_by(&self, later: &Op) -> bool {
        later
            .clock
            .get(&self.device)
            .is_some_and(|seen| *seen >= self.seq)
    }

    pub(crate) fn concurrent_with(&self, other: &Op) -> bool {
        !self.seen_by(other) && !other.seen_by(self)
    }

    /// The operation's own consistency: its clock counts it, and it is about a known entity.
    pub(crate) fn well_formed(&self) -> bool {
        self.seq > 0
            && self.clock.get(&self.device) == Some(&self.seq)
            && matches!(self.entity.as_str(), "item" | "tag" | "item_tag")
            && matches!(self.action.as_str(), "insert" | "update" | "delete")
            && self.fields.is_object()
    }
}

pub(crate) fn by_order(a: &Op, b: &Op) -> Ordering {
    a.order().cmp(&b.order())
}

const OP_COLUMNS: &str = "device_id, seq, op_id, clock, at, entity, entity_id, action, fields";

fn from_row(row: &Row<'_>) -> rusqlite::Result<(Op, String, String)> {
    Ok((
        Op {
            device: row.get(0)?,
            seq: row.get(1)?,
            op: row.get(2)?,
            clock: Clock::new(),
            at: row.get(4)?,
            entity: row.get(5)?,
            id: row.get(6)?,
            action: row.get(7)?,
            fields: serde_json::Value::Null,
        },
        row.get(3)?,
        row.get(8)?,
    ))
}

fn parse((mut op, clock, fields): (Op, String, String)) -> Result<Op> {
    let damaged = |error: serde_json::Error| {
        Error::DamagedDatabase(format!("operation {} of {}: {error}", op.seq, op.device))
    };
    op.clock = serde_json::from_str(&clock).map_err(damaged)?;
    op.fields = serde_json::from_str(&fields).map_err(damaged)?;
    Ok(op)
}

fn collect(db: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Op>> {
    let rows: Vec<_> = db
        .prepare_cached(sql)?
        .query_map(params, from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut ops = rows.into_iter().map(parse).collect::<Result<Vec<_>>>()?;
    ops.sort_by(by_order);
    Ok(ops)
}

/// Every operation on one entity, in order.
pub(crate) fn on_entity(db: &Connection, entity: &str, id: Uuid) -> Result<Vec<Op>> {
    collect(
        db,
        &format!("SELECT {OP_COLUMNS} FROM operations WHERE entity_id = ?1 AND entity = ?2"),
        params![id, entity],
    )
}

/// Every assignment or removal of one tag, whatever the item.
pub(crate) fn on_tag_assignments(db: &Connection, tag: Uuid) -> Result<Vec<Op>> {
    collect(
        db,
        &format!(
            "SELECT {OP_COLUMNS} FROM operations
             WHERE entity = 'item_tag' AND json_extract(fields, '$.tag') = ?1"
        ),
        [tag.to_string()],
    )
}

/// One device's operations `first..=last`, in sequence.
pub(crate) fn of_device(db: &Connection, device: Uuid, first: u64, last: u64) -> Result<Vec<Op>> {
    let mut ops = collect(
        db,
        &format!(
            "SELECT {OP_COLUMNS} FROM operations WHERE device_id = ?1 AND seq BETWEEN ?2 AND ?3"
        ),
        params![device, first, last],
    )?;
    ops.sort_by_key(|op| op.seq);
    Ok(ops)
}

/// For each device, the highest of its operations that every device of this Safe has seen, as
/// far as this copy knows: the element-wise minimum of each device's latest clock, from its
/// latest operation or its acknowledgement (`acknowledged`, one per device that synced).
pub(crate) fn seen_by_every_device(
    db: &Connection,
    acknowledged: Vec<(Uuid, Clock)>,
    removed: &std::collections::HashSet<Uuid>,
) -> Result<Clock> {
    let mut knows = what_each_device_knows(db, acknowledged)?;
    knows.retain(|device, _| !removed.contains(device));
    let devices: std::collections::BTreeSet<Uuid> = knows
        .values()
        .flat_map(|clock| clock.keys().copied())
        .collect();
    Ok(devices
        .into_iter()
        .map(|device| {
            let seen = knows
                .values()
                .map(|clock| clock.get(&device).copied().unwrap_or(0))
                .min()
                .unwrap_or(0);
            (device, seen)
        })
        .collect())
}

/// For each device, what it had applied as far as this copy can tell: the clock of its latest
/// operation here, merged with its acknowledgement in `acknowledged`.
pub(crate) fn what_each_device_knows(
    db: &Connection,
    acknowledged: Vec<(Uuid, Clock)>,
) -> Result<BTreeMap<Uuid, Clock>> {
    let latest: Vec<(Uuid, String)> = db
        .prepare(
            "SELECT device_id, clock FROM operations AS op
             WHERE seq = (SELECT max(seq) FROM operations WHERE device_id = op.device_id)",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut knows: BTreeMap<Uuid, Clock> = BTreeMap::new();
    let mut merge = |device: Uuid, clock: Clock| {
        let known = knows.entry(device).or_default();
        for (other, seq) in clock {
            let entry = known.entry(other).or_insert(0);
            *entry = (*entry).max(seq);
        }
    };
    for (device, text) in latest {
        let clock = serde_json::from_str::<Clock>(&text)
            .map_err(|error| Error::DamagedDatabase(format!("operation clock: {error}")))?;
        merge(device, clock);
    }
    for (device, clock) in acknowledged {
        merge(device, clock);
    }
    Ok(knows)
}

/// Every operation in the log, one entity at a time (items, then tag assignments by item, then
/// tags), each entity's in order; memory holds one entity's operations at a time.
pub(crate) fn by_entity(
    db: &Connection,
    mut each: impl FnMut(Vec<Op>) -> Result<()>,
) -> Result<()> {
    let mut statement = db.prepare(&format!(
        "SELECT {OP_COLUMNS} FROM operations ORDER BY entity, entity_id"
    ))?;
    let mut rows = statement.query([])?;
    let mut group: Vec<Op> = Vec::new();
    while let Some(row) = rows.next()? {
        let op = parse(from_row(row)?)?;
        if group
            .first()
            .is_some_and(|first| (first.entity.as_str(), first.id) != (op.entity.as_str(), op.id))
        {
            group.sort_by(by_order);
            each(std::mem::take(&mut group))?;
        }
        group.push(op);
    }
    if !group.is_empty() {
        group.sort_by(by_order);
        each(group)?;
    }
    Ok(())
}

/// The operation id this Safe holds for `device`'s `seq`, if any.
pub(crate) fn op_id(db: &Connection, device: Uuid, seq: u64) -> Result<Option<Uuid>> {
    use rusqlite::OptionalExtension;
    Ok(db
        .prepare_cached("SELECT op_id FROM operations WHERE device_id = ?1 AND seq = ?2")?
        .query_row(params![device, seq], |row| row.get(0))
        .optional()?)
}

/// Takes an operation of a removed device out of this Safe's log.
pub(crate) fn forget(db: &Connection, op: &Op) -> Result<()> {
    execute_cached(
        db,
        "DELETE FROM operations WHERE device_id = ?1 AND seq = ?2",
        params![op.device, op.seq],
    )?;
    Ok(())
}

/// Records another device's operation in this Safe's log.
pub(crate) fn store(db: &Connection, op: &Op) -> Result<()> {
    execute_cached(
        db,
        &format!(
            "INSERT INTO operations ({OP_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            op.device,
            op.seq,
            op.op,
            to_json(&op.clock)?,
            op.at,
            op.entity,
            op.id,
            op.action,
            to_json(&op.fields)?
        ],
    )?;
    Ok(())
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|error| Error::DamagedDatabase(error.to_string()))
}
