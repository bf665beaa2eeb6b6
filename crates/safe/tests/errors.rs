//! Errors a program can act on: each common failure has its stable kind, and no message names a
//! file inside the Safe's store or holds key material.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod open_common;

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use arca_cryptor::{Iterations, Password, RecoveryKey};
use arca_safe::{
    Backoff, BackupOptions, Clock, Error, ErrorKind, ImportOptions, JobControl, OnClash, OpenMode,
    OpenOptions, Safe, Unlock,
};
use common::child::pseudo_random;
use common::{import, password, test_backoff, test_open_options};
use open_common::*;
use uuid::Uuid;

/// Collects failures and checks each one's kind and message.
struct Failures {
    keys: Vec<String>,
    seen: Vec<ErrorKind>,
}

impl Failures {
    fn new(safe_dir: &Path) -> Self {
        Self {
            keys: key_hex(safe_dir),
            seen: Vec::new(),
        }
    }

    /// Asserts `result` failed with `kind`, and that neither its message nor its causes name
    /// a file in the store or hold key material.
    fn expect<T>(&mut self, what: &str, kind: ErrorKind, result: Result<T, Error>) -> Error {
        let error = match result {
            Ok(_) => panic!("{what} succeeded"),
            Err(error) => error,
        };
        assert_eq!(error.kind(), kind, "{what}: {error} ({error:?})");
        let mut messages = vec![error.to_string(), format!("{error:?}")];
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            messages.push(cause.to_string());
            source = cause.source();
        }
        for message in &messages {
            assert_clean_message(message, &self.keys, what);
        }
        println!("{kind:?}: {error}");
        self.seen.push(kind);
        error
    }
}

fn options(mode: OpenMode, backoff: &Backoff) -> OpenOptions {
    OpenOptions {
        mode,
        backoff: backoff.clone(),
    }
}

