//! `arca rncryptor`: round trips, the official RNCryptor v3 vectors, interoperability with the
//! library, and every failure with its exit code, its message, and no OUT left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use arca_cryptor::{
    CipherKeys, CleartextBuffer, Credentials, EncryptionKey, Encryptor, HmacKey, Iterations,
    Password, decrypt,
};
use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use tempfile::TempDir;

/// Few iterations keep the tests fast; the vectors use the standard 10,000.
const FAST: u32 = 1000;
const ENC_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const HMAC_HEX: &str = "2021222324252627282930313233343536373839404142434445464748494a4b";

const AUTHENTICATION: i32 = 3;
const MALFORMED: i32 = 4;
const IO: i32 = 5;
const USAGE: i32 = 2;

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

fn with_password(direction: &str, stdin: &[u8], input: &Path, output: &Path) -> Assert {
    arca()
        .args(["rncryptor", direction, "--password-stdin", "--iterations"])
        .arg(FAST.to_string())
        .arg(input)
        .arg(output)
        .write_stdin(stdin)
        .assert()
}

fn with_keys(direction: &str, enc: &str, hmac: &str, input: &Path, output: &Path) -> Assert {
    arca()
        .args(["rncryptor", direction, "--enc-key", enc, "--hmac-key", hmac])
        .arg(input)
        .arg(output)
        .assert()
}

fn keys() -> CipherKeys {
    CipherKeys::new(
        EncryptionKey::from_slice(&hex::decode(ENC_HEX).unwrap()).unwrap(),
        HmacKey::from_slice(&hex::decode(HMAC_HEX).unwrap()).unwrap(),
    )
}

fn fast() -> Iterations {
    Iterations::new(FAST).unwrap()
}

/// More than three of the Cryptor's 64 KiB chunks, and not a whole number of blocks.
fn cleartext() -> Vec<u8> {
    (0..200_003u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

struct Scratch {
    dir: TempDir,
}

impl Scratch {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).unwrap();
        path
    }

    /// A message of [`cleartext`] encrypted by the CLI with the password "pw".
    fn password_message(&self) -> PathBuf {
        let input = self.file("clear.bin", &cleartext());
        let message = self.path("message.rncryptor");
        with_password("encrypt", b"pw\n", &input, &message).success();
        message
    }

    /// A message of [`cleartext`] encrypted by the CLI with the test keys.
    fn key_message(&self) -> PathBuf {
        let input = self.file("clear.bin", &cleartext());
        let message = self.path("message.rncryptor");
        with_keys("encrypt", ENC_HEX, HMAC_HEX, &input, &message).success();
        message
    }

    /// No temporary file of an abandoned OUT is left in the folder.
    fn assert_no_temporary_files(&self) {
        for entry in fs::read_dir(self.dir.path()).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".tmp"), "left behind: {name}");
        }
    }
}

/// The command failed with `code`, said `message` on stderr, and OUT does not exist.
fn assert_failed(scratch: &Scratch, assert: Assert, code: i32, message: &str, out: &Path) {
    assert.failure().code(code).stderr(contains(message));
    assert!(!out.exists(), "{} exists after a failure", out.display());
    scratch.assert_no_temporary_files();
}

/// As [`assert_failed`], for failures `arca` itself reports (not clap): an error line and a
/// hint line.
fn assert_reported(scratch: &Scratch, assert: Assert, code: i32, message: &str, out: &Path) {
    let assert = assert.stderr(contains("arca: error: ").and(contains("arca: hint: ")));
    assert_failed(scratch, assert, code, message, out);
}

// ---- round trips ----------------------------------------------------------------------------

#[test]
fn password_round_trip_with_spaces_unicode_and_colons() {
    let scratch = Scratch::new();
    let password = " correct horse: battery staple ✓ ünïcödé 密码 $$$ ";
    let input = scratch.file("clear.bin", &cleartext());
    let message = scratch.path("message.rncryptor");
    let output = scratch.path("back.bin");
    with_password("encrypt", password.as_bytes(), &input, &message).success();
    assert_eq!(fs::read(&message).unwrap()[..2], [3, 1]);
    with_password("decrypt", password.as_bytes(), &message, &output).success();
    assert_eq!(fs::read(&output).unwrap(), cleartext());
}

