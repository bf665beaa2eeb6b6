//! Sync between devices through a sync target (`docs/formats/sync.md`): asynchronous and
//! decentralised, like git. Each run of [`Safe::sync`]:
//! 1. reads the other devices' new event files and replays their operations, in causal order;
//! 2. uploads the data files the target lacks, then this device's operations it lacks;
//! 3. downloads the data files this device lacks, each checked against the tag its operations
//!    recorded before it takes the item's place;
//! 4. removes from the target data files that every device's operations have left behind.
//!
//! The key file never goes to the target: everything there is sealed under the Safe's keys.

mod baseline;
mod config;
mod devices;
mod events;
mod fold;
mod ops;
mod picture;
mod replay;
mod s3;
mod target;
mod transfer;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::PathBuf;

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use config::{
    MAX_SYNC_CONFIG_LEN, SyncConfig, TargetSettings, read_sync_config, sync_config_text,
};
pub use devices::{DeviceState, SyncDevice};
pub use picture::{MAX_PICTURE_LEN, PictureProblem, is_picture, sync_config_from_picture};
pub use replay::Conflict;
pub use s3::{S3Settings, S3Target, Secret};
pub use target::{FolderTarget, Target};

use self::devices::{Identity, SignedRecord, Trust};
use self::events::Range;
use self::ops::Op;
use crate::changes::Clock;
use crate::error::{Error, Result};
use crate::job::{JobControl, JobEvent, Observer, Phase, Progress, Reporter};
use crate::layout::Layout;
use crate::safe::{Open, Safe};

/// The target's one cleartext object: which Safe it serves, so that two Safes never share one.
const MARKER: &str = "arca-sync.json";
const MARKER_FORMAT: &str = "arca-sync";
/// Version 2: devices sign what they write (`log/`, `devices/`); version 1 targets are upgraded.
const MARKER_VERSION: u64 = 2;

#[derive(Serialize, Deserialize)]
struct Marker {
    format: String,
    version: u64,
    safe: Uuid,
}

/// What a sync run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// This device's operations uploaded.
    pub operations_sent: u64,
    /// Other devices' operations applied here.
    pub operations_received: u64,
    /// Operations downloaded that wait for others they depend on (not on the target yet).
    pub operations_waiting: u64,
    /// Operations taken from the target's baseline (a new device's first run), not replayed
    /// from event files.
    pub operations_from_baseline: u64,
    /// Operations this run compacted into a new baseline on the target (0 when none was due).
    pub baseline_made: u64,
    /// Data files uploaded, and their bytes.
    pub files_sent: u64,
    /// Bytes of the data files uploaded.
    pub bytes_sent: u64,
    /// Data files downloaded, and their bytes.
    pub files_received: u64,
    /// Bytes of the data files downloaded.
    pub bytes_received: u64,
    /// Files whose data is not on the target yet: the device that has it has not synced since.
    pub files_waiting: u64,
    /// Old versions and deleted files removed from the target.
    pub files_removed: u64,
    /// What sync decided for the person in this run.
    pub conflicts: Vec<Conflict>,
    /// Objects on the target that were refused, each with what is wrong with it.
    pub problems: Vec<String>,
    /// The run was stopped (cancelled, or the Safe locked) before the end.
    pub stopped: bool,
    /// This device's code while it waits to be approved by a device already syncing the Safe
    /// (its changes reach no other device until then).
    pub waiting_for_approval: Option<String>,
    /// Devices asking to join, for this one to approve or refuse.
    pub devices_asking: Vec<SyncDevice>,
}

/// A data file's name on the target: the item and the tag of this version, so that versions
/// written by two devices never overwrite each other.
fn data_name(id: Uuid, tag: &[u8; 32]) -> String {
    let id = id.as_hyphenated().to_string();
    format!("files/{}/{id}-{}.data", &id[..2], hex::encode(tag))
}

fn parse_data_name(name: &str) -> Option<(Uuid, [u8; 32])> {
    let rest = name.strip_prefix("files/")?.strip_suffix(".data")?;
    let (_, file) = rest.split_once('/')?;
    let (id, tag) = file.split_at_checked(36)?;
    let id = Uuid::try_parse(id).ok()?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(tag.strip_prefix('-')?, &mut bytes).ok()?;
    (data_name(id, &bytes) == name).then_some((id, bytes))
}

fn is_read_only(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ReadOnlyFilesystem | io::ErrorKind::PermissionDenied
    )
}

/// Whether this copy syncs (has a target): deleted files' data then waits for every device.
pub(crate) fn syncs(db: &rusqlite::Connection) -> Result<bool> {
    Ok(db
        .query_row("SELECT 1 FROM sync_target WHERE singleton = 1", [], |_| {
            Ok(())
        })
        .optional()?
        .is_some())
}

