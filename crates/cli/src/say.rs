//! How much `arca` says besides its result. `--quiet` leaves the data a command was asked for,
//! warnings and errors; `--verbose` adds what it does as it goes (unlocking, progress when
//! standard error is not a terminal, times and rates). Errors and warnings are never silenced:
//! they are about the person's files.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

/// Set once, from the command line, before the command runs.
pub fn set(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::Quiet,
        1 => Level::Normal,
        _ => Level::Verbose,
    }
}

/// Whether summaries, notes and progress are left out.
pub fn quiet() -> bool {
    level() == Level::Quiet
}

/// Whether steps, times and rates are added.
pub fn verbose() -> bool {
    level() == Level::Verbose
}

/// A note on standard error (`arca: note: …`), unless `--quiet`.
macro_rules! note {
    ($($arg:tt)*) => {
        if !$crate::say::quiet() {
            eprintln!("arca: note: {}", format_args!($($arg)*));
        }
    };
}

/// A step on standard error (`arca: …`), only with `--verbose`.
macro_rules! step {
    ($($arg:tt)*) => {
        if $crate::say::verbose() {
            eprintln!("arca: {}", format_args!($($arg)*));
        }
    };
}
