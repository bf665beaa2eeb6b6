//! Jobs a person can watch and steer: pausing an import really stops it (no byte written while
//! paused), cancelling inside a large file takes everything of it back, a paused import stays
//! paused across a lock; progress carries phases, the current file and bytes inside a large
//! file, and problems are reported as they happen; interrupted imports are listed with what
//! they hold, resumed or abandoned (exactly what they had not imported); and jobs beside jobs
//! leave each other alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod open_common;

use std::collections::BTreeSet;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arca_safe::{
    Content, ErrorKind, ImportOptions, ImportReport, JobControl, Kind, Phase, ProblemKind, Safe,
};
use common::child::pseudo_random;
use common::import;
use open_common::*;
use uuid::Uuid;

/// Large enough that encrypting it takes well over the 100 ms between two progress events on
/// any machine (AES-256-CBC encryption is serial): the file is still in flight when the first
/// event with bytes of it arrives.
const BIG: u64 = 384 << 20;

/// Whether `event` shows bytes of a large file moving: more than `small` bytes done in the
/// encrypting phase, with a file still unfinished.
fn big_file_moving(event: &Event, small: u64) -> bool {
    event.progress().is_some_and(|progress| {
        progress.phase == Phase::Encrypting
            && progress.bytes_done > small
            && progress.files_done < progress.files_total
    })
}

/// Starts importing `sources` on another thread; the job pauses itself as soon as bytes of a
/// large file move (more than `small` bytes done).
fn import_paused_in_flight(
    safe: &Safe,
    sources: Vec<PathBuf>,
    options: ImportOptions,
    control: &JobControl,
    small: u64,
) -> Running<arca_safe::Result<ImportReport>> {
    let pausing = control.clone();
    let (safe, control) = (safe.clone(), control.clone());
    let running = run_job(
        move |event| {
            let moving = big_file_moving(event, small);
            if moving {
                pausing.pause();
            }
            moving
        },
        move |observer| safe.import(&sources, &options, &control, observer),
    );
    running.wait_reached();
    running
}

/// Every file item of the Safe (trash included) with its content state.
fn file_items(safe: &Safe) -> Vec<arca_safe::Item> {
    let mut out = Vec::new();
    let mut stack = vec![None];
    while let Some(folder) = stack.pop() {
        for item in safe.children(folder, true).unwrap() {
            match item.kind {
                Kind::Folder => stack.push(Some(item.id)),
                Kind::File => out.push(item),
            }
        }
    }
    out
}

/// Asserts the Safe's store holds a data file for every present file and nothing else, no
/// temporary file, and that `check --full` finds nothing wrong.
fn assert_store_exact(safe: &Safe, context: &str) {
    let root = safe.layout().root().to_path_buf();
    let present: BTreeSet<Uuid> = file_items(safe)
        .into_iter()
        .filter(|item| item.content == Content::Present)
        .map(|item| item.id)
        .collect();
    assert_eq!(data_files(&root), present, "{context}: data files");
    assert_eq!(temporaries(&root), Vec::<PathBuf>::new(), "{context}");
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(check.is_clean(), "{context}: {:?}", check.problems);
}

/// Asserts nothing is at `path` in the Safe.
fn assert_gone(safe: &Safe, path: &str) {
    match safe.resolve(path) {
        Err(error) => assert_eq!(error.kind(), ErrorKind::NotFound, "{path}: {error}"),
        Ok(found) => panic!("{path} is in the Safe: {found:?}"),
    }
}

/// Reads `len` bytes at `at` of the file `id` through a verified reader.
fn read_at(safe: &Safe, id: Uuid, at: u64, len: usize) -> Vec<u8> {
    let mut reader = safe.open_file(id).unwrap();
    reader.seek(SeekFrom::Start(at)).unwrap();
    let mut out = vec![0u8; len];
    reader.read_exact(&mut out).unwrap();
    out
}