#[test]
fn key_round_trip() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    assert_eq!(fs::read(&message).unwrap()[..2], [3, 0]);
    let output = scratch.path("back.bin");
    with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &output).success();
    assert_eq!(fs::read(&output).unwrap(), cleartext());
}

#[test]
fn keys_in_upper_case_and_input_from_stdin() {
    let scratch = Scratch::new();
    let message = scratch.path("message.rncryptor");
    let output = scratch.path("back.bin");
    arca()
        .args(["rncryptor", "encrypt", "--enc-key", &ENC_HEX.to_uppercase()])
        .args(["--hmac-key", HMAC_HEX, "-"])
        .arg(&message)
        .write_stdin(cleartext())
        .assert()
        .success();
    arca()
        .args([
            "rncryptor",
            "decrypt",
            "--enc-key",
            ENC_HEX,
            "--hmac-key",
            HMAC_HEX,
            "-",
        ])
        .arg(&output)
        .write_stdin(fs::read(&message).unwrap())
        .assert()
        .success();
    assert_eq!(fs::read(&output).unwrap(), cleartext());
}

#[test]
fn empty_file_round_trips() {
    let scratch = Scratch::new();
    let input = scratch.file("empty", b"");
    let message = scratch.path("empty.rncryptor");
    let output = scratch.path("back");
    with_password("encrypt", b"pw", &input, &message).success();
    assert_eq!(fs::read(&message).unwrap().len(), 34 + 16 + 32);
    with_password("decrypt", b"pw", &message, &output).success();
    assert_eq!(fs::read(&output).unwrap(), b"");
}

#[test]
fn exactly_one_trailing_line_break_is_stripped() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"attack at dawn");
    // Encrypted with the password "pw\n": given as "pw\n\n" (LF) ...
    let message = scratch.path("lf.rncryptor");
    with_password("encrypt", b"pw\n\n", &input, &message).success();
    let library_decrypts = |password: &str| {
        let password = Password::new(password.into());
        decrypt(
            Credentials::Password(&password, fast()),
            fs::File::open(&message).unwrap(),
            CleartextBuffer::new(),
        )
        .is_ok()
    };
    assert!(library_decrypts("pw\n"));
    assert!(!library_decrypts("pw"));
    assert!(!library_decrypts("pw\n\n"));
    // ... and opened with "pw\n" given as "pw\n\r\n" (CRLF).
    let output = scratch.path("back.bin");
    with_password("decrypt", b"pw\n\r\n", &message, &output).success();
    assert_eq!(fs::read(&output).unwrap(), b"attack at dawn");
    // "pw" without a line break is another password.
    let refused = scratch.path("refused.bin");
    let assert = with_password("decrypt", b"pw", &message, &refused);
    assert_reported(&scratch, assert, AUTHENTICATION, "wrong password", &refused);
}

// ---- the official vectors -------------------------------------------------------------------

/// The records of an RNCryptor vector file (fixtures/rncryptor-v3/README.md): `name: value`
/// lines split at the first colon, records separated by blank lines, `#` comments.
fn read_vectors(name: &str) -> Vec<HashMap<String, String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/rncryptor-v3")
        .join(name);
    let text = fs::read_to_string(path).unwrap();
    let mut records = Vec::new();
    let mut current = HashMap::new();
    for line in text.lines().chain(std::iter::once("")) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            if !current.is_empty() {
                records.push(std::mem::take(&mut current));
            }
        } else if !trimmed.starts_with('#') {
            let (field, value) = line.split_once(':').unwrap();
            let value = value.trim_matches([' ', '\t']).to_owned();
            current.insert(field.trim().to_owned(), value);
        }
    }
    records
}

fn unhex(record: &HashMap<String, String>, name: &str) -> Vec<u8> {
    let compact: String = record[name].split_whitespace().collect();
    hex::decode(compact).unwrap()
}

