//! The backup's XML documents (an item's attributes, the index), and sealing them as RNCryptor v3
//! key-based messages under the backup's record keys ([`RecordKeys`]).
//!
//! Strings that XML 1.0 cannot carry faithfully (control characters, a carriage return, leading
//! or trailing white space, which parsers may normalise or trim) are written as the hex of
//! their UTF-8 bytes with `encoding="utf-8-hex"`; every other string is plain escaped text.

use std::collections::BTreeMap;
use std::io::Write;

use arca_cryptor::{CleartextBuffer, Encryptor, decrypt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

use super::RecordKeys;
use crate::item::{Content, Item, Kind};
use crate::name::validate_name;

/// The value of an item document's `format` attribute.
pub(crate) const ITEM_FORMAT: &str = "arca-backup-item";
/// The item document version this build writes and the newest it reads.
pub const ITEM_XML_VERSION: u64 = 1;
/// The value of the index document's `format` attribute.
pub(crate) const INDEX_FORMAT: &str = "arca-backup-index";
const INDEX_VERSION: u64 = 1;
const HEX_ENCODING: &str = "utf-8-hex";

/// An item as the backup records it: its attributes and its tag names (sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) item: Item,
    pub(crate) tags: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct TextXml {
    #[serde(rename = "@encoding", default, skip_serializing_if = "Option::is_none")]
    encoding: Option<String>,
    #[serde(rename = "$text", default)]
    text: String,
}

fn needs_hex(text: &str) -> bool {
    text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace)
        || text.chars().any(|c| {
            (c.is_control() && c != '\t' && c != '\n') || c == '\u{FFFE}' || c == '\u{FFFF}'
        })
}

impl TextXml {
    fn new(text: &str) -> Self {
        if needs_hex(text) {
            Self {
                encoding: Some(HEX_ENCODING.to_owned()),
                text: hex::encode(text.as_bytes()),
            }
        } else {
            Self {
                encoding: None,
                text: text.to_owned(),
            }
        }
    }

    fn decode(self) -> Result<String, String> {
        match self.encoding.as_deref() {
            None => Ok(self.text),
            Some(HEX_ENCODING) => hex::decode(self.text.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| "a utf-8-hex string is not valid".to_owned()),
            Some(other) => Err(format!("unknown string encoding {other:?}")),
        }
    }
}

#[derive(Serialize, Deserialize, Default)]
struct TagsXml {
    #[serde(rename = "tag", default)]
    tags: Vec<TextXml>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "item")]
struct ItemXml {
    #[serde(rename = "@format")]
    format: String,
    #[serde(rename = "@version")]
    version: u64,
    uuid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    kind: String,
    name: TextXml,
    size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    modified: Option<i64>,
    added: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    trashed: Option<i64>,
    favorite: bool,
    comment: TextXml,
    #[serde(default)]
    tags: TagsXml,
    #[serde(rename = "hmac-tag", default, skip_serializing_if = "Option::is_none")]
    hmac_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256: Option<String>,
}

#[derive(Deserialize)]
struct VersionOnly {
    #[serde(rename = "@format")]
    format: String,
    #[serde(rename = "@version")]
    version: u64,
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn to_xml<T: Serialize>(value: &T) -> Result<String, String> {
    let mut out = String::from(XML_DECLARATION);
    let mut serializer = quick_xml::se::Serializer::new(&mut out);
    serializer.indent(' ', 2);
    value
        .serialize(serializer)
        .map_err(|error| error.to_string())?;
    out.push('\n');
    Ok(out)
}

fn check_version(xml: &str, format: &str, newest: u64) -> Result<(), String> {
    let version: VersionOnly =
        quick_xml::de::from_str(xml).map_err(|error| format!("not valid XML: {error}"))?;
    if version.format != format {
        return Err(format!("format is {:?}, not {format:?}", version.format));
    }
    if version.version > newest {
        return Err(format!(
            "written by a newer Arca (version {}, this one reads up to {newest})",
            version.version
        ));
    }
    Ok(())
}

impl Record {
    /// The item document.
    pub(crate) fn to_xml(&self) -> Result<String, String> {
        let item = &self.item;
        let has_content = item.kind == Kind::File && item.content == Content::Present;
        to_xml(&ItemXml {
            format: ITEM_FORMAT.to_owned(),
            version: ITEM_XML_VERSION,
            uuid: item.id.as_hyphenated().to_string(),
            parent: item.parent.map(|parent| parent.as_hyphenated().to_string()),
            kind: item.kind.as_str().to_owned(),
            name: TextXml::new(&item.name),
            size: item.size,
            created: item.created_at,
            modified: item.modified_at,
            added: item.added_at,
            trashed: item.trashed_at,
            favorite: item.favorite,
            comment: TextXml::new(&item.comment),
            tags: TagsXml {
                tags: self.tags.iter().map(|tag| TextXml::new(tag)).collect(),
            },
            hmac_tag: item.hmac_tag.filter(|_| has_content).map(hex::encode),
            sha256: item.sha256.filter(|_| has_content).map(hex::encode),
        })
    }

