//! Back-off after wrong passwords: after n failed unlocks in a row, the next attempt is refused
//! until 2^n seconds (at most [`MAX_DELAY`]) after the last one.
//!
//! One counter per Safe (by its UUID), shared by every way in: the password, the recovery key,
//! and the password asked again before security settings; the command line and the app use
//! the same one. It lives in the user's state folder (`$XDG_STATE_HOME/arca/unlock/`, else
//! `~/.local/state/arca/unlock/`), never in the Safe, so a Safe on read-only media is
//! protected too and survives a restart of the app.
//!
//! Attempts on one Safe are taken one at a time (a lock on the counter, held from the check to
//! the verdict), so parallel guesses cannot slip past the counter while a legitimate second
//! unlock simply waits a moment. An attempt is counted as failed *before* the key derivation
//! starts and forgiven only when it succeeds, so killing the process in the middle of a guess
//! does not erase it. A clock set backwards never shortens a wait: a last
//! failure "in the future" counts as just now. A counter file that cannot be read is treated as
//! the longest wait from the file's modification time, then replaced.
//!
//! What it does not do: an attacker who copies the key file guesses offline, where only the
//! PBKDF2 cost of each guess (one million iterations) slows them down.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::io::Write;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};

/// The longest wait between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(300);

/// The wait after `failures` failed attempts in a row: 0, 2, 4, 8, 16, … seconds, at most
/// [`MAX_DELAY`].
pub fn delay_after(failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    let seconds = 1u64.checked_shl(failures).unwrap_or(u64::MAX);
    Duration::from_secs(seconds).min(MAX_DELAY)
}

/// Where the counters are kept, and the clock they are read against.
#[derive(Debug, Clone)]
pub struct Backoff {
    /// `None`: no state folder could be found (no `HOME`); counted in this process only.
    dir: Option<PathBuf>,
    clock: Clock,
}

/// The time, from the system or (in tests) set by hand.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<SystemTime>>>);

impl Clock {
    /// A clock stopped at `time`, moved by [`Clock::set`].
    pub fn fixed(time: SystemTime) -> Self {
        Self(Some(Arc::new(Mutex::new(time))))
    }

    /// Moves a fixed clock (a system clock cannot be moved).
    pub fn set(&self, time: SystemTime) {
        if let Some(fixed) = &self.0 {
            *fixed.lock().unwrap_or_else(PoisonError::into_inner) = time;
        }
    }

    /// Moves a fixed clock forward.
    pub fn advance(&self, by: Duration) {
        let now = self.now();
        self.set(now + by);
    }

    /// Now.
    pub fn now(&self) -> SystemTime {
        match &self.0 {
            Some(fixed) => *fixed.lock().unwrap_or_else(PoisonError::into_inner),
            None => SystemTime::now(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Counter {
    failures: u32,
    /// The last failure, milliseconds since the Unix epoch.
    last_failure_ms: u64,
}

impl Backoff {
    /// The user's state folder (see the module docs).
    pub fn for_user() -> Self {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".local/state")));
        Self {
            dir: base.map(|base| base.join("arca").join("unlock")),
            clock: Clock::default(),
        }
    }

    /// Counters kept in `dir`.
    pub fn in_folder(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
            clock: Clock::default(),
        }
    }

