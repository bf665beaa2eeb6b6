//! The devices of a synced Safe, and which of them this copy trusts.
//!
//! Everyone with the Safe's keys can seal objects for the target, so each device also signs what
//! it writes there with a key of its own ([`DeviceKey`]) that never leaves it. A device joining
//! publishes a *request* (its key and name, signed by itself). A device already trusted
//! *approves* it (a record naming that key, signed by the approver), or *removes* a device (a
//! record naming how many of its operations stand). Operations, acknowledgements and records
//! count only when signed by a device this copy trusts.
//!
//! Trust starts from this copy's anchors: itself when it set the target up, the devices the sync
//! configuration it joined with named as approved, or (for a copy that synced before devices
//! signed) every device it already held operations of. From the anchors:
//! 1. every device approved by a trusted device is trusted (ignoring removals);
//! 2. a removal signed by a device so trusted stands; two removals of one device: the smaller
//!    number of operations stands;
//! 3. the devices approved are computed again from the anchors, skipping removed devices and
//!    the approvals they signed: a device approved only by a removed device waits to be
//!    approved again (the device removing another approves again every device it knew the
//!    removed one had approved).
//!
//! The result depends only on the anchors and the set of records, never on their order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use arca_cryptor::{DeviceKey, DevicePublicKey, SIGNATURE_LEN};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A signed cleartext: this tag, the signature, then the JSON the signature covers.
const SIGNED_TAG: &[u8; 8] = b"ARCASIG1";
const RECORD_FORMAT: &str = "arca-sync-device";
const RECORD_VERSION: u64 = 1;
const RECORD_LABEL: &str = "arca sync device record v1";
/// A record is a few hundred bytes; a larger object is not one.
pub(crate) const MAX_RECORD_LEN: u64 = 64 * 1024;
/// Names people give devices are short; a longer one is cut.
const MAX_NAME_CHARS: usize = 80;

/// `json` signed by `key` for `label`, as sealed on the target.
pub(crate) fn sign(key: &DeviceKey, label: &str, json: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut signed = Zeroizing::new(Vec::with_capacity(
        SIGNED_TAG.len() + SIGNATURE_LEN + json.len(),
    ));
    signed.extend_from_slice(SIGNED_TAG);
    signed.extend_from_slice(&key.sign(label, json));
    signed.extend_from_slice(json);
    signed
}

/// The signature and the JSON of a signed cleartext.
fn split(signed: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = signed.strip_prefix(SIGNED_TAG)?;
    (rest.len() >= SIGNATURE_LEN).then(|| rest.split_at(SIGNATURE_LEN))
}

/// The JSON of `signed` if `key` signed it for `label`.
pub(crate) fn verified<'a>(
    signed: &'a [u8],
    label: &str,
    key: &DevicePublicKey,
) -> Option<&'a [u8]> {
    let (signature, json) = split(signed)?;
    key.verifies(label, json, signature).then_some(json)
}

/// Where a device stands with this copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceState {
    /// Its changes are applied here.
    Approved,
    /// It asked to join (or its approver was removed): a trusted device must approve it.
    Waiting,
    /// Removed: its changes after the removal are not applied, here or anywhere.
    Removed,
}

/// One device of a synced Safe, as this copy knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncDevice {
    pub id: Uuid,
    /// The name it gave itself (its computer's name).
    pub name: String,
    /// The code to compare on both screens before approving it (from its public key); `None`
    /// for a device that synced before devices signed and has not synced since.
    pub code: Option<String>,
    pub state: DeviceState,
    pub this_device: bool,
    /// When it asked to join (its own clock, ns since the epoch).
    pub asked_at: Option<i64>,
    /// The device that approved or removed it, by name.
    pub decided_by: Option<String>,
    /// When that was decided (the deciding device's clock).
    pub decided_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Request,
    Approval,
    Removal,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    format: String,
    version: u64,
    safe: Uuid,
    kind: Kind,
    /// The device the record is about.
    device: Uuid,
    signer: Uuid,
    /// The device's public key, hex (request, approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    /// Removal: the device's operations `1..=cut` stand, later ones do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cut: Option<u64>,
    at: i64,
}

impl Record {
    fn name(&self) -> String {
        let device = self.device;
        match self.kind {
            Kind::Request => format!("devices/{device}/request"),
            Kind::Approval => format!("devices/{device}/approval-{}", self.signer),
            Kind::Removal => format!("devices/{device}/removal-{}", self.signer),
        }
    }

