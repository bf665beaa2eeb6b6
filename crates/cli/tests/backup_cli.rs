//! `arca backup`, `arca backup verify`, `arca restore` and `arca check --repair --from-backup`,
//! run as a user would: output, exit codes, and what ends up on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;
use tempfile::TempDir;

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";
const WRONG: &str = "amber-quartz-lantern-7731-fjord";

const AUTHENTICATION: i32 = 3;
const NOT_FOUND: i32 = 6;
const CLASH: i32 = 7;
const DAMAGED: i32 = 8;

/// The `arca` binary, with a state folder of its own for each run: the back-off after wrong
/// passwords (tested on its own in exit_codes.rs) never slows down another test.
fn arca() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_arca"));
    command.env(
        "XDG_STATE_HOME",
        std::env::temp_dir()
            .join("arca-cli-tests")
            .join(uuid::Uuid::new_v4().to_string()),
    );
    command
}

/// `arca ARGS... --password-stdin` with `stdin`.
fn run(args: &[&dyn AsRef<std::ffi::OsStr>], stdin: &str) -> Assert {
    let mut command = arca();
    for arg in args {
        command.arg(arg);
    }
    command.arg("--password-stdin").write_stdin(stdin).assert()
}

fn stdout(assert: Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// Bytes of every value, not a whole number of AES blocks.
fn binary(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect()
}

/// A Safe with a small tree, tags, a favorite, a comment, an empty folder and a trashed file,
/// and a folder for backups next to it.
struct Fixture {
    dir: TempDir,
    safe: PathBuf,
    backup: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Self {
            safe: dir.path().join("vault"),
            backup: dir.path().join("backup"),
            dir,
        };
        run(
            &[&"create", &"--iterations", &"1000", &fixture.safe],
            PASSWORD,
        )
        .success();
        let source = fixture.path("Photos");
        fs::create_dir_all(source.join("2024/summer")).unwrap();
        fs::create_dir(source.join("empty")).unwrap();
        fs::write(source.join("a.txt"), b"first file\n").unwrap();
        fs::write(source.join("2024/b.bin"), binary(70_000)).unwrap();
        fs::write(source.join("2024/summer/c.txt"), b"").unwrap();
        fs::write(source.join("Zoë ☕.txt"), b"caf\xc3\xa9").unwrap();
        fs::write(source.join("gone.txt"), b"to the trash").unwrap();
        fixture.ok(&["import"], &[source.to_str().unwrap()]);
        fixture.ok(&["tag", "add"], &["/Photos/a.txt", "holiday", "beach"]);
        fixture.ok(&["fav", "on"], &["/Photos/2024/b.bin"]);
        fixture.ok(
            &["comment", "set"],
            &["/Photos/2024", "Grandmother's recipe"],
        );
        fixture.ok(&["rm"], &["/Photos/gone.txt"]);
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `arca COMMAND SAFE ARGS... --password-stdin` with the password; its standard output.
    fn ok_in(&self, safe: &Path, command: &[&str], args: &[&str]) -> String {
        String::from_utf8(self.bytes_in(safe, command, args)).unwrap()
    }

    fn bytes_in(&self, safe: &Path, command: &[&str], args: &[&str]) -> Vec<u8> {
        let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = Vec::new();
        for word in command {
            all.push(word);
        }
        all.push(&safe);
        for word in args {
            all.push(word);
        }
        run(&all, PASSWORD).success().get_output().stdout.clone()
    }

    fn cat(&self, safe: &Path, path: &str) -> Vec<u8> {
        self.bytes_in(safe, &["cat"], &[path])
    }

    fn ok(&self, command: &[&str], args: &[&str]) -> String {
        self.ok_in(&self.safe, command, args)
    }

    /// Everything `ls -R --trash --json` says about a Safe: every item, attribute and tag.
    fn listing(&self, safe: &Path) -> Value {
        serde_json::from_str(&self.ok_in(safe, &["ls"], &["/", "-R", "--trash", "--json"])).unwrap()
    }

    fn id(&self, path: &str) -> String {
        let entry: Value = serde_json::from_str(&self.ok(&["stat"], &[path, "--json"])).unwrap();
        entry["id"].as_str().unwrap().to_owned()
    }

    fn backup_file(&self, folder: &str, id: &str, suffix: &str) -> PathBuf {
        self.backup
            .join(folder)
            .join(&id[..2])
            .join(format!("{id}{suffix}"))
    }

    fn back_up(&self) -> Value {
        serde_json::from_str(&stdout(
            run(&[&"backup", &self.safe, &self.backup, &"--json"], PASSWORD).success(),
        ))
        .unwrap()
    }
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn backup_verify_and_restore_give_an_equal_safe() {
    let fixture = Fixture::new();
    let recovery_key = fixture.ok(&["recovery", "create"], &[]).trim().to_owned();
    let report = fixture.back_up();
    // /Photos, 2024, summer, empty, and five files.
    assert_eq!(report["items"], 9, "{report}");
    assert_eq!(report["data_files_copied"], 5);
    assert!(report["failed"].as_array().unwrap().is_empty());

    // Incremental: nothing changed, nothing written.
    let again = stdout(run(&[&"backup", &fixture.safe, &fixture.backup], PASSWORD).success());
    assert!(
        again.contains("0 attribute file(s) and 0 data file(s)") && again.contains("9 unchanged"),
        "{again}"
    );

    for full in [&[][..], &["--full"][..]] {
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> =
            vec![&"backup", &"verify", &fixture.backup];
        for flag in full {
            args.push(flag);
        }
        let text = stdout(run(&args, PASSWORD).success());
        assert!(
            text.contains("9 item(s)") && text.contains("no problems"),
            "{text}"
        );
    }
    run(
        &[&"backup", &"verify", &fixture.backup, &"--recovery"],
        &recovery_key,
    )
    .success()
    .stdout(contains("no problems"));

    let restored = fixture.path("restored");
    run(&[&"restore", &fixture.backup, &restored], PASSWORD)
        .success()
        .stdout(contains("restored 5 file(s)").and(contains("4 folder(s)")));
    assert_eq!(fixture.listing(&restored), fixture.listing(&fixture.safe));
    for path in ["/Photos/2024/b.bin", "/Photos/Zoë ☕.txt", "/Photos/a.txt"] {
        assert!(
            fixture.cat(&restored, path) == fixture.cat(&fixture.safe, path),
            "{path} has other bytes"
        );
    }
    fixture.ok_in(&restored, &["check"], &["--full"]);

    // The recovery key restores too; the restored Safe then opens with the same password.
    let by_key = fixture.path("by key");
    run(
        &[&"restore", &fixture.backup, &by_key, &"--recovery"],
        &recovery_key,
    )
    .success();
    assert_eq!(fixture.listing(&by_key), fixture.listing(&fixture.safe));

    // A finished Safe is never restored over, and no secret is asked for first.
    arca()
        .args(["restore"])
        .arg(&fixture.backup)
        .arg(&restored)
        .assert()
        .code(CLASH)
        .stderr(contains("already exists"));
}

#[test]
fn verify_and_restore_name_the_damaged_item() {
    let fixture = Fixture::new();
    fixture.back_up();
    let b = fixture.id("/Photos/2024/b.bin");
    let a = fixture.id("/Photos/a.txt");

    // A byte flipped inside a data file: its trailing tag is intact, so only --full sees it.
    flip_byte(&fixture.backup_file("files", &b, ".data.crypt"), 30_000);
    run(&[&"backup", &"verify", &fixture.backup], PASSWORD).success();
    run(
        &[&"backup", &"verify", &fixture.backup, &"--full"],
        PASSWORD,
    )
    .code(DAMAGED)
    .stdout(contains("problem: /Photos/2024/b.bin:"))
    .stderr(contains("1 problem(s)").and(contains("arca backup SAFE TARGET")));

    // Restore leaves it out, says so, and restores the rest.
    let restored = fixture.path("restored");
    run(&[&"restore", &fixture.backup, &restored], PASSWORD)
        .code(DAMAGED)
        .stderr(contains("could not restore /Photos/2024/b.bin:"))
        .stderr(contains("1 item(s) could not be restored"));
    let paths: Vec<String> = fixture
        .listing(&restored)
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(paths.contains(&"/Photos/a.txt".to_owned()), "{paths:?}");
    assert!(
        !paths.contains(&"/Photos/2024/b.bin".to_owned()),
        "{paths:?}"
    );

    // A byte flipped in an attribute file: the quick verify names the item.
    flip_byte(&fixture.backup_file("items", &a, ".xml.crypt"), 60);
    run(&[&"backup", &"verify", &fixture.backup], PASSWORD)
        .code(DAMAGED)
        .stdout(contains("problem: a.txt:").and(contains(&a)));

    // The next backup run rewrites what the Safe still holds.
    fs::remove_file(fixture.backup_file("files", &b, ".data.crypt")).unwrap();
    fixture.back_up();
    run(
        &[&"backup", &"verify", &fixture.backup, &"--full"],
        PASSWORD,
    )
    .success()
    .stdout(contains("no problems"));
}

#[test]
fn restore_items_into_the_safe_backed_up() {
    let fixture = Fixture::new();
    fixture.back_up();
    let before = fixture.cat(&fixture.safe, "/Photos/2024/b.bin");
    fixture.ok(&["rm"], &["/Photos/2024"]);
    fixture.ok(&["trash", "empty"], &[]);

    run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Photos/2024",
        ],
        PASSWORD,
    )
    .success()
    .stdout(contains("restored 2 file(s)").and(contains("2 folder(s)")));
    assert!(fixture.cat(&fixture.safe, "/Photos/2024/b.bin") == before);
    let stat: Value =
        serde_json::from_str(&fixture.ok(&["stat"], &["/Photos/2024", "--json"])).unwrap();
    assert_eq!(stat["comment"], "Grandmother's recipe");

    // Again, with the name taken: skipped and said so.
    run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Photos/2024/b.bin",
            &"--on-clash",
            &"skip",
        ],
        PASSWORD,
    )
    .success()
    .stdout(contains("restored 0 file(s)"))
    .stderr(contains("/Photos/2024/b.bin: skipped"));

    // A folder whose name is taken: skipped once, with everything inside it; nothing is
    // restored at the root.
    let listing = fixture.listing(&fixture.safe);
    let skipped = run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Photos/2024",
            &"--on-clash",
            &"skip",
        ],
        PASSWORD,
    )
    .success()
    .stdout(contains("restored 0 file(s)").and(contains("and 0 folder(s)")))
    .stderr(contains("/Photos/2024: skipped").and(contains("root").not()));
    let stderr = String::from_utf8(skipped.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.matches("skipped").count(), 1, "{stderr}");
    assert_eq!(fixture.listing(&fixture.safe), listing);

    // `--into /` is the root, not the original folder.
    run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Photos/2024/summer",
            &"--into",
            &"/",
        ],
        PASSWORD,
    )
    .success()
    .stdout(contains("restored 1 file(s)").and(contains("and 1 folder(s)")));
    fixture.ok(&["stat"], &["/summer/c.txt"]);
    let in_2024 = fixture.ok(&["ls"], &["/Photos/2024"]);
    assert!(!in_2024.contains("summer (2)"), "{in_2024}");

    // Into another folder, two items at once.
    fixture.ok(&["mkdir"], &["/Elsewhere"]);
    run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Photos/a.txt",
            &"/Photos/2024/summer",
            &"--into",
            &"/Elsewhere",
        ],
        PASSWORD,
    )
    .success();
    assert_eq!(fixture.ok(&["cat"], &["/Elsewhere/a.txt"]), "first file\n");
    let tags: Value =
        serde_json::from_str(&fixture.ok(&["stat"], &["/Elsewhere/a.txt", "--json"])).unwrap();
    assert_eq!(tags["tags"], serde_json::json!(["beach", "holiday"]));
    fixture.ok(&["stat"], &["/Elsewhere/summer/c.txt"]);

    // A path the backup does not hold restores nothing.
    run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Nowhere",
        ],
        PASSWORD,
    )
    .code(NOT_FOUND)
    .stderr(contains("/Nowhere"));
    fixture.ok(&["check"], &["--full"]);
}