/// A temporary data file beside the store's, named so that `check` knows it.
pub(crate) fn temporary_data_file(layout: &Layout, id: Uuid, purpose: &str) -> PathBuf {
    let path = layout.data_file(id);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{purpose}.tmp"))
}

impl Safe {
    /// Syncs with the target set for this Safe ([`Safe::set_sync_target`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`]-kind [`Error::BadSyncConfig`] when no target is set; as
    /// [`Safe::sync_with`].
    pub fn sync(&self, control: &JobControl) -> Result<SyncReport> {
        self.sync_observed(control, &mut |_| {})
    }

    /// [`Safe::sync`], telling `observer` how far it has got: the changes replayed
    /// ([`Phase::Recording`]), then the data files moved up and down ([`Phase::Copying`]).
    ///
    /// # Errors
    /// As [`Safe::sync`].
    pub fn sync_observed(
        &self,
        control: &JobControl,
        observer: Observer<'_>,
    ) -> Result<SyncReport> {
        let settings = self.sync_target()?.ok_or_else(|| {
            Error::BadSyncConfig("is not set up: choose a sync target first".to_owned())
        })?;
        let target = settings.open()?;
        let mut reporter = Reporter::new(observer, Progress::new(0, 0));
        self.job(control, true, |open| {
            open.sync(target.as_ref(), control, false, &mut reporter)
        })
    }

    /// Syncs with `target`: see the module documentation.
    ///
    /// # Errors
    /// [`Error::SyncTarget`] when the target cannot be read or written (nothing is lost: the
    /// next run goes on); [`Error::SyncDiverged`] when this copy was restored from an older
    /// state after it had synced; [`Error::NewerFormat`] for a target written by a newer Arca;
    /// [`Error::ReadOnly`], [`Error::SafeLocked`], database and storage errors.
    pub fn sync_with(&self, target: &dyn Target, control: &JobControl) -> Result<SyncReport> {
        let mut ignore = |_: JobEvent<'_>| {};
        let mut reporter = Reporter::new(&mut ignore, Progress::new(0, 0));
        self.job(control, true, |open| {
            open.sync(target, control, false, &mut reporter)
        })
    }

    /// [`Safe::sync_with`], then a baseline of what every device has applied, however little
    /// that is (a run makes one by itself only every [`baseline::BASELINE_EVERY`] operations).
    #[doc(hidden)]
    pub fn sync_and_consolidate(&self, target: &dyn Target) -> Result<SyncReport> {
        let control = JobControl::new();
        let mut ignore = |_: JobEvent<'_>| {};
        let mut reporter = Reporter::new(&mut ignore, Progress::new(0, 0));
        self.job(&control, true, |open| {
            open.sync(target, &control, true, &mut reporter)
        })
    }

