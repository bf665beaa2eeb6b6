//! Secrets as the command line receives them: a password on standard input or typed at a
//! no-echo prompt on the terminal, two secrets on two lines of standard input, keys in hex.
//!
//! Every buffer that holds secret bytes is zeroized when dropped, including the ones left behind
//! when a buffer grows.

use std::io::{self, IsTerminal, Read};

use arca_cryptor::{CipherKeys, EncryptionKey, HmacKey, Password, RecoveryKey};
use zeroize::{Zeroize, Zeroizing};

use crate::exit::{Exit, Failure};

/// How many hex digits a 32-byte key has.
const KEY_HEX_DIGITS: usize = 64;

/// Reads the password: all of standard input minus one trailing line break (`\n` or `\r\n`),
/// taken exactly as given otherwise (no trimming, no Unicode normalisation).
pub fn read_password_stdin() -> Result<Password, Failure> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("arca: reading the password from standard input; end it with Ctrl-D");
    }
    let bytes = unbuffered_stdin()
        .and_then(read_all_zeroizing)
        .map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context("cannot read the password from standard input"),
                "pipe the password into arca, e.g. `arca … --password-stdin … < password-file`",
            )
        })?;
    password_from_bytes(bytes)
}

/// Reads two secrets from standard input: the first line (the current password or the
/// recovery key) and the rest minus one trailing line break (the new password).
pub fn read_two_secrets_stdin(first: &str) -> Result<(Password, Password), Failure> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "arca: reading {first} (line 1) and the new password (line 2) from standard input; \
             end them with Ctrl-D"
        );
    }
    let bytes = unbuffered_stdin()
        .and_then(read_all_zeroizing)
        .map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context("cannot read the secrets from standard input"),
                format!("pipe {first} and the new password into arca, one per line"),
            )
        })?;
    two_secrets_from_bytes(bytes, first)
}

/// Splits all of standard input at its first line break.
fn two_secrets_from_bytes(
    mut bytes: Zeroizing<Vec<u8>>,
    first: &str,
) -> Result<(Password, Password), Failure> {
    let Some(line_end) = bytes.iter().position(|&byte| byte == b'\n') else {
        return Err(Failure::usage(
            format!("standard input holds one line, but {first} and a new password are needed"),
            format!("give {first} on line 1 and the new password on line 2"),
        ));
    };
    let second = Zeroizing::new(bytes[line_end + 1..].to_vec());
    let first_len = if line_end > 0 && bytes[line_end - 1] == b'\r' {
        line_end - 1
    } else {
        line_end
    };
    bytes.truncate(first_len);
    Ok((password_from_bytes(bytes)?, password_from_bytes(second)?))
}

/// Reads one secret typed at a no-echo prompt on the terminal. Standard input must be a
/// terminal: a script gives its secrets with `--password-stdin` instead, and is never left
/// waiting on a prompt it cannot see.
pub fn prompt(prompt: &str) -> Result<Password, Failure> {
    if !io::stdin().is_terminal() {
        return Err(Failure::usage(
            "no terminal to ask for the password on (standard input is not a terminal)",
            "pass --password-stdin and pipe the password into arca (see `arca help COMMAND`)",
        ));
    }
    eprint!("{prompt}");
    let typed = read_line_without_echo().map_err(|error| {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context("cannot read the password from the terminal"),
            "type it at the prompt, or pass --password-stdin and pipe it into arca",
        )
    });
    eprintln!();
    let mut bytes = typed?;
    if bytes.last() == Some(&b'\n') {
        let kept = bytes.len() - 1;
        bytes.truncate(kept);
    }
    password_from_bytes(bytes)
}

/// Reads one line from the terminal on standard input with echo off, into a buffer that
/// leaves no copy of what was typed behind (a `String` read line by line would, each time it
/// grows). Echo is restored whatever happens.
fn read_line_without_echo() -> io::Result<Zeroizing<Vec<u8>>> {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = io::stdin();
    let saved = tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    tcsetattr(&stdin, OptionalActions::Flush, &quiet)?;
    let read = unbuffered_stdin().and_then(read_line_zeroizing);
    let restored = tcsetattr(&stdin, OptionalActions::Flush, &saved);
    let line = read?;
    restored?;
    Ok(line)
}

/// Reads up to and including the first line break, one byte at a time (a terminal in line
/// mode hands over whole lines anyway), growing without leaving copies.
fn read_line_zeroizing(mut reader: impl Read) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut line = Zeroizing::new(Vec::with_capacity(256));
    let mut byte = Zeroizing::new([0u8; 1]);
    loop {
        match reader.read(&mut byte[..]) {
            Ok(0) => return Ok(line),
            Ok(_) => {}
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
        if line.len() == line.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(2 * line.capacity()));
            grown.extend_from_slice(&line);
            line = grown;
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            return Ok(line);
        }
    }
}

