//! Arca's desktop shell: a Tauri window around the web UI in `ui/`.
//!
//! The window reaches Rust only through the commands registered in [`with_commands`] (each a
//! thin call into `arca-safe`), the events it listens to (`job`, `changed`, `locked`, `synced`,
//! …) and the
//! `arca:` scheme that serves previews from the unlocked Safe. `capabilities/default.json`
//! grants the main window those commands and nothing else: no file system, no shell, no
//! dialogs of its own. No key and no path inside a Safe's store ever reaches the window.

mod autolock;
#[cfg(test)]
mod bindings;
mod bucket;
mod commands;
mod config;
mod convert;
mod demo;
mod desktop_apps;
mod dialogs;
pub mod dto;
mod edit_commands;
mod editing;
mod error;
mod events;
mod handoff;
#[cfg(test)]
mod ipc_tests;
mod job_commands;
mod jobs;
mod media;
mod preview;
mod qr;
mod single_instance;
mod state;
mod strength;
mod sync;
mod sync_commands;

use tauri::{Builder, Manager, RunEvent, Runtime, WindowEvent};

use std::sync::Arc;

use crate::config::Config;
use crate::handoff::Inbox;
use crate::state::AppState;

/// Registers Arca's commands and the preview scheme on a builder (the real one or a test's
/// mock).
fn with_commands<R: Runtime>(builder: Builder<R>) -> Builder<R> {
    builder
        .register_asynchronous_uri_scheme_protocol(preview::SCHEME, preview::handle)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::take_handoff,
            commands::recent_safes,
            commands::forget_recent_safe,
            commands::inspect_safe,
            commands::choose_folder,
            commands::choose_files,
            commands::choose_save_file,
            commands::password_strength,
            commands::recovery_key_typo,
            commands::create_safe,
            commands::unlock_safe,
            commands::unlock_with_recovery_key,
            commands::lock_safe,
            commands::safe_info,
            commands::list_folder,
            commands::folder_children,
            commands::breadcrumb,
            commands::item_details,
            commands::favorites,
            commands::recent_items,
            commands::trash_items,
            commands::tags,
            commands::tagged_items,
            commands::search,
            commands::create_folder,
            commands::rename_item,
            commands::move_items,
            commands::move_to_trash,
            commands::restore_from_trash,
            commands::empty_trash,
            commands::set_favorite,
            commands::set_comment,
            commands::add_tag,
            commands::remove_tag,
            commands::rename_tag,
            commands::delete_tag,
            commands::change_password,
            commands::create_recovery_key,
            commands::settings,
            commands::save_settings,
            commands::activity,
            commands::preview_url,
            commands::thumbnail_url,
            job_commands::import_paths,
            job_commands::resume_import,
            job_commands::abandon_import,
            job_commands::export_items,
            job_commands::jobs,
            job_commands::pause_job,
            job_commands::resume_job,
            job_commands::cancel_job,
            job_commands::dismiss_job,
            job_commands::backup_to,
            job_commands::verify_backup,
            job_commands::list_backup,
            job_commands::restore_items,
            job_commands::restore_backup,
            job_commands::rebuild_database,
            edit_commands::apps_for_item,
            edit_commands::open_in_app,
            edit_commands::open_edits,
            edit_commands::finish_edit,
            edit_commands::edits_open_elsewhere,
            edit_commands::leftover_copies,
            edit_commands::settle_leftover_copy,
            edit_commands::drag_out_folder,
            edit_commands::drag_out,
            edit_commands::drag_out_done,
            sync_commands::sync_status,
            sync_commands::set_sync_target,
            sync_commands::set_sync_schedule,
            sync_commands::sync_now,
            sync_commands::sync_conflicts,
            sync_commands::clear_sync_conflicts,
            sync_commands::export_sync_config,
            sync_commands::sync_config_qr,
            sync_commands::read_sync_config,
            sync_commands::join_safe,
            sync_commands::sync_devices,
            sync_commands::approve_device,
            sync_commands::remove_device,
        ])
}

/// The folder the app keeps its config in, or a fallback beside the user's other state.
fn config_folder<R: Runtime>(app: &tauri::AppHandle<R>) -> std::path::PathBuf {
    app.path()
        .app_config_dir()
        .unwrap_or_else(|_| std::env::temp_dir().join("arca-desktop-config"))
}

/// `--demo SAMPLES`: the folder of sample files a demo Safe is made from.
fn demo_samples() -> Option<std::path::PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--demo" {
            return args.next().map(std::path::PathBuf::from);
        }
    }
    None
}

