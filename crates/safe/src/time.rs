//! Time stamps: nanoseconds since the Unix epoch, UTC.

use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in nanoseconds since the epoch (0 if the clock is before 1970).
pub(crate) fn now_ns() -> i64 {
    let now = to_ns(SystemTime::now()).unwrap_or(0);
    #[cfg(feature = "clock-skew")]
    let now = now.saturating_add(SKEW.with(std::cell::Cell::get));
    now
}

#[cfg(feature = "clock-skew")]
thread_local! {
    static SKEW: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Test hook: this thread's clock runs `offset_ns` ahead (behind, if negative), as a device
/// whose clock is wrong. Never enabled in a shipped build.
#[cfg(feature = "clock-skew")]
#[doc(hidden)]
pub fn skew_this_threads_clock(offset_ns: i64) {
    SKEW.with(|skew| skew.set(offset_ns));
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

/// A time stamp's calendar date and time of day in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcTime {
    /// The year (proleptic Gregorian).
    pub year: i64,
    /// 1 to 12.
    pub month: i64,
    /// 1 to 31.
    pub day: i64,
    /// 0 to 23.
    pub hour: i64,
    /// 0 to 59.
    pub minute: i64,
    /// 0 to 59.
    pub second: i64,
}

impl UtcTime {
    /// The UTC date and time of `nanos` nanoseconds since the epoch.
    pub fn from_ns(nanos: i64) -> Self {
        let seconds = nanos.div_euclid(1_000_000_000);
        let (days, of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
        // Howard Hinnant's days-to-civil algorithm: exact for every day, no date crate needed.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        Self {
            year: year_of_era + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: of_day / 3600,
            minute: of_day % 3600 / 60,
            second: of_day % 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UtcTime;

    #[test]
    fn utc_dates_across_eras_and_leap_days() {
        let at = |nanos| {
            let t = UtcTime::from_ns(nanos);
            (t.year, t.month, t.day, t.hour, t.minute, t.second)
        };
        assert_eq!(at(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(at(951_782_400_000_000_000), (2000, 2, 29, 0, 0, 0));
        assert_eq!(at(1_700_000_000_123_456_789), (2023, 11, 14, 22, 13, 20));
        assert_eq!(at(-1), (1969, 12, 31, 23, 59, 59));
    }
}
