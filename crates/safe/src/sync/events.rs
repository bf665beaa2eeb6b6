//! Event files: one device's operations `first..=last`, sealed for the sync target.
//!
//! A file is named `events/<device UUID>/<first>-<last>.events` (numbers zero-padded to 20
//! digits) and holds JSON sealed as an RNCryptor v3 key-based message under keys derived for
//! this purpose alone, so neither a data file nor a backup record opens as one. Inside, the
//! Safe's UUID, the device and the range repeat the name: a file renamed, moved to another
//! device's folder or taken from another Safe is refused, not applied.

use std::io::Write;

use arca_cryptor::{
    CleartextBuffer, Credentials, DeviceKey, DevicePublicKey, Encryptor, KeyPurpose, SafeKeys,
    decrypt,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::devices;
use super::ops::Op;
use crate::error::{Error, Result};

pub(crate) const FORMAT_NAME: &str = "arca-sync-events";
pub(crate) const FORMAT_VERSION: u64 = 2;
const EVENTS_LABEL: &str = "arca sync events v2";
const ACK_LABEL: &str = "arca sync acknowledgement v2";
/// Operations per file: small enough to read whole into memory (a few MB).
pub(crate) const OPS_PER_FILE: u64 = 5_000;
/// A larger file is not read: no honest device writes one.
pub(crate) const MAX_FILE_LEN: u64 = 64 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    format: String,
    version: u64,
    safe: Uuid,
    device: Uuid,
    first: u64,
    last: u64,
    ops: Vec<Op>,
}

/// Where a range of a device's operations lives on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Range {
    pub(crate) device: Uuid,
    pub(crate) first: u64,
    pub(crate) last: u64,
}

impl Range {
    pub(crate) fn name(&self) -> String {
        format!(
            "log/{}/{:020}-{:020}.events",
            self.device, self.first, self.last
        )
    }

    /// The range a target's object name stands for; `None` for anything else (a sync client's
    /// "conflicted copy", a temporary file, a name made up by the target).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("log/")?;
        let (device, file) = rest.split_once('/')?;
        let (first, last) = file.strip_suffix(".events")?.split_once('-')?;
        let number = |text: &str| {
            (text.len() == 20 && text.bytes().all(|byte| byte.is_ascii_digit()))
                .then(|| text.parse::<u64>().ok())
                .flatten()
        };
        let range = Self {
            device: Uuid::try_parse(device).ok()?,
            first: number(first)?,
            last: number(last)?,
        };
        (range.first >= 1 && range.first <= range.last && range.name() == name).then_some(range)
    }
}

/// Seals `ops` (one device's, in sequence, exactly `range`).
pub(crate) fn seal(
    keys: &SafeKeys,
    signer: &DeviceKey,
    range: Range,
    ops: Vec<Op>,
) -> Result<Vec<u8>> {
    let file = EventFile {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
        safe: keys.safe_id(),
        device: range.device,
        first: range.first,
        last: range.last,
        ops,
    };
    let json = zeroize::Zeroizing::new(
        serde_json::to_vec(&file).map_err(|error| Error::DamagedDatabase(error.to_string()))?,
    );
    seal_bytes(keys, &devices::sign(signer, EVENTS_LABEL, &json))
}

/// Opens the file the target holds under `range`'s name. The error says what is wrong with it.
pub(crate) fn open(
    keys: &SafeKeys,
    range: Range,
    sealed: &[u8],
    signer: &DevicePublicKey,
) -> std::result::Result<Vec<Op>, String> {
    let signed = open_bytes(keys, sealed).ok_or_else(|| {
        "does not decrypt with this Safe's sync keys (modified, truncated, or not written by a device of this Safe)"
            .to_owned()
    })?;
    let json = devices::verified(&signed, EVENTS_LABEL, signer).ok_or_else(|| {
        "is not signed by the device it belongs to (written by someone else with the Safe's keys)"
            .to_owned()
    })?;
    let file: EventFile = serde_json::from_slice(json)
        .map_err(|error| format!("is not a readable event file ({error})"))?;
    if file.format != FORMAT_NAME {
        return Err(format!("is not an event file (format {:?})", file.format));
    }
    if file.version > FORMAT_VERSION {
        return Err(format!(
            "has event format version {}, newer than this Arca supports ({FORMAT_VERSION}); update Arca on this device",
            file.version
        ));
    }
    if file.safe != keys.safe_id() {
        return Err(format!("belongs to another Safe ({})", file.safe));
    }
    if (file.device, file.first, file.last) != (range.device, range.first, range.last) {
        return Err(format!(
            "holds operations {}-{} of device {}, not what its name says (renamed or moved)",
            file.first, file.last, file.device
        ));
    }
    let expected = range.first..=range.last;
    if file.ops.len() as u64 != range.last - range.first + 1
        || !file
            .ops
            .iter()
            .zip(expected)
            .all(|(op, seq)| op.device == range.device && op.seq == seq && op.well_formed())
    {
        return Err("holds operations that do not match its range".to_owned());
    }
    Ok(file.ops)
}

