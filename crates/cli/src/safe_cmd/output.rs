//! What commands print: text for people, JSON for scripts (`--json`), and the formatting of
//! sizes and times both share.

use std::io::{self, Write};

use arca_safe::{Content, Item, Kind, Safe, escape_for_display};
use serde::Serialize;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::fail;

/// Writes `bytes` to standard output. A reader that went away (`arca ls … | head`) is not an
/// error: it has what it wanted.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context("cannot write to standard output"),
            "check where standard output goes (a full disk?)",
        )),
    }
}

/// Writes what an action did (`imported 3 files …`) to standard output, unless `--quiet`.
pub fn summary(text: &str) -> Result<(), Failure> {
    if crate::say::quiet() {
        return Ok(());
    }
    write_stdout(text.as_bytes())
}

/// Prints `value` as pretty JSON and a line break.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(|error| {
        Failure::new(
            Exit::General,
            error,
            "this is a bug in arca: every listing can be written as JSON",
        )
    })?;
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// An item with its path from the Safe's root and its tags: one row of `ls`, `stat`, `search`
/// and `trash list`, in JSON. Times are nanoseconds since the Unix epoch, as in the library.
#[derive(Serialize)]
pub struct Entry {
    /// The path from the Safe's root.
    pub path: String,
    /// Every attribute of the item.
    #[serde(flatten)]
    pub item: Item,
    /// Its tags, sorted.
    pub tags: Vec<String>,
}

impl Entry {
    /// The entry for `item`, looking up its path and tags.
    pub fn new(safe: &Safe, item: Item) -> Result<Self, Failure> {
        let path = safe
            .path_of(item.id)
            .map_err(fail(format!("cannot find the path of item {}", item.id)))?;
        Self::at(safe, path, item)
    }

    /// The entry for `item` at a known `path`.
    pub fn at(safe: &Safe, path: String, item: Item) -> Result<Self, Failure> {
        let tags = safe
            .tags_of(item.id)
            .map_err(fail(format!("cannot read the tags of {path}")))?;
        Ok(Self { path, item, tags })
    }

    /// The entry without its tags, for text that does not show them.
    pub fn bare(path: String, item: Item) -> Self {
        Self {
            path,
            item,
            tags: Vec::new(),
        }
    }

    /// One line for people: size, modification time, path (folders end in '/'). Control
    /// characters in names are escaped, so a hostile name cannot rewrite the terminal.
    pub fn line(&self, shown: &str) -> String {
        let shown = escape_for_display(shown);
        let shown = shown.as_str();
        let size = match self.item.kind {
            Kind::Folder => "-".to_owned(),
            Kind::File => human_size(self.item.size),
        };
        let slash = if self.item.kind == Kind::Folder && !shown.ends_with('/') {
            "/"
        } else {
            ""
        };
        let trashed = if self.item.trashed_at.is_some() {
            "  (in the trash)"
        } else {
            match self.item.content {
                Content::Missing => "  (CONTENT MISSING: restore it from a backup)",
                // Recorded by another device, whose data file the next sync brings; an
                // import's own pending files have no tag yet.
                Content::Pending if self.item.hmac_tag.is_some() => {
                    "  (on another device: comes with a sync)"
                }
                Content::Pending => "  (import not finished)",
                _ => "",
            }
        };
        format!(
            "{size:>10}  {}  {shown}{slash}{trashed}\n",
            time_or_dash(self.item.modified_at)
        )
    }
}

/// "1 file", "2 files": a count with its noun.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// "no problems", "1 problem", "N problems".
pub fn problems(count: usize) -> String {
    match count {
        0 => "no problems".to_owned(),
        1 => "1 problem".to_owned(),
        n => format!("{n} problems"),
    }
}

/// A size for people: bytes below 1 KiB, else binary units with one decimal.
pub fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else {
        indicatif::BinaryBytes(bytes).to_string()
    }
}

/// A time (nanoseconds since the epoch) as `YYYY-MM-DD HH:MM:SS` in UTC, or `-`.
pub fn time_or_dash(nanos: Option<i64>) -> String {
    nanos.map_or_else(|| "-".to_owned(), utc)
}

/// Nanoseconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn utc(nanos: i64) -> String {
    let t = arca_safe::UtcTime::from_ns(nanos);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400_000_000_000), "2000-02-29 00:00:00");
        assert_eq!(utc(1_700_000_000_123_456_789), "2023-11-14 22:13:20");
        assert_eq!(utc(-1_000_000_000), "1969-12-31 23:59:59");
        assert_eq!(time_or_dash(None), "-");
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.50 KiB");
    }
}
