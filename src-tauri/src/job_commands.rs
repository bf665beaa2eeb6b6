//! The commands that start long work: import, export, backup, verify, restore, rebuild. Each
//! starts a job (see [`crate::jobs`]) and returns it at once; the window follows it through the
//! `job` event, and reloads what changed on the `changed` event.

use std::path::Path;

use arca_safe::{
    BackupOptions, ImportOptions, OnClash, OpenMode, OpenOptions, RestoreInto, RestoreItemsOptions,
    Safe, Unlock,
};
use tauri::State;

use crate::commands::{blocking, outside_store, path_arg};
use crate::convert::{self, folder};
use crate::dto::{AppError, BackupEntry, BackupListing, Job, JobKind};
use crate::jobs::Outcome;
use crate::state::AppState;

type Result<T> = std::result::Result<T, AppError>;

/// "3 files and 1 folder".
fn files_and_folders(files: u64, folders: u64) -> String {
    format!(
        "{} and {}",
        count(files, "file", "files"),
        count(folders, "folder", "folders")
    )
}

fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

#[tauri::command]
pub async fn import_paths(
    state: State<'_, AppState>,
    paths: Vec<String>,
    into: Option<String>,
) -> Result<Job> {
    let opened = state.opened()?;
    if paths.is_empty() {
        return Err(AppError::invalid("nothing to import"));
    }
    let sources = paths
        .iter()
        .map(|path| path_arg(path, "each file to import"))
        .collect::<Result<Vec<_>>>()?;
    let into = folder(into.as_deref())?;
    let title = sources
        .iter()
        .map(|source| {
            source
                .file_name()
                .map_or_else(|| shown(source), |name| name.to_string_lossy().into_owned())
        })
        .collect::<Vec<_>>()
        .join(", ");
    let safe = opened.safe.clone();
    let emit = state.emit.clone();
    Ok(state
        .jobs
        .start(JobKind::Import, title, move |control, observe| {
            let options = ImportOptions {
                into,
                ..ImportOptions::default()
            };
            let mut last_change = None;
            let report = safe.import(&sources, &options, control, &mut |event| {
                crate::events::changed_now_and_then(&emit, into, &event, &mut last_change);
                observe(event);
            })?;
            crate::events::changed(&emit, vec![into]);
            let mut problems = report.renamed.clone();
            problems.extend(report.skipped.iter().cloned());
            problems.extend(report.failed.iter().cloned());
            Ok(Outcome {
                summary: format!(
                    "{} imported",
                    files_and_folders(report.files, report.folders)
                ),
                problems,
                stopped: report.cancelled || report.interrupted,
                notes: Vec::new(),
            })
        }))
}

#[tauri::command]
pub async fn resume_import(state: State<'_, AppState>, job_id: String) -> Result<Job> {
    let opened = state.opened()?;
    let job = convert::id(&job_id)?;
    let safe = opened.safe.clone();
    let emit = state.emit.clone();
    Ok(state.jobs.start(
        JobKind::Import,
        "Interrupted import".to_owned(),
        move |control, observe| {
            let report = safe.resume_import(job, control, observe)?;
            crate::events::changed_everywhere(&emit);
            Ok(Outcome {
                summary: format!("{} imported", count(report.files, "file", "files")),
                problems: report.failed,
                stopped: report.cancelled || report.interrupted,
                notes: Vec::new(),
            })
        },
    ))
}

#[tauri::command]
pub async fn abandon_import(state: State<'_, AppState>, job_id: String) -> Result<()> {
    let safe = state.safe()?;
    let job = convert::id(&job_id)?;
    blocking(move || Ok(safe.abandon_import(job)?)).await?;
    crate::events::changed_everywhere(&state.emit);
    Ok(())
}

