//! Time stamps: nanoseconds since the Unix epoch, UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in nanoseconds since the epoch (0 if the clock is before 1970).
pub(crate) fn now_ns() -> i64 {
    to_ns(SystemTime::now()).unwrap_or(0)
}

/// A system time in nanoseconds since the epoch, if it fits.
pub(crate) fn to_ns(time: SystemTime) -> Option<i64> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).ok(),
        Err(before) => i64::try_from(before.duration().as_nanos())
            .ok()
            .map(|ns| -ns),
    }
}