/// Reads a new password typed twice at no-echo prompts; the two entries must be the same.
pub fn prompt_new(what: &str) -> Result<Password, Failure> {
    let first = prompt(&format!("New {what}: "))?;
    let again = prompt(&format!("Repeat the new {what}: "))?;
    if first.expose_for_strength_meter() != again.expose_for_strength_meter() {
        return Err(Failure::usage(
            "the two entries of the new password differ; nothing was changed",
            "run the command again and type the same password twice",
        ));
    }
    Ok(first)
}

/// The password in `bytes` (all of standard input), without one trailing line break.
fn password_from_bytes(mut bytes: Zeroizing<Vec<u8>>) -> Result<Password, Failure> {
    // Truncating keeps the capacity, which `Password` zeroizes as a whole when dropped.
    let line_break = if bytes.ends_with(b"\r\n") {
        2
    } else {
        usize::from(bytes.ends_with(b"\n"))
    };
    let kept = bytes.len() - line_break;
    bytes.truncate(kept);
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Password::new(text)),
        Err(error) => {
            let position = error.utf8_error().valid_up_to();
            error.into_bytes().zeroize();
            Err(Failure::usage(
                format!(
                    "the password on standard input is not valid UTF-8 (at byte {})",
                    position + 1
                ),
                "passwords are text; give it in UTF-8 (RNCryptor derives keys from its UTF-8 bytes)",
            ))
        }
    }
}

/// Standard input without Rust's buffer: `io::stdin()` keeps the last 8 KiB it read for the
/// life of the process, secrets included, where nothing can wipe them.
fn unbuffered_stdin() -> io::Result<std::fs::File> {
    use std::os::fd::AsFd;
    Ok(std::fs::File::from(
        io::stdin().as_fd().try_clone_to_owned()?,
    ))
}

/// Reads everything from `reader` into a zeroizing buffer. When the buffer must grow, the
/// contents move to a new zeroizing buffer, so no unzeroized copy is left behind.
fn read_all_zeroizing(mut reader: impl Read) -> io::Result<Zeroizing<Vec<u8>>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(1024));
    let mut chunk = Zeroizing::new([0u8; 1024]);
    loop {
        let read = match reader.read(&mut chunk[..]) {
            Ok(0) => return Ok(bytes),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if bytes.len() + read > bytes.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(2 * (bytes.len() + read)));
            grown.extend_from_slice(&bytes);
            bytes = grown;
        }
        bytes.extend_from_slice(&chunk[..read]);
    }
}

/// The recovery key in `typed`, as a person typed it (dashes, spaces and case do not matter).
/// A typo is named without repeating the key.
pub fn recovery_key(typed: &Password) -> Result<RecoveryKey, Failure> {
    // The one accessor of a password's text; here it feeds the recovery key parser.
    match RecoveryKey::parse(typed.expose_for_strength_meter()) {
        Ok(key) => Ok(key),
        Err(arca_cryptor::Error::RecoveryKeyTypo(typo)) => Err(Failure::usage(
            format!("this is not a recovery key: {typo}; nothing was changed"),
            "type the recovery key exactly as it was written down",
        )),
        Err(other) => Err(Failure::new(
            Exit::General,
            other,
            "try again; if it keeps failing, report it",
        )),
    }
}

/// Decodes a 32-byte key given as 64 hex digits to the flag `flag`. The text is zeroized. The
/// error names the flag and what is wrong, but never repeats the text.
fn decode_key(flag: &str, mut hex_text: String) -> Result<Zeroizing<[u8; 32]>, Failure> {
    let mut key = Zeroizing::new([0u8; 32]);
    let not_hex = hex_text.chars().position(|c| !c.is_ascii_hexdigit());
    let digits = hex_text.chars().count();
    let problem = match not_hex {
        Some(index) => Some(format!("character {} is not a hex digit", index + 1)),
        None if digits != KEY_HEX_DIGITS => Some(format!("it has {digits} characters")),
        None => hex::decode_to_slice(hex_text.as_bytes(), &mut key[..])
            .err()
            .map(|error| error.to_string()),
    };
    hex_text.zeroize();
    match problem {
        None => Ok(key),
        Some(problem) => Err(Failure::usage(
            format!("{flag} must be exactly {KEY_HEX_DIGITS} hex digits (32 bytes), but {problem}"),
            format!("give {flag} as 64 characters 0-9 and a-f (or A-F), without spaces or 0x"),
        )),
    }
}

fn key_failure(error: arca_cryptor::Error) -> Failure {
    Failure::new(
        Exit::General,
        error,
        "this is a bug in arca: a decoded key is always 32 bytes",
    )
}

/// The two keys in the text of a keys file: the encryption key on the first line, the HMAC
/// key on the second, each as 64 hex digits (surrounding white space ignored).
fn keys_from_text(mut bytes: Zeroizing<Vec<u8>>, source: &str) -> Result<CipherKeys, Failure> {
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(_) => {
            bytes.zeroize();
            return Err(Failure::usage(
                format!("{source} is not text"),
                "give the two keys as 64 hex digits each, one per line",
            ));
        }
    };
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let (Some(encryption), Some(hmac), None) = (lines.next(), lines.next(), lines.next()) else {
        return Err(Failure::usage(
            format!("{source} must hold exactly two lines: the AES-256 key, then the HMAC key"),
            "give each key as 64 hex digits on a line of its own",
        ));
    };
    Ok(CipherKeys::new(
        encryption_key(encryption.to_owned())?,
        hmac_key(hmac.to_owned())?,
    ))
}