/// What one device had applied at its last sync: `acks/<device UUID>.ack`, sealed like event
/// files. Data a delete leaves behind goes only once every device acknowledged the delete.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ack {
    format: String,
    version: u64,
    safe: Uuid,
    device: Uuid,
    clock: crate::changes::Clock,
}

const ACK_FORMAT: &str = "arca-sync-ack";

pub(crate) fn ack_name(device: Uuid) -> String {
    format!("acks/{device}.ack")
}

/// The device an acknowledgement's name stands for.
pub(crate) fn parse_ack_name(name: &str) -> Option<Uuid> {
    let device = Uuid::try_parse(name.strip_prefix("acks/")?.strip_suffix(".ack")?).ok()?;
    (ack_name(device) == name).then_some(device)
}

pub(crate) fn seal_ack(
    keys: &SafeKeys,
    signer: &DeviceKey,
    device: Uuid,
    clock: crate::changes::Clock,
) -> Result<Vec<u8>> {
    let ack = Ack {
        format: ACK_FORMAT.to_owned(),
        version: FORMAT_VERSION,
        safe: keys.safe_id(),
        device,
        clock,
    };
    let json =
        serde_json::to_vec(&ack).map_err(|error| Error::DamagedDatabase(error.to_string()))?;
    seal_bytes(keys, &devices::sign(signer, ACK_LABEL, &json))
}

/// The clock in `device`'s acknowledgement, if it is authentic and its own.
pub(crate) fn open_ack(
    keys: &SafeKeys,
    device: Uuid,
    sealed: &[u8],
    signer: &DevicePublicKey,
) -> Option<crate::changes::Clock> {
    let signed = open_bytes(keys, sealed)?;
    let ack: Ack = serde_json::from_slice(devices::verified(&signed, ACK_LABEL, signer)?).ok()?;
    (ack.format == ACK_FORMAT && ack.safe == keys.safe_id() && ack.device == device)
        .then_some(ack.clock)
}

/// The cleartext of an object sealed for the target, if it authenticates.
pub(crate) fn open_bytes(keys: &SafeKeys, sealed: &[u8]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let event_keys = keys.derived_keys(KeyPurpose::SyncEvents);
    decrypt(
        Credentials::Keys(&event_keys),
        sealed,
        CleartextBuffer::new(),
    )
    .ok()
}