#[test]
fn official_password_vectors_decrypt() {
    let records = read_vectors("password");
    assert_eq!(records.len(), 6);
    for (index, record) in records.iter().enumerate() {
        let scratch = Scratch::new();
        let message = scratch.file("vector.rncryptor", &unhex(record, "ciphertext_hex"));
        let output = scratch.path("plaintext");
        arca()
            .args([
                "rncryptor",
                "decrypt",
                "--password-stdin",
                "--iterations",
                "10000",
            ])
            .arg(&message)
            .arg(&output)
            .write_stdin(format!("{}\n", record["password"]))
            .assert()
            .success();
        let plaintext = unhex(record, "plaintext_hex");
        assert_eq!(
            fs::read(&output).unwrap(),
            plaintext,
            "record {index}: {}",
            record["title"]
        );
    }
}

#[test]
fn official_key_vectors_decrypt() {
    let records = read_vectors("key");
    assert_eq!(records.len(), 4);
    for (index, record) in records.iter().enumerate() {
        let scratch = Scratch::new();
        let message = scratch.file("vector.rncryptor", &unhex(record, "ciphertext_hex"));
        let output = scratch.path("plaintext");
        let enc = hex::encode(unhex(record, "enc_key_hex"));
        let hmac = hex::encode(unhex(record, "hmac_key_hex"));
        with_keys("decrypt", &enc, &hmac, &message, &output).success();
        let plaintext = unhex(record, "plaintext_hex");
        assert_eq!(
            fs::read(&output).unwrap(),
            plaintext,
            "record {index}: {}",
            record["title"]
        );
    }
}

// ---- interoperability with the library ------------------------------------------------------

#[test]
fn cli_messages_decrypt_with_the_library() {
    let scratch = Scratch::new();
    let message = scratch.password_message();
    let password = Password::new("pw".into());
    let credentials = Credentials::Password(&password, fast());
    let cleartext_back = decrypt(
        credentials,
        fs::File::open(&message).unwrap(),
        CleartextBuffer::new(),
    )
    .unwrap();
    assert_eq!(&cleartext_back[..], &cleartext()[..]);

    let message = scratch.path("keys.rncryptor");
    with_keys(
        "encrypt",
        ENC_HEX,
        HMAC_HEX,
        &scratch.path("clear.bin"),
        &message,
    )
    .success();
    let keys = keys();
    let cleartext_back = decrypt(
        Credentials::Keys(&keys),
        fs::File::open(&message).unwrap(),
        CleartextBuffer::new(),
    )
    .unwrap();
    assert_eq!(&cleartext_back[..], &cleartext()[..]);
}

#[test]
fn library_messages_decrypt_with_the_cli() {
    let scratch = Scratch::new();
    let seal = |credentials: Credentials<'_>| {
        let mut encryptor = Encryptor::new(credentials, Vec::new()).unwrap();
        encryptor.write_all(&cleartext()).unwrap();
        encryptor.finish().unwrap().0
    };
    let password = Password::new("pässwörd: 1 2 3".into());
    let message = scratch.file(
        "p.rncryptor",
        &seal(Credentials::Password(&password, fast())),
    );
    let output = scratch.path("p.out");
    with_password(
        "decrypt",
        "pässwörd: 1 2 3\r\n".as_bytes(),
        &message,
        &output,
    )
    .success();
    assert_eq!(fs::read(&output).unwrap(), cleartext());

    let keys = keys();
    let message = scratch.file("k.rncryptor", &seal(Credentials::Keys(&keys)));
    let output = scratch.path("k.out");
    with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &output).success();
    assert_eq!(fs::read(&output).unwrap(), cleartext());
}

// ---- authentication failures (3) ------------------------------------------------------------

#[test]
fn wrong_password() {
    let scratch = Scratch::new();
    let message = scratch.password_message();
    let out = scratch.path("out.bin");
    let assert = with_password("decrypt", b"pW", &message, &out);
    assert_reported(
        &scratch,
        assert,
        AUTHENTICATION,
        "wrong password or key",
        &out,
    );
}

#[test]
fn wrong_iteration_count() {
    let scratch = Scratch::new();
    let message = scratch.password_message();
    let out = scratch.path("out.bin");
    let assert = arca()
        .args([
            "rncryptor",
            "decrypt",
            "--password-stdin",
            "--iterations",
            "1001",
        ])
        .arg(&message)
        .arg(&out)
        .write_stdin("pw")
        .assert();
    assert_reported(&scratch, assert, AUTHENTICATION, "--iterations", &out);
}