/// The keys of a key-based message from a keys file.
pub fn keys_from_file(path: &std::path::Path) -> Result<CipherKeys, Failure> {
    let file = std::fs::File::open(path).map_err(|error| {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error)
                .context(format!("cannot read the keys file '{}'", path.display())),
            "check the path of --keys-file",
        )
    })?;
    let bytes = read_all_zeroizing(file.take(4096)).map_err(|error| {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error)
                .context(format!("cannot read the keys file '{}'", path.display())),
            "check the path of --keys-file",
        )
    })?;
    keys_from_text(bytes, "the keys file")
}

/// The keys of a key-based message from standard input.
pub fn keys_from_stdin() -> Result<CipherKeys, Failure> {
    let bytes = unbuffered_stdin()
        .and_then(|stdin| read_all_zeroizing(stdin.take(4096)))
        .map_err(|error| {
            Failure::new(
                Exit::Io,
                anyhow::Error::new(error).context("cannot read the keys from standard input"),
                "pipe the two keys into arca, one per line",
            )
        })?;
    keys_from_text(bytes, "standard input")
}

/// The encryption key given to `--enc-key`.
pub fn encryption_key(hex_text: String) -> Result<EncryptionKey, Failure> {
    let bytes = decode_key("--enc-key", hex_text)?;
    EncryptionKey::from_slice(&bytes[..]).map_err(key_failure)
}

/// The HMAC key given to `--hmac-key`.
pub fn hmac_key(hex_text: String) -> Result<HmacKey, Failure> {
    let bytes = decode_key("--hmac-key", hex_text)?;
    HmacKey::from_slice(&bytes[..]).map_err(key_failure)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn password(input: &[u8]) -> String {
        let password = password_from_bytes(Zeroizing::new(input.to_vec())).unwrap();
        password.expose_for_strength_meter().to_owned()
    }

    #[test]
    fn one_trailing_line_break_is_removed() {
        assert_eq!(password(b"pw"), "pw");
        assert_eq!(password(b"pw\n"), "pw");
        assert_eq!(password(b"pw\r\n"), "pw");
        assert_eq!(password(b"pw\n\n"), "pw\n");
        assert_eq!(password(b"pw\r\n\r\n"), "pw\r\n");
        assert_eq!(password(b"pw\r"), "pw\r");
        assert_eq!(password(b" a b: c \n"), " a b: c ");
        assert_eq!(password(b"\n"), "");
    }

    fn two(input: &[u8]) -> Option<(String, String)> {
        let (first, second) =
            two_secrets_from_bytes(Zeroizing::new(input.to_vec()), "the old password").ok()?;
        Some((
            first.expose_for_strength_meter().to_owned(),
            second.expose_for_strength_meter().to_owned(),
        ))
    }

    #[test]
    fn two_secrets_are_split_at_the_first_line_break() {
        let pair = |a: &str, b: &str| Some((a.to_owned(), b.to_owned()));
        assert_eq!(two(b"old\nnew"), pair("old", "new"));
        assert_eq!(two(b"old\nnew\n"), pair("old", "new"));
        assert_eq!(two(b"old\r\nnew\r\n"), pair("old", "new"));
        assert_eq!(two(b" old \n new two\n\n"), pair(" old ", " new two\n"));
        assert_eq!(two(b"\nnew"), pair("", "new"));
        assert_eq!(two(b"only one line"), None);
        assert_eq!(two(b"old\n\xff"), None);
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(password_from_bytes(Zeroizing::new(b"ab\xff".to_vec())).is_err());
    }

    #[test]
    fn a_typed_line_ends_at_its_line_break() {
        let line = read_line_zeroizing(&b"a long passphrase\nnext"[..]).unwrap();
        assert_eq!(&line[..], b"a long passphrase\n");
        let long = "x".repeat(1000);
        let line = read_line_zeroizing(long.as_bytes()).unwrap();
        assert_eq!(&line[..], long.as_bytes());
    }

    #[test]
    fn reading_grows_past_the_first_buffer() {
        let input: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let read = read_all_zeroizing(&input[..]).unwrap();
        assert_eq!(&read[..], &input[..]);
    }

    #[test]
    fn keys_must_be_64_hex_digits() {
        assert!(decode_key("--enc-key", "ab".repeat(32)).is_ok());
        assert!(decode_key("--enc-key", "AB".repeat(32)).is_ok());
        assert!(decode_key("--enc-key", "ab".repeat(31)).is_err());
        assert!(decode_key("--enc-key", format!("{}zz", "ab".repeat(31))).is_err());
        assert!(decode_key("--enc-key", format!("{}éa", "ab".repeat(31))).is_err());
    }
}
