//! The `arca` commands on a Safe, run as a user would: each test drives the binary and checks
//! what it promises — output, exit code, and what is (or is not) changed on disk.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::{self, File, FileTimes};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;
use tempfile::TempDir;

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";
const NEW_PASSWORD: &str = "amber-quartz-lantern-7731-fjord";
const WEAK: &str = "password1";

const USAGE: i32 = 2;
const AUTHENTICATION: i32 = 3;
const IO: i32 = 5;
const NOT_FOUND: i32 = 6;
const CLASH: i32 = 7;
const DAMAGED: i32 = 8;
const NEWER_FORMAT: i32 = 9;

/// A Safe in a temporary folder, made with few PBKDF2 iterations so tests stay fast.
struct Fixture {
    dir: TempDir,
    safe: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let safe = dir.path().join("vault");
        let fixture = Self { dir, safe };
        fixture
            .arca(&["create", "--iterations", "1000"], PASSWORD)
            .success();
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `arca COMMAND SAFE ARGS... --password-stdin` with `stdin`.
    fn arca(&self, command: &[&str], stdin: &str) -> Assert {
        self.arca_with(command, &[], stdin)
    }

    fn arca_with(&self, command: &[&str], args: &[&str], stdin: &str) -> Assert {
        arca()
            .args(command)
            .arg(&self.safe)
            .args(args)
            .arg("--password-stdin")
            .write_stdin(stdin)
            .assert()
    }

    /// Runs a command with the Safe Password and returns its standard output.
    fn ok(&self, command: &[&str], args: &[&str]) -> String {
        let output = self.arca_with(command, args, PASSWORD).success();
        String::from_utf8(output.get_output().stdout.clone()).unwrap()
    }

    fn json(&self, command: &[&str], args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        serde_json::from_str(&self.ok(command, &with_json)).unwrap()
    }

    /// The paths `ls -R --json` lists.
    fn paths(&self) -> Vec<String> {
        let listing = self.json(&["ls"], &["/", "-R"]);
        let mut paths: Vec<String> = listing
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["path"].as_str().unwrap().to_owned())
            .collect();
        paths.sort();
        paths
    }

    /// The data file of the item at `path`.
    fn data_file(&self, path: &str) -> PathBuf {
        let entry = self.json(&["stat"], &[path]);
        let id = entry["id"].as_str().unwrap();
        self.safe
            .join("files")
            .join(&id[..2])
            .join(format!("{id}.data.crypt"))
    }

    /// Imports a small tree and returns the source folder.
    fn import_tree(&self) -> PathBuf {
        let source = self.path("Photos");
        fs::create_dir_all(source.join("2024/summer")).unwrap();
        fs::create_dir(source.join("empty")).unwrap();
        write_with_mtime(&source.join("a.txt"), b"first file\n", 1_600_000_000);
        write_with_mtime(&source.join("2024/b.bin"), &binary(70_000), 1_500_000_123);
        write_with_mtime(&source.join("2024/summer/c.txt"), b"", 1_400_000_000);
        self.ok(&["import"], &[source.to_str().unwrap()]);
        source
    }
}

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

/// Bytes of every value, not a whole number of AES blocks.
fn binary(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect()
}

fn write_with_mtime(path: &Path, bytes: &[u8], seconds: u64) {
    fs::write(path, bytes).unwrap();
    let time = UNIX_EPOCH + Duration::new(seconds, 123_456_789);
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_times(FileTimes::new().set_modified(time))
        .unwrap();
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

/// Every file below `dir` with its bytes, to show that nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                ));
            }
        }
    }
    files.sort();
    files
}

