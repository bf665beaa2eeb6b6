//! `arca sync`, `arca sync conflicts|devices|approve|remove`, `arca sync-config export|show`
//! and `arca join`, run as a user would on several devices (Safes in one temporary folder, one
//! sync target folder): output, exit codes, and what ends up on disk.
//!
//! The devices all run on this computer, so they share its name: the tests name them by id or
//! code, and use the shared name where a name that names several is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ffi::OsStr;
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

const USAGE: i32 = 2;
const AUTHENTICATION: i32 = 3;
const IO: i32 = 5;
const NOT_FOUND: i32 = 6;
const CLASH: i32 = 7;
const DEVICE: i32 = 13;

/// The `arca` binary, with a state folder of its own for each run: the back-off after wrong
/// passwords never slows down another test.
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
fn run(args: &[&dyn AsRef<OsStr>], stdin: &str) -> Assert {
    let mut command = arca();
    for arg in args {
        command.arg(arg);
    }
    command.arg("--password-stdin").write_stdin(stdin).assert()
}

/// `arca ARGS... --password-stdin` with the password, which must succeed; its standard output.
fn ok(args: &[&dyn AsRef<OsStr>]) -> String {
    stdout(run(args, PASSWORD).success())
}

fn stdout(assert: Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

fn stderr(assert: &Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// Device A's Safe holding /a.txt, the sync target's folder (not made yet), and a place for
/// device B's copy.
struct Fixture {
    dir: TempDir,
    a: PathBuf,
    b: PathBuf,
    target: PathBuf,
    config: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let fixture = Self {
            a: dir.path().join("A.arca"),
            b: dir.path().join("B.arca"),
            target: dir.path().join("usb").join("holiday-sync"),
            config: dir.path().join("holiday.arca-sync"),
            dir,
        };
        fixture.create(&fixture.a);
        fixture.import(&fixture.a, "a.txt", b"made on A\n");
        fixture
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn create(&self, safe: &Path) {
        run(&[&"create", &"--iterations", &"1000", &safe], PASSWORD).success();
    }

    fn import(&self, safe: &Path, name: &str, content: &[u8]) {
        let source = self.path("sources").join(uuid::Uuid::new_v4().to_string());
        fs::create_dir_all(&source).unwrap();
        fs::write(source.join(name), content).unwrap();
        ok(&[&"import", &safe, &source.join(name)]);
    }

    fn cat(&self, safe: &Path, path: &str) -> Vec<u8> {
        run(&[&"cat", &safe, &path], PASSWORD)
            .success()
            .get_output()
            .stdout
            .clone()
    }

    fn id(&self, safe: &Path) -> String {
        let info: Value = serde_json::from_str(&ok(&[&"info", &safe, &"--json"])).unwrap();
        info["safe_id"].as_str().unwrap().to_owned()
    }

    /// A syncs with the target once (setting it) and exports the configuration.
    fn share(&self) {
        ok(&[&"sync", &self.a, &"--to", &self.target]);
        ok(&[
            &"sync-config",
            &"export",
            &self.a,
            &"--out",
            &self.config,
            &"--comment",
            &"for the laptop",
        ]);
    }

    /// `arca sync SAFE --json`.
    fn sync(&self, safe: &Path) -> Value {
        serde_json::from_str(&ok(&[&"sync", &safe, &"--json"])).unwrap()
    }

    /// `arca sync devices SAFE --json`.
    fn devices(&self, safe: &Path) -> Vec<Value> {
        serde_json::from_str::<Value>(&ok(&[&"sync", &"devices", &safe, &"--json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// The device `safe` is, as it lists itself.
    fn this_device(&self, safe: &Path) -> Value {
        let devices = self.devices(safe);
        assert_eq!(devices[0]["thisDevice"], true, "{devices:?}");
        devices[0].clone()
    }

    /// `safe` joins from the configuration (A shared it before), then A syncs and approves it.
    fn pair(&self, safe: &Path) {
        ok(&[&"join", &self.config, &safe]);
        let id = self.this_device(safe)["id"].as_str().unwrap().to_owned();
        ok(&[&"sync", &self.a]);
        ok(&[&"sync", &"approve", &self.a, &id, &"--yes"]);
    }
}

#[test]
fn a_file_imported_on_one_device_is_read_on_the_other_and_back() {
    let fixture = Fixture::new();
    let first = ok(&[&"sync", &fixture.a, &"--to", &fixture.target]);
    assert!(
        first.contains("sent") && first.contains("1 file"),
        "{first}"
    );
    assert!(fixture.target.join("arca-sync.json").is_file());

    ok(&[
        &"sync-config",
        &"export",
        &fixture.a,
        &"--out",
        &fixture.config,
        &"--comment",
        &"for the laptop",
    ]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&fixture.config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let shown = ok(&[&"sync-config", &"show", &fixture.config]);
    let id = fixture.id(&fixture.a);
    assert!(
        shown.contains(&id)
            && shown.contains("for the laptop")
            && shown.contains(fs::canonicalize(&fixture.target).unwrap().to_str().unwrap()),
        "{shown}"
    );
    let shown: Value =
        serde_json::from_str(&ok(&[&"sync-config", &"show", &fixture.config, &"--json"])).unwrap();
    assert_eq!(shown["safeId"], id.as_str());
    assert_eq!(shown["comment"], "for the laptop");
    assert_eq!(shown["target"]["kind"], "folder");

    // Joining runs the first sync: A's file is readable on B at once.
    let joined: Value =
        serde_json::from_str(&ok(&[&"join", &fixture.config, &fixture.b, &"--json"])).unwrap();
    assert_eq!(joined["id"], id.as_str());
    assert_eq!(joined["sync"]["filesReceived"], 1, "{joined}");
    assert_eq!(fixture.cat(&fixture.b, "/a.txt"), b"made on A\n");
    assert_eq!(fixture.id(&fixture.b), id);

    // B waits to be approved; A approves it.
    assert!(joined["sync"]["waitingForApproval"].is_string(), "{joined}");
    let b_id = fixture.this_device(&fixture.b)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let asking = fixture.sync(&fixture.a);
    assert_eq!(asking["devicesAsking"][0]["id"], b_id.as_str(), "{asking}");
    ok(&[&"sync", &"approve", &fixture.a, &b_id, &"--yes"]);

    // And back: B's file reaches A.
    fixture.import(&fixture.b, "b.txt", b"made on B\n");
    let sent = fixture.sync(&fixture.b);
    assert_eq!(sent["filesSent"], 1, "{sent}");
    assert!(sent["operationsSent"].as_u64().unwrap() >= 1, "{sent}");
    assert_eq!(sent["waitingForApproval"], Value::Null, "{sent}");
    let received = fixture.sync(&fixture.a);
    assert_eq!(received["filesReceived"], 1, "{received}");
    assert_eq!(received["conflicts"], Value::Array(Vec::new()));
    assert_eq!(received["problems"], Value::Array(Vec::new()));
    assert_eq!(received["stopped"], false);
    assert_eq!(fixture.cat(&fixture.a, "/b.txt"), b"made on B\n");

    // Nothing new: the summary says so in words.
    let quiet = ok(&[&"sync", &fixture.a]);
    assert!(
        quiet.contains("sent 0 changes and 0 files") && quiet.contains("received 0 changes"),
        "{quiet}"
    );
}

#[test]
fn what_two_devices_changed_differently_is_decided_and_listed() {
    let fixture = Fixture::new();
    fixture.share();
    fixture.pair(&fixture.b);
    ok(&[&"mv", &fixture.a, &"/a.txt", &"/from-a.txt"]);
    ok(&[&"mv", &fixture.b, &"/a.txt", &"/from-b.txt"]);
    ok(&[&"sync", &fixture.a]);
    let decided = ok(&[&"sync", &fixture.b]);
    assert!(decided.contains("conflict: "), "{decided}");

    let listed = ok(&[&"sync", &"conflicts", &fixture.b]);
    assert!(
        listed.starts_with("field") && listed.contains("Renamed on two devices"),
        "{listed}"
    );
    let listed: Value =
        serde_json::from_str(&ok(&[&"sync", &"conflicts", &fixture.b, &"--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["kind"], "field");

    // A decides the same on its next run, and both end with the same name.
    ok(&[&"sync", &fixture.a]);
    let names = |safe: &Path| ok(&[&"ls", &safe, &"/"]);
    assert_eq!(names(&fixture.a), names(&fixture.b));
    let on_a = ok(&[&"sync", &"conflicts", &fixture.a]);
    assert!(on_a.contains("Renamed on two devices"), "{on_a}");
}

#[test]
fn a_wrong_password_on_join_fails_as_authentication_and_makes_nothing() {
    let fixture = Fixture::new();
    fixture.share();
    let failed = run(&[&"join", &fixture.config, &fixture.b], WRONG);
    let failed = failed.code(AUTHENTICATION);
    assert!(
        stderr(&failed).contains("does not open with this password"),
        "{}",
        stderr(&failed)
    );
    assert!(!fixture.b.exists());
    run(&[&"sync-config", &"show", &fixture.config], WRONG).code(AUTHENTICATION);
    // Exporting checks the password too.
    run(
        &[
            &"sync-config",
            &"export",
            &fixture.a,
            &"--out",
            &fixture.path("other.arca-sync"),
        ],
        WRONG,
    )
    .code(AUTHENTICATION);
    assert!(!fixture.path("other.arca-sync").exists());
}

#[test]
fn without_a_target_sync_and_export_say_to_pass_to() {
    let fixture = Fixture::new();
    run(&[&"sync", &fixture.a], PASSWORD)
        .code(USAGE)
        .stderr(contains("has no sync target").and(contains("--to FOLDER")));
    run(
        &[
            &"sync-config",
            &"export",
            &fixture.a,
            &"--out",
            &fixture.config,
        ],
        PASSWORD,
    )
    .code(USAGE)
    .stderr(contains("has no sync target").and(contains("--to FOLDER")));
    assert!(!fixture.config.exists());
    let none = ok(&[&"sync", &"conflicts", &fixture.a]);
    assert!(none.contains("decided nothing"), "{none}");
}

#[test]
fn a_target_of_another_safe_is_refused_naming_it() {
    let fixture = Fixture::new();
    fixture.share();
    let other = fixture.path("Other.arca");
    fixture.create(&other);
    let target = fs::canonicalize(&fixture.target).unwrap();
    run(&[&"sync", &other, &"--to", &fixture.target], PASSWORD)
        .code(CLASH)
        .stderr(contains(target.to_str().unwrap()).and(contains("another Safe")));
    // Refused before it was stored: the other Safe still has no target.
    run(&[&"sync", &other], PASSWORD)
        .code(USAGE)
        .stderr(contains("has no sync target"));

    // A target that became another Safe's after it was set is refused by the run itself.
    let own = fixture.path("own-target");
    ok(&[&"sync", &other, &"--to", &own]);
    fs::copy(
        fixture.target.join("arca-sync.json"),
        own.join("arca-sync.json"),
    )
    .unwrap();
    run(&[&"sync", &other], PASSWORD)
        .code(CLASH)
        .stderr(contains(own.to_str().unwrap()).and(contains("another Safe")));
}

#[test]
fn every_wrong_path_is_named() {
    let fixture = Fixture::new();
    let file = fixture.path("a-file");
    fs::write(&file, b"x").unwrap();
    run(&[&"sync", &fixture.a, &"--to", &file], PASSWORD)
        .code(USAGE)
        .stderr(contains("a-file").and(contains("is a file")));
    let busy = fixture.path("busy");
    fs::create_dir(&busy).unwrap();
    fs::write(busy.join("notes.txt"), b"mine").unwrap();
    run(&[&"sync", &fixture.a, &"--to", &busy], PASSWORD)
        .code(NOT_FOUND)
        .stderr(contains("busy").and(contains("holds other files")));
    run(
        &[&"sync", &fixture.a, &"--to", &fixture.a.join("inside")],
        PASSWORD,
    )
    .code(USAGE)
    .stderr(contains("inside the Safe"));
    assert!(!fixture.a.join("inside").exists());
    run(
        &[&"sync", &fixture.path("nowhere"), &"--to", &busy],
        PASSWORD,
    )
    .code(NOT_FOUND)
    .stderr(contains("nowhere"));

    fixture.share();
    // The export is never written over without --force, nor onto the target, nor into a
    // folder that is not there.
    let export = |out: &Path, force: bool| {
        let mut args: Vec<&dyn AsRef<OsStr>> =
            vec![&"sync-config", &"export", &fixture.a, &"--out", &out];
        if force {
            args.push(&"--force");
        }
        run(&args, PASSWORD)
    };
    let before = fs::read(&fixture.config).unwrap();
    export(&fixture.config, false)
        .code(USAGE)
        .stderr(contains("holiday.arca-sync").and(contains("already exists")));
    assert_eq!(fs::read(&fixture.config).unwrap(), before);
    export(&fixture.config, true).success();
    assert_ne!(fs::read(&fixture.config).unwrap(), before);
    export(&fixture.target.join("config"), false)
        .code(USAGE)
        .stderr(contains("inside the sync target"));
    assert!(!fixture.target.join("config").exists());
    export(&fixture.path("missing/config"), false)
        .code(IO)
        .stderr(contains("missing").and(contains("does not exist")));

    // The configuration itself.
    run(
        &[&"join", &fixture.path("no-such-config"), &fixture.b],
        PASSWORD,
    )
    .code(IO)
    .stderr(contains("no-such-config"));
    run(&[&"sync-config", &"show", &file], PASSWORD)
        .code(USAGE)
        .stderr(contains("a-file").and(contains("not a sync configuration")));
    run(&[&"join", &fixture.config, &busy], PASSWORD)
        .code(CLASH)
        .stderr(contains("busy"));

    // The target where the configuration says is not on this device: nothing is made until
    // --target says where it is.
    let moved = fixture.path("mounted-elsewhere");
    fs::rename(&fixture.target, &moved).unwrap();
    run(&[&"join", &fixture.config, &fixture.b], PASSWORD)
        .code(NOT_FOUND)
        .stderr(contains("holiday-sync").and(contains("--target")));
    assert!(!fixture.b.exists());
    run(&[&"sync", &fixture.a], PASSWORD)
        .code(NOT_FOUND)
        .stderr(contains("holiday-sync").and(contains("is not there")));
    // Not even when it is given again: that is the folder already chosen.
    run(&[&"sync", &fixture.a, &"--to", &fixture.target], PASSWORD)
        .code(NOT_FOUND)
        .stderr(contains("holiday-sync").and(contains("is not there")));
    assert!(
        !fixture.target.exists(),
        "a missing target is never made anew"
    );
    ok(&[&"join", &fixture.config, &fixture.b, &"--target", &moved]);
    assert_eq!(fixture.cat(&fixture.b, "/a.txt"), b"made on A\n");
}

/// Every data file on the target.
fn data_files(target: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for shard in fs::read_dir(target.join("files")).unwrap() {
        for file in fs::read_dir(shard.unwrap().path()).unwrap() {
            files.push(file.unwrap().path());
        }
    }
    files
}

#[test]
fn a_tampered_file_on_the_target_is_a_warning_and_is_not_taken() {
    let fixture = Fixture::new();
    fixture.share();
    ok(&[&"join", &fixture.config, &fixture.b]);
    let before = data_files(&fixture.target);
    fixture.import(&fixture.a, "c.txt", b"made on A, changed on the way\n");
    ok(&[&"sync", &fixture.a]);
    let new: Vec<PathBuf> = data_files(&fixture.target)
        .into_iter()
        .filter(|file| !before.contains(file))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    let mut bytes = fs::read(&new[0]).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    fs::write(&new[0], bytes).unwrap();

    // Exit 0: the Safe is whole and the next run tries again; the refusal is on stderr.
    let refused = run(&[&"sync", &fixture.b, &"--json"], PASSWORD).success();
    let warnings = stderr(&refused);
    assert!(
        warnings.contains("arca: warning: refused from the sync target")
            && warnings.contains("not taken"),
        "{warnings}"
    );
    let report: Value = serde_json::from_str(&stdout(refused)).unwrap();
    assert_eq!(report["problems"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["filesReceived"], 0);
    run(&[&"cat", &fixture.b, &"/c.txt"], PASSWORD)
        .failure()
        .stderr(contains("arca sync SAFE"));
    let listed = ok(&[&"ls", &fixture.b, &"/"]);
    assert!(listed.contains("c.txt  (on another device"), "{listed}");
    // Waiting is not damage.
    let checked = ok(&[&"check", &fixture.b]);
    assert!(
        checked.contains("no problems") && checked.contains("1 file wait"),
        "{checked}"
    );
}

/// The other device of `devices` with `id`.
fn device<'a>(devices: &'a [Value], id: &str) -> &'a Value {
    devices
        .iter()
        .find(|device| device["id"] == id)
        .unwrap_or_else(|| panic!("no device {id} in {devices:?}"))
}

#[test]
fn a_joined_device_waits_until_a_device_already_syncing_approves_it() {
    let fixture = Fixture::new();
    fixture.share();

    // Joining says that the device waits, with its code, and how to approve it elsewhere.
    let joined = ok(&[&"join", &fixture.config, &fixture.b]);
    let b = fixture.this_device(&fixture.b);
    let (b_id, code) = (b["id"].as_str().unwrap(), b["code"].as_str().unwrap());
    assert_eq!(b["state"], "waiting", "{b}");
    assert!(
        joined.contains(&format!(
            "this device waits to be approved, with the code {code}"
        )) && joined.contains(&format!("arca sync approve SAFE {code}")),
        "{joined}"
    );
    // It already has everything, but cannot vouch for other devices yet.
    assert_eq!(fixture.cat(&fixture.b, "/a.txt"), b"made on A\n");
    run(
        &[
            &"sync-config",
            &"export",
            &fixture.b,
            &"--out",
            &fixture.path("from-b.arca-sync"),
        ],
        PASSWORD,
    )
    .code(DEVICE)
    .stderr(contains("before it is approved"));

    // What B changes meanwhile waits on the target: A does not apply it.
    fixture.import(&fixture.b, "b.txt", b"made on B while waiting\n");
    let waiting = ok(&[&"sync", &fixture.b]);
    assert!(waiting.contains("waits to be approved"), "{waiting}");
    let asked = ok(&[&"sync", &fixture.a]);
    let short = &b_id.replace('-', "")[..8];
    let a_path = fixture.a.display();
    assert!(
        asked.contains(&format!("asks to join this Safe with the code {code}"))
            && asked.contains(&format!("`arca sync approve {a_path} {short}`"))
            && asked.contains(&format!("`arca sync remove {a_path} {short}`")),
        "{asked}"
    );
    run(&[&"cat", &fixture.a, &"/b.txt"], PASSWORD).code(NOT_FOUND);
    let listed = ok(&[&"sync", &"devices", &fixture.a]);
    let row = listed.lines().find(|line| line.starts_with(short)).unwrap();
    assert!(
        row.contains(code) && row.contains("asks to join"),
        "{listed}"
    );
    assert!(
        listed
            .lines()
            .nth(1)
            .unwrap()
            .contains("this device, approved"),
        "{listed}"
    );

    // Approved by its code, as typed from the other screen: its waiting changes arrive with
    // the sync the approval runs.
    let typed = code.to_lowercase().replace('-', " ");
    let approved: Value = serde_json::from_str(&ok(&[
        &"sync", &"approve", &fixture.a, &typed, &"--yes", &"--json",
    ]))
    .unwrap();
    assert_eq!(approved["device"]["id"], b_id, "{approved}");
    assert_eq!(approved["device"]["state"], "approved", "{approved}");
    assert_eq!(approved["sync"]["filesReceived"], 1, "{approved}");
    assert_eq!(
        fixture.cat(&fixture.a, "/b.txt"),
        b"made on B while waiting\n"
    );
    // Approving again changes nothing.
    let again = ok(&[&"sync", &"approve", &fixture.a, &short, &"--yes"]);
    assert!(again.contains("is approved already"), "{again}");

    // B learns of it at its next sync; from then on its changes flow at once.
    let a_name = fixture.this_device(&fixture.a)["name"].clone();
    let synced = fixture.sync(&fixture.b);
    assert_eq!(synced["waitingForApproval"], Value::Null, "{synced}");
    let b = fixture.this_device(&fixture.b);
    assert_eq!(b["state"], "approved", "{b}");
    assert_eq!(b["decidedBy"], a_name, "{b}");
    fixture.import(&fixture.b, "c.txt", b"made on B, approved\n");
    ok(&[&"sync", &fixture.b]);
    ok(&[&"sync", &fixture.a]);
    assert_eq!(fixture.cat(&fixture.a, "/c.txt"), b"made on B, approved\n");
}

#[test]
fn a_device_is_named_by_id_code_or_name_and_a_name_of_several_is_refused() {
    let fixture = Fixture::new();
    fixture.share();
    let c = fixture.path("C.arca");
    ok(&[&"join", &fixture.config, &fixture.b]);
    ok(&[&"join", &fixture.config, &c]);
    ok(&[&"sync", &fixture.a]);
    // All three run on this computer: they share its name.
    let name = fixture.this_device(&fixture.a)["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (b_id, c_id) = (
        fixture.this_device(&fixture.b)["id"]
            .as_str()
            .unwrap()
            .to_owned(),
        fixture.this_device(&c)["id"].as_str().unwrap().to_owned(),
    );
    let ambiguous = run(
        &[&"sync", &"approve", &fixture.a, &name, &"--yes"],
        PASSWORD,
    )
    .code(USAGE);
    let text = stderr(&ambiguous);
    assert!(
        text.contains(&format!("\"{name}\" names 3 devices"))
            && text.contains(&b_id.replace('-', "")[..8])
            && text.contains(&c_id.replace('-', "")[..8])
            && text.contains("its first characters are enough"),
        "{text}"
    );
    run(
        &[&"sync", &"approve", &fixture.a, &"no-such-device", &"--yes"],
        PASSWORD,
    )
    .code(DEVICE)
    .stderr(
        contains("no device of this Safe has the id, code or name \"no-such-device\"")
            .and(contains("asks to join")),
    );
    let devices = fixture.devices(&fixture.a);
    assert!(devices.iter().skip(1).all(|d| d["state"] == "waiting"));

    // The full id names one; then the name names the only one still asking.
    ok(&[&"sync", &"approve", &fixture.a, &b_id, &"--yes"]);
    let approved = ok(&[&"sync", &"approve", &fixture.a, &name, &"--yes"]);
    assert!(approved.contains(&c_id.replace('-', "")[..8]), "{approved}");
    let devices = fixture.devices(&fixture.a);
    assert_eq!(device(&devices, &b_id)["state"], "approved");
    assert_eq!(device(&devices, &c_id)["state"], "approved");
}

#[test]
fn a_removed_device_is_told_so_when_it_syncs_and_its_later_changes_count_nowhere() {
    let fixture = Fixture::new();
    fixture.share();
    fixture.pair(&fixture.b);
    fixture.import(&fixture.b, "before.txt", b"made on B before its removal\n");
    ok(&[&"sync", &fixture.b]);
    // What A has applied when it removes B stands.
    ok(&[&"sync", &fixture.a]);
    let b_id = fixture.this_device(&fixture.b)["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Removing is confirmed on a terminal; a script says --yes.
    run(&[&"sync", &"remove", &fixture.a, &b_id], PASSWORD)
        .code(USAGE)
        .stderr(contains("confirm").and(contains("--yes")));
    assert_eq!(
        device(&fixture.devices(&fixture.a), &b_id)["state"],
        "approved"
    );
    // A device cannot remove itself.
    let a_id = fixture.this_device(&fixture.a)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&[&"sync", &"remove", &fixture.a, &a_id, &"--yes"], PASSWORD)
        .code(DEVICE)
        .stderr(contains("cannot remove itself"));

    let removed = ok(&[&"sync", &"remove", &fixture.a, &b_id, &"--yes"]);
    assert!(
        removed.contains("its changes from now on are undone on every device"),
        "{removed}"
    );
    // What it made before stays; it can no longer sync.
    assert_eq!(
        fixture.cat(&fixture.a, "/before.txt"),
        b"made on B before its removal\n"
    );
    fixture.import(&fixture.b, "after.txt", b"made on B after its removal\n");
    let a_name = fixture.this_device(&fixture.a)["name"]
        .as_str()
        .unwrap()
        .to_owned();
    run(&[&"sync", &fixture.b], PASSWORD).code(DEVICE).stderr(
        contains(format!(
            "this device was removed from the Safe's sync by {a_name}"
        ))
        .and(contains("as a new device")),
    );
    ok(&[&"sync", &fixture.a]);
    run(&[&"cat", &fixture.a, &"/after.txt"], PASSWORD).code(NOT_FOUND);
    let listed = ok(&[&"sync", &"devices", &fixture.a]);
    let row = listed
        .lines()
        .find(|line| line.starts_with(&b_id.replace('-', "")[..8]))
        .unwrap();
    assert!(
        row.contains("removed") && row.contains(&format!("{a_name} (")),
        "{listed}"
    );
    // Removed for good: it is not approved again.
    run(
        &[&"sync", &"approve", &fixture.a, &b_id, &"--yes"],
        PASSWORD,
    )
    .code(DEVICE)
    .stderr(contains("was removed"));
    let again = ok(&[&"sync", &"remove", &fixture.a, &b_id, &"--yes"]);
    assert!(again.contains("was removed already"), "{again}");
}

#[test]
fn a_device_asking_to_join_can_be_refused() {
    let fixture = Fixture::new();
    fixture.share();
    ok(&[&"join", &fixture.config, &fixture.b]);
    fixture.import(&fixture.b, "b.txt", b"from a device nobody approved\n");
    ok(&[&"sync", &fixture.b]);
    ok(&[&"sync", &fixture.a]);
    let b_id = fixture.this_device(&fixture.b)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = ok(&[&"sync", &"remove", &fixture.a, &b_id, &"--yes"]);
    assert!(refused.contains("refused"), "{refused}");
    run(&[&"sync", &fixture.b], PASSWORD)
        .code(DEVICE)
        .stderr(contains("was removed"));
    run(&[&"cat", &fixture.a, &"/b.txt"], PASSWORD).code(NOT_FOUND);
    // Before its first sync, a Safe knows no devices.
    let other = fixture.path("Other.arca");
    fixture.create(&other);
    let none = ok(&[&"sync", &"devices", &other]);
    assert!(none.contains("knows no devices"), "{none}");
    run(&[&"sync", &"approve", &other, &"x", &"--yes"], PASSWORD)
        .code(DEVICE)
        .stderr(contains("has not synced on this device yet"));
}

#[test]
fn a_device_joins_from_a_picture_of_the_qr_code() {
    let fixture = Fixture::new();
    ok(&[&"sync", &fixture.a, &"--to", &fixture.target]);
    let picture = fixture.path("config.png");
    ok(&[&"sync-config", &"export", &fixture.a, &"--qr", &picture]);
    assert!(!fixture.config.exists());
    let mode = fs::metadata(&picture).unwrap().permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077, 0);
    ok(&[&"join", &picture, &fixture.b]);
    assert_eq!(fixture.cat(&fixture.b, "/a.txt"), b"made on A\n");

    // The wrong kind of image, and a picture without the code, are named as such.
    let failed = run(
        &[
            &"sync-config",
            &"export",
            &fixture.a,
            &"--qr",
            &fixture.path("config.gif"),
        ],
        PASSWORD,
    )
    .failure()
    .code(USAGE);
    assert!(
        stderr(&failed).contains(".svg or .png"),
        "{}",
        stderr(&failed)
    );
    let blank = fixture.path("blank.png");
    fs::write(&blank, b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let failed = run(&[&"join", &blank, &fixture.path("C.arca")], PASSWORD)
        .failure()
        .code(USAGE);
    assert!(
        stderr(&failed).contains("is an image"),
        "{}",
        stderr(&failed)
    );
    assert!(!fixture.path("C.arca").exists());
}

#[path = "../../safe/tests/common/garage.rs"]
#[allow(dead_code)]
mod garage;

#[test]
fn a_bucket_is_set_up_from_the_command_line() {
    let Some(cluster) = garage::Cluster::start_or_skip(1) else {
        return;
    };
    let arca_safe::TargetSettings::S3(settings) = cluster.settings("cli") else {
        unreachable!()
    };
    let fixture = Fixture::new();
    let to = "s3://arca/holiday";
    let bucket_run = |extra: &[&str], secret: Option<&str>| {
        let mut command = arca();
        command.args(["sync"]).arg(&fixture.a).args(extra);
        command.env_remove("AWS_SECRET_ACCESS_KEY");
        if let Some(secret) = secret {
            command.env("AWS_SECRET_ACCESS_KEY", secret);
        }
        command
            .arg("--password-stdin")
            .write_stdin(PASSWORD)
            .assert()
    };
    let with_bucket = [
        "--to",
        to,
        "--endpoint",
        &settings.endpoint,
        "--region",
        "garage",
        "--access-key-id",
        &settings.access_key_id,
    ];
    // No endpoint, a bad bucket name: said before anything is asked.
    let failed = bucket_run(&["--to", to], None).failure().code(USAGE);
    assert!(
        stderr(&failed).contains("--endpoint"),
        "{}",
        stderr(&failed)
    );
    let failed = bucket_run(&["--to", "s3://No_Such"], None)
        .failure()
        .code(USAGE);
    assert!(
        stderr(&failed).contains("not a bucket name"),
        "{}",
        stderr(&failed)
    );
    // Without the secret and without a terminal: the prompt is refused, nothing is set.
    bucket_run(&with_bucket, None).failure().code(USAGE);

    let first = bucket_run(&with_bucket, Some(settings.secret_access_key.expose())).success();
    let said = stderr(&first);
    assert!(said.contains("s3://arca/holiday"), "{said}");
    assert!(!said.contains(settings.secret_access_key.expose()));
    // Later runs use the stored bucket and secret.
    ok(&[&"sync", &fixture.a]);
    ok(&[
        &"sync-config",
        &"export",
        &fixture.a,
        &"--out",
        &fixture.config,
    ]);
    ok(&[&"join", &fixture.config, &fixture.b]);
    assert_eq!(fixture.cat(&fixture.b, "/a.txt"), b"made on A\n");
}