// ----- pause, cancel, paused across a lock ---------------------------------------------------

#[test]
fn a_paused_import_writes_nothing_until_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let big = dir.path().join("big.bin");
    sparse_file(&big, BIG);
    let control = JobControl::new();
    let running = import_paused_in_flight(&safe, vec![big], ImportOptions::default(), &control, 0);
    assert!(control.is_paused());

    // The data file being written stops growing once the buffers already filled are written…
    let mut last = (temporary_size(&root), Instant::now());
    wait_until("the temporary data file stops growing", || {
        std::thread::sleep(Duration::from_millis(25));
        let size = temporary_size(&root);
        if size != last.0 {
            last = (size, Instant::now());
        }
        last.1.elapsed() >= Duration::from_millis(150)
    });
    let paused_size = last
        .0
        .expect("no temporary data file while paused inside the file");
    assert!(paused_size < BIG, "the whole file was written while paused");
    // …and then stays as it is, while the job goes on reporting the same bytes.
    let seen = running.log.len();
    let watched = Instant::now();
    wait_until("two progress events while paused", || {
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            temporary_size(&root),
            Some(paused_size),
            "the temporary data file changed while paused"
        );
        let later = running.log.events()[seen..]
            .iter()
            .filter(|event| event.progress().is_some())
            .count();
        later >= 2 && watched.elapsed() >= Duration::from_millis(300)
    });
    let while_paused: Vec<u64> = running.log.events()[seen..]
        .iter()
        .filter_map(|event| event.progress().map(|progress| progress.bytes_done))
        .collect();
    assert!(
        while_paused.windows(2).all(|pair| pair[0] == pair[1]),
        "progress moved while paused: {while_paused:?}"
    );
    assert!(while_paused[0] > 0 && while_paused[0] < BIG);
    assert!(!running.is_finished());

    control.resume();
    let report = running.join().unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!((report.files, report.bytes), (1, BIG));
    let id = safe.resolve("/big.bin").unwrap().unwrap().id;
    assert_eq!(read_at(&safe, id, BIG - 4096, 4096), vec![0u8; 4096]);
    assert_store_exact(&safe, "after resuming");
}

#[test]
fn cancelling_inside_a_large_file_leaves_nothing_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let seed = dir.path().join("kept.txt");
    fs::write(&seed, b"in the Safe before").unwrap();
    import(&safe, &[seed], &ImportOptions::default());
    let before = data_files(&root);
    let big = dir.path().join("big.bin");
    sparse_file(&big, BIG);

    // Cancelled from the observer, while bytes of the file move.
    let control = JobControl::new();
    let cancelling = control.clone();
    let running = {
        let (safe, control) = (safe.clone(), control.clone());
        run_job(
            move |event| {
                let moving = big_file_moving(event, 0);
                if moving {
                    cancelling.cancel();
                }
                moving
            },
            move |observer| safe.import(&[big], &ImportOptions::default(), &control, observer),
        )
    };
    running.wait_reached();
    let log = running.log.clone();
    let report = running.join().unwrap();
    assert!(report.cancelled && !report.interrupted, "{report:?}");
    assert_eq!(report.files, 0, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(log.phases().last(), Some(&Phase::Finished));

    assert_gone(&safe, "/big.bin");
    assert_eq!(safe.children(None, true).unwrap().len(), 1);
    assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
    assert_eq!(data_files(&root), before);
    assert_store_exact(&safe, "after cancelling");
}

