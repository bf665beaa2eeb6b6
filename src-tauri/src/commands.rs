//! The commands the window calls: each checks its arguments and makes one call into the Safe
//! library (on a blocking thread, so the window never waits on a key derivation or a disk).
//! Names and arguments follow `ui/src/lib/backend/Backend.ts`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arca_cryptor::{Iterations, Password, RecoveryKey};
use arca_safe::{
    Access, Content as LibContent, Kind as LibKind, Manifest, OpenMode, OpenOptions, Safe,
    SearchQuery, SortKey as LibSort, SortOrder, Unlock,
};
use tauri::{Runtime, State};
use zeroize::Zeroizing;

use crate::convert::{self, folder, ms, now_ms};
use crate::dto::*;
use crate::state::AppState;

type Result<T> = std::result::Result<T, AppError>;

/// The largest page the window may ask for.
const MAX_PAGE: u32 = 1000;

/// Runs blocking library work off the window's threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(|error| AppError::new(ErrorKind::Internal, error.to_string()))?
}

/// A password from the window, held so it is wiped when dropped.
fn password(text: String) -> Password {
    Password::new(text)
}

/// A path from the window: only absolute ones (a relative one would depend on the app's
/// working folder).
pub(crate) fn path_arg(text: &str, what: &str) -> Result<PathBuf> {
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        return Err(AppError::invalid(format!(
            "{what} must be an absolute path"
        )));
    }
    Ok(path)
}

fn safe_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    name.strip_suffix(".arca")
        .map(str::to_owned)
        .unwrap_or(name)
}

// --- The app and the start screen ------------------------------------------------------------

#[tauri::command]
pub fn app_info<R: Runtime>(app: tauri::AppHandle<R>) -> AppInfo {
    let package = app.package_info();
    AppInfo {
        name: package.name.clone(),
        version: package.version.to_string(),
    }
}

/// What other programs handed over since the last call (see [`crate::handoff`]).
#[tauri::command]
pub fn take_handoff(state: State<'_, AppState>) -> Handoff {
    state.handoffs.take()
}

/// What is at `path`, for the start screen.
fn summary(state: &AppState, path: &Path, last_opened_ms: Option<i64>) -> SafeSummary {
    let manifest = Manifest::read(&arca_safe::Layout::new(path).manifest());
    let status = match &manifest {
        Ok(_) => SafeStatus::Ready,
        Err(arca_safe::Error::NotASafe(_)) if !path.exists() => SafeStatus::Missing,
        Err(arca_safe::Error::NotASafe(_)) => SafeStatus::NotASafe,
        Err(arca_safe::Error::NewerFormat { .. }) => SafeStatus::Newer,
        Err(_) => SafeStatus::Damaged,
    };
    let retry_after_seconds = manifest
        .as_ref()
        .ok()
        .and_then(|manifest| state.backoff.wait_left(manifest.safe_id).ok())
        .map_or(0, |left| {
            u32::try_from(left.as_secs() + u64::from(left.subsec_nanos() > 0)).unwrap_or(u32::MAX)
        });
    SafeSummary {
        path: path.display().to_string(),
        name: safe_name(path),
        status,
        has_recovery_key: arca_safe::Layout::new(path).recovery_file().exists(),
        retry_after_seconds,
        last_opened_ms,
    }
}

#[tauri::command]
pub async fn recent_safes(state: State<'_, AppState>) -> Result<Vec<SafeSummary>> {
    let recent = state.config().recent.clone();
    Ok(recent
        .iter()
        .map(|recent| summary(&state, &recent.path, Some(recent.opened_ms)))
        .collect())
}

#[tauri::command]
pub async fn forget_recent_safe(state: State<'_, AppState>, path: String) -> Result<()> {
    state.config().forget(Path::new(&path));
    Ok(())
}

