//! The baseline: the history every device has applied, compacted into a few sealed files, so
//! that a device joining the Safe starts from it instead of downloading and replaying years of
//! event files.
//!
//! It covers a causally closed prefix of the log (what every approved device has applied, so no
//! removal can take any of it back) and leaves out only operations that cannot change what any
//! device computes, whatever arrives later:
//! - an update of an item or tag that a later update by a device that had seen it overrides
//!   field for field (the later one wins each field in the agreed order; a delete that saw the
//!   later one saw it too; a move to or from the trash it made, the later one made again);
//! - a tag assignment or removal followed by a later one for the same item and tag (the last
//!   one decides).
//!
//! Deleted items and tags stay (their insert and deletes): a device that edited one without
//! knowing of the delete must bring it back everywhere alike.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::devices::{self, Identity, Trust};
use super::events;
use super::ops::{self, Op};
use super::target::Target;
use crate::changes::Clock;
use crate::error::{Error, Result};

/// A baseline is made once this many operations every device has applied are not in one yet.
pub(crate) const BASELINE_EVERY: u64 = 10_000;
const OPS_PER_PART: usize = 5_000;
const FORMAT: &str = "arca-sync-baseline";
const PART_FORMAT: &str = "arca-sync-baseline-part";
const VERSION: u64 = 1;
const LABEL: &str = "arca sync baseline v1";
/// An index lists one hash per part: a few MB even for millions of operations.
const MAX_INDEX_LEN: u64 = 16 << 20;
/// How many later updates an update is compared with: enough for the usual run of edits, and
/// bounded for an item edited a million times (what is not compared is kept).
const LOOK_AHEAD: usize = 64;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Index {
    format: String,
    version: u64,
    safe: Uuid,
    maker: Uuid,
    /// The prefix of every device's log it covers.
    clock: Clock,
    operations: u64,
    /// SHA-256 of each sealed part, hex, in order.
    parts: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Part {
    format: String,
    version: u64,
    safe: Uuid,
    maker: Uuid,
    number: u64,
    ops: Vec<Op>,
}

/// Where a baseline lives on the target: `baseline/<maker>-<sum of its clock, 20 digits>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Name {
    pub(crate) sum: u64,
    maker: Uuid,
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.folder())
    }
}

impl Name {
    fn folder(&self) -> String {
        format!("baseline/{}-{:020}/", self.maker, self.sum)
    }

    fn index(&self) -> String {
        format!("{}index", self.folder())
    }

    fn part(&self, number: usize) -> String {
        format!("{}part-{number:06}", self.folder())
    }

    fn parse_index(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("baseline/")?.strip_suffix("/index")?;
        let (maker, sum) = rest.split_at_checked(36)?;
        let sum = sum.strip_prefix('-')?;
        let parsed = Self {
            maker: Uuid::try_parse(maker).ok()?,
            sum: (sum.len() == 20 && sum.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| sum.parse().ok())
                .flatten()?,
        };
        (parsed.index() == name).then_some(parsed)
    }
}

pub(crate) fn sum(clock: &Clock) -> u64 {
    clock
        .values()
        .fold(0u64, |sum, seq| sum.saturating_add(*seq))
}

/// The baselines on the target, newest (largest) first.
pub(crate) fn on_target(target: &dyn Target) -> std::io::Result<Vec<Name>> {
    let mut names: Vec<Name> = target
        .list("baseline/")?
        .iter()
        .filter_map(|name| Name::parse_index(name))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));
    Ok(names)
}

/// Calls `keep` with every operation of the log within `covered` that the baseline keeps, one
/// entity after another.
pub(crate) fn compact(
    db: &rusqlite::Connection,
    covered: &Clock,
    mut keep: impl FnMut(Op) -> Result<()>,
) -> Result<()> {
    ops::by_entity(db, |group| {
        let group: Vec<Op> = group
            .into_iter()
            .filter(|op| op.seq <= covered.get(&op.device).copied().unwrap_or(0))
            .collect();
        let kept: Vec<bool> = if group.first().is_some_and(|op| op.entity == "item_tag") {
            group
                .iter()
                .enumerate()
                .map(|(index, op)| {
                    !group[index + 1..]
                        .iter()
                        .take(LOOK_AHEAD)
                        .any(|later| later.fields.get("tag") == op.fields.get("tag"))
                })
                .collect()
        } else {
            group
                .iter()
                .enumerate()
                .map(|(index, op)| {
                    op.action != "update"
                        || !group[index + 1..]
                            .iter()
                            .take(LOOK_AHEAD)
                            .any(|later| overrides(later, op))
                })
                .collect()
        };
        for (op, kept) in group.into_iter().zip(kept) {
            if kept {
                keep(op)?;
            }
        }
        Ok(())
    })
}

