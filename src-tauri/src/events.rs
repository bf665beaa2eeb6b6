//! Telling the window that items changed, so it reloads what it shows of those folders.

use std::sync::Arc;
use std::time::{Duration, Instant};

use arca_safe::JobEvent;
use serde::Serialize;
use uuid::Uuid;

use crate::dto::ChangedEvent;

/// Sends an event (name, payload) to the window.
pub type Emit = Arc<dyn Fn(&str, serde_json::Value) + Send + Sync>;

/// Sends `payload` as event `name`.
pub fn send(emit: &Emit, name: &str, payload: impl Serialize) {
    if let Ok(value) = serde_json::to_value(payload) {
        emit(name, value);
    }
}

/// Event `changed` for `folders` (`None`: the root).
pub fn changed(emit: &Emit, folders: Vec<Option<Uuid>>) {
    let mut folders: Vec<Option<String>> = folders
        .into_iter()
        .map(|folder| folder.map(|id| id.to_string()))
        .collect();
    folders.sort();
    folders.dedup();
    send(emit, "changed", ChangedEvent { folders });
}

/// Event `changed` for everything the window shows (an empty list means every folder).
pub fn changed_everywhere(emit: &Emit) {
    changed(emit, Vec::new());
}

/// While an import runs, its folder changes as files arrive: the window hears of it about once
/// a second, so pending items turn into files without a flood of reloads. `last` is when this
/// import's last one went out.
pub fn changed_now_and_then(
    emit: &Emit,
    folder: Option<Uuid>,
    event: &JobEvent<'_>,
    last: &mut Option<Instant>,
) {
    let JobEvent::Progress(progress) = event else {
        return;
    };
    if progress.files_done == 0 {
        return;
    }
    if last.is_none_or(|last| last.elapsed() >= Duration::from_secs(1)) {
        *last = Some(Instant::now());
        changed(emit, vec![folder]);
    }
}
