//! The commands of sync between devices: the open Safe's target (a folder or a bucket) and
//! schedule, a run now, what sync decided; the sync configuration another device joins with
//! (exported under the Safe Password, as a file or shown as a QR code), and joining a Safe from
//! one on this device (its file, or a picture of its QR code).

use std::io::Read;
use std::path::{Path, PathBuf};

use arca_cryptor::Password;
use arca_safe::{MAX_SYNC_CONFIG_LEN, Safe, TargetSettings};
use tauri::State;

use crate::commands::{blocking, outside_store, path_arg};
use crate::convert::ms;
use crate::dto::{
    AppError, DeviceDecision, ErrorKind, Job, OpenedSafe, SyncConfigInfo, SyncConfigQr,
    SyncConflict, SyncDevice, SyncStatus, SyncTarget,
};
use crate::state::AppState;
use crate::sync::{self, MAX_MINUTES};
use crate::{bucket, qr};

type Result<T> = std::result::Result<T, AppError>;

/// The most decisions the conflict view lists (newest first).
const MAX_CONFLICTS: usize = 1000;

/// A comment longer than this is not a note.
const MAX_COMMENT_CHARS: usize = 1000;

/// The open Safe's sync.
#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> Result<SyncStatus> {
    let safe = state.safe()?;
    let context = state.sync_context();
    blocking(move || {
        let target = safe.sync_target()?;
        Ok(context.status(&safe, target.as_ref()))
    })
    .await
}

/// A folder target from the window, checked: absolute, there, outside the Safe.
fn folder_settings(target: SyncTarget, safe_path: &Path) -> Result<TargetSettings> {
    match target {
        SyncTarget::Folder { path } => {
            let path = path_arg(&path, "the sync folder")?;
            if path.starts_with(safe_path) {
                return Err(AppError::invalid(
                    "the sync folder is inside the Safe; choose one outside it",
                ));
            }
            sync::usable_folder(&path)?;
            Ok(TargetSettings::Folder { path })
        }
        SyncTarget::S3(_) => Err(AppError::invalid(
            "only where a folder is on this device can be given here, not a bucket",
        )),
        SyncTarget::Other { .. } => Err(AppError::invalid(
            "only a folder or a bucket can be chosen as sync target here",
        )),
    }
}

/// Sets where the open Safe syncs to: a folder, or a bucket (tried first: nothing is stored
/// when it cannot be reached, refuses the key or serves another Safe; a secret not typed again
/// is the stored one). The same target again changes nothing; a new one starts from nothing
/// there (the next run uploads everything this copy has).
#[tauri::command]
pub async fn set_sync_target(state: State<'_, AppState>, target: SyncTarget) -> Result<SyncStatus> {
    let opened = state.opened()?;
    let safe = opened.safe.clone();
    let context = state.sync_context();
    if let SyncTarget::S3(form) = target {
        return blocking(move || {
            safe.writable()?;
            let stored = safe.sync_target()?;
            let settings = bucket::settings(form, stored.as_ref())?;
            bucket::check(&settings, safe.id())?;
            let settings = TargetSettings::S3(settings);
            if stored.as_ref() != Some(&settings) {
                safe.set_sync_target(&settings)?;
            }
            Ok(context.status(&safe, Some(&settings)))
        })
        .await;
    }
    let settings = folder_settings(target, &opened.path)?;
    blocking(move || {
        if safe.sync_target()?.as_ref() != Some(&settings) {
            safe.set_sync_target(&settings)?;
        }
        Ok(context.status(&safe, Some(&settings)))
    })
    .await
}

/// How often the open Safe syncs by itself (after each unlock, then every so many minutes);
/// `None`: only when asked.
#[tauri::command]
pub async fn set_sync_schedule(
    state: State<'_, AppState>,
    every_minutes: Option<u32>,
) -> Result<SyncStatus> {
    if every_minutes.is_some_and(|minutes| minutes == 0 || minutes > MAX_MINUTES) {
        return Err(AppError::invalid("sync runs every 1 to 1,440 minutes"));
    }
    let safe = state.safe()?;
    state.config().update_safe(safe.layout().root(), |prefs| {
        prefs.sync_every_minutes = every_minutes;
    });
    let context = state.sync_context();
    blocking(move || {
        let target = safe.sync_target()?;
        Ok(context.status(&safe, target.as_ref()))
    })
    .await
}

/// Syncs the open Safe now (or returns the run going on).
#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> Result<Job> {
    let safe = state.safe()?;
    let context = state.sync_context();
    blocking(move || sync::start(&context, &safe, false)).await
}