/// Whether `later` (after `op` in the order) sets every field `op` set, had seen `op`, and is an
/// update the fold applies.
fn overrides(later: &Op, op: &Op) -> bool {
    let (Some(fields), Some(later_fields)) = (op.fields.as_object(), later.fields.as_object())
    else {
        return false;
    };
    later.action == "update"
        && op.seen_by(later)
        && fields.keys().all(|field| later_fields.contains_key(field))
        && match later.entity.as_str() {
            "item" => serde_json::from_value::<crate::item::ItemUpdate>(later.fields.clone())
                .is_ok_and(|update| {
                    update
                        .name
                        .as_deref()
                        .is_none_or(|name| crate::name::validate_name(name).is_ok())
                }),
            "tag" => later
                .fields
                .get("name")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|name| crate::tags::validate_tag(name).is_ok()),
            _ => false,
        }
}

/// Makes a baseline of `covered` on the target: parts first, the signed index last (a
/// baseline without its index is never read). Returns its name and how many operations it
/// holds.
pub(crate) fn make(
    db: &rusqlite::Connection,
    keys: &arca_cryptor::SafeKeys,
    identity: &Identity,
    covered: Clock,
    target: &dyn Target,
) -> Result<(Name, u64)> {
    let reach = super::transfer::reach(target);
    let name = Name {
        sum: sum(&covered),
        maker: identity.id,
    };
    let mut parts = Vec::new();
    let mut operations = 0u64;
    let mut buffer = Vec::with_capacity(OPS_PER_PART);
    let upload = |ops: Vec<Op>, parts: &mut Vec<String>| -> Result<()> {
        let part = Part {
            format: PART_FORMAT.to_owned(),
            version: VERSION,
            safe: keys.safe_id(),
            maker: identity.id,
            number: parts.len() as u64,
            ops,
        };
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(&part).map_err(|error| Error::DamagedDatabase(error.to_string()))?,
        );
        let sealed = events::seal_bytes(keys, &json)?;
        target
            .put(&name.part(parts.len()), &sealed)
            .map_err(reach)?;
        parts.push(hex::encode(Sha256::digest(&sealed)));
        Ok(())
    };
    compact(db, &covered, |op| {
        operations += 1;
        buffer.push(op);
        if buffer.len() == OPS_PER_PART {
            upload(std::mem::take(&mut buffer), &mut parts)?;
        }
        Ok(())
    })?;
    if !buffer.is_empty() {
        upload(buffer, &mut parts)?;
    }
    let index = Index {
        format: FORMAT.to_owned(),
        version: VERSION,
        safe: keys.safe_id(),
        maker: identity.id,
        clock: covered,
        operations,
        parts,
    };
    let json =
        serde_json::to_vec(&index).map_err(|error| Error::DamagedDatabase(error.to_string()))?;
    let sealed = events::seal_bytes(keys, &devices::sign(&identity.key, LABEL, &json))?;
    arca_cryptor::crash_point("sync: baseline parts uploaded");
    target.put(&name.index(), &sealed).map_err(reach)?;
    Ok((name, operations))
}

/// Removes a baseline this device made (its index first, so it is never read half-removed).
pub(crate) fn remove(target: &dyn Target, name: Name) -> std::io::Result<()> {
    target.delete(&name.index())?;
    for part in target.list(&name.folder())? {
        target.delete(&part)?;
    }
    Ok(())
}

/// Whether `name` is a baseline this device made.
pub(crate) fn made_by(name: &Name, device: Uuid) -> bool {
    name.maker == device
}

/// A baseline opened for reading: its clock, and its parts to read one by one.
pub(crate) struct Opened {
    pub(crate) name: Name,
    pub(crate) clock: Clock,
    parts: Vec<String>,
}

impl Opened {
    pub(crate) fn parts(&self) -> usize {
        self.parts.len()
    }
}

/// Reads and checks the index of `name`: sealed under the Safe's sync keys, signed by its
/// maker, an approved device. `Ok(Err(reason))` for an index that is refused.
pub(crate) fn open(
    target: &dyn Target,
    keys: &arca_cryptor::SafeKeys,
    trust: &Trust,
    name: Name,
) -> std::io::Result<std::result::Result<Opened, String>> {
    let sealed = target.get(&name.index(), MAX_INDEX_LEN)?;
    let Some(key) = trust
        .key(name.maker)
        .filter(|_| trust.limit(name.maker).is_none())
    else {
        return Ok(Err(
            "was made by a device this copy does not trust".to_owned()
        ));
    };
    let Some(signed) = events::open_bytes(keys, &sealed) else {
        return Ok(Err("does not decrypt with this Safe's sync keys".to_owned()));
    };
    let Some(json) = devices::verified(&signed, LABEL, key) else {
        return Ok(Err("is not signed by the device that made it".to_owned()));
    };
    let index: Index = match serde_json::from_slice(json) {
        Ok(index) => index,
        Err(error) => return Ok(Err(format!("is not readable ({error})"))),
    };
    if index.format != FORMAT || index.version > VERSION {
        return Ok(Err(format!(
            "has format {} version {}, which this Arca does not read",
            index.format, index.version
        )));
    }
    if index.safe != keys.safe_id() || index.maker != name.maker || sum(&index.clock) != name.sum {
        return Ok(Err(
            "is not what its name says (renamed, moved or from another Safe)".to_owned(),
        ));
    }
    Ok(Ok(Opened {
        name,
        clock: index.clock,
        parts: index.parts,
    }))
}