    /// Parses and checks an item document.
    pub(crate) fn from_xml(xml: &str) -> Result<Self, String> {
        check_version(xml, ITEM_FORMAT, ITEM_XML_VERSION)?;
        let parsed: ItemXml =
            quick_xml::de::from_str(xml).map_err(|error| format!("not a valid item: {error}"))?;
        let uuid = |text: &str| {
            Uuid::parse_str(text.trim()).map_err(|_| format!("{text:?} is not a UUID"))
        };
        let kind = Kind::parse(parsed.kind.trim())
            .ok_or_else(|| format!("unknown kind {:?}", parsed.kind))?;
        let digest = |text: &Option<String>| -> Result<Option<[u8; 32]>, String> {
            let Some(text) = text else { return Ok(None) };
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut bytes)
                .map_err(|_| "the HMAC tag or SHA-256 is not valid".to_owned())?;
            Ok(Some(bytes))
        };
        let hmac_tag = digest(&parsed.hmac_tag)?;
        let sha256 = digest(&parsed.sha256)?;
        let content = match (kind, &hmac_tag, &sha256) {
            (Kind::Folder, None, None) => Content::None,
            (Kind::Folder, _, _) => return Err("a folder has content".to_owned()),
            (Kind::File, Some(_), Some(_)) => Content::Present,
            (Kind::File, None, None) => Content::Missing,
            (Kind::File, _, _) => return Err("the HMAC tag or SHA-256 is missing".to_owned()),
        };
        let name = parsed.name.decode()?;
        // The name rule holds for records too: a backup written by someone else never brings
        // a name that would leave the folder it is exported to.
        validate_name(&name).map_err(|error| error.to_string())?;
        let mut tags = parsed
            .tags
            .tags
            .into_iter()
            .map(|tag| {
                let tag = tag.decode()?;
                crate::tags::validate_tag(&tag).map_err(|error| error.to_string())?;
                Ok(tag.trim().to_owned())
            })
            .collect::<Result<Vec<_>, String>>()?;
        tags.sort();
        tags.dedup();
        Ok(Self {
            item: Item {
                id: uuid(&parsed.uuid)?,
                parent: parsed.parent.as_deref().map(uuid).transpose()?,
                kind,
                name,
                size: if kind == Kind::File { parsed.size } else { 0 },
                created_at: parsed.created,
                modified_at: parsed.modified,
                added_at: parsed.added,
                trashed_at: parsed.trashed,
                favorite: parsed.favorite,
                comment: parsed.comment.decode()?,
                content,
                hmac_tag,
                sha256,
            },
            tags,
        })
    }
}

/// What the index says of one item: the SHA-256 of its XML and its name (to name the item if
/// its XML is lost).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub(crate) xml_sha256: [u8; 32],
    pub(crate) name: String,
}

/// Every item in the backup as of the last complete run.
pub(crate) type Index = BTreeMap<Uuid, IndexEntry>;

/// The sealed index: the entries of the last complete run, and (format 2) whether a run has
/// started since, which lets records differ from it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SealedIndex {
    pub(crate) entries: Index,
    /// A run started after the one these entries are from and has not completed.
    pub(crate) run_in_progress: bool,
}

#[derive(Serialize, Deserialize)]
struct EntryXml {
    #[serde(rename = "@uuid")]
    uuid: String,
    #[serde(rename = "@sha256")]
    sha256: String,
    name: TextXml,
}

#[derive(Serialize, Deserialize)]
#[serde(rename = "index")]
struct IndexXml {
    #[serde(rename = "@format")]
    format: String,
    #[serde(rename = "@version")]
    version: u64,
    /// `complete`, or `running` while a run is under way (format 2 on; absent in format 1).
    #[serde(rename = "@state", default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(rename = "entry", default)]
    entries: Vec<EntryXml>,
}

pub(crate) fn index_to_xml(index: &SealedIndex) -> Result<String, String> {
    to_xml(&IndexXml {
        format: INDEX_FORMAT.to_owned(),
        version: INDEX_VERSION,
        state: Some(
            if index.run_in_progress {
                "running"
            } else {
                "complete"
            }
            .to_owned(),
        ),
        entries: index
            .entries
            .iter()
            .map(|(id, entry)| EntryXml {
                uuid: id.as_hyphenated().to_string(),
                sha256: hex::encode(entry.xml_sha256),
                name: TextXml::new(&entry.name),
            })
            .collect(),
    })
}

