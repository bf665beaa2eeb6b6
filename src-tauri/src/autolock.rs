//! Locking without being asked: after the idle time the person set, and when the system goes
//! to sleep or the screen locks (announced on D-Bus by logind and the screen saver; where there
//! is no D-Bus, only the idle lock works).

use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};

use crate::dto::LockReason;
use crate::state::AppState;

/// Starts the watchers on threads of their own.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let idle = app.clone();
    let _ = std::thread::Builder::new()
        .name("arca-idle-lock".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(5));
                let state = idle.state::<AppState>();
                let minutes = state.config().settings.auto_lock_minutes;
                if let Some(minutes) = minutes
                    && state.is_unlocked()
                    && state.idle_for() >= Duration::from_secs(u64::from(minutes) * 60)
                {
                    state.lock(Some(LockReason::Idle));
                }
            }
        });
    let sleep = app.clone();
    let _ = std::thread::Builder::new()
        .name("arca-sleep-lock".into())
        .spawn(move || {
            if let Err(error) = watch_sleep(&sleep) {
                eprintln!("arca-desktop: no lock on sleep or screen lock here ({error})");
            }
        });
}

fn lock_for_sleep<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    if state.config().settings.lock_on_sleep && state.is_unlocked() {
        state.lock(Some(LockReason::Sleep));
    }
}

/// Waits for logind's PrepareForSleep(true) and the session's Lock signal, and for the screen
/// saver turning on.
fn watch_sleep<R: Runtime>(app: &AppHandle<R>) -> zbus::Result<()> {
    let system = zbus::blocking::Connection::system()?;
    let manager = zbus::blocking::Proxy::new(
        &system,
        "org.freedesktop.login1",
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
    )?;
    let sleeping = manager.receive_signal("PrepareForSleep")?;
    let screen_app = app.clone();
    let _ = std::thread::Builder::new()
        .name("arca-screen-lock".into())
        .spawn(move || {
            let watch = || -> zbus::Result<()> {
                let session = zbus::blocking::Connection::session()?;
                let saver = zbus::blocking::Proxy::new(
                    &session,
                    "org.freedesktop.ScreenSaver",
                    "/org/freedesktop/ScreenSaver",
                    "org.freedesktop.ScreenSaver",
                )?;
                for signal in saver.receive_signal("ActiveChanged")? {
                    if signal.body().deserialize::<bool>().unwrap_or(false) {
                        lock_for_sleep(&screen_app);
                    }
                }
                Ok(())
            };
            let _ = watch();
        });
    for signal in sleeping {
        if signal.body().deserialize::<bool>().unwrap_or(false) {
            lock_for_sleep(app);
        }
    }
    Ok(())
}
