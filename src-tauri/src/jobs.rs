//! Long operations on threads of their own, as the jobs panel shows them: each job's state is
//! kept here and sent to the window (event `job`) as it moves, with the problems it meets as it
//! meets them. Pause, resume and cancel reach the job through its [`JobControl`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arca_safe::{ItemProblem, JobControl, JobEvent, Phase, Progress};

use crate::dto::{AppError, Job, JobKind, JobPhase, JobState, Problem, ProblemKind};
use crate::events::{Emit, send};

/// How a job ended, for its last line.
pub struct Outcome {
    /// One line for the panel ("1,204 files imported").
    pub summary: String,
    /// Items it could not do (also sent as they happened).
    pub problems: Vec<ItemProblem>,
    /// It was stopped before its end.
    pub stopped: bool,
    /// Problems that are not about one item of the Safe (objects a sync refused).
    pub notes: Vec<Problem>,
}

/// Every job since the app started, until dismissed.
pub struct Jobs {
    emit: Emit,
    table: Mutex<BTreeMap<String, Entry>>,
}

struct Entry {
    job: Job,
    control: JobControl,
    /// When it was last sent to the window (progress is sent at most every 100 ms).
    sent: Option<Instant>,
}

impl Jobs {
    pub fn new(emit: Emit) -> Arc<Self> {
        Arc::new(Self {
            emit,
            table: Mutex::new(BTreeMap::new()),
        })
    }