#[tauri::command]
pub async fn export_items(state: State<'_, AppState>, ids: Vec<String>, to: String) -> Result<Job> {
    let opened = state.opened()?;
    let ids = convert::ids(&ids)?;
    let to = path_arg(&to, "the folder to export to")?;
    outside_store(&opened, &to)?;
    let safe = opened.safe.clone();
    let title = shown(&to);
    Ok(state
        .jobs
        .start(JobKind::Export, title, move |control, observe| {
            let report = safe.export(&ids, &to, OnClash::KeepBoth, control, observe)?;
            let mut problems = report.skipped.clone();
            problems.extend(report.failed.iter().cloned());
            Ok(Outcome {
                summary: format!(
                    "{} exported",
                    files_and_folders(report.files, report.folders)
                ),
                problems,
                stopped: report.cancelled,
                notes: Vec::new(),
            })
        }))
}

#[tauri::command]
pub async fn jobs(state: State<'_, AppState>) -> Result<Vec<Job>> {
    Ok(state.jobs.list())
}

#[tauri::command]
pub async fn pause_job(state: State<'_, AppState>, id: String) -> Result<()> {
    state.jobs.pause(&id)
}

#[tauri::command]
pub async fn resume_job(state: State<'_, AppState>, id: String) -> Result<()> {
    state.jobs.resume(&id)
}

#[tauri::command]
pub async fn cancel_job(state: State<'_, AppState>, id: String) -> Result<()> {
    state.jobs.cancel(&id)
}

#[tauri::command]
pub async fn dismiss_job(state: State<'_, AppState>, id: String) -> Result<()> {
    state.jobs.dismiss(&id)
}

// --- Backup ------------------------------------------------------------------------------------

#[tauri::command]
pub async fn backup_to(state: State<'_, AppState>, target: String) -> Result<Job> {
    let opened = state.opened()?;
    let target = path_arg(&target, "the backup folder")?;
    outside_store(&opened, &target)?;
    let safe = opened.safe.clone();
    Ok(state
        .jobs
        .start(JobKind::Backup, shown(&target), move |control, observe| {
            let report = safe.backup(&target, &BackupOptions::default(), control, observe)?;
            let mut problems = report.pending.clone();
            problems.extend(report.failed.iter().cloned());
            Ok(Outcome {
                summary: format!(
                    "{} backed up ({} copied, {} unchanged)",
                    count(report.items, "item", "items"),
                    count(report.data_files_copied, "file", "files"),
                    report.unchanged
                ),
                problems,
                stopped: report.cancelled,
                notes: Vec::new(),
            })
        }))
}

#[tauri::command]
pub async fn verify_backup(state: State<'_, AppState>, target: String, full: bool) -> Result<Job> {
    let safe = state.safe()?;
    let target = path_arg(&target, "the backup folder")?;
    Ok(state.jobs.start(
        JobKind::VerifyBackup,
        shown(&target),
        move |control, observe| {
            let report = safe.verify_backup(&target, full, control, observe)?;
            Ok(Outcome {
                summary: if report.stopped {
                    format!(
                        "stopped after {} checked: {}",
                        count(report.files_checked, "file", "files"),
                        count(report.problems.len() as u64, "problem", "problems")
                    )
                } else if report.is_clean() {
                    format!(
                        "{} checked: no problems",
                        count(report.items, "item", "items")
                    )
                } else {
                    format!(
                        "{} checked: {}",
                        count(report.items, "item", "items"),
                        count(report.problems.len() as u64, "problem", "problems")
                    )
                },
                problems: report.problems,
                stopped: report.stopped,
                notes: Vec::new(),
            })
        },
    ))
}

#[tauri::command]
pub async fn list_backup(state: State<'_, AppState>, target: String) -> Result<BackupListing> {
    let safe = state.safe()?;
    let target = path_arg(&target, "the backup folder")?;
    let listing = blocking(move || Ok(safe.list_backup(&target)?)).await?;
    Ok(BackupListing {
        last_complete_ms: listing.last_complete.map(convert::ms),
        interrupted: listing.interrupted,
        entries: listing
            .entries
            .into_iter()
            .map(|entry| BackupEntry {
                path: entry.path,
                kind: convert::kind(entry.kind),
                size: entry.size,
                modified_ms: entry.modified_at.map(convert::ms),
                in_trash: entry.in_trash,
            })
            .collect(),
    })
}

