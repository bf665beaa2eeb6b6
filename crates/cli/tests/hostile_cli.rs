//! Names from a backup someone else made, through the command line (issue 9, part 1): a backup
//! whose records carry names that break the name rule (`../escape`, an absolute path, `a/b`,
//! control characters, NUL, `.`, `..`, 300 bytes), written and sealed by hand with the
//! backup's own record keys, is verified, restored (into a new Safe and as chosen items) and
//! exported with `--on-clash replace`. Nothing is written outside the target folders, each bad
//! item is listed (with its name escaped, so it cannot rewrite the terminal), the rest restores.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../safe/tests/common/hostile.rs"]
mod hostile;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use arca_cryptor::Password;
use assert_cmd::Command;
use hostile::{IndexMode, Planted};
use serde_json::Value;

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";
const DAMAGED: i32 = 8;
const SENTINEL: &[u8] = b"a file of the person's own, never to be touched";
const DEEP: &str = "/tmp/arca-hostile-deep";

/// The `arca` binary, with a state folder of its own for each run (no back-off between tests).
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

/// Runs `arca ARGS --password-stdin`; the exit code, stdout and stderr.
fn run(args: &[&dyn AsRef<OsStr>]) -> (i32, String, Vec<u8>) {
    let output = arca()
        .args(args)
        .arg("--password-stdin")
        .write_stdin(PASSWORD)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.stderr,
    )
}

fn ok(args: &[&dyn AsRef<OsStr>]) -> String {
    let (code, stdout, stderr) = run(args);
    assert_eq!(
        code,
        0,
        "arca {:?} failed: {}",
        args.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        String::from_utf8_lossy(&stderr)
    );
    stdout
}

/// Asserts a program's output holds no raw control character but line breaks: a hostile name
/// printed as it is could move the cursor, clear the screen or fake a line.
fn assert_no_control_characters(bytes: &[u8], context: &str) {
    for byte in bytes {
        assert!(
            *byte == b'\n' || *byte >= 0x20 && *byte != 0x7f,
            "{context}: a raw control character {byte:#04x} was printed:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    safe: PathBuf,
    backup: PathBuf,
    work: PathBuf,
    sentinels: Vec<PathBuf>,
    hostile: Vec<Planted>,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let source = root.join("source");
        fs::create_dir_all(source.join("docs")).unwrap();
        fs::write(source.join("docs/a.txt"), b"alpha content").unwrap();
        fs::write(source.join("docs/b.txt"), b"beta").unwrap();
        fs::write(source.join("top.txt"), b"top of the safe").unwrap();
        let safe = root.join("vault");
        ok(&[&"create", &safe, &"--iterations", &"1000"]);
        ok(&[
            &"import",
            &safe,
            &source.join("docs"),
            &source.join("top.txt"),
        ]);
        let backup = root.join("backup");
        ok(&[&"backup", &safe, &backup]);

        let work = root.join("work");
        let outside = root.join("outside");
        fs::create_dir_all(&work).unwrap();
        fs::create_dir_all(&outside).unwrap();
        let absolute = outside.join("absolute-evil");
        let sentinels = vec![work.join("escape"), root.join("escape"), absolute.clone()];
        for sentinel in &sentinels {
            fs::write(sentinel, SENTINEL).unwrap();
        }
        let keys = hostile::record_keys(&backup, &Password::new(PASSWORD.to_owned()));
        let template = hostile::template(&backup, &keys, "a.txt");
        let docs = hostile::record_id(&backup, &keys, "docs");
        let mut hostile: Vec<Planted> = hostile::hostile_names(&absolute)
            .iter()
            .map(|name| Planted::file(name, None))
            .collect();
        hostile.push(Planted::file("../escape", Some(docs)));
        hostile.push(Planted::folder("evil/dir", None));
        let mut planted = hostile.clone();
        planted.push(Planted::file("fine.txt", None));
        // The index says a run is under way: records are taken as they are, so only the name
        // rule stands between them and the Safe.
        hostile::plant(&backup, &keys, &planted, &template, IndexMode::Running);
        Self {
            _dir: dir,
            root,
            safe,
            backup,
            work,
            sentinels,
            hostile,
        }
    }

    /// Everything below the test's folder but the targets (and the original Safe, which
    /// restoring chosen items changes).
    fn outside(&self) -> Vec<(PathBuf, String)> {
        let skip: Vec<PathBuf> = fs::read_dir(&self.work)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.starts_with("restored") || name.starts_with("export")
            })
            .chain([self.safe.clone()])
            .collect();
        let skip: Vec<&Path> = skip.iter().map(PathBuf::as_path).collect();
        hostile::snapshot(&self.root, &skip)
    }

    fn assert_nothing_outside(&self, before: &[(PathBuf, String)], context: &str) {
        assert!(
            before == self.outside().as_slice(),
            "{context}: something outside the target changed"
        );
        for sentinel in &self.sentinels {
            assert_eq!(fs::read(sentinel).unwrap(), SENTINEL, "{context}");
        }
        assert!(!Path::new(DEEP).exists(), "{context}: {DEEP} was written");
    }

    /// Asserts each bad record is listed once on `text`'s lines starting with `prefix`, by its
    /// UUID.
    fn assert_each_listed(&self, text: &str, prefix: &str, context: &str) {
        let lines: Vec<&str> = text.lines().filter(|line| line.contains(prefix)).collect();
        for record in &self.hostile {
            let id = record.id.to_string();
            assert!(
                lines.iter().any(|line| line.contains(&id)),
                "{context}: {:?} ({id}) is not listed:\n{text}",
                record.name
            );
        }
        assert_eq!(lines.len(), self.hostile.len(), "{context}:\n{text}");
    }
}