#[test]
fn common_failures_have_their_kind_and_clean_messages() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let root = safe.layout().root().to_path_buf();
    let mut failures = Failures::new(&root);
    let source = dir.path().join("source");
    fs::create_dir_all(source.join("Folder/Sub")).unwrap();
    fs::write(source.join("Folder/file.txt"), pseudo_random(1, 2_500_000)).unwrap();
    fs::write(source.join("Folder/other.txt"), b"other").unwrap();
    import(&safe, &[source.join("Folder")], &ImportOptions::default());
    let folder = safe.resolve("/Folder").unwrap().unwrap().id;
    let sub = safe.resolve("/Folder/Sub").unwrap().unwrap().id;
    let file = safe.resolve("/Folder/file.txt").unwrap().unwrap().id;
    let other = safe.resolve("/Folder/other.txt").unwrap().unwrap().id;

    // Unlocking.
    // Clocks that stand still: the back-off's wait cannot run out between two attempts.
    let backoff = test_backoff().with_clock(Clock::fixed(SystemTime::now()));
    failures.expect(
        "a wrong password",
        ErrorKind::WrongPassword,
        Safe::open_with(
            &root,
            Unlock::Password(&wrong_password()),
            &options(OpenMode::Read, &backoff),
        ),
    );
    let wait = failures.expect(
        "the right password during the back-off",
        ErrorKind::TryLater,
        Safe::open_with(
            &root,
            Unlock::Password(&password()),
            &options(OpenMode::Read, &backoff),
        ),
    );
    assert!(matches!(wait, Error::TryLater { seconds } if seconds >= 1));
    let checking = test_backoff().with_clock(Clock::fixed(SystemTime::now()));
    let viewer = Safe::open_with(
        &root,
        Unlock::Password(&password()),
        &options(OpenMode::Read, &checking),
    )
    .unwrap();
    failures.expect(
        "checking a wrong password",
        ErrorKind::WrongPassword,
        viewer.check_password(&wrong_password()),
    );
    failures.expect(
        "checking the password during the back-off it counted",
        ErrorKind::TryLater,
        viewer.check_password(&password()),
    );
    drop(viewer);
    failures.expect(
        "a recovery key the Safe does not have",
        ErrorKind::NoRecoveryKey,
        Safe::open_with(
            &root,
            Unlock::RecoveryKey(&RecoveryKey::generate().unwrap()),
            &options(OpenMode::Read, &test_backoff()),
        ),
    );
    safe.create_recovery_key(&password()).unwrap();
    failures.expect(
        "a wrong recovery key",
        ErrorKind::WrongRecoveryKey,
        Safe::open_with(
            &root,
            Unlock::RecoveryKey(&RecoveryKey::generate().unwrap()),
            &options(OpenMode::Read, &test_backoff()),
        ),
    );
    let typo = RecoveryKey::parse("not-a-recovery-key").err().unwrap();
    failures.expect(
        "a mistyped recovery key",
        ErrorKind::RecoveryKeyTypo,
        Err::<(), _>(Error::Crypto(typo)),
    );
    failures.expect(
        "a second writer",
        ErrorKind::LockedByOther,
        Safe::open_with(&root, Unlock::Password(&password()), &test_open_options()),
    );
    let not_a_safe = dir.path().join("not a safe");
    fs::create_dir_all(&not_a_safe).unwrap();
    failures.expect(
        "a folder that is no Safe",
        ErrorKind::NotASafe,
        Safe::open_with(
            &not_a_safe,
            Unlock::Password(&password()),
            &test_open_options(),
        ),
    );
    failures.expect(
        "a new Safe in a folder that is not empty",
        ErrorKind::AlreadyExists,
        Safe::create(&source, &password(), Iterations::new(ITERATIONS).unwrap()),
    );
    failures.expect(
        "a new Safe without a password",
        ErrorKind::InvalidInput,
        Safe::create(
            &dir.path().join("empty password"),
            &Password::new(String::new()),
            Iterations::new(ITERATIONS).unwrap(),
        ),
    );

    // Items.
    failures.expect(
        "an unknown item",
        ErrorKind::NotFound,
        safe.item(Uuid::new_v4()),
    );
    failures.expect(
        "an unknown path",
        ErrorKind::NotFound,
        safe.resolve("/Folder/nothing"),
    );
    failures.expect(
        "a path through a file",
        ErrorKind::NotFound,
        safe.resolve("/Folder/file.txt/inside"),
    );
    failures.expect(
        "an unknown file to read",
        ErrorKind::NotFound,
        safe.open_file(Uuid::new_v4()).map(drop),
    );
    failures.expect(
        "an unknown tag",
        ErrorKind::NotFound,
        safe.rename_tag("no such tag", "other"),
    );
    failures.expect(
        "an unknown import job",
        ErrorKind::NotFound,
        safe.abandon_import(Uuid::new_v4()),
    );
    failures.expect(
        "a folder name taken",
        ErrorKind::NameClash,
        safe.create_folder(Some(folder), "Sub"),
    );
    failures.expect(
        "a rename onto a name taken",
        ErrorKind::NameClash,
        safe.rename(other, "file.txt"),
    );
    failures.expect(
        "a name with a slash",
        ErrorKind::InvalidName,
        safe.create_folder(None, "a/b"),
    );
    failures.expect(
        "the name ..",
        ErrorKind::InvalidName,
        safe.create_folder(None, ".."),
    );
    failures.expect(
        "an empty tag",
        ErrorKind::InvalidName,
        safe.add_tag(file, "  "),
    );
    failures.expect(
        "a folder into itself",
        ErrorKind::MoveIntoItself,
        safe.move_to(folder, Some(sub)),
    );
    failures.expect(
        "a folder read as a file",
        ErrorKind::InvalidInput,
        safe.open_file(folder).map(drop),
    );
    failures.expect(
        "a source inside the Safe",
        ErrorKind::InvalidInput,
        safe.import(
            &[root.join("files")],
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        ),
    );

    // Damage to the store, named by the item, never by its data file.
    let data_file = safe.layout().data_file(file);
    let bytes = fs::read(&data_file).unwrap();
    // A first open records the chunk hashes (a large file's are not recorded at import), so the
    // damage below is found by its chunk.
    drop(safe.open_file(file).unwrap());
    flip_byte(&data_file, 5_000);
    failures.expect("a damaged data file", ErrorKind::Damaged, safe.read(file));
    let mut reader = safe.open_file(file).unwrap();
    let mut out = Vec::new();
    let error = std::io::Read::read_to_end(&mut reader, &mut out).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData, "{error}");
    assert_clean_message(&error.to_string(), &failures.keys, "a damaged chunk");
    assert_clean_message(&format!("{error:?}"), &failures.keys, "a damaged chunk");
    drop(reader);
    fs::remove_file(&data_file).unwrap();
    failures.expect("a missing data file", ErrorKind::Damaged, safe.read(file));
    failures.expect(
        "a missing data file, opened",
        ErrorKind::Damaged,
        safe.open_file(file).map(drop),
    );
    // A data file that cannot be read at all (a folder in its place).
    fs::create_dir(&data_file).unwrap();
    let unreadable = safe.read(file).unwrap_err();
    failures.expect(
        "an unreadable data file",
        unreadable.kind(),
        Err::<(), _>(unreadable),
    );
    let unreadable = safe.open_file(file).map(drop).unwrap_err();
    failures.expect(
        "an unreadable data file, opened",
        unreadable.kind(),
        Err::<(), _>(unreadable),
    );
    fs::remove_dir(&data_file).unwrap();
    fs::write(&data_file, &bytes).unwrap();
    assert_eq!(safe.read(file).unwrap().len(), 2_500_000);

    // Backups.
    let not_a_backup = dir.path().join("not a backup");
    fs::create_dir_all(&not_a_backup).unwrap();
    fs::write(not_a_backup.join("something"), b"mine").unwrap();
    failures.expect(
        "a backup into a folder of other things",
        ErrorKind::NotABackup,
        safe.backup(
            &not_a_backup,
            &BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        ),
    );
    let target = dir.path().join("backup");
    safe.backup(
        &target,
        &BackupOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("second")).unwrap();
    let second = new_test_safe(&dir.path().join("second"));
    failures.expect(
        "a backup of another Safe",
        ErrorKind::ForeignBackup,
        second.backup(
            &target,
            &BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        ),
    );
    failures.expect(
        "an export into a file",
        ErrorKind::Io,
        safe.export(
            &[file],
            &source.join("Folder/other.txt"),
            OnClash::Skip,
            &JobControl::new(),
            &mut |_| {},
        ),
    );

    // Reading only, and locked.
    drop(safe);
    let reader = reopen_read_only(&root);
    failures.expect(
        "a change to a Safe open for reading",
        ErrorKind::ReadOnly,
        reader.create_folder(None, "new"),
    );
    failures.expect(
        "an import into a Safe open for reading",
        ErrorKind::ReadOnly,
        reader.import(
            &[source.join("Folder/other.txt")],
            &ImportOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        ),
    );
    assert!(reader.lock());
    failures.expect("a locked Safe", ErrorKind::SafeLocked, reader.item(file));
    drop(reader);

    // The Safe's own files damaged or newer.
    let manifest = root.join("safe.json");
    let original = fs::read(&manifest).unwrap();
    let mut newer: serde_json::Value = serde_json::from_slice(&original).unwrap();
    newer["version"] = serde_json::json!(99);
    fs::write(&manifest, serde_json::to_vec(&newer).unwrap()).unwrap();
    failures.expect(
        "a Safe of a newer format",
        ErrorKind::NewerFormat,
        Safe::open_with(&root, Unlock::Password(&password()), &test_open_options()),
    );
    fs::write(&manifest, b"{ not json").unwrap();
    failures.expect(
        "a damaged safe.json",
        ErrorKind::Damaged,
        Safe::open_with(&root, Unlock::Password(&password()), &test_open_options()),
    );
    fs::write(&manifest, &original).unwrap();
    let database = root.join("attributes.db");
    let mut db = fs::read(&database).unwrap();
    for byte in &mut db[100..140] {
        *byte ^= 0x5a;
    }
    fs::write(&database, &db).unwrap();
    failures.expect(
        "a damaged database",
        ErrorKind::DamagedDatabase,
        Safe::open_with(&root, Unlock::Password(&password()), &test_open_options()),
    );

    let mut seen = failures.seen.clone();
    seen.sort_by_key(|kind| format!("{kind:?}"));
    seen.dedup();
    println!("kinds seen: {seen:?}");
    assert!(seen.len() >= 20, "{seen:?}");
}