#[tauri::command]
pub async fn inspect_safe(state: State<'_, AppState>, path: String) -> Result<SafeSummary> {
    let path = path_arg(&path, "the Safe")?;
    let last = state
        .config()
        .recent
        .iter()
        .find(|recent| recent.path == path)
        .map(|recent| recent.opened_ms);
    Ok(summary(&state, &path, last))
}

#[tauri::command]
pub async fn choose_folder<R: Runtime>(
    app: tauri::AppHandle<R>,
    purpose: DialogPurpose,
) -> Result<Option<String>> {
    blocking(move || Ok(crate::dialogs::pick_folder(&app, purpose))).await
}

#[tauri::command]
pub async fn choose_files<R: Runtime>(
    app: tauri::AppHandle<R>,
    purpose: DialogPurpose,
) -> Result<Vec<String>> {
    blocking(move || Ok(crate::dialogs::pick_files(&app, purpose))).await
}

/// A save dialog for `purpose`, suggesting the file name `name`; `None` when cancelled.
#[tauri::command]
pub async fn choose_save_file<R: Runtime>(
    app: tauri::AppHandle<R>,
    purpose: DialogPurpose,
    name: String,
) -> Result<Option<String>> {
    // Only a name: the dialog starts where it likes, never in a folder the window names.
    let name = Path::new(&name)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    blocking(move || Ok(crate::dialogs::save_file(&app, purpose, &name))).await
}

#[tauri::command]
pub async fn password_strength(password: String, context: Vec<String>) -> Result<Strength> {
    let password = self::password(password);
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    Ok(crate::strength::estimate(&password, &context))
}

#[tauri::command]
pub async fn recovery_key_typo(text: String) -> Result<Option<RecoveryKeyTypo>> {
    let text = Zeroizing::new(text);
    Ok(match RecoveryKey::parse(&text) {
        Ok(_) => None,
        Err(arca_cryptor::Error::RecoveryKeyTypo(typo)) => Some(crate::error::typo(&typo)),
        Err(error) => return Err(error.into()),
    })
}

/// The opened Safe as the window sees it, and remembered as recent; it syncs now if it does
/// so by itself.
fn opened(state: &AppState, safe: Safe, path: PathBuf) -> Result<OpenedSafe> {
    opened_then_sync(state, safe, path, false)
}

/// Like `opened`; `first_sync`: a run starts in any case (a copy just joined).
pub(crate) fn opened_then_sync(
    state: &AppState,
    safe: Safe,
    path: PathBuf,
    first_sync: bool,
) -> Result<OpenedSafe> {
    let info = safe.info()?;
    let interrupted = safe.interrupted_imports()?;
    let (read_only, read_only_reason) = match safe.access() {
        Access::Write => (false, None),
        Access::Read(reason) => (true, Some(reason.to_string())),
    };
    state.config().opened(&path, now_ms());
    let name = safe_name(&path);
    let id = safe.id().to_string();
    let handle = safe.clone();
    state.set_opened(safe, path.clone(), name.clone());
    crate::sync::after_unlock(state.sync_context(), handle, first_sync);
    Ok(OpenedSafe {
        id,
        name,
        path: path.display().to_string(),
        read_only,
        read_only_reason,
        has_recovery_key: info.has_recovery_key,
        info: SafeInfo {
            files: info.files,
            folders: info.folders,
            bytes: info.bytes,
            trashed: info.trashed,
        },
        interrupted_imports: interrupted
            .into_iter()
            .map(|job| InterruptedImport {
                job_id: job.id.to_string(),
                created_ms: ms(job.created_at),
                paused: job.paused,
                files_done: job.files_done,
                files_left: job.files_left,
                bytes_left: job.bytes_left,
                sources: job.sources,
            })
            .collect(),
    })
}

/// Refuses a weak new password unless the person confirmed it.
fn judge(password: &Password, context: &[&str], accept_weak: bool) -> Result<()> {
    if password.is_empty() {
        return Err(AppError::new(
            ErrorKind::WeakPassword,
            "the password is empty",
        ));
    }
    let strength = arca_safe::password_strength(password, context);
    if !strength.is_acceptable() && !accept_weak {
        return Err(AppError::new(
            ErrorKind::WeakPassword,
            format!("the password is weak (score {} of 4)", strength.score),
        ));
    }
    Ok(())
}

