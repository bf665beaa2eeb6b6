//! Audio and video previews on Linux, served over HTTP on the loopback interface.
//!
//! WebKitGTK's media player (GStreamer) loads only http(s), file and blob URLs: a `<video>`
//! whose source is on the `arca:` scheme fails with "format not supported" (WebKit bug 146351,
//! tauri#3725). So media come from a server on 127.0.0.1, bound to a port the system picks,
//! answering only `GET`/`HEAD /media/<token>/<item>` with the token of the current unlock and a
//! `Host` of the server itself (a web page that points a name of its own at 127.0.0.1 is turned
//! away). Each answer is decrypted in memory from the Safe, a range at a time, exactly as the
//! `arca:` scheme does it (see `preview.rs`); nothing is written to disk, and after a lock
//! every URL is dead. Images, text and PDFs keep using the scheme.
//!
//! The server is `tiny_http`, the small synchronous server Tauri's own localhost plugin uses.

use std::sync::OnceLock;

use tauri::http::StatusCode;
use tauri::{AppHandle, Manager, Runtime};
use tiny_http::{Header, Method, Request, Response, Server};
use uuid::Uuid;

use crate::state::AppState;

/// The port of the running server.
static PORT: OnceLock<u16> = OnceLock::new();

/// The base URL of media previews (`http://127.0.0.1:PORT`), starting the server on first use.
///
/// # Errors
/// If no loopback port can be bound.
pub fn base<R: Runtime>(app: &AppHandle<R>) -> Result<String, String> {
    if let Some(port) = PORT.get() {
        return Ok(format!("http://127.0.0.1:{port}"));
    }
    let server = Server::http("127.0.0.1:0").map_err(|error| error.to_string())?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|address| address.port())
        .ok_or("the media server has no port")?;
    if PORT.set(port).is_err() {
        // Another thread started one first: use that, let this one go.
        return Ok(format!(
            "http://127.0.0.1:{}",
            PORT.get().copied().unwrap_or(port)
        ));
    }
    let app = app.clone();
    std::thread::Builder::new()
        .name("arca-media".to_owned())
        .spawn(move || {
            for request in server.incoming_requests() {
                let app = app.clone();
                // A player keeps a few connections open at once; each gets a thread.
                let _ = std::thread::Builder::new()
                    .name("arca-media-request".to_owned())
                    .spawn(move || answer(&app, port, request));
            }
        })
        .map_err(|error| error.to_string())?;
    Ok(format!("http://127.0.0.1:{port}"))
}

fn header(name: &str, value: &str) -> Option<Header> {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn answer<R: Runtime>(app: &AppHandle<R>, port: u16, request: Request) {
    let response = match respond(app, port, &request) {
        Ok(response) => response,
        Err(status) => Response::from_data(Vec::new()).with_status_code(status.as_u16()),
    };
    // The player may hang up half-way (a seek): nothing to do about it.
    let _ = request.respond(response);
}

fn respond<R: Runtime>(
    app: &AppHandle<R>,
    port: u16,
    request: &Request,
) -> Result<Response<std::io::Cursor<Vec<u8>>>, StatusCode> {
    if !matches!(request.method(), Method::Get | Method::Head) {
        return Err(StatusCode::METHOD_NOT_ALLOWED);
    }
    let value_of = |name: &'static str| {
        request
            .headers()
            .iter()
            .find(|header| header.field.equiv(name))
            .map(|header| header.value.as_str())
    };
    if value_of("Host") != Some(format!("127.0.0.1:{port}").as_str()) {
        return Err(StatusCode::FORBIDDEN);
    }
    let mut parts = request.url().trim_start_matches('/').split('/');
    let (Some("media"), Some(token), Some(item), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(StatusCode::NOT_FOUND);
    };
    let state = app.state::<AppState>();
    let opened = state.opened().map_err(|_| StatusCode::FORBIDDEN)?;
    if token != opened.token {
        return Err(StatusCode::FORBIDDEN);
    }
    let id = Uuid::parse_str(item).map_err(|_| StatusCode::NOT_FOUND)?;
    let name = opened
        .safe
        .item(id)
        .map_err(|_| StatusCode::NOT_FOUND)?
        .name;
    let served = crate::preview::serve(&opened.safe, id, &name, value_of("Range"))?;
    let partial = served.content_range.is_some();
    // A length, never chunks: GStreamer needs the size to find the end of a stream (an Ogg
    // file's duration is in its last page) and to seek.
    let mut response = Response::from_data(served.body)
        .with_status_code(if partial { 206 } else { 200 })
        .with_chunked_threshold(usize::MAX);
    let headers = [
        header("Content-Type", served.content_type),
        header("Accept-Ranges", "bytes"),
        header("Cache-Control", "no-store"),
        served
            .content_range
            .as_deref()
            .and_then(|range| header("Content-Range", range)),
    ];
    for header in headers.into_iter().flatten() {
        response.add_header(header);
    }
    Ok(response)
}
