//! Long-running work: pausing, resuming and cancelling it from another thread, and the progress
//! it reports.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Paused,
    Cancelled,
}

/// A handle to pause, resume or cancel a job; clone it to hand it to another thread.
#[derive(Debug, Clone)]
pub struct JobControl(Arc<(Mutex<State>, Condvar)>);

impl Default for JobControl {
    fn default() -> Self {
        Self(Arc::new((Mutex::new(State::Running), Condvar::new())))
    }
}

impl JobControl {
    /// A control for a job that starts running.
    pub fn new() -> Self {
        Self::default()
    }

    fn set(&self, state: State) {
        let (lock, changed) = &*self.0;
        let mut current = lock.lock().unwrap_or_else(PoisonError::into_inner);
        if *current != State::Cancelled {
            *current = state;
        }
        changed.notify_all();
    }

    /// Workers stop after the file they are on and wait.
    pub fn pause(&self) {
        self.set(State::Paused);
    }

    /// Paused workers go on.
    pub fn resume(&self) {
        self.set(State::Running);
    }

    /// Workers stop after the file they are on; the job ends as cancelled.
    pub fn cancel(&self) {
        self.set(State::Cancelled);
    }

    /// Whether the job was cancelled.
    pub fn is_cancelled(&self) -> bool {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner) == State::Cancelled
    }

    /// Blocks while paused; `false` once cancelled.
    pub(crate) fn proceed(&self) -> bool {
        let (lock, changed) = &*self.0;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while *state == State::Paused {
            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        *state == State::Running
    }
}

/// How far a job has got.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Progress {
    /// Files finished (done, skipped or failed).
    pub files_done: u64,
    /// Files in the job.
    pub files_total: u64,
    /// Cleartext bytes finished.
    pub bytes_done: u64,
    /// Cleartext bytes in the job.
    pub bytes_total: u64,
    /// Time since the job (or its resumption) started.
    #[serde(with = "seconds")]
    pub elapsed: Duration,
}

impl Progress {
    pub(crate) fn new(files_total: u64, bytes_total: u64) -> Self {
        Self {
            files_done: 0,
            files_total,
            bytes_done: 0,
            bytes_total,
            elapsed: Duration::ZERO,
        }
    }

    /// Bytes per second so far.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.bytes_done as f64 / seconds
        } else {
            0.0
        }
    }

    /// Estimated time left at the rate so far.
    pub fn time_left(&self) -> Option<Duration> {
        let rate = self.rate();
        (rate > 0.0).then(|| {
            Duration::from_secs_f64(self.bytes_total.saturating_sub(self.bytes_done) as f64 / rate)
        })
    }
}

mod seconds {
    pub(super) fn serialize<S: serde::Serializer>(
        value: &std::time::Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(value.as_secs_f64())
    }
}

/// Calls the progress callback at most every 100 ms, and always for the last update.
pub(crate) struct Reporter<'a> {
    callback: &'a mut dyn FnMut(&Progress),
    started: Instant,
    last: Option<Instant>,
    pub(crate) progress: Progress,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(callback: &'a mut dyn FnMut(&Progress), progress: Progress) -> Self {
        Self {
            callback,
            started: Instant::now(),
            last: None,
            progress,
        }
    }

    pub(crate) fn report(&mut self, force: bool) {
        let now = Instant::now();
        if force
            || self
                .last
                .is_none_or(|last| now - last >= Duration::from_millis(100))
        {
            self.progress.elapsed = now - self.started;
            (self.callback)(&self.progress);
            self.last = Some(now);
        }
    }
}
