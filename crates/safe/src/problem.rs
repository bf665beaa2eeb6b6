//! A problem with one item that a job reports and goes on: what kind of problem (for programs),
//! which item (for people), and a sentence.

use uuid::Uuid;

use crate::name::escape_for_display;

/// What went wrong with one item. Stable: programs (the app, scripts reading `--json`) act on
/// it; the sentence beside it is for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// A source could not be read (import), or a folder's entries could not be listed.
    Unreadable,
    /// A source is a symbolic link, device, socket or pipe: not imported.
    NotARegularFile,
    /// A source changed between planning and encrypting (replaced, or turned into another
    /// kind of file): not imported.
    ChangedSinceScan,
    /// A name was changed to follow the name rule (import), or taken and given a suffix
    /// (restore, rebuild).
    Renamed,
    /// Left out on purpose: its name was taken and the person chose to skip.
    Skipped,
    /// A name breaks the name rule (a record written by someone else or an older version).
    InvalidName,
    /// The item's data file is missing.
    DataMissing,
    /// The item's data file is damaged or was modified.
    DataDamaged,
    /// The item's data file is authentic but not the recorded one: swapped or rolled back.
    DataReplaced,
    /// The item's import has not finished.
    Pending,
    /// A backup record (attribute file) cannot be read, or is not valid.
    RecordUnreadable,
    /// A backup record is not the one the last complete run wrote (swapped, rolled back).
    RecordReplaced,
    /// A backup record the index lists is missing.
    RecordMissing,
    /// The backup's index is missing or unreadable.
    IndexUnreadable,
    /// A file that does not belong in a backup, or a temporary file left by a run.
    StrayFile,
    /// The item's folder could not be restored or is not in the backup: restored elsewhere
    /// (the root) or not at all.
    FolderMissing,
    /// Writing the item out failed (an export target that is a link, a file in the way).
    NotWritten,
}

impl ProblemKind {
    /// The kind's name as programs see it (`changed_since_scan`), which is also how the
    /// database stores it.
    pub(crate) fn code(self) -> Option<String> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(code)) => Some(code),
            _ => None,
        }
    }

    /// The kind a stored [`ProblemKind::code`] names; `None` for an unknown one.
    pub(crate) fn from_code(code: &str) -> Option<Self> {
        serde_json::from_value(serde_json::Value::String(code.to_owned())).ok()
    }
}

/// One item a job could not do (or did differently), named as well as the job knows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemProblem {
    /// What kind of problem.
    pub kind: ProblemKind,
    /// The item's UUID, if known.
    pub item: Option<Uuid>,
    /// The item's path in the Safe (`/Photos/a.jpg`), or the source path of an import, if
    /// known.
    pub path: Option<String>,
    /// The file concerned (relative to a backup folder, or a path on this computer), if any.
    pub file: Option<String>,
    /// What is wrong, for people.
    pub problem: String,
}

impl ItemProblem {
    /// A problem of `kind` with the sentence `problem`, naming nothing yet.
    pub(crate) fn new(kind: ProblemKind, problem: impl Into<String>) -> Self {
        Self {
            kind,
            item: None,
            path: None,
            file: None,
            problem: problem.into(),
        }
    }

    pub(crate) fn item(mut self, item: Uuid) -> Self {
        self.item = Some(item);
        self
    }

    pub(crate) fn path(mut self, path: impl Into<Option<String>>) -> Self {
        self.path = path.into();
        self
    }

    pub(crate) fn file(mut self, file: impl Into<Option<String>>) -> Self {
        self.file = file.into();
        self
    }
}

impl std::fmt::Display for ItemProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.path, self.item, &self.file) {
            (Some(path), _, _) => write!(f, "{}: {}", escape_for_display(path), self.problem),
            (None, Some(item), _) => write!(f, "item {item}: {}", self.problem),
            (None, None, Some(file)) => write!(f, "{}: {}", escape_for_display(file), self.problem),
            (None, None, None) => f.write_str(&self.problem),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stored_by_their_json_name() {
        for kind in [
            ProblemKind::Unreadable,
            ProblemKind::ChangedSinceScan,
            ProblemKind::NotARegularFile,
            ProblemKind::NotWritten,
        ] {
            let code = kind.code().unwrap_or_default();
            assert_eq!(
                serde_json::to_string(&kind).unwrap_or_default(),
                format!("{code:?}")
            );
            assert_eq!(ProblemKind::from_code(&code), Some(kind));
        }
        assert_eq!(
            ProblemKind::ChangedSinceScan.code().as_deref(),
            Some("changed_since_scan")
        );
        assert_eq!(ProblemKind::from_code("no_such_kind"), None);
    }
}