/// What sync decided for the person, newest first, each with where its item is now.
#[tauri::command]
pub async fn sync_conflicts(state: State<'_, AppState>) -> Result<Vec<SyncConflict>> {
    let safe = state.safe()?;
    blocking(move || {
        Ok(safe
            .sync_conflicts()?
            .iter()
            .take(MAX_CONFLICTS)
            .map(|conflict| sync::conflict_dto(&safe, conflict))
            .collect())
    })
    .await
}

/// Forgets what sync decided (the person has seen it).
#[tauri::command]
pub async fn clear_sync_conflicts(state: State<'_, AppState>) -> Result<()> {
    let safe = state.safe()?;
    blocking(move || Ok(safe.clear_sync_conflicts()?)).await
}

/// The devices syncing the open Safe as it knows them (after its last sync), this one first.
#[tauri::command]
pub async fn sync_devices(state: State<'_, AppState>) -> Result<Vec<SyncDevice>> {
    let safe = state.safe()?;
    blocking(move || sync::devices(&safe)).await
}

/// Approves a device that asks to join (the person compared its code on both screens), then
/// starts a sync that takes the approval to it and to the other devices.
#[tauri::command]
pub async fn approve_device(state: State<'_, AppState>, id: String) -> Result<DeviceDecision> {
    decide(&state, &id, |safe, device| safe.approve_device(device)).await
}

/// Removes a device, or refuses one that asks to join, then starts a sync that takes the
/// decision to the other devices: its changes from now on count nowhere, and it stops syncing.
#[tauri::command]
pub async fn remove_device(state: State<'_, AppState>, id: String) -> Result<DeviceDecision> {
    decide(&state, &id, |safe, device| safe.remove_device(device)).await
}

async fn decide(
    state: &State<'_, AppState>,
    id: &str,
    decision: impl FnOnce(&Safe, uuid::Uuid) -> arca_safe::Result<()> + Send + 'static,
) -> Result<DeviceDecision> {
    let device = uuid::Uuid::try_parse(id)
        .map_err(|_| AppError::invalid(format!("{id:?} is not a device's id")))?;
    let safe = state.safe()?;
    let context = state.sync_context();
    blocking(move || {
        decision(&safe, device)?;
        let (job, sync_error) = sync::publish(&context, &safe);
        Ok(DeviceDecision {
            devices: sync::devices(&safe)?,
            job,
            sync_error,
        })
    })
    .await
}

/// Writes the open Safe's sync configuration to `to`: its target and keys, sealed under the
/// Safe Password, which is checked first (nothing is written when it is wrong).
#[tauri::command]
pub async fn export_sync_config(
    state: State<'_, AppState>,
    password: String,
    comment: String,
    to: String,
) -> Result<()> {
    let opened = state.opened()?;
    let to = path_arg(&to, "where the sync configuration goes")?;
    outside_store(&opened, &to)?;
    if to.is_dir() {
        return Err(AppError::invalid(
            "a sync configuration is saved as a file, not into a folder's place",
        ));
    }
    let comment = checked_comment(&comment)?;
    let password = Password::new(password);
    let safe = opened.safe.clone();
    blocking(move || {
        if safe.sync_target()?.is_none() {
            return Err(sync::no_target());
        }
        let sealed = safe.export_sync_config(&password, &comment)?;
        arca_cryptor::write_atomically_private(&to, &sealed).map_err(|error| {
            AppError::new(
                ErrorKind::Io,
                format!("cannot write {}: {error}", to.display()),
            )
        })
    })
    .await
}

/// The note of an exported configuration, trimmed.
fn checked_comment(comment: &str) -> Result<String> {
    let comment = comment.trim().to_owned();
    if comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::invalid("the note is at most 1,000 characters"));
    }
    Ok(comment)
}

/// The open Safe's sync configuration as a QR code for the window to show (nothing is written
/// anywhere): the same sealed configuration as the file, as text. The Safe Password is checked
/// first. Too large for a QR code (many devices), it comes without an image.
#[tauri::command]
pub async fn sync_config_qr(
    state: State<'_, AppState>,
    password: String,
    comment: String,
) -> Result<SyncConfigQr> {
    let safe = state.safe()?;
    let comment = checked_comment(&comment)?;
    let password = Password::new(password);
    blocking(move || {
        if safe.sync_target()?.is_none() {
            return Err(sync::no_target());
        }
        let sealed = safe.export_sync_config(&password, &comment)?;
        let text = arca_safe::sync_config_text(&sealed)?;
        Ok(qr::code(&text))
    })
    .await
}

