//! Reading a file at any position, verified chunk by chunk: random ranges (block and chunk
//! borders, the end) equal the original; a damaged chunk fails only the reads that need it; a
//! data file swapped for another is refused at once; a file without recorded chunk hashes (its
//! database rebuilt from a backup) gets one HMAC pass, after which its hashes are recorded —
//! by a Safe open for writing only.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backup_common;
mod common;
mod open_common;

use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use arca_safe::{
    BackupOptions, Error, ErrorKind, FileReader, ImportOptions, JobControl, OnClash, Problem, Safe,
    Unlock, rebuild_database_from_backup, restore_backup,
};
use common::child::pseudo_random;
use common::{import, password, test_backoff, test_open_options};
use open_common::*;
use uuid::Uuid;

const MIB: u64 = 1 << 20;
/// Five MiB and an odd tail: six chunks, the last one short.
const LEN: usize = 5 * MIB as usize + 12_345;
/// Where the ciphertext of cleartext byte 0 starts in a data file (version, options, IV).
const HEADER: u64 = 18;

fn original() -> Vec<u8> {
    pseudo_random(2024, LEN)
}

/// A Safe holding `film.bin` (the original) and two other files of the same length, and one
/// small one.
fn film_safe(dir: &Path) -> (Safe, Uuid) {
    let safe = new_test_safe(dir);
    let source = dir.join("source");
    fs::create_dir_all(&source).unwrap();
    fs::write(source.join("film.bin"), original()).unwrap();
    fs::write(source.join("twin.bin"), pseudo_random(7, LEN)).unwrap();
    fs::write(source.join("small.txt"), b"small").unwrap();
    import(
        &safe,
        &[
            source.join("film.bin"),
            source.join("twin.bin"),
            source.join("small.txt"),
        ],
        &ImportOptions::default(),
    );
    let id = safe.resolve("/film.bin").unwrap().unwrap().id;
    (safe, id)
}

fn read_range(reader: &mut FileReader, at: u64, len: usize) -> io::Result<Vec<u8>> {
    reader.seek(SeekFrom::Start(at))?;
    let mut out = vec![0u8; len];
    reader.read_exact(&mut out)?;
    Ok(out)
}

/// Ranges worth reading: around every 16-byte block border near each chunk border of the
/// data file and of the cleartext, across chunks, at the end, and pseudo-random ones.
fn ranges() -> Vec<(u64, usize)> {
    let len = LEN as u64;
    let mut out = Vec::new();
    for chunk in 1..=5u64 {
        for border in [chunk * MIB - HEADER, chunk * MIB] {
            for delta in [-33i64, -17, -16, -1, 0, 1, 16, 17] {
                let at = border.checked_add_signed(delta).unwrap();
                for size in [1usize, 16, 17, 4_096] {
                    if at + size as u64 <= len {
                        out.push((at, size));
                    }
                }
            }
        }
    }
    out.extend([
        (0, 1),
        (0, 16),
        (0, LEN),
        (MIB / 2, 2 * MIB as usize + 3),
        (len - 1, 1),
        (len - 16, 16),
        (len - 17, 17),
        (len - 12_345, 12_345),
        (len - MIB - 5, MIB as usize + 5),
    ]);
    let mut state = 0xfeed_u64;
    for _ in 0..120 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = state % len;
        let size = ((state >> 32) % 70_000) as usize + 1;
        out.push((at, size.min((len - at) as usize)));
    }
    out
}