    fn key(&self) -> Option<DevicePublicKey> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(self.key.as_deref()?, &mut bytes).ok()?;
        Some(DevicePublicKey::from_bytes(bytes))
    }
}

/// A record with the bytes its signer signed.
#[derive(Clone)]
pub(crate) struct SignedRecord {
    record: Record,
    signed: Vec<u8>,
}

impl SignedRecord {
    fn new(key: &DeviceKey, record: Record) -> Result<Self> {
        let json = serde_json::to_vec(&record)
            .map_err(|error| Error::DamagedDatabase(error.to_string()))?;
        Ok(Self {
            signed: sign(key, RECORD_LABEL, &json).to_vec(),
            record,
        })
    }

    /// A record read back from `name`: well formed, of this Safe and named for what it says.
    /// Whether its signature counts is decided by [`Trust::compute`].
    pub(crate) fn parse(safe: Uuid, name: &str, signed: Vec<u8>) -> Option<Self> {
        let (_, json) = split(&signed)?;
        let record: Record = serde_json::from_slice(json).ok()?;
        let consistent = record.format == RECORD_FORMAT
            && record.version <= RECORD_VERSION
            && record.safe == safe
            && record.name() == name
            && match record.kind {
                Kind::Request => record.signer == record.device && record.key().is_some(),
                Kind::Approval => record.key().is_some(),
                Kind::Removal => record.cut.is_some(),
            };
        consistent.then_some(Self { record, signed })
    }

    pub(crate) fn name(&self) -> String {
        self.record.name()
    }

    pub(crate) fn signed(&self) -> &[u8] {
        &self.signed
    }

    fn signed_by(&self, key: &DevicePublicKey) -> bool {
        verified(&self.signed, RECORD_LABEL, key).is_some()
    }
}

/// This device's signing key.
pub(crate) struct Identity {
    pub(crate) id: Uuid,
    pub(crate) key: DeviceKey,
}

/// This copy's identity, if it has synced (or exported a configuration) before.
pub(crate) fn stored_identity(db: &Connection, me: Uuid) -> Result<Option<Identity>> {
    let stored: Option<Zeroizing<Vec<u8>>> = db
        .query_row(
            "SELECT signing_key FROM sync_identity WHERE singleton = 1",
            [],
            |row| Ok(Zeroizing::new(row.get(0)?)),
        )
        .optional()?;
    stored
        .map(|bytes| {
            let key = DeviceKey::from_secret_bytes(&bytes)
                .ok_or_else(|| Error::DamagedDatabase("this device's signing key".to_owned()))?;
            Ok(Identity { id: me, key })
        })
        .transpose()
}

/// This copy's identity, made (with its request to join) the first time it is needed.
pub(crate) fn identity(db: &Connection, safe: Uuid, me: Uuid) -> Result<Identity> {
    if let Some(identity) = stored_identity(db, me)? {
        return Ok(identity);
    }
    let key = DeviceKey::generate().map_err(Error::Crypto)?;
    let name = computer_name();
    let request = SignedRecord::new(
        &key,
        Record {
            format: RECORD_FORMAT.to_owned(),
            version: RECORD_VERSION,
            safe,
            kind: Kind::Request,
            device: me,
            signer: me,
            key: Some(hex::encode(key.public().to_bytes())),
            name: Some(name.clone()),
            cut: None,
            at: crate::time::now_ns(),
        },
    )?;
    db.execute(
        "INSERT INTO sync_identity (singleton, signing_key, name) VALUES (1, ?1, ?2)",
        params![&key.to_secret_bytes()[..], name],
    )?;
    store(db, &request)?;
    db.execute(
        "UPDATE sync_anchors SET public_key = ?2 WHERE device = ?1",
        params![me, key.public().to_bytes().as_slice()],
    )?;
    Ok(Identity { id: me, key })
}

/// What people call this computer, to tell devices apart in the list.
fn computer_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_default();
    let name = shown_name(&name);
    if name.is_empty() {
        "Arca device".to_owned()
    } else {
        name
    }
}

/// A device's name as shown: any device may write any name, so control characters go and a
/// long one is cut.
fn shown_name(name: &str) -> String {
    name.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect()
}