#[test]
fn cancelling_a_folder_import_keeps_the_files_it_finished_and_nothing_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let source = dir.path().join("batch");
    let mut small = Vec::new();
    for index in 0..6u64 {
        let bytes = pseudo_random(index, 1_000 + index as usize * 333);
        fs::write(source.join(format!("small-{index}.txt")), &bytes)
            .or_else(|_| {
                fs::create_dir_all(&source)?;
                fs::write(source.join(format!("small-{index}.txt")), &bytes)
            })
            .unwrap();
        small.push(bytes);
    }
    sparse_file(&source.join("big.bin"), BIG);
    let small_total: u64 = small.iter().map(|bytes| bytes.len() as u64).sum();

    let control = JobControl::new();
    let cancelling = control.clone();
    let running = {
        let (safe, control, source) = (safe.clone(), control.clone(), source.clone());
        run_job(
            move |event| {
                let moving = big_file_moving(event, small_total);
                if moving {
                    cancelling.cancel();
                }
                moving
            },
            move |observer| safe.import(&[source], &ImportOptions::default(), &control, observer),
        )
    };
    running.wait_reached();
    let report = running.join().unwrap();
    assert!(report.cancelled, "{report:?}");
    let folder = safe.resolve("/batch").unwrap().expect("the folder is gone");
    assert_gone(&safe, "/batch/big.bin");
    // What was finished is whole; nothing is left pending.
    for item in safe.children(Some(folder.id), true).unwrap() {
        assert_eq!(item.content, Content::Present, "{item:?}");
        let index: usize = item.name["small-".len()..item.name.len() - 4]
            .parse()
            .unwrap();
        assert!(safe.read(item.id).unwrap().as_slice() == small[index].as_slice());
    }
    assert_eq!(
        report.files,
        safe.children(Some(folder.id), true).unwrap().len() as u64
    );
    assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
    assert_store_exact(&safe, "after cancelling");
}

#[test]
fn an_import_paused_when_the_safe_is_locked_is_offered_again_as_paused() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let big = dir.path().join("big.bin");
    sparse_file(&big, BIG);
    let control = JobControl::new();
    let running = import_paused_in_flight(
        &safe,
        vec![big.clone()],
        ImportOptions::default(),
        &control,
        0,
    );
    assert!(safe.lock());
    let report = running.join().unwrap();
    assert!(report.interrupted && !report.cancelled, "{report:?}");
    assert!(control.interrupted_while_paused());
    drop(safe);

    let safe = reopen(&root);
    let jobs = safe.interrupted_imports().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(jobs[0].paused, "{jobs:?}");
    assert_eq!((jobs[0].files_done, jobs[0].files_left), (0, 1));
    assert_eq!(jobs[0].bytes_left, BIG);
    assert_eq!(jobs[0].sources, [big.to_string_lossy().into_owned()]);
    // Across a second lock without resuming, still paused.
    assert!(safe.lock());
    drop(safe);
    let safe = reopen(&root);
    let jobs = safe.interrupted_imports().unwrap();
    assert!(jobs[0].paused, "{jobs:?}");

    let report = safe
        .resume_import(jobs[0].id, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
    assert_store_exact(&safe, "after resuming");
}

// ----- progress and problems -----------------------------------------------------------------

