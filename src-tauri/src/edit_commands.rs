//! Commands for working on files in other apps: open a file of the Safe in the default app or
//! a chosen one (its copy lives in RAM and each save comes back into the Safe), list and finish
//! those edits, settle copies an earlier run left, and drag items out of the window.

use tauri::State;

use crate::commands::blocking;
use crate::convert::ms;
use crate::dto::{AppChoice, AppError, LeftoverCopy, OpenEdit};
use crate::state::AppState;

type Result<T> = std::result::Result<T, AppError>;

fn item_id(text: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(text).map_err(|_| AppError::invalid("not an item id"))
}

/// The apps the desktop offers for the file `id` (by its name's MIME type).
#[tauri::command]
pub async fn apps_for_item(state: State<'_, AppState>, id: String) -> Result<Vec<AppChoice>> {
    let safe = state.safe()?;
    let id = item_id(&id)?;
    let editing = state.editing.clone();
    blocking(move || {
        let name = safe.item(id)?.name;
        Ok(editing
            .apps_for(&name)
            .into_iter()
            .map(|app| AppChoice {
                id: app.id,
                name: app.name,
            })
            .collect())
    })
    .await
}

/// Opens the file `id` in the app `app` (a desktop entry id from [`apps_for_item`]), or in the
/// desktop's default app for `None`.
#[tauri::command]
pub async fn open_in_app(
    state: State<'_, AppState>,
    id: String,
    app: Option<String>,
) -> Result<OpenEdit> {
    let state = state.inner();
    let safe = state.safe()?;
    let id = item_id(&id)?;
    let (editing, emit) = (state.editing.clone(), state.emit.clone());
    blocking(move || {
        let item = safe.item(id)?;
        crate::convert::refuse_waiting(&item)?;
        let chosen = match &app {
            Some(app) => {
                let name = item.name;
                let found = editing
                    .apps_for(&name)
                    .into_iter()
                    .find(|known| &known.id == app);
                Some(found.ok_or_else(|| {
                    AppError::invalid(format!("{app} is not an app for this kind of file"))
                })?)
            }
            None => None,
        };
        let (edit, file) = editing.open(&safe, id, &emit)?;
        if let Err(error) = crate::desktop_apps::launch(chosen.as_ref(), &file) {
            let _ = editing.finish(&safe, &edit.edit, &emit);
            return Err(AppError::new(
                crate::dto::ErrorKind::Io,
                format!("cannot start the app: {error}"),
            ));
        }
        Ok(edit)
    })
    .await
}

/// The files open in other apps.
#[tauri::command]
pub async fn open_edits(state: State<'_, AppState>) -> Result<Vec<OpenEdit>> {
    let editing = state.editing.clone();
    blocking(move || Ok(editing.list())).await
}

/// Ends an edit: its last save is taken back into the Safe and the copy wiped from RAM.
#[tauri::command]
pub async fn finish_edit(state: State<'_, AppState>, edit: String) -> Result<()> {
    let safe = state.safe()?;
    let (editing, emit) = (state.editing.clone(), state.emit.clone());
    blocking(move || editing.finish(&safe, &edit, &emit)).await
}

/// The names of the files another program still has open: locking now would lose what is
/// only in that program.
#[tauri::command]
pub async fn edits_open_elsewhere(state: State<'_, AppState>) -> Result<Vec<String>> {
    let editing = state.editing.clone();
    blocking(move || Ok(editing.open_elsewhere())).await
}

/// Copies of this Safe's files that an earlier run left changed in RAM (it stopped before
/// taking the last save back).
#[tauri::command]
pub async fn leftover_copies(state: State<'_, AppState>) -> Result<Vec<LeftoverCopy>> {
    let safe = state.safe()?;
    Ok(state
        .editing
        .leftovers(safe.id())
        .into_iter()
        .map(|left| LeftoverCopy {
            id: left.id(),
            item: left.record.item.to_string(),
            name: left.record.name.clone(),
            path: left.record.path.clone(),
            modified: left.modified_at.map(ms),
        })
        .collect())
}

/// Takes a leftover copy back into the Safe (`keep`), or deletes it.
#[tauri::command]
pub async fn settle_leftover_copy(
    state: State<'_, AppState>,
    id: String,
    keep: bool,
) -> Result<()> {
    let safe = state.safe()?;
    let (editing, emit) = (state.editing.clone(), state.emit.clone());
    blocking(move || {
        editing.settle_leftover(&safe, &id, keep)?;
        if keep {
            crate::events::changed_everywhere(&emit);
        }
        Ok(())
    })
    .await
}

/// The folder copies dragged out of the window are put in (in RAM), or `None` where there is
/// none: the window then offers no drag out.
#[tauri::command]
pub async fn drag_out_folder(state: State<'_, AppState>) -> Result<Option<String>> {
    state.safe()?;
    let editing = state.editing.clone();
    blocking(move || {
        Ok(editing
            .drag_out_folder()
            .ok()
            .map(|folder| folder.to_string_lossy().into_owned()))
    })
    .await
}

/// Exports the `i`-th of `ids` for the drag `drag` (letters and digits) into
/// `<drag-out folder>/<drag>/<i>/`, each appearing there only once complete.
#[tauri::command]
pub async fn drag_out(state: State<'_, AppState>, ids: Vec<String>, drag: String) -> Result<()> {
    let safe = state.safe()?;
    let ids = ids
        .iter()
        .map(|id| item_id(id))
        .collect::<Result<Vec<_>>>()?;
    let editing = state.editing.clone();
    blocking(move || editing.drag_out(&safe, &ids, &drag)).await
}

/// Removes the copies of a drag that was not dropped outside the window.
#[tauri::command]
pub async fn drag_out_done(state: State<'_, AppState>, drag: String) -> Result<()> {
    let editing = state.editing.clone();
    blocking(move || {
        editing.drag_out_done(&drag);
        Ok(())
    })
    .await
}
