//! Sync between devices as the app runs it: a run is a job like any other (the jobs panel shows
//! it, cancel stops it, locking interrupts it); one runs after each unlock and then on the
//! schedule the person set for the Safe, while it is unlocked. The window hears of each run's end
//! (event `synced`, the Safe's [`SyncStatus`]) and reloads what it shows when changes came in.
//!
//! What a run reported is kept in memory until the Safe is locked (its decisions name items);
//! only when the Safe last synced is remembered, beside its schedule in the app's config.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arca_safe::{Safe, TargetSettings};
use tauri::{AppHandle, Manager, Runtime};

use crate::config::Config;
use crate::convert::{self, now_ms};
use crate::dto::{
    AppError, BucketTarget, ConflictItem, ConflictKind, DeviceState, ErrorKind, Job, JobKind,
    JobState, Problem, ProblemKind, SyncConflict, SyncDevice, SyncReport, SyncRun, SyncStatus,
    SyncTarget,
};
use crate::events::{Emit, send};
use crate::jobs::{Jobs, Outcome};
use crate::state::AppState;

/// How often the schedule looks whether a run is due.
const SCHEDULE_TICK: Duration = Duration::from_secs(15);

/// The longest schedule: a day.
pub const MAX_MINUTES: u32 = 24 * 60;

/// The open Safe's sync runs since its unlock.
#[derive(Debug, Default)]
pub struct SyncSession {
    /// The Safe they belong to (its folder: two copies of one Safe are two).
    pub safe: Option<PathBuf>,
    /// The run going on now (its job id).
    pub running: Option<String>,
    /// When the last run started (the schedule counts from it).
    pub last_started: Option<Instant>,
    /// The last run that ended.
    pub last_run: Option<SyncRun>,
}

/// What a run needs of the app, shareable with the threads that start and run it.
#[derive(Clone)]
pub struct SyncContext {
    pub jobs: Arc<Jobs>,
    pub emit: Emit,
    pub config: Arc<Mutex<Config>>,
    pub session: Arc<Mutex<SyncSession>>,
}

impl SyncContext {
    fn session(&self) -> MutexGuard<'_, SyncSession> {
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn config(&self) -> MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The session of `safe`: a new one when the last belonged to another Safe.
    fn session_of(&self, safe: &Safe) -> MutexGuard<'_, SyncSession> {
        let mut session = self.session();
        let root = safe.layout().root();
        if session.safe.as_deref() != Some(root) {
            *session = SyncSession {
                safe: Some(root.to_path_buf()),
                ..SyncSession::default()
            };
        }
        session
    }

    /// The Safe's sync as the window shows it; `target` as read from the Safe.
    pub fn status(&self, safe: &Safe, target: Option<&TargetSettings>) -> SyncStatus {
        let prefs = self.config().safe(safe.layout().root());
        let session = self.session_of(safe);
        let running = session
            .running
            .as_ref()
            .filter(|id| self.jobs.get(id).is_some_and(|job| active(&job)))
            .cloned();
        let status = SyncStatus {
            target: target.map(target_dto),
            every_minutes: prefs.sync_every_minutes,
            running,
            last_synced_ms: prefs.last_synced_ms,
            last_run: session.last_run.clone(),
            // Read without the session held: a run ending meanwhile waits for nothing.
            devices: Vec::new(),
        };
        drop(session);
        SyncStatus {
            devices: devices(safe).unwrap_or_default(),
            ..status
        }
    }

    /// The run going on for `safe`, if any.
    fn running(&self, safe: &Safe) -> Option<Job> {
        let session = self.session_of(safe);
        session
            .running
            .as_ref()
            .and_then(|id| self.jobs.get(id))
            .filter(active)
    }
}

/// The devices syncing `safe` as it knows them, for the window.
///
/// # Errors
/// [`ErrorKind::SafeLocked`], database errors.
pub fn devices(safe: &Safe) -> Result<Vec<SyncDevice>, AppError> {
    Ok(safe.sync_devices()?.iter().map(device_dto).collect())
}

/// A device for the window.
pub fn device_dto(device: &arca_safe::SyncDevice) -> SyncDevice {
    SyncDevice {
        id: device.id.to_string(),
        name: device.name.clone(),
        code: device.code.clone(),
        state: match device.state {
            arca_safe::DeviceState::Approved => DeviceState::Approved,
            arca_safe::DeviceState::Waiting => DeviceState::Waiting,
            arca_safe::DeviceState::Removed => DeviceState::Removed,
        },
        this_device: device.this_device,
        asked_ms: device.asked_at.map(convert::ms),
        decided_by: device.decided_by.clone(),
        decided_ms: device.decided_at.map(convert::ms),
    }
}