fn flip_byte(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn a_new_password_of_two_lines_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let safe = dir.path().join("typed twice");
    arca()
        .args(["create", "--iterations", "1000", "--password-stdin"])
        .arg(&safe)
        .write_stdin(format!("{PASSWORD}\n{PASSWORD}\n"))
        .assert()
        .code(USAGE)
        .stderr(contains("line break"));
    assert!(!safe.exists(), "a refused password must create nothing");
    let fixture = Fixture::new();
    fixture
        .arca(
            &["passwd"],
            &format!("{PASSWORD}\n{PASSWORD}\r\nsecond line\n"),
        )
        .code(USAGE)
        .stderr(contains("line break"));
    fixture.arca(&["info"], PASSWORD).success();
}

#[test]
fn create_refuses_a_weak_password_unless_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let safe = dir.path().join("weak");
    arca()
        .args(["create", "--iterations", "1000", "--password-stdin"])
        .arg(&safe)
        .write_stdin(WEAK)
        .assert()
        .code(USAGE)
        .stderr(contains("Password strength: 0 of 4"))
        .stderr(contains("--accept-weak"));
    assert!(!safe.exists(), "a refused password must create nothing");

    arca()
        .args([
            "create",
            "--iterations",
            "1000",
            "--password-stdin",
            "--accept-weak",
        ])
        .arg(&safe)
        .write_stdin(format!("{WEAK}\n"))
        .assert()
        .success()
        .stderr(contains("Password strength"))
        .stdout(contains("Created the Safe"));
    assert!(safe.join("safe.json").is_file());
    // The trailing line break was not part of the password.
    arca()
        .args(["info", "--password-stdin"])
        .arg(&safe)
        .write_stdin(WEAK)
        .assert()
        .success();

    // A strong password needs no flag, and an existing Safe is never overwritten.
    let strong = dir.path().join("strong");
    arca()
        .args(["create", "--iterations", "1000", "--password-stdin"])
        .arg(&strong)
        .write_stdin(PASSWORD)
        .assert()
        .success();
    let before = snapshot(&strong);
    arca()
        .args(["create", "--iterations", "1000", "--password-stdin"])
        .arg(&strong)
        .write_stdin(PASSWORD)
        .assert()
        .code(CLASH)
        .stderr(contains("already exists"));
    assert_eq!(snapshot(&strong), before);
}

#[test]
fn info_reports_the_safe_as_json() {
    let fixture = Fixture::new();
    let info = fixture.json(&["info"], &[]);
    assert_eq!(info["kdf_iterations"], 1000);
    assert_eq!(info["format_version"], 1);
    assert_eq!(info["files"], 0);
    assert_eq!(info["has_recovery_key"], false);
    let manifest: Value =
        serde_json::from_slice(&fs::read(fixture.safe.join("safe.json")).unwrap()).unwrap();
    assert_eq!(info["safe_id"], manifest["safe_id"]);
    assert!(
        fixture
            .ok(&["info"], &[])
            .contains("PBKDF2 iterations: 1000")
    );
}

#[test]
fn without_a_terminal_the_password_must_come_from_stdin() {
    let fixture = Fixture::new();
    arca()
        .arg("ls")
        .arg(&fixture.safe)
        .assert()
        .code(USAGE)
        .stderr(contains("--password-stdin"));
}

