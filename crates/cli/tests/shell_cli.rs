//! `arca` in the shell: completions for bash, zsh and fish and manual pages generated from the
//! command definition, `--json` on the commands that print data, `--quiet` leaving only data,
//! warnings and errors, `--verbose` saying what is done.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const PASSWORD: &str = "violet-granite-orbit-2049-ketch";

fn arca(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_arca"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn ok(args: &[&str], stdin: &str) -> (String, String) {
    let output = arca(args, stdin);
    let (out, err) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert!(output.status.success(), "arca {args:?} failed: {err}");
    (out, err)
}

/// The subcommands `arca --help` lists.
fn subcommands() -> Vec<String> {
    let (help, _) = ok(&["--help"], "");
    let list = help
        .split("Commands:\n")
        .nth(1)
        .unwrap()
        .split("\n\n")
        .next()
        .unwrap();
    let names: Vec<String> = list
        .lines()
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect();
    assert!(names.len() > 20, "{names:?}");
    names
}

#[test]
fn completions_cover_every_command_and_the_bash_script_is_valid() {
    let commands = subcommands();
    for shell in ["bash", "zsh", "fish"] {
        let (script, _) = ok(&["completions", shell], "");
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: no {command}");
        }
        assert!(
            script.contains("on-clash"),
            "{shell}: options are completed"
        );
    }
    let (script, _) = ok(&["completions", "bash"], "");
    let checked = Command::new("bash")
        .args(["-n", "-c", &script])
        .status()
        .unwrap();
    assert!(checked.success(), "bash -n rejects the completion script");

    let unknown = arca(&["completions", "tcsh"], "");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("bash"));
}

#[test]
fn manual_pages_exist_for_every_command_and_carry_the_exit_codes() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let pages = dir.path().join("man1");
    ok(&["man", "--dir", pages.to_str().unwrap()], "");
    for command in subcommands() {
        let page = fs::read_to_string(pages.join(format!("arca-{command}.1"))).unwrap();
        assert!(page.starts_with(&format!(
            ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH arca-{command} 1"
        )));
    }
    let nested = fs::read_to_string(pages.join("arca-backup-verify.1")).unwrap();
    assert!(nested.contains("arca backup verify"), "{nested}");
    assert!(nested.contains("\\-\\-full"), "{nested}");

    let (main, _) = ok(&["man"], "");
    assert_eq!(main, fs::read_to_string(pages.join("arca.1")).unwrap());
    for text in [
        "\\-\\-password\\-stdin",
        "Exit status:",
        "\\-\\-quiet",
        "\\-\\-verbose",
    ] {
        assert!(main.contains(text), "arca.1 lacks {text}");
    }

    // A folder that cannot be made is an error that names it.
    let blocked = dir.path().join("file");
    fs::write(&blocked, b"").unwrap();
    let failed = arca(
        &["man", "--dir", blocked.join("man1").to_str().unwrap()],
        "",
    );
    assert_eq!(failed.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&failed.stderr).contains("cannot write the manual pages"));
}

struct Safe {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Safe {
    fn new() -> (Self, String) {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let path = dir.path().join("vault");
        let (out, _) = ok(
            &[
                "create",
                path.to_str().unwrap(),
                "--password-stdin",
                "--iterations",
                "1000",
                "--json",
            ],
            PASSWORD,
        );
        (Self { dir, path }, out)
    }

    fn safe(&self) -> &str {
        self.path.to_str().unwrap()
    }