/// Trusts `device` without a record (see the module documentation).
pub(crate) fn add_anchor(
    db: &Connection,
    device: Uuid,
    key: Option<DevicePublicKey>,
) -> Result<()> {
    db.execute(
        "INSERT INTO sync_anchors (device, public_key) VALUES (?1, ?2)
         ON CONFLICT (device) DO UPDATE SET public_key = coalesce(public_key, excluded.public_key)",
        params![device, key.map(|key| key.to_bytes().to_vec())],
    )?;
    Ok(())
}

/// Keeps a record this copy verified or made.
pub(crate) fn store(db: &Connection, record: &SignedRecord) -> Result<()> {
    db.execute(
        "INSERT OR IGNORE INTO sync_records (name, signed) VALUES (?1, ?2)",
        params![record.name(), record.signed()],
    )?;
    Ok(())
}

/// Every record this copy keeps.
pub(crate) fn stored(db: &Connection, safe: Uuid) -> Result<Vec<SignedRecord>> {
    let rows: Vec<(String, Vec<u8>)> = db
        .prepare("SELECT name, signed FROM sync_records")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, signed)| SignedRecord::parse(safe, &name, signed))
        .collect())
}

fn anchors(db: &Connection) -> Result<Vec<(Uuid, Option<DevicePublicKey>)>> {
    let rows: Vec<(Uuid, Option<Vec<u8>>)> = db
        .prepare("SELECT device, public_key FROM sync_anchors")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .map(|(device, key)| {
            let key = key
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .map(DevicePublicKey::from_bytes);
            (device, key)
        })
        .collect())
}

/// Which devices this copy trusts, and how far.
pub(crate) struct Trust {
    me: Uuid,
    keys: HashMap<Uuid, DevicePublicKey>,
    names: HashMap<Uuid, String>,
    asked: HashMap<Uuid, i64>,
    approved: BTreeSet<Uuid>,
    removed: BTreeMap<Uuid, u64>,
    decided: HashMap<Uuid, (Uuid, i64)>,
    /// The records that count (their signer is trusted and signed them).
    valid: BTreeSet<String>,
}

impl Trust {
    /// From this copy's anchors and records, with `extra` (read from the target) beside them.
    pub(crate) fn load(
        db: &Connection,
        identity: &Identity,
        safe: Uuid,
        extra: &[SignedRecord],
    ) -> Result<Self> {
        let mut records = stored(db, safe)?;
        let known: BTreeSet<String> = records.iter().map(SignedRecord::name).collect();
        records.extend(
            extra
                .iter()
                .filter(|record| !known.contains(&record.name()))
                .cloned(),
        );
        Ok(Self::compute(
            identity.id,
            identity.key.public(),
            &anchors(db)?,
            &records,
        ))
    }

    fn compute(
        me: Uuid,
        my_key: DevicePublicKey,
        anchors: &[(Uuid, Option<DevicePublicKey>)],
        records: &[SignedRecord],
    ) -> Self {
        let mut sorted: Vec<&SignedRecord> = records.iter().collect();
        sorted.sort_by_key(|record| record.name());
        let mut trust = Self {
            me,
            keys: HashMap::from([(me, my_key)]),
            names: HashMap::new(),
            asked: HashMap::new(),
            approved: BTreeSet::new(),
            removed: BTreeMap::new(),
            decided: HashMap::new(),
            valid: BTreeSet::new(),
        };
        for (device, key) in anchors {
            if let Some(key) = key
                && *device != me
            {
                trust.keys.insert(*device, *key);
            }
        }
        // A request binds a device to the key it signed with; the first one kept stands.
        for record in sorted.iter().filter(|r| r.record.kind == Kind::Request) {
            let device = record.record.device;
            let Some(key) = record.record.key() else {
                continue;
            };
            let own_key_elsewhere = device == me && key != my_key;
            if own_key_elsewhere || trust.asked.contains_key(&device) || !record.signed_by(&key) {
                continue;
            }
            trust.keys.entry(device).or_insert(key);
            if trust.keys.get(&device) == Some(&key) {
                trust.asked.insert(device, record.record.at);
                if let Some(name) = &record.record.name {
                    trust.names.insert(device, shown_name(name));
                }
                trust.valid.insert(record.name());
            }
        }
        let anchored: BTreeSet<Uuid> = anchors.iter().map(|(device, _)| *device).collect();
        let (everyone, _) = trust.approve_from(&anchored, &sorted, &BTreeMap::new());
        for record in sorted.iter().filter(|r| r.record.kind == Kind::Removal) {
            let signer = record.record.signer;
            if everyone.contains(&signer)
                && trust
                    .keys
                    .get(&signer)
                    .is_some_and(|key| record.signed_by(key))
                && let Some(cut) = record.record.cut
            {
                let device = record.record.device;
                let kept = trust.removed.entry(device).or_insert(cut);
                if cut <= *kept {
                    *kept = cut;
                    trust.decided.insert(device, (signer, record.record.at));
                }
                trust.valid.insert(record.name());
            }
        }
        let removed = trust.removed.clone();
        let (approved, approvers) = trust.approve_from(&anchored, &sorted, &removed);
        trust.approved = approved;
        trust.decided.extend(approvers);
        trust
    }

