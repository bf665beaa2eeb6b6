//! The library's types as the window sees them: ids as strings, times in milliseconds, no tag
//! or hash of a data file.

use arca_safe::{Content as LibContent, Item, Kind as LibKind, Page as LibPage, Row as LibRow};
use uuid::Uuid;

use crate::dto::{AppError, Content, ErrorKind, Kind, Page, PreviewKind, Row};

/// Nanoseconds since the epoch → milliseconds (safe in JavaScript).
pub fn ms(nanos: i64) -> i64 {
    nanos.div_euclid(1_000_000)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}

pub fn kind(kind: LibKind) -> Kind {
    match kind {
        LibKind::File => Kind::File,
        LibKind::Folder => Kind::Folder,
    }
}

/// Where an item's content stands. A pending file with a recorded tag is not being imported:
/// another device has its data, and a sync brings it.
pub fn content(item: &Item) -> Content {
    match item.content {
        LibContent::None => Content::None,
        LibContent::Pending if waiting(item) => Content::Waiting,
        LibContent::Pending => Content::Pending,
        LibContent::Present => Content::Present,
        LibContent::Missing => Content::Missing,
    }
}

/// A file whose data has not arrived from another device yet.
pub fn waiting(item: &Item) -> bool {
    item.kind == LibKind::File && item.content == LibContent::Pending && item.hmac_tag.is_some()
}

/// Refuses to open a file that waits for its data from another device.
pub fn refuse_waiting(item: &Item) -> Result<(), AppError> {
    if waiting(item) {
        return Err(AppError::new(
            ErrorKind::WaitingForSync,
            format!(
                "{}: its data has not arrived from another device yet; it opens once a sync brings it",
                item.name
            ),
        ));
    }
    Ok(())
}

pub fn row(item: Item, tags: Vec<String>) -> Row {
    let content = content(&item);
    Row {
        id: item.id.to_string(),
        parent: item.parent.map(|parent| parent.to_string()),
        name: item.name,
        kind: kind(item.kind),
        size: item.size,
        modified_ms: item.modified_at.map(ms),
        added_ms: ms(item.added_at),
        trashed_ms: item.trashed_at.map(ms),
        favorite: item.favorite,
        tags,
        content,
    }
}

pub fn lib_row(row: LibRow) -> Row {
    self::row(row.item, row.tags)
}

pub fn page(page: LibPage) -> Page {
    Page {
        total: u32::try_from(page.total).unwrap_or(u32::MAX),
        offset: u32::try_from(page.offset).unwrap_or(u32::MAX),
        rows: page.rows.into_iter().map(lib_row).collect(),
    }
}

/// An item id from the window.
pub fn id(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text).map_err(|_| AppError::invalid(format!("{text:?} is not an item id")))
}

pub fn ids(texts: &[String]) -> Result<Vec<Uuid>, AppError> {
    texts.iter().map(|text| id(text)).collect()
}

/// A folder id from the window; `None` is the root.
pub fn folder(text: Option<&str>) -> Result<Option<Uuid>, AppError> {
    text.map(id).transpose()
}

/// The preview the window can show for a file name, by its extension.
pub fn preview_kind(name: &str) -> PreviewKind {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" | "png" | "gif" | "webp" | "bmp" | "svg" | "avif" => PreviewKind::Image,
        "txt" | "md" | "csv" | "json" | "log" | "xml" | "yaml" | "yml" | "toml" | "ini" | "rs"
        | "py" | "js" | "ts" | "html" | "css" | "sh" | "c" | "h" | "java" | "go" => {
            PreviewKind::Text
        }
        "pdf" => PreviewKind::Pdf,
        "mp3" | "ogg" | "oga" | "opus" | "wav" | "flac" | "m4a" | "aac" => PreviewKind::Audio,
        "mp4" | "m4v" | "webm" | "mkv" | "mov" | "ogv" => PreviewKind::Video,
        _ => PreviewKind::None,
    }
}

/// The MIME type a preview is served with.
pub fn mime(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "bmp" => "image/bmp",
        "avif" => "image/avif",
        // An SVG is shown as an image only (img-src), where it cannot run scripts.
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "opus" => "audio/opus",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "m4a" | "aac" => "audio/mp4",
        "mp4" | "m4v" => "video/mp4",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "mov" => "video/quicktime",
        "ogv" => "video/ogg",
        _ if preview_kind(name) == PreviewKind::Text => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_cross_as_milliseconds_and_kinds_follow_extensions() {
        assert_eq!(ms(1_700_000_000_123_456_789), 1_700_000_000_123);
        assert_eq!(ms(-1), -1);
        assert_eq!(preview_kind("Beach.JPG"), PreviewKind::Image);
        assert_eq!(preview_kind("clip.webm"), PreviewKind::Video);
        assert_eq!(preview_kind("notes"), PreviewKind::None);
        assert_eq!(mime("a.pdf"), "application/pdf");
        assert!(id("not an id").is_err());
    }

    #[test]
    fn a_pending_file_with_a_recorded_tag_waits_for_sync_and_an_importing_one_does_not() {
        let mut item = Item {
            id: Uuid::new_v4(),
            parent: None,
            kind: LibKind::File,
            name: "scan.pdf".to_owned(),
            size: 10,
            created_at: None,
            modified_at: None,
            added_at: 0,
            trashed_at: None,
            favorite: false,
            comment: String::new(),
            content: LibContent::Pending,
            hmac_tag: None,
            sha256: None,
        };
        assert_eq!(content(&item), Content::Pending);
        assert!(refuse_waiting(&item).is_ok());
        item.hmac_tag = Some([7; 32]);
        assert_eq!(content(&item), Content::Waiting);
        let refused = refuse_waiting(&item).err().map(|error| error.kind);
        assert_eq!(refused, Some(ErrorKind::WaitingForSync));
        item.content = LibContent::Present;
        assert_eq!(content(&item), Content::Present);
    }
}
