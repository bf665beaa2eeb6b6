//! An open Safe that many things use at once: reads (list, search, stat, read a file) on one
//! thread while an import runs on another, the import's unfinished items visible as pending;
//! a lock during the import stops it at once (resumable), after which every clone of the handle
//! and every reader opened before fails; the import is offered again after the next unlock and
//! resumes to a complete, verified file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod open_common;

use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use arca_safe::{
    BackupOptions, Content, Error, ErrorKind, FileReader, ImportOptions, JobControl, JobEvent,
    OnClash, Phase, Safe, SearchQuery, SortKey, SortOrder,
};
use common::child::pseudo_random;
use common::{import, password};
use open_common::*;

/// Large enough that encrypting it takes well over the 100 ms between two progress events on
/// any machine (AES-256-CBC encryption is serial): the file is still in flight when the first
/// event with bytes of it arrives.
const BIG: u64 = 384 << 20;

#[test]
fn the_handle_and_its_readers_can_be_shared_between_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    fn sent<T: Send>() {}
    shared::<Safe>();
    sent::<FileReader>();
    sent::<JobControl>();
}

/// Every call a program makes on a Safe, each expected to fail with `SafeLocked`.
fn assert_every_call_fails_locked(safe: &Safe, file: uuid::Uuid, dir: &std::path::Path) {
    let locked = |what: &str, result: Result<(), Error>| match result {
        Err(error) => assert_eq!(error.kind(), ErrorKind::SafeLocked, "{what}: {error}"),
        Ok(()) => panic!("{what} worked on a locked Safe"),
    };
    locked(
        "page",
        safe.page(None, SortKey::Name, SortOrder::Ascending, 0, 10)
            .map(drop),
    );
    locked(
        "search",
        safe.search(&SearchQuery {
            text: "notes".to_owned(),
            ..SearchQuery::default()
        })
        .map(drop),
    );
    locked("item", safe.item(file).map(drop));
    locked("resolve", safe.resolve("/notes.txt").map(drop));
    locked("info", safe.info().map(drop));
    locked("children", safe.children(None, false).map(drop));
    locked("recent", safe.recent(0, 10).map(drop));
    locked("favorites", safe.favorites(0, 10).map(drop));
    locked("all tags", safe.all_tags().map(drop));
    locked("read", safe.read(file).map(drop));
    locked("open_file", safe.open_file(file).map(drop));
    locked("interrupted imports", safe.interrupted_imports().map(drop));
    locked("create folder", safe.create_folder(None, "new").map(drop));
    locked("set favorite", safe.set_favorite(file, true));
    locked("add tag", safe.add_tag(file, "tag"));
    locked(
        "replace content",
        safe.replace_content_from(file, &mut &b"new"[..], None),
    );
    locked(
        "import",
        safe.import(
            &[dir.join("seed")],
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .map(drop),
    );
    locked(
        "export",
        safe.export(
            &[file],
            &dir.join("export"),
            OnClash::KeepBoth,
            &JobControl::new(),
            &mut |_| {},
        )
        .map(drop),
    );
    locked(
        "backup",
        safe.backup(
            &dir.join("backup"),
            &BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .map(drop),
    );
    locked(
        "check",
        safe.check(true, false, &JobControl::new(), &mut |_| {})
            .map(drop),
    );
    assert!(safe.is_locked());
    assert!(safe.lock(), "locking a locked Safe again");
}

#[test]
fn reads_work_beside_an_import_and_a_lock_stops_it_resumably() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let safe_path = safe.layout().root().to_path_buf();
    let seed = dir.path().join("seed");
    fs::create_dir_all(&seed).unwrap();
    fs::write(seed.join("notes.txt"), b"notes read beside a running job").unwrap();
    let photo = pseudo_random(7, 300_000);
    fs::write(seed.join("photo.bin"), &photo).unwrap();
    import(
        &safe,
        &[seed.join("notes.txt"), seed.join("photo.bin")],
        &ImportOptions::default(),
    );
    let notes = safe.resolve("/notes.txt").unwrap().unwrap().id;
    let photo_id = safe.resolve("/photo.bin").unwrap().unwrap().id;

    let source = dir.path().join("incoming");
    sparse_file(&source.join("big.bin"), BIG);
    fs::write(source.join("readme.txt"), b"small").unwrap();

    // The import pauses itself (from its observer, so at once) when bytes of the big file move.
    let control = JobControl::new();
    let (in_flight, reached) = mpsc::channel();
    let importer = {
        let (safe, control, source) = (safe.clone(), control.clone(), source.clone());
        thread::spawn(move || {
            let mut signalled = false;
            safe.import(
                &[source],
                &ImportOptions::default(),
                &control,
                &mut |event| {
                    if let JobEvent::Progress(progress) = event
                        && progress.phase == Phase::Encrypting
                        && progress.bytes_done > 5
                        && progress.files_done + 1 == progress.files_total
                        && !signalled
                    {
                        assert!(progress.bytes_done < progress.bytes_total, "{progress:?}");
                        control.pause();
                        signalled = true;
                        in_flight.send(()).unwrap();
                    }
                },
            )
        })
    };
    reached.recv_timeout(Duration::from_secs(120)).unwrap();

    // Another thread lists, searches, stats and reads while the import holds its own
    // connection, and sees the big file as pending.
    let reader = {
        let safe = safe.clone();
        let photo = photo.clone();
        thread::spawn(move || {
            let root = safe
                .page(None, SortKey::Name, SortOrder::Ascending, 0, 100)
                .unwrap();
            let names: Vec<&str> = root.rows.iter().map(|row| row.item.name.as_str()).collect();
            assert_eq!(names, ["incoming", "notes.txt", "photo.bin"]);
            let incoming = root.rows[0].item.id;
            let inside = safe
                .page(Some(incoming), SortKey::Size, SortOrder::Descending, 0, 100)
                .unwrap();
            assert_eq!(inside.total, 2);
            assert_eq!(inside.rows[0].item.name, "big.bin");
            assert_eq!(inside.rows[0].item.content, Content::Pending);
            assert_eq!(inside.rows[0].item.size, BIG);
            let big = safe.resolve("/incoming/big.bin").unwrap().unwrap();
            assert_eq!(big.content, Content::Pending);
            let (hits, total) = safe
                .search(&SearchQuery {
                    text: "big".to_owned(),
                    ..SearchQuery::default()
                })
                .unwrap();
            assert_eq!(total, 1);
            assert_eq!(hits[0].row.item.id, big.id);
            assert_eq!(hits[0].row.item.content, Content::Pending);
            assert_eq!(hits[0].folder_path, "/incoming");
            assert_eq!(safe.item(notes).unwrap().name, "notes.txt");
            assert_eq!(
                safe.read(notes).unwrap().as_slice(),
                b"notes read beside a running job"
            );
            let mut reader = safe.open_file(photo_id).unwrap();
            reader.seek(SeekFrom::Start(123_457)).unwrap();
            let mut part = vec![0u8; 70_000];
            reader.read_exact(&mut part).unwrap();
            assert!(part == photo[123_457..193_457]);
            let mut whole = Vec::new();
            reader.seek(SeekFrom::Start(0)).unwrap();
            reader.read_to_end(&mut whole).unwrap();
            assert!(whole == photo);
            assert!(safe.info().unwrap().files >= 2);
            // The running job is not offered as interrupted.
            assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
            // Writing beside the job works too.
            safe.set_favorite(notes, true).unwrap();
            safe.create_folder(None, "made beside the job").unwrap();
            // Reading the pending file is refused, saying why.
            let refused = safe.open_file(big.id).err().expect("read a pending file");
            assert_eq!(refused.kind(), ErrorKind::NotStoredYet, "{refused}");
            assert!(
                refused.to_string().contains("import has not finished"),
                "{refused}"
            );
            big.id
        })
    };
    let big = reader.join().unwrap();
    assert!(!importer.is_finished(), "the paused import ended");

    // A reader opened before the lock, and a clone of the handle.
    let mut open_reader = safe.open_file(photo_id).unwrap();
    let clone = safe.clone();

    // Go on, and lock while the big file is in flight.
    control.resume();
    let started = Instant::now();
    let stopped_in_time = safe.lock();
    let took = started.elapsed();
    println!("lock during the import of a {BIG}-byte file took {took:?}");
    assert!(
        stopped_in_time,
        "the import did not stop within the lock's wait"
    );
    let report = importer.join().unwrap().unwrap();
    assert!(report.interrupted, "{report:?}");
    assert!(!report.cancelled && !report.is_complete(), "{report:?}");

    assert_every_call_fails_locked(&safe, notes, dir.path());
    assert_every_call_fails_locked(&clone, notes, dir.path());
    let mut buffer = [0u8; 16];
    let failed = open_reader
        .read(&mut buffer)
        .expect_err("a reader opened before the lock still reads");
    let cause = failed
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
        .map(Error::kind);
    assert_eq!(cause, Some(ErrorKind::SafeLocked), "{failed}");
    drop(open_reader);
    drop(clone);
    drop(safe);

    // Unlocked again: the import is offered, resumes, and its file is whole and verified.
    let safe = reopen(&safe_path);
    let jobs = safe.interrupted_imports().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    assert!(!job.paused, "{job:?}");
    assert_eq!(job.files_left, 1, "{job:?}");
    assert_eq!(job.bytes_left, BIG, "{job:?}");
    assert_eq!(job.files_done, 1, "{job:?}");
    assert_eq!(job.sources, [source.to_string_lossy().into_owned()]);
    assert_eq!(safe.item(big).unwrap().content, Content::Pending);
    let resumed = safe
        .resume_import(job.id, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(resumed.is_complete(), "{resumed:?}");
    assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
    let big_item = safe.item(big).unwrap();
    assert_eq!(big_item.content, Content::Present);
    assert_eq!(big_item.size, BIG);
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{:?}", check.problems);
    assert!(!check.stopped);
    assert_eq!(temporaries(&safe_path), Vec::<PathBuf>::new());
    let mut reader = safe.open_file(big).unwrap();
    assert_eq!(reader.len(), BIG);
    for at in [0, BIG / 2 + 17, BIG - 1000] {
        reader.seek(SeekFrom::Start(at)).unwrap();
        let mut part = vec![0xffu8; 1000];
        reader.read_exact(&mut part).unwrap();
        assert!(part.iter().all(|byte| *byte == 0), "bytes at {at} differ");
    }
    assert!(safe.item(notes).unwrap().favorite);
    assert!(safe.resolve("/made beside the job").unwrap().is_some());
}

#[test]
fn a_lock_does_not_wait_for_an_open_reader_and_the_reader_fails_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let source = dir.path().join("film.bin");
    let bytes = pseudo_random(3, 3 << 20);
    fs::write(&source, &bytes).unwrap();
    import(&safe, &[source], &ImportOptions::default());
    let id = safe.resolve("/film.bin").unwrap().unwrap().id;
    let mut reader = safe.open_file(id).unwrap();
    let mut first = vec![0u8; 1 << 20];
    reader.read_exact(&mut first).unwrap();
    assert!(first == bytes[..1 << 20]);
    // The reader holds no key and no connection: the lock does not wait for it.
    let started = Instant::now();
    assert!(safe.lock());
    println!("lock with an open reader took {:?}", started.elapsed());
    let mut more = vec![0u8; 1 << 20];
    let error = reader.read(&mut more).expect_err("read after the lock");
    assert!(
        !more.iter().zip(&bytes[1 << 20..]).all(|(a, b)| a == b),
        "cleartext was released after the lock"
    );
    let cause = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<Error>())
        .map(Error::kind);
    assert_eq!(cause, Some(ErrorKind::SafeLocked), "{error}");
    // Seeking needs no key and still fails to read.
    reader.seek(SeekFrom::Start(0)).unwrap();
    assert!(reader.read(&mut more).is_err());
}

#[test]
fn checking_the_password_of_a_locked_safe_fails_as_locked() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    assert!(safe.lock());
    let result = safe.check_password(&password());
    assert_eq!(
        result.map_err(|error| error.kind()),
        Err(ErrorKind::SafeLocked),
        "every call on a locked Safe fails as locked"
    );
}