#[test]
fn import_then_list_stat_cat_and_export() {
    let fixture = Fixture::new();
    let source = fixture.import_tree();
    assert_eq!(
        fixture.paths(),
        [
            "/Photos",
            "/Photos/2024",
            "/Photos/2024/b.bin",
            "/Photos/2024/summer",
            "/Photos/2024/summer/c.txt",
            "/Photos/a.txt",
            "/Photos/empty",
        ]
    );
    let root = fixture.ok(&["ls"], &[]);
    assert!(root.contains("Photos/"), "{root}");

    let stat = fixture.json(&["stat"], &["/Photos/2024/b.bin"]);
    assert_eq!(stat["kind"], "file");
    assert_eq!(stat["size"], 70_000);
    assert_eq!(stat["content"], "present");
    assert_eq!(stat["modified_at"], 1_500_000_123_123_456_789_i64);
    assert!(
        fixture
            .ok(&["stat"], &["/Photos/a.txt"])
            .contains("Size:      11 B (11 bytes)")
    );

    let cat = fixture
        .arca_with(&["cat"], &["/Photos/2024/b.bin"], PASSWORD)
        .success();
    assert_eq!(cat.get_output().stdout, binary(70_000));
    let cat = fixture
        .arca_with(&["cat"], &["/Photos/2024/summer/c.txt"], PASSWORD)
        .success();
    assert!(cat.get_output().stdout.is_empty());

    let out = fixture.path("out");
    fixture.ok(&["export"], &["/Photos", "--to", out.to_str().unwrap()]);
    for file in ["a.txt", "2024/b.bin", "2024/summer/c.txt"] {
        let (original, exported) = (source.join(file), out.join("Photos").join(file));
        assert_eq!(
            fs::read(&exported).unwrap(),
            fs::read(&original).unwrap(),
            "{file}"
        );
        assert_eq!(mtime(&exported), mtime(&original), "{file}");
    }
    assert!(out.join("Photos/empty").is_dir());

    // Exporting again keeps both by default, and skips with --on-clash skip.
    fixture.ok(
        &["export"],
        &["/Photos/a.txt", "--to", out.to_str().unwrap()],
    );
    assert!(out.join("a.txt").is_file());
    fixture.ok(
        &["export"],
        &["/Photos/a.txt", "--to", out.to_str().unwrap()],
    );
    assert!(out.join("a (2).txt").is_file());
    fixture
        .arca_with(
            &["export"],
            &[
                "/Photos/a.txt",
                "--to",
                out.to_str().unwrap(),
                "--on-clash",
                "skip",
            ],
            PASSWORD,
        )
        .success()
        .stderr(contains("skipped"));
    assert!(!out.join("a (3).txt").exists());

    // Importing the same tree again: keep both, or skip.
    fixture.ok(
        &["import"],
        &[source.join("a.txt").to_str().unwrap(), "--into", "/Photos"],
    );
    assert!(fixture.paths().contains(&"/Photos/a (2).txt".to_owned()));
    fixture.ok(
        &["import"],
        &[
            source.join("a.txt").to_str().unwrap(),
            "--into",
            "/Photos",
            "--on-clash",
            "skip",
        ],
    );
    assert!(!fixture.paths().contains(&"/Photos/a (3).txt".to_owned()));
    assert_eq!(fixture.json(&["info"], &[])["files"], 4);
}

#[test]
fn import_refuses_a_missing_source_and_a_missing_folder() {
    let fixture = Fixture::new();
    let before = snapshot(&fixture.safe);
    fixture
        .arca_with(
            &["import"],
            &[fixture.path("nope").to_str().unwrap()],
            PASSWORD,
        )
        .code(IO)
        .stderr(contains("nope"));
    assert_eq!(snapshot(&fixture.safe), before);

    let file = fixture.path("x.txt");
    fs::write(&file, b"x").unwrap();
    fixture
        .arca_with(
            &["import"],
            &[file.to_str().unwrap(), "--into", "/Missing"],
            PASSWORD,
        )
        .code(NOT_FOUND)
        .stderr(contains("/Missing"));
    assert!(fixture.paths().is_empty());

    // Nothing was interrupted, so resuming does nothing and succeeds.
    fixture.ok(&["import", "--resume"], &[]);
}

#[test]
fn cat_and_stat_name_what_is_missing() {
    let fixture = Fixture::new();
    fixture.import_tree();
    fixture
        .arca_with(&["cat"], &["/Photos/none.txt"], PASSWORD)
        .code(NOT_FOUND)
        .stderr(contains("/Photos/none.txt"));
    fixture
        .arca_with(&["cat"], &["/Photos/2024"], PASSWORD)
        .code(USAGE)
        .stderr(contains("is a folder"));
    fixture
        .arca_with(&["stat"], &["/Photos/a.txt/deeper"], PASSWORD)
        .code(NOT_FOUND)
        .stderr(contains("/Photos/a.txt"));
}