#[tauri::command]
pub async fn create_safe(
    state: State<'_, AppState>,
    parent: String,
    name: String,
    password: String,
    accept_weak: bool,
) -> Result<OpenedSafe> {
    let parent = path_arg(&parent, "the folder of the new Safe")?;
    let name = name.trim().to_owned();
    let path = new_safe_path(&parent, &name)?;
    let password = self::password(password);
    judge(&password, &[name.as_str()], accept_weak)?;
    let backoff = state.backoff.clone();
    let created = {
        let path = path.clone();
        blocking(move || {
            Ok(Safe::create_with(
                &path,
                &password,
                Iterations::KEY_FILE,
                backoff,
            )?)
        })
        .await?
    };
    opened(&state, created, path)
}

/// `<parent>/<name>.arca` for a new Safe, the name checked against the name rule.
pub(crate) fn new_safe_path(parent: &Path, name: &str) -> Result<PathBuf> {
    let name = name.trim();
    arca_safe::validate_name(name)?;
    let folder_name = if name.ends_with(".arca") {
        name.to_owned()
    } else {
        format!("{name}.arca")
    };
    Ok(arca_safe::join_checked(parent, &folder_name)?)
}

fn open_options(state: &AppState) -> OpenOptions {
    OpenOptions {
        mode: OpenMode::WriteOrRead,
        backoff: state.backoff.clone(),
    }
}

#[tauri::command]
pub async fn unlock_safe(
    state: State<'_, AppState>,
    path: String,
    password: String,
) -> Result<OpenedSafe> {
    let path = path_arg(&path, "the Safe")?;
    let password = self::password(password);
    if password.is_empty() {
        return Err(AppError::invalid("the password is empty"));
    }
    let options = open_options(&state);
    let safe = {
        let path = path.clone();
        blocking(move || {
            Ok(Safe::open_with(
                &path,
                Unlock::Password(&password),
                &options,
            )?)
        })
    }
    .await
    .map_err(|error| with_wait(&state, &path, error))?;
    opened(&state, safe, path)
}

/// A wrong password or recovery key says how long the next attempt must wait.
fn with_wait(state: &AppState, path: &Path, mut error: AppError) -> AppError {
    if matches!(
        error.kind,
        ErrorKind::WrongPassword | ErrorKind::WrongRecoveryKey
    ) && let Ok(manifest) = Manifest::read(&arca_safe::Layout::new(path).manifest())
        && let Ok(left) = state.backoff.wait_left(manifest.safe_id)
    {
        error.retry_after_seconds = Some(
            u32::try_from(left.as_secs() + u64::from(left.subsec_nanos() > 0)).unwrap_or(u32::MAX),
        );
    }
    error
}

#[tauri::command]
pub async fn unlock_with_recovery_key(
    state: State<'_, AppState>,
    path: String,
    recovery_key: String,
    new_password: String,
    accept_weak: bool,
) -> Result<OpenedSafe> {
    let path = path_arg(&path, "the Safe")?;
    let key = RecoveryKey::parse(&Zeroizing::new(recovery_key))?;
    let new_password = self::password(new_password);
    judge(&new_password, &[safe_name(&path).as_str()], accept_weak)?;
    let options = OpenOptions {
        mode: OpenMode::Write,
        backoff: state.backoff.clone(),
    };
    let safe = {
        let path = path.clone();
        blocking(move || {
            let safe = Safe::open_with(&path, Unlock::RecoveryKey(&key), &options)?;
            safe.reset_password(&new_password)?;
            Ok(safe)
        })
    }
    .await
    .map_err(|error| with_wait(&state, &path, error))?;
    opened(&state, safe, path)
}