#[test]
fn a_wrong_password_changes_nothing() {
    let fixture = Fixture::new();
    fixture.back_up();
    let manifest = fs::read(fixture.backup.join("backup.json")).unwrap();
    run(&[&"backup", &fixture.safe, &fixture.backup], WRONG)
        .code(AUTHENTICATION)
        .stderr(contains("wrong password"));
    assert_eq!(
        fs::read(fixture.backup.join("backup.json")).unwrap(),
        manifest
    );
    run(&[&"backup", &"verify", &fixture.backup], WRONG).code(AUTHENTICATION);
    let restored = fixture.path("restored");
    run(&[&"restore", &fixture.backup, &restored], WRONG).code(AUTHENTICATION);
    assert!(!restored.join("safe.json").exists());
    run(
        &[
            &"restore",
            &fixture.backup,
            &fixture.safe,
            &"--items",
            &"/Photos",
        ],
        WRONG,
    )
    .code(AUTHENTICATION);

    // No recovery key in the backup, or no backup at all: said before any secret is read.
    arca()
        .args(["backup", "verify", "--recovery"])
        .arg(&fixture.backup)
        .assert()
        .code(NOT_FOUND)
        .stderr(contains("no recovery key"));
    arca()
        .args(["backup", "verify"])
        .arg(fixture.path("nowhere"))
        .assert()
        .code(NOT_FOUND)
        .stderr(contains("not an Arca backup"));

    // Another Safe's backup folder is refused.
    let other = fixture.path("other");
    run(&[&"create", &"--iterations", &"1000", &other], PASSWORD).success();
    run(&[&"backup", &other, &fixture.backup], PASSWORD)
        .code(CLASH)
        .stderr(contains("another Safe"));
}