#[test]
fn organise_with_mkdir_mv_rm_and_the_trash() {
    let fixture = Fixture::new();
    fixture.import_tree();

    fixture.ok(&["mkdir"], &["/Archive/Old/Deep"]);
    // Like mkdir -p: an existing folder is fine.
    fixture.ok(&["mkdir"], &["/Archive/Old"]);
    fixture
        .arca_with(&["mkdir"], &["/Photos/a.txt/sub"], PASSWORD)
        .code(NOT_FOUND);

    // Into an existing folder, then rename and move in one.
    fixture.ok(&["mv"], &["/Photos/a.txt", "/Archive"]);
    fixture.ok(&["mv"], &["/Archive/a.txt", "/Archive/Old/renamed.txt"]);
    fixture.ok(&["mv"], &["/Photos/2024", "/Archive/Old/2024-photos"]);
    let paths = fixture.paths();
    assert!(
        paths.contains(&"/Archive/Old/renamed.txt".to_owned()),
        "{paths:?}"
    );
    assert!(paths.contains(&"/Archive/Old/2024-photos/summer/c.txt".to_owned()));
    assert!(!paths.iter().any(|path| path.starts_with("/Photos/2024")));
    assert_eq!(
        fixture
            .arca_with(&["cat"], &["/Archive/Old/2024-photos/b.bin"], PASSWORD)
            .success()
            .get_output()
            .stdout,
        binary(70_000)
    );

    // A name clash and a move into itself are refused and change nothing.
    fixture.ok(&["mkdir"], &["/Archive/Old/x"]);
    fixture
        .arca_with(
            &["mv"],
            &["/Archive/Old/x", "/Archive/Old/renamed.txt"],
            PASSWORD,
        )
        .code(CLASH)
        .stderr(contains("renamed.txt"));
    fixture
        .arca_with(&["mv"], &["/Archive", "/Archive/Old/Deep"], PASSWORD)
        .code(USAGE)
        .stderr(contains("into itself"));
    let mut expected = paths.clone();
    expected.push("/Archive/Old/x".to_owned());
    expected.sort();
    assert_eq!(fixture.paths(), expected);

    // rm moves to the trash; a missing path in the list changes nothing.
    fixture
        .arca_with(&["rm"], &["/Archive/Old/renamed.txt", "/nope"], PASSWORD)
        .code(NOT_FOUND);
    assert!(
        fixture
            .paths()
            .contains(&"/Archive/Old/renamed.txt".to_owned())
    );
    let trashed_data = fixture.data_file("/Archive/Old/2024-photos/b.bin");
    assert!(trashed_data.is_file());
    fixture.ok(
        &["rm"],
        &["/Archive/Old/renamed.txt", "/Archive/Old/2024-photos"],
    );
    let paths = fixture.paths();
    assert!(
        !paths
            .iter()
            .any(|path| path.contains("renamed") || path.contains("2024"))
    );

    let trash = fixture.json(&["trash", "list"], &[]);
    let mut trashed: Vec<&str> = trash
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    trashed.sort_unstable();
    assert_eq!(
        trashed,
        ["/Archive/Old/2024-photos", "/Archive/Old/renamed.txt"]
    );
    assert!(
        fixture
            .ok(&["trash", "list"], &[])
            .contains("/Archive/Old/renamed.txt")
    );
    assert!(
        fixture
            .ok(&["ls"], &["/Archive/Old", "--trash"])
            .contains("(in the trash)")
    );

    // Restore by path; the rest goes for good.
    let restored = fixture.ok(&["trash", "restore"], &["/Archive/Old/renamed.txt"]);
    assert!(
        restored.contains("restored /Archive/Old/renamed.txt"),
        "{restored}"
    );
    fixture
        .arca_with(
            &["trash", "restore"],
            &["/Archive/Old/renamed.txt"],
            PASSWORD,
        )
        .code(NOT_FOUND);
    let emptied = fixture.ok(&["trash", "empty"], &[]);
    assert!(emptied.contains("deleted 4 item(s)"), "{emptied}");
    assert!(
        fixture
            .json(&["trash", "list"], &[])
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(fixture.json(&["info"], &[])["files"], 1);
    assert!(
        !trashed_data.exists(),
        "emptying the trash removes its data files"
    );
    fixture.ok(&["check"], &[]);
}

#[test]
fn tags_favorites_and_comments_are_searchable() {
    let fixture = Fixture::new();
    fixture.import_tree();
    fixture.ok(&["tag", "add"], &["/Photos/a.txt", "holiday", "beach"]);
    fixture.ok(&["tag", "add"], &["/Photos/2024/b.bin", "holiday"]);
    fixture.ok(&["fav", "on"], &["/Photos/2024/b.bin"]);
    fixture.ok(
        &["comment", "set"],
        &["/Photos/2024/summer/c.txt", "Grandmother's recipe"],
    );

    let tags = fixture.json(&["tag", "list"], &[]);
    assert_eq!(
        tags,
        serde_json::json!([{"name": "beach", "items": 1}, {"name": "holiday", "items": 2}])
    );
    assert_eq!(
        fixture.json(&["tag", "list"], &["/Photos/a.txt"]),
        serde_json::json!(["beach", "holiday"])
    );
    assert_eq!(
        fixture.json(&["stat"], &["/Photos/a.txt"])["tags"],
        serde_json::json!(["beach", "holiday"])
    );

    let found = |args: &[&str]| -> Vec<String> {
        let mut paths: Vec<String> = fixture
            .json(&["search"], args)
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["path"].as_str().unwrap().to_owned())
            .collect();
        paths.sort();
        paths
    };
    assert_eq!(found(&["beach"]), ["/Photos/a.txt"]);
    assert_eq!(
        found(&["", "--tag", "holiday"]),
        ["/Photos/2024/b.bin", "/Photos/a.txt"]
    );
    assert_eq!(found(&["recipe"]), ["/Photos/2024/summer/c.txt"]);
    assert_eq!(found(&["grandmother"]), ["/Photos/2024/summer/c.txt"]);
    assert_eq!(found(&["", "--favorites"]), ["/Photos/2024/b.bin"]);
    assert!(
        fixture
            .ok(&["search"], &["beach"])
            .contains("/Photos/a.txt")
    );

    // Undoing each takes it out of the results.
    fixture.ok(&["tag", "rm"], &["/Photos/a.txt", "beach"]);
    fixture.ok(&["fav", "off"], &["/Photos/2024/b.bin"]);
    fixture.ok(&["comment", "clear"], &["/Photos/2024/summer/c.txt"]);
    assert!(found(&["beach"]).is_empty());
    assert!(found(&["", "--favorites"]).is_empty());
    assert!(found(&["recipe"]).is_empty());

    // The trash is searched only with --trash.
    fixture.ok(&["rm"], &["/Photos/a.txt"]);
    assert!(found(&["", "--tag", "holiday"]) == ["/Photos/2024/b.bin"]);
    assert_eq!(
        found(&["", "--tag", "holiday", "--trash"]),
        ["/Photos/a.txt"]
    );
    fixture
        .arca_with(&["tag", "add"], &["/Photos/2024/b.bin", " "], PASSWORD)
        .code(USAGE);
}