#[test]
fn problems_are_reported_as_they_happen_and_phases_follow_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let tree = dir.path().join("tree");
    fs::create_dir_all(tree.join("sub")).unwrap();
    fs::write(tree.join("a.txt"), b"first").unwrap();
    fs::write(tree.join("b.txt"), b"second").unwrap();
    fs::write(tree.join("sub/changed.txt"), b"as it was found").unwrap();
    std::os::unix::fs::symlink(tree.join("a.txt"), tree.join("link")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(tree.join("pipe"))
        .status()
        .unwrap();
    assert!(fifo.success());

    // Between the phases (at the first event of phase 2, before any file is opened), a file
    // found in phase 1 is replaced by another.
    let changed = tree.join("sub/changed.txt");
    let replacement = dir.path().join("replacement.txt");
    let mut replaced = false;
    let log = EventLog::default();
    let report = safe
        .import(
            std::slice::from_ref(&tree),
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |event| {
                log.push(&event);
                if let arca_safe::JobEvent::Progress(progress) = event
                    && progress.phase == Phase::Encrypting
                    && !replaced
                {
                    fs::write(&replacement, b"another file").unwrap();
                    fs::rename(&replacement, &changed).unwrap();
                    replaced = true;
                }
            },
        )
        .unwrap();
    assert!(replaced);
    let events = log.events();
    assert_eq!(
        log.phases(),
        [Phase::Planning, Phase::Encrypting, Phase::Finished],
        "{events:?}"
    );
    let last = events
        .last()
        .and_then(Event::progress)
        .expect("no final progress");
    assert_eq!(last.phase, Phase::Finished);
    assert_eq!((last.files_done, last.files_total), (3, 3), "{last:?}");

    let first_encrypting = events
        .iter()
        .position(|event| {
            event
                .progress()
                .is_some_and(|p| p.phase == Phase::Encrypting)
        })
        .unwrap();
    let problem_at = |suffix: &str, kind: ProblemKind| {
        let at = events
            .iter()
            .position(|event| {
                event.problem().is_some_and(|problem| {
                    problem.kind == kind
                        && problem
                            .path
                            .as_deref()
                            .is_some_and(|path| path.ends_with(suffix))
                })
            })
            .unwrap_or_else(|| panic!("no {kind:?} problem for {suffix}: {events:?}"));
        assert!(at < events.len() - 1, "{suffix}: reported after the end");
        at
    };
    // Found while walking the tree: reported then, before any file is encrypted.
    assert!(problem_at("link", ProblemKind::NotARegularFile) < first_encrypting);
    assert!(problem_at("pipe", ProblemKind::NotARegularFile) < first_encrypting);
    // Found while encrypting: reported then, before the job ends.
    assert!(problem_at("sub/changed.txt", ProblemKind::ChangedSinceScan) > first_encrypting);
    assert_eq!(log.problems().len(), 3, "{events:?}");

    let mut failed: Vec<String> = report
        .failed
        .iter()
        .map(|problem| problem.path.clone().unwrap_or_default())
        .collect();
    failed.sort();
    let shown = |name: &str| tree.join(name).to_string_lossy().into_owned();
    assert_eq!(
        failed,
        [shown("link"), shown("pipe"), shown("sub/changed.txt")]
    );
    assert_eq!(report.files, 2, "{report:?}");
    assert_gone(&safe, "/tree/sub/changed.txt");
    assert_store_exact(&safe, "after the import");
}

#[test]
fn progress_moves_inside_a_single_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    // Large enough that four steps of at most a few progress intervals each cannot finish it.
    let big = dir.path().join("large film.bin");
    let len = 1u64 << 30;
    sparse_file(&big, len);
    let control = JobControl::new();
    let running = import_paused_in_flight(&safe, vec![big], ImportOptions::default(), &control, 0);
    // Step it on: each time, let it run until an event shows more bytes, then pause again.
    let mut last = 0;
    for _ in 0..4 {
        control.resume();
        wait_until("the progress moves on", || {
            let moved = running
                .log
                .progress()
                .iter()
                .map(|progress| progress.bytes_done)
                .max()
                .unwrap_or(0);
            if moved > last {
                last = moved;
                true
            } else {
                false
            }
        });
        control.pause();
    }
    control.cancel();
    let log = running.log.clone();
    let report = running.join().unwrap();
    assert!(report.cancelled, "{report:?}");

    let progress = log.progress();
    assert!(
        progress
            .windows(2)
            .all(|pair| pair[0].bytes_done <= pair[1].bytes_done
                || pair[1].phase != Phase::Encrypting),
        "bytes done went back"
    );
    let inside: BTreeSet<u64> = progress
        .iter()
        .filter(|progress| {
            progress.phase == Phase::Encrypting
                && progress.files_done == 0
                && progress.bytes_done > 0
                && progress.bytes_done < len
        })
        .map(|progress| {
            assert_eq!(progress.bytes_total, len);
            let current = progress.current.as_deref().unwrap_or_default();
            assert!(current.ends_with("large film.bin"), "{progress:?}");
            progress.bytes_done
        })
        .collect();
    assert!(inside.len() >= 4, "bytes inside the file: {inside:?}");
    assert_gone(&safe, "/large film.bin");
    assert_store_exact(&safe, "after cancelling");
}

