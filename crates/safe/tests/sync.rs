//! Sync between devices: separate copies of one Safe, each with its own database and device
//! UUID, exchanging changes through a folder target (and targets that misbehave).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use arca_cryptor::{Iterations, Password};
use arca_safe::{
    ErrorKind, FolderTarget, ImportOptions, Item, JobControl, Kind, OnClash, Safe, SyncReport,
    Target, TargetSettings,
};
use common::password;
use uuid::Uuid;

struct Device {
    safe: Safe,
    sources: PathBuf,
    /// How far this device's clock is off (ns): devices disagree by up to two days, and
    /// nothing sync decides may depend on it.
    skew: i64,
}

const DAY_NS: i64 = 86_400_000_000_000;

impl Device {
    /// Runs what follows on this thread with the device's clock.
    fn clock(&self) -> &Safe {
        arca_safe::skew_this_threads_clock(self.skew);
        &self.safe
    }
}

/// A Safe on device A and copies joined from its sync configuration on the others, syncing
/// through a folder.
fn devices(dir: &Path, count: usize) -> (Vec<Device>, PathBuf) {
    let target = dir.join("target");
    let devices = devices_on(
        dir,
        count,
        &TargetSettings::Folder {
            path: target.clone(),
        },
    );
    (devices, target)
}

fn devices_on(dir: &Path, count: usize, settings: &TargetSettings) -> Vec<Device> {
    let first = Safe::create(
        &dir.join("A.arca"),
        &password(),
        Iterations::new(1_000).unwrap(),
    )
    .unwrap();
    first.set_sync_target(settings).unwrap();
    first.sync(&JobControl::new()).unwrap();
    let config = first
        .export_sync_config(&password(), "for the laptop")
        .unwrap();
    let mut devices = vec![first];
    for index in 1..count {
        let (safe, info) = Safe::join(
            &dir.join(format!("{index}.arca")),
            &config,
            &password(),
            None,
        )
        .unwrap();
        assert_eq!(info.comment, "for the laptop");
        assert_eq!(info.safe_id, devices[0].id());
        pair(&devices[0], &safe);
        devices.push(safe);
    }
    devices
        .into_iter()
        .enumerate()
        .map(|(index, safe)| {
            let sources = dir.join(format!("sources-{index}"));
            fs::create_dir_all(&sources).unwrap();
            let skew = [0, DAY_NS, -DAY_NS][index % 3];
            Device {
                safe,
                sources,
                skew,
            }
        })
        .collect()
}

/// `joined` asks to join; `approver` sees its request with the code `joined` shows, and
/// approves it.
fn pair(approver: &Safe, joined: &Safe) {
    let asked = joined.sync(&JobControl::new()).unwrap();
    let code = asked
        .waiting_for_approval
        .expect("a joined device waits for approval");
    let seen = approver.sync(&JobControl::new()).unwrap();
    let request = seen
        .devices_asking
        .iter()
        .find(|device| device.code.as_deref() == Some(code.as_str()))
        .expect("the approver sees the request");
    approver.approve_device(request.id).unwrap();
    approver.sync(&JobControl::new()).unwrap();
}

fn sync(device: &Device) -> SyncReport {
    let report = device.clock().sync(&JobControl::new()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    report
}

/// Syncs every device in turn until a whole round moves nothing.
fn settle(devices: &[Device]) {
    for _ in 0..12 {
        let mut moved = 0;
        for device in devices {
            let report = sync(device);
            if std::env::var("ARCA_SYNC_DEBUG").is_ok() {
                eprintln!("{report:?}");
            }
            moved += report.operations_sent + report.operations_received + report.files_received;
        }
        if moved == 0 {
            return;
        }
    }
    panic!("sync did not settle in 12 rounds");
}

/// Imports a new file `name` holding `content` into the folder `into` (a clash keeps both).
fn import_file(
    device: &Device,
    into: Option<Uuid>,
    name: &str,
    content: &[u8],
) -> arca_safe::Result<arca_safe::ImportReport> {
    let path = device.sources.join(name);
    fs::write(&path, content).unwrap();
    device.safe.import(
        &[path],
        &ImportOptions {
            into,
            on_clash: OnClash::KeepBoth,
            threads: Some(1),
        },
        &JobControl::new(),
        &mut |_| {},
    )
}

fn add_file(device: &Device, into: Option<Uuid>, name: &str, content: &[u8]) -> Uuid {
    let report = import_file(device, into, name, content).unwrap();
    assert_eq!(report.files, 1);
    let children = device.safe.children(into, false).unwrap();
    let mut newest = children
        .into_iter()
        .filter(|item| item.kind == Kind::File)
        .collect::<Vec<_>>();
    newest.sort_by_key(|item| item.added_at);
    newest.last().unwrap().id
}

/// What a person sees of one item.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    parent: Option<Uuid>,
    name: String,
    kind: Kind,
    trashed: bool,
    favorite: bool,
    comment: String,
    tags: Vec<String>,
    content: Option<Vec<u8>>,
}

/// Everything a person sees of a Safe, by item UUID.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    items: BTreeMap<Uuid, Seen>,
}

fn snapshot(safe: &Safe) -> Snapshot {
    let mut items = BTreeMap::new();
    let mut folders = vec![None];
    while let Some(folder) = folders.pop() {
        for item in safe.children(folder, true).unwrap() {
            if item.kind == Kind::Folder {
                folders.push(Some(item.id));
            }
            let content = (item.kind == Kind::File).then(|| safe.read(item.id).unwrap().to_vec());
            let mut tags = safe.tags_of(item.id).unwrap();
            tags.sort();
            items.insert(
                item.id,
                Seen {
                    parent: item.parent,
                    name: item.name.clone(),
                    kind: item.kind,
                    trashed: item.trashed_at.is_some(),
                    favorite: item.favorite,
                    comment: item.comment.clone(),
                    tags,
                    content,
                },
            );
        }
    }
    let info = safe.info().unwrap();
    assert_eq!(
        items.len() as u64,
        info.files + info.folders + info.trashed,
        "every item is reachable from the top of the Safe (no orphans, no loops)"
    );
    assert_eq!(info.missing, 0);
    Snapshot { items }
}

fn item(safe: &Safe, id: Uuid) -> Item {
    safe.item(id).unwrap()
}

