//! Helpers shared by the tests of an open Safe that many things use at once (jobs beside reads,
//! locking, pausing, pages, readers, replacing content, backups of chosen items, error kinds).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arca_cryptor::{CleartextBuffer, Credentials, Iterations, Password};
use arca_safe::{ItemProblem, JobEvent, Phase, Progress, Safe, Unlock};
use uuid::Uuid;

use crate::common::{password, test_backoff, test_open_options};

/// The Safe's folder name inside a test's temporary folder.
pub const SAFE: &str = "test.arca";
/// The iterations of the test Safes' key files (what `common::new_safe` uses).
pub const ITERATIONS: u32 = 1_000;

/// A new Safe whose back-off counter is a test's own (so `check_password` and wrong passwords
/// never touch the user's counter, and never wait on another test's).
pub fn new_test_safe(dir: &Path) -> Safe {
    Safe::create_with(
        &dir.join(SAFE),
        &password(),
        Iterations::new(ITERATIONS).unwrap(),
        test_backoff(),
    )
    .unwrap()
}

/// Opens the Safe at `path` for writing, with a back-off of its own.
pub fn reopen(path: &Path) -> Safe {
    Safe::open_with(path, Unlock::Password(&password()), &test_open_options()).unwrap()
}

/// Opens the Safe at `path` for reading only, with a back-off of its own.
pub fn reopen_read_only(path: &Path) -> Safe {
    crate::common::probe(path, &password()).unwrap()
}

/// A file of `len` bytes that reads as zeros and takes no room on disk (a hole).
pub fn sparse_file(path: &Path, len: u64) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    File::create(path).unwrap().set_len(len).unwrap();
}

/// What a job reported, in order, owned (the events themselves borrow).
#[derive(Debug, Clone)]
pub enum Event {
    Progress(Progress),
    Problem(ItemProblem),
}

impl Event {
    pub fn of(event: &JobEvent<'_>) -> Self {
        match event {
            JobEvent::Progress(progress) => Self::Progress((*progress).clone()),
            JobEvent::Problem(problem) => Self::Problem((*problem).clone()),
        }
    }

    pub fn progress(&self) -> Option<&Progress> {
        match self {
            Self::Progress(progress) => Some(progress),
            Self::Problem(_) => None,
        }
    }

    pub fn problem(&self) -> Option<&ItemProblem> {
        match self {
            Self::Problem(problem) => Some(problem),
            Self::Progress(_) => None,
        }
    }
}

/// A shared record of a job's events, readable while the job runs on another thread.
#[derive(Debug, Clone, Default)]
pub struct EventLog(Arc<Mutex<Vec<Event>>>);

impl EventLog {
    pub fn push(&self, event: &JobEvent<'_>) {
        self.0.lock().unwrap().push(Event::of(event));
    }

    pub fn events(&self) -> Vec<Event> {
        self.0.lock().unwrap().clone()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The progress events so far.
    pub fn progress(&self) -> Vec<Progress> {
        self.events()
            .iter()
            .filter_map(|event| event.progress().cloned())
            .collect()
    }

    /// The problems so far.
    pub fn problems(&self) -> Vec<ItemProblem> {
        self.events()
            .iter()
            .filter_map(|event| event.problem().cloned())
            .collect()
    }

    /// The phases reported, each once where it repeats.
    pub fn phases(&self) -> Vec<Phase> {
        let mut phases: Vec<Phase> = Vec::new();
        for progress in self.progress() {
            if phases.last() != Some(&progress.phase) {
                phases.push(progress.phase);
            }
        }
        phases
    }
}

/// Waits until `condition` holds, polling every few milliseconds. Panics (naming `what`) only
/// after a minute, so a slow machine never fails a test that would pass on a fast one.
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "gave up waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The UUIDs of the data files in the Safe at `safe_dir` (`files/xx/<uuid>.data.crypt`).
pub fn data_files(safe_dir: &Path) -> BTreeSet<Uuid> {
    let mut out = BTreeSet::new();
    for shard in fs::read_dir(safe_dir.join("files")).unwrap() {
        let shard = shard.unwrap().path();
        if !shard.is_dir() {
            continue;
        }
        for entry in fs::read_dir(&shard).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".data.crypt") {
                out.insert(Uuid::parse_str(id).unwrap());
            }
        }
    }
    out
}

/// Every file below `dir` whose name ends in `.tmp` (data files being written).
pub fn temporaries(dir: &Path) -> Vec<PathBuf> {
    crate::common::child::temporaries(dir)
}