/// A sync configuration's bytes from the file at `path`: the file itself (refused when larger
/// than one can be), or, for a PNG or JPEG picture, the text of the QR code in it.
fn read_config_file(path: &Path) -> Result<Vec<u8>> {
    let cannot = |error: std::io::Error| {
        let kind = if error.kind() == std::io::ErrorKind::NotFound {
            ErrorKind::NotFound
        } else {
            ErrorKind::Io
        };
        AppError::new(kind, format!("cannot read {}: {error}", path.display()))
    };
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    (&mut file)
        .take(MAX_SYNC_CONFIG_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if arca_safe::is_picture(&bytes) {
        return read_picture(path, file, bytes);
    }
    if bytes.len() > MAX_SYNC_CONFIG_LEN {
        return Err(AppError::new(
            ErrorKind::BadSyncConfig,
            format!("{} is too large to be a sync configuration", path.display()),
        ));
    }
    Ok(bytes)
}

/// The configuration a picture of its QR code holds (its text form); `bytes` its start.
fn read_picture(path: &Path, file: std::fs::File, mut bytes: Vec<u8>) -> Result<Vec<u8>> {
    use arca_safe::PictureProblem;
    let name = path.display();
    let room = (arca_safe::MAX_PICTURE_LEN + 1).saturating_sub(bytes.len() as u64);
    file.take(room)
        .read_to_end(&mut bytes)
        .map_err(|error| AppError::new(ErrorKind::Io, format!("cannot read {name}: {error}")))?;
    if bytes.len() as u64 > arca_safe::MAX_PICTURE_LEN {
        return Err(AppError::new(
            ErrorKind::BadSyncConfig,
            format!(
                "{name} is a picture larger than {} MiB: too large to read a QR code from; take a \
                 smaller photo or a screenshot of the code",
                arca_safe::MAX_PICTURE_LEN / 1024 / 1024
            ),
        ));
    }
    arca_safe::sync_config_from_picture(&bytes)
        .map(String::into_bytes)
        .map_err(|unread| match unread {
            PictureProblem::NotAPicture(error) => AppError::new(
                ErrorKind::BadSyncConfig,
                format!(
                    "{name} starts like a PNG or JPEG picture, but does not open as one ({error})"
                ),
            ),
            PictureProblem::NoCode => AppError::new(
                ErrorKind::NoQrCode,
                format!("{name} is an image, but no QR code was found in it"),
            ),
            PictureProblem::Unreadable => AppError::new(
                ErrorKind::NoQrCode,
                format!(
                    "{name} is an image with a QR code that could not be read: take a sharper, \
                 straighter picture of the whole code"
                ),
            ),
            PictureProblem::NotSyncConfig => AppError::new(
                ErrorKind::QrNotSyncConfig,
                format!("{name}: its QR code does not hold an Arca sync configuration"),
            ),
        })
}

/// What the sync configuration at `path` (its file, or a picture of its QR code) says, opened
/// with `password` (its keys stay inside).
#[tauri::command]
pub async fn read_sync_config(path: String, password: String) -> Result<SyncConfigInfo> {
    let path = path_arg(&path, "the sync configuration")?;
    let password = Password::new(password);
    blocking(move || {
        let bytes = read_config_file(&path)?;
        let config = arca_safe::read_sync_config(&bytes, &password)?;
        let target_here = match &config.target {
            TargetSettings::Folder { path } => path.is_dir(),
            _ => true,
        };
        Ok(SyncConfigInfo {
            name: config.name,
            safe_id: config.safe_id.to_string(),
            target: sync::target_dto(&config.target),
            exported_ms: ms(config.exported_at),
            comment: config.comment,
            target_here,
        })
    })
    .await
}

/// Joins this device to a Safe: a new copy `<parent>/<name>.arca` from the sync configuration
/// at `config` (its file, or a picture of its QR code), syncing through its target (or `target_here`, where that folder is on this
/// device). The copy is opened and its first run starts at once.
#[tauri::command]
pub async fn join_safe(
    state: State<'_, AppState>,
    config: String,
    password: String,
    parent: String,
    name: String,
    target_here: Option<SyncTarget>,
) -> Result<OpenedSafe> {
    let config = path_arg(&config, "the sync configuration")?;
    let parent = path_arg(&parent, "the folder of the new copy")?;
    let path = crate::commands::new_safe_path(&parent, &name)?;
    let here = target_here
        .map(|target| folder_settings(target, &path))
        .transpose()?;
    let password = Password::new(password);
    let safe = {
        let path: PathBuf = path.clone();
        blocking(move || {
            let bytes = read_config_file(&config)?;
            // The folder the configuration names must be here: a run against a folder that is
            // not there would start an empty target of its own instead of finding the Safe.
            if here.is_none()
                && let TargetSettings::Folder { path: folder } =
                    arca_safe::read_sync_config(&bytes, &password)?.target
            {
                sync::usable_folder(&folder)?;
            }
            let (safe, _) = Safe::join(&path, &bytes, &password, here)?;
            Ok(safe)
        })
        .await?
    };
    crate::commands::opened_then_sync(&state, safe, path, true)
}