pub(crate) fn index_from_xml(xml: &str) -> Result<SealedIndex, String> {
    check_version(xml, INDEX_FORMAT, INDEX_VERSION)?;
    let parsed: IndexXml =
        quick_xml::de::from_str(xml).map_err(|error| format!("not a valid index: {error}"))?;
    let run_in_progress = match parsed.state.as_deref() {
        None | Some("complete") => false,
        Some("running") => true,
        Some(other) => return Err(format!("unknown index state {other:?}")),
    };
    let mut index = Index::new();
    for entry in parsed.entries {
        let id = Uuid::parse_str(entry.uuid.trim())
            .map_err(|_| format!("{:?} is not a UUID", entry.uuid))?;
        let mut xml_sha256 = [0u8; 32];
        hex::decode_to_slice(entry.sha256.trim(), &mut xml_sha256)
            .map_err(|_| format!("{:?} is not a SHA-256", entry.sha256))?;
        index.insert(
            id,
            IndexEntry {
                xml_sha256,
                name: entry.name.decode()?,
            },
        );
    }
    Ok(SealedIndex {
        entries: index,
        run_in_progress,
    })
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Seals a document as an RNCryptor v3 key-based message under the record keys.
pub(crate) fn seal(
    keys: &RecordKeys<'_>,
    cleartext: &[u8],
) -> Result<Vec<u8>, arca_cryptor::Error> {
    let mut encryptor = Encryptor::new(keys.credentials(), Vec::new())?;
    encryptor.write_all(cleartext)?;
    Ok(encryptor.finish()?.0)
}

/// Opens a sealed document; it must be authentic and UTF-8.
pub(crate) fn open(keys: &RecordKeys<'_>, sealed: &[u8]) -> Result<Zeroizing<String>, String> {
    let bytes = decrypt(keys.credentials(), sealed, CleartextBuffer::new()).map_err(|_| {
        "does not decrypt with this backup's record keys (modified, damaged, not a record, or from another Safe)".to_owned()
    })?;
    std::str::from_utf8(&bytes)
        .map(|text| Zeroizing::new(text.to_owned()))
        .map_err(|_| "is not UTF-8 text".to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn record(name: &str, comment: &str, tags: &[&str]) -> Record {
        Record {
            item: Item {
                id: Uuid::new_v4(),
                parent: Some(Uuid::new_v4()),
                kind: Kind::File,
                name: name.to_owned(),
                size: 12,
                created_at: Some(-5),
                modified_at: Some(1_700_000_000_123_456_789),
                added_at: 1_700_000_001_000_000_000,
                trashed_at: None,
                favorite: true,
                comment: comment.to_owned(),
                content: Content::Present,
                hmac_tag: Some([0xab; 32]),
                sha256: Some([0xcd; 32]),
            },
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        }
    }

    #[test]
    fn awkward_strings_round_trip() {
        for text in [
            "plain.txt",
            "Zoë & <Ångström> \"quotes\" 'apos' 日本語 🎉",
            " leading space",
            "trailing space ",
            "  ",
            "tab\tinside",
            "line\nbreak",
            "carriage\r\nreturn",
            "\u{1}control\u{7f} (in a comment or tag only)",
            "]]> cdata end",
            "&amp; already escaped",
            "",
        ] {
            // Names and tags follow their rules; comments carry anything.
            let name = if validate_name(text).is_ok() {
                text
            } else {
                "x"
            };
            let tag_ok = crate::tags::validate_tag(text).is_ok_and(|tag| tag == text);
            let mut original = record(name, text, &[if tag_ok { text } else { "y" }, "z"]);
            original.tags.sort();
            let xml = original.to_xml().unwrap();
            let parsed =
                Record::from_xml(&xml).unwrap_or_else(|error| panic!("{text:?}: {error}\n{xml}"));
            assert_eq!(parsed, original, "{text:?}\n{xml}");
        }
    }

    #[test]
    fn folders_and_missing_content() {
        let mut folder = record("f", "", &[]);
        folder.item.kind = Kind::Folder;
        folder.item.size = 0;
        folder.item.parent = None;
        folder.item.content = Content::None;
        folder.item.hmac_tag = None;
        folder.item.sha256 = None;
        folder.item.created_at = None;
        assert_eq!(Record::from_xml(&folder.to_xml().unwrap()).unwrap(), folder);
        let mut missing = record("m", "", &[]);
        missing.item.content = Content::Missing;
        let parsed = Record::from_xml(&missing.to_xml().unwrap()).unwrap();
        assert_eq!(parsed.item.content, Content::Missing);
        assert_eq!(parsed.item.hmac_tag, None);
    }

    #[test]
    fn newer_and_foreign_documents_are_refused() {
        let xml = record("a", "", &[]).to_xml().unwrap();
        let newer = xml.replace("version=\"1\"", "version=\"2\"");
        assert!(Record::from_xml(&newer).unwrap_err().contains("newer"));
        let foreign = xml.replace(ITEM_FORMAT, "something-else");
        assert!(Record::from_xml(&foreign).is_err());
    }

    #[test]
    fn index_round_trips() {
        let mut index = SealedIndex::default();
        index.entries.insert(
            Uuid::new_v4(),
            IndexEntry {
                xml_sha256: [7; 32],
                name: " odd\u{2} name".to_owned(),
            },
        );
        index.entries.insert(
            Uuid::new_v4(),
            IndexEntry {
                xml_sha256: [9; 32],
                name: "b".to_owned(),
            },
        );
        assert_eq!(
            index_from_xml(&index_to_xml(&index).unwrap()).unwrap(),
            index
        );
        index.run_in_progress = true;
        assert_eq!(
            index_from_xml(&index_to_xml(&index).unwrap()).unwrap(),
            index
        );
        assert!(
            index_from_xml(&index_to_xml(&SealedIndex::default()).unwrap())
                .unwrap()
                .entries
                .is_empty()
        );
    }
}
