//! The back-off after wrong passwords (issue 9, part 4), driven through the library's clock:
//! no test sleeps.
//!
//! Each test guesses as an attacker would — one wrong password after another, through every way
//! in (password, recovery key, the password asked again before security settings, a backup of
//! the Safe), restarting the program between guesses, in parallel, with the clock set back, with
//! the counter file damaged — and checks what the design promises: after n failures in a row
//! the next attempt is refused for 2^n seconds (at most five minutes) before any key derivation,
//! with the seconds left in the error; the count survives a restart and is shared by every way
//! in; the right password resets it; a recovery key mistyped does not count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use arca_cryptor::{Iterations, Password, RecoveryKey};
use arca_safe::{
    Backoff, Clock, Error, ErrorKind, JobControl, MAX_DELAY, OpenMode, OpenOptions, Safe, Unlock,
    delay_after, list_backup, restore_backup, verify_backup,
};
use common::password;
use uuid::Uuid;

/// A Safe (with a recovery key and a backup), the back-off folder its tests share, and a
/// clock stopped at a fixed time.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    safe: PathBuf,
    backup: PathBuf,
    state: PathBuf,
    clock: Clock,
    recovery: RecoveryKey,
    id: Uuid,
}

fn wrong() -> Password {
    Password::new("not the password at all".to_owned())
}

/// A recovery key that is well formed (its checksum holds) but not this Safe's.
fn wrong_recovery_key() -> RecoveryKey {
    RecoveryKey::generate().unwrap()
}

const START: u64 = 1_900_000_000;

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let state = root.join("state");
        let clock = Clock::fixed(SystemTime::UNIX_EPOCH + Duration::from_secs(START));
        let safe_path = root.join("test.arca");
        let safe = Safe::create_with(
            &safe_path,
            &password(),
            Iterations::new(1_000).unwrap(),
            Backoff::in_folder(&state).with_clock(clock.clone()),
        )
        .unwrap();
        let recovery = safe.create_recovery_key(&password()).unwrap();
        let backup = root.join("backup");
        safe.backup(
            &backup,
            &arca_safe::BackupOptions::default(),
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
        let id = safe.id();
        drop(safe);
        Self {
            _dir: dir,
            root,
            safe: safe_path,
            backup,
            state,
            clock,
            recovery,
            id,
        }
    }

    /// The back-off as a program started now would see it: the same folder, the same clock.
    fn backoff(&self) -> Backoff {
        Backoff::in_folder(&self.state).with_clock(self.clock.clone())
    }

    fn options(&self) -> OpenOptions {
        OpenOptions {
            mode: OpenMode::Read,
            backoff: self.backoff(),
        }
    }

    fn open(&self, password: &Password) -> arca_safe::Result<Safe> {
        Safe::open_with(&self.safe, Unlock::Password(password), &self.options())
    }

    fn open_with_recovery_key(&self, key: &RecoveryKey) -> arca_safe::Result<Safe> {
        Safe::open_with(&self.safe, Unlock::RecoveryKey(key), &self.options())
    }

    fn verify_backup(&self, password: &Password) -> arca_safe::Result<()> {
        verify_backup(
            &self.backup,
            Unlock::Password(password),
            &self.backoff(),
            false,
            &JobControl::new(),
            &mut |_| {},
        )
        .map(drop)
    }

    fn advance(&self, seconds: u64) {
        self.clock.advance(Duration::from_secs(seconds));
    }

    fn wait_left(&self) -> Duration {
        self.backoff().wait_left(self.id).unwrap()
    }
}

fn assert_try_later<T>(result: arca_safe::Result<T>, seconds: u32, context: &str) {
    match result {
        Err(Error::TryLater { seconds: left }) => {
            assert_eq!(left, seconds, "{context}: seconds left");
        }
        Err(other) => panic!("{context}: expected TryLater {{ {seconds} }}, got {other:?}"),
        Ok(_) => panic!("{context}: expected TryLater {{ {seconds} }}, it was let in"),
    }
}

fn assert_wrong<T>(result: arca_safe::Result<T>, context: &str) {
    match result {
        Err(Error::WrongPassword | Error::WrongRecoveryKey) => {}
        Err(other) => panic!("{context}: expected a wrong password, got {other:?}"),
        Ok(_) => panic!("{context}: a wrong password was let in"),
    }
}