    /// The devices trusted from `anchors` through approvals, leaving out `removed` devices and
    /// what they signed; and who approved each (signer, time).
    fn approve_from(
        &mut self,
        anchors: &BTreeSet<Uuid>,
        records: &[&SignedRecord],
        removed: &BTreeMap<Uuid, u64>,
    ) -> (BTreeSet<Uuid>, HashMap<Uuid, (Uuid, i64)>) {
        let mut approvers = HashMap::new();
        let mut approved: BTreeSet<Uuid> = anchors
            .iter()
            .filter(|device| !removed.contains_key(device))
            .copied()
            .collect();
        loop {
            let mut more = false;
            for record in records.iter().filter(|r| r.record.kind == Kind::Approval) {
                let (device, signer) = (record.record.device, record.record.signer);
                let Some(key) = record.record.key() else {
                    continue;
                };
                let counts = approved.contains(&signer)
                    && !removed.contains_key(&signer)
                    && !removed.contains_key(&device)
                    && self.keys.get(&signer).is_some_and(|k| record.signed_by(k))
                    && self.keys.get(&device).is_none_or(|known| *known == key);
                if !counts {
                    continue;
                }
                self.valid.insert(record.name());
                if approved.insert(device) {
                    self.keys.insert(device, key);
                    approvers.insert(device, (signer, record.record.at));
                    if let Some(name) = &record.record.name {
                        self.names.entry(device).or_insert_with(|| shown_name(name));
                    }
                    more = true;
                }
            }
            if !more {
                return (approved, approvers);
            }
        }
    }

    /// How many of `device`'s operations are applied here: all (`None`), or the first `n`.
    pub(crate) fn limit(&self, device: Uuid) -> Option<u64> {
        if let Some(cut) = self.removed.get(&device) {
            Some(*cut)
        } else if device == self.me || self.approved.contains(&device) {
            None
        } else {
            Some(0)
        }
    }

    /// The key `device` signs with, once known.
    pub(crate) fn key(&self, device: Uuid) -> Option<&DevicePublicKey> {
        self.keys.get(&device)
    }

    /// The devices approved (this one included, once approved).
    pub(crate) fn approved(&self) -> Vec<Uuid> {
        self.approved.iter().copied().collect()
    }