#[test]
fn random_ranges_read_through_a_verified_reader_equal_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = film_safe(dir.path());
    let original = original();
    let store = backup_common::file_stamps(&safe.layout().root().join("files"));
    let outside = backup_common::file_stamps(dir.path());
    let mut reader = safe.open_file(id).unwrap();
    assert_eq!(reader.len(), LEN as u64);
    for (at, len) in ranges() {
        let read = read_range(&mut reader, at, len).unwrap();
        assert!(
            read == original[at as usize..at as usize + len],
            "bytes {at}..+{len} differ"
        );
    }
    // Seeking from the end and from where it is; reading at and past the end.
    reader.seek(SeekFrom::End(-100)).unwrap();
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert!(tail == original[LEN - 100..]);
    reader.seek(SeekFrom::Start(3 * MIB)).unwrap();
    reader.seek(SeekFrom::Current(-40)).unwrap();
    let mut part = [0u8; 80];
    reader.read_exact(&mut part).unwrap();
    assert!(part[..] == original[3 * MIB as usize - 40..3 * MIB as usize + 40]);
    reader.seek(SeekFrom::Start(LEN as u64 + 10)).unwrap();
    assert_eq!(reader.read(&mut part).unwrap(), 0);
    assert!(reader.seek(SeekFrom::Current(-(LEN as i64) - 100)).is_err());
    // A reader per range, too: none depends on what another read before.
    for (at, len) in ranges().into_iter().step_by(53) {
        let mut fresh = safe.open_file(id).unwrap();
        let read = read_range(&mut fresh, at, len).unwrap();
        assert!(read == original[at as usize..at as usize + len]);
    }
    // Nothing was written anywhere: not in the store, not beside it.
    assert_eq!(
        backup_common::file_stamps(&safe.layout().root().join("files")),
        store
    );
    let written: Vec<String> = backup_common::file_stamps(dir.path())
        .into_keys()
        .filter(|path| !outside.contains_key(path) && !path.contains("attributes.db"))
        .collect();
    assert_eq!(written, Vec::<String>::new());
    // An empty file.
    let empty = dir.path().join("empty");
    fs::write(&empty, b"").unwrap();
    import(&safe, &[empty], &ImportOptions::default());
    let empty = safe.resolve("/empty").unwrap().unwrap().id;
    let mut reader = safe.open_file(empty).unwrap();
    assert!(reader.is_empty());
    assert_eq!(reader.read(&mut part).unwrap(), 0);
}

/// Whether a read of the cleartext `at..at + len` needs ciphertext of the data file's chunk 2
/// (its blocks, or the block before the first, which is its IV), with a margin of two blocks.
fn needs_chunk_2(at: u64, len: usize) -> bool {
    let start = HEADER + at;
    let end = start + len as u64;
    start < 3 * MIB + 32 && end + 32 > 2 * MIB
}

fn is_invalid_data(result: &io::Result<Vec<u8>>) -> bool {
    matches!(result, Err(error) if error.kind() == io::ErrorKind::InvalidData)
}

#[test]
fn a_damaged_chunk_fails_the_reads_that_need_it_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = film_safe(dir.path());
    let original = original();
    // The first open checks the whole file once and records its chunk hashes (a large file's
    // are not recorded at import).
    drop(safe.open_file(id).unwrap());
    flip_byte(&safe.layout().data_file(id), 2 * MIB + MIB / 2);

    // Opening works: the damage is found where it is read, before anything of it is released.
    let mut reader = safe.open_file(id).unwrap();
    let mut failed = 0;
    for (at, len) in ranges() {
        let read = read_range(&mut reader, at, len);
        let inside = HEADER + at >= 2 * MIB + 64 && HEADER + at + (len as u64) < 3 * MIB - 64;
        if inside {
            assert!(is_invalid_data(&read), "{at}..+{len}: {read:?}");
            failed += 1;
        } else if !needs_chunk_2(at, len) {
            let read = read.unwrap_or_else(|error| panic!("{at}..+{len}: {error}"));
            assert!(read == original[at as usize..at as usize + len]);
        } else if let Ok(read) = read {
            assert!(
                read == original[at as usize..at as usize + len],
                "{at}..+{len}"
            );
        }
    }
    assert!(
        failed > 10,
        "too few reads inside the damaged chunk: {failed}"
    );
    // Reading the whole file, checking and exporting name the damage too.
    let whole = safe.read(id).unwrap_err();
    assert_eq!(whole.kind(), ErrorKind::Damaged, "{whole}");
    let check = safe
        .check(true, false, &JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(
        matches!(check.problems.as_slice(), [Problem::DamagedDataFile { path, .. }] if path == "/film.bin"),
        "{:?}",
        check.problems
    );
}