    fn table(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `work` on a thread of its own and returns the job as it starts.
    pub fn start(
        self: &Arc<Self>,
        kind: JobKind,
        title: String,
        work: impl FnOnce(&JobControl, &mut dyn FnMut(JobEvent<'_>)) -> Result<Outcome, AppError>
        + Send
        + 'static,
    ) -> Job {
        let id = uuid::Uuid::new_v4().to_string();
        let control = JobControl::new();
        let job = Job {
            id: id.clone(),
            kind,
            title,
            state: JobState::Running,
            phase: JobPhase::Planning,
            current: None,
            files_done: 0,
            files_total: 0,
            bytes_done: 0,
            bytes_total: 0,
            bytes_per_second: 0.0,
            seconds_left: None,
            problems: Vec::new(),
            error: None,
            summary: None,
        };
        self.table().insert(
            id.clone(),
            Entry {
                job: job.clone(),
                control: control.clone(),
                sent: None,
            },
        );
        let jobs = Arc::clone(self);
        std::thread::Builder::new()
            .name(format!("arca-job-{id}"))
            .spawn(move || {
                let mut observe = |event: JobEvent<'_>| jobs.observe(&id, event);
                let result = work(&control, &mut observe);
                jobs.finish(&id, result, &control);
            })
            .map(drop)
            .unwrap_or_else(|error| {
                eprintln!("arca-desktop: cannot start a job: {error}");
            });
        job
    }

    fn observe(&self, id: &str, event: JobEvent<'_>) {
        let mut table = self.table();
        let Some(entry) = table.get_mut(id) else {
            return;
        };
        let urgent = match event {
            JobEvent::Progress(progress) => {
                apply(&mut entry.job, progress);
                progress.phase == Phase::Finished
            }
            JobEvent::Problem(problem) => {
                entry.job.problems.push(problem_dto(problem));
                true
            }
        };
        if urgent
            || entry
                .sent
                .is_none_or(|sent| sent.elapsed() >= Duration::from_millis(100))
        {
            entry.sent = Some(Instant::now());
            let job = entry.job.clone();
            drop(table);
            send(&self.emit, "job", job);
        }
    }

    fn finish(&self, id: &str, result: Result<Outcome, AppError>, control: &JobControl) {
        let mut table = self.table();
        let Some(entry) = table.get_mut(id) else {
            return;
        };
        let job = &mut entry.job;
        job.current = None;
        job.seconds_left = None;
        match result {
            Ok(outcome) => {
                job.state = if outcome.stopped || control.stopped().is_some() {
                    JobState::Cancelled
                } else {
                    JobState::Finished
                };
                job.phase = JobPhase::Finished;
                job.summary = Some(outcome.summary);
                // The final list is authoritative (problems found before the observer could
                // report them, such as a restore's unreadable records, are in it too).
                job.problems = outcome.problems.iter().map(problem_dto).collect();
                job.problems.extend(outcome.notes);
            }
            Err(error) => {
                job.state = JobState::Failed;
                job.error = Some(error);
            }
        }
        let job = job.clone();
        drop(table);
        send(&self.emit, "job", job);
    }

    /// The job `id`, as it stands.
    pub fn get(&self, id: &str) -> Option<Job> {
        self.table().get(id).map(|entry| entry.job.clone())
    }

    /// Forgets the ended jobs of `kind` (a new sync run replaces the last one in the list).
    pub fn forget_ended(&self, kind: JobKind) {
        self.table().retain(|_, entry| {
            entry.job.kind != kind
                || matches!(entry.job.state, JobState::Running | JobState::Paused)
        });
    }

    /// Every job, oldest first.
    pub fn list(&self) -> Vec<Job> {
        self.table()
            .values()
            .map(|entry| entry.job.clone())
            .collect()
    }

    fn with<T>(&self, id: &str, act: impl FnOnce(&mut Entry) -> T) -> Result<T, AppError> {
        let mut table = self.table();
        let entry = table.get_mut(id).ok_or_else(|| {
            AppError::new(crate::dto::ErrorKind::NotFound, format!("no job {id}"))
        })?;
        Ok(act(entry))
    }

    pub fn pause(&self, id: &str) -> Result<(), AppError> {
        let job = self.with(id, |entry| {
            entry.control.pause();
            if entry.job.state == JobState::Running {
                entry.job.state = JobState::Paused;
            }
            entry.job.clone()
        })?;
        send(&self.emit, "job", job);
        Ok(())
    }

    pub fn resume(&self, id: &str) -> Result<(), AppError> {
        let job = self.with(id, |entry| {
            entry.control.resume();
            if entry.job.state == JobState::Paused {
                entry.job.state = JobState::Running;
            }
            entry.job.clone()
        })?;
        send(&self.emit, "job", job);
        Ok(())
    }

    pub fn cancel(&self, id: &str) -> Result<(), AppError> {
        self.with(id, |entry| entry.control.cancel())
    }

    /// Removes a job that has ended from the list.
    pub fn dismiss(&self, id: &str) -> Result<(), AppError> {
        let mut table = self.table();
        match table.get(id).map(|entry| entry.job.state) {
            Some(JobState::Running | JobState::Paused) => Err(AppError::invalid(
                "a running job cannot be dismissed; cancel it first",
            )),
            Some(_) => {
                table.remove(id);
                Ok(())
            }
            None => Err(AppError::new(
                crate::dto::ErrorKind::NotFound,
                format!("no job {id}"),
            )),
        }
    }

    /// Forgets every job (the Safe was locked: the window starts afresh).
    pub fn clear_ended(&self) {
        self.table()
            .retain(|_, entry| matches!(entry.job.state, JobState::Running | JobState::Paused));
    }
}

fn apply(job: &mut Job, progress: &Progress) {
    job.phase = phase(progress.phase);
    job.current = progress.current.clone();
    job.files_done = progress.files_done;
    job.files_total = progress.files_total;
    job.bytes_done = progress.bytes_done;
    job.bytes_total = progress.bytes_total;
    job.bytes_per_second = progress.rate();
    job.seconds_left = progress.time_left().map(|left| left.as_secs_f64());
}

fn phase(phase: Phase) -> JobPhase {
    match phase {
        Phase::Planning => JobPhase::Planning,
        Phase::Encrypting => JobPhase::Encrypting,
        Phase::Decrypting => JobPhase::Decrypting,
        Phase::Verifying => JobPhase::Verifying,
        Phase::Copying => JobPhase::Copying,
        Phase::Recording => JobPhase::Recording,
        Phase::CleaningUp => JobPhase::CleaningUp,
        Phase::Finished => JobPhase::Finished,
    }
}

/// The window's kind of each library problem kind.
fn problem_kind(kind: arca_safe::ProblemKind) -> ProblemKind {
    use arca_safe::ProblemKind as Library;
    match kind {
        Library::Unreadable => ProblemKind::Unreadable,
        Library::NotARegularFile => ProblemKind::NotARegularFile,
        Library::ChangedSinceScan => ProblemKind::ChangedSinceScan,
        Library::Renamed => ProblemKind::Renamed,
        Library::Skipped => ProblemKind::Skipped,
        Library::InvalidName => ProblemKind::InvalidName,
        Library::DataMissing => ProblemKind::DataMissing,
        Library::DataDamaged => ProblemKind::DataDamaged,
        Library::DataReplaced => ProblemKind::DataReplaced,
        Library::Pending => ProblemKind::Pending,
        Library::RecordUnreadable => ProblemKind::RecordUnreadable,
        Library::RecordReplaced => ProblemKind::RecordReplaced,
        Library::RecordMissing => ProblemKind::RecordMissing,
        Library::IndexUnreadable => ProblemKind::IndexUnreadable,
        Library::StrayFile => ProblemKind::StrayFile,
        Library::FolderMissing => ProblemKind::FolderMissing,
        Library::NotWritten => ProblemKind::NotWritten,
        _ => ProblemKind::Other,
    }
}

/// A library problem for the window: its kind, the item, and the sentence.
pub fn problem_dto(problem: &ItemProblem) -> Problem {
    Problem {
        kind: problem_kind(problem.kind),
        path: problem.path.clone().or_else(|| problem.file.clone()),
        message: problem.problem.clone(),
    }
}