#[test]
fn a_second_device_gets_everything_and_changes_flow_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    let photos = a.safe.create_folder(None, "Photos").unwrap();
    let beach = add_file(a, Some(photos), "beach.jpg", b"sand and sea");
    a.safe.add_tag(beach, "holiday").unwrap();
    a.safe.set_comment(beach, "August").unwrap();

    let sent = sync(a);
    assert_eq!(sent.files_sent, 1);
    assert!(sent.operations_sent > 0);
    let received = sync(b);
    assert_eq!(received.files_received, 1);
    assert_eq!(&*b.safe.read(beach).unwrap(), b"sand and sea");
    assert_eq!(item(&b.safe, beach).comment, "August");
    assert_eq!(b.safe.tags_of(beach).unwrap(), ["holiday"]);
    assert_eq!(b.safe.path_of(beach).unwrap(), "/Photos/beach.jpg");

    // A file whose data has not reached the target: listed, waiting, not a problem for check.
    let late = add_file(a, None, "late.txt", b"on its way");
    sync(a);
    let data_on_target = walk(&target.join("files"));
    let late_data = data_on_target
        .iter()
        .find(|path| path.to_string_lossy().contains(&late.to_string()))
        .unwrap();
    fs::remove_file(late_data).unwrap();
    assert_eq!(sync(b).files_waiting, 1);
    assert_eq!(
        b.safe.read(late).unwrap_err().kind(),
        ErrorKind::NotStoredYet
    );
    let check = b
        .safe
        .check(false, true, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean() && check.repairs.is_empty(), "{check:?}");
    assert_eq!(check.waiting_for_sync, 1);
    sync(a);
    assert_eq!(sync(b).files_received, 1);
    assert_eq!(&*b.safe.read(late).unwrap(), b"on its way");

    b.safe.rename(beach, "shore.jpg").unwrap();
    sync(b);
    sync(a);
    assert_eq!(item(&a.safe, beach).name, "shore.jpg");
    assert_eq!(snapshot(&a.safe), snapshot(&b.safe));

    // Nothing readable on the target: no names, no content, no key file.
    for entry in walk(&target) {
        let bytes = fs::read(&entry).unwrap();
        for secret in [
            &b"shore"[..],
            b"beach",
            b"Photos",
            b"holiday",
            b"August",
            b"sand",
        ] {
            assert!(
                !bytes.windows(secret.len()).any(|window| window == secret),
                "{entry:?}"
            );
        }
        assert_ne!(entry.file_name().unwrap(), "keys.crypt");
    }
    assert!(
        !walk(&target)
            .iter()
            .any(|path| path.to_string_lossy().contains("key"))
    );
}

fn walk(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn concurrent_changes_resolve_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, _) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    let doc = add_file(a, None, "notes.txt", b"version 0");
    let doomed = a.safe.create_folder(None, "Old").unwrap();
    let keep = add_file(a, None, "keep.txt", b"keep me");
    let left = a.safe.create_folder(None, "Left").unwrap();
    let right = a.safe.create_folder(None, "Right").unwrap();
    settle(&devices);

    // Offline on both: the same file edited twice, a folder deleted on one device while the
    // other moves a file into it, two folders moved into each other, one new name made twice,
    // a file deleted on one and renamed on the other.
    let edit = |device: &Device, text: &[u8]| {
        let source = device.sources.join("edit.txt");
        fs::write(&source, text).unwrap();
        device.safe.replace_content(doc, &source).unwrap();
    };
    edit(a, b"version A");
    edit(b, b"version B");
    a.safe.trash(doomed).unwrap();
    a.safe.empty_trash().unwrap();
    b.safe.move_to(keep, Some(doomed)).unwrap();
    a.safe.move_to(left, Some(right)).unwrap();
    b.safe.move_to(right, Some(left)).unwrap();
    a.safe.create_folder(None, "Trip").unwrap();
    b.safe.create_folder(None, "Trip").unwrap();
    let note = add_file(a, None, "gone.txt", b"soon gone");
    settle(&devices);
    b.safe.rename(note, "renamed.txt").unwrap();
    a.safe.trash(note).unwrap();
    a.safe.empty_trash().unwrap();
    settle(&devices);

    let state = snapshot(&a.safe);
    assert_eq!(state, snapshot(&b.safe));
    let contents: BTreeSet<Vec<u8>> = state
        .items
        .values()
        .filter_map(|entry| entry.content.clone())
        .collect();
    assert!(
        contents.contains(&b"version A"[..]) && contents.contains(&b"version B"[..]),
        "both edits are kept"
    );
    assert_eq!(&*a.safe.read(keep).unwrap(), b"keep me");
    assert_eq!(
        item(&a.safe, keep).parent,
        None,
        "moved into a deleted folder: now at the top"
    );
    let trips: Vec<_> = state
        .items
        .values()
        .filter(|entry| entry.name.starts_with("Trip"))
        .map(|entry| entry.name.clone())
        .collect();
    assert_eq!(trips.len(), 2, "{trips:?}");
    assert!(trips.contains(&"Trip".to_owned()) && trips.contains(&"Trip (2)".to_owned()));
    let renamed = item(&a.safe, note);
    assert_eq!(
        renamed.name, "renamed.txt",
        "a delete does not win over a change it had not seen"
    );
    assert!(renamed.trashed_at.is_some(), "it is kept in the trash");
    let kinds: BTreeSet<&str> = a
        .safe
        .sync_conflicts()
        .unwrap()
        .iter()
        .chain(b.safe.sync_conflicts().unwrap().iter())
        .map(|conflict| conflict.kind)
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    for kind in ["copy", "moved", "renamed", "kept"] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }
}

/// A small deterministic generator: the seed says which run failed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        (!items.is_empty()).then(|| items[self.below(items.len())].clone())
    }
}

fn all_items(safe: &Safe) -> Vec<Item> {
    let mut items = Vec::new();
    let mut folders = vec![None];
    while let Some(folder) = folders.pop() {
        for item in safe.children(folder, true).unwrap() {
            if item.kind == Kind::Folder {
                folders.push(Some(item.id));
            }
            items.push(item);
        }
    }
    items
}