#[test]
fn the_report_keeps_the_kind_of_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let tree = dir.path().join("tree");
    fs::create_dir_all(&tree).unwrap();
    let changed = tree.join("changed.txt");
    fs::write(&changed, b"as it was found").unwrap();
    let replacement = dir.path().join("replacement.txt");
    let log = EventLog::default();
    let mut replaced = false;
    let report = safe
        .import(
            &[tree],
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |event| {
                log.push(&event);
                if let arca_safe::JobEvent::Progress(progress) = event
                    && progress.phase == Phase::Encrypting
                    && !replaced
                {
                    fs::write(&replacement, b"another file").unwrap();
                    fs::rename(&replacement, &changed).unwrap();
                    replaced = true;
                }
            },
        )
        .unwrap();
    let reported: Vec<ProblemKind> = log.problems().iter().map(|problem| problem.kind).collect();
    assert_eq!(reported, [ProblemKind::ChangedSinceScan]);
    let in_report: Vec<ProblemKind> = report.failed.iter().map(|problem| problem.kind).collect();
    assert_eq!(in_report, reported, "{report:?}");
}

// ----- interrupted imports: listed, resumed, abandoned -----------------------------------------

/// Whether `event` shows every file but the large one done and the large one's bytes moving.
fn only_big_file_left(event: &Event, small: u64) -> bool {
    event.progress().is_some_and(|progress| {
        progress.phase == Phase::Encrypting
            && progress.files_total > 0
            && progress.files_done == progress.files_total - 1
            && progress.bytes_done > small
    })
}

/// A folder `name` of small files (returned with their bytes) and one large sparse file
/// `zz-big.bin`.
fn batch(dir: &Path, name: &str, small: usize, seed: u64) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    let folder = dir.join(name);
    fs::create_dir_all(&folder).unwrap();
    let files: Vec<(String, Vec<u8>)> = (0..small)
        .map(|index| {
            let bytes = pseudo_random(seed + index as u64, 500 + 100 * index);
            let file = format!("{name}-{index}.txt");
            fs::write(folder.join(&file), &bytes).unwrap();
            (file, bytes)
        })
        .collect();
    sparse_file(&folder.join("zz-big.bin"), BIG);
    (folder, files)
}

/// Imports `folder` until only its large file is left and that one is in flight, then locks
/// the Safe (while the job runs, or while it is paused there).
fn interrupt_import(safe: &Safe, folder: &Path, small: u64, paused: bool) -> ImportReport {
    let control = JobControl::new();
    let pausing = control.clone();
    let running = {
        let (safe, control, folder) = (safe.clone(), control.clone(), folder.to_path_buf());
        run_job(
            move |event| {
                let reached = only_big_file_left(event, small);
                if reached {
                    pausing.pause();
                }
                reached
            },
            move |observer| safe.import(&[folder], &ImportOptions::default(), &control, observer),
        )
    };
    running.wait_reached();
    if !paused {
        control.resume();
    }
    assert!(safe.lock());
    let report = running.join().unwrap();
    assert!(report.interrupted, "{report:?}");
    assert_eq!(control.interrupted_while_paused(), paused);
    report
}