#[tauri::command]
pub async fn lock_safe(state: State<'_, AppState>) -> Result<()> {
    let state = state.inner();
    state.lock(Some(LockReason::User));
    state.jobs.clear_ended();
    Ok(())
}

// --- Browsing ----------------------------------------------------------------------------------

#[tauri::command]
pub async fn safe_info(state: State<'_, AppState>) -> Result<SafeInfo> {
    let safe = state.safe()?;
    let info = blocking(move || Ok(safe.info()?)).await?;
    Ok(SafeInfo {
        files: info.files,
        folders: info.folders,
        bytes: info.bytes,
        trashed: info.trashed,
    })
}

fn checked_limit(limit: u32) -> Result<u64> {
    if limit > MAX_PAGE {
        return Err(AppError::invalid(format!(
            "a page has at most {MAX_PAGE} rows"
        )));
    }
    Ok(u64::from(limit))
}

#[tauri::command]
pub async fn list_folder(state: State<'_, AppState>, request: ListRequest) -> Result<Page> {
    let safe = state.safe()?;
    let folder = folder(request.folder.as_deref())?;
    let limit = checked_limit(request.limit)?;
    let sort = match request.sort {
        SortKey::Name => LibSort::Name,
        SortKey::Size => LibSort::Size,
        SortKey::Modified => LibSort::Modified,
        SortKey::Kind => LibSort::Kind,
    };
    let order = if request.descending {
        SortOrder::Descending
    } else {
        SortOrder::Ascending
    };
    let offset = u64::from(request.offset);
    let page = blocking(move || Ok(safe.page(folder, sort, order, offset, limit)?)).await?;
    Ok(convert::page(page))
}

#[tauri::command]
pub async fn folder_children(
    state: State<'_, AppState>,
    folder: Option<String>,
) -> Result<Vec<FolderNode>> {
    let safe = state.safe()?;
    let parent = self::folder(folder.as_deref())?;
    let folders = blocking(move || Ok(safe.subfolders(parent)?)).await?;
    Ok(folders
        .into_iter()
        .map(|(item, has_subfolders)| FolderNode {
            id: item.id.to_string(),
            name: item.name,
            has_subfolders,
        })
        .collect())
}

#[tauri::command]
pub async fn breadcrumb(state: State<'_, AppState>, folder: Option<String>) -> Result<Vec<Crumb>> {
    let opened = state.opened()?;
    let mut next = self::folder(folder.as_deref())?;
    let safe = opened.safe.clone();
    let mut crumbs = blocking(move || {
        let mut crumbs = Vec::new();
        while let Some(id) = next {
            let item = safe.item(id)?;
            crumbs.push(Crumb {
                id: Some(id.to_string()),
                name: item.name,
            });
            next = item.parent;
            if crumbs.len() > 10_000 {
                return Err(AppError::new(ErrorKind::Damaged, "a folder cycle"));
            }
        }
        Ok(crumbs)
    })
    .await?;
    crumbs.push(Crumb {
        id: None,
        name: opened.name.clone(),
    });
    crumbs.reverse();
    Ok(crumbs)
}

#[tauri::command]
pub async fn item_details(state: State<'_, AppState>, id: String) -> Result<ItemDetails> {
    let safe = state.safe()?;
    let id = convert::id(&id)?;
    blocking(move || {
        let item = safe.item(id)?;
        let tags = safe.tags_of(id)?;
        let path = safe.path_of(id)?;
        let in_trash = safe.is_in_trash(id)?;
        let items_inside = match item.kind {
            LibKind::Folder => safe.count_inside(id)?,
            LibKind::File => 0,
        };
        let preview = match (item.kind, item.content) {
            (LibKind::File, LibContent::Present) => convert::preview_kind(&item.name),
            _ => PreviewKind::None,
        };
        Ok(ItemDetails {
            created_ms: item.created_at.map(ms),
            comment: item.comment.clone(),
            row: convert::row(item, tags),
            path,
            in_trash,
            items_inside,
            preview,
        })
    })
    .await
}