/// One random change a person could make; refused ones (a name taken, a folder into itself)
/// are simply not made.
fn random_edit(device: &Device, rng: &mut Rng, counter: &mut u64) {
    device.clock();
    let items = all_items(&device.safe);
    let folders: Vec<Option<Uuid>> = std::iter::once(None)
        .chain(
            items
                .iter()
                .filter(|item| item.kind == Kind::Folder && item.trashed_at.is_none())
                .map(|item| Some(item.id)),
        )
        .collect();
    let live: Vec<Uuid> = items
        .iter()
        .filter(|item| item.trashed_at.is_none())
        .map(|item| item.id)
        .collect();
    let files: Vec<Uuid> = items
        .iter()
        .filter(|item| item.kind == Kind::File && item.trashed_at.is_none())
        .map(|item| item.id)
        .collect();
    let names = ["a", "b", "c.txt", "d"];
    let safe = &device.safe;
    *counter += 1;
    let _ = match rng.below(12) {
        0 | 1 => safe
            .create_folder(rng.pick(&folders).flatten(), names[rng.below(names.len())])
            .map(drop),
        2 | 3 => {
            let into = rng.pick(&folders).flatten();
            let content = format!("content {counter}");
            // Refused into a folder inside the trash.
            import_file(device, into, &format!("f{counter}.txt"), content.as_bytes()).map(drop)
        }
        4 => match rng.pick(&live) {
            Some(id) => safe.rename(id, names[rng.below(names.len())]),
            None => Ok(()),
        },
        5 => match (rng.pick(&live), rng.pick(&folders)) {
            (Some(id), Some(folder)) => safe.move_to(id, folder),
            _ => Ok(()),
        },
        6 => match rng.pick(&live) {
            Some(id) => safe.trash(id),
            None => Ok(()),
        },
        7 => match rng.pick(&live) {
            Some(id) => safe.set_comment(id, &format!("comment {counter}")),
            None => Ok(()),
        },
        8 => match rng.pick(&live) {
            Some(id) => safe.add_tag(id, ["red", "blue"][rng.below(2)]),
            None => Ok(()),
        },
        9 => match rng.pick(&files) {
            Some(id) => {
                let source = device.sources.join("edit");
                fs::write(&source, format!("edit {counter}")).unwrap();
                safe.replace_content(id, &source)
            }
            None => Ok(()),
        },
        10 => match rng.pick(&live) {
            Some(id) => safe.set_favorite(id, rng.below(2) == 0),
            None => Ok(()),
        },
        _ => {
            if rng.below(3) == 0 {
                safe.empty_trash().map(drop)
            } else {
                match items.iter().find(|item| item.trashed_at.is_some()) {
                    Some(item) => safe.restore_from_trash(item.id).map(drop),
                    None => Ok(()),
                }
            }
        }
    };
}