#[test]
fn arca_verify_restore_and_export_of_a_hostile_backup_write_nothing_outside() {
    let world = World::new();
    let before = world.outside();

    // Verify lists each bad record.
    let (code, stdout, stderr) = run(&[&"backup", &"verify", &world.backup]);
    assert_eq!(code, DAMAGED, "{stdout}");
    world.assert_each_listed(&stdout, "problem:", "backup verify");
    assert!(stdout.contains("cannot be used as a name"), "{stdout}");
    assert_no_control_characters(stdout.as_bytes(), "backup verify");
    assert_no_control_characters(&stderr, "backup verify");

    // Restore into a new Safe: each bad item listed, the rest restored, exit 8.
    let restored = world.work.join("restored");
    let (code, stdout, stderr) = run(&[&"restore", &world.backup, &restored]);
    let stderr_text = String::from_utf8_lossy(&stderr).into_owned();
    assert_eq!(code, DAMAGED, "{stdout}{stderr_text}");
    world.assert_each_listed(&stderr_text, "could not restore", "restore");
    assert_no_control_characters(&stderr, "restore");
    assert!(
        stdout.contains("restored 4 file(s)"),
        "a.txt, b.txt, top.txt, fine.txt: {stdout}"
    );
    world.assert_nothing_outside(&before, "restore");
    let listing: Value =
        serde_json::from_str(&ok(&[&"ls", &restored, &"/", &"-R", &"--json"])).unwrap();
    let mut paths: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "/docs",
            "/docs/a.txt",
            "/docs/b.txt",
            "/fine.txt",
            "/top.txt"
        ]
    );

    // Exported, replacing what is there, again and again: only inside the folder.
    let export = world.work.join("export");
    for clash in ["keep-both", "replace", "skip", "replace"] {
        ok(&[
            &"export",
            &restored,
            &"/",
            &"--to",
            &export,
            &"--on-clash",
            &clash,
        ]);
        world.assert_nothing_outside(&before, clash);
    }
    assert_eq!(
        fs::read(export.join("docs/a.txt")).unwrap(),
        b"alpha content"
    );
    for (path, _) in hostile::snapshot(&export, &[]) {
        let path = path.to_string_lossy();
        assert!(!path.contains("escape") && !path.contains("evil"), "{path}");
    }

    // Chosen items into the Safe backed up, replacing what is there: each bad record listed
    // (it may have been inside the chosen folder), nothing outside.
    let (code, stdout, stderr) = run(&[
        &"restore",
        &world.backup,
        &world.safe,
        &"--items",
        &"/docs",
        &"/fine.txt",
        &"--on-clash",
        &"replace",
    ]);
    let stderr_text = String::from_utf8_lossy(&stderr).into_owned();
    assert_eq!(code, DAMAGED, "{stdout}{stderr_text}");
    world.assert_each_listed(&stderr_text, "could not restore", "restore --items");
    assert_no_control_characters(&stderr, "restore --items");
    world.assert_nothing_outside(&before, "restore --items");
    let export = world.work.join("export-original");
    ok(&[
        &"export",
        &world.safe,
        &"/",
        &"--to",
        &export,
        &"--on-clash",
        &"replace",
    ]);
    world.assert_nothing_outside(&before, "export of the original");
    assert_eq!(fs::read(export.join("fine.txt")).unwrap(), b"alpha content");

    // A bad path cannot even be asked for.
    for path in ["/../escape", "/a/b"] {
        let (code, _, stderr) = run(&[&"restore", &world.backup, &world.safe, &"--items", &path]);
        assert_eq!(code, 6, "{path}: {}", String::from_utf8_lossy(&stderr));
    }
    world.assert_nothing_outside(&before, "bad paths");
}