#[test]
fn a_data_file_swapped_for_another_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = film_safe(dir.path());
    let twin = safe.resolve("/twin.bin").unwrap().unwrap().id;
    let small = safe.resolve("/small.txt").unwrap().unwrap().id;
    let own = fs::read(safe.layout().data_file(id)).unwrap();
    // Same length, authentic, but another item's.
    fs::copy(safe.layout().data_file(twin), safe.layout().data_file(id)).unwrap();
    let refused = safe
        .open_file(id)
        .err()
        .expect("a swapped data file opened");
    assert_eq!(refused.kind(), ErrorKind::Damaged, "{refused}");
    assert!(matches!(refused, Error::DamagedFile { ref path, .. } if path == "/film.bin"));
    // Another length.
    fs::copy(safe.layout().data_file(small), safe.layout().data_file(id)).unwrap();
    let refused = safe
        .open_file(id)
        .err()
        .expect("a swapped data file opened");
    assert_eq!(refused.kind(), ErrorKind::Damaged, "{refused}");
    // Missing.
    fs::remove_file(safe.layout().data_file(id)).unwrap();
    let missing = safe
        .open_file(id)
        .err()
        .expect("a missing data file opened");
    assert_eq!(missing.kind(), ErrorKind::Damaged, "{missing}");
    // Its own again: fine.
    fs::write(safe.layout().data_file(id), own).unwrap();
    let mut reader = safe.open_file(id).unwrap();
    assert!(read_range(&mut reader, 0, 100).unwrap() == original()[..100]);
    // A folder is no file.
    let folder = safe.create_folder(None, "folder").unwrap();
    let not_a_file = safe.open_file(folder).err().expect("opened a folder");
    assert_eq!(not_a_file.kind(), ErrorKind::InvalidInput, "{not_a_file}");
    let unknown = safe
        .open_file(Uuid::new_v4())
        .err()
        .expect("opened nothing");
    assert_eq!(unknown.kind(), ErrorKind::NotFound, "{unknown}");
}

/// Damages the first page of the (closed) Safe's database, so it no longer opens.
fn damage_database(safe: &Path) {
    let database = safe.join("attributes.db");
    assert!(!safe.join("attributes.db-wal").exists());
    let mut bytes = fs::read(&database).unwrap();
    for byte in &mut bytes[100..140] {
        *byte ^= 0x5a;
    }
    fs::write(&database, &bytes).unwrap();
}

#[test]
fn a_file_without_chunk_hashes_is_checked_whole_once_then_by_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = film_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let target = dir.path().join("backup");
    backup_common::backup(&safe, &target, false);
    drop(safe);
    damage_database(&root);
    let (safe, report) = rebuild_database_from_backup(
        &root,
        Unlock::Password(&password()),
        &test_open_options(),
        &target,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    let safe = safe.unwrap();
    assert!(report.rebuilt(), "{report:?}");
    let data_file = safe.layout().data_file(id);
    let damaged_at = 2 * MIB + 1000;
    let original = original();
    drop(safe);

    // Read through a Safe open for reading: one pass, nothing recorded.
    let read_only = reopen_read_only(&root);
    let mut reader = read_only.open_file(id).unwrap();
    assert!(read_range(&mut reader, 4 * MIB, 500).unwrap() == original[4 * MIB as usize..][..500]);
    drop(reader);
    drop(read_only);

    // Without recorded hashes, a damaged byte anywhere fails the open (the whole HMAC pass).
    let safe = reopen(&root);
    flip_byte(&data_file, damaged_at);
    let refused = safe
        .open_file(id)
        .err()
        .expect("opened a damaged file without hashes");
    assert_eq!(refused.kind(), ErrorKind::Damaged, "{refused}");
    flip_byte(&data_file, damaged_at);

    // One pass, and the hashes are recorded…
    let mut reader = safe.open_file(id).unwrap();
    for (at, len) in ranges().into_iter().step_by(11) {
        assert!(read_range(&mut reader, at, len).unwrap() == original[at as usize..][..len]);
    }
    drop(reader);
    // …so the next open needs no pass: the same damage is found by its chunk only.
    flip_byte(&data_file, damaged_at);
    let mut reader = safe.open_file(id).unwrap();
    assert!(read_range(&mut reader, 0, 4096).unwrap() == original[..4096]);
    assert!(is_invalid_data(&read_range(&mut reader, 2 * MIB, 4096)));
    assert!(
        read_range(&mut reader, 4 * MIB, 4096).unwrap() == original[4 * MIB as usize..][..4096]
    );
    // And they survive a lock and a new unlock.
    drop(reader);
    assert!(safe.lock());
    let safe = reopen(&root);
    let mut reader = safe.open_file(id).unwrap();
    assert!(is_invalid_data(&read_range(&mut reader, 2 * MIB, 4096)));
}