#[test]
fn three_devices_converge_whatever_the_edits_and_the_sync_order() {
    let seeds: u64 = std::env::var("ARCA_SYNC_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(12);
    let first: u64 = std::env::var("ARCA_SYNC_FIRST_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1);
    for seed in first..first + seeds {
        let dir = tempfile::tempdir().unwrap();
        let settings = TargetSettings::Folder {
            path: dir.path().join("target"),
        };
        converge(dir.path(), &settings, seed, 60);
    }
}

#[test]
fn three_devices_converge_through_a_garage_cluster() {
    let Some(garage) = common::garage::Cluster::start_or_skip(3) else {
        return;
    };
    for seed in 1..=4 {
        let dir = tempfile::tempdir().unwrap();
        converge(
            dir.path(),
            &garage.settings(&format!("seed-{seed}")),
            seed,
            40,
        );
    }
}

/// Random offline edits on three devices in random sync orders, then syncs until nothing moves:
/// every device shows the same Safe, and every item any device ever showed is still there
/// unless a device deleted it for good (emptied the trash holding it).
fn converge(dir: &Path, settings: &TargetSettings, seed: u64, steps: usize) {
    // Shown only when the test fails: which seed to run again (ARCA_SYNC_FIRST_SEED).
    eprintln!("seed {seed}");
    let devices = devices_on(dir, 3, settings);
    // The devices' clocks are a day apart (B ahead, C behind): no decision may depend on them.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for (device, direction) in devices.iter().zip([0, 1, -1]) {
        let probe = device.clock().create_folder(None, "clock probe").unwrap();
        let added = device.safe.item(probe).unwrap().added_at;
        assert!(
            (added - now - direction * DAY_NS).abs() < DAY_NS / 24,
            "{added}"
        );
        device.safe.trash(probe).unwrap();
    }
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut counter = 0;
    let mut seen = BTreeSet::new();
    let mut deleted = BTreeSet::new();
    for _ in 0..steps {
        let device = &devices[rng.below(3)];
        let before: BTreeSet<Uuid> = all_items(&device.safe).iter().map(|item| item.id).collect();
        if rng.below(4) == 0 {
            sync(device);
        } else {
            random_edit(device, &mut rng, &mut counter);
        }
        let after: BTreeSet<Uuid> = all_items(&device.safe).iter().map(|item| item.id).collect();
        deleted.extend(before.difference(&after).copied());
        seen.extend(after);
    }
    settle(&devices);
    let first = snapshot(&devices[0].safe);
    let lost: Vec<&Uuid> = seen
        .iter()
        .filter(|id| !first.items.contains_key(id) && !deleted.contains(id))
        .collect();
    assert!(lost.is_empty(), "seed {seed}: lost {lost:?}");
    for device in &devices[1..] {
        assert_eq!(snapshot(&device.safe), first, "seed {seed}");
    }

    // The history so far goes into a baseline; the devices edit on; a fourth device joins and
    // starts from the baseline, then everyone edits on.
    let target = settings.open().unwrap();
    let made = devices[0]
        .safe
        .sync_and_consolidate(target.as_ref())
        .unwrap();
    assert!(made.baseline_made > 0, "seed {seed}");
    let mut edit = |devices: &[Device], count: usize| {
        for _ in 0..count {
            let device = &devices[rng.below(devices.len())];
            if rng.below(4) == 0 {
                sync(device);
            } else {
                random_edit(device, &mut rng, &mut counter);
            }
        }
    };
    edit(&devices, steps / 2);
    let config = devices[0].safe.export_sync_config(&password(), "").unwrap();
    let (late, _) = Safe::join(&dir.join("late.arca"), &config, &password(), None).unwrap();
    let first_run = late.sync(&JobControl::new()).unwrap();
    assert!(
        first_run.operations_from_baseline > 0,
        "seed {seed}: {first_run:?}"
    );
    pair(&devices[0].safe, &late);
    let sources = dir.join("sources-late");
    fs::create_dir_all(&sources).unwrap();
    let mut devices = devices;
    devices.push(Device {
        safe: late,
        sources,
        skew: DAY_NS / 2,
    });
    edit(&devices, steps / 2);
    settle(&devices);
    let first = snapshot(&devices[0].safe);
    for device in &devices[1..] {
        assert_eq!(
            snapshot(&device.safe),
            first,
            "seed {seed} after the baseline"
        );
    }

    // One device goes rogue: it edits and syncs while the others edit, until one of them
    // removes it. Whatever each had applied of it, the rest converge.
    let mut devices = devices;
    let rogue = devices.remove(2);
    for _ in 0..steps / 4 {
        random_edit(&rogue, &mut rng, &mut counter);
        if rng.below(3) == 0 {
            sync(&rogue);
            sync(&devices[rng.below(devices.len())]);
        }
    }
    let rogue_id = rogue.safe.sync_devices().unwrap()[0].id;
    let remover = &devices[rng.below(devices.len())];
    remover.safe.remove_device(rogue_id).unwrap();
    random_edit(&rogue, &mut rng, &mut counter);
    let _ = rogue.safe.sync(&JobControl::new());
    for device in [remover].into_iter().chain(&devices) {
        let report = device.safe.sync(&JobControl::new()).unwrap();
        assert!(
            report.problems.iter().all(|p| p.contains("taken back")),
            "seed {seed}: {:?}",
            report.problems
        );
    }
    settle(&devices);
    let first = snapshot(&devices[0].safe);
    for device in &devices[1..] {
        assert_eq!(snapshot(&device.safe), first, "seed {seed} after a removal");
    }
    assert_eq!(
        rogue.safe.sync(&JobControl::new()).unwrap_err().kind(),
        ErrorKind::SyncDevice
    );
}

/// A folder target that misbehaves on purpose.
struct Faulty {
    inner: FolderTarget,
    mode: Mutex<Fault>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    /// Every write is refused, as on a read-only share.
    ReadOnly,
    /// Every upload fails after this many succeed.
    FailAfter(u32),
}

impl Target for Faulty {
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn list(&self, prefix: &str) -> io::Result<Vec<String>> {
        self.inner.list(prefix)
    }
    fn get(&self, name: &str, limit: u64) -> io::Result<Vec<u8>> {
        self.inner.get(name, limit)
    }
    fn put(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        self.fail()?;
        self.inner.put(name, bytes)
    }
    fn put_file(&self, name: &str, from: &Path) -> io::Result<()> {
        self.fail()?;
        self.inner.put_file(name, from)
    }
    fn get_into(&self, name: &str, into: &mut dyn io::Write) -> io::Result<u64> {
        self.inner.get_into(name, into)
    }
    fn delete(&self, name: &str) -> io::Result<()> {
        self.fail()?;
        self.inner.delete(name)
    }
}

impl Faulty {
    fn fail(&self) -> io::Result<()> {
        let mut mode = self.mode.lock().unwrap();
        match *mode {
            Fault::FailAfter(0) => Err(io::Error::other("the network went away")),
            Fault::FailAfter(left) => {
                *mode = Fault::FailAfter(left - 1);
                Ok(())
            }
            Fault::ReadOnly => Err(io::Error::new(
                io::ErrorKind::ReadOnlyFilesystem,
                "read-only file system",
            )),
            Fault::None => Ok(()),
        }
    }
}

#[test]
fn a_target_that_fails_loses_rolls_back_duplicates_or_injects_never_corrupts_a_safe() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    for index in 0..5 {
        add_file(
            a,
            None,
            &format!("{index}.txt"),
            format!("file {index}").as_bytes(),
        );
    }
    // The connection drops half-way through the upload: an error naming the target, and the
    // next run finishes the job.
    let faulty = Faulty {
        inner: FolderTarget::new(&target),
        mode: Mutex::new(Fault::FailAfter(3)),
    };
    let error = a.safe.sync_with(&faulty, &JobControl::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Io);
    assert!(
        error.to_string().contains(&target.display().to_string()),
        "{error}"
    );
    *faulty.mode.lock().unwrap() = Fault::None;
    a.safe.sync_with(&faulty, &JobControl::new()).unwrap();
    settle(&devices);
    assert_eq!(snapshot(&a.safe), snapshot(&b.safe));

    // The target loses A's newest event file (a rollback): A uploads it again next time.
    let c = a.safe.create_folder(None, "After the rollback").unwrap();
    sync(a);
    let events_a = |target: &Path| {
        let mut files: Vec<PathBuf> = walk(
            &target
                .join("log")
                .join(a.safe.sync_devices().unwrap()[0].id.to_string()),
        );
        files.sort();
        files
    };
    let newest = events_a(&target)
        .into_iter()
        .filter(|path| fs::read(path).is_ok())
        .max_by_key(|path| fs::metadata(path).unwrap().modified().unwrap())
        .unwrap();
    fs::remove_file(&newest).unwrap();
    sync(b);
    assert!(b.safe.item(c).is_err(), "B cannot see what the target lost");
    sync(a);
    sync(b);
    assert_eq!(item(&b.safe, c).name, "After the rollback");

    // Duplicated and renamed copies, a damaged file and an injected one: reported, ignored.
    let some_event = events_a(&target).into_iter().next().unwrap();
    let bytes = fs::read(&some_event).unwrap();
    fs::write(
        some_event
            .with_file_name("00000000000000000001-00000000000000000001 (conflicted copy).events"),
        &bytes,
    )
    .unwrap();
    let renamed = some_event.with_file_name("00000000000000000099-00000000000000000099.events");
    fs::write(&renamed, &bytes).unwrap();
    let other_device = Uuid::new_v4();
    let injected = target.join(format!(
        "log/{other_device}/00000000000000000001-00000000000000000001.events"
    ));
    fs::create_dir_all(injected.parent().unwrap()).unwrap();
    fs::write(&injected, &bytes).unwrap();
    let report = b.safe.sync(&JobControl::new()).unwrap();
    assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
    for expected in ["not what its name says", "never asked to join"] {
        assert!(
            report
                .problems
                .iter()
                .any(|problem| problem.contains(expected)),
            "{:?}",
            report.problems
        );
    }
    fs::remove_file(&injected).unwrap();
    fs::remove_file(&renamed).unwrap();

    // A data file swapped for another item's version, and one truncated: never taken.
    let file_a = add_file(a, None, "swap.txt", b"the real content");
    let file_b = add_file(a, None, "other.txt", b"something else");
    sync(a);
    let data = walk(&target.join("files"));
    let find = |id: Uuid| {
        data.iter()
            .find(|path| path.to_string_lossy().contains(&id.to_string()))
            .unwrap()
            .clone()
    };
    let (path_a, path_b) = (find(file_a), find(file_b));
    fs::copy(&path_b, &path_a).unwrap();
    let report = b.safe.sync(&JobControl::new()).unwrap();
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert!(
        b.safe.read(file_a).is_err(),
        "the swapped file is not taken"
    );
    assert_eq!(report.files_waiting, 1);
    assert_eq!(&*b.safe.read(file_b).unwrap(), b"something else");
    assert!(
        !path_a.exists(),
        "the wrong version is removed from the target"
    );
    // The device holding the good copy sends it again.
    assert_eq!(sync(a).files_sent, 1);
    sync(b);
    assert_eq!(&*b.safe.read(file_a).unwrap(), b"the real content");
}

