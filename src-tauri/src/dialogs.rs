//! Native file dialogs, opened from Rust: the window asks for a purpose and gets a path back,
//! and has no dialog (or file system) permission of its own.

use tauri::{AppHandle, Runtime};
#[cfg(not(feature = "e2e-dialogs"))]
use tauri_plugin_dialog::DialogExt;

use crate::dto::DialogPurpose;

#[cfg(not(feature = "e2e-dialogs"))]
fn title(purpose: DialogPurpose) -> &'static str {
    match purpose {
        DialogPurpose::NewSafeLocation => "Where to create the Safe",
        DialogPurpose::OpenSafe => "Open a Safe",
        DialogPurpose::ImportFiles => "Files to put in the Safe",
        DialogPurpose::ImportFolder => "A folder to put in the Safe",
        DialogPurpose::ExportTo => "Export to",
        DialogPurpose::BackupTarget => "Backup folder",
        DialogPurpose::RestoreLocation => "Where to restore the Safe",
        DialogPurpose::SyncTarget => "Folder to sync through",
        DialogPurpose::SyncConfig => {
            "Sync configuration to join with (its file or a picture of its QR code)"
        }
        DialogPurpose::SaveSyncConfig => "Save the sync configuration",
        DialogPurpose::JoinLocation => "Where the Safe goes on this device",
    }
}

/// A file name filter for the purpose, if it has one.
#[cfg(not(feature = "e2e-dialogs"))]
fn with_filter<R: Runtime>(
    dialog: tauri_plugin_dialog::FileDialogBuilder<R>,
    purpose: DialogPurpose,
) -> tauri_plugin_dialog::FileDialogBuilder<R> {
    match purpose {
        DialogPurpose::SyncConfig => dialog
            .add_filter(
                "Arca sync configuration or a picture of its QR code",
                &["arca-sync", "png", "jpg", "jpeg", "PNG", "JPG", "JPEG"],
            )
            .add_filter("All files", &["*"]),
        DialogPurpose::SaveSyncConfig => dialog
            .add_filter("Arca sync configuration", &["arca-sync"])
            .add_filter("All files", &["*"]),
        _ => dialog,
    }
}

/// One folder, or `None` when the person cancels.
pub fn pick_folder<R: Runtime>(app: &AppHandle<R>, purpose: DialogPurpose) -> Option<String> {
    #[cfg(feature = "e2e-dialogs")]
    {
        let _ = app;
        e2e::answer(purpose).into_iter().next()
    }
    #[cfg(not(feature = "e2e-dialogs"))]
    {
        app.dialog()
            .file()
            .set_title(title(purpose))
            .blocking_pick_folder()
            .and_then(|path| path.into_path().ok())
            .map(|path| path.display().to_string())
    }
}

/// Files (possibly none).
pub fn pick_files<R: Runtime>(app: &AppHandle<R>, purpose: DialogPurpose) -> Vec<String> {
    #[cfg(feature = "e2e-dialogs")]
    {
        let _ = app;
        e2e::answer(purpose)
    }
    #[cfg(not(feature = "e2e-dialogs"))]
    {
        with_filter(app.dialog().file().set_title(title(purpose)), purpose)
            .blocking_pick_files()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|path| path.into_path().ok())
            .map(|path| path.display().to_string())
            .collect()
    }
}

/// Where to save a file (suggested as `name`), or `None` when the person cancels. The dialog
/// asks before replacing a file.
pub fn save_file<R: Runtime>(
    app: &AppHandle<R>,
    purpose: DialogPurpose,
    name: &str,
) -> Option<String> {
    #[cfg(feature = "e2e-dialogs")]
    {
        let _ = (app, name);
        e2e::answer(purpose).into_iter().next()
    }
    #[cfg(not(feature = "e2e-dialogs"))]
    {
        with_filter(app.dialog().file().set_title(title(purpose)), purpose)
            .set_file_name(name)
            .blocking_save_file()
            .and_then(|path| path.into_path().ok())
            .map(|path| path.display().to_string())
    }
}

/// The end-to-end test's stand-in for a person at a dialog: answers from the JSON object in
/// `ARCA_E2E_DIALOG_ANSWERS` (purpose in camelCase → list of paths), taken in order.
#[cfg(feature = "e2e-dialogs")]
mod e2e {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use crate::dto::DialogPurpose;

    static TAKEN: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

    pub fn answer(purpose: DialogPurpose) -> Vec<String> {
        let key = serde_json::to_value(purpose)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        let answers: HashMap<String, Vec<Vec<String>>> = std::env::var("ARCA_E2E_DIALOG_ANSWERS")
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let mut taken = TAKEN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = taken
            .get_or_insert_with(HashMap::new)
            .entry(key.clone())
            .or_default();
        let answer = answers
            .get(&key)
            .and_then(|list| list.get(*count).or_else(|| list.last()))
            .cloned()
            .unwrap_or_default();
        *count += 1;
        answer
    }
}