#[test]
fn interrupted_imports_are_listed_resumed_and_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let before = dir.path().join("before.txt");
    fs::write(&before, b"in the Safe before both imports").unwrap();
    import(&safe, &[before], &ImportOptions::default());
    let before = safe.resolve("/before.txt").unwrap().unwrap().id;

    let (first, first_files) = batch(dir.path(), "first", 2, 10);
    let small: u64 = first_files.iter().map(|f| f.1.len() as u64).sum();
    interrupt_import(&safe, &first, small, false);
    let safe = reopen(&root);
    let (second, second_files) = batch(dir.path(), "second", 1, 20);
    let small: u64 = second_files.iter().map(|f| f.1.len() as u64).sum();
    interrupt_import(&safe, &second, small, true);
    let safe = reopen(&root);

    // Listed in the order they started, each with what it holds.
    let jobs = safe.interrupted_imports().unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let (a, b) = (&jobs[0], &jobs[1]);
    assert!(!a.paused && b.paused, "{jobs:?}");
    assert_eq!((a.files_done, a.files_left, a.bytes_left), (2, 1, BIG));
    assert_eq!((b.files_done, b.files_left, b.bytes_left), (1, 1, BIG));
    assert_eq!(a.sources, [first.to_string_lossy().into_owned()]);
    assert_eq!(b.sources, [second.to_string_lossy().into_owned()]);
    assert!(a.created_at <= b.created_at);
    let pending_a = safe.resolve("/first/zz-big.bin").unwrap().unwrap();
    let pending_b = safe.resolve("/second/zz-big.bin").unwrap().unwrap();
    assert_eq!(pending_a.content, Content::Pending);
    assert_eq!(pending_b.content, Content::Pending);
    // A data file of an unfinished file (a crash after its rename, before its row said so).
    fs::write(
        safe.layout().data_file(pending_b.id),
        pseudo_random(99, 4096),
    )
    .unwrap();

    // Abandoning the second takes out exactly its unfinished file and that data file.
    assert_eq!(safe.abandon_import(b.id).unwrap(), 1);
    assert_gone(&safe, "/second/zz-big.bin");
    assert!(!safe.layout().data_file(pending_b.id).exists());
    let kept = safe.resolve("/second/second-0.txt").unwrap().unwrap();
    assert_eq!(kept.content, Content::Present);
    assert!(safe.read(kept.id).unwrap().as_slice() == second_files[0].1.as_slice());
    assert_eq!(
        safe.item(pending_a.id).unwrap().content,
        Content::Pending,
        "abandoning one job touched another"
    );
    let again = safe.abandon_import(b.id).expect_err("abandoned twice");
    assert_eq!(again.kind(), ErrorKind::NotFound, "{again}");
    let jobs = safe.interrupted_imports().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].id, a.id);
    let present: BTreeSet<Uuid> = file_items(&safe)
        .into_iter()
        .filter(|item| item.content == Content::Present)
        .map(|item| item.id)
        .collect();
    assert_eq!(data_files(&root), present);

    // Resuming the first finishes it.
    let report = safe
        .resume_import(a.id, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
    assert_eq!(safe.item(pending_a.id).unwrap().content, Content::Present);
    for (name, bytes) in &first_files {
        let item = safe.resolve(&format!("/first/{name}")).unwrap().unwrap();
        assert!(safe.read(item.id).unwrap().as_slice() == bytes.as_slice());
    }
    assert_eq!(
        safe.read(before).unwrap().as_slice(),
        b"in the Safe before both imports"
    );
    let done = safe
        .abandon_import(a.id)
        .expect_err("abandoned a finished job");
    assert_eq!(done.kind(), ErrorKind::NotFound, "{done}");
    let unknown = safe
        .resume_import(Uuid::new_v4(), &JobControl::new(), &mut |_| {})
        .expect_err("resumed an unknown job");
    assert_eq!(unknown.kind(), ErrorKind::NotFound, "{unknown}");
    assert_store_exact(&safe, "after resuming and abandoning");
}

// ----- jobs beside jobs ----------------------------------------------------------------------

