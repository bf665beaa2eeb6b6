//! Long-running work: pausing, resuming, cancelling and interrupting it from another thread,
//! what it reports as it goes (progress, and problems with single items as they happen), and
//! the registry through which locking a Safe stops every job running on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::problem::ItemProblem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Running,
    Paused,
    /// Stopped by the person: the job ends as cancelled (an import takes back what it had not
    /// finished).
    Cancelled,
    /// Stopped by a lock of the Safe: the job ends where it is and stays resumable.
    Interrupted,
    /// Interrupted while paused: offered again as paused.
    InterruptedWhilePaused,
}

/// A handle to pause, resume, cancel or interrupt a job; clone it to hand it to another thread.
/// A job checks it between items and inside large files, so it stops within a fraction of a
/// second.
#[derive(Debug, Clone)]
pub struct JobControl(Arc<(Mutex<State>, Condvar)>);

impl Default for JobControl {
    fn default() -> Self {
        Self(Arc::new((Mutex::new(State::Running), Condvar::new())))
    }
}

/// How a job stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Cancelled by the person.
    Cancelled,
    /// Interrupted (the Safe was locked): resumable where the job is (import).
    Interrupted,
}

impl JobControl {
    /// A control for a job that starts running.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> State {
        *self.0.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set(&self, state: State) {
        let (lock, changed) = &*self.0;
        let mut current = lock.lock().unwrap_or_else(PoisonError::into_inner);
        *current = match (*current, state) {
            (State::Paused, State::Interrupted) => State::InterruptedWhilePaused,
            (State::Running | State::Paused, new) => new,
            (stopped, _) => stopped,
        };
        changed.notify_all();
    }

    /// The job stops where it is (writing nothing) and waits.
    pub fn pause(&self) {
        self.set(State::Paused);
    }

    /// A paused job goes on.
    pub fn resume(&self) {
        self.set(State::Running);
    }

    /// The job stops and ends as cancelled.
    pub fn cancel(&self) {
        self.set(State::Cancelled);
    }

    /// The job stops and ends where it is, resumable (what a lock does).
    pub fn interrupt(&self) {
        self.set(State::Interrupted);
    }

    /// Whether the job is paused.
    pub fn is_paused(&self) -> bool {
        self.state() == State::Paused
    }

    /// Whether the job was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.state() == State::Cancelled
    }

    /// How the job was stopped, if it was.
    pub fn stopped(&self) -> Option<Stop> {
        match self.state() {
            State::Cancelled => Some(Stop::Cancelled),
            State::Interrupted | State::InterruptedWhilePaused => Some(Stop::Interrupted),
            State::Running | State::Paused => None,
        }
    }

    /// Blocks while paused; `false` once stopped.
    pub fn proceed(&self) -> bool {
        let (lock, changed) = &*self.0;
        let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while *state == State::Paused {
            state = changed.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        *state == State::Running
    }

    /// Whether the job was paused when a lock interrupted it: it is offered again as paused.
    pub fn interrupted_while_paused(&self) -> bool {
        self.state() == State::InterruptedWhilePaused
    }
}

/// What a job is doing now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Finding out what there is to do (walking sources, reading a backup's records).
    Planning,
    /// Encrypting files into the Safe.
    Encrypting,
    /// Decrypting files out of the Safe (export).
    Decrypting,
    /// Checking files against their recorded tags and hashes.
    Verifying,
    /// Copying data files (backup, restore).
    Copying,
    /// Writing attributes (database rows, backup records).
    Recording,
    /// Removing what is no longer needed.
    CleaningUp,
    /// Done.
    Finished,
}

/// How far a job has got.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Progress {
    /// What it is doing.
    pub phase: Phase,
    /// The item it is on (a path inside the Safe, or of a source).
    pub current: Option<String>,
    /// Files finished (done, skipped or failed).
    pub files_done: u64,
    /// Files in the job.
    pub files_total: u64,
    /// Cleartext bytes finished, including the part of large files in flight.
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
            phase: Phase::Planning,
            current: None,
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

/// What a job tells its observer as it goes.
#[derive(Debug, Clone, Copy)]
pub enum JobEvent<'a> {
    /// How far it has got (at most every 100 ms, and always at the end).
    Progress(&'a Progress),
    /// One item could not be done (or was done differently); the job goes on.
    Problem(&'a ItemProblem),
}

/// Receives a job's events.
pub type Observer<'a> = &'a mut dyn FnMut(JobEvent<'_>);

/// Bytes of large files in flight, counted by the threads that read them.
#[derive(Debug, Default)]
pub(crate) struct InFlight(AtomicU64);

impl InFlight {
    pub(crate) fn add(&self, bytes: u64) {
        self.0.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn sub(&self, bytes: u64) {
        self.0.fetch_sub(bytes, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sends progress at most every 100 ms (and always when forced), and problems at once.
pub(crate) struct Reporter<'a> {
    observer: Observer<'a>,
    started: Instant,
    last: Option<Instant>,
    pub(crate) progress: Progress,
    pub(crate) in_flight: Arc<InFlight>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(observer: Observer<'a>, progress: Progress) -> Self {
        Self {
            observer,
            started: Instant::now(),
            last: None,
            progress,
            in_flight: Arc::default(),
        }
    }

    /// Sets the phase and reports it at once.
    pub(crate) fn phase(&mut self, phase: Phase) {
        self.progress.phase = phase;
        self.report(true);
    }

    pub(crate) fn report(&mut self, force: bool) {
        let now = Instant::now();
        if force
            || self
                .last
                .is_none_or(|last| now - last >= Duration::from_millis(100))
        {
            self.progress.elapsed = now - self.started;
            let mut shown = self.progress.clone();
            shown.bytes_done = (shown.bytes_done + self.in_flight.get()).min(shown.bytes_total);
            (self.observer)(JobEvent::Progress(&shown));
            self.last = Some(now);
        }
    }

    pub(crate) fn problem(&mut self, problem: &ItemProblem) {
        (self.observer)(JobEvent::Problem(problem));
    }
}

/// The jobs running on one unlocked Safe, so that locking it can stop them all.
#[derive(Debug, Default)]
pub(crate) struct JobRegistry {
    jobs: Mutex<HashMap<u64, JobControl>>,
    next: AtomicU64,
}

impl JobRegistry {
    /// Registers a running job until the returned guard is dropped.
    pub(crate) fn register(&self, control: &JobControl) -> Registration<'_> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, control.clone());
        Registration { registry: self, id }
    }

    /// Interrupts every running job.
    pub(crate) fn interrupt_all(&self) {
        for control in self
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            control.interrupt();
        }
    }
}

/// A job's place in the registry, given back when it ends.
pub(crate) struct Registration<'a> {
    registry: &'a JobRegistry,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.registry
            .jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stopped_job_stays_stopped() {
        let control = JobControl::new();
        control.pause();
        assert!(control.is_paused());
        control.interrupt();
        assert_eq!(control.stopped(), Some(Stop::Interrupted));
        assert!(control.interrupted_while_paused());
        control.resume();
        control.cancel();
        assert_eq!(control.stopped(), Some(Stop::Interrupted));
        assert!(!control.proceed());
    }

    #[test]
    fn a_paused_job_waits_until_resumed() {
        let control = JobControl::new();
        control.pause();
        let waiting = {
            let control = control.clone();
            std::thread::spawn(move || control.proceed())
        };
        std::thread::sleep(Duration::from_millis(30));
        assert!(!waiting.is_finished());
        control.resume();
        assert!(waiting.join().unwrap());
    }
}