/// Starts a run that takes a decision about a device to the other devices: the run, or `None`
/// when one is going on already (it may have sent the records before the decision: the next run
/// takes it), or why none can start (the decision is kept and goes with the next run).
pub fn publish(context: &SyncContext, safe: &Safe) -> (Option<Job>, Option<AppError>) {
    if context.running(safe).is_some() {
        return (None, None);
    }
    match start(context, safe, false) {
        Ok(job) => (Some(job), None),
        Err(error) => (None, Some(error)),
    }
}

fn active(job: &Job) -> bool {
    matches!(job.state, JobState::Running | JobState::Paused)
}

/// A target for the window.
pub fn target_dto(settings: &TargetSettings) -> SyncTarget {
    match settings {
        TargetSettings::Folder { path } => SyncTarget::Folder {
            path: path.display().to_string(),
        },
        // Without its secret: that never goes to the window.
        TargetSettings::S3(bucket) => SyncTarget::S3(BucketTarget {
            endpoint: bucket.endpoint.clone(),
            region: bucket.region.clone(),
            bucket: bucket.bucket.clone(),
            prefix: bucket.prefix.clone(),
            access_key_id: bucket.access_key_id.clone(),
            secret_access_key: None,
        }),
        other => SyncTarget::Other {
            description: other.describe(),
        },
    }
}

/// No target is set up.
pub fn no_target() -> AppError {
    AppError::new(
        ErrorKind::NoSyncTarget,
        "no sync target is set up for this Safe; choose one first",
    )
}