#[tauri::command]
pub async fn favorites(state: State<'_, AppState>, offset: u32, limit: u32) -> Result<Page> {
    let safe = state.safe()?;
    let limit = checked_limit(limit)?;
    let page = blocking(move || Ok(safe.favorites(u64::from(offset), limit)?)).await?;
    Ok(convert::page(page))
}

#[tauri::command]
pub async fn recent_items(state: State<'_, AppState>, offset: u32, limit: u32) -> Result<Page> {
    let safe = state.safe()?;
    let limit = checked_limit(limit)?;
    let page = blocking(move || Ok(safe.recent(u64::from(offset), limit)?)).await?;
    Ok(convert::page(page))
}

#[tauri::command]
pub async fn trash_items(state: State<'_, AppState>, offset: u32, limit: u32) -> Result<Page> {
    let safe = state.safe()?;
    let limit = checked_limit(limit)?;
    let page = blocking(move || Ok(safe.trash_page(u64::from(offset), limit)?)).await?;
    Ok(convert::page(page))
}

#[tauri::command]
pub async fn tags(state: State<'_, AppState>) -> Result<Vec<TagCount>> {
    let safe = state.safe()?;
    let tags = blocking(move || Ok(safe.all_tags()?)).await?;
    Ok(tags
        .into_iter()
        .map(|tag| TagCount {
            name: tag.name,
            items: tag.items,
        })
        .collect())
}

#[tauri::command]
pub async fn tagged_items(
    state: State<'_, AppState>,
    tag: String,
    offset: u32,
    limit: u32,
) -> Result<Page> {
    let safe = state.safe()?;
    let limit = checked_limit(limit)?;
    let page = blocking(move || Ok(safe.tagged(&tag, u64::from(offset), limit)?)).await?;
    Ok(convert::page(page))
}

#[tauri::command]
pub async fn search(state: State<'_, AppState>, request: SearchRequest) -> Result<SearchPage> {
    let safe = state.safe()?;
    let query = SearchQuery {
        text: request.text,
        folder: folder(request.folder.as_deref())?,
        tag: request.tag,
        favorites: request.favorites_only,
        trash: false,
        offset: u64::from(request.offset),
        limit: Some(checked_limit(request.limit)?),
    };
    let (hits, total) = blocking(move || Ok(safe.search(&query)?)).await?;
    Ok(SearchPage {
        total: u32::try_from(total).unwrap_or(u32::MAX),
        offset: request.offset,
        hits: hits
            .into_iter()
            .map(|hit| SearchHit {
                row: convert::lib_row(hit.row),
                folder_path: hit.folder_path,
            })
            .collect(),
    })
}

// --- Organising ----------------------------------------------------------------------------

/// Runs a change, then tells every window which folders changed.
async fn change<T: Send + 'static>(
    state: &AppState,
    folders: Vec<Option<uuid::Uuid>>,
    work: impl FnOnce(Safe) -> arca_safe::Result<T> + Send + 'static,
) -> Result<T> {
    let safe = state.safe()?;
    let value = blocking(move || Ok(work(safe)?)).await?;
    crate::events::changed(&state.emit, folders);
    Ok(value)
}

/// Like `change`, for work on the items `ids`: the folders they were in are reloaded too,
/// looked up with the work, off the async runtime.
async fn change_items<T: Send + 'static>(
    state: &AppState,
    ids: Vec<uuid::Uuid>,
    mut folders: Vec<Option<uuid::Uuid>>,
    work: impl FnOnce(Safe, Vec<uuid::Uuid>) -> arca_safe::Result<T> + Send + 'static,
) -> Result<T> {
    let safe = state.safe()?;
    let (value, folders) = blocking(move || {
        folders.extend(
            ids.iter()
                .filter_map(|id| safe.item(*id).ok().map(|item| item.parent)),
        );
        Ok((work(safe, ids)?, folders))
    })
    .await?;
    crate::events::changed(&state.emit, folders);
    Ok(value)
}