#[test]
fn passwd_replaces_the_password() {
    let fixture = Fixture::new();
    fixture.import_tree();
    let stdin = format!("{PASSWORD}\n{NEW_PASSWORD}\n");
    fixture
        .arca(&["passwd"], &stdin)
        .success()
        .stdout(contains("changed the Safe Password"));

    fixture
        .arca(&["ls"], PASSWORD)
        .code(AUTHENTICATION)
        .stderr(contains("wrong password"));
    let listing = fixture.arca_with(&["ls"], &["-R"], NEW_PASSWORD).success();
    assert!(String::from_utf8_lossy(&listing.get_output().stdout).contains("/Photos/a.txt"));

    // A wrong current password, a weak new one and a missing second line change nothing.
    let before = snapshot(&fixture.safe);
    fixture
        .arca(&["passwd"], &format!("{PASSWORD}\n{NEW_PASSWORD}x\n"))
        .code(AUTHENTICATION);
    fixture
        .arca(&["passwd"], &format!("{NEW_PASSWORD}\n{WEAK}\n"))
        .code(USAGE)
        .stderr(contains("weak"));
    fixture.arca(&["passwd"], NEW_PASSWORD).code(USAGE);
    assert_eq!(snapshot(&fixture.safe), before);
    fixture.arca(&["info"], NEW_PASSWORD).success();
}

