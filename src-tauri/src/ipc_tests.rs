//! The shell as the window meets it, on Tauri's mock runtime (no display): the permissions, the
//! security policy, and the commands doing what they promise over IPC, from creating a Safe to
//! locking it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewUrl, WebviewWindow, WebviewWindowBuilder};

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The app as `run()` builds it (real config and capabilities) with its state in a folder of
/// the test's own.
fn app(config: &Path) -> Result<tauri::App<MockRuntime>, tauri::Error> {
    app_on_clock(config, arca_safe::Clock::default())
}

/// The app with its back-off read against `clock`, so that waits do not depend on how long a
/// key derivation takes on a busy machine.
fn app_on_clock(
    config: &Path,
    clock: arca_safe::Clock,
) -> Result<tauri::App<MockRuntime>, tauri::Error> {
    let app = with_commands(mock_builder()).build(tauri::generate_context!())?;
    let emit: events::Emit = std::sync::Arc::new(|_: &str, _: serde_json::Value| {});
    let mut state = AppState::new(emit, Config::load(config));
    state.backoff = arca_safe::Backoff::in_folder(config.join("state")).with_clock(clock);
    app.manage(state);
    Ok(app)
}

fn window(
    app: &tauri::App<MockRuntime>,
    label: &str,
) -> Result<WebviewWindow<MockRuntime>, tauri::Error> {
    WebviewWindowBuilder::new(app, label, WebviewUrl::App("index.html".into())).build()
}

/// Calls `cmd` from `window` with `args`; the answer, or the error the window would get.
fn call(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().map_err(|_| json!("url"))?,
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request).map(|body| body.deserialize().unwrap_or_default())
}

fn ok(window: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> Result<Value, String> {
    call(window, cmd, args).map_err(|error| format!("{cmd}: {error}"))
}

#[test]
fn the_main_window_may_call_arca_commands_and_no_other_window_may() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = app(dir.path())?;
    let main = window(&app, "main")?;
    let info = ok(&main, "app_info", json!({}))?;
    assert_eq!(info["name"], "Arca");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    let elsewhere = window(&app, "elsewhere")?;
    let denied = call(&elsewhere, "app_info", json!({}))
        .err()
        .unwrap_or_default();
    assert!(
        denied.as_str().is_some_and(|e| e.contains("not allowed")),
        "{denied}"
    );
    let unknown = call(&main, "read_any_file", json!({}))
        .err()
        .unwrap_or_default();
    assert!(
        unknown.as_str().is_some_and(|e| e.contains("not allowed")),
        "{unknown}"
    );
    Ok(())
}

#[test]
fn what_another_start_handed_over_is_taken_once_by_the_window() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = app(dir.path())?;
    let main = window(&app, "main")?;
    let photo = dir.path().join("beach.jpg");
    std::fs::write(&photo, "x")?;
    let args = ["--add".into(), photo.clone().into_os_string()];
    app.state::<AppState>()
        .handoffs
        .put(handoff::parse(args, dir.path()));
    let taken = ok(&main, "take_handoff", json!({}))?;
    assert_eq!(taken["files"], json!([photo.display().to_string()]));
    assert_eq!(taken["safe"], Value::Null);
    let again = ok(&main, "take_handoff", json!({}))?;
    assert_eq!(again["files"], json!([]));
    Ok(())
}

#[test]
fn the_capability_grants_exactly_the_registered_commands() -> TestResult {
    let capability: Value = serde_json::from_str(include_str!("../capabilities/default.json"))?;
    assert_eq!(capability["windows"], json!(["main"]));
    let build = include_str!("../build.rs");
    let lib = include_str!("lib.rs");
    let declared: Vec<&str> = build
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"')?.strip_suffix("\","))
        .collect();
    let registered: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.trim().strip_suffix(','))
        .filter_map(|line| line.rsplit_once("::").map(|(_, name)| name))
        .filter(|name| name.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .collect();
    assert_eq!(declared, registered, "build.rs and with_commands disagree");
    let mut expected = vec!["core:default".to_owned()];
    expected.extend(
        declared
            .iter()
            .map(|name| format!("allow-{}", name.replace('_', "-"))),
    );
    assert_eq!(capability["permissions"], json!(expected));
    Ok(())
}

#[test]
fn the_window_gets_no_file_system_shell_or_dialog_permission_and_a_local_csp() -> TestResult {
    let capability = include_str!("../capabilities/default.json");
    for forbidden in ["fs:", "shell:", "dialog:", "http:"] {
        assert!(!capability.contains(forbidden), "{forbidden} granted");
    }
    let config: Value = serde_json::from_str(include_str!("../tauri.conf.json"))?;
    assert_eq!(config["bundle"]["targets"], json!(["deb", "rpm"]));
    let csp = config["app"]["security"]["csp"]
        .as_str()
        .unwrap_or_default();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let remote: Vec<&str> = csp
        .split([' ', ';'])
        .filter(|source| source.starts_with("http") || source.starts_with("ws"))
        .filter(|source| {
            ![
                "http://ipc.localhost",
                "http://arca.localhost",
                "http://127.0.0.1:*",
            ]
            .contains(source)
        })
        .collect();
    assert!(remote.is_empty(), "remote origins in the CSP: {remote:?}");
    assert!(
        !csp.contains("unsafe-eval") && !csp.contains("script-src *"),
        "{csp}"
    );
    Ok(())
}