    fn source(&self) -> PathBuf {
        let source = self.dir.path().join("source");
        fs::create_dir_all(source.join("sub")).unwrap();
        fs::write(source.join("a.txt"), b"alpha").unwrap();
        fs::write(source.join("sub").join("b.txt"), b"beta").unwrap();
        source
    }
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

#[test]
fn create_and_recovery_create_print_json() {
    let (safe, created) = Safe::new();
    let created = json(&created);
    assert_eq!(created["safe"], safe.safe());
    let id = created["id"].as_str().unwrap();
    let (info, _) = ok(
        &["info", safe.safe(), "--password-stdin", "--json"],
        PASSWORD,
    );
    assert!(info.contains(id));

    let (out, err) = ok(
        &[
            "recovery",
            "create",
            safe.safe(),
            "--password-stdin",
            "--json",
        ],
        PASSWORD,
    );
    let key = json(&out)["recoveryKey"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 35);
    assert!(!err.contains(&key), "the key goes to standard output only");
    // It is the key: it sets a new password.
    ok(
        &[
            "recovery",
            "reset",
            safe.safe(),
            "--password-stdin",
            "--accept-weak",
        ],
        &format!("{key}\nanother violet granite orbit"),
    );
    ok(
        &["ls", safe.safe(), "--password-stdin"],
        "another violet granite orbit",
    );
}

#[test]
fn quiet_leaves_only_the_data_and_the_errors() {
    let (safe, _) = Safe::new();
    let source = safe.source();
    let (out, err) = ok(
        &[
            "-q",
            "import",
            safe.safe(),
            source.to_str().unwrap(),
            "--password-stdin",
        ],
        PASSWORD,
    );
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    // The same names again, kept both: still silent (the renames are what was asked for).
    let (out, err) = ok(
        &[
            "import",
            "--quiet",
            safe.safe(),
            source.to_str().unwrap(),
            "--password-stdin",
        ],
        PASSWORD,
    );
    assert_eq!((out.as_str(), err.as_str()), ("", ""));

    // Data is printed as ever.
    let (listing, err) = ok(
        &["-q", "ls", safe.safe(), "/", "--password-stdin"],
        PASSWORD,
    );
    assert_eq!(err, "");
    assert!(
        listing.contains("source") && listing.contains("source (2)"),
        "{listing}"
    );
    let (content, _) = ok(
        &[
            "cat",
            safe.safe(),
            "/source/a.txt",
            "--password-stdin",
            "--quiet",
        ],
        PASSWORD,
    );
    assert_eq!(content, "alpha");

    let exported = safe.dir.path().join("out");
    let (out, err) = ok(
        &[
            "-q",
            "export",
            safe.safe(),
            "/source",
            "--to",
            exported.to_str().unwrap(),
            "--password-stdin",
        ],
        PASSWORD,
    );
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
    assert_eq!(
        fs::read(exported.join("source/sub/b.txt")).unwrap(),
        b"beta"
    );

    // Errors are never silenced.
    let failed = arca(
        &["-q", "ls", safe.safe(), "/nothing", "--password-stdin"],
        PASSWORD,
    );
    assert!(!failed.status.success());
    assert!(String::from_utf8_lossy(&failed.stderr).contains("arca: error:"));

    let both = arca(&["-q", "-v", "ls", safe.safe()], "");
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn verbose_says_what_is_done_with_times_and_rates() {
    let (safe, created) = Safe::new();
    let id = json(&created)["id"].as_str().unwrap().to_owned();
    let source = safe.source();
    let (out, err) = ok(
        &[
            "import",
            "-v",
            safe.safe(),
            source.to_str().unwrap(),
            "--password-stdin",
        ],
        PASSWORD,
    );
    assert!(out.starts_with("imported 2 files"), "{out}");
    assert!(
        err.contains(&format!(
            "arca: unlocked the Safe '{}' (id {id}) for writing in ",
            safe.safe()
        )),
        "{err}"
    );
    let done = err
        .lines()
        .find(|line| line.starts_with("arca: importing: 2 files, 9 B in "))
        .unwrap_or_else(|| panic!("no closing figures: {err}"));
    assert!(done.ends_with("/s)"), "{done}");

    let (_, err) = ok(
        &["--verbose", "ls", safe.safe(), "--password-stdin"],
        PASSWORD,
    );
    assert!(
        err.contains("for reading in") || err.contains("for writing in"),
        "{err}"
    );
}