pub(crate) fn seal_bytes(keys: &SafeKeys, cleartext: &[u8]) -> Result<Vec<u8>> {
    let event_keys = keys.derived_keys(KeyPurpose::SyncEvents);
    let mut encryptor =
        Encryptor::new(Credentials::Keys(&event_keys), Vec::new()).map_err(Error::Crypto)?;
    encryptor
        .write_all(cleartext)
        .map_err(|error| Error::Crypto(arca_cryptor::Error::Io(error)))?;
    Ok(encryptor.finish().map_err(Error::Crypto)?.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::changes::Clock;

    fn op(device: Uuid, seq: u64) -> Op {
        Op {
            device,
            seq,
            op: Uuid::new_v4(),
            clock: Clock::from([(device, seq)]),
            at: 1,
            entity: "item".to_owned(),
            id: Uuid::new_v4(),
            action: "update".to_owned(),
            fields: serde_json::json!({ "favorite": true }),
        }
    }

    #[test]
    fn names_round_trip_and_nothing_else_parses() {
        let range = Range {
            device: Uuid::new_v4(),
            first: 1,
            last: 5_000,
        };
        assert_eq!(Range::parse(&range.name()), Some(range));
        let name = range.name();
        for other in [
            name.replace(".events", " (conflicted copy).events"),
            name.replace("00001-", "1-"),
            format!("{name}.tmp"),
            name.replace("log/", "log/../"),
            name.replace("log/", "events/"),
            format!(
                "log/{}/00000000000000000005-00000000000000000001.events",
                range.device
            ),
            format!(
                "log/{}/00000000000000000000-00000000000000000001.events",
                range.device
            ),
        ] {
            assert_eq!(Range::parse(&other), None, "{other}");
        }
    }

    #[test]
    fn a_file_opens_only_as_what_it_is() {
        let keys = SafeKeys::generate(Uuid::new_v4()).unwrap();
        let signer = DeviceKey::generate().unwrap();
        let device = Uuid::new_v4();
        let range = Range {
            device,
            first: 3,
            last: 4,
        };
        let sealed = seal(&keys, &signer, range, vec![op(device, 3), op(device, 4)]).unwrap();
        assert_eq!(
            open(&keys, range, &sealed, &signer.public()).unwrap().len(),
            2
        );

        // Renamed to another range or moved to another device's folder.
        let error = open(
            &keys,
            Range {
                first: 5,
                last: 6,
                ..range
            },
            &sealed,
            &signer.public(),
        )
        .unwrap_err();
        assert!(error.contains("not what its name says"), "{error}");
        let error = open(
            &keys,
            Range {
                device: Uuid::new_v4(),
                ..range
            },
            &sealed,
            &signer.public(),
        )
        .unwrap_err();
        assert!(error.contains("not what its name says"), "{error}");
        // Truncated, flipped, or sealed with another Safe's keys.
        for damaged in [sealed[..sealed.len() - 1].to_vec(), {
            let mut flipped = sealed.clone();
            flipped[40] ^= 1;
            flipped
        }] {
            assert!(
                open(&keys, range, &damaged, &signer.public())
                    .unwrap_err()
                    .contains("does not decrypt")
            );
        }
        let other = SafeKeys::generate(keys.safe_id()).unwrap();
        assert!(
            open(&other, range, &sealed, &signer.public())
                .unwrap_err()
                .contains("does not decrypt")
        );
        // Sealed with the Safe's keys by someone else than the device whose folder it is in.
        let impostor = DeviceKey::generate().unwrap();
        let forged = seal(&keys, &impostor, range, vec![op(device, 3), op(device, 4)]).unwrap();
        let error = open(&keys, range, &forged, &signer.public()).unwrap_err();
        assert!(error.contains("not signed by the device"), "{error}");
        // An acknowledgement opens only with its device's key.
        let ack = seal_ack(&keys, &signer, device, Clock::from([(device, 4)])).unwrap();
        assert!(open_ack(&keys, device, &ack, &signer.public()).is_some());
        assert!(open_ack(&keys, device, &ack, &impostor.public()).is_none());
        assert!(open_ack(&keys, Uuid::new_v4(), &ack, &signer.public()).is_none());
        // A data file (sealed under the file keys) is not an event file, whatever it holds.
        let json = serde_json::to_vec(&serde_json::json!({"format": FORMAT_NAME})).unwrap();
        let mut encryptor = Encryptor::new(keys.data_credentials(), Vec::new()).unwrap();
        encryptor.write_all(&json).unwrap();
        let data_file = encryptor.finish().unwrap().0;
        assert!(
            open(&keys, range, &data_file, &signer.public())
                .unwrap_err()
                .contains("does not decrypt")
        );
    }

    #[test]
    fn ops_must_fill_the_range_and_count_themselves() {
        let keys = SafeKeys::generate(Uuid::new_v4()).unwrap();
        let signer = DeviceKey::generate().unwrap();
        let device = Uuid::new_v4();
        let range = Range {
            device,
            first: 1,
            last: 2,
        };
        let mut lying = op(device, 2);
        lying.clock.insert(device, 7);
        for ops in [
            vec![op(device, 1)],
            vec![op(device, 1), op(device, 3)],
            vec![op(device, 1), lying],
        ] {
            let sealed = seal(&keys, &signer, range, ops).unwrap();
            assert!(
                open(&keys, range, &sealed, &signer.public())
                    .unwrap_err()
                    .contains("do not match")
            );
        }
    }
}
