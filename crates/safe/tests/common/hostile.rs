//! Hostile backups: item records whose names break the name rule, written by hand in the
//! documented format (docs/formats/backup.md) and sealed with the backup's own record keys —
//! what anyone who holds a Safe's keys (a shared backup, a Safe received from someone) can do.
//!
//! Self-contained (arca_cryptor, uuid, hex, serde_json, std), so the command line's tests use
//! it too (`#[path]`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use arca_cryptor::{
    CipherKeys, CleartextBuffer, Credentials, Encryptor, Iterations, KeyPurpose, Password,
    SafeKeys, decrypt,
};
use uuid::Uuid;

/// The keys a format-2 backup's records and index are sealed with, from its own key file.
pub fn record_keys(backup: &Path, password: &Password) -> CipherKeys {
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(backup.join("backup.json")).unwrap()).unwrap();
    assert_eq!(manifest["version"], 2, "a backup of format 2 is expected");
    let iterations = u32::try_from(manifest["kdf"]["iterations"].as_u64().unwrap()).unwrap();
    let keys = SafeKeys::read_key_file(
        &backup.join("safe.key"),
        password,
        Iterations::new(iterations).unwrap(),
    )
    .unwrap();
    keys.derived_keys(KeyPurpose::BackupRecords)
}

/// Seals a document as a key-based RNCryptor v3 message.
pub fn seal(keys: &CipherKeys, text: &str) -> Vec<u8> {
    let mut encryptor = Encryptor::new(Credentials::Keys(keys), Vec::new()).unwrap();
    encryptor.write_all(text.as_bytes()).unwrap();
    encryptor.finish().unwrap().0
}

/// Opens a sealed document.
pub fn open(keys: &CipherKeys, sealed: &[u8]) -> Option<String> {
    let bytes = decrypt(Credentials::Keys(keys), sealed, CleartextBuffer::new()).ok()?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// `items/xx/UUID.xml.crypt` of a backup.
pub fn record_path(backup: &Path, id: Uuid) -> PathBuf {
    let name = id.as_hyphenated().to_string();
    backup
        .join("items")
        .join(&name[..2])
        .join(format!("{name}.xml.crypt"))
}

/// `files/xx/UUID.data.crypt` of a backup (or a Safe).
pub fn data_path(root: &Path, id: Uuid) -> PathBuf {
    let name = id.as_hyphenated().to_string();
    root.join("files")
        .join(&name[..2])
        .join(format!("{name}.data.crypt"))
}

/// Every record file of a backup with its UUID.
pub fn record_files(backup: &Path) -> Vec<(Uuid, PathBuf)> {
    let mut out = Vec::new();
    let Ok(shards) = fs::read_dir(backup.join("items")) else {
        return out;
    };
    for shard in shards {
        let shard = shard.unwrap().path();
        if !fs::symlink_metadata(&shard).unwrap().is_dir() {
            continue;
        }
        for entry in fs::read_dir(&shard).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if let Some(id) = name
                .strip_suffix(".xml.crypt")
                .and_then(|stem| Uuid::parse_str(stem).ok())
            {
                out.push((id, path));
            }
        }
    }
    out.sort();
    out
}

/// The text of `<tag>…</tag>` in a document (the first one), raw.
pub fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}");
    let start = xml.find(&open)?;
    let after_open = start + xml[start..].find('>')? + 1;
    let end = after_open + xml[after_open..].find(&format!("</{tag}>"))?;
    Some(&xml[after_open..end])
}

/// An element holding a string as the format writes it: escaped text, or the hex of its UTF-8
/// bytes with `encoding="utf-8-hex"` when XML 1.0 cannot carry it faithfully.
pub fn string_element(tag: &str, value: &str) -> String {
    let needs_hex = value.is_empty()
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
        || value
            .chars()
            .any(|c| c.is_control() && c != '\t' && c != '\n');
    if needs_hex && !value.is_empty() {
        return format!(
            "<{tag} encoding=\"utf-8-hex\">{}</{tag}>",
            hex::encode(value.as_bytes())
        );
    }
    let escaped = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;");
    format!("<{tag}>{escaped}</{tag}>")
}

/// What a file record needs to name a data file that verifies: taken from a real record.
#[derive(Debug, Clone)]
pub struct Template {
    pub size: u64,
    pub hmac_tag: String,
    pub sha256: String,
    /// Its data file in the backup.
    pub data_file: PathBuf,
}

/// The record of the file named `name` in the backup, as a template for hostile file records
/// (its data file is copied for each).
pub fn template(backup: &Path, keys: &CipherKeys, name: &str) -> Template {
    for (id, path) in record_files(backup) {
        let Some(xml) = open(keys, &fs::read(&path).unwrap()) else {
            continue;
        };
        if element(&xml, "name") == Some(name) && element(&xml, "kind") == Some("file") {
            return Template {
                size: element(&xml, "size").unwrap().trim().parse().unwrap(),
                hmac_tag: element(&xml, "hmac-tag").unwrap().trim().to_owned(),
                sha256: element(&xml, "sha256").unwrap().trim().to_owned(),
                data_file: data_path(backup, id),
            };
        }
    }
    panic!("no file named {name:?} in the backup");
}

/// The UUID of the record named `name` in the backup.
pub fn record_id(backup: &Path, keys: &CipherKeys, name: &str) -> Uuid {
    record_files(backup)
        .into_iter()
        .find(|(_, path)| {
            open(keys, &fs::read(path).unwrap())
                .is_some_and(|xml| element(&xml, "name") == Some(name))
        })
        .map(|(id, _)| id)
        .unwrap_or_else(|| panic!("no record named {name:?} in the backup"))
}