    /// What sync decided for the person, newest first.
    ///
    /// # Errors
    /// [`Error::SafeLocked`], database errors.
    pub fn sync_conflicts(&self) -> Result<Vec<Conflict>> {
        self.reading(|open| {
            let rows = open
                .db()
                .prepare("SELECT at, item, kind, detail FROM sync_conflicts ORDER BY id DESC")?
                .query_map([], |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get::<_, String>(2)?,
                        row.get(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<(i64, Option<Uuid>, String, String)>>>()?;
            Ok(rows
                .into_iter()
                .map(|(at, item, kind, detail)| Conflict {
                    at,
                    item,
                    kind: replay::conflict_kind(&kind),
                    detail,
                })
                .collect())
        })
    }

    /// The devices syncing this Safe as this copy knows them (after its last sync): this one
    /// first. Empty before this copy's first sync.
    ///
    /// # Errors
    /// [`Error::SafeLocked`], database errors.
    pub fn sync_devices(&self) -> Result<Vec<SyncDevice>> {
        self.reading(|open| {
            let (me, _) = open.clock()?;
            let Some(identity) = devices::stored_identity(open.db(), me)? else {
                return Ok(Vec::new());
            };
            Ok(Trust::load(open.db(), &identity, open.id(), &[])?.devices())
        })
    }

    /// Approves a device that asked to join (after the person compared its code on both
    /// screens): its changes are applied from the next sync on, here and on every device.
    ///
    /// # Errors
    /// [`Error::SyncDevice`] when this device is not approved itself, `device` was removed or
    /// has not asked; [`Error::ReadOnly`], [`Error::SafeLocked`], database errors.
    pub fn approve_device(&self, device: Uuid) -> Result<()> {
        self.writing(|open| {
            let identity = open.identity()?;
            devices::approve(open.db(), &identity, open.id(), device)
        })
    }

    /// Removes a device (or refuses one asking to join): its changes that this copy has
    /// applied stand, later ones are applied nowhere, and from the next sync on no device
    /// accepts anything it writes. Devices only it had approved are approved again by this one.
    ///
    /// # Errors
    /// [`Error::SyncDevice`] when this device is not approved, or `device` is this one or not
    /// known; [`Error::ReadOnly`], [`Error::SafeLocked`], database errors.
    pub fn remove_device(&self, device: Uuid) -> Result<()> {
        self.writing(|open| {
            let identity = open.identity()?;
            let (_, clock) = open.clock()?;
            let applied = clock.get(&device).copied().unwrap_or(0);
            devices::remove(open.db(), &identity, open.id(), device, applied)
        })
    }

    /// Forgets the decisions listed by [`Safe::sync_conflicts`] (the person has seen them).
    ///
    /// # Errors
    /// [`Error::ReadOnly`], [`Error::SafeLocked`], database errors.
    pub fn clear_sync_conflicts(&self) -> Result<()> {
        self.writing(|open| {
            open.db().execute("DELETE FROM sync_conflicts", [])?;
            Ok(())
        })
    }
}

impl Open<'_> {
    fn sync(
        &mut self,
        target: &dyn Target,
        control: &JobControl,
        consolidate: bool,
        reporter: &mut Reporter<'_>,
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let reach = transfer::reach(target);
        let identity = self.identity()?;
        reporter.phase(Phase::Recording);
        self.claim(target, &identity)?;
        let (trust, records) = self.read_devices(target, &identity, &mut report)?;
        self.receive_baseline(target, &trust, &mut report)?;
        let received = self.receive_events(target, &trust, &mut report)?;
        if !control.proceed() {
            report.stopped = true;
            return Ok(report);
        }
        let mut on_target: HashSet<(Uuid, [u8; 32])> = target
            .list("files/")
            .map_err(reach)?
            .iter()
            .filter_map(|name| parse_data_name(name))
            .collect();
        // A target this device may read but not write (a read-only share, a write-protected
        // stick) still brings the other devices' changes.
        let sent = self
            .send_records(target, &records)
            .and_then(|()| {
                reporter.phase(Phase::Copying);
                self.send_files(target, &mut on_target, control, &mut report, reporter)
            })
            .and_then(|()| self.send_events(target, &identity, control, &mut report))
            .and_then(|()| self.acknowledge(target, &identity))
            .and_then(|()| remove_unsigned_history(target, identity.id))
            .and_then(|()| self.consolidate(target, &trust, &identity, consolidate, &mut report));
        let writable = match sent {
            Err(Error::SyncTarget { error, .. }) if is_read_only(&error) => {
                report.problems.push(format!(
                    "nothing could be sent: the target is read-only here ({error})"
                ));
                false
            }
            other => other.map(|()| true)?,
        };
        if !report.stopped {
            self.receive_files(target, &on_target, control, &mut report, reporter)?;
        }
        // A device waiting for approval has changes nobody applies yet: what it would call
        // replaced may still be another device's current version.
        if !report.stopped && writable && devices::is_approved(&trust) {
            self.prune(target, &trust, &on_target, &mut report)?;
        }
        report.operations_received = received;
        reporter.phase(Phase::Finished);
        self.db().execute(
            "UPDATE sync_target SET last_run = ?1 WHERE singleton = 1",
            [crate::time::now_ns()],
        )?;
        Ok(report)
    }

    /// Makes the target this Safe's, or refuses one that serves another Safe. The device that
    /// sets a target up trusts itself; a target of version 1 is upgraded.
    fn claim(&self, target: &dyn Target, identity: &Identity) -> Result<()> {
        let reach = transfer::reach(target);
        match target.get(MARKER, 4096) {
            Ok(bytes) => {
                let marker: Marker = serde_json::from_slice(&bytes).map_err(|_| {
                    reach(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{MARKER} is damaged; it is not an Arca sync target"),
                    ))
                })?;
                if marker.format != MARKER_FORMAT {
                    return Err(reach(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("{MARKER} does not describe an Arca sync target"),
                    )));
                }
                if marker.version > MARKER_VERSION {
                    return Err(Error::NewerFormat {
                        what: "the sync target",
                        found: marker.version,
                        supported: MARKER_VERSION,
                    });
                }
                if marker.safe != self.id() {
                    return Err(Error::ForeignSyncTarget {
                        target: target.describe(),
                        safe: marker.safe,
                    });
                }
                if marker.version < MARKER_VERSION {
                    // Devices still on version 1 then stop with "update Arca", instead of
                    // writing unsigned changes nobody applies. A read-only target stays as is.
                    match target.put(MARKER, &self.marker()?) {
                        Err(error) if !is_read_only(&error) => return Err(reach(error)),
                        _ => {}
                    }
                }
                Ok(())
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                let used: Option<i64> = self
                    .db()
                    .query_row(
                        "SELECT last_run FROM sync_target WHERE singleton = 1",
                        [],
                        |row| row.get(0),
                    )
                    .optional()?
                    .flatten();
                if used.is_some() {
                    // Synced with before: an empty target now is a drive not connected (an
                    // empty mount point), a wrong bucket, or a target someone emptied.
                    return Err(reach(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!(
                            "has no {MARKER} any more, though this Safe synced with it before: is it connected, and the right one? To start it afresh, choose it again as the sync target"
                        ),
                    )));
                }
                devices::add_anchor(self.db(), identity.id, Some(identity.key.public()))?;
                target.put(MARKER, &self.marker()?).map_err(reach)
            }
            Err(error) => Err(reach(error)),
        }
    }

    fn marker(&self) -> Result<Vec<u8>> {
        let marker = Marker {
            format: MARKER_FORMAT.to_owned(),
            version: MARKER_VERSION,
            safe: self.id(),
        };
        serde_json::to_vec_pretty(&marker)
            .map_err(|error| Error::DamagedDatabase(error.to_string()))
    }

    fn identity(&self) -> Result<Identity> {
        let (me, _) = self.clock()?;
        devices::identity(self.db(), self.id(), me)
    }

    /// Reads the device records this copy lacks, and works out which devices it trusts (see
    /// [`devices`]). Returns the trust, and the names of the records on the target.
    fn read_devices(
        &mut self,
        target: &dyn Target,
        identity: &Identity,
        report: &mut SyncReport,
    ) -> Result<(Trust, HashSet<String>)> {
        let reach = transfer::reach(target);
        let on_target: HashSet<String> = target
            .list("devices/")
            .map_err(reach)?
            .into_iter()
            .collect();
        let kept: HashSet<String> = devices::stored(self.db(), self.id())?
            .iter()
            .map(SignedRecord::name)
            .collect();
        let mut read = Vec::new();
        for name in on_target.iter().filter(|name| !kept.contains(*name)) {
            let sealed = match target.get(name, devices::MAX_RECORD_LEN) {
                Ok(sealed) => sealed,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) if error.kind() == io::ErrorKind::InvalidData => {
                    report.problems.push(format!("{name}: {error}; ignored"));
                    continue;
                }
                Err(error) => return Err(reach(error)),
            };
            match events::open_bytes(self.keys(), &sealed)
                .and_then(|signed| SignedRecord::parse(self.id(), name, signed.to_vec()))
            {
                Some(record) => read.push(record),
                None => report.problems.push(format!(
                    "{name} is not a device record of this Safe (modified, truncated, or written elsewhere); ignored"
                )),
            }
        }
        let trust = Trust::load(self.db(), identity, self.id(), &read)?;
        for record in read.iter().filter(|record| trust.counts(record)) {
            devices::store(self.db(), record)?;
        }
        let this = trust.device(identity.id);
        match this.state {
            devices::DeviceState::Removed => {
                return Err(Error::SyncDevice(format!(
                    "this device was removed from the Safe's sync by {}: it keeps its copy of the Safe, but no longer syncs. To sync it again, join from a new sync configuration, as a new device",
                    this.decided_by.as_deref().unwrap_or("another device")
                )));
            }
            devices::DeviceState::Waiting => report.waiting_for_approval = this.code.clone(),
            devices::DeviceState::Approved => {
                report.devices_asking = trust
                    .devices()
                    .into_iter()
                    .filter(|device| device.state == devices::DeviceState::Waiting)
                    .collect();
            }
        }
        Ok((trust, on_target))
    }

    /// A copy that has applied nothing from other devices yet starts from the newest baseline
    /// it trusts (a baseline refused is reported, and the next one or the event files serve).
    fn receive_baseline(
        &mut self,
        target: &dyn Target,
        trust: &Trust,
        report: &mut SyncReport,
    ) -> Result<()> {
        let reach = transfer::reach(target);
        let (me, clock) = self.clock()?;
        if clock.iter().any(|(device, seq)| *device != me && *seq > 0) {
            return Ok(());
        }
        for name in baseline::on_target(target).map_err(reach)? {
            let opened = match baseline::open(target, self.keys(), trust, name).map_err(reach)? {
                Ok(opened) => opened,
                Err(reason) => {
                    report.problems.push(format!("{name} {reason}; ignored"));
                    continue;
                }
            };
            let layout = self.layout().clone();
            let keys = self.session_keys();
            let mut changes = self.changes()?;
            let mut touched = replay::Touched::default();
            let mut count = 0;
            let mut refused = None;
            'parts: for number in 0..opened.parts() {
                match baseline::read_part(target, keys, &opened, number).map_err(reach)? {
                    Ok(ops) => {
                        for op in ops {
                            if trust.limit(op.device).is_some_and(|limit| op.seq > limit) {
                                continue;
                            }
                            ops::store(changes.reader(), &op)?;
                            touched.add(&op);
                            count += 1;
                        }
                    }
                    Err(reason) => {
                        refused = Some(reason);
                        break 'parts;
                    }
                }
            }
            if let Some(reason) = refused {
                // Dropping the change set rolls back what this baseline stored.
                drop(changes);
                report.problems.push(format!("{name}: {reason}; ignored"));
                continue;
            }
            for (device, seq) in &opened.clock {
                let limit = trust.limit(*device).unwrap_or(u64::MAX);
                changes.observe(*device, (*seq).min(limit));
            }
            replay::refold(&mut changes, &layout, touched, &HashSet::new())?;
            changes.commit()?;
            report.operations_from_baseline = count;
            return Ok(());
        }
        Ok(())
    }

    /// Makes a baseline of what every approved device has applied once enough of it is in
    /// none (or at once, if `now`), and removes the ones this device made before.
    fn consolidate(
        &mut self,
        target: &dyn Target,
        trust: &Trust,
        identity: &Identity,
        now: bool,
        report: &mut SyncReport,
    ) -> Result<()> {
        if !devices::is_approved(trust) {
            return Ok(());
        }
        let reach = transfer::reach(target);
        let existing = baseline::on_target(target).map_err(reach)?;
        let newest = existing.first().map_or(0, |name| name.sum);
        // Worth it once the history is long, and at least twice what it describes (a Safe
        // imported once replays as fast from its event files as from a baseline).
        let long_enough = |size: u64| {
            size > newest && (now || size >= newest.saturating_add(baseline::BASELINE_EVERY))
        };
        let (me, clock) = self.clock()?;
        // What every device has applied is at most what this one has.
        if !long_enough(baseline::sum(&clock)) {
            return Ok(());
        }
        let described: u64 = self.db().query_row(
            "SELECT (SELECT count(*) FROM items) + (SELECT count(*) FROM tags)
                    + (SELECT count(*) FROM item_tags)",
            [],
            |row| row.get(0),
        )?;
        let due = |size: u64| long_enough(size) && (now || size >= described.saturating_mul(2));
        if !due(baseline::sum(&clock)) {
            return Ok(());
        }
        let mut knows =
            ops::what_each_device_knows(self.db(), self.acknowledgements(target, trust)?)?;
        knows.insert(me, clock);
        let mut covered = baseline::covered_by_all(&trust.approved(), &knows);
        for (device, cut) in trust.removed() {
            if let Some(seq) = covered.get_mut(&device) {
                *seq = (*seq).min(cut);
            }
        }
        if !due(baseline::sum(&covered)) {
            return Ok(());
        }
        let (made, operations) = baseline::make(self.db(), self.keys(), identity, covered, target)?;
        report.baseline_made = operations;
        for old in existing {
            if old != made && baseline::made_by(&old, identity.id) {
                baseline::remove(target, old).map_err(reach)?;
            }
        }
        Ok(())
    }

    /// Uploads the device records this copy keeps that the target lacks (new ones, and any
    /// the target lost).
    fn send_records(&self, target: &dyn Target, on_target: &HashSet<String>) -> Result<()> {
        for record in devices::stored(self.db(), self.id())? {
            let name = record.name();
            if !on_target.contains(&name) {
                let sealed = events::seal_bytes(self.keys(), record.signed())?;
                target
                    .put(&name, &sealed)
                    .map_err(transfer::reach(target))?;
            }
        }
        Ok(())
    }

    fn clock(&self) -> Result<(Uuid, Clock)> {
        crate::changes::device_clock(self.db())
    }

    fn sent_through(&self) -> Result<u64> {
        Ok(self
            .db()
            .query_row(
                "SELECT sent_through FROM sync_progress WHERE singleton = 1",
                [],
                |row| row.get(0),
            )
            .optional()?
            .unwrap_or(0))
    }

    /// Reads every event file with operations this copy has not applied, and replays those
    /// whose causes are all here. Returns how many were applied.
    ///
    /// Only operations of devices `trust` approves count, each file signed by its device; of a
    /// removed device, those before its removal. Its later ones applied here before this copy
    /// learnt of the removal are taken back.
    fn receive_events(
        &mut self,
        target: &dyn Target,
        trust: &Trust,
        report: &mut SyncReport,
    ) -> Result<u64> {
        let reach = transfer::reach(target);
        let (me, clock) = self.clock()?;
        let sent_through = self.sent_through()?;
        let mut ranges: Vec<Range> = target
            .list("log/")
            .map_err(reach)?
            .iter()
            .filter_map(|name| Range::parse(name))
            .collect();
        ranges.sort();
        let applied = |device: &Uuid| clock.get(device).copied().unwrap_or(0);
        let mut waiting: BTreeMap<Uuid, BTreeMap<u64, Op>> = BTreeMap::new();
        for range in ranges {
            // This device's own files are read past what this database uploaded: a copy restored
            // from an older state finds there what it must not number again.
            let new = if range.device == me {
                range.last > sent_through
            } else {
                range.last > applied(&range.device)
            };
            if !new {
                continue;
            }
            let name = range.name();
            let Some(signer) = trust.key(range.device) else {
                report.problems.push(format!(
                    "{name}: written by a device that never asked to join this Safe; ignored"
                ));
                continue;
            };
            // A device waiting for approval, or removed: its later changes wait, or never count.
            let limit = trust.limit(range.device).unwrap_or(u64::MAX);
            if range.first > limit {
                continue;
            }
            let sealed = match target.get(&name, events::MAX_FILE_LEN) {
                Ok(sealed) => sealed,
                Err(error)
                    if matches!(
                        error.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::InvalidData
                    ) =>
                {
                    report.problems.push(format!("{name}: {error}; ignored"));
                    continue;
                }
                Err(error) => return Err(reach(error)),
            };
            let ops = match events::open(self.keys(), range, &sealed, signer) {
                Ok(ops) => ops,
                Err(reason) => {
                    report.problems.push(format!("{name} {reason}; ignored"));
                    continue;
                }
            };
            for op in ops.into_iter().filter(|op| op.seq <= limit) {
                if op.seq <= applied(&op.device) {
                    if op.device == me && ops::op_id(self.db(), me, op.seq)? != Some(op.op) {
                        return Err(Error::SyncDiverged(format!(
                            "this copy of the Safe was restored from an older state after it had synced: \
                             the target holds other changes under this device's numbers (from {}). Set it up \
                             again from a sync configuration, as a new device, so that nothing is overwritten",
                            op.seq
                        )));
                    }
                    continue;
                }
                waiting
                    .entry(op.device)
                    .or_default()
                    .entry(op.seq)
                    .or_insert(op);
            }
        }
        // Causal order: an operation waits until every operation it had seen is applied here
        // (of a removed device, only those that stand).
        let removed: HashMap<Uuid, u64> = trust.removed().collect();
        let mut done = clock.clone();
        let mut ready = Vec::new();
        loop {
            let mut progress = false;
            for (device, queue) in &mut waiting {
                while let Some(entry) = queue.first_entry() {
                    let op = entry.get();
                    let next = done.get(device).copied().unwrap_or(0) + 1;
                    let causes_here = op.clock.iter().all(|(other, seq)| {
                        let needed = removed.get(other).map_or(*seq, |cut| (*seq).min(*cut));
                        other == device || done.get(other).copied().unwrap_or(0) >= needed
                    });
                    if op.seq != next || !causes_here {
                        break;
                    }
                    done.insert(*device, op.seq);
                    ready.push(entry.remove());
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        report.operations_waiting = waiting.values().map(|queue| queue.len() as u64).sum();
        let mut withdrawn = Vec::new();
        for (device, applied) in &clock {
            if let Some(limit) = trust.limit(*device)
                && *device != me
                && *applied > limit
            {
                withdrawn.extend(ops::of_device(self.db(), *device, limit + 1, *applied)?);
            }
        }
        if ready.is_empty() && withdrawn.is_empty() {
            return Ok(0);
        }
        if !withdrawn.is_empty() {
            report.problems.push(format!(
                "{} changes made by removed devices after their removal were taken back",
                withdrawn.len()
            ));
        }
        let layout = self.layout().clone();
        let mut changes = self.changes()?;
        let replayed = replay::replay(&mut changes, &layout, &ready, &withdrawn)?;
        changes.commit()?;
        report.conflicts.extend(replayed.conflicts);
        Ok(ready.len() as u64)
    }

    /// Uploads this device's operations the target lacks (also ones it lost or rolled back).
    fn send_events(
        &mut self,
        target: &dyn Target,
        identity: &Identity,
        control: &JobControl,
        report: &mut SyncReport,
    ) -> Result<()> {
        let reach = transfer::reach(target);
        let (me, clock) = self.clock()?;
        let last = clock.get(&me).copied().unwrap_or(0);
        let mut covered: Vec<(u64, u64)> = target
            .list(&format!("log/{me}/"))
            .map_err(reach)?
            .iter()
            .filter_map(|name| Range::parse(name))
            .filter(|range| range.device == me)
            .map(|range| (range.first, range.last))
            .collect();
        covered.sort_unstable();
        let mut gaps = Vec::new();
        let mut next = 1;
        for (first, end) in covered {
            if first > next {
                gaps.push((next, (first - 1).min(last)));
            }
            next = next.max(end + 1);
        }
        gaps.push((next, last));
        let ranges: Vec<Range> = gaps
            .into_iter()
            .flat_map(|(from, to)| {
                (from..=to)
                    .step_by(events::OPS_PER_FILE as usize)
                    .map(move |first| Range {
                        device: me,
                        first,
                        last: (first + events::OPS_PER_FILE - 1).min(to),
                    })
            })
            .collect();
        // Sealed a few files ahead of the uploads, which run in parallel: memory stays
        // bounded whatever the history's length.
        for batch in ranges.chunks(2 * target.transfers()) {
            let mut sealed = Vec::with_capacity(batch.len());
            for &range in batch {
                let ops = ops::of_device(self.db(), me, range.first, range.last)?;
                if ops.len() as u64 != range.last - range.first + 1 {
                    return Err(Error::DamagedDatabase(format!(
                        "this device's operations {}-{} are incomplete",
                        range.first, range.last
                    )));
                }
                sealed.push((range, events::seal(self.keys(), &identity.key, range, ops)?));
            }
            let stopped = transfer::in_parallel(
                sealed,
                target.transfers(),
                control,
                |(range, bytes)| {
                    target.put(&range.name(), &bytes).map_err(reach)?;
                    arca_cryptor::crash_point("sync: events uploaded");
                    Ok(range.last - range.first + 1)
                },
                |count| {
                    report.operations_sent += count;
                    Ok(())
                },
            )?;
            if stopped {
                report.stopped = true;
                return Ok(());
            }
        }
        self.db().execute(
            "INSERT INTO sync_progress (singleton, sent_through) VALUES (1, ?1)
             ON CONFLICT (singleton) DO UPDATE SET sent_through = max(sent_through, excluded.sent_through)",
            [last],
        )?;
        Ok(())
    }

    /// Removes from the target the versions this copy's operations show replaced, and the
    /// files they show deleted. Versions it knows nothing of (newer than its operations) stay.
    fn prune(
        &mut self,
        target: &dyn Target,
        trust: &Trust,
        on_target: &HashSet<(Uuid, [u8; 32])>,
        report: &mut SyncReport,
    ) -> Result<()> {
        let current: HashMap<Uuid, Option<[u8; 32]>> = self
            .db()
            .prepare("SELECT id, hmac_tag FROM items WHERE kind = 'file'")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut seen_by_all = None;
        let deleted = self.deleted_everywhere(target, trust, on_target, &mut seen_by_all)?;
        for &(id, tag) in on_target {
            let superseded = match current.get(&id) {
                Some(Some(now)) if *now == tag => false,
                Some(Some(now)) => {
                    on_target.contains(&(id, *now))
                        && self.replaced_for_good(id, &tag, now, target, trust, &mut seen_by_all)?
                }
                Some(None) => false,
                None => deleted.contains(&id),
            };
            if superseded {
                target
                    .delete(&data_name(id, &tag))
                    .map_err(transfer::reach(target))?;
                arca_cryptor::crash_point("sync: old version removed");
                report.files_removed += 1;
            }
        }
        for id in deleted {
            let _ = fs::remove_file(self.layout().data_file(id));
        }
        Ok(())
    }

    /// Files deleted for good whose delete every device writing to the Safe has seen: none can
    /// still bring one back by a change made without knowing of it (and then need its data,
    /// which only this device or the target may still hold).
    fn deleted_everywhere(
        &self,
        target: &dyn Target,
        trust: &Trust,
        on_target: &HashSet<(Uuid, [u8; 32])>,
        seen_by_all: &mut Option<Clock>,
    ) -> Result<HashSet<Uuid>> {
        // Only files whose data is still somewhere: the others were removed by an earlier run.
        let on_target: HashSet<Uuid> = on_target.iter().map(|(id, _)| *id).collect();
        let candidates: Vec<Uuid> = self
            .db()
            .prepare(
                "SELECT DISTINCT entity_id FROM operations
                 WHERE entity = 'item' AND action = 'delete'
                   AND entity_id NOT IN (SELECT id FROM items)",
            )?
            .query_map([], |row| row.get(0))?
            .filter(|id| {
                id.as_ref().map_or(true, |id| {
                    on_target.contains(id) || self.layout().data_file(*id).exists()
                })
            })
            .collect::<rusqlite::Result<_>>()?;
        if candidates.is_empty() {
            return Ok(HashSet::new());
        }
        let seen_by_all = self.seen_by_all(target, trust, seen_by_all)?;
        let mut deleted = HashSet::new();
        for id in candidates {
            let all = ops::on_entity(self.db(), "item", id)?;
            let stable = all.iter().filter(|op| op.action == "delete").any(|delete| {
                seen_by_all
                    .get(&delete.device)
                    .is_some_and(|seq| *seq >= delete.seq)
            });
            if stable && fold::item(self.db(), id, &HashSet::new())?.value.is_none() {
                deleted.insert(id);
            }
        }
        Ok(deleted)
    }

    /// Whether `old` is a version of `id` that its log shows replaced by `now`, through a
    /// change every device has applied: no removal can take that change back, so `old` is not
    /// needed again. (A version the log does not know is newer than this copy: it stays.)
    fn replaced_for_good(
        &self,
        id: Uuid,
        old: &[u8; 32],
        now: &[u8; 32],
        target: &dyn Target,
        trust: &Trust,
        seen_by_all: &mut Option<Clock>,
    ) -> Result<bool> {
        let log = ops::on_entity(self.db(), "item", id)?;
        let setting = |tag: &[u8; 32]| {
            let tag = hex::encode(tag);
            log.iter()
                .filter(move |op| op.fields.get("hmac_tag").and_then(|v| v.as_str()) == Some(&tag))
        };
        if setting(old).next().is_none() {
            return Ok(false);
        }
        let setters: Vec<&Op> = setting(now).collect();
        if setters.is_empty() {
            return Ok(false);
        }
        let seen = self.seen_by_all(target, trust, seen_by_all)?;
        Ok(setters
            .iter()
            .any(|op| seen.get(&op.device).is_some_and(|seq| *seq >= op.seq)))
    }

    /// What every device has applied (read once per run, on first need).
    fn seen_by_all<'c>(
        &self,
        target: &dyn Target,
        trust: &Trust,
        cache: &'c mut Option<Clock>,
    ) -> Result<&'c Clock> {
        if cache.is_none() {
            // A removed device no longer holds anything back.
            let removed: HashSet<Uuid> = trust.removed().map(|(device, _)| device).collect();
            let acknowledged = self.acknowledgements(target, trust)?;
            *cache = Some(ops::seen_by_every_device(
                self.db(),
                acknowledged,
                &removed,
            )?);
        }
        Ok(cache.get_or_insert_default())
    }

    /// Every approved device's acknowledgement on the target (those that do not open, or are
    /// not signed by their device, are left out: they can only delay a removal).
    fn acknowledgements(&self, target: &dyn Target, trust: &Trust) -> Result<Vec<(Uuid, Clock)>> {
        let reach = transfer::reach(target);
        let (_, here) = self.clock()?;
        let mut acknowledged = Vec::new();
        for name in target.list("acks/").map_err(reach)? {
            let Some(device) = events::parse_ack_name(&name) else {
                continue;
            };
            let Some(key) = trust.key(device).filter(|_| trust.limit(device).is_none()) else {
                continue;
            };
            let sealed = match target.get(&name, 1 << 20) {
                Ok(sealed) => sealed,
                Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                Err(error) => return Err(reach(error)),
            };
            // Counted only once this copy holds every operation the device had made by then:
            // otherwise a change it made (to a file it may need back) is still on its way.
            if let Some(clock) = events::open_ack(self.keys(), device, &sealed, key)
                && clock.get(&device).copied().unwrap_or(0)
                    <= here.get(&device).copied().unwrap_or(0)
            {
                acknowledged.push((device, clock));
            }
        }
        Ok(acknowledged)
    }

    /// Tells the other devices what this one has applied.
    fn acknowledge(&self, target: &dyn Target, identity: &Identity) -> Result<()> {
        let (me, clock) = self.clock()?;
        let sealed = events::seal_ack(self.keys(), &identity.key, me, clock)?;
        target
            .put(&events::ack_name(me), &sealed)
            .map_err(transfer::reach(target))
    }
}

/// Removes this device's event files of target version 1 (unsigned, under `events/`) once its
/// history is on the target signed: no device reads them any more.
fn remove_unsigned_history(target: &dyn Target, me: Uuid) -> Result<()> {
    let reach = transfer::reach(target);
    for name in target.list(&format!("events/{me}/")).map_err(reach)? {
        target.delete(&name).map_err(reach)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn data_names_round_trip_and_nothing_else_parses() {
        let id = Uuid::new_v4();
        let name = data_name(id, &[0xab; 32]);
        assert_eq!(parse_data_name(&name), Some((id, [0xab; 32])));
        for other in [
            name.replace(".data", ".data.partial"),
            name.replace("files/", "files/../"),
            name.to_uppercase(),
            format!("files/00/{id}-{}.data", "ab".repeat(32)),
        ] {
            assert_eq!(parse_data_name(&other), None, "{other}");
        }
    }
}