#[test]
fn a_full_disk_is_its_own_kind() {
    let error = Error::StoreIo {
        item: Some("/a.txt".to_owned()),
        error: std::io::Error::from(std::io::ErrorKind::StorageFull),
    };
    assert_eq!(error.kind(), ErrorKind::DiskFull);
    let error = Error::Io {
        path: "/media/stick/export".into(),
        error: std::io::Error::from(std::io::ErrorKind::QuotaExceeded),
    };
    assert_eq!(error.kind(), ErrorKind::DiskFull);
    let error = Error::Io {
        path: "/media/stick/export".into(),
        error: std::io::Error::from(std::io::ErrorKind::ReadOnlyFilesystem),
    };
    assert_eq!(error.kind(), ErrorKind::ReadOnly);
}

#[test]
fn kinds_are_stable_names_for_programs() {
    for (kind, name) in [
        (ErrorKind::WrongPassword, "wrong_password"),
        (ErrorKind::TryLater, "try_later"),
        (ErrorKind::NotFound, "not_found"),
        (ErrorKind::NameClash, "name_clash"),
        (ErrorKind::LockedByOther, "locked_by_other"),
        (ErrorKind::ReadOnly, "read_only"),
        (ErrorKind::DiskFull, "disk_full"),
        (ErrorKind::SafeLocked, "safe_locked"),
        (ErrorKind::NewerFormat, "newer_format"),
        (ErrorKind::DamagedDatabase, "damaged_database"),
    ] {
        assert_eq!(serde_json::to_value(kind).unwrap(), name);
    }
}
