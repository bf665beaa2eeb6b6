//! The name rule: what may name an item, checked on every way into the database and again
//! wherever a name is joined onto a path of the operating system.
//!
//! A name is one path component of 1 to [`MAX_NAME_BYTES`] bytes of UTF-8, without `/`, NUL or
//! any other control character (C0, DEL, C1), and is neither `.` nor `..`. Such a name can be
//! written on every common file system and never leaves the folder it is exported to.
//!
//! Names that come from the operating system (an import) but break the rule are mapped, not
//! refused: bytes that are not UTF-8 and control characters become U+FFFD, and a name made
//! longer than 255 bytes by that is shortened (keeping its extension). The import reports every
//! mapped name with the original bytes escaped.

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// The longest name, in bytes of UTF-8: what common file systems accept, so every item can be
/// exported under its own name.
pub const MAX_NAME_BYTES: usize = 255;

/// Why a name breaks the rule, or `None` if it is a valid name.
fn broken(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name == "." || name == ".." {
        Some("it is reserved")
    } else if name.contains('/') {
        Some("it contains '/'")
    } else if name.contains('\0') {
        Some("it contains a NUL character")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else if name.len() > MAX_NAME_BYTES {
        Some("it is longer than 255 bytes")
    } else {
        None
    }
}

/// Checks that `name` can name an item.
///
/// # Errors
/// [`Error::InvalidName`] naming the reason.
pub fn validate_name(name: &str) -> Result<()> {
    match broken(name) {
        None => Ok(()),
        Some(reason) => Err(Error::InvalidName {
            name: name.to_owned(),
            reason,
        }),
    }
}

/// `folder/name` for a name about to be written to the operating system: checked again (a
/// name that slipped into a database written by an older version or by someone else still
/// cannot leave `folder`).
///
/// # Errors
/// [`Error::InvalidName`].
pub fn join_checked(folder: &Path, name: &str) -> Result<PathBuf> {
    validate_name(name)?;
    let mut components = Path::new(name).components();
    match (components.next(), components.next()) {
        (Some(Component::Normal(_)), None) => Ok(folder.join(name)),
        _ => Err(Error::InvalidName {
            name: name.to_owned(),
            reason: "it is not a single file name",
        }),
    }
}

/// A name from the operating system, mapped to the rule; `None` when it was valid as it was.
pub(crate) struct Mapped {
    pub(crate) name: String,
    /// The original, escaped for people (`\xff`, `\n`), when it had to be changed.
    pub(crate) original: Option<String>,
}

/// Maps a file name of the operating system onto the name rule (see the module docs).
pub(crate) fn map_os_name(os_name: &OsStr) -> Mapped {
    let lossy = os_name.to_string_lossy();
    let cleaned: String = lossy
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    let mut name = shorten(&cleaned);
    if name.is_empty() || name == "." || name == ".." {
        name = "\u{FFFD}".to_owned();
    }
    let changed = os_name.to_str() != Some(name.as_str());
    Mapped {
        original: changed.then(|| escape_bytes(os_name.as_encoded_bytes())),
        name,
    }
}

/// Cuts a name to [`MAX_NAME_BYTES`], keeping a short extension.
fn shorten(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let extension = name
        .rfind('.')
        .filter(|&dot| dot > 0 && name.len() - dot <= 16)
        .map_or("", |dot| &name[dot..]);
    let mut cut = MAX_NAME_BYTES - extension.len();
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{extension}", &name[..cut])
}

/// A name for people: control characters escaped (`\n`, `\u{1b}`), so a hostile name cannot
/// move the cursor or rewrite a terminal line.
pub fn escape_for_display(name: &str) -> String {
    if !name.chars().any(char::is_control) {
        return name.to_owned();
    }
    name.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Bytes as text for people: valid UTF-8 as it is (control characters escaped), any other byte
/// as `\xNN`.
pub(crate) fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_for_display(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule() {
        for good in [
            "a",
            "ä.txt",
            ".hidden",
            "...",
            "a b",
            &"x".repeat(255),
            "日本",
        ] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "/etc/passwd",
            "../escape",
            "nul\0",
            "line\nbreak",
            "bell\u{7}",
            "del\u{7f}",
            "c1\u{85}",
            &"x".repeat(256),
        ] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn joins_only_a_single_component() {
        let folder = Path::new("/target");
        assert_eq!(
            join_checked(folder, "a.txt").unwrap(),
            Path::new("/target/a.txt")
        );
        for bad in ["../x", "/abs", "a/b", "..", "."] {
            assert!(join_checked(folder, bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn os_names_are_mapped_and_reported() {
        use std::os::unix::ffi::OsStrExt;
        let mapped = map_os_name(OsStr::from_bytes(b"caf\xe9\n.txt"));
        assert_eq!(mapped.name, "caf\u{FFFD}\u{FFFD}.txt");
        assert_eq!(mapped.original.as_deref(), Some("caf\\xe9\\n.txt"));
        assert!(validate_name(&mapped.name).is_ok());
        let plain = map_os_name(OsStr::new("plain.txt"));
        assert_eq!(plain.name, "plain.txt");
        assert!(plain.original.is_none());
        // 255 invalid bytes become 765 bytes of U+FFFD: shortened, extension kept.
        let mut long = vec![0xffu8; 251];
        long.extend_from_slice(b".jpg");
        let mapped = map_os_name(OsStr::from_bytes(&long));
        assert!(mapped.name.len() <= MAX_NAME_BYTES && mapped.name.ends_with(".jpg"));
        assert!(validate_name(&mapped.name).is_ok());
    }

    #[test]
    fn display_escapes_control_characters() {
        assert_eq!(escape_for_display("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(escape_for_display("plain"), "plain");
    }
}