#[test]
fn the_delays_double_up_to_five_minutes() {
    let seconds: Vec<u64> = (0..=10).map(|n| delay_after(n).as_secs()).collect();
    assert_eq!(seconds, [0, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    assert_eq!(MAX_DELAY, Duration::from_secs(300));
}

#[test]
fn one_to_six_failures_wait_2_to_64_seconds_and_refuse_before_any_key_derivation() {
    let fixture = Fixture::new();
    let key_file = fixture.safe.join("safe.key");
    let real_key_file = fs::read(&key_file).unwrap();
    for failures in 1..=6u32 {
        assert_wrong(fixture.open(&wrong()), &format!("guess {failures}"));
        let delay = 1u32 << failures;
        assert_eq!(fixture.wait_left(), Duration::from_secs(u64::from(delay)));
        // Refused at once, with the seconds left: even the right password, even with the key
        // file unreadable garbage or gone (it is not even read).
        assert_try_later(fixture.open(&password()), delay, "right password at once");
        fs::write(&key_file, b"garbage, not a key file").unwrap();
        assert_try_later(fixture.open(&password()), delay, "garbage key file");
        fs::remove_file(&key_file).unwrap();
        assert_try_later(fixture.open(&wrong()), delay, "no key file");
        fs::write(&key_file, &real_key_file).unwrap();
        // A restart changes nothing: a new back-off on the same folder.
        fixture.advance(u64::from(delay) - 1);
        assert_try_later(fixture.open(&wrong()), 1, "one second before the end");
        let error = fixture.open(&password()).map(drop).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::TryLater);
        assert!(error.to_string().contains("try again in 1 s"), "{error}");
        fixture.advance(1);
        assert_eq!(fixture.wait_left(), Duration::ZERO);
    }
    // The seventh guess is the right password: let in, and the count starts again.
    fixture.open(&password()).unwrap();
    assert_eq!(fixture.wait_left(), Duration::ZERO);
    assert_wrong(fixture.open(&wrong()), "after the reset");
    assert_try_later(fixture.open(&password()), 2, "after the reset");
}

#[test]
fn every_way_in_shares_one_counter() {
    let fixture = Fixture::new();
    // A Safe opened earlier, whose security settings ask for the password again.
    let open = Safe::open_with(
        &fixture.safe,
        Unlock::Password(&password()),
        &OpenOptions {
            mode: OpenMode::Write,
            backoff: fixture.backoff(),
        },
    )
    .unwrap();
    // One failure through each way in, each waiting out the one before.
    assert_wrong(fixture.open(&wrong()), "password");
    fixture.advance(2);
    assert_wrong(
        fixture.open_with_recovery_key(&wrong_recovery_key()),
        "recovery key",
    );
    fixture.advance(4);
    assert_wrong(open.check_password(&wrong()), "check_password");
    fixture.advance(8);
    assert_wrong(
        open.change_password(&wrong(), &Password::new("a new long passphrase".to_owned())),
        "change_password",
    );
    fixture.advance(16);
    assert_wrong(open.create_recovery_key(&wrong()), "create_recovery_key");
    fixture.advance(32);
    assert_wrong(fixture.verify_backup(&wrong()), "a backup unlock");
    // Six failures: every way in waits 64 s, whichever was used last.
    let context = "after six failures through six ways in";
    assert_try_later(fixture.open(&password()), 64, context);
    assert_try_later(
        fixture.open_with_recovery_key(&fixture.recovery),
        64,
        context,
    );
    assert_try_later(open.check_password(&password()), 64, context);
    assert_try_later(
        open.change_password(&password(), &Password::new("x".repeat(20))),
        64,
        context,
    );
    assert_try_later(open.create_recovery_key(&password()), 64, context);
    assert_try_later(fixture.verify_backup(&password()), 64, context);
    assert_try_later(
        list_backup(
            &fixture.backup,
            Unlock::Password(&password()),
            &fixture.backoff(),
        ),
        64,
        context,
    );
    assert_try_later(
        restore_backup(
            &fixture.backup,
            Unlock::Password(&password()),
            &fixture.backoff(),
            &fixture.root.join("restored.arca"),
            &JobControl::new(),
            &mut |_| {},
        ),
        64,
        context,
    );
    assert!(!fixture.root.join("restored.arca").exists());
    // The right recovery key after the wait: let in, and the count is reset for every way.
    fixture.advance(64);
    fixture.open_with_recovery_key(&fixture.recovery).unwrap();
    assert_eq!(fixture.wait_left(), Duration::ZERO);
    open.check_password(&password()).unwrap();
    fixture.verify_backup(&password()).unwrap();
}

#[test]
fn a_mistyped_recovery_key_is_rejected_before_any_attempt_and_does_not_count() {
    let fixture = Fixture::new();
    let typed = fixture.recovery.expose_for_display().to_owned();
    // One symbol changed: the checksum catches it.
    let position = typed.find(|c: char| c.is_ascii_alphanumeric()).unwrap();
    let mut typo = typed.clone();
    let replacement = if typed[position..].starts_with('A') {
        "B"
    } else {
        "A"
    };
    typo.replace_range(position..=position, replacement);
    for attempt in 0..10 {
        let error = RecoveryKey::parse(&typo).unwrap_err();
        assert!(
            matches!(error, arca_cryptor::Error::RecoveryKeyTypo(_)),
            "{attempt}: {error:?}"
        );
        assert_eq!(
            Error::Crypto(error).kind(),
            ErrorKind::RecoveryKeyTypo,
            "{attempt}"
        );
    }
    assert_eq!(fixture.wait_left(), Duration::ZERO);
    let key = RecoveryKey::parse(&typed).unwrap();
    fixture.open_with_recovery_key(&key).unwrap();
}

#[test]
fn the_count_survives_a_restart() {
    let fixture = Fixture::new();
    assert_wrong(fixture.open(&wrong()), "first");
    fixture.advance(2);
    assert_wrong(fixture.open(&wrong()), "second");
    // A program started later: its own Backoff value, its own clock at the same time.
    let restarted = Backoff::in_folder(&fixture.state).with_clock(Clock::fixed(
        SystemTime::UNIX_EPOCH + Duration::from_secs(START + 2 + 3),
    ));
    let result = Safe::open_with(
        &fixture.safe,
        Unlock::Password(&password()),
        &OpenOptions {
            mode: OpenMode::Read,
            backoff: restarted.clone(),
        },
    );
    assert_try_later(result, 1, "after a restart");
    assert_eq!(
        restarted.wait_left(fixture.id).unwrap(),
        Duration::from_secs(1)
    );
}

#[test]
fn a_clock_set_backwards_never_shortens_a_wait() {
    let fixture = Fixture::new();
    let at = |seconds: u64| SystemTime::UNIX_EPOCH + Duration::from_secs(seconds);
    for failures in 1..=4u32 {
        let failed_at = START + u64::from(failures) * 1_000;
        fixture.clock.set(at(failed_at));
        assert_wrong(fixture.open(&wrong()), "guess");
        let delay = 1u32 << failures;
        // Set back a minute, an hour, a day, a year: the last failure counts as just now.
        for back in [60, 3_600, 86_400, 31_536_000] {
            fixture.clock.set(at(failed_at - back));
            assert_try_later(fixture.open(&password()), delay, "clock set back");
            assert_try_later(fixture.open(&wrong()), delay, "clock set back");
        }
        // Set right again: the whole wait is still ahead, counted from the failure.
        fixture.clock.set(at(failed_at));
        assert_try_later(fixture.open(&password()), delay, "clock set right again");
        fixture.clock.set(at(failed_at + u64::from(delay) - 1));
        assert_try_later(fixture.open(&password()), 1, "a second before the end");
    }
}

/// The counter file of the Safe `id` in the back-off folder.
fn counter_file(state: &Path, id: Uuid) -> PathBuf {
    state.join(format!("{}.json", id.as_hyphenated()))
}

#[test]
fn a_corrupt_counter_file_means_the_longest_wait_from_when_it_was_written() {
    let fixture = Fixture::new();
    assert_wrong(
        fixture.open(&wrong()),
        "a first failure creates the counter",
    );
    let counter = counter_file(&fixture.state, fixture.id);
    assert!(counter.exists(), "the counter is kept in the state folder");
    for garbage in [
        &b"{not json"[..],
        b"",
        b"\xff\xfe\x00",
        b"{\"failures\":\"many\"}",
    ] {
        fs::write(&counter, garbage).unwrap();
        let written = SystemTime::UNIX_EPOCH + Duration::from_secs(START + 1_000);
        fs::File::options()
            .write(true)
            .open(&counter)
            .unwrap()
            .set_modified(written)
            .unwrap();
        fixture.clock.set(written + Duration::from_secs(10));
        assert_try_later(
            fixture.open(&password()),
            290,
            &format!("counter {garbage:?}"),
        );
        fixture.clock.set(written + MAX_DELAY);
        // After the longest wait the right password works and the file is whole again.
        fixture.open(&password()).unwrap();
        assert_eq!(fixture.wait_left(), Duration::ZERO);
        assert_wrong(fixture.open(&wrong()), "counting again");
        assert_try_later(fixture.open(&password()), 2, "counting again");
    }
}

#[test]
fn parallel_guesses_are_counted_one_at_a_time() {
    let fixture = Fixture::new();
    let results: Vec<arca_safe::Result<Safe>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| fixture.open(&wrong())))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    let wrong_passwords = results
        .iter()
        .filter(|result| matches!(result, Err(Error::WrongPassword)))
        .count();
    let refused = results
        .iter()
        .filter(|result| matches!(result, Err(Error::TryLater { .. })))
        .count();
    assert_eq!(
        (wrong_passwords, refused),
        (1, 5),
        "six parallel guesses got more than one try"
    );
}

#[test]
fn each_safe_has_its_own_counter() {
    let fixture = Fixture::new();
    let other_path = fixture.root.join("other.arca");
    drop(
        Safe::create_with(
            &other_path,
            &password(),
            Iterations::new(1_000).unwrap(),
            fixture.backoff(),
        )
        .unwrap(),
    );
    for _ in 0..3 {
        assert_wrong(fixture.open(&wrong()), "guess");
        fixture.advance(300);
    }
    assert_wrong(fixture.open(&wrong()), "guess");
    assert_try_later(fixture.open(&password()), 16, "the Safe guessed at");
    Safe::open_with(
        &other_path,
        Unlock::Password(&password()),
        &fixture.options(),
    )
    .unwrap();
}