#[test]
fn check_rebuilds_a_damaged_database_from_a_backup() {
    let fixture = Fixture::new();
    fixture.back_up();
    let listing = fixture.listing(&fixture.safe);
    let database = fixture.safe.join("attributes.db");
    let mut bytes = fs::read(&database).unwrap();
    for byte in &mut bytes[100..140] {
        *byte ^= 0x5a;
    }
    fs::write(&database, &bytes).unwrap();

    run(&[&"ls", &fixture.safe], PASSWORD)
        .code(DAMAGED)
        .stderr(contains("--from-backup"));
    run(&[&"check", &fixture.safe, &"--repair"], PASSWORD)
        .code(DAMAGED)
        .stderr(contains("--repair --from-backup"));

    run(
        &[
            &"check",
            &fixture.safe,
            &"--repair",
            &"--from-backup",
            &fixture.backup,
        ],
        PASSWORD,
    )
    .success()
    .stdout(contains("was damaged").and(contains("rebuilt it from the backup")))
    .stdout(contains("5 data file(s) kept").and(contains("no problems")));
    assert_eq!(fixture.listing(&fixture.safe), listing);
    fixture.ok(&["check"], &["--full"]);
    let kept: Vec<String> = fs::read_dir(&fixture.safe)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("attributes.db.damaged-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        fs::read(fixture.safe.join(&kept[0]).join("attributes.db")).unwrap(),
        bytes
    );

    // A whole database is left alone.
    run(
        &[
            &"check",
            &fixture.safe,
            &"--repair",
            &"--from-backup",
            &fixture.backup,
        ],
        PASSWORD,
    )
    .success()
    .stdout(contains("is whole: nothing was rebuilt"));
    // --from-backup goes with --repair only.
    run(
        &[&"check", &fixture.safe, &"--from-backup", &fixture.backup],
        PASSWORD,
    )
    .code(2);
}
