//! Crash points for kill -9 tests (feature `crash-points`, never in a release).
//!
//! Every durability step (a write, an fsync, a rename, a database commit) calls
//! [`crash_point`]. With `ARCA_CRASH_AT=k` in the environment, the k-th call sends the process
//! a real SIGKILL, so a test can enumerate every point at which an operation can die.
//! With `ARCA_DISK_FULL_AFTER=n`, atomic-file writes fail with "no space left on device" once
//! n bytes have been written in this process, as on a full disk.

#[cfg(feature = "crash-points")]
mod enabled {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};

    static COUNT: AtomicU64 = AtomicU64::new(0);
    static TARGET: OnceLock<Option<u64>> = OnceLock::new();

    pub fn crash_point(_what: &str) {
        let target = *TARGET.get_or_init(|| {
            std::env::var("ARCA_CRASH_AT")
                .ok()
                .and_then(|k| k.parse().ok())
        });
        let Some(target) = target else { return };
        if COUNT.fetch_add(1, Ordering::SeqCst) + 1 == target {
            let pid = std::process::id().to_string();
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid])
                .status();
            // SIGKILL is delivered asynchronously; nothing may run after this point.
            loop {
                std::thread::park();
            }
        }
    }

    static WRITTEN: AtomicU64 = AtomicU64::new(0);
    static SPACE: OnceLock<Option<u64>> = OnceLock::new();

    pub fn reserve_space(len: usize) -> std::io::Result<()> {
        let space = *SPACE.get_or_init(|| {
            std::env::var("ARCA_DISK_FULL_AFTER")
                .ok()
                .and_then(|n| n.parse().ok())
        });
        let Some(space) = space else { return Ok(()) };
        if WRITTEN.fetch_add(len as u64, Ordering::SeqCst) + len as u64 > space {
            return Err(std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                "no space left on device (simulated)",
            ));
        }
        Ok(())
    }

    /// How many crash points were passed so far in this process.
    pub fn crash_points_passed() -> u64 {
        COUNT.load(Ordering::SeqCst)
    }
}

#[cfg(feature = "crash-points")]
pub use enabled::{crash_point, crash_points_passed, reserve_space};

/// Does nothing without the `crash-points` feature.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn crash_point(_what: &str) {}

/// Always succeeds without the `crash-points` feature.
#[cfg(not(feature = "crash-points"))]
#[inline(always)]
pub fn reserve_space(_len: usize) -> std::io::Result<()> {
    Ok(())
}