#[tauri::command]
pub async fn restore_items(
    state: State<'_, AppState>,
    target: String,
    paths: Vec<String>,
    into: Option<String>,
) -> Result<Job> {
    let safe = state.safe()?;
    let target = path_arg(&target, "the backup folder")?;
    let into = match folder(into.as_deref())? {
        Some(folder) => RestoreInto::Folder(folder),
        None => RestoreInto::Original,
    };
    let emit = state.emit.clone();
    let title = paths.join(", ");
    Ok(state
        .jobs
        .start(JobKind::RestoreItems, title, move |control, observe| {
            let options = RestoreItemsOptions {
                into,
                on_clash: OnClash::KeepBoth,
            };
            let report =
                safe.restore_items_from_backup(&target, &paths, &options, control, observe)?;
            crate::events::changed_everywhere(&emit);
            let mut problems = report.failed.clone();
            problems.extend(report.notes.iter().cloned());
            Ok(Outcome {
                summary: format!(
                    "{} restored",
                    files_and_folders(report.files, report.folders)
                ),
                problems,
                stopped: report.cancelled,
                notes: Vec::new(),
            })
        }))
}

#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    target: String,
    password: String,
    parent: String,
    name: String,
) -> Result<Job> {
    let target = path_arg(&target, "the backup folder")?;
    let parent = path_arg(&parent, "the folder of the new Safe")?;
    let name = name.trim();
    let folder_name = if name.ends_with(".arca") {
        name.to_owned()
    } else {
        format!("{name}.arca")
    };
    let new_safe = arca_safe::join_checked(&parent, &folder_name)?;
    let password = arca_cryptor::Password::new(password);
    let backoff = state.backoff.clone();
    let title = shown(&new_safe);
    Ok(state
        .jobs
        .start(JobKind::RestoreBackup, title, move |control, observe| {
            let report = arca_safe::restore_backup(
                &target,
                Unlock::Password(&password),
                &backoff,
                &new_safe,
                control,
                observe,
            )?;
            let mut problems = report.failed.clone();
            problems.extend(report.notes.iter().cloned());
            Ok(Outcome {
                summary: format!(
                    "{} restored into {}",
                    files_and_folders(report.files, report.folders),
                    shown(&new_safe)
                ),
                problems,
                stopped: report.cancelled,
                notes: Vec::new(),
            })
        }))
}

/// Rebuilds a damaged database from a backup; when done the Safe is unlocked (event `changed`
/// tells the window to load it).
#[tauri::command]
pub async fn rebuild_database(
    state: State<'_, AppState>,
    safe_path: String,
    password: String,
    target: String,
) -> Result<Job> {
    let safe_path = path_arg(&safe_path, "the Safe")?;
    let target = path_arg(&target, "the backup folder")?;
    let password = arca_cryptor::Password::new(password);
    let options = OpenOptions {
        mode: OpenMode::Write,
        backoff: state.backoff.clone(),
    };
    let emit = state.emit.clone();
    Ok(state.jobs.start(
        JobKind::Rebuild,
        shown(&safe_path),
        move |control, observe| {
            let (safe, report) = arca_safe::rebuild_database_from_backup(
                &safe_path,
                Unlock::Password(&password),
                &options,
                &target,
                control,
                observe,
            )?;
            let Some(safe) = safe else {
                // The damaged database is still in place: nothing changed for the window.
                return Ok(Outcome {
                    summary: "the rebuild was stopped: the damaged database is still in place; \
                              run it again to rebuild it"
                        .to_owned(),
                    problems: report.failed,
                    stopped: true,
                    notes: Vec::new(),
                });
            };
            // Closed again: the window unlocks it as usual, now that it opens.
            drop::<Safe>(safe);
            crate::events::changed_everywhere(&emit);
            Ok(Outcome {
                summary: if report.rebuilt() {
                    format!(
                        "the database was rebuilt: {}",
                        files_and_folders(report.files, report.folders)
                    )
                } else {
                    "the database was whole: nothing was rebuilt".to_owned()
                },
                problems: report.failed,
                stopped: false,
                notes: Vec::new(),
            })
        },
    ))
}