    /// The same folder, read against `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    fn counter_path(&self, safe_id: Uuid) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|dir| dir.join(format!("{}.json", safe_id.as_hyphenated())))
    }

    /// How long until the Safe `safe_id` may be unlocked again (zero: now).
    ///
    /// # Errors
    /// [`Error::Io`] if the state folder cannot be read.
    pub fn wait_left(&self, safe_id: Uuid) -> Result<Duration> {
        let counter = self.read(safe_id)?;
        Ok(self.remaining(counter))
    }

    fn remaining(&self, counter: Counter) -> Duration {
        let delay = delay_after(counter.failures);
        let now = self.clock.now();
        let last = UNIX_EPOCH + Duration::from_millis(counter.last_failure_ms);
        // A last failure in the future (the clock was set back) counts as just now.
        let since = now.duration_since(last).unwrap_or(Duration::ZERO);
        delay.saturating_sub(since)
    }

    /// Starts an unlock attempt: refused while a wait is running, else counted as failed until
    /// [`Attempt::succeeded`] forgives it.
    ///
    /// # Errors
    /// [`Error::TryLater`] with the seconds left; [`Error::Io`] if the counter cannot be kept.
    pub(crate) fn begin(&self, safe_id: Uuid) -> Result<Attempt> {
        let guard = self.exclusive(safe_id)?;
        let counter = self.read(safe_id)?;
        let left = self.remaining(counter);
        if !left.is_zero() {
            return Err(Error::TryLater {
                seconds: u32::try_from(left.as_secs() + u64::from(left.subsec_nanos() > 0))
                    .unwrap_or(u32::MAX),
            });
        }
        let now_ms = self
            .clock
            .now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        self.write(
            safe_id,
            Counter {
                failures: counter.failures.saturating_add(1),
                last_failure_ms: now_ms.max(counter.last_failure_ms),
            },
        )?;
        Ok(Attempt {
            backoff: self.clone(),
            safe_id,
            before: counter,
            _guard: guard,
        })
    }

    fn read(&self, safe_id: Uuid) -> Result<Counter> {
        let none = Counter {
            failures: 0,
            last_failure_ms: 0,
        };
        let Some(path) = self.counter_path(safe_id) else {
            return Ok(none);
        };
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(none),
            Err(error) => return Err(Error::io(&path)(error)),
        };
        Ok(serde_json::from_slice(&text).unwrap_or_else(|_| {
            // Unreadable: the longest wait, from when the file was last written.
            let written = fs::metadata(&path)
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
                .map_or(u64::MAX, |since| since.as_millis() as u64);
            Counter {
                failures: 16,
                last_failure_ms: written,
            }
        }))
    }

    fn write(&self, safe_id: Uuid, counter: Counter) -> Result<()> {
        let Some(path) = self.counter_path(safe_id) else {
            return Ok(());
        };
        if counter.failures == 0 {
            return match fs::remove_file(&path) {
                Ok(()) => Ok(()),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(error) => Err(Error::io(&path)(error)),
            };
        }
        let text = serde_json::to_vec(&counter).map_err(|error| Error::Io {
            path: path.clone(),
            error: std::io::Error::other(error),
        })?;
        // Replaced whole and made durable, so a crash leaves the old count or the new one. (Not
        // through the Cryptor's atomic files: their crash points belong to the operations a
        // kill test enumerates, and this file is outside every Safe.)
        let temp = path.with_extension("json.tmp");
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&temp)
            .and_then(|mut file| {
                file.write_all(&text)?;
                file.sync_all()
            })
            .and_then(|()| fs::rename(&temp, &path))
            .map_err(Error::io(&path))
    }

    /// Holds the counter's lock file while it is read and rewritten, so two processes never
    /// both see the old count.
    fn exclusive(&self, safe_id: Uuid) -> Result<Option<File>> {
        let Some(path) = self.counter_path(safe_id) else {
            return Ok(None);
        };
        let Some(dir) = path.parent() else {
            return Ok(None);
        };
        create_private_dir(dir)?;
        let lock_path = path.with_extension("lock");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(Error::io(&lock_path))?;
        file.lock().map_err(Error::io(&lock_path))?;
        Ok(Some(file))
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(Error::io(dir))
}

/// An unlock attempt in progress (counted as failed until it succeeds); the next attempt on
/// the same Safe waits until it is settled or dropped.
#[must_use = "an attempt is settled with succeeded() or not_counted(); dropped, it stays failed"]
pub(crate) struct Attempt {
    backoff: Backoff,
    safe_id: Uuid,
    before: Counter,
    _guard: Option<File>,
}

impl Attempt {
    /// The password (or key) was right: the counter starts again from zero.
    pub(crate) fn succeeded(self) -> Result<()> {
        self.backoff.write(
            self.safe_id,
            Counter {
                failures: 0,
                last_failure_ms: 0,
            },
        )
    }

    /// The attempt failed for another reason than a wrong secret (the key file could not be
    /// read): it does not count.
    pub(crate) fn not_counted(self) -> Result<()> {
        self.backoff.write(self.safe_id, self.before)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_are_capped() {
        let seconds: Vec<u64> = (0..12).map(|n| delay_after(n).as_secs()).collect();
        assert_eq!(seconds, [0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }
}