#[test]
fn a_target_of_another_safe_and_a_wrong_password_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target) = devices(dir.path(), 1);
    sync(&devices[0]);
    let other = Safe::create(
        &dir.path().join("other.arca"),
        &password(),
        Iterations::new(1_000).unwrap(),
    )
    .unwrap();
    other
        .set_sync_target(&TargetSettings::Folder {
            path: target.clone(),
        })
        .unwrap();
    let error = other.sync(&JobControl::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ForeignTarget, "{error}");
    assert!(error.to_string().contains("another Safe"), "{error}");

    let config = devices[0].safe.export_sync_config(&password(), "").unwrap();
    let Err(error) = Safe::join(
        &dir.path().join("joined.arca"),
        &config,
        &Password::new("wrong".to_owned()),
        None,
    ) else {
        panic!("joined with a wrong password");
    };
    assert!(
        error
            .to_string()
            .contains("does not open with this password"),
        "{error}"
    );
    assert!(
        !dir.path().join("joined.arca").exists(),
        "nothing is made for a wrong password"
    );
    let mut damaged = config.clone();
    let middle = damaged.len() / 2;
    damaged[middle] = if damaged[middle] == b'a' { b'b' } else { b'a' };
    assert!(Safe::join(&dir.path().join("joined.arca"), &damaged, &password(), None).is_err());
    assert_eq!(
        devices[0]
            .safe
            .export_sync_config(&Password::new("wrong".to_owned()), "")
            .unwrap_err()
            .kind(),
        ErrorKind::WrongPassword
    );
}

/// The child of the kill test: syncs the Safe `ARCA_SAFE` once and prints how many crash
/// points it passed. Does nothing in a normal test run.
#[test]
#[ignore = "the child process of the kill test; does nothing by itself"]
fn child_main() {
    if std::env::var(common::child::CHILD_OPERATION).is_err() {
        return;
    }
    let safe = Safe::open(Path::new(&std::env::var("ARCA_SAFE").unwrap()), &password()).unwrap();
    let before = arca_cryptor::crash_points_passed();
    // The copy's own target: the settings stored in the Safe name the fixture's.
    let target = FolderTarget::new(std::env::var("ARCA_TARGET").unwrap());
    safe.sync_with(&target, &JobControl::new()).unwrap();
    let after = arca_cryptor::crash_points_passed();
    println!("ARCA_CRASH_POINTS {before} {after}");
}

#[test]
fn kill_during_a_sync_then_sync_again_loses_nothing() {
    use common::child::{child_value, copy_dir, describe, run_child};
    let fixture = tempfile::tempdir().unwrap();
    {
        let (devices, _) = devices(fixture.path(), 2);
        let [a, b] = &devices[..] else { unreachable!() };
        let folder = a.safe.create_folder(None, "Shared").unwrap();
        for index in 0..3 {
            add_file(
                a,
                Some(folder),
                &format!("{index}.txt"),
                format!("from A {index}").as_bytes(),
            );
        }
        add_file(b, None, "b.txt", b"from B");
        b.safe.create_folder(None, "Shared").unwrap();
        sync(a);
    }
    let run = |k: u64| {
        let instance = tempfile::tempdir().unwrap();
        copy_dir(fixture.path(), instance.path());
        let output = run_child(
            "sync",
            &[
                ("ARCA_SAFE", instance.path().join("1.arca").into_os_string()),
                (
                    "ARCA_TARGET",
                    instance.path().join("target").into_os_string(),
                ),
                ("ARCA_CRASH_AT", k.to_string().into()),
            ],
        );
        (instance, output)
    };
    let (_, learned) = run(u64::MAX);
    assert!(learned.status.success(), "{}", describe(&learned));
    let points = child_value(&learned, "ARCA_CRASH_POINTS").unwrap();
    let (before, after) = points.split_once(' ').unwrap();
    let points: std::ops::RangeInclusive<u64> =
        before.parse::<u64>().unwrap() + 1..=after.parse().unwrap();
    assert!(
        points.clone().count() >= 6,
        "too few crash points: {points:?}"
    );
    for k in points {
        let (instance, output) = run(k);
        assert!(
            !output.status.success(),
            "sync finished before crash point {k}: {}",
            describe(&output)
        );
        let open = |name: &str| Safe::open(&instance.path().join(name), &password()).unwrap();
        let (a, b) = (open("A.arca"), open("1.arca"));
        let target = FolderTarget::new(instance.path().join("target"));
        for safe in [&b, &a, &b] {
            let report = safe.sync_with(&target, &JobControl::new()).unwrap();
            assert!(
                report.problems.is_empty(),
                "killed at {k}: {:?}",
                report.problems
            );
        }
        assert_eq!(snapshot(&a), snapshot(&b), "killed at {k}");
        assert_eq!(snapshot(&a).items.len(), 6, "killed at {k}");
        let check = b
            .check(false, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(
            check
                .problems
                .iter()
                .all(|problem| matches!(problem, arca_safe::Problem::TemporaryFile { .. })),
            "killed at {k}: {:?}",
            check.problems
        );
    }
}

#[test]
fn a_drive_that_is_not_connected_is_not_mistaken_for_an_empty_target() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target) = devices(dir.path(), 1);
    add_file(&devices[0], None, "a.txt", b"a");
    sync(&devices[0]);
    // The drive is gone: only an empty mount point is left.
    fs::remove_dir_all(&target).unwrap();
    fs::create_dir(&target).unwrap();
    let error = devices[0].safe.sync(&JobControl::new()).unwrap_err();
    assert!(error.to_string().contains("is it connected"), "{error}");
    assert!(
        fs::read_dir(&target).unwrap().next().is_none(),
        "nothing was written to the mount point"
    );
    // Not even an empty folder: nothing is created.
    fs::remove_dir(&target).unwrap();
    let error = devices[0].safe.sync(&JobControl::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotFound, "{error}");
    assert!(!target.exists());
    // Chosen again on purpose, it starts afresh and everything goes up again.
    fs::create_dir(&target).unwrap();
    devices[0]
        .safe
        .set_sync_target(&TargetSettings::Folder {
            path: target.clone(),
        })
        .unwrap();
    let report = sync(&devices[0]);
    assert_eq!(report.files_sent, 1);
}