#[test]
fn recovery_key_resets_a_lost_password() {
    let fixture = Fixture::new();
    fixture.import_tree();
    fixture
        .arca(
            &["recovery", "reset"],
            &format!("AAAAA-BBBBB\n{NEW_PASSWORD}"),
        )
        .code(NOT_FOUND)
        .stderr(contains("no recovery key"));

    let created = fixture
        .arca(&["recovery", "create"], PASSWORD)
        .success()
        .stderr(contains("Write it down"));
    let key = String::from_utf8(created.get_output().stdout.clone()).unwrap();
    let key = key.trim().to_owned();
    assert_eq!(key.lines().count(), 1, "the key alone on stdout: {key:?}");
    assert_eq!(fixture.json(&["info"], &[])["has_recovery_key"], true);

    // A typo and a wrong key change nothing.
    let before = snapshot(&fixture.safe);
    fixture
        .arca(
            &["recovery", "reset"],
            &format!("{}\n{NEW_PASSWORD}", &key[1..]),
        )
        .code(USAGE)
        .stderr(contains("not a recovery key"));
    let other_key = String::from_utf8(
        Fixture::new()
            .arca(&["recovery", "create"], PASSWORD)
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    fixture
        .arca(
            &["recovery", "reset"],
            &format!("{}\n{NEW_PASSWORD}", other_key.trim()),
        )
        .code(AUTHENTICATION)
        .stderr(contains("wrong recovery key"));
    assert_eq!(snapshot(&fixture.safe), before);

    // Lower case and without dashes is the same key.
    let typed = key.replace('-', "").to_lowercase();
    fixture
        .arca(
            &["recovery", "reset"],
            &format!("{typed}\n{NEW_PASSWORD}\n"),
        )
        .success()
        .stdout(contains("set a new Safe Password"));
    fixture.arca(&["info"], PASSWORD).code(AUTHENTICATION);
    let cat = fixture
        .arca_with(&["cat"], &["/Photos/a.txt"], NEW_PASSWORD)
        .success();
    assert_eq!(cat.get_output().stdout, b"first file\n");
    // The recovery key still works after the reset.
    fixture
        .arca(&["recovery", "reset"], &format!("{key}\n{PASSWORD}"))
        .success();
    fixture.arca(&["info"], PASSWORD).success();
}

#[test]
fn check_finds_a_flipped_byte_and_names_the_item() {
    let fixture = Fixture::new();
    fixture.import_tree();
    let clean = fixture.ok(&["check"], &["--full"]);
    assert!(clean.contains("no problems"), "{clean}");
    assert_eq!(
        fixture.json(&["check"], &[])["problems"],
        serde_json::json!([])
    );

    // A byte of the ciphertext: decrypting finds it.
    let data_file = fixture.data_file("/Photos/2024/b.bin");
    flip_byte(&data_file, 1000);
    fixture
        .arca_with(&["check"], &["--full"], PASSWORD)
        .code(DAMAGED)
        .stdout(contains(
            "/Photos/2024/b.bin: its data file was modified or damaged",
        ))
        .stderr(contains("1 problem"));
    let report = fixture
        .arca_with(&["check"], &["--full", "--json"], PASSWORD)
        .code(DAMAGED);
    let report: Value = serde_json::from_slice(&report.get_output().stdout).unwrap();
    assert_eq!(report["problems"][0]["path"], "/Photos/2024/b.bin");

    // Reading it is refused with nothing released; the other files still export.
    fixture
        .arca_with(&["cat"], &["/Photos/2024/b.bin"], PASSWORD)
        .code(DAMAGED)
        .stdout(predicates::str::is_empty())
        .stderr(contains("/Photos/2024/b.bin"));
    let out = fixture.path("out");
    fixture
        .arca_with(
            &["export"],
            &["/Photos", "--to", out.to_str().unwrap()],
            PASSWORD,
        )
        .code(DAMAGED)
        .stderr(contains("/Photos/2024/b.bin"));
    assert_eq!(fs::read(out.join("Photos/a.txt")).unwrap(), b"first file\n");
    assert!(!out.join("Photos/2024/b.bin").exists());

    // A byte of the trailing HMAC tag: the quick check finds it without decrypting.
    flip_byte(&data_file, 1000);
    let small = fixture.data_file("/Photos/a.txt");
    let len = fs::metadata(&small).unwrap().len() as usize;
    flip_byte(&small, len - 1);
    fixture
        .arca_with(&["check"], &[], PASSWORD)
        .code(DAMAGED)
        .stdout(contains("/Photos/a.txt:").and(contains("b.bin").not()));
}

#[test]
fn a_wrong_password_changes_nothing() {
    let fixture = Fixture::new();
    fixture.import_tree();
    let before = snapshot(&fixture.safe);
    for command in [
        &["ls"][..],
        &["info"],
        &["mkdir", "/New"],
        &["rm", "/Photos"],
        &["trash", "empty"],
        &["check", "--repair"],
        &["recovery", "create"],
    ] {
        let (command, args) = match command {
            [first, second, ..] if *first == "trash" || *first == "recovery" => {
                (vec![*first, *second], &command[2..])
            }
            [first, rest @ ..] => (vec![*first], rest),
            [] => unreachable!(),
        };
        fixture
            .arca_with(&command, args, "not the password")
            .code(AUTHENTICATION)
            .stderr(contains("wrong password").and(contains("vault")));
    }
    assert_eq!(snapshot(&fixture.safe), before);
}

#[test]
fn a_newer_safe_is_refused_and_left_untouched() {
    let fixture = Fixture::new();
    let manifest = fixture.safe.join("safe.json");
    let text = fs::read_to_string(&manifest).unwrap();
    fs::write(&manifest, text.replace("\"version\": 1", "\"version\": 2")).unwrap();
    let before = snapshot(&fixture.safe);
    for command in [&["ls"][..], &["info"], &["check"], &["passwd"]] {
        fixture
            .arca(command, PASSWORD)
            .code(NEWER_FORMAT)
            .stderr(contains("newer").and(contains("update Arca")));
    }
    assert_eq!(snapshot(&fixture.safe), before);
}

#[test]
fn a_folder_that_is_not_a_safe_is_named() {
    let dir = tempfile::tempdir().unwrap();
    arca()
        .args(["ls", "--password-stdin"])
        .arg(dir.path())
        .write_stdin(PASSWORD)
        .assert()
        .code(NOT_FOUND)
        .stderr(contains("is not an Arca Safe").and(contains("arca create")));
}

#[test]
fn help_documents_the_new_exit_codes() {
    let help = arca().arg("--help").assert().success();
    let help = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    for line in [
        "   6  not found",
        "   7  name clash",
        "   8  damaged",
        "   9  newer format",
        "  10  incomplete",
        "--password-stdin",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}:\n{help}");
    }
}