#[tauri::command]
pub async fn create_folder(
    state: State<'_, AppState>,
    parent: Option<String>,
    name: String,
) -> Result<String> {
    let parent = folder(parent.as_deref())?;
    let id = change(&state, vec![parent], move |safe| {
        safe.create_folder(parent, name.trim())
    })
    .await?;
    Ok(id.to_string())
}

#[tauri::command]
pub async fn rename_item(state: State<'_, AppState>, id: String, name: String) -> Result<()> {
    let id = convert::id(&id)?;
    change_items(&state, vec![id], Vec::new(), move |safe, _| {
        safe.rename(id, &name)
    })
    .await
}

#[tauri::command]
pub async fn move_items(
    state: State<'_, AppState>,
    ids: Vec<String>,
    folder: Option<String>,
) -> Result<()> {
    let ids = convert::ids(&ids)?;
    let target = self::folder(folder.as_deref())?;
    change_items(&state, ids, vec![target], move |safe, ids| {
        for id in ids {
            safe.move_to(id, target)?;
        }
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn move_to_trash(state: State<'_, AppState>, ids: Vec<String>) -> Result<()> {
    let ids = convert::ids(&ids)?;
    change_items(&state, ids, Vec::new(), move |safe, ids| {
        for id in ids {
            safe.trash(id)?;
        }
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn restore_from_trash(
    state: State<'_, AppState>,
    ids: Vec<String>,
) -> Result<Vec<String>> {
    let ids = convert::ids(&ids)?;
    change(&state, Vec::new(), move |safe| {
        ids.into_iter()
            .map(|id| safe.restore_from_trash(id))
            .collect::<arca_safe::Result<Vec<_>>>()
    })
    .await
}

#[tauri::command]
pub async fn empty_trash(state: State<'_, AppState>) -> Result<u32> {
    let deleted = change(&state, Vec::new(), |safe| safe.empty_trash()).await?;
    Ok(u32::try_from(deleted).unwrap_or(u32::MAX))
}

#[tauri::command]
pub async fn set_favorite(
    state: State<'_, AppState>,
    ids: Vec<String>,
    favorite: bool,
) -> Result<()> {
    let ids = convert::ids(&ids)?;
    change_items(&state, ids, Vec::new(), move |safe, ids| {
        for id in ids {
            safe.set_favorite(id, favorite)?;
        }
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn set_comment(state: State<'_, AppState>, id: String, comment: String) -> Result<()> {
    let id = convert::id(&id)?;
    change(&state, Vec::new(), move |safe| {
        safe.set_comment(id, &comment)
    })
    .await
}

#[tauri::command]
pub async fn add_tag(state: State<'_, AppState>, ids: Vec<String>, tag: String) -> Result<()> {
    let ids = convert::ids(&ids)?;
    change_items(&state, ids, Vec::new(), move |safe, ids| {
        safe.add_tag_to(&ids, &tag)
    })
    .await
}

#[tauri::command]
pub async fn remove_tag(state: State<'_, AppState>, ids: Vec<String>, tag: String) -> Result<()> {
    let ids = convert::ids(&ids)?;
    change_items(&state, ids, Vec::new(), move |safe, ids| {
        safe.remove_tag_from(&ids, &tag)
    })
    .await
}

#[tauri::command]
pub async fn rename_tag(state: State<'_, AppState>, from: String, to: String) -> Result<()> {
    change(&state, Vec::new(), move |safe| safe.rename_tag(&from, &to)).await
}

#[tauri::command]
pub async fn delete_tag(state: State<'_, AppState>, name: String) -> Result<()> {
    change(&state, Vec::new(), move |safe| safe.delete_tag(&name)).await
}

// --- Security and settings -------------------------------------------------------------------

#[tauri::command]
pub async fn change_password(
    state: State<'_, AppState>,
    current: String,
    new_password: String,
    accept_weak: bool,
) -> Result<()> {
    let opened = state.opened()?;
    let current = self::password(current);
    let new_password = self::password(new_password);
    judge(&new_password, &[opened.name.as_str()], accept_weak)?;
    let safe = opened.safe.clone();
    blocking(move || Ok(safe.change_password(&current, &new_password)?)).await
}

#[tauri::command]
pub async fn create_recovery_key(
    state: State<'_, AppState>,
    password: String,
) -> Result<RecoveryKeySheet> {
    let opened = state.opened()?;
    let password = self::password(password);
    let safe = opened.safe.clone();
    let key = blocking(move || Ok(safe.create_recovery_key(&password)?)).await?;
    Ok(RecoveryKeySheet {
        key: key.expose_for_display().to_owned(),
        safe_name: opened.name.clone(),
        safe_id: opened.safe.id().to_string(),
        created_ms: now_ms(),
    })
}

#[tauri::command]
pub async fn settings(state: State<'_, AppState>) -> Result<Settings> {
    Ok(state.config().settings.clone())
}

#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: Settings,
    password: Option<String>,
) -> Result<()> {
    if settings
        .auto_lock_minutes
        .is_some_and(|minutes| minutes == 0 || minutes > 24 * 60)
    {
        return Err(AppError::invalid("auto-lock takes 1 to 1,440 minutes"));
    }
    let current = state.config().settings.clone();
    let security_changed = current.auto_lock_minutes != settings.auto_lock_minutes
        || current.lock_on_sleep != settings.lock_on_sleep;
    // Security settings ask for the Safe Password again (counted by the back-off); with no
    // Safe unlocked there is nothing they protect yet.
    if security_changed && let Ok(safe) = state.safe() {
        let password = self::password(password.ok_or_else(|| {
            AppError::new(
                ErrorKind::WrongPassword,
                "the Safe Password is needed to change the auto-lock",
            )
        })?);
        blocking(move || Ok(safe.check_password(&password)?)).await?;
    }
    state.config().set_settings(settings);
    Ok(())
}

#[tauri::command]
pub async fn activity(state: State<'_, AppState>) -> Result<()> {
    state.touch();
    Ok(())
}

/// The paths given for a Safe, not reaching inside its store (the window never names a path
/// inside a Safe's folder).
pub fn outside_store(opened: &Arc<crate::state::Opened>, path: &Path) -> Result<()> {
    if path.starts_with(&opened.path) {
        return Err(AppError::invalid(
            "this folder is inside the Safe; choose one outside it",
        ));
    }
    Ok(())
}

// --- Preview -------------------------------------------------------------------------------

#[tauri::command]
pub async fn preview_url<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> Result<String> {
    let opened = state.opened()?;
    let id = convert::id(&id)?;
    let safe = opened.safe.clone();
    let item = blocking(move || Ok(safe.item(id)?)).await?;
    convert::refuse_waiting(&item)?;
    let media = matches!(
        convert::preview_kind(&item.name),
        PreviewKind::Audio | PreviewKind::Video
    );
    if cfg!(target_os = "linux") && media {
        // WebKitGTK plays media only from http(s): see media.rs.
        let base = crate::media::base(&app).map_err(|error| {
            AppError::new(
                ErrorKind::Io,
                format!("cannot start the media preview: {error}"),
            )
        })?;
        return Ok(format!("{base}/media/{}/{id}", opened.token));
    }
    Ok(format!(
        "{}/preview/{}/{id}",
        crate::preview::base(),
        opened.token
    ))
}

#[tauri::command]
pub async fn thumbnail_url(state: State<'_, AppState>, id: String) -> Result<Option<String>> {
    let opened = state.opened()?;
    let id = convert::id(&id)?;
    let safe = opened.safe.clone();
    let item = blocking(move || Ok(safe.item(id)?)).await?;
    let image = item.kind == LibKind::File
        && item.content == LibContent::Present
        && convert::preview_kind(&item.name) == PreviewKind::Image;
    Ok(image.then(|| format!("{}/thumbnail/{}/{id}", crate::preview::base(), opened.token)))
}