/// What sync asks of any target: listing by prefix, whole objects read and written, a read
/// limit, large objects moved in parts, deletes that tolerate absence.
fn conformance(target: &dyn Target) {
    assert!(target.list("events/").unwrap().is_empty());
    target.put("events/a/1.events", b"one").unwrap();
    target.put("events/b/2.events", b"two").unwrap();
    let mut names = target.list("events/").unwrap();
    names.sort();
    assert_eq!(names, ["events/a/1.events", "events/b/2.events"]);
    assert_eq!(target.get("events/a/1.events", 3).unwrap(), b"one");
    assert_eq!(
        target.get("events/a/1.events", 2).unwrap_err().kind(),
        io::ErrorKind::InvalidData
    );
    assert_eq!(
        target.get("events/none", 10).unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    // 20 MiB and a bit: three parts of an S3 upload, read back in windows of parts.
    let dir = tempfile::tempdir().unwrap();
    let big: Vec<u8> = (0..20 * 1024 * 1024 + 12_345)
        .map(|index: u32| (index.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    fs::write(dir.path().join("big"), &big).unwrap();
    target
        .put_file("files/ab/big.data", &dir.path().join("big"))
        .unwrap();
    let mut back = Vec::new();
    assert_eq!(
        target.get_into("files/ab/big.data", &mut back).unwrap(),
        big.len() as u64
    );
    assert!(back == big, "the object comes back byte for byte");
    for name in [
        "files/ab/big.data",
        "files/ab/big.data",
        "events/a/1.events",
    ] {
        target.delete(name).unwrap();
    }
    assert!(target.list("files/").unwrap().is_empty());
    assert_eq!(target.list("events/").unwrap(), ["events/b/2.events"]);
}

#[test]
fn a_folder_target_does_what_sync_asks_of_a_target() {
    let dir = tempfile::tempdir().unwrap();
    conformance(&FolderTarget::new(dir.path()));
}

#[test]
fn an_s3_target_does_what_sync_asks_of_a_target() {
    let Some(garage) = common::garage::Cluster::start_or_skip(1) else {
        return;
    };
    let TargetSettings::S3(settings) = garage.settings("conformance") else {
        unreachable!()
    };
    let target = arca_safe::S3Target::new(&settings).unwrap();
    assert!(
        !target
            .describe()
            .contains(settings.secret_access_key.expose())
    );
    conformance(&target);

    // A wrong secret is refused by the store, as an error naming the target.
    let wrong = arca_safe::S3Settings {
        secret_access_key: arca_safe::Secret::new("wrong".to_owned()),
        ..settings.clone()
    };
    assert!(
        arca_safe::S3Target::new(&wrong)
            .unwrap()
            .list("events/")
            .is_err()
    );
}

#[test]
fn a_read_only_target_still_brings_the_other_devices_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    let file = add_file(a, None, "from-a.txt", b"from A");
    sync(a);
    add_file(b, None, "from-b.txt", b"from B");
    let read_only = Faulty {
        inner: FolderTarget::new(&target),
        mode: Mutex::new(Fault::ReadOnly),
    };
    let report = b.safe.sync_with(&read_only, &JobControl::new()).unwrap();
    assert_eq!(&*b.safe.read(file).unwrap(), b"from A");
    assert_eq!(report.files_received, 1);
    assert_eq!(report.operations_sent, 0);
    assert!(
        report
            .problems
            .iter()
            .any(|problem| problem.contains("read-only")),
        "{:?}",
        report.problems
    );
    // Writable again: B's own changes go up.
    assert!(sync(b).operations_sent > 0);
    sync(a);
    assert_eq!(a.safe.children(None, false).unwrap().len(), 2);
}

#[test]
fn a_file_deleted_for_good_but_changed_elsewhere_comes_back_with_its_newest_content() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    let doc = add_file(a, None, "doc.txt", b"first version");
    settle(&devices);
    // Offline on A: a new version, then deleted for good. Meanwhile B comments on it.
    let source = a.sources.join("new");
    fs::write(&source, b"second version").unwrap();
    a.safe.replace_content(doc, &source).unwrap();
    a.safe.trash(doc).unwrap();
    a.safe.empty_trash().unwrap();
    b.safe.set_comment(doc, "still needed?").unwrap();
    settle(&devices);
    for device in &devices {
        let kept = item(&device.safe, doc);
        eprintln!(
            "DBG {:?} {:?} exists {}",
            kept.content,
            kept.hmac_tag.map(|t| t[0]),
            device.safe.layout().data_file(doc).exists()
        );
        assert!(kept.trashed_at.is_some(), "kept, in the trash");
        assert_eq!(kept.comment, "still needed?");
        assert_eq!(&*device.safe.read(doc).unwrap(), b"second version");
        let check = device
            .safe
            .check(false, false, &JobControl::new(), &mut |_| {})
            .unwrap();
        assert!(check.is_clean(), "{:?}", check.problems);
    }
    assert_eq!(snapshot(&a.safe), snapshot(&b.safe));

    // Deleted for good again, with nothing changed elsewhere: once both devices have seen the
    // delete, its data leaves the target and both devices.
    a.safe.empty_trash().unwrap();
    settle(&devices);
    sync(a);
    for device in &devices {
        assert!(device.safe.item(doc).is_err());
        assert!(
            !device.safe.layout().data_file(doc).exists(),
            "the data file is gone"
        );
    }
    assert!(
        !walk(&target.join("files"))
            .iter()
            .any(|path| path.to_string_lossy().contains(&doc.to_string())),
        "its data left the target"
    );
}

/// A Safe set up on A, and a copy joined on another device from A's configuration, not yet
/// approved.
fn founder_and_joined(dir: &Path) -> (Device, Device) {
    let target = TargetSettings::Folder {
        path: dir.join("target"),
    };
    let mut devices = devices_on(dir, 1, &target);
    let a = devices.remove(0);
    let config = a.safe.export_sync_config(&password(), "").unwrap();
    let (safe, _) = Safe::join(&dir.join("joined.arca"), &config, &password(), None).unwrap();
    let sources = dir.join("sources-joined");
    fs::create_dir_all(&sources).unwrap();
    (
        a,
        Device {
            safe,
            sources,
            skew: -DAY_NS,
        },
    )
}

fn state_of(safe: &Safe, id: Uuid) -> arca_safe::DeviceState {
    safe.sync_devices()
        .unwrap()
        .into_iter()
        .find(|device| device.id == id)
        .map(|device| device.state)
        .unwrap()
}

fn this_device(safe: &Safe) -> arca_safe::SyncDevice {
    let devices = safe.sync_devices().unwrap();
    assert!(devices[0].this_device);
    devices[0].clone()
}

#[test]
fn a_joined_device_receives_at_once_but_its_changes_wait_for_its_approval() {
    use arca_safe::DeviceState;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = founder_and_joined(dir.path());
    let from_a = add_file(&a, None, "from A.txt", b"A's");
    sync(&a);

    let asked = sync(&b);
    let code = asked.waiting_for_approval.clone().expect("B waits");
    assert_eq!(this_device(&b.safe).code.as_deref(), Some(code.as_str()));
    assert_eq!(
        &*b.safe.read(from_a).unwrap(),
        b"A's",
        "B receives before approval"
    );
    let from_b = b.safe.create_folder(None, "From B").unwrap();
    let source = b.sources.join("edit");
    fs::write(&source, b"B's edit").unwrap();
    b.safe.replace_content(from_a, &source).unwrap();
    sync(&b);
    // Nothing B writes counts before a trusted device approved it, and B cannot vouch for others
    // nor remove from the target the version it replaced, which is still everyone else's.
    let another = Safe::join(
        &dir.path().join("another.arca"),
        &a.safe.export_sync_config(&password(), "").unwrap(),
        &password(),
        None,
    )
    .unwrap()
    .0;
    another.sync(&JobControl::new()).unwrap();
    assert_eq!(&*another.read(from_a).unwrap(), b"A's");
    let error = b.safe.export_sync_config(&password(), "").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncDevice, "{error}");

    let seen = sync(&a);
    assert_eq!(seen.devices_asking.len(), 2, "B and another");
    let asking = seen
        .devices_asking
        .iter()
        .find(|device| device.code.as_deref() == Some(code.as_str()))
        .expect("both screens show one code");
    assert_eq!(asking.state, DeviceState::Waiting);
    assert!(
        a.safe.item(from_b).is_err(),
        "B's change waits for its approval"
    );

    a.safe.approve_device(asking.id).unwrap();
    sync(&a);
    let approved = sync(&b);
    assert_eq!(approved.waiting_for_approval, None);
    sync(&a);
    assert_eq!(item(&a.safe, from_b).name, "From B");
    assert_eq!(&*a.safe.read(from_a).unwrap(), b"B's edit");
    assert_eq!(state_of(&a.safe, asking.id), DeviceState::Approved);
    let b_seen_by_b = this_device(&b.safe);
    assert_eq!(b_seen_by_b.state, DeviceState::Approved);
    assert_eq!(
        b_seen_by_b.decided_by.as_deref(),
        Some(this_device(&a.safe).name.as_str())
    );
    assert_eq!(snapshot(&a.safe), snapshot(&b.safe));
}