    pub(crate) fn removed(&self) -> impl Iterator<Item = (Uuid, u64)> + '_ {
        self.removed.iter().map(|(device, cut)| (*device, *cut))
    }

    pub(crate) fn counts(&self, record: &SignedRecord) -> bool {
        self.valid.contains(&record.name())
    }

    fn state(&self, device: Uuid) -> DeviceState {
        if self.removed.contains_key(&device) {
            DeviceState::Removed
        } else if self.approved.contains(&device) {
            DeviceState::Approved
        } else {
            DeviceState::Waiting
        }
    }

    pub(crate) fn device(&self, device: Uuid) -> SyncDevice {
        let name = |id: &Uuid| {
            self.names
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("device {}", &id.to_string()[..8]))
        };
        let decided = self.decided.get(&device);
        SyncDevice {
            id: device,
            name: name(&device),
            code: self.keys.get(&device).map(DevicePublicKey::fingerprint),
            state: self.state(device),
            this_device: device == self.me,
            asked_at: self.asked.get(&device).copied(),
            decided_by: decided.map(|(by, _)| name(by)),
            decided_at: decided.map(|(_, at)| *at),
        }
    }

    /// Every device this copy knows of: this one first, then by name.
    pub(crate) fn devices(&self) -> Vec<SyncDevice> {
        let ids: BTreeSet<Uuid> = self
            .approved
            .iter()
            .chain(self.removed.keys())
            .chain(self.asked.keys())
            .chain([&self.me])
            .copied()
            .collect();
        let mut devices: Vec<SyncDevice> = ids.into_iter().map(|id| self.device(id)).collect();
        devices
            .sort_by(|a, b| (!a.this_device, &a.name, a.id).cmp(&(!b.this_device, &b.name, b.id)));
        devices
    }

    /// The approvals to sign when removing `device`: every device trusted now that would no
    /// longer be once it is removed (approved through it alone).
    fn approvals_through(
        &self,
        me: Uuid,
        my_key: DevicePublicKey,
        anchors: &[(Uuid, Option<DevicePublicKey>)],
        records: &[SignedRecord],
        removal: &SignedRecord,
        device: Uuid,
    ) -> Vec<(Uuid, DevicePublicKey, String)> {
        let mut after = records.to_vec();
        after.push(removal.clone());
        let after = Self::compute(me, my_key, anchors, &after);
        self.approved
            .iter()
            .filter(|id| **id != device && !after.approved.contains(id))
            .filter_map(|id| {
                let key = self.keys.get(id)?;
                Some((*id, *key, self.device(*id).name))
            })
            .collect()
    }
}

/// Signs the approval of `device` by this copy (a device waiting, with the key it asked with).
pub(crate) fn approve(
    db: &Connection,
    identity: &Identity,
    safe: Uuid,
    device: Uuid,
) -> Result<()> {
    let trust = Trust::load(db, identity, safe, &[])?;
    if trust.state(identity.id) != DeviceState::Approved {
        return Err(Error::SyncDevice(
            "this device is not approved itself yet, so it cannot approve others: approve it first on a device already syncing this Safe".to_owned(),
        ));
    }
    let shown = trust.device(device);
    match shown.state {
        DeviceState::Approved => return Ok(()),
        DeviceState::Removed => {
            return Err(Error::SyncDevice(format!(
                "{} was removed from this Safe's sync; a removed device joins again from a new sync configuration, as a new device",
                shown.name
            )));
        }
        DeviceState::Waiting => {}
    }
    let key = trust.key(device).copied().ok_or_else(|| {
        Error::SyncDevice(format!(
            "no device {device} has asked to join this Safe (sync first to see new requests)"
        ))
    })?;
    let record = SignedRecord::new(
        &identity.key,
        approval(safe, identity.id, device, key, &shown.name),
    )?;
    store(db, &record)
}

fn approval(safe: Uuid, signer: Uuid, device: Uuid, key: DevicePublicKey, name: &str) -> Record {
    Record {
        format: RECORD_FORMAT.to_owned(),
        version: RECORD_VERSION,
        safe,
        kind: Kind::Approval,
        device,
        signer,
        key: Some(hex::encode(key.to_bytes())),
        name: Some(name.to_owned()),
        cut: None,
        at: crate::time::now_ns(),
    }
}

/// Signs the removal of `device`: its operations this copy has applied (`applied`) stand, later
/// ones are not applied anywhere. Devices trusted only through it are approved again by this one.
pub(crate) fn remove(
    db: &Connection,
    identity: &Identity,
    safe: Uuid,
    device: Uuid,
    applied: u64,
) -> Result<()> {
    if device == identity.id {
        return Err(Error::SyncDevice(
            "this device cannot remove itself: remove it from another device of the Safe, or stop syncing it by choosing no sync target".to_owned(),
        ));
    }
    let trust = Trust::load(db, identity, safe, &[])?;
    if trust.state(identity.id) != DeviceState::Approved {
        return Err(Error::SyncDevice(
            "this device is not approved yet, so it cannot remove others".to_owned(),
        ));
    }
    let shown = trust.device(device);
    let known = trust.approved.contains(&device)
        || trust.asked.contains_key(&device)
        || trust.removed.contains_key(&device);
    if !known {
        return Err(Error::SyncDevice(format!(
            "no device {device} is known to this Safe's sync"
        )));
    }
    if shown.state == DeviceState::Removed {
        return Ok(());
    }
    let removal = SignedRecord::new(
        &identity.key,
        Record {
            format: RECORD_FORMAT.to_owned(),
            version: RECORD_VERSION,
            safe,
            kind: Kind::Removal,
            device,
            signer: identity.id,
            key: None,
            name: Some(shown.name),
            cut: Some(applied),
            at: crate::time::now_ns(),
        },
    )?;
    let records = stored(db, safe)?;
    let again = trust.approvals_through(
        identity.id,
        identity.key.public(),
        &anchors(db)?,
        &records,
        &removal,
        device,
    );
    store(db, &removal)?;
    for (id, key, name) in again {
        store(
            db,
            &SignedRecord::new(&identity.key, approval(safe, identity.id, id, key, &name))?,
        )?;
    }
    Ok(())
}

