//! One Arca per login session. The first `arca-desktop` owns a name on the session bus; a later
//! one (a file manager's "Open with Arca" or "Add to Safe…", the menu, a terminal) hands its
//! command line to the owner and exits, and the owner's window comes to the front.
//!
//! Not `tauri-plugin-single-instance`: its releases for our Tauri (2.4) panic on an argument that
//! is not UTF-8 (a file name can be any bytes) and on a malformed bus address. The command line
//! crosses here as bytes, and without a bus each start simply runs on its own.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use zbus::blocking::Connection;
use zbus::blocking::connection::Builder;

use crate::handoff::{self, Inbox};

const NAME: &str = "app.arca.desktop.Running";
const PATH: &str = "/app/arca/desktop/Running";
const INTERFACE: &str = "app.arca.desktop.Running";

/// How long a second start keeps trying to reach a first one that is still starting.
const HAND_OVER_TIMEOUT: Duration = Duration::from_secs(5);

/// Tells the window that something was handed over (set once the app is up).
pub type Wake = Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>;

/// The object the first start serves: it files what later starts hand over.
struct Running {
    inbox: Arc<Inbox>,
    wake: Wake,
}

#[zbus::interface(name = "app.arca.desktop.Running")]
impl Running {
    /// `args` without the program name, and the directory they are relative to.
    fn hand_over(&self, args: Vec<Vec<u8>>, cwd: Vec<u8>) {
        let args = args.into_iter().map(OsString::from_vec);
        let cwd = Path::new(OsStr::from_bytes(&cwd));
        self.inbox.put(handoff::parse(args, cwd));
        if let Some(wake) = self.wake.get() {
            wake();
        }
    }
}

/// How this start goes on.
pub enum Start {
    /// The first: keep the connection for as long as the app runs.
    First(Connection),
    /// Another Arca runs and has this start's command line: exit.
    HandedOver,
    /// No session bus, or the running Arca did not answer: run on its own.
    Alone(String),
}

/// Claims the name on the session bus, or hands `args` (without the program name) to the Arca
/// that has it.
pub fn claim(args: &[OsString], inbox: &Arc<Inbox>, wake: &Wake) -> Start {
    claim_on(Builder::session, args, inbox, wake)
}

/// [`claim`] on the bus `bus` connects to.
fn claim_on(
    bus: impl Fn() -> zbus::Result<Builder<'static>>,
    args: &[OsString],
    inbox: &Arc<Inbox>,
    wake: &Wake,
) -> Start {
    let running = Running {
        inbox: inbox.clone(),
        wake: wake.clone(),
    };
    let first = bus()
        .and_then(|builder| builder.name(NAME))
        .and_then(|builder| builder.serve_at(PATH, running))
        .and_then(|builder| {
            builder
                .replace_existing_names(false)
                .allow_name_replacements(false)
                .build()
        });
    match first {
        Ok(connection) => Start::First(connection),
        Err(zbus::Error::NameTaken) => match hand_over(bus, args) {
            Ok(()) => Start::HandedOver,
            Err(error) => Start::Alone(format!("the running Arca did not answer ({error})")),
        },
        Err(error) => Start::Alone(format!("no session bus ({error})")),
    }
}

fn hand_over(
    bus: impl Fn() -> zbus::Result<Builder<'static>>,
    args: &[OsString],
) -> zbus::Result<()> {
    let connection: Connection = bus()?.build()?;
    let args: Vec<Vec<u8>> = args.iter().map(|arg| arg.as_bytes().to_vec()).collect();
    let cwd = std::env::current_dir()
        .map(|dir| dir.into_os_string().into_vec())
        .unwrap_or_default();
    let started = Instant::now();
    loop {
        let call = connection.call_method(
            Some(NAME),
            PATH,
            Some(INTERFACE),
            "HandOver",
            &(&args, &cwd),
        );
        match call {
            Ok(_) => return Ok(()),
            // The owner went away between our claim and the call: the caller runs alone.
            Err(error) if started.elapsed() > HAND_OVER_TIMEOUT => return Err(error),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bus of the test's own (scripts/setup installs dbus-daemon).
    struct Bus(std::process::Child, String);

    impl Bus {
        fn start() -> Self {
            use std::io::BufRead;
            let mut daemon = std::process::Command::new("dbus-daemon")
                .args(["--session", "--nofork", "--print-address=1"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("dbus-daemon (scripts/setup installs it)");
            let mut address = String::new();
            let stdout = daemon.stdout.take().unwrap();
            std::io::BufReader::new(stdout)
                .read_line(&mut address)
                .unwrap();
            Self(daemon, address.trim().to_owned())
        }

        fn builder(&self) -> impl Fn() -> zbus::Result<Builder<'static>> + use<> {
            let address = self.1.clone();
            move || Builder::address(address.as_str())
        }
    }

    impl Drop for Bus {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn a_second_start_hands_its_command_line_to_the_first_even_in_bytes_that_are_not_utf8() {
        let bus = Bus::start();
        let inbox = Arc::new(Inbox::default());
        let wake: Wake = Arc::default();
        let woken = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = woken.clone();
        let _ = wake.set(Box::new(move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst)
        }));
        let Start::First(_connection) = claim_on(bus.builder(), &[], &inbox, &wake) else {
            panic!("the first start did not get the name");
        };
        let dir = tempfile::tempdir().unwrap();
        let odd = dir.path().join(OsStr::from_bytes(b"caf\xe9.txt"));
        std::fs::write(&odd, "x").unwrap();
        let args = [OsString::from("--add"), odd.clone().into_os_string()];
        let second = claim_on(bus.builder(), &args, &Arc::default(), &Arc::default());
        assert!(matches!(second, Start::HandedOver));
        assert!(woken.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(inbox.take().files, [odd.display().to_string()]);
    }

    #[test]
    fn without_a_bus_each_start_runs_on_its_own() {
        let nowhere = || Builder::address("unix:path=/nonexistent/arca-test-bus");
        let inbox = Arc::new(Inbox::default());
        let start = claim_on(nowhere, &[OsString::from("x")], &inbox, &Arc::default());
        assert!(matches!(start, Start::Alone(why) if why.starts_with("no session bus")));
    }
}