#[test]
fn a_file_restored_into_a_new_safe_reads_by_chunk_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = film_safe(dir.path());
    let target = dir.path().join("backup");
    safe.backup(
        &target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    let new_safe = dir.path().join("restored.arca");
    restore_backup(
        &target,
        Unlock::Password(&password()),
        &test_backoff(),
        &new_safe,
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    let restored = reopen(&new_safe);
    let original = original();
    let mut reader = restored.open_file(id).unwrap();
    for (at, len) in ranges().into_iter().step_by(13) {
        assert!(read_range(&mut reader, at, len).unwrap() == original[at as usize..][..len]);
    }
    drop(reader);
    // Hashes were recorded by the restore (or by the open before): a damaged chunk is found by
    // itself.
    flip_byte(&restored.layout().data_file(id), 3 * MIB + 7);
    let mut reader = restored.open_file(id).unwrap();
    assert!(read_range(&mut reader, MIB, 4096).unwrap() == original[MIB as usize..][..4096]);
    assert!(is_invalid_data(&read_range(&mut reader, 3 * MIB, 4096)));
}

#[test]
fn a_large_file_exports_on_two_threads_and_a_damaged_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = film_safe(dir.path());
    let export = |to: &Path| {
        safe.export(&[id], to, OnClash::Replace, &JobControl::new(), &mut |_| {})
            .unwrap()
    };
    let out = dir.path().join("out");
    let report = export(&out);
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(fs::read(out.join("film.bin")).unwrap() == original());

    for at in [HEADER, 3 * MIB + 7, LEN as u64 + HEADER + 20] {
        flip_byte(&safe.layout().data_file(id), at);
        let damaged = dir.path().join(format!("damaged-{at}"));
        let report = export(&damaged);
        assert_eq!(report.failed.len(), 1, "a flip at {at}: {report:?}");
        let left: Vec<_> = fs::read_dir(&damaged).map_or(Vec::new(), |entries| entries.collect());
        assert!(left.is_empty(), "a flip at {at} left {left:?}");
        flip_byte(&safe.layout().data_file(id), at);
    }
}

#[test]
fn a_film_has_its_chunk_hashes_from_import_so_damage_before_its_first_play_fails_only_its_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let source = dir.path().join("clip.webm");
    fs::write(&source, original()).unwrap();
    import(&safe, &[source], &ImportOptions::default());
    let id = safe.resolve("/clip.webm").unwrap().unwrap().id;
    flip_byte(&safe.layout().data_file(id), 3 * MIB + 7);
    let mut reader = safe.open_file(id).unwrap();
    let original = original();
    assert!(read_range(&mut reader, MIB, 4096).unwrap() == original[MIB as usize..][..4096]);
    assert!(is_invalid_data(&read_range(&mut reader, 3 * MIB, 4096)));
}