/// The devices this copy trusts, with their keys, for a sync configuration.
pub(crate) fn approved_keys(trust: &Trust) -> Vec<(Uuid, Option<DevicePublicKey>)> {
    trust
        .approved
        .iter()
        .map(|id| (*id, trust.keys.get(id).copied()))
        .collect()
}

/// Whether this copy may vouch for others: it is approved itself.
pub(crate) fn is_approved(trust: &Trust) -> bool {
    trust.state(trust.me) == DeviceState::Approved
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    struct Device {
        id: Uuid,
        key: DeviceKey,
    }

    fn device() -> Device {
        Device {
            id: Uuid::new_v4(),
            key: DeviceKey::generate().unwrap(),
        }
    }

    const SAFE: Uuid = Uuid::from_u128(7);

    fn request(device: &Device) -> SignedRecord {
        SignedRecord::new(
            &device.key,
            Record {
                format: RECORD_FORMAT.to_owned(),
                version: RECORD_VERSION,
                safe: SAFE,
                kind: Kind::Request,
                device: device.id,
                signer: device.id,
                key: Some(hex::encode(device.key.public().to_bytes())),
                name: Some("laptop".to_owned()),
                cut: None,
                at: 1,
            },
        )
        .unwrap()
    }

    fn approves(signer: &Device, device: &Device) -> SignedRecord {
        SignedRecord::new(
            &signer.key,
            approval(SAFE, signer.id, device.id, device.key.public(), "x"),
        )
        .unwrap()
    }

    fn removes(signer: &Device, device: &Device, cut: u64) -> SignedRecord {
        SignedRecord::new(
            &signer.key,
            Record {
                format: RECORD_FORMAT.to_owned(),
                version: RECORD_VERSION,
                safe: SAFE,
                kind: Kind::Removal,
                device: device.id,
                signer: signer.id,
                key: None,
                name: None,
                cut: Some(cut),
                at: 2,
            },
        )
        .unwrap()
    }

    fn trust(me: &Device, anchors: &[&Device], records: &[SignedRecord]) -> Trust {
        let anchors: Vec<_> = anchors
            .iter()
            .map(|d| (d.id, Some(d.key.public())))
            .collect();
        Trust::compute(me.id, me.key.public(), &anchors, records)
    }

    #[test]
    fn a_device_counts_once_a_trusted_device_approves_it() {
        let (a, b) = (device(), device());
        let asked = trust(&a, &[&a], &[request(&b)]);
        assert_eq!(asked.limit(b.id), Some(0));
        assert_eq!(asked.device(b.id).state, DeviceState::Waiting);
        let approved = trust(&a, &[&a], &[request(&b), approves(&a, &b)]);
        assert_eq!(approved.limit(b.id), None);
        assert_eq!(approved.key(b.id), Some(&b.key.public()));
    }

    #[test]
    fn approvals_by_untrusted_or_forged_signers_do_not_count() {
        let (a, b, c) = (device(), device(), device());
        // c approves itself through b, whom nobody approved.
        let records = [request(&b), request(&c), approves(&b, &c), approves(&c, &b)];
        let view = trust(&a, &[&a], &records);
        assert_eq!(view.limit(b.id), Some(0));
        assert_eq!(view.limit(c.id), Some(0));
        // An approval claiming to come from a but signed with c's key.
        let mut forged = approves(&c, &b);
        forged.record.signer = a.id;
        let json = serde_json::to_vec(&forged.record).unwrap();
        forged.signed = sign(&c.key, RECORD_LABEL, &json).to_vec();
        assert_eq!(trust(&a, &[&a], &[forged]).limit(b.id), Some(0));
    }

    #[test]
    fn an_approval_of_another_key_than_the_request_does_not_count() {
        let (a, b, impostor) = (device(), device(), device());
        let mut swapped = approves(&a, &impostor);
        swapped.record.device = b.id;
        let json = serde_json::to_vec(&swapped.record).unwrap();
        swapped.signed = sign(&a.key, RECORD_LABEL, &json).to_vec();
        let view = trust(&a, &[&a], &[request(&b), swapped]);
        assert_eq!(view.limit(b.id), Some(0));
    }

    #[test]
    fn a_removed_device_keeps_its_operations_up_to_the_cut_and_its_approvals_lapse() {
        let (a, b, c, d) = (device(), device(), device(), device());
        let records = vec![
            approves(&a, &b),
            approves(&b, &c),
            removes(&a, &b, 12),
            // After its removal, b approves another device: it does not count.
            approves(&b, &d),
        ];
        let view = trust(&a, &[&a], &records);
        assert_eq!(view.limit(b.id), Some(12));
        assert_eq!(view.device(b.id).state, DeviceState::Removed);
        assert_eq!(
            view.limit(c.id),
            Some(0),
            "approved only by the removed device"
        );
        assert_eq!(view.limit(d.id), Some(0));
        // The remover approves c again.
        let mut again = records.clone();
        again.push(approves(&a, &c));
        assert_eq!(trust(&a, &[&a], &again).limit(c.id), None);
        // A second removal with a smaller cut stands, in any order.
        let mut both = again.clone();
        both.push(removes(&c, &b, 5));
        assert_eq!(trust(&a, &[&a], &both).limit(b.id), Some(5));
        both.reverse();
        assert_eq!(trust(&c, &[&a], &both).limit(b.id), Some(5));
    }

    #[test]
    fn removing_a_device_approves_again_those_it_alone_approved() {
        let (a, b, c) = (device(), device(), device());
        let records = vec![approves(&a, &b), approves(&b, &c)];
        let view = trust(&a, &[&a], &records);
        let removal = removes(&a, &b, 3);
        let again = view.approvals_through(
            a.id,
            a.key.public(),
            &[(a.id, Some(a.key.public()))],
            &records,
            &removal,
            b.id,
        );
        assert_eq!(
            again.iter().map(|(id, _, _)| *id).collect::<Vec<_>>(),
            [c.id]
        );
    }

    #[test]
    fn a_device_that_synced_before_devices_signed_is_trusted_with_the_key_it_publishes_first() {
        let (a, b, c) = (device(), device(), device());
        let anchors = [(a.id, Some(a.key.public())), (b.id, None)];
        let view = Trust::compute(a.id, a.key.public(), &anchors, &[]);
        assert_eq!(view.limit(b.id), None);
        assert_eq!(view.key(b.id), None);
        let view = Trust::compute(a.id, a.key.public(), &anchors, &[request(&b), request(&c)]);
        assert_eq!(view.key(b.id), Some(&b.key.public()));
        assert_eq!(
            view.limit(c.id),
            Some(0),
            "a new device still needs approval"
        );
    }

    #[test]
    fn a_name_another_device_gave_itself_is_shown_without_control_characters() {
        let (a, b) = (device(), device());
        let mut asked = request(&b);
        asked.record.name = Some(format!("laptop\n\u{1b}[31mApproved{}", "x".repeat(200)));
        let json = serde_json::to_vec(&asked.record).unwrap();
        asked.signed = sign(&b.key, RECORD_LABEL, &json).to_vec();
        let shown = trust(&a, &[&a], &[asked]).device(b.id).name;
        assert!(shown.starts_with("laptop[31mApproved"), "{shown}");
        assert_eq!(shown.chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn records_parse_only_under_their_own_name_and_safe() {
        let b = device();
        let record = request(&b);
        let name = record.name();
        assert!(SignedRecord::parse(SAFE, &name, record.signed.clone()).is_some());
        assert!(SignedRecord::parse(Uuid::from_u128(8), &name, record.signed.clone()).is_none());
        let moved = name.replace("request", "approval-x");
        assert!(SignedRecord::parse(SAFE, &moved, record.signed.clone()).is_none());
        assert!(SignedRecord::parse(SAFE, &name, record.signed[..40].to_vec()).is_none());
    }
}