#[test]
fn wrong_key() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    let out = scratch.path("out.bin");
    // The keys swapped: both valid, both wrong.
    let assert = with_keys("decrypt", HMAC_HEX, ENC_HEX, &message, &out);
    assert_reported(
        &scratch,
        assert,
        AUTHENTICATION,
        "wrong password or key",
        &out,
    );
}

#[test]
fn tampered_file() {
    let original = fs::read(Scratch::new().key_message()).unwrap();
    // A byte of the IV, of the first and the last cipher block, and of the HMAC.
    for position in [5, 18, original.len() - 40, original.len() - 1] {
        let scratch = Scratch::new();
        let mut tampered = original.clone();
        tampered[position] ^= 0x01;
        let message = scratch.file("message.rncryptor", &tampered);
        let out = scratch.path("out.bin");
        let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
        let named = "message.rncryptor' was modified";
        assert_reported(&scratch, assert, AUTHENTICATION, named, &out);
    }
}

#[test]
fn password_message_given_keys() {
    let scratch = Scratch::new();
    let message = scratch.password_message();
    let out = scratch.path("out.bin");
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    let said = "is a password-based message, but key-based credentials were given";
    assert_reported(&scratch, assert, AUTHENTICATION, said, &out);
}

// ---- malformed input (4) --------------------------------------------------------------------

#[test]
fn truncated_file() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    let whole = fs::read(&message).unwrap();
    let out = scratch.path("out.bin");
    // Shorter than a header, a block and the HMAC.
    fs::write(&message, &whole[..60]).unwrap();
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    assert_reported(&scratch, assert, MALFORMED, "is truncated", &out);
    // Cut inside a block.
    fs::write(&message, &whole[..whole.len() - 5]).unwrap();
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    assert_reported(
        &scratch,
        assert,
        MALFORMED,
        "not a whole number of 16-byte blocks",
        &out,
    );
    // Cut at a block boundary: indistinguishable from modified data.
    fs::write(&message, &whole[..whole.len() - 16]).unwrap();
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    assert_reported(&scratch, assert, AUTHENTICATION, "was modified", &out);
    // Empty.
    fs::write(&message, b"").unwrap();
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    assert_reported(&scratch, assert, MALFORMED, "is truncated", &out);
}

#[test]
fn not_rncryptor_version_byte() {
    let scratch = Scratch::new();
    let message = scratch.password_message();
    let mut bytes = fs::read(&message).unwrap();
    bytes[0] = 2;
    fs::write(&message, &bytes).unwrap();
    let out = scratch.path("out.bin");
    let assert = with_password("decrypt", b"pw", &message, &out);
    let said = "message.rncryptor' is not an RNCryptor v3 message: its version byte is 0x02";
    assert_reported(&scratch, assert, MALFORMED, said, &out);
}

#[test]
fn unknown_options_byte() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    let mut bytes = fs::read(&message).unwrap();
    bytes[1] = 0x02;
    fs::write(&message, &bytes).unwrap();
    let out = scratch.path("out.bin");
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    assert_reported(
        &scratch,
        assert,
        MALFORMED,
        "unknown options byte 0x02",
        &out,
    );
}

// ---- I/O failures (5) -----------------------------------------------------------------------

#[test]
fn missing_input() {
    let scratch = Scratch::new();
    let out = scratch.path("out.bin");
    for direction in ["encrypt", "decrypt"] {
        let assert = with_password(direction, b"pw", &scratch.path("missing.bin"), &out);
        assert_reported(&scratch, assert, IO, "cannot read IN '", &out);
        let assert = with_password(direction, b"pw", &scratch.path("missing.bin"), &out);
        assert_reported(&scratch, assert, IO, "missing.bin': No such file", &out);
    }
}

#[test]
fn input_is_a_folder() {
    let scratch = Scratch::new();
    let folder = scratch.path("folder");
    fs::create_dir(&folder).unwrap();
    let out = scratch.path("out.bin");
    for direction in ["encrypt", "decrypt"] {
        let assert = with_keys(direction, ENC_HEX, HMAC_HEX, &folder, &out);
        assert_reported(&scratch, assert, IO, "folder': it is a folder", &out);
    }
}

