//! Previews and thumbnails, served to the window through the `arca:` scheme straight from the
//! Safe, decrypted in memory: nothing is written to disk. A file is read through
//! [`arca_safe::FileReader`], which checks every MiB it reads against the hashes recorded in
//! the database, so a range request (seeking in a video) decrypts only what it returns.
//!
//! URLs: `arca://localhost/preview/<token>/<item>` and `…/thumbnail/<token>/<item>` (on
//! Windows `http://arca.localhost/…`). The token is new at every unlock: after a lock (or for
//! anyone guessing), every URL is dead.

use std::collections::VecDeque;
use std::io::{Read, Seek, SeekFrom};

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::convert;
use crate::dto::PreviewKind;
use crate::state::AppState;

/// The scheme's name.
pub const SCHEME: &str = "arca";
/// At most this much of a file in one answer to a range: a player asks for the rest.
const MAX_RESPONSE: u64 = 8 * 1024 * 1024;
/// The largest file sent whole, to a request without a range (a PDF or text preview reads
/// the whole file with `fetch()`).
const MAX_WHOLE: u64 = 256 * 1024 * 1024;
/// Files larger than this get no thumbnail (decoding them would cost more than it shows).
const MAX_THUMBNAIL_SOURCE: u64 = 64 * 1024 * 1024;
/// Thumbnails kept in memory (about 20 KB each).
const THUMBNAILS_KEPT: usize = 600;
/// The longest side of a thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 160;

/// The base of every URL of the scheme.
pub fn base() -> &'static str {
    if cfg!(windows) {
        "http://arca.localhost"
    } else {
        "arca://localhost"
    }
}

/// Thumbnails made since the unlock, newest last; forgotten on lock.
#[derive(Default)]
pub struct Thumbnails(VecDeque<(Uuid, std::sync::Arc<Vec<u8>>)>);

impl Thumbnails {
    fn get(&self, id: Uuid) -> Option<std::sync::Arc<Vec<u8>>> {
        self.0
            .iter()
            .find(|(item, _)| *item == id)
            .map(|(_, bytes)| std::sync::Arc::clone(bytes))
    }

    fn put(&mut self, id: Uuid, bytes: std::sync::Arc<Vec<u8>>) {
        self.0.retain(|(item, _)| *item != id);
        self.0.push_back((id, bytes));
        while self.0.len() > THUMBNAILS_KEPT {
            self.0.pop_front();
        }
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// Answers one request of the scheme, on a thread of its own.
pub fn handle<R: Runtime>(
    context: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = context.app_handle().clone();
    let origin = window_origin(&app, context.webview_label());
    std::thread::spawn(move || {
        let mut response = respond(&app, &request).unwrap_or_else(plain);
        // The page (`tauri://localhost`, or the dev server) reads text and PDF previews with
        // `fetch()`, a cross-origin request to this scheme: without this header WebKit refuses
        // it ("Load failed"). Images and media elements load without CORS and never needed it.
        if let Some(origin) = origin.and_then(|o| header::HeaderValue::from_str(&o).ok()) {
            response
                .headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        responder.respond(response);
    });
}

/// The origin of the page in the webview that asked: its URL's scheme, host and port.
fn window_origin<R: Runtime>(app: &tauri::AppHandle<R>, label: &str) -> Option<String> {
    let url = app.get_webview_window(label)?.url().ok()?;
    let host = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    })
}

fn plain(status: StatusCode) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Vec::new())
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

fn respond<R: Runtime>(
    app: &tauri::AppHandle<R>,
    request: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, StatusCode> {
    let state = app.state::<AppState>();
    let opened = state.opened().map_err(|_| StatusCode::FORBIDDEN)?;
    let mut parts = request.uri().path().trim_start_matches('/').split('/');
    let (Some(what), Some(token), Some(item), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StatusCode::NOT_FOUND);
    };
    if token != opened.token {
        return Err(StatusCode::FORBIDDEN);
    }
    let id = Uuid::parse_str(item).map_err(|_| StatusCode::NOT_FOUND)?;
    let item = opened.safe.item(id).map_err(|_| StatusCode::NOT_FOUND)?;
    match what {
        "preview" => preview(&opened.safe, id, &item.name, request),
        "thumbnail" => {
            if let Some(bytes) = state.thumbnails().get(id) {
                return Ok(image_response(bytes.as_ref().clone()));
            }
            if item.size > MAX_THUMBNAIL_SOURCE
                || convert::preview_kind(&item.name) != PreviewKind::Image
            {
                return Err(StatusCode::NOT_FOUND);
            }
            let bytes = std::sync::Arc::new(thumbnail(&opened.safe, id)?);
            state.thumbnails().put(id, std::sync::Arc::clone(&bytes));
            Ok(image_response(bytes.as_ref().clone()))
        }
        _ => Err(StatusCode::NOT_FOUND),
    }
}