/// Whether `path` is a folder that can serve as a sync target here.
pub fn usable_folder(path: &Path) -> Result<(), AppError> {
    if !path.is_dir() {
        return Err(AppError::new(
            ErrorKind::NotFound,
            format!(
                "{} is not a folder on this device (is the drive connected?)",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Starts a sync run of `safe`, or returns the one running. `automatic`: started by the unlock
/// or the schedule, not by the person.
///
/// # Errors
/// [`ErrorKind::NoSyncTarget`], [`ErrorKind::ReadOnly`]; reading the target settings.
pub fn start(context: &SyncContext, safe: &Safe, automatic: bool) -> Result<Job, AppError> {
    safe.writable()?;
    let target = safe.sync_target()?.ok_or_else(no_target)?;
    let mut session = context.session_of(safe);
    if let Some(job) = session
        .running
        .as_ref()
        .and_then(|id| context.jobs.get(id))
        .filter(active)
    {
        return Ok(job);
    }
    // Each run replaces the last one in the jobs panel: a schedule would fill it otherwise.
    context.jobs.forget_ended(JobKind::Sync);
    session.last_started = Some(Instant::now());
    let title = target.describe();
    let run = context.clone();
    let safe = safe.clone();
    let job = context
        .jobs
        .start(JobKind::Sync, title, move |control, _observe| {
            let result = safe.sync(control).map_err(AppError::from);
            let report = result.as_ref().ok().map(|report| report_dto(&safe, report));
            let changed = report
                .as_ref()
                .is_some_and(|report| report.operations_received > 0 || report.files_received > 0);
            if changed {
                crate::events::changed_everywhere(&run.emit);
            }
            run.ended(
                &safe,
                &target,
                automatic,
                report.clone(),
                result.as_ref().err(),
            );
            let report = match (result, report) {
                (Ok(_), Some(report)) => report,
                (Err(error), _) => return Err(error),
                (Ok(_), None) => return Err(AppError::new(ErrorKind::Internal, "no report")),
            };
            Ok(Outcome {
                summary: summary(&report),
                problems: Vec::new(),
                stopped: report.stopped,
                notes: report
                    .problems
                    .iter()
                    .map(|message| Problem {
                        kind: ProblemKind::Refused,
                        path: None,
                        message: message.clone(),
                    })
                    .collect(),
            })
        });
    session.running = Some(job.id.clone());
    Ok(job)
}

impl SyncContext {
    /// Records a run's end and tells the window. Nothing of it is kept when the Safe was
    /// locked meanwhile (the session is another's, or none).
    fn ended(
        &self,
        safe: &Safe,
        target: &TargetSettings,
        automatic: bool,
        report: Option<SyncReport>,
        error: Option<&AppError>,
    ) {
        let finished_ms = now_ms();
        if report.as_ref().is_some_and(|report| !report.stopped) {
            self.config().update_safe(safe.layout().root(), |prefs| {
                prefs.last_synced_ms = Some(finished_ms);
            });
        }
        {
            let mut session = self.session();
            if session.safe.as_deref() != Some(safe.layout().root()) || safe.is_locked() {
                return;
            }
            session.last_run = Some(SyncRun {
                job_id: session.running.take().unwrap_or_default(),
                finished_ms,
                automatic,
                report,
                error: error.cloned(),
            });
        }
        send(&self.emit, "synced", self.status(safe, Some(target)));
    }
}

/// The library's report for the window, each decision with where its item is now.
pub fn report_dto(safe: &Safe, report: &arca_safe::SyncReport) -> SyncReport {
    SyncReport {
        operations_sent: report.operations_sent,
        operations_received: report.operations_received,
        operations_waiting: report.operations_waiting,
        files_sent: report.files_sent,
        bytes_sent: report.bytes_sent,
        files_received: report.files_received,
        bytes_received: report.bytes_received,
        files_waiting: report.files_waiting,
        files_removed: report.files_removed,
        conflicts: report
            .conflicts
            .iter()
            .map(|conflict| conflict_dto(safe, conflict))
            .collect(),
        problems: report.problems.clone(),
        stopped: report.stopped,
        waiting_for_approval: report.waiting_for_approval.clone(),
        devices_asking: report.devices_asking.iter().map(device_dto).collect(),
    }
}

fn conflict_kind(kind: &str) -> ConflictKind {
    match kind {
        "kept" => ConflictKind::Kept,
        "moved" => ConflictKind::Moved,
        "renamed" => ConflictKind::Renamed,
        "copy" => ConflictKind::Copy,
        _ => ConflictKind::Field,
    }
}

/// A decision with its item, if that is still in the Safe.
pub fn conflict_dto(safe: &Safe, conflict: &arca_safe::Conflict) -> SyncConflict {
    let item = conflict.item.and_then(|id| {
        let item = safe.item(id).ok()?;
        Some(ConflictItem {
            id: id.to_string(),
            parent: item.parent.map(|parent| parent.to_string()),
            path: safe.path_of(id).ok()?,
            in_trash: safe.is_in_trash(id).ok()?,
            kind: convert::kind(item.kind),
            name: item.name,
        })
    });
    SyncConflict {
        at_ms: convert::ms(conflict.at),
        kind: conflict_kind(conflict.kind),
        detail: conflict.detail.clone(),
        item,
    }
}

/// One line for the jobs panel (the window words it itself, from the report).
fn summary(report: &SyncReport) -> String {
    format!(
        "{} changes sent, {} received; {} files sent, {} received, {} waiting",
        report.operations_sent,
        report.operations_received,
        report.files_sent,
        report.files_received,
        report.files_waiting
    )
}

/// After an unlock (or a join): a run if the Safe syncs automatically (`first`: in any case),
/// off the caller's thread.
pub fn after_unlock(context: SyncContext, safe: Safe, first: bool) {
    tauri::async_runtime::spawn_blocking(move || {
        let automatic = context
            .config()
            .safe(safe.layout().root())
            .sync_every_minutes
            .is_some();
        if (first || automatic)
            && safe.writable().is_ok()
            && matches!(safe.sync_target(), Ok(Some(_)))
            && let Err(error) = start(&context, &safe, !first)
        {
            eprintln!("arca-desktop: cannot start a sync: {}", error.message);
        }
    });
}

/// Whether the schedule wants a run now.
fn due(context: &SyncContext, safe: &Safe) -> bool {
    let Some(minutes) = context
        .config()
        .safe(safe.layout().root())
        .sync_every_minutes
    else {
        return false;
    };
    let session = context.session_of(safe);
    let running = session
        .running
        .as_ref()
        .and_then(|id| context.jobs.get(id))
        .is_some_and(|job| active(&job));
    !running
        && session
            .last_started
            .is_none_or(|started| started.elapsed() >= Duration::from_secs(u64::from(minutes) * 60))
}

/// Starts the schedule on a thread of its own: while a Safe is unlocked, a run every so many
/// minutes (the Safe's setting), counted from the start of the last one.
pub fn schedule<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    let _ = std::thread::Builder::new()
        .name("arca-sync-schedule".into())
        .spawn(move || {
            loop {
                std::thread::sleep(SCHEDULE_TICK);
                let state = app.state::<AppState>();
                let Ok(opened) = state.opened() else {
                    continue;
                };
                let context = state.sync_context();
                if opened.safe.writable().is_ok()
                    && due(&context, &opened.safe)
                    && matches!(opened.safe.sync_target(), Ok(Some(_)))
                    && let Err(error) = start(&context, &opened.safe, true)
                {
                    eprintln!("arca-desktop: cannot start a sync: {}", error.message);
                }
            }
        });
}