#[test]
fn output_in_a_missing_folder() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"x");
    let message = scratch.key_message();
    let out = scratch.path("missing/out.bin");
    let assert = with_keys("encrypt", ENC_HEX, HMAC_HEX, &input, &out);
    assert_reported(&scratch, assert, IO, "cannot create '", &out);
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, &out);
    assert_reported(&scratch, assert, IO, "missing/out.bin': No such file", &out);
}

// ---- usage failures (2) ---------------------------------------------------------------------

#[test]
fn existing_output_is_kept_without_force() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    let out = scratch.file("out.bin", b"precious");
    for direction in ["encrypt", "decrypt"] {
        with_keys(direction, ENC_HEX, HMAC_HEX, &message, &out)
            .failure()
            .code(USAGE)
            .stderr(contains("arca: error: OUT '").and(contains("out.bin' already exists")))
            .stderr(contains("--force"));
        assert_eq!(fs::read(&out).unwrap(), b"precious");
    }
    // A failed decryption with --force keeps it too.
    let mut tampered = fs::read(&message).unwrap();
    tampered[20] ^= 1;
    let bad = scratch.file("bad.rncryptor", &tampered);
    arca()
        .args([
            "rncryptor",
            "decrypt",
            "--force",
            "--enc-key",
            ENC_HEX,
            "--hmac-key",
            HMAC_HEX,
        ])
        .arg(&bad)
        .arg(&out)
        .assert()
        .failure()
        .code(AUTHENTICATION);
    assert_eq!(fs::read(&out).unwrap(), b"precious");
    scratch.assert_no_temporary_files();
    // With --force, a successful decryption replaces it.
    arca()
        .args([
            "rncryptor",
            "decrypt",
            "--force",
            "--enc-key",
            ENC_HEX,
            "--hmac-key",
            HMAC_HEX,
        ])
        .arg(&message)
        .arg(&out)
        .assert()
        .success();
    assert_eq!(fs::read(&out).unwrap(), cleartext());
}

#[test]
fn input_and_output_the_same_file() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"keep me");
    let also = scratch.dir.path().join(".").join("clear.bin");
    arca()
        .args([
            "rncryptor",
            "encrypt",
            "--force",
            "--enc-key",
            ENC_HEX,
            "--hmac-key",
            HMAC_HEX,
        ])
        .arg(&input)
        .arg(&also)
        .assert()
        .failure()
        .code(USAGE)
        .stderr(contains("IN and OUT are the same file"));
    assert_eq!(fs::read(&input).unwrap(), b"keep me");
}

#[test]
fn output_a_folder_or_standard_output() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    let folder = scratch.path("folder");
    fs::create_dir(&folder).unwrap();
    arca()
        .args([
            "rncryptor",
            "decrypt",
            "--force",
            "--enc-key",
            ENC_HEX,
            "--hmac-key",
            HMAC_HEX,
        ])
        .arg(&message)
        .arg(&folder)
        .assert()
        .failure()
        .code(USAGE)
        .stderr(contains("folder' is a folder"));
    assert!(fs::read_dir(&folder).unwrap().next().is_none());
    let assert = with_keys("decrypt", ENC_HEX, HMAC_HEX, &message, Path::new("-"));
    assert_reported(
        &scratch,
        assert,
        USAGE,
        "OUT must be a file path",
        Path::new("-"),
    );
}

#[test]
fn hard_link_of_input_as_output() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"keep me");
    let link = scratch.path("link.bin");
    fs::hard_link(&input, &link).unwrap();
    with_keys("encrypt", ENC_HEX, HMAC_HEX, &input, &link)
        .failure()
        .code(USAGE)
        .stderr(contains("IN and OUT are the same file"));
    assert_eq!(fs::read(&input).unwrap(), b"keep me");
}