fn image_response(bytes: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "image/png")
        .header(header::CACHE_CONTROL, "no-store")
        .body(bytes)
        .unwrap_or_else(|_| plain(StatusCode::INTERNAL_SERVER_ERROR))
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` of a file of `len` bytes, as a start and an end (past
/// the last byte); `None` without a (valid, single) range.
fn range(value: Option<&str>, len: u64) -> Option<(u64, u64)> {
    let spec = value?.strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (start, end) = spec.split_once('-')?;
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let suffix: u64 = suffix.parse().ok()?;
            (len.saturating_sub(suffix), len)
        }
        (start, "") => (start.parse().ok()?, len),
        (start, end) => (
            start.parse().ok()?,
            end.parse::<u64>().ok()?.saturating_add(1),
        ),
    };
    (start < end.min(len) || len == 0).then_some((start, end.min(len)))
}

/// A part of a file (or the whole of it), ready to be sent.
pub struct Served {
    pub content_type: &'static str,
    /// `Some("bytes a-b/len")` for a partial answer (206), `None` for the whole file (200).
    pub content_range: Option<String>,
    pub body: Vec<u8>,
}

/// The file `id` (named `name`) or the part of it `range_header` asks for. A range gets at most
/// [`MAX_RESPONSE`] bytes (a player asks for the rest); a request without one gets the whole
/// file, up to [`MAX_WHOLE`].
///
/// # Errors
/// The HTTP status to answer with instead.
pub fn serve(
    safe: &arca_safe::Safe,
    id: Uuid,
    name: &str,
    range_header: Option<&str>,
) -> Result<Served, StatusCode> {
    let mut reader = safe
        .open_file(id)
        .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
    let len = reader.len();
    let asked = range(range_header, len);
    let (start, end) = match asked {
        Some((start, end)) => (start, end.min(start.saturating_add(MAX_RESPONSE))),
        None if len <= MAX_WHOLE => (0, len),
        None => return Err(StatusCode::PAYLOAD_TOO_LARGE),
    };
    reader
        .seek(SeekFrom::Start(start))
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let mut body =
        vec![0u8; usize::try_from(end - start).map_err(|_| StatusCode::RANGE_NOT_SATISFIABLE)?];
    reader
        .read_exact(&mut body)
        .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
    Ok(Served {
        content_type: convert::mime(name),
        content_range: asked.map(|_| format!("bytes {start}-{}/{len}", end.saturating_sub(1))),
        body,
    })
}

fn preview(
    safe: &arca_safe::Safe,
    id: Uuid,
    name: &str,
    request: &Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, StatusCode> {
    let asked = request
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    let served = serve(safe, id, name, asked)?;
    let mut response = Response::builder()
        .status(if served.content_range.is_some() {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(header::CONTENT_TYPE, served.content_type)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_LENGTH, served.body.len().to_string());
    if let Some(content_range) = served.content_range {
        response = response.header(header::CONTENT_RANGE, content_range);
    }
    response
        .body(served.body)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)
}

/// A small PNG of an image of the Safe, made in memory.
fn thumbnail(safe: &arca_safe::Safe, id: Uuid) -> Result<Vec<u8>, StatusCode> {
    let bytes: Zeroizing<Vec<u8>> = safe
        .read(id)
        .map_err(|_| StatusCode::UNPROCESSABLE_ENTITY)?;
    let image = image::load_from_memory(&bytes).map_err(|_| StatusCode::UNSUPPORTED_MEDIA_TYPE)?;
    let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut out = std::io::Cursor::new(Vec::new());
    small
        .write_to(&mut out, image::ImageFormat::Png)
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_players_send_them() {
        assert_eq!(range(Some("bytes=0-99"), 1000), Some((0, 100)));
        assert_eq!(range(Some("bytes=500-"), 1000), Some((500, 1000)));
        assert_eq!(range(Some("bytes=-100"), 1000), Some((900, 1000)));
        assert_eq!(range(Some("bytes=900-5000"), 1000), Some((900, 1000)));
        assert_eq!(range(Some("bytes=2000-"), 1000), None);
        assert_eq!(range(Some("bytes=0-1,5-6"), 1000), None);
        assert_eq!(range(None, 1000), None);
    }
}