fn setup<R: Runtime>(app: &tauri::AppHandle<R>, inbox: Arc<Inbox>, wake: &single_instance::Wake) {
    let config = Config::load(&config_folder(app));
    let handle = app.clone();
    let emit: events::Emit = Arc::new(move |name: &str, payload: serde_json::Value| {
        let _ = tauri::Emitter::emit(&handle, name, payload);
    });
    let mut state = AppState::new(emit.clone(), config);
    state.handoffs = inbox;
    app.manage(state);
    // A later start handed something over: the window takes it and comes to the front.
    let handle = app.clone();
    let _ = wake.set(Box::new(move || {
        events::send(&emit, "handoff", serde_json::Value::Null);
        if let Some(window) = handle.get_webview_window("main") {
            let _ = window.unminimize();
            let _ = window.show();
            let _ = window.set_focus();
        }
    }));
    // Copies an earlier run left in RAM: unchanged ones are wiped now, changed ones offered.
    app.state::<AppState>().editing.sweep_leftovers();
    if let Some(samples) = demo_samples() {
        let data = app
            .path()
            .app_data_dir()
            .unwrap_or_else(|_| std::env::temp_dir().join("arca-desktop-data"));
        match demo::prepare(&data, &samples) {
            Ok(path) => {
                app.state::<AppState>()
                    .config()
                    .opened(&path, convert::now_ms());
                println!(
                    "The demo Safe is {}; its password is: {}",
                    path.display(),
                    demo::PASSWORD
                );
            }
            Err(error) => eprintln!("arca-desktop: cannot make the demo Safe: {error}"),
        }
    }
    autolock::start(app);
    sync::schedule(app);
    #[cfg(target_os = "linux")]
    lock_when_the_page_stops(app);
}

/// When the window's page process ends (WebKit crashed, or the system ended it for memory), the
/// window goes blank with the Safe still unlocked behind it, and what the page held is gone.
/// The Safe is locked, as closing the window would, and the page loads again on the start
/// screen with that Safe chosen and a word on what happened.
#[cfg(target_os = "linux")]
fn lock_when_the_page_stops<R: Runtime>(app: &tauri::AppHandle<R>) {
    use webkit2gtk::WebViewExt;

    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let handle = app.clone();
    let watched = window.with_webview(move |webview| {
        webview
            .inner()
            .connect_web_process_terminated(move |view, reason| {
                let state = handle.state::<AppState>();
                let safe = state.opened().ok().map(|opened| opened.path.clone());
                state.lock(None);
                eprintln!(
                    "arca-desktop: the window's page process ended ({reason:?}); the Safe was \
                     locked and the page is loaded again"
                );
                state.handoffs.put(dto::Handoff {
                    safe: safe.map(|path| path.display().to_string()),
                    page_restarted: true,
                    ..dto::Handoff::default()
                });
                view.reload();
            });
    });
    if let Err(error) = watched {
        eprintln!("arca-desktop: cannot watch the window's page process ({error})");
    }
}

/// Starts the app and returns when its last window has closed (the Safe locked first).
pub fn run() {
    if let Err(error) = arca_cryptor::keep_secrets_out_of_core_dumps() {
        eprintln!("arca-desktop: cannot turn core dumps off ({error})");
    }
    // Before anything else: a second start hands its command line to the running Arca and
    // goes, without a window of its own.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let inbox = Arc::new(Inbox::default());
    let wake = single_instance::Wake::default();
    let _running = match single_instance::claim(&args, &inbox, &wake) {
        single_instance::Start::First(connection) => Some(connection),
        single_instance::Start::HandedOver => return,
        single_instance::Start::Alone(why) => {
            eprintln!("arca-desktop: running on its own: {why}");
            None
        }
    };
    if let Ok(cwd) = std::env::current_dir() {
        inbox.put(handoff::parse(args, &cwd));
    }
    let app = with_commands(Builder::default().plugin(tauri_plugin_dialog::init()))
        .setup(move |app| {
            setup(app.handle(), inbox, &wake);
            Ok(())
        })
        .on_window_event(|window, event| {
            // Closing the window locks: every key is dropped before the app goes.
            if let WindowEvent::Destroyed = event {
                window.app_handle().state::<AppState>().lock(None);
            }
        })
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(|app, event| {
            if let RunEvent::Exit = event {
                app.state::<AppState>().lock(None);
            }
        }),
        Err(error) => {
            eprintln!("arca-desktop: {error}");
            std::process::exit(1);
        }
    }
}