#[test]
fn a_removed_device_is_cut_off_and_its_later_changes_are_taken_back_everywhere() {
    use arca_safe::DeviceState;
    let dir = tempfile::tempdir().unwrap();
    let (devices, _) = devices(dir.path(), 3);
    let [a, b, c] = &devices[..] else {
        unreachable!()
    };
    let before = c.safe.create_folder(None, "Before the removal").unwrap();
    let precious = add_file(a, None, "precious.txt", b"the real thing");
    settle(&devices);
    // C (a stolen laptop, say) goes on writing; B applies it before it hears of the removal.
    let after = c.safe.create_folder(None, "After the removal").unwrap();
    let renamed = c.safe.rename(before, "Renamed by the thief");
    renamed.unwrap();
    let source = c.sources.join("garbage");
    fs::write(&source, b"overwritten by the thief").unwrap();
    c.safe.replace_content(precious, &source).unwrap();
    sync(c);
    sync(b);
    assert_eq!(
        &*b.safe.read(precious).unwrap(),
        b"overwritten by the thief"
    );
    sync(b);
    assert_eq!(item(&b.safe, after).name, "After the removal");
    let c_id = this_device(&c.safe).id;
    a.safe.remove_device(c_id).unwrap();
    sync(a);

    let report = b.safe.sync(&JobControl::new()).unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("taken back")),
        "{:?}",
        report.problems
    );
    assert!(
        b.safe.item(after).is_err(),
        "C's change after its removal is undone"
    );
    sync(b);
    assert_eq!(&*b.safe.read(precious).unwrap(), b"the real thing");
    assert_eq!(item(&b.safe, before).name, "Before the removal");
    assert_eq!(state_of(&b.safe, c_id), DeviceState::Removed);

    let error = c.safe.sync(&JobControl::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncDevice, "{error}");
    assert!(error.to_string().contains("removed"), "{error}");
    assert_eq!(
        item(&c.safe, after).name,
        "After the removal",
        "C keeps its copy"
    );

    settle(&devices[..2]);
    assert_eq!(snapshot(&a.safe), snapshot(&b.safe));
    // A removed device cannot come back by approval, and cannot be removed twice.
    let error = a.safe.approve_device(c_id).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncDevice, "{error}");
    a.safe.remove_device(c_id).unwrap();
    let error = a.safe.remove_device(this_device(&a.safe).id).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncDevice, "{error}");
    let error = a.safe.approve_device(Uuid::new_v4()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncDevice, "{error}");
}

#[test]
fn removing_a_device_keeps_the_devices_it_approved_and_refusing_one_keeps_it_out() {
    use arca_safe::DeviceState;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = founder_and_joined(dir.path());
    pair(&a.safe, &b.safe);
    // C joins from B's configuration and is approved by B alone.
    sync(&b);
    let config = b.safe.export_sync_config(&password(), "").unwrap();
    let (c, _) = Safe::join(&dir.path().join("c.arca"), &config, &password(), None).unwrap();
    pair(&b.safe, &c);
    let c_id = this_device(&c).id;
    sync(&a);
    assert_eq!(state_of(&a.safe, c_id), DeviceState::Approved);

    a.safe.remove_device(this_device(&b.safe).id).unwrap();
    sync(&a);
    let from_c = c.create_folder(None, "C still counts").unwrap();
    c.sync(&JobControl::new()).unwrap();
    sync(&a);
    assert_eq!(state_of(&a.safe, c_id), DeviceState::Approved);
    assert_eq!(item(&a.safe, from_c).name, "C still counts");

    // A device asking to join that nobody recognises is refused: nothing it writes counts.
    let config = a.safe.export_sync_config(&password(), "").unwrap();
    let (stranger, _) = Safe::join(
        &dir.path().join("stranger.arca"),
        &config,
        &password(),
        None,
    )
    .unwrap();
    stranger.create_folder(None, "Let me in").unwrap();
    stranger.sync(&JobControl::new()).unwrap();
    let asking = sync(&a).devices_asking;
    assert_eq!(asking.len(), 1);
    a.safe.remove_device(asking[0].id).unwrap();
    sync(&a);
    assert_eq!(state_of(&a.safe, asking[0].id), DeviceState::Removed);
    let error = stranger.sync(&JobControl::new()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SyncDevice, "{error}");
    assert!(
        a.safe
            .children(None, false)
            .unwrap()
            .iter()
            .all(|i| i.name != "Let me in")
    );
}

