//! Items (files and folders) and their attributes, as stored and as logged.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// File or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A file with content in a data file.
    File,
    /// A folder: a row only, never a directory on disk.
    Folder,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Folder => "folder",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "file" => Some(Self::File),
            "folder" => Some(Self::Folder),
            _ => None,
        }
    }
}

/// Where a file's content stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Content {
    /// Folders have none.
    None,
    /// Recorded by an import whose data file is not durable yet.
    Pending,
    /// The data file is in place with the recorded tag.
    Present,
    /// The data file was found missing or damaged.
    Missing,
}

impl rusqlite::ToSql for Kind {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl rusqlite::ToSql for Content {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl Content {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Pending => "pending",
            Self::Present => "present",
            Self::Missing => "missing",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Self> {
        match text {
            "none" => Some(Self::None),
            "pending" => Some(Self::Pending),
            "present" => Some(Self::Present),
            "missing" => Some(Self::Missing),
            _ => None,
        }
    }
}

/// Every attribute of an item. Times are nanoseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// The item's UUID; a file's data file is named by it.
    pub id: Uuid,
    /// The containing folder, `None` at the root.
    pub parent: Option<Uuid>,
    /// File or folder.
    pub kind: Kind,
    /// The name as given (not normalised).
    pub name: String,
    /// Cleartext size in bytes (0 for folders).
    pub size: u64,
    /// Creation time of the original, if known.
    pub created_at: Option<i64>,
    /// Modification time.
    pub modified_at: Option<i64>,
    /// When it entered the Safe.
    pub added_at: i64,
    /// When it was moved to the trash.
    pub trashed_at: Option<i64>,
    /// Marked as favorite.
    pub favorite: bool,
    /// Free-text comment.
    pub comment: String,
    /// Content state.
    pub content: Content,
    /// The data file's trailing HMAC tag (hex in JSON).
    #[serde(with = "crate::hex32::option")]
    pub hmac_tag: Option<[u8; 32]>,
    /// SHA-256 of the cleartext (hex in JSON).
    #[serde(with = "crate::hex32::option")]
    pub sha256: Option<[u8; 32]>,
}

#[cfg(test)]
impl Item {
    /// An item at the root with nothing but its kind and name, for tests.
    pub(crate) fn bare(kind: Kind, name: &str) -> Self {
        Self {
            id: Uuid::new_v4(),
            parent: None,
            kind,
            name: name.to_owned(),
            size: 0,
            created_at: None,
            modified_at: None,
            added_at: 0,
            trashed_at: None,
            favorite: false,
            comment: String::new(),
            content: match kind {
                Kind::File => Content::Missing,
                Kind::Folder => Content::None,
            },
            hmac_tag: None,
            sha256: None,
        }
    }
}

/// A change to some of an item's fields; `None` leaves a field as it is. Nullable fields are
/// `Some(None)` to clear them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemUpdate {
    /// New parent folder.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "set_or_clear"
    )]
    pub parent: Option<Option<Uuid>>,
    /// New name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// New size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// New modification time.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "set_or_clear"
    )]
    pub modified_at: Option<Option<i64>>,
    /// Trashed (`Some(Some(t))`) or restored (`Some(None)`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "set_or_clear"
    )]
    pub trashed_at: Option<Option<i64>>,
    /// Favorite flag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favorite: Option<bool>,
    /// Comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Content state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Data file tag.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::hex32::nested"
    )]
    pub hmac_tag: Option<Option<[u8; 32]>>,
    /// Cleartext SHA-256.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::hex32::nested"
    )]
    pub sha256: Option<Option<[u8; 32]>>,
}

/// A field that is absent (left as it is), `null` (cleared) or a value: serde alone reads
/// `null` as absent, which would turn a restore from the trash into no change at all.
fn set_or_clear<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The key two names clash on: Unicode NFC, so "é" typed two ways is one name.
pub(crate) fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.nfc().collect()
}