/// One record to plant.
#[derive(Debug, Clone)]
pub struct Planted {
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub folder: bool,
    pub name: String,
}

impl Planted {
    pub fn file(name: &str, parent: Option<Uuid>) -> Self {
        Self {
            id: Uuid::new_v4(),
            parent,
            folder: false,
            name: name.to_owned(),
        }
    }

    pub fn folder(name: &str, parent: Option<Uuid>) -> Self {
        Self {
            folder: true,
            ..Self::file(name, parent)
        }
    }
}

/// An item document in the documented format.
pub fn item_xml(record: &Planted, template: &Template) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str("<item format=\"arca-backup-item\" version=\"1\">\n");
    xml.push_str(&format!("  <uuid>{}</uuid>\n", record.id.as_hyphenated()));
    if let Some(parent) = record.parent {
        xml.push_str(&format!("  <parent>{}</parent>\n", parent.as_hyphenated()));
    }
    let kind = if record.folder { "folder" } else { "file" };
    xml.push_str(&format!("  <kind>{kind}</kind>\n"));
    xml.push_str(&format!("  {}\n", string_element("name", &record.name)));
    let size = if record.folder { 0 } else { template.size };
    xml.push_str(&format!("  <size>{size}</size>\n"));
    xml.push_str("  <modified>1700000000123456789</modified>\n");
    xml.push_str("  <added>1700000001000000000</added>\n");
    xml.push_str("  <favorite>false</favorite>\n");
    xml.push_str("  <comment/>\n");
    xml.push_str("  <tags/>\n");
    if !record.folder {
        xml.push_str(&format!("  <hmac-tag>{}</hmac-tag>\n", template.hmac_tag));
        xml.push_str(&format!("  <sha256>{}</sha256>\n", template.sha256));
    }
    xml.push_str("</item>\n");
    xml
}

/// How the index is rewritten after planting.
#[derive(Clone, Copy)]
pub enum IndexMode {
    /// `state="complete"`, every entry with the right SHA-256 (hashed with this function): the
    /// planted records are exactly what "the last complete run" wrote.
    Complete(fn(&[u8]) -> [u8; 32]),
    /// `state="running"` (a run under way): records are accepted without hash checks.
    Running,
}

/// Writes each planted record (and, for files, a copy of the template's data file under its
/// UUID), then rewrites the sealed index to list every record of the backup.
pub fn plant(
    backup: &Path,
    keys: &CipherKeys,
    records: &[Planted],
    template: &Template,
    index: IndexMode,
) {
    for record in records {
        let path = record_path(backup, record.id);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, seal(keys, &item_xml(record, template))).unwrap();
        if !record.folder {
            let data = data_path(backup, record.id);
            fs::create_dir_all(data.parent().unwrap()).unwrap();
            fs::copy(&template.data_file, &data).unwrap();
        }
    }
    rewrite_index(backup, keys, index);
}

/// Rewrites the sealed index so that it lists every record now in the backup.
pub fn rewrite_index(backup: &Path, keys: &CipherKeys, index: IndexMode) {
    let state = match index {
        IndexMode::Complete(_) => "complete",
        IndexMode::Running => "running",
    };
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<index format=\"arca-backup-index\" version=\"1\" state=\"{state}\">\n"
    ));
    for (id, path) in record_files(backup) {
        let Some(text) = open(keys, &fs::read(&path).unwrap()) else {
            continue;
        };
        let hash = match index {
            IndexMode::Complete(sha256) => hex::encode(sha256(text.as_bytes())),
            IndexMode::Running => "00".repeat(32),
        };
        // The name element exactly as the record has it (plain or hex).
        let start = text.find("<name").unwrap();
        let end = start + text[start..].find("</name>").unwrap() + "</name>".len();
        xml.push_str(&format!(
            "  <entry uuid=\"{}\" sha256=\"{hash}\">\n    {}\n  </entry>\n",
            id.as_hyphenated(),
            &text[start..end]
        ));
    }
    xml.push_str("</index>\n");
    fs::write(backup.join("index.xml.crypt"), seal(keys, &xml)).unwrap();
}

/// The hostile names of the tests: each breaks the name rule, and each, joined onto an export
/// folder, would write somewhere else or fail. `absolute` is an absolute path of the test's own
/// (never a system file: the tests run as root).
pub fn hostile_names(absolute: &Path) -> Vec<String> {
    vec![
        "../escape".to_owned(),
        absolute.to_string_lossy().into_owned(),
        "a/b".to_owned(),
        "bell\u{7}and\nnewline.txt".to_owned(),
        "esc\u{1b}[2J.txt".to_owned(),
        "nul\0byte".to_owned(),
        "..".to_owned(),
        ".".to_owned(),
        "x".repeat(300),
        "../../../../../../../../../../tmp/arca-hostile-deep".to_owned(),
    ]
}

/// Every file and folder below `root` (links and special files too, not followed), relative
/// path → what it is and its bytes: what must not change outside an export or restore target.
pub fn snapshot(root: &Path, skip: &[&Path]) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if skip.iter().any(|skipped| path.starts_with(skipped)) {
                continue;
            }
            let metadata = fs::symlink_metadata(&path).unwrap();
            let what = if metadata.is_dir() {
                stack.push(path.clone());
                "folder".to_owned()
            } else if metadata.is_file() {
                format!("file {}", hex::encode(fs::read(&path).unwrap()))
            } else if metadata.file_type().is_symlink() {
                format!("link {}", fs::read_link(&path).unwrap().display())
            } else {
                "special".to_owned()
            };
            out.push((path.strip_prefix(root).unwrap().to_path_buf(), what));
        }
    }
    out.sort();
    out
}