/// Reads part `number` of an opened baseline: its hash must be the one its index recorded, and
/// its operations within the baseline's clock.
pub(crate) fn read_part(
    target: &dyn Target,
    keys: &arca_cryptor::SafeKeys,
    opened: &Opened,
    number: usize,
) -> std::io::Result<std::result::Result<Vec<Op>, String>> {
    let sealed = target.get(&opened.name.part(number), events::MAX_FILE_LEN)?;
    if opened
        .parts
        .get(number)
        .is_none_or(|hash| *hash != hex::encode(Sha256::digest(&sealed)))
    {
        return Ok(Err(format!(
            "part {number} is not the one its index lists (modified, swapped or truncated)"
        )));
    }
    let Some(json) = events::open_bytes(keys, &sealed) else {
        return Ok(Err(format!("part {number} does not decrypt")));
    };
    let part: Part = match serde_json::from_slice(&json) {
        Ok(part) => part,
        Err(error) => return Ok(Err(format!("part {number} is not readable ({error})"))),
    };
    let covered = |op: &Op| op.seq <= opened.clock.get(&op.device).copied().unwrap_or(0);
    if part.format != PART_FORMAT
        || part.number != number as u64
        || part.maker != opened.name.maker
        || part.safe != keys.safe_id()
        || !part.ops.iter().all(|op| op.well_formed() && covered(op))
    {
        return Ok(Err(format!(
            "part {number} does not belong to this baseline"
        )));
    }
    Ok(Ok(part.ops))
}

/// The prefix of every device's log that every approved device has applied (`knows`: what each
/// device had applied, as far as this copy can tell); nothing if one of them is unheard of.
pub(crate) fn covered_by_all(approved: &[Uuid], knows: &BTreeMap<Uuid, Clock>) -> Clock {
    let mut covered: Option<Clock> = None;
    for device in approved {
        let known = knows.get(device).cloned().unwrap_or_default();
        covered = Some(match covered {
            None => known,
            Some(so_far) => so_far
                .into_iter()
                .filter_map(|(other, seq)| {
                    let both = seq.min(known.get(&other).copied().unwrap_or(0));
                    (both > 0).then_some((other, both))
                })
                .collect(),
        });
    }
    covered.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn op(
        device: Uuid,
        seq: u64,
        clock: &[(Uuid, u64)],
        action: &str,
        fields: serde_json::Value,
    ) -> Op {
        Op {
            device,
            seq,
            op: Uuid::new_v4(),
            clock: clock.iter().copied().collect(),
            at: 1,
            entity: "item".to_owned(),
            id: Uuid::from_u128(1),
            action: action.to_owned(),
            fields,
        }
    }

    #[test]
    fn an_update_is_left_out_only_when_a_later_one_that_saw_it_sets_every_field_it_set() {
        let (a, b) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let rename = op(a, 2, &[(a, 2)], "update", serde_json::json!({"name": "x"}));
        let seen = op(
            a,
            3,
            &[(a, 3)],
            "update",
            serde_json::json!({"name": "y", "favorite": true}),
        );
        let concurrent = op(b, 1, &[(b, 1)], "update", serde_json::json!({"name": "z"}));
        let narrower = op(
            a,
            4,
            &[(a, 4)],
            "update",
            serde_json::json!({"favorite": false}),
        );
        let invalid = op(
            a,
            5,
            &[(a, 5)],
            "update",
            serde_json::json!({"name": "a/b"}),
        );
        assert!(overrides(&seen, &rename));
        assert!(!overrides(&concurrent, &rename), "had not seen it");
        assert!(!overrides(&narrower, &seen), "leaves its name");
        assert!(
            !overrides(&invalid, &rename),
            "the fold ignores an invalid name"
        );
    }

    #[test]
    fn what_every_approved_device_applied_and_nothing_for_one_unheard_of() {
        let (a, b, c) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let knows = BTreeMap::from([
            (a, Clock::from([(a, 9), (b, 4)])),
            (b, Clock::from([(a, 5), (b, 7), (c, 2)])),
        ]);
        assert_eq!(
            covered_by_all(&[a, b], &knows),
            Clock::from([(a, 5), (b, 4)])
        );
        assert!(covered_by_all(&[a, b, c], &knows).is_empty());
    }

    #[test]
    fn baseline_names_round_trip_and_nothing_else_parses() {
        let name = Name {
            sum: 42,
            maker: Uuid::new_v4(),
        };
        assert_eq!(Name::parse_index(&name.index()), Some(name));
        for other in [
            name.part(0),
            name.index().replace("/index", "/index.tmp"),
            name.index().replace("baseline/", "baseline/../"),
            name.index().replace("00042", "42"),
        ] {
            assert_eq!(Name::parse_index(&other), None, "{other}");
        }
    }
}
