//! What the app holds while it runs: the unlocked Safe (if any), the jobs, the config, when
//! the person last did something, and the thumbnails made so far. Locking drops the Safe (and
//! with it every key), the preview token and every thumbnail.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use arca_safe::{Backoff, Safe};

use crate::config::Config;
use crate::dto::{AppError, LockReason, LockedEvent};
use crate::editing::Editing;
use crate::events::Emit;
use crate::handoff::Inbox;
use crate::jobs::Jobs;
use crate::preview::Thumbnails;
use crate::sync::{SyncContext, SyncSession};

/// The Safe this window works on.
pub struct Opened {
    pub safe: Safe,
    pub path: PathBuf,
    pub name: String,
    /// A random part of every preview URL of this unlock: a URL of an earlier unlock is dead.
    pub token: String,
}

pub struct AppState {
    /// Sends an event to the window.
    pub emit: Emit,
    opened: RwLock<Option<Arc<Opened>>>,
    pub jobs: Arc<Jobs>,
    pub config: Arc<Mutex<Config>>,
    /// The open Safe's sync runs (dropped on lock).
    pub sync: Arc<Mutex<SyncSession>>,
    pub last_activity: Mutex<Instant>,
    pub thumbnails: Mutex<Thumbnails>,
    pub backoff: Backoff,
    /// Files open in other apps, and copies dragged out of the window.
    pub editing: Arc<Editing>,
    /// Safes and files handed over by other programs, until the window takes them.
    pub handoffs: Arc<Inbox>,
}

impl AppState {
    pub fn new(emit: Emit, config: Config) -> Self {
        Self {
            jobs: Jobs::new(emit.clone()),
            emit,
            opened: RwLock::new(None),
            config: Arc::new(Mutex::new(config)),
            sync: Arc::default(),
            last_activity: Mutex::new(Instant::now()),
            thumbnails: Mutex::new(Thumbnails::default()),
            backoff: Backoff::for_user(),
            editing: Arc::new(Editing::for_session()),
            handoffs: Arc::default(),
        }
    }

    /// The unlocked Safe.
    ///
    /// # Errors
    /// [`AppError::locked`] if none is.
    pub fn opened(&self) -> Result<Arc<Opened>, AppError> {
        self.opened
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(AppError::locked)
    }

    /// The unlocked Safe's handle.
    pub fn safe(&self) -> Result<Safe, AppError> {
        Ok(self.opened()?.safe.clone())
    }

    /// Makes `safe` the unlocked Safe, locking any other first.
    pub fn set_opened(&self, safe: Safe, path: PathBuf, name: String) -> Arc<Opened> {
        self.lock(None);
        let opened = Arc::new(Opened {
            safe,
            path,
            name,
            token: uuid::Uuid::new_v4().simple().to_string(),
        });
        *self.opened.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&opened));
        self.touch();
        opened
    }

    /// Locks the Safe: the last saves of files open in other apps are taken back and their
    /// copies wiped from RAM, its jobs are interrupted (imports stay resumable), every key
    /// dropped, every thumbnail forgotten. With a reason, the window is told (event `locked`).
    pub fn lock(&self, reason: Option<LockReason>) {
        let opened = self
            .opened
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.editing
            .end_all(opened.as_ref().map(|opened| &opened.safe), &self.emit);
        if let Some(opened) = opened {
            opened.safe.lock();
        }
        self.thumbnails().clear();
        *self.sync.lock().unwrap_or_else(PoisonError::into_inner) = SyncSession::default();
        if let Some(reason) = reason {
            crate::events::send(&self.emit, "locked", LockedEvent { reason });
        }
    }

    pub fn config(&self) -> MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What a sync run needs of the app, for threads of its own.
    pub fn sync_context(&self) -> SyncContext {
        SyncContext {
            jobs: Arc::clone(&self.jobs),
            emit: self.emit.clone(),
            config: Arc::clone(&self.config),
            session: Arc::clone(&self.sync),
        }
    }

    pub fn thumbnails(&self) -> MutexGuard<'_, Thumbnails> {
        self.thumbnails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The person did something: auto-lock starts counting again.
    pub fn touch(&self) {
        *self
            .last_activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    pub fn idle_for(&self) -> std::time::Duration {
        self.last_activity
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }

    pub fn is_unlocked(&self) -> bool {
        self.opened
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }
}