#[test]
fn bad_hex_keys() {
    let scratch = Scratch::new();
    let message = scratch.key_message();
    let out = scratch.path("out.bin");
    let short = &ENC_HEX[..63];
    let long = format!("{ENC_HEX}0");
    let not_hex = format!("{}g", &ENC_HEX[..63]);
    let cases = [
        (
            short,
            HMAC_HEX,
            "--enc-key must be exactly 64 hex digits",
            "it has 63 characters",
        ),
        (
            &long,
            HMAC_HEX,
            "--enc-key must be exactly 64 hex digits",
            "it has 65 characters",
        ),
        (
            &not_hex,
            HMAC_HEX,
            "--enc-key must be",
            "character 64 is not a hex digit",
        ),
        (
            ENC_HEX,
            short,
            "--hmac-key must be exactly 64 hex digits",
            "it has 63 characters",
        ),
        (
            ENC_HEX,
            &not_hex,
            "--hmac-key must be",
            "character 64 is not a hex digit",
        ),
        (
            ENC_HEX,
            "0x00",
            "--hmac-key must be",
            "character 2 is not a hex digit",
        ),
    ];
    for (enc, hmac, flag, problem) in cases {
        for direction in ["encrypt", "decrypt"] {
            let assert = with_keys(direction, enc, hmac, &message, &out);
            let assert = assert.stderr(contains(problem));
            assert_reported(&scratch, assert, USAGE, flag, &out);
        }
    }
    // The message does not repeat the key.
    with_keys("decrypt", &not_hex, HMAC_HEX, &message, &out).stderr(contains(&not_hex[..60]).not());
}

#[test]
fn empty_password_on_encrypt() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"x");
    let out = scratch.path("out.bin");
    for stdin in [&b""[..], b"\n", b"\r\n"] {
        let assert = with_password("encrypt", stdin, &input, &out);
        assert_reported(&scratch, assert, USAGE, "empty password", &out);
    }
}

#[test]
fn password_not_utf8() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"x");
    let out = scratch.path("out.bin");
    let assert = with_password("encrypt", b"p\xffw", &input, &out);
    assert_reported(&scratch, assert, USAGE, "not valid UTF-8", &out);
}

#[test]
fn zero_iterations() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"x");
    let out = scratch.path("out.bin");
    let assert = arca()
        .args([
            "rncryptor",
            "encrypt",
            "--password-stdin",
            "--iterations",
            "0",
        ])
        .arg(&input)
        .arg(&out)
        .write_stdin("pw")
        .assert();
    assert_failed(&scratch, assert, USAGE, "--iterations", &out);
}

#[test]
fn password_and_keys_together() {
    let scratch = Scratch::new();
    let input = scratch.file("clear.bin", b"x");
    let out = scratch.path("out.bin");
    let assert = arca()
        .args([
            "rncryptor",
            "encrypt",
            "--password-stdin",
            "--enc-key",
            ENC_HEX,
        ])
        .args(["--hmac-key", HMAC_HEX])
        .arg(&input)
        .arg(&out)
        .write_stdin("pw")
        .assert();
    assert_failed(&scratch, assert, USAGE, "cannot be used with", &out);
    // Neither, half a key pair, or iterations with keys.
    let invocations: [&[&str]; 4] = [
        &[],
        &["--enc-key", ENC_HEX],
        &["--hmac-key", HMAC_HEX, "--password-stdin"],
        &[
            "--enc-key",
            ENC_HEX,
            "--hmac-key",
            HMAC_HEX,
            "--iterations",
            "5",
        ],
    ];
    for flags in invocations {
        let assert = arca()
            .args(["rncryptor", "encrypt"])
            .args(flags)
            .arg(&input)
            .arg(&out)
            .write_stdin("pw")
            .assert();
        assert_failed(&scratch, assert, USAGE, "error:", &out);
    }
}

#[test]
fn standard_input_is_not_input_in_password_mode() {
    let scratch = Scratch::new();
    let out = scratch.path("out.bin");
    let assert = with_password("encrypt", b"pw", Path::new("-"), &out);
    assert_reported(&scratch, assert, USAGE, "IN cannot be `-`", &out);
}

#[test]
fn help_documents_the_exit_codes() {
    let help = arca().arg("--help").assert().success();
    let help = String::from_utf8(help.get_output().stdout.clone()).unwrap();
    for line in [
        "Exit status:",
        "  0  success",
        "  1  general failure",
        "  2  usage",
        "  3  authentication failed",
        "  4  input malformed",
        "  5  I/O error",
    ] {
        assert!(help.contains(line), "--help lacks {line:?}:\n{help}");
    }
}