/// Waits until the job `id` has ended; returns it.
fn wait_for_job(window: &WebviewWindow<MockRuntime>, id: &str) -> Result<Value, String> {
    let started = Instant::now();
    loop {
        let jobs = ok(window, "jobs", json!({}))?;
        let job = jobs
            .as_array()
            .and_then(|jobs| jobs.iter().find(|job| job["id"] == id))
            .cloned()
            .ok_or("the job is gone")?;
        if !["running", "paused"].contains(&job["state"].as_str().unwrap_or_default()) {
            return Ok(job);
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("the job did not end: {job}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Imports the file at `source` into the root of the open Safe, which holds nothing else; the
/// item's id.
fn import_only_file(window: &WebviewWindow<MockRuntime>, source: &Path) -> Result<Value, String> {
    let job = ok(
        window,
        "import_paths",
        json!({"paths": [source.to_string_lossy()], "into": null}),
    )?;
    wait_for_job(window, job["id"].as_str().unwrap_or_default())?;
    let root = ok(
        window,
        "list_folder",
        json!({"request": {"folder": null, "sort": "name", "descending": false, "offset": 0, "limit": 10}}),
    )?;
    Ok(root["rows"][0]["id"].clone())
}

#[test]
fn a_safe_created_through_the_window_imports_lists_previews_and_locks() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = arca_safe::Clock::fixed(std::time::SystemTime::now());
    let app = app_on_clock(&dir.path().join("config"), clock)?;
    let main = window(&app, "main")?;
    let parent = dir.path().to_string_lossy().into_owned();
    let weak = call(
        &main,
        "create_safe",
        json!({"parent": parent, "name": "Holiday", "password": "password1", "acceptWeak": false}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(weak["kind"], "weakPassword");
    let opened = ok(
        &main,
        "create_safe",
        json!({"parent": parent, "name": "Holiday", "password": "violet-granite-orbit-2049-ketch", "acceptWeak": false}),
    )?;
    assert_eq!(opened["name"], "Holiday");
    assert_eq!(opened["readOnly"], false);
    let source = dir.path().join("Photos");
    std::fs::create_dir(&source)?;
    std::fs::write(source.join("note.txt"), b"a note for the preview")?;
    let job = ok(
        &main,
        "import_paths",
        json!({"paths": [source.to_string_lossy()], "into": null}),
    )?;
    let job = wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    assert_eq!(job["state"], "finished", "{job}");
    let root = ok(
        &main,
        "list_folder",
        json!({"request": {"folder": null, "sort": "name", "descending": false, "offset": 0, "limit": 100}}),
    )?;
    assert_eq!(root["total"], 1);
    let folder = root["rows"][0]["id"].clone();
    let page = ok(
        &main,
        "list_folder",
        json!({"request": {"folder": folder, "sort": "size", "descending": true, "offset": 0, "limit": 100}}),
    )?;
    let note = &page["rows"][0];
    assert_eq!(note["name"], "note.txt");
    assert!(
        note["modifiedMs"]
            .as_i64()
            .is_some_and(|ms| ms > 1_000_000_000_000)
    );
    ok(
        &main,
        "add_tag",
        json!({"ids": [note["id"]], "tag": "travel"}),
    )?;
    let found = ok(
        &main,
        "search",
        json!({"request": {"text": "trav", "folder": null, "tag": null, "favoritesOnly": false, "offset": 0, "limit": 10}}),
    )?;
    assert_eq!(found["hits"][0]["folderPath"], "/Photos");
    let details = ok(&main, "item_details", json!({"id": note["id"]}))?;
    assert_eq!(details["path"], "/Photos/note.txt");
    assert_eq!(details["preview"], "text");
    let url = ok(&main, "preview_url", json!({"id": note["id"]}))?;
    let url = url.as_str().unwrap_or_default();
    assert!(url.starts_with(crate::preview::base()), "{url}");

    // The recent list knows it, without any secret.
    let recent = std::fs::read_to_string(dir.path().join("config").join("recent.json"))?;
    assert!(recent.contains("Holiday.arca") && !recent.contains("violet"));

    ok(&main, "lock_safe", json!({}))?;
    let locked = call(
        &main,
        "list_folder",
        json!({"request": {"folder": null, "sort": "name", "descending": false, "offset": 0, "limit": 10}}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(locked["kind"], "safeLocked");
    let safe_path = opened["path"].as_str().unwrap_or_default().to_owned();
    let wrong = call(
        &main,
        "unlock_safe",
        json!({"path": safe_path, "password": "wrong"}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(wrong["kind"], "wrongPassword");
    assert_eq!(wrong["retryAfterSeconds"], 2);
    let summary = ok(&main, "inspect_safe", json!({"path": safe_path}))?;
    assert_eq!(summary["retryAfterSeconds"], 2, "{summary}");
    let again = call(
        &main,
        "unlock_safe",
        json!({"path": safe_path, "password": "violet-granite-orbit-2049-ketch"}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(again["kind"], "tryLater");
    Ok(())
}

/// One raw HTTP/1.1 GET of `url` (with another `Host` and a `Range` if given): the status,
/// the head in lower case, and the body.
#[cfg(target_os = "linux")]
fn http_get(
    url: &str,
    host: Option<&str>,
    range: Option<&str>,
) -> std::io::Result<(u16, String, Vec<u8>)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let (address, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = std::net::TcpStream::connect(address)?;
    let mut request = format!(
        "GET /{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        host.unwrap_or(address)
    );
    if let Some(range) = range {
        request.push_str(&format!("Range: {range}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok((
        status,
        head,
        answer[(split + 4).min(answer.len())..].to_vec(),
    ))
}

#[cfg(target_os = "linux")]
#[test]
fn films_play_from_the_loopback_server_by_range_and_only_with_the_unlocks_token() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = app(&dir.path().join("config"))?;
    let main = window(&app, "main")?;
    let parent = dir.path().to_string_lossy().into_owned();
    let password = "violet-granite-orbit-2049-ketch";
    ok(
        &main,
        "create_safe",
        json!({"parent": parent, "name": "Films", "password": password, "acceptWeak": false}),
    )?;
    let film: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let source = dir.path().join("film.webm");
    std::fs::write(&source, &film)?;
    let id = import_only_file(&main, &source)?;
    let url = ok(&main, "preview_url", json!({"id": id}))?;
    let url = url.as_str().unwrap_or_default().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    // A range, with its length (GStreamer needs it to seek) and the bytes of the film.
    let (status, head, body) = http_get(&url, None, Some("bytes=1000-1999"))?;
    assert_eq!(status, 206, "{head}");
    assert!(
        head.contains("content-range: bytes 1000-1999/300000"),
        "{head}"
    );
    assert!(
        head.contains("content-length: 1000") && !head.contains("chunked"),
        "{head}"
    );
    assert_eq!(body, film[1000..2000]);
    let (status, head, body) = http_get(&url, None, None)?;
    assert_eq!((status, body.len()), (200, film.len()), "{head}");

    // Another token, another host name (a web page pointing its own name at 127.0.0.1), or
    // the right URL after a lock: nothing.
    let token = url.rsplit('/').nth(1).unwrap_or_default().to_owned();
    let guessed = url.replace(&token, &"0".repeat(token.len()));
    assert_eq!(http_get(&guessed, None, None)?.0, 403);
    assert_eq!(http_get(&url, Some("evil.example:80"), None)?.0, 403);
    ok(&main, "lock_safe", json!({}))?;
    assert_eq!(http_get(&url, None, None)?.0, 403);
    Ok(())
}

/// A file opened in another app through the window: the app the desktop lists for it starts
/// on a copy in RAM, its save comes back into the Safe as the same item, and locking wipes the
/// copy; a drag out puts a complete copy where the drop target will look, and a drag dropped
/// nowhere leaves nothing.
#[cfg(target_os = "linux")]
#[test]
fn a_file_opened_in_another_app_comes_back_at_each_save_and_is_wiped_at_lock() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ram = Path::new("/dev/shm").join(format!("arca-ipc-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&ram)?;
    struct Remove(std::path::PathBuf);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _ram = Remove(ram.clone());
    // A desktop entry of the user's own: an "editor" that saves once and exits.
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("applications"))?;
    let editor = dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'saved by the fake editor' > \"$1\"\n",
    )?;
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    std::fs::write(
        data.join("applications/fake-editor.desktop"),
        format!(
            "[Desktop Entry]\nType=Application\nName=Fake Editor\nExec={} %f\nMimeType=text/plain;\n",
            editor.display()
        ),
    )?;

    let app = with_commands(mock_builder()).build(tauri::generate_context!())?;
    let emit: events::Emit = std::sync::Arc::new(|_: &str, _: serde_json::Value| {});
    let mut state = AppState::new(emit, Config::load(&dir.path().join("config")));
    state.backoff = arca_safe::Backoff::in_folder(dir.path().join("state"));
    state.editing = std::sync::Arc::new(crate::editing::Editing::with(
        Ok(ram.join("arca")),
        vec![data],
    ));
    app.manage(state);
    let main = window(&app, "main")?;
    let parent = dir.path().to_string_lossy().into_owned();
    ok(
        &main,
        "create_safe",
        json!({"parent": parent, "name": "Letters", "password": "violet-granite-orbit-2049-ketch", "acceptWeak": false}),
    )?;
    let source = dir.path().join("note.txt");
    std::fs::write(&source, b"the first draft")?;
    let id = import_only_file(&main, &source)?;

    let apps = ok(&main, "apps_for_item", json!({"id": id}))?;
    assert_eq!(
        apps,
        json!([{"id": "fake-editor.desktop", "name": "Fake Editor"}])
    );
    let edit = ok(
        &main,
        "open_in_app",
        json!({"id": id, "app": "fake-editor.desktop"}),
    )?;
    assert_eq!(edit["name"], "note.txt");
    assert_eq!(edit["path"], "/note.txt");
    let safe = app
        .state::<AppState>()
        .safe()
        .map_err(|error| error.message)?;
    let item = uuid::Uuid::parse_str(id.as_str().unwrap_or_default())?;
    let start = Instant::now();
    while safe.read(item).map(|bytes| bytes.to_vec())? != b"saved by the fake editor" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the save never came back"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let open = ok(&main, "open_edits", json!({}))?;
    assert_eq!(open[0]["unsaved"], false, "{open}");
    let runs = || {
        std::fs::read_dir(ram.join("arca"))
            .map(|entries| entries.count())
            .unwrap_or(0)
    };
    assert_eq!(runs(), 1);

    // A drag out: the copy appears complete under the drag's folder; dropped nowhere, it goes.
    let folder = ok(&main, "drag_out_folder", json!({}))?;
    let folder = Path::new(folder.as_str().unwrap_or_default()).to_path_buf();
    assert!(folder.starts_with(&ram), "{}", folder.display());
    // Two items of one name (search results from two folders) get a folder each.
    ok(&main, "drag_out", json!({"ids": [id, id], "drag": "d1"}))?;
    for index in ["0", "1"] {
        let copy = folder.join("d1").join(index).join("note.txt");
        assert_eq!(std::fs::read(copy)?, b"saved by the fake editor");
    }
    assert!(!folder.join("d1/.staging").exists());
    let hostile = call(&main, "drag_out", json!({"ids": [id], "drag": "../x"}))
        .err()
        .unwrap_or_default();
    assert_eq!(hostile["kind"], "invalidInput");
    ok(&main, "drag_out_done", json!({"drag": "d1"}))?;
    assert!(!folder.join("d1").exists());

    ok(&main, "lock_safe", json!({}))?;
    assert_eq!(runs(), 0, "cleartext left in RAM after the lock");
    assert!(safe.is_locked());
    Ok(())
}

/// Waits until a sync job has ended (one the unlock or a join started by itself, or one asked
/// for); returns it.
fn wait_for_sync(window: &WebviewWindow<MockRuntime>) -> Result<Value, String> {
    let started = Instant::now();
    loop {
        let jobs = ok(window, "jobs", json!({}))?;
        let ended = jobs.as_array().and_then(|jobs| {
            jobs.iter()
                .find(|job| {
                    job["kind"] == "sync"
                        && !["running", "paused"]
                            .contains(&job["state"].as_str().unwrap_or_default())
                })
                .cloned()
        });
        if let Some(job) = ended {
            return Ok(job);
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("no sync ended: {jobs}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn root_rows(window: &WebviewWindow<MockRuntime>) -> Result<Value, String> {
    let page = ok(
        window,
        "list_folder",
        json!({"request": {"folder": null, "sort": "name", "descending": false, "offset": 0, "limit": 100}}),
    )?;
    Ok(page["rows"].clone())
}

/// Two devices of one Safe through a folder, as the window drives them: the target and the
/// schedule set, a run asked for and its report, the configuration exported under the Safe
/// Password (nothing written with a wrong one), read and joined on the other device, whose first
/// run starts by itself; a file whose data is not on the target yet waits (and does not open)
/// until it is; the joined device waits until the first approves it (same code on both); two
/// renames of one file become a decision the conflict view lists; the first removes the other,
/// whose next run fails saying so.
#[test]
fn two_copies_sync_through_a_folder_the_second_joined_from_the_exported_configuration() -> TestResult
{
    let dir = tempfile::tempdir()?;
    let events = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, Value)>::new()));
    let app = with_commands(mock_builder()).build(tauri::generate_context!())?;
    let seen = std::sync::Arc::clone(&events);
    let emit: events::Emit = std::sync::Arc::new(move |name: &str, payload: Value| {
        if let Ok(mut seen) = seen.lock() {
            seen.push((name.to_owned(), payload));
        }
    });
    let mut state = AppState::new(emit, Config::load(&dir.path().join("config")));
    state.backoff = arca_safe::Backoff::in_folder(dir.path().join("state"));
    app.manage(state);
    let main = window(&app, "main")?;
    let password = "violet-granite-orbit-2049-ketch";
    let desk = dir.path().join("desk");
    let laptop = dir.path().join("laptop");
    let target = dir.path().join("usb");
    for folder in [&desk, &laptop, &target] {
        std::fs::create_dir(folder)?;
    }
    let a = ok(
        &main,
        "create_safe",
        json!({"parent": desk, "name": "Holiday", "password": password, "acceptWeak": false}),
    )?;
    let a_path = a["path"].as_str().unwrap_or_default().to_owned();
    let source = dir.path().join("note.txt");
    std::fs::write(&source, b"written on the desk")?;
    let note = import_only_file(&main, &source)?;

    // No target yet: nothing to run or export.
    let status = ok(&main, "sync_status", json!({}))?;
    assert_eq!(status["target"], Value::Null);
    assert_eq!(status["everyMinutes"], 15);
    let none = call(&main, "sync_now", json!({})).err().unwrap_or_default();
    assert_eq!(none["kind"], "noSyncTarget");

    // Targets that cannot be: relative, inside the Safe, not there, not a folder kind.
    for (bad, kind) in [
        (json!({"kind": "folder", "path": "usb"}), "invalidInput"),
        (
            json!({"kind": "folder", "path": format!("{a_path}/sync")}),
            "invalidInput",
        ),
        (
            json!({"kind": "folder", "path": dir.path().join("gone")}),
            "notFound",
        ),
        (
            json!({"kind": "other", "description": "s3://x"}),
            "invalidInput",
        ),
    ] {
        let refused = call(&main, "set_sync_target", json!({"target": bad}))
            .err()
            .unwrap_or_default();
        assert_eq!(refused["kind"], kind, "{bad}: {refused}");
    }
    let status = ok(
        &main,
        "set_sync_target",
        json!({"target": {"kind": "folder", "path": target}}),
    )?;
    assert_eq!(status["target"]["path"], target.display().to_string());
    let bad_schedule = call(&main, "set_sync_schedule", json!({"everyMinutes": 0}))
        .err()
        .unwrap_or_default();
    assert_eq!(bad_schedule["kind"], "invalidInput");
    // This device syncs only when asked, so the unlocks below start nothing by themselves.
    let status = ok(&main, "set_sync_schedule", json!({"everyMinutes": null}))?;
    assert_eq!(status["everyMinutes"], Value::Null);

    let job = ok(&main, "sync_now", json!({}))?;
    assert_eq!(job["kind"], "sync");
    let job = wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    assert_eq!(job["state"], "finished", "{job}");
    let status = ok(&main, "sync_status", json!({}))?;
    let report = &status["lastRun"]["report"];
    assert!(
        report["operationsSent"].as_u64().is_some_and(|n| n > 0),
        "{status}"
    );
    assert_eq!(report["filesSent"], 1, "{status}");
    assert_eq!(status["lastRun"]["automatic"], false);
    assert!(status["lastSyncedMs"].as_i64().is_some_and(|ms| ms > 0));
    assert_eq!(status["running"], Value::Null);
    let synced: Vec<Value> = events
        .lock()
        .map_err(|_| "events")?
        .iter()
        .filter(|(name, _)| name == "synced")
        .map(|(_, payload)| payload.clone())
        .collect();
    assert_eq!(synced.len(), 1);
    assert_eq!(synced[0]["lastRun"]["report"], status["lastRun"]["report"]);

    // The configuration: a wrong password writes nothing; the right one a private file.
    let config = dir.path().join("Holiday.arca-sync");
    let wrong = call(
        &main,
        "export_sync_config",
        json!({"password": "not it", "comment": "for the laptop", "to": config}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(wrong["kind"], "wrongPassword");
    assert!(!config.exists());
    let inside = call(
        &main,
        "export_sync_config",
        json!({"password": password, "comment": "", "to": format!("{a_path}/x.arca-sync")}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(inside["kind"], "invalidInput");
    // Waits out the back-off the wrong password started.
    let wait_until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < wait_until {
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(
        &main,
        "export_sync_config",
        json!({"password": password, "comment": "for the laptop", "to": config}),
    )?;
    let written = std::fs::read(&config)?;
    assert!(!String::from_utf8_lossy(&written).contains(password));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&config)?.permissions().mode() & 0o077, 0);
    }

    // The data on the target goes (as if a cloud client had not brought it yet): the other
    // device gets the file's record, and waits for its data.
    std::fs::remove_dir_all(target.join("files"))?;
    ok(&main, "lock_safe", json!({}))?;

    let wrong = call(
        &main,
        "read_sync_config",
        json!({"path": config, "password": "not it"}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(wrong["kind"], "wrongPassword");
    let not_one = call(
        &main,
        "read_sync_config",
        json!({"path": source, "password": password}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(not_one["kind"], "badSyncConfig");
    let info = ok(
        &main,
        "read_sync_config",
        json!({"path": config, "password": password}),
    )?;
    assert_eq!(info["name"], "Holiday");
    assert_eq!(info["safeId"], a["id"]);
    assert_eq!(info["comment"], "for the laptop");
    assert_eq!(info["target"]["kind"], "folder");
    assert_eq!(info["target"]["path"], target.display().to_string());
    assert_eq!(info["targetHere"], true);

    let b = ok(
        &main,
        "join_safe",
        json!({"config": config, "password": password, "parent": laptop, "name": "Holiday", "targetHere": null}),
    )?;
    assert_eq!(b["id"], a["id"]);
    assert!(
        b["path"]
            .as_str()
            .is_some_and(|p| p.starts_with(laptop.to_string_lossy().as_ref()))
    );
    let first = wait_for_sync(&main)?;
    assert_eq!(first["state"], "finished", "{first}");
    let rows = root_rows(&main)?;
    assert_eq!(rows[0]["name"], "note.txt", "{rows}");
    assert_eq!(rows[0]["content"], "waiting", "{rows}");
    let status = ok(&main, "sync_status", json!({}))?;
    assert_eq!(status["lastRun"]["report"]["filesWaiting"], 1, "{status}");
    assert_eq!(status["everyMinutes"], 15);
    let refused = call(&main, "preview_url", json!({"id": note}))
        .err()
        .unwrap_or_default();
    assert_eq!(refused["kind"], "waitingForSync");
    // The laptop waits to be approved, with its code; until then it cannot add devices.
    let code = status["lastRun"]["report"]["waitingForApproval"].clone();
    assert!(code.as_str().is_some_and(|c| c.len() == 23), "{status}");
    let laptop_device = &status["devices"][0];
    assert_eq!(laptop_device["thisDevice"], true, "{status}");
    assert_eq!(laptop_device["state"], "waiting", "{status}");
    assert_eq!(laptop_device["code"], code, "{status}");
    let laptop_id = laptop_device["id"].clone();
    let not_yet = call(
        &main,
        "export_sync_config",
        json!({"password": password, "comment": "", "to": dir.path().join("again.arca-sync")}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(not_yet["kind"], "syncDevice", "{not_yet}");
    assert!(
        not_yet["message"]
            .as_str()
            .is_some_and(|m| m.contains("approved")),
        "{not_yet}"
    );
    let b_path = b["path"].as_str().unwrap_or_default().to_owned();
    ok(&main, "lock_safe", json!({}))?;

    // The desk syncs again: the data goes up once more, and the laptop asks to join with the
    // same code. The desk approves it; the approval goes with the sync that starts.
    ok(
        &main,
        "unlock_safe",
        json!({"path": a_path, "password": password}),
    )?;
    let job = ok(&main, "sync_now", json!({}))?;
    wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    let status = ok(&main, "sync_status", json!({}))?;
    let asking = &status["lastRun"]["report"]["devicesAsking"];
    assert_eq!(asking[0]["id"], laptop_id, "{status}");
    assert_eq!(asking[0]["code"], code, "{status}");
    let listed = ok(&main, "sync_devices", json!({}))?;
    assert_eq!(listed, status["devices"]);
    assert_eq!(listed[0]["state"], "approved", "{listed}");
    let desk_name = listed[0]["name"].clone();
    for (bad, kind) in [
        (json!("not an id"), "invalidInput"),
        (json!(uuid::Uuid::new_v4().to_string()), "syncDevice"),
    ] {
        let refused = call(&main, "approve_device", json!({"id": bad}))
            .err()
            .unwrap_or_default();
        assert_eq!(refused["kind"], kind, "{bad}: {refused}");
    }
    let decided = ok(&main, "approve_device", json!({"id": laptop_id}))?;
    assert_eq!(decided["syncError"], Value::Null, "{decided}");
    let approved = decided["devices"]
        .as_array()
        .and_then(|devices| devices.iter().find(|d| d["id"] == laptop_id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(approved["state"], "approved", "{decided}");
    assert_eq!(approved["decidedBy"], desk_name, "{decided}");
    let job = wait_for_job(&main, decided["job"]["id"].as_str().unwrap_or_default())?;
    assert_eq!(job["state"], "finished", "{job}");
    ok(&main, "lock_safe", json!({}))?;
    ok(
        &main,
        "unlock_safe",
        json!({"path": b_path, "password": password}),
    )?;
    let auto = wait_for_sync(&main)?;
    assert_eq!(auto["state"], "finished", "{auto}");
    let rows = root_rows(&main)?;
    assert_eq!(rows[0]["content"], "present", "{rows}");
    let status = ok(&main, "sync_status", json!({}))?;
    assert_eq!(status["lastRun"]["automatic"], true, "{status}");
    assert_eq!(status["lastRun"]["report"]["filesReceived"], 1, "{status}");
    assert_eq!(
        status["lastRun"]["report"]["waitingForApproval"],
        Value::Null,
        "{status}"
    );
    assert_eq!(status["devices"][0]["state"], "approved", "{status}");

    // One file renamed on both devices: sync decides, and says so.
    ok(
        &main,
        "rename_item",
        json!({"id": note, "name": "laptop.txt"}),
    )?;
    let job = ok(&main, "sync_now", json!({}))?;
    wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    ok(&main, "lock_safe", json!({}))?;
    ok(
        &main,
        "unlock_safe",
        json!({"path": a_path, "password": password}),
    )?;
    ok(
        &main,
        "rename_item",
        json!({"id": note, "name": "desk.txt"}),
    )?;
    let job = ok(&main, "sync_now", json!({}))?;
    wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    let status = ok(&main, "sync_status", json!({}))?;
    let conflicts = ok(&main, "sync_conflicts", json!({}))?;
    assert!(
        conflicts.as_array().is_some_and(|list| !list.is_empty()),
        "{conflicts} {status}"
    );
    let decided = &conflicts[0];
    assert_eq!(decided["item"]["id"], note, "{decided}");
    assert!(
        ["/desk.txt", "/laptop.txt"]
            .contains(&decided["item"]["path"].as_str().unwrap_or_default()),
        "{decided}"
    );
    assert!(decided["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(
        decided["atMs"]
            .as_i64()
            .is_some_and(|ms| ms > 1_000_000_000_000)
    );
    assert_eq!(
        status["lastRun"]["report"]["conflicts"]
            .as_array()
            .map(Vec::len),
        conflicts.as_array().map(Vec::len),
        "{status}"
    );
    // Seen: the list is cleared.
    ok(&main, "clear_sync_conflicts", json!({}))?;
    assert_eq!(ok(&main, "sync_conflicts", json!({}))?, json!([]));

    // The desk removes the laptop: the laptop's next run fails, saying so.
    let decided = ok(&main, "remove_device", json!({"id": laptop_id}))?;
    let job = wait_for_job(&main, decided["job"]["id"].as_str().unwrap_or_default())?;
    assert_eq!(job["state"], "finished", "{job}");
    let devices = ok(&main, "sync_devices", json!({}))?;
    let removed = devices
        .as_array()
        .and_then(|devices| devices.iter().find(|d| d["id"] == laptop_id))
        .cloned()
        .unwrap_or_default();
    assert_eq!(removed["state"], "removed", "{devices}");
    assert_eq!(removed["decidedBy"], desk_name, "{devices}");
    let itself = call(&main, "remove_device", json!({"id": devices[0]["id"]}))
        .err()
        .unwrap_or_default();
    assert_eq!(itself["kind"], "syncDevice", "{itself}");
    ok(&main, "lock_safe", json!({}))?;
    ok(
        &main,
        "unlock_safe",
        json!({"path": b_path, "password": password}),
    )?;
    let cut_off = wait_for_sync(&main)?;
    assert_eq!(cut_off["state"], "failed", "{cut_off}");
    let status = ok(&main, "sync_status", json!({}))?;
    let error = &status["lastRun"]["error"];
    assert_eq!(error["kind"], "syncDevice", "{status}");
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("this device was removed")),
        "{status}"
    );
    assert_eq!(status["devices"][0]["state"], "removed", "{status}");

    // Locked: nothing of the runs is kept in the window's reach.
    ok(&main, "lock_safe", json!({}))?;
    let locked = call(&main, "sync_status", json!({}))
        .err()
        .unwrap_or_default();
    assert_eq!(locked["kind"], "safeLocked");

    // Another Safe cannot sync through that folder: the run fails and says why.
    ok(
        &main,
        "create_safe",
        json!({"parent": desk, "name": "Other", "password": password, "acceptWeak": false}),
    )?;
    ok(
        &main,
        "set_sync_target",
        json!({"target": {"kind": "folder", "path": target}}),
    )?;
    let job = ok(&main, "sync_now", json!({}))?;
    let job = wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["error"]["kind"], "foreignTarget", "{job}");
    let status = ok(&main, "sync_status", json!({}))?;
    assert_eq!(
        status["lastRun"]["error"]["kind"], "foreignTarget",
        "{status}"
    );
    Ok(())
}

/// The single-node Garage the Safe's own tests start (skipped where Garage is not installed).
#[path = "../../crates/safe/tests/common/garage.rs"]
#[allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
mod garage;

/// A bucket form as the window sends it.
fn bucket_form(endpoint: &str, bucket: &str, key: &str, secret: Option<&str>) -> Value {
    let mut form = json!({
        "kind": "s3", "endpoint": endpoint, "region": "garage", "bucket": bucket,
        "prefix": "desk", "accessKeyId": key,
    });
    if let Some(secret) = secret {
        form["secretAccessKey"] = json!(secret);
    }
    form
}

/// A Safe created in `dir` through `window`; its path.
fn new_safe(window: &WebviewWindow<MockRuntime>, dir: &Path, name: &str) -> Result<String, String> {
    let folder = dir.join(name.to_lowercase());
    std::fs::create_dir_all(&folder).map_err(|error| error.to_string())?;
    let created = ok(
        window,
        "create_safe",
        json!({"parent": folder, "name": name, "password": SYNC_PASSWORD, "acceptWeak": false}),
    )?;
    Ok(created["path"].as_str().unwrap_or_default().to_owned())
}

const SYNC_PASSWORD: &str = "violet-granite-orbit-2049-ketch";

/// A bucket form with a field wrong is refused naming it, before anything is tried; a bucket
/// nobody answers for is said to be unreachable; neither is stored, and the secret is in no
/// answer.
#[test]
fn a_bucket_form_is_checked_before_anything_is_stored() -> TestResult {
    let dir = tempfile::tempdir()?;
    let app = app(&dir.path().join("config"))?;
    let main = window(&app, "main")?;
    new_safe(&main, dir.path(), "Holiday")?;
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCY";
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    for (form, said) in [
        (
            bucket_form("s3.example.com", "photos", "GK1", Some(secret)),
            "is not an http:// or https:// address",
        ),
        (
            bucket_form(&endpoint, "Photos", "GK1", Some(secret)),
            "is not a bucket name",
        ),
        (
            bucket_form(&endpoint, "photos", "", Some(secret)),
            "the access key ID is empty",
        ),
        (
            bucket_form(&endpoint, "photos", "GK1", None),
            "the secret access key is empty",
        ),
        (
            bucket_form(&endpoint, "photos", "GK1", Some("")),
            "the secret access key is empty",
        ),
    ] {
        let refused = call(&main, "set_sync_target", json!({"target": form}))
            .err()
            .unwrap_or_default();
        assert_eq!(refused["kind"], "invalidInput", "{form}: {refused}");
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains(said)),
            "{said:?} not said: {refused}"
        );
    }
    let unreachable = call(
        &main,
        "set_sync_target",
        json!({"target": bucket_form(&endpoint, "photos", "GK1", Some(secret))}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(unreachable["kind"], "bucketUnreachable", "{unreachable}");
    let message = unreachable["message"].as_str().unwrap_or_default();
    assert!(message.contains(&endpoint), "{message}");
    assert!(!unreachable.to_string().contains(secret), "{unreachable}");
    assert_eq!(ok(&main, "sync_status", json!({}))?["target"], Value::Null);
    // Where a folder is on this device can be given when joining, not a bucket.
    let joined = call(
        &main,
        "join_safe",
        json!({"config": dir.path().join("x.arca-sync"), "password": SYNC_PASSWORD,
               "parent": dir.path(), "name": "Copy",
               "targetHere": bucket_form(&endpoint, "photos", "GK1", Some(secret))}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(joined["kind"], "invalidInput", "{joined}");
    Ok(())
}

/// The modules of a QR code the window shows, drawn from its SVG (`M{x} {y}h{w}v{h}H{x}V{y}`
/// rectangles on white) into a picture, as a screenshot of the dialog would hold them.
fn screenshot_of(svg: &str) -> Result<Vec<u8>, String> {
    let number = |text: &str| {
        text.parse::<u32>()
            .map_err(|_| format!("{text:?} in the SVG"))
    };
    let attribute = |name: &str| -> Result<u32, String> {
        let start = svg
            .find(&format!(" {name}=\""))
            .ok_or(format!("no {name}"))?
            + name.len()
            + 3;
        let end = svg[start..].find('"').ok_or("unterminated")? + start;
        number(&svg[start..end])
    };
    let (width, height) = (attribute("width")?, attribute("height")?);
    let start = svg.find(" d=\"").ok_or("no path")? + 4;
    let path = &svg[start..start + svg[start..].find('"').ok_or("unterminated path")?];
    let mut picture = image::GrayImage::from_pixel(width, height, image::Luma([255]));
    for rectangle in path.split('M').filter(|part| !part.is_empty()) {
        let fields: Vec<&str> = rectangle
            .split(|c: char| c == ' ' || c.is_ascii_alphabetic())
            .filter(|field| !field.is_empty())
            .collect();
        let [x, y, w, h, ..] = fields[..] else {
            return Err(format!("a rectangle {rectangle:?}"));
        };
        let (x, y, w, h) = (number(x)?, number(y)?, number(w)?, number(h)?);
        for row in y..(y + h).min(height) {
            for column in x..(x + w).min(width) {
                picture.put_pixel(column, row, image::Luma([0]));
            }
        }
    }
    Ok(crate::qr::tests::encoded(&picture, image::ImageFormat::Png))
}

/// The configuration shown as a QR code (Safe Password checked first) holds what the file
/// holds: a picture of it opens with the Safe Password, and a device joins from it. Pictures
/// without one are refused saying what they lack.
#[test]
fn a_device_joins_from_a_picture_of_the_qr_code_the_window_showed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let clock = arca_safe::Clock::fixed(std::time::SystemTime::now());
    let app = app_on_clock(&dir.path().join("config"), clock.clone())?;
    let main = window(&app, "main")?;
    let desk = new_safe(&main, dir.path(), "Holiday")?;
    let source = dir.path().join("note.txt");
    std::fs::write(&source, b"written on the desk")?;
    import_only_file(&main, &source)?;
    let none = call(
        &main,
        "sync_config_qr",
        json!({"password": SYNC_PASSWORD, "comment": ""}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(none["kind"], "noSyncTarget", "{none}");
    let target = dir.path().join("usb");
    std::fs::create_dir(&target)?;
    ok(
        &main,
        "set_sync_target",
        json!({"target": {"kind": "folder", "path": target}}),
    )?;
    ok(&main, "set_sync_schedule", json!({"everyMinutes": null}))?;
    let job = ok(&main, "sync_now", json!({}))?;
    wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;

    let wrong = call(
        &main,
        "sync_config_qr",
        json!({"password": "not it", "comment": ""}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(wrong["kind"], "wrongPassword", "{wrong}");
    // Waits out the back-off the wrong password started.
    clock.advance(Duration::from_secs(3));
    let shown = ok(
        &main,
        "sync_config_qr",
        json!({"password": SYNC_PASSWORD, "comment": "for the laptop"}),
    )?;
    let characters = shown["characters"].as_u64().unwrap_or_default();
    assert!((1000..=3391).contains(&characters), "{shown}");
    assert_eq!(shown["maxCharacters"], 3391);
    let svg = shown["svg"].as_str().unwrap_or_default();
    assert!(svg.contains("<svg"), "{shown}");
    assert!(!svg.contains(SYNC_PASSWORD));
    let picture = dir.path().join("Screenshot of the code.png");
    std::fs::write(&picture, screenshot_of(svg)?)?;
    ok(&main, "lock_safe", json!({}))?;

    let info = ok(
        &main,
        "read_sync_config",
        json!({"path": picture, "password": SYNC_PASSWORD}),
    )?;
    assert_eq!(info["name"], "Holiday");
    assert_eq!(info["comment"], "for the laptop");
    assert_eq!(info["target"]["path"], target.display().to_string());
    let wrong = call(
        &main,
        "read_sync_config",
        json!({"path": picture, "password": "not it"}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(wrong["kind"], "wrongPassword", "{wrong}");

    // Pictures that hold no configuration.
    let blank = dir.path().join("blank.png");
    std::fs::write(
        &blank,
        crate::qr::tests::encoded(
            &image::GrayImage::from_pixel(300, 200, image::Luma([255])),
            image::ImageFormat::Jpeg,
        ),
    )?;
    let other = dir.path().join("wifi.png");
    std::fs::write(&other, crate::qr::tests::png("WIFI:S:home;T:WPA;P:guest;;"))?;
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\n and then nothing")?;
    for (path, kind, said) in [
        (
            &blank,
            "noQrCode",
            "is an image, but no QR code was found in it",
        ),
        (
            &other,
            "qrNotSyncConfig",
            "its QR code does not hold an Arca sync configuration",
        ),
        (&broken, "badSyncConfig", "does not open as one"),
    ] {
        let refused = call(
            &main,
            "read_sync_config",
            json!({"path": path, "password": SYNC_PASSWORD}),
        )
        .err()
        .unwrap_or_default();
        assert_eq!(refused["kind"], kind, "{refused}");
        let message = refused["message"].as_str().unwrap_or_default();
        assert!(message.contains(said), "{said:?} not in {message}");
        assert!(message.contains(&path.display().to_string()), "{message}");
    }

    let laptop = dir.path().join("laptop");
    std::fs::create_dir(&laptop)?;
    let joined = ok(
        &main,
        "join_safe",
        json!({"config": picture, "password": SYNC_PASSWORD, "parent": laptop,
               "name": "Holiday", "targetHere": null}),
    )?;
    assert_ne!(joined["path"].as_str(), Some(desk.as_str()));
    let first = wait_for_sync(&main)?;
    assert_eq!(first["state"], "finished", "{first}");
    let rows = root_rows(&main)?;
    assert_eq!(rows[0]["name"], "note.txt", "{rows}");
    assert_eq!(rows[0]["content"], "present", "{rows}");
    Ok(())
}

/// A real bucket (Garage on loopback): a wrong secret, a wrong key, a missing bucket and a
/// wrong region are each said as such and nothing is stored; the right settings are stored, shown without their
/// secret (kept when the form is saved again without it), and a run and an exported
/// configuration go through the bucket. Another Safe cannot take the same place.
#[test]
fn a_bucket_is_tried_set_and_synced_with_and_its_secret_stays_in_the_app() -> TestResult {
    let Some(cluster) = garage::Cluster::start_or_skip(1) else {
        return Ok(());
    };
    let arca_safe::TargetSettings::S3(good) = cluster.settings("desk") else {
        return Err("not a bucket".into());
    };
    let secret = good.secret_access_key.expose().to_owned();
    let dir = tempfile::tempdir()?;
    let app = app(&dir.path().join("config"))?;
    let main = window(&app, "main")?;
    new_safe(&main, dir.path(), "Holiday")?;
    let source = dir.path().join("note.txt");
    std::fs::write(&source, b"written on the desk")?;
    import_only_file(&main, &source)?;
    let endpoint = good.endpoint.as_str();
    let key = good.access_key_id.as_str();
    for (form, kind) in [
        (
            bucket_form(endpoint, "arca", key, Some("not-the-secret-at-all")),
            "bucketAccessDenied",
        ),
        (
            bucket_form(
                endpoint,
                "arca",
                "GK0123456789abcdef01234567",
                Some(&secret),
            ),
            "bucketAccessDenied",
        ),
        (
            bucket_form(endpoint, "no-such-bucket", key, Some(&secret)),
            "bucketNotFound",
        ),
        (
            {
                let mut form = bucket_form(endpoint, "arca", key, Some(&secret));
                form["region"] = json!("us-east-1");
                form
            },
            "bucketUnreachable",
        ),
    ] {
        let refused = call(&main, "set_sync_target", json!({"target": form}))
            .err()
            .unwrap_or_default();
        assert_eq!(refused["kind"], kind, "{form}: {refused}");
        let text = refused.to_string();
        assert!(
            !text.contains(&secret) && !text.contains("not-the-secret-at-all"),
            "{text}"
        );
    }
    assert_eq!(ok(&main, "sync_status", json!({}))?["target"], Value::Null);

    let status = ok(
        &main,
        "set_sync_target",
        json!({"target": bucket_form(endpoint, "arca", key, Some(&secret))}),
    )?;
    let shown = json!({"kind": "s3", "endpoint": endpoint, "region": "garage", "bucket": "arca",
                       "prefix": "desk", "accessKeyId": key});
    assert_eq!(status["target"], shown, "{status}");
    assert!(!status.to_string().contains(&secret), "{status}");
    // Saved again without the secret: the stored one is kept.
    let again = ok(
        &main,
        "set_sync_target",
        json!({"target": bucket_form(endpoint, "arca", key, None)}),
    )?;
    assert_eq!(again["target"], shown);
    ok(&main, "set_sync_schedule", json!({"everyMinutes": null}))?;
    let job = ok(&main, "sync_now", json!({}))?;
    assert_eq!(
        job["title"],
        format!("s3://arca/desk at {endpoint}"),
        "{job}"
    );
    let job = wait_for_job(&main, job["id"].as_str().unwrap_or_default())?;
    assert_eq!(job["state"], "finished", "{job}");
    let status = ok(&main, "sync_status", json!({}))?;
    assert_eq!(status["lastRun"]["report"]["filesSent"], 1, "{status}");
    assert!(!status.to_string().contains(&secret));

    let config = dir.path().join("Holiday.arca-sync");
    ok(
        &main,
        "export_sync_config",
        json!({"password": SYNC_PASSWORD, "comment": "", "to": config}),
    )?;
    let info = ok(
        &main,
        "read_sync_config",
        json!({"path": config, "password": SYNC_PASSWORD}),
    )?;
    assert_eq!(info["target"], shown, "{info}");
    assert_eq!(info["targetHere"], true);
    assert!(!info.to_string().contains(&secret));

    // Another Safe is refused that place before anything is stored.
    new_safe(&main, dir.path(), "Other")?;
    let foreign = call(
        &main,
        "set_sync_target",
        json!({"target": bucket_form(endpoint, "arca", key, Some(&secret))}),
    )
    .err()
    .unwrap_or_default();
    assert_eq!(foreign["kind"], "foreignTarget", "{foreign}");
    assert_eq!(ok(&main, "sync_status", json!({}))?["target"], Value::Null);

    // The first Safe's copy joined from the configuration syncs through the bucket.
    ok(&main, "lock_safe", json!({}))?;
    let laptop = dir.path().join("laptop");
    std::fs::create_dir(&laptop)?;
    ok(
        &main,
        "join_safe",
        json!({"config": config, "password": SYNC_PASSWORD, "parent": laptop,
               "name": "Holiday", "targetHere": null}),
    )?;
    let first = wait_for_sync(&main)?;
    assert_eq!(first["state"], "finished", "{first}");
    assert_eq!(root_rows(&main)?[0]["content"], "present");
    assert_eq!(ok(&main, "sync_status", json!({}))?["target"], shown);
    Ok(())
}
