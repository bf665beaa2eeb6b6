//! Timing and printing, shared by every benchmark: best of N runs after a warm-up, MB/s, and
//! figures printed next to their targets.

use std::fmt;
use std::time::{Duration, Instant};

/// The fastest of `runs` timed runs of `work`, after one untimed warm-up run. Its result is
/// passed through `black_box` so the work cannot be optimised away. A failing run stops it.
pub fn best_of<T>(
    runs: u32,
    mut work: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<Duration> {
    std::hint::black_box(work()?);
    let mut best = Duration::MAX;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        std::hint::black_box(work()?);
        best = best.min(start.elapsed());
    }
    Ok(best)
}

/// Decimal megabytes (10^6 bytes) per second.
pub fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

/// Whether a figure meets its target.
#[derive(Clone, Copy)]
pub enum Verdict {
    Pass,
    Below,
}

impl Verdict {
    /// `PASS` if `ratio >= target`.
    pub fn at_least(ratio: f64, target: f64) -> Self {
        if ratio >= target {
            Self::Pass
        } else {
            Self::Below
        }
    }

    /// `PASS` if `ratio <= target` (for times: lower is better).
    pub fn at_most(ratio: f64, target: f64) -> Self {
        if ratio <= target {
            Self::Pass
        } else {
            Self::Below
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pass => "PASS",
            Self::Below => "BELOW",
        })
    }
}

/// One printed line: a label padded to a common width, then the figure and notes.
pub fn line(label: &str, figure: impl fmt::Display) {
    println!("  {label:<44} {figure}");
}

/// Fills `buffer` with xorshift64 output: no pattern a cache or a compressor could exploit.
pub fn fill_pseudo_random(buffer: &mut [u8]) {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for word in buffer.chunks_mut(8) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        word.copy_from_slice(&state.to_le_bytes()[..word.len()]);
    }
}

/// Runs `work` once and returns its result with the time it took.
pub fn timed<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, Duration)> {
    let start = Instant::now();
    let value = work()?;
    Ok((value, start.elapsed()))
}