/// A Safe with one interrupted import (of a large file) and another import running beside,
/// paused inside its large file. Returns the Safe, the interrupted job and the running import.
fn a_job_beside_an_interrupted_one(
    dir: &Path,
) -> (
    Safe,
    Uuid,
    JobControl,
    Running<arca_safe::Result<ImportReport>>,
) {
    let safe = new_test_safe(dir);
    let root = safe.layout().root().to_path_buf();
    let (first, _) = batch(dir, "first", 1, 30);
    interrupt_import(&safe, &first, 600, true);
    let safe = reopen(&root);
    let job = safe.interrupted_imports().unwrap()[0].id;
    let big = dir.join("running.bin");
    sparse_file(&big, BIG);
    let control = JobControl::new();
    let running = import_paused_in_flight(&safe, vec![big], ImportOptions::default(), &control, 0);
    wait_until("the running import's data file exists", || {
        temporaries(&root).len() == 1
    });
    (safe, job, control, running)
}

#[test]
fn abandoning_an_interrupted_import_leaves_a_running_import_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, job, control, running) = a_job_beside_an_interrupted_one(dir.path());
    assert_eq!(safe.abandon_import(job).unwrap(), 1);
    assert_eq!(
        temporaries(safe.layout().root()).len(),
        1,
        "the running import's data file was removed"
    );
    control.resume();
    let report = running.join().expect("the running import failed");
    assert!(report.is_complete(), "{report:?}");
    assert_store_exact(&safe, "after both");
}

#[test]
fn a_check_beside_a_running_import_finds_nothing_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let big = dir.path().join("running.bin");
    sparse_file(&big, BIG);
    let control = JobControl::new();
    let running = import_paused_in_flight(&safe, vec![big], ImportOptions::default(), &control, 0);
    let check = safe
        .check(false, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    control.resume();
    assert!(running.join().unwrap().is_complete());
    assert!(check.is_clean(), "{:?}", check.problems);
}

#[test]
fn a_repair_beside_a_running_import_leaves_it_alone() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let big = dir.path().join("running.bin");
    sparse_file(&big, BIG);
    let control = JobControl::new();
    let running = import_paused_in_flight(&safe, vec![big], ImportOptions::default(), &control, 0);
    // Refusing to repair beside a running job would do too; breaking the job would not.
    let _ = safe.check(false, true, &JobControl::new(), &mut |_| {});
    control.resume();
    let report = running.join().expect("the running import failed");
    assert!(report.is_complete(), "{report:?}");
    assert_store_exact(&safe, "after the import");
}

#[test]
fn two_imports_and_an_export_at_once_on_one_handle_all_complete() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let seed = dir.path().join("seed.bin");
    fs::write(&seed, pseudo_random(5, 3 << 20)).unwrap();
    import(&safe, &[seed], &ImportOptions::default());
    let seed = safe.resolve("/seed.bin").unwrap().unwrap().id;
    let (left, left_files) = batch(dir.path(), "left", 40, 100);
    let (right, right_files) = batch(dir.path(), "right", 40, 200);
    let out = dir.path().join("out");
    let jobs: Vec<std::thread::JoinHandle<()>> = vec![
        {
            let safe = safe.clone();
            std::thread::spawn(move || {
                let report = import(&safe, &[left], &ImportOptions::default());
                assert!(report.is_complete(), "{report:?}");
            })
        },
        {
            let safe = safe.clone();
            std::thread::spawn(move || {
                let report = import(&safe, &[right], &ImportOptions::default());
                assert!(report.is_complete(), "{report:?}");
            })
        },
        {
            let safe = safe.clone();
            std::thread::spawn(move || {
                for round in 0..5 {
                    let report = safe
                        .export(
                            &[seed],
                            &out.join(round.to_string()),
                            arca_safe::OnClash::Skip,
                            &JobControl::new(),
                            &mut |_| {},
                        )
                        .unwrap();
                    assert_eq!(report.files, 1, "{report:?}");
                }
            })
        },
    ];
    for job in jobs {
        job.join().unwrap();
    }
    for (folder, files) in [("left", &left_files), ("right", &right_files)] {
        for (name, bytes) in files {
            let item = safe.resolve(&format!("/{folder}/{name}")).unwrap().unwrap();
            assert!(safe.read(item.id).unwrap().as_slice() == bytes.as_slice());
        }
        let big = safe
            .resolve(&format!("/{folder}/zz-big.bin"))
            .unwrap()
            .unwrap();
        assert_eq!((big.content, big.size), (Content::Present, BIG));
    }
    assert_eq!(safe.interrupted_imports().unwrap(), Vec::new());
    assert_store_exact(&safe, "after the jobs");
}