#[test]
fn a_new_device_starts_from_the_baseline_and_a_tampered_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, target_path) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    let folder = a.safe.create_folder(None, "Renamed often").unwrap();
    for round in 0..10 {
        a.safe.rename(folder, &format!("Name {round}")).unwrap();
    }
    settle(&devices);
    let target = FolderTarget::new(&target_path);
    let made = a.safe.sync_and_consolidate(&target).unwrap();
    assert_eq!(
        made.baseline_made, 2,
        "the folder's insert and its last name"
    );
    b.safe.rename(folder, "After the baseline").unwrap();
    sync(b);

    let config = a.safe.export_sync_config(&password(), "").unwrap();
    let join = |name: &str| {
        Safe::join(&dir.path().join(name), &config, &password(), None)
            .unwrap()
            .0
    };
    let fresh = join("fresh.arca");
    let report = fresh.sync(&JobControl::new()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.operations_from_baseline, 2);
    assert_eq!(item(&fresh, folder).name, "After the baseline");

    // A part swapped or damaged: the baseline is refused, and the event files serve.
    let part = walk(&target_path.join("baseline"))
        .into_iter()
        .find(|path| path.to_string_lossy().contains("part-"))
        .unwrap();
    let mut bytes = fs::read(&part).unwrap();
    bytes[100] ^= 1;
    fs::write(&part, &bytes).unwrap();
    let other = join("other.arca");
    let report = other.sync(&JobControl::new()).unwrap();
    assert_eq!(report.operations_from_baseline, 0);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("not the one its index lists")),
        "{:?}",
        report.problems
    );
    assert_eq!(item(&other, folder).name, "After the baseline");
    assert_eq!(snapshot(&other), snapshot(&fresh));
}

#[test]
fn a_sync_configuration_as_text_fits_a_qr_code_and_joins_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, _) = devices(dir.path(), 2);
    let config = devices[0]
        .safe
        .export_sync_config(&password(), "scan me on the laptop")
        .unwrap();
    let text = arca_safe::sync_config_text(&config).unwrap();
    // QR codes hold 3,391 characters of this alphabet at medium error correction.
    println!("{} characters", text.len());
    assert!(text.len() <= 3_391, "{}", text.len());
    assert!(
        text.bytes().all(|byte| byte.is_ascii_digit()
            || byte.is_ascii_uppercase()
            || b":-".contains(&byte))
    );
    let (joined, info) = Safe::join(
        &dir.path().join("from-text.arca"),
        text.as_bytes(),
        &password(),
        None,
    )
    .unwrap();
    assert_eq!(info.comment, "scan me on the laptop");
    assert!(
        sync(&Device {
            safe: joined,
            sources: dir.path().to_owned(),
            skew: 0,
        })
        .waiting_for_approval
        .is_some()
    );
    let damaged = text.replacen(":2:", ":x:", 1);
    let Err(error) = Safe::join(
        &dir.path().join("bad.arca"),
        damaged.as_bytes(),
        &password(),
        None,
    ) else {
        panic!("a damaged configuration joins");
    };
    assert_eq!(error.kind(), ErrorKind::InvalidInput, "{error}");
}

#[test]
fn a_sync_tells_how_far_it_has_got() {
    let dir = tempfile::tempdir().unwrap();
    let (devices, _) = devices(dir.path(), 2);
    let [a, b] = &devices[..] else { unreachable!() };
    for index in 0..3 {
        add_file(
            a,
            None,
            &format!("{index}.bin"),
            &vec![index as u8; 100_000],
        );
    }
    sync(a);
    let mut seen = Vec::new();
    let report = b
        .safe
        .sync_observed(&JobControl::new(), &mut |event| {
            if let arca_safe::JobEvent::Progress(progress) = event {
                seen.push(progress.clone());
            }
        })
        .unwrap();
    assert_eq!(report.files_received, 3);
    let last = seen.last().unwrap();
    assert_eq!(last.phase, arca_safe::Phase::Finished);
    assert_eq!((last.files_done, last.files_total), (3, 3));
    assert_eq!((last.bytes_done, last.bytes_total), (300_000, 300_000));
    assert!(
        seen.iter()
            .any(|progress| progress.phase == arca_safe::Phase::Copying)
    );
}

#[test]
fn a_device_approved_only_by_a_removed_one_waits_and_counts_again_once_approved() {
    use arca_safe::DeviceState;
    let dir = tempfile::tempdir().unwrap();
    let (devices, _) = devices(dir.path(), 3);
    let [a, b, c] = &devices[..] else {
        unreachable!()
    };
    // X joins from C's configuration; C approves it while A is away; B applies its change.
    settle(&devices);
    let config = c.safe.export_sync_config(&password(), "").unwrap();
    let (x, _) = Safe::join(&dir.path().join("x.arca"), &config, &password(), None).unwrap();
    pair(&c.safe, &x);
    let from_x = x.create_folder(None, "From X").unwrap();
    x.sync(&JobControl::new()).unwrap();
    sync(b);
    assert_eq!(item(&b.safe, from_x).name, "From X");
    let x_id = this_device(&x).id;

    // A removes C without having seen C's approval of X: X now waits, and B takes back X's
    // change until a device approves X again.
    a.safe.remove_device(this_device(&c.safe).id).unwrap();
    sync(a);
    let report = b.safe.sync(&JobControl::new()).unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("taken back")),
        "{:?}",
        report.problems
    );
    assert!(b.safe.item(from_x).is_err());
    assert_eq!(state_of(&b.safe, x_id), DeviceState::Waiting);

    a.safe.approve_device(x_id).unwrap();
    sync(a);
    sync(b);
    sync(a);
    assert_eq!(item(&b.safe, from_x).name, "From X");
    assert_eq!(item(&a.safe, from_x).name, "From X");
    assert_eq!(snapshot(&a.safe), snapshot(&b.safe));
}