/// Flips the bits of the byte at `offset` of the file at `path`, in place.
pub fn flip_byte(path: &Path, offset: u64) {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut byte = [0u8; 1];
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.read_exact(&mut byte).unwrap();
    byte[0] ^= 0xff;
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&byte).unwrap();
    file.sync_all().unwrap();
}

/// The key bytes in the Safe's key file (file data AES and HMAC keys, database key), each as
/// lowercase hex: what no error message may ever contain.
pub fn key_hex(safe_dir: &Path) -> Vec<String> {
    let sealed = fs::read(safe_dir.join("safe.key")).unwrap();
    let payload = arca_cryptor::decrypt(
        Credentials::Password(&password(), Iterations::new(ITERATIONS).unwrap()),
        sealed.as_slice(),
        CleartextBuffer::new(),
    )
    .unwrap();
    assert_eq!(
        payload.len(),
        2 + 16 + 3 * 32,
        "unexpected key file payload"
    );
    payload[18..]
        .chunks(32)
        .map(|key| key.iter().map(|byte| format!("{byte:02x}")).collect())
        .collect()
}

/// Asserts that `message` names no file of the Safe's store (`files/3f/…`, `….data.crypt`,
/// temporary data files) and holds no 8-byte run of any key (in hex, either case).
pub fn assert_clean_message(message: &str, keys: &[String], context: &str) {
    assert!(
        !message.contains(".data.crypt"),
        "{context}: the message names a data file: {message}"
    );
    let bytes = message.as_bytes();
    for (at, window) in bytes.windows(9).enumerate() {
        let shard = window.starts_with(b"files")
            && (window[5] == b'/' || window[5] == b'\\')
            && window[6].is_ascii_hexdigit()
            && window[7].is_ascii_hexdigit()
            && (window[8] == b'/' || window[8] == b'\\');
        assert!(
            !shard,
            "{context}: the message names a path in the store at byte {at}: {message}"
        );
    }
    let lower = message.to_ascii_lowercase();
    for key in keys {
        for start in (0..key.len() - 16).step_by(2) {
            assert!(
                !lower.contains(&key[start..start + 16]),
                "{context}: the message holds key material: {message}"
            );
        }
    }
}

/// The password that is not the test Safes' one.
pub fn wrong_password() -> Password {
    Password::new("not the password at all".to_owned())
}

/// A job running on another thread, its events recorded as they come.
pub struct Running<T> {
    handle: std::thread::JoinHandle<T>,
    /// Every event of the job so far.
    pub log: EventLog,
    reached: std::sync::mpsc::Receiver<()>,
}

impl<T> Running<T> {
    /// Waits until the job's observer reached the point `run_job` was given; panics if the job
    /// ended before.
    pub fn wait_reached(&self) {
        match self.reached.recv_timeout(Duration::from_secs(120)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                panic!(
                    "the job ended before it reached the point: {:?}",
                    self.log.events()
                )
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the job did not reach the point in time")
            }
        }
    }

    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// The job's outcome.
    pub fn join(self) -> T {
        self.handle.join().unwrap()
    }
}

/// Runs `job` on another thread with an observer that records every event and calls `at` on
/// each until it returns `true` (it may pause or cancel the job itself, from inside, so at
/// once); [`Running::wait_reached`] returns then.
pub fn run_job<T: Send + 'static>(
    mut at: impl FnMut(&Event) -> bool + Send + 'static,
    job: impl FnOnce(&mut dyn FnMut(JobEvent<'_>)) -> T + Send + 'static,
) -> Running<T> {
    let log = EventLog::default();
    let (sender, reached) = std::sync::mpsc::channel();
    let handle = {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut sender = Some(sender);
            let mut observer = move |event: JobEvent<'_>| {
                log.push(&event);
                if sender.is_some() && at(&Event::of(&event)) {
                    let _ = sender.take().map(|sender| sender.send(()));
                }
            };
            job(&mut observer)
        })
    };
    Running {
        handle,
        log,
        reached,
    }
}

/// The size of the only temporary data file in the Safe at `safe_dir`, if there is one.
pub fn temporary_size(safe_dir: &Path) -> Option<u64> {
    let found = temporaries(safe_dir);
    assert!(found.len() <= 1, "several temporary files: {found:?}");
    found
        .first()
        .and_then(|path| fs::metadata(path).ok())
        .map(|metadata| metadata.len())
}

/// A temporary folder in memory (`/dev/shm`) where there is one, else the usual one: for tests
/// of many small files whose subject is not the disk (creating and removing ten thousand files
/// on a busy disk costs more than the test itself).
pub fn memory_tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("arca-test-")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}