#[test]
fn progress_moves_inside_a_large_exported_file() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let big = dir.path().join("big.bin");
    sparse_file(&big, BIG);
    import(&safe, &[big], &ImportOptions::default());
    let id = safe.resolve("/big.bin").unwrap().unwrap().id;
    let target = dir.path().join("out");
    let control = JobControl::new();
    let running = {
        let (safe, target, control) = (safe.clone(), target.clone(), control.clone());
        run_job(
            |_| false,
            move |observer| {
                safe.export(&[id], &target, arca_safe::OnClash::Skip, &control, observer)
            },
        )
    };
    let partial = || {
        fs::read_dir(&target).ok().and_then(|entries| {
            entries.flatten().find_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                name.ends_with(arca_cryptor::PARTIAL_EXPORT_SUFFIX)
                    .then(|| entry.metadata().map(|metadata| metadata.len()).unwrap_or(0))
            })
        })
    };
    wait_until("the export writes the file", || {
        partial().is_some_and(|len| len > 0)
    });
    // Paused for longer than the time between two progress events, then on again: the next
    // bytes written are due to be reported.
    control.pause();
    std::thread::sleep(Duration::from_millis(250));
    let paused_at = partial().unwrap_or(0);
    control.resume();
    wait_until("the export goes on", || {
        partial().is_none_or(|len| len > paused_at + (4 << 20))
    });
    control.cancel();
    let report = running.log.clone();
    running.join().unwrap();
    let inside: Vec<u64> = report
        .progress()
        .iter()
        .map(|progress| progress.bytes_done)
        .filter(|done| *done > 0 && *done < BIG)
        .collect();
    assert!(
        !inside.is_empty(),
        "no progress inside the file: {:?}",
        report.progress()
    );
}

#[test]
fn an_import_stopped_while_planning_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let (source, _) = batch(dir.path(), "tree", 200, 300);
    for stop in ["cancel", "lock"] {
        let safe = if safe.is_locked() {
            reopen(&root)
        } else {
            safe.clone()
        };
        let control = JobControl::new();
        let pausing = control.clone();
        let running = {
            let (safe, control, source) = (safe.clone(), control.clone(), source.clone());
            run_job(
                move |event| {
                    let planning = event
                        .progress()
                        .is_some_and(|progress| progress.phase == Phase::Planning);
                    if planning {
                        pausing.pause();
                    }
                    planning
                },
                move |observer| {
                    safe.import(&[source], &ImportOptions::default(), &control, observer)
                },
            )
        };
        running.wait_reached();
        match stop {
            "cancel" => control.cancel(),
            _ => assert!(safe.lock()),
        }
        let report = running.join().unwrap();
        assert_eq!(
            (report.cancelled, report.interrupted),
            (stop == "cancel", stop == "lock"),
            "{report:?}"
        );
        assert_eq!((report.files, report.folders), (0, 0), "{report:?}");
        let safe = if safe.is_locked() {
            reopen(&root)
        } else {
            safe
        };
        assert!(safe.children(None, true).unwrap().is_empty(), "{stop}");
        assert_eq!(safe.interrupted_imports().unwrap(), Vec::new(), "{stop}");
        assert_store_exact(&safe, stop);
        drop(safe);
    }
}
