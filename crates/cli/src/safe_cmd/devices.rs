//! The devices syncing a Safe: `arca sync devices SAFE` lists them, `arca sync approve SAFE
//! DEVICE` lets one that asked to join take part, `arca sync remove SAFE DEVICE` refuses one
//! that asks or shuts out one approved before. Each decision is signed here and reaches the
//! other devices with this device's next sync, which runs at once.
//!
//! DEVICE is a device's id (or the start of it, as the list shows it), its code (the one both
//! screens show), or its name. A name is the computer's, so two devices may share one: a name
//! that names several is refused unless only one of them can be decided on (the one that asks
//! to join, for `approve`), and the error lists them with their ids.

use std::io::{self, BufRead, IsTerminal, Write};

use arca_safe::{DeviceState, Safe, SyncDevice, SyncReport, escape_for_display};
use clap::Args;
use serde::Serialize;
use uuid::Uuid;

use crate::exit::{Exit, Failure};
use crate::safe_cmd::output::{self, utc};
use crate::safe_cmd::sync::{self as sync_cmd};
use crate::safe_cmd::{SafeArg, fail};

/// What to do about the library's device errors (removed, not approved yet, unknown device).
pub const DEVICE_HINT: &str = "a device that joined is approved on a device already syncing the \
     Safe, after comparing the code both show (`arca sync approve SAFE DEVICE` there); a removed \
     device no longer syncs, and joins again only as a new device (`arca join`); `arca sync \
     devices SAFE` lists the devices and their states";

/// How many characters of a device's id the list shows (and the commands it suggests use).
const SHORT_ID: usize = 8;

/// `arca sync devices SAFE`.
#[derive(Args)]
pub struct DevicesArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Print the list as JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `arca sync approve|remove SAFE DEVICE`.
#[derive(Args)]
pub struct DecideArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The device: its id (the first characters are enough), its code, or its name, as `arca
    /// sync devices SAFE` lists them
    #[arg(value_name = "DEVICE")]
    device: String,

    /// Do not ask for confirmation on the terminal (needed when standard input is not one,
    /// e.g. with --password-stdin)
    #[arg(long)]
    yes: bool,

    /// Print {"device", "sync"} as JSON instead of text: the device after the decision, and
    /// the report of the sync that took it to the other devices
    #[arg(long)]
    json: bool,
}

/// An approval or a removal.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Remove,
}

/// Runs `arca sync devices`.
pub fn devices(args: DevicesArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let devices = list(&safe, &args.safe)?;
    if args.json {
        return output::print_json(&devices);
    }
    if devices.is_empty() {
        return output::summary(&format!(
            "the Safe {} has not synced on this device yet, so it knows no devices; they are \
             listed after its first `arca sync`\n",
            args.safe.name()
        ));
    }
    output::write_stdout(table(&devices).as_bytes())
}

fn list(safe: &Safe, safe_arg: &SafeArg) -> Result<Vec<SyncDevice>, Failure> {
    safe.sync_devices().map_err(fail(format!(
        "cannot read the devices of the Safe {}",
        safe_arg.name()
    )))
}

/// The devices as a table: id, name, code, state, and who decided it when.
fn table(devices: &[SyncDevice]) -> String {
    let rows: Vec<[String; 5]> = devices
        .iter()
        .map(|device| {
            [
                short_id(device.id),
                escape_for_display(&device.name),
                device.code.clone().unwrap_or_else(|| "-".to_owned()),
                state_words(device).to_owned(),
                decided_words(device),
            ]
        })
        .collect();
    let header = ["DEVICE", "NAME", "CODE", "STATE", "DECIDED BY"];
    let mut widths = header.map(|title| title.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let mut line = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            if index + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = width - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn short_id(id: Uuid) -> String {
    id.simple().to_string()[..SHORT_ID].to_owned()
}

fn state_words(device: &SyncDevice) -> &'static str {
    match (device.state, device.this_device) {
        (DeviceState::Approved, true) => "this device, approved",
        (DeviceState::Waiting, true) => "this device, waits for approval",
        (DeviceState::Removed, true) => "this device, removed",
        (DeviceState::Approved, false) => "approved",
        (DeviceState::Waiting, false) => "asks to join",
        (DeviceState::Removed, false) => "removed",
    }
}

fn decided_words(device: &SyncDevice) -> String {
    match (&device.decided_by, device.decided_at) {
        (Some(by), Some(at)) => format!("{} ({} UTC)", escape_for_display(by), utc(at)),
        (Some(by), None) => escape_for_display(by),
        _ => "-".to_owned(),
    }
}

/// A device as messages name it: `laptop (device 1a2b3c4d, code 3F2A5-…)`.
pub fn describe(device: &SyncDevice) -> String {
    let code = device
        .code
        .as_deref()
        .map_or_else(String::new, |code| format!(", code {code}"));
    format!(
        "{} (device {}{code})",
        escape_for_display(&device.name),
        short_id(device.id)
    )
}

/// What `arca sync` says about devices: this one waiting to be approved, others asking to
/// join (with the commands that decide on them).
pub fn describe_report(report: &SyncReport, safe_arg: &SafeArg) -> String {
    let mut text = String::new();
    let safe = safe_arg.path.display();
    if let Some(code) = &report.waiting_for_approval {
        text.push_str(&format!(
            "this device waits to be approved, with the code {code}: its changes reach no other \
             device until then\n  \
             on a device already syncing this Safe, sync (`arca sync SAFE`, or Sync now in the \
             app), check that it shows this code for this device, and approve it there: `arca \
             sync approve SAFE {code}`, or Approve under Settings → Sync → Devices in the app\n"
        ));
    }
    for device in &report.devices_asking {
        let id = short_id(device.id);
        text.push_str(&format!(
            "{} asks to join this Safe{}\n  \
             approve it only if it is your device and that computer shows the same code: \
             `arca sync approve {safe} {id}`\n  \
             refuse it: `arca sync remove {safe} {id}`\n",
            escape_for_display(&device.name),
            device
                .code
                .as_deref()
                .map_or_else(String::new, |code| format!(" with the code {code}")),
        ));
    }
    text
}

/// Why DEVICE names no single device.
#[derive(Debug)]
enum Unresolved<'a> {
    Unknown,
    Ambiguous(Vec<&'a SyncDevice>),
}

/// The device `given` names among `devices`: by its full id, the start of its id, its code or
/// its name. Of several, the only one `decidable` (if one is) is it.
fn resolve<'a>(
    devices: &'a [SyncDevice],
    given: &str,
    decidable: impl Fn(&SyncDevice) -> bool,
) -> Result<&'a SyncDevice, Unresolved<'a>> {
    let given = given.trim();
    if given.is_empty() {
        return Err(Unresolved::Unknown);
    }
    if let Ok(id) = Uuid::try_parse(given) {
        return devices
            .iter()
            .find(|device| device.id == id)
            .ok_or(Unresolved::Unknown);
    }
    let prefix = given.to_ascii_lowercase().replace('-', "");
    let by_id = |device: &&SyncDevice| {
        prefix.chars().all(|c| c.is_ascii_hexdigit())
            && device.id.simple().to_string().starts_with(&prefix)
    };
    let code = normalised_code(given);
    let by_code = |device: &&SyncDevice| {
        code.is_some() && device.code.as_deref().and_then(normalised_code) == code
    };
    let mut found: Vec<&SyncDevice> = devices
        .iter()
        .filter(|device| device.name == given || by_id(device) || by_code(device))
        .collect();
    if found.is_empty() {
        found = devices
            .iter()
            .filter(|device| device.name.to_lowercase() == given.to_lowercase())
            .collect();
    }
    match found.as_slice() {
        [] => Err(Unresolved::Unknown),
        [one] => Ok(one),
        several => {
            let decidable: Vec<&SyncDevice> = several
                .iter()
                .copied()
                .filter(|device| decidable(device))
                .collect();
            match decidable.as_slice() {
                [one] => Ok(one),
                _ => Err(Unresolved::Ambiguous(found)),
            }
        }
    }
}

/// A code as typed, in the form codes are shown in (upper case, no dashes or spaces; the
/// letters O, I and L read as the digits they look like), if it can be one.
fn normalised_code(text: &str) -> Option<String> {
    let symbols: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (symbols.len() == 20 && symbols.chars().all(|c| c.is_ascii_alphanumeric())).then_some(symbols)
}

/// The listing of `devices` in a message, one per line.
fn listed(devices: &[&SyncDevice]) -> String {
    devices
        .iter()
        .map(|device| format!("\n  {}  {}", describe(device), state_words(device)))
        .collect()
}

/// Runs `arca sync approve` or `arca sync remove`.
pub fn decide(args: DecideArgs, decision: Decision) -> Result<(), Failure> {
    let (verb, noun) = match decision {
        Decision::Approve => ("approve", "approval"),
        Decision::Remove => ("remove", "removal"),
    };
    args.safe.check_manifest()?;
    // Said before the password is typed.
    let can_ask = !args.safe.password_stdin && io::stdin().is_terminal();
    if !args.yes && !can_ask {
        return Err(Failure::usage(
            format!(
                "to {verb} a device, arca asks you to confirm on the terminal, and there is none \
                 here (standard input is not a terminal, or holds the password); nothing was \
                 changed"
            ),
            format!(
                "run it on a terminal without --password-stdin, or pass --yes to {verb} it \
                 without asking"
            ),
        ));
    }
    let safe = args.safe.open()?;
    let devices = list(&safe, &args.safe)?;
    if devices.is_empty() {
        return Err(Failure::new(
            Exit::Device,
            anyhow::anyhow!(
                "the Safe {} has not synced on this device yet, so it knows no other device; \
                 nothing was changed",
                args.safe.name()
            ),
            format!(
                "sync first (`arca sync {}`); devices that asked to join appear then",
                args.safe.path.display()
            ),
        ));
    }
    let decidable = |device: &SyncDevice| match decision {
        Decision::Approve => device.state == DeviceState::Waiting,
        Decision::Remove => device.state != DeviceState::Removed && !device.this_device,
    };
    let device = resolve(&devices, &args.device, decidable)
        .map_err(|unresolved| unresolved_failure(unresolved, &args, &devices))?
        .clone();
    let already = match (decision, device.state) {
        (Decision::Approve, DeviceState::Approved) => Some("is approved already"),
        (Decision::Remove, DeviceState::Removed) => Some("was removed already"),
        _ => None,
    };
    if let Some(already) = already {
        if args.json {
            return output::print_json(&Decided {
                device: &device,
                sync: None,
            });
        }
        return output::summary(&format!(
            "{} {already}; nothing was changed\n",
            describe(&device)
        ));
    }
    if !args.yes && !confirmed(decision, &device)? {
        return Err(Failure::new(
            Exit::General,
            anyhow::anyhow!("{} was not {verb}d: you did not confirm", describe(&device)),
            format!("run the command again and answer y to {verb} it"),
        ));
    }
    let done = match decision {
        Decision::Approve => safe.approve_device(device.id),
        Decision::Remove => safe.remove_device(device.id),
    };
    done.map_err(fail(format!(
        "cannot {verb} {} in the Safe {}",
        describe(&device),
        args.safe.name()
    )))?;
    if !args.json {
        output::summary(&match (decision, device.state) {
            (Decision::Approve, _) => format!(
                "approved {} on this device: its changes count from its next sync\n",
                describe(&device)
            ),
            (Decision::Remove, DeviceState::Waiting) => format!(
                "refused {} on this device: nothing it writes is accepted\n",
                describe(&device)
            ),
            (Decision::Remove, _) => format!(
                "removed {} on this device: its changes from now on are undone on every device, \
                 and it no longer syncs\n",
                describe(&device)
            ),
        })?;
    }
    // The decision reaches the other devices (and the one decided on) with a sync.
    let kept = format!(
        "the {noun} is kept on this device and goes to the others with its next sync (`arca \
         sync {}`)",
        args.safe.path.display()
    );
    let settings = safe
        .sync_target()
        .map_err(fail(format!(
            "cannot read the sync target of the Safe {}",
            args.safe.name()
        )))
        .map_err(|failure| failure.with_hint_first(&kept))?
        .ok_or_else(|| {
            Failure::usage(
                format!(
                    "the Safe {} has no sync target any more, so the {noun} cannot go to the \
                     other devices",
                    args.safe.name()
                ),
                format!(
                    "{kept}; give it the folder the other devices sync with: `arca sync {} --to \
                     FOLDER`",
                    args.safe.path.display()
                ),
            )
        })?;
    let report = sync_cmd::reachable(settings.clone(), &args.safe)
        .and_then(|settings| sync_cmd::run_sync(&safe, &args.safe, &settings))
        .map_err(|failure| failure.with_hint_first(&kept))?;
    if args.json {
        let after = list(&safe, &args.safe)?
            .into_iter()
            .find(|listed| listed.id == device.id)
            .unwrap_or(device);
        output::print_json(&Decided {
            device: &after,
            sync: Some(&report),
        })?;
    } else {
        output::summary(&sync_cmd::describe_report(&report, &args.safe, &settings))?;
    }
    sync_cmd::finish(&report, &args.safe)
}

/// What `approve --json` and `remove --json` print.
#[derive(Serialize)]
struct Decided<'a> {
    device: &'a SyncDevice,
    /// The sync that took the decision to the other devices (`null` when nothing was decided).
    sync: Option<&'a SyncReport>,
}

fn unresolved_failure(
    unresolved: Unresolved<'_>,
    args: &DecideArgs,
    all: &[SyncDevice],
) -> Failure {
    let given = escape_for_display(&args.device);
    let how = format!(
        "name the device by its id (its first characters are enough), its code or its exact \
         name, as `arca sync devices {}` lists them",
        args.safe.path.display()
    );
    match unresolved {
        Unresolved::Ambiguous(found) => Failure::usage(
            format!(
                "{given:?} names {} devices of this Safe; nothing was changed:{}",
                found.len(),
                listed(&found)
            ),
            how,
        ),
        Unresolved::Unknown => Failure::new(
            Exit::Device,
            anyhow::anyhow!(
                "no device of this Safe has the id, code or name {given:?}; nothing was changed. \
                 The devices this device knows:{}",
                listed(&all.iter().collect::<Vec<_>>())
            ),
            format!(
                "{how}; a device that asked to join since this device last synced appears after \
                 `arca sync {}`",
                args.safe.path.display()
            ),
        ),
    }
}

/// Asks on the terminal whether to go on, saying what the decision means.
fn confirmed(decision: Decision, device: &SyncDevice) -> Result<bool, Failure> {
    let who = describe(device);
    let question = match (decision, device.state) {
        (Decision::Approve, _) => format!(
            "Approve {who}?\n\
             Check that the other computer shows this same code{}. Once approved, its changes \
             reach every device of this Safe.\n\
             Approve it? [y/N] ",
            device
                .code
                .as_deref()
                .map_or_else(String::new, |code| format!(" ({code})"))
        ),
        (Decision::Remove, DeviceState::Waiting) => format!(
            "Refuse {who}?\n\
             Nothing it writes will be accepted by any device of this Safe. It keeps what it has \
             received already.\n\
             Refuse it? [y/N] "
        ),
        (Decision::Remove, _) => format!(
            "Remove {who}?\n\
             Its changes from now on are undone on every device, and it no longer syncs this \
             Safe. It keeps its copy of the Safe and its keys, so it could still read what is \
             synced later: if it was lost or stolen, also move sync to a new folder it cannot \
             reach.\n\
             Remove it? [y/N] "
        ),
    };
    eprint!("{question}");
    let _ = io::stderr().flush();
    let mut answer = String::new();
    io::stdin().lock().read_line(&mut answer).map_err(|error| {
        Failure::new(
            Exit::Io,
            anyhow::Error::new(error).context("cannot read the answer from the terminal"),
            "answer y or n at the prompt, or pass --yes",
        )
    })?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: u128, name: &str, state: DeviceState, this: bool) -> SyncDevice {
        SyncDevice {
            id: Uuid::from_u128(id),
            name: name.to_owned(),
            code: Some(format!("{:05X}-C1E9B-0D77E-1XY2Z", id & 0xfffff)),
            state,
            this_device: this,
            asked_at: None,
            decided_by: None,
            decided_at: None,
        }
    }

    fn devices() -> Vec<SyncDevice> {
        vec![
            device(0x1111_0000 << 96, "desk", DeviceState::Approved, true),
            device(
                (0x2222_0000 << 96) | 1,
                "laptop",
                DeviceState::Removed,
                false,
            ),
            device(
                (0x2233_0000 << 96) | 2,
                "laptop",
                DeviceState::Waiting,
                false,
            ),
            device(
                (0x4444_0000 << 96) | 3,
                "Tablet",
                DeviceState::Waiting,
                false,
            ),
            device(
                (0x5555_0000 << 96) | 4,
                "Tablet",
                DeviceState::Waiting,
                false,
            ),
        ]
    }

    fn waiting(device: &SyncDevice) -> bool {
        device.state == DeviceState::Waiting
    }

    #[test]
    fn a_device_is_named_by_id_prefix_code_or_name() {
        let all = devices();
        let id = |found: Result<&SyncDevice, Unresolved<'_>>| found.map(|d| d.id).ok();
        assert_eq!(id(resolve(&all, "11110000", waiting)), Some(all[0].id));
        assert_eq!(
            id(resolve(&all, &all[3].id.to_string(), waiting)),
            Some(all[3].id)
        );
        assert_eq!(id(resolve(&all, "desk", waiting)), Some(all[0].id));
        // A code, as typed from the other screen (lower case, O for 0, no dashes).
        assert_eq!(
            id(resolve(&all, "00003c1e9bo d77e1xy2z", waiting)),
            Some(all[3].id)
        );
        // Names are compared exactly, then ignoring case.
        assert_eq!(id(resolve(&all, "DESK", waiting)), Some(all[0].id));
        // The only one of a name that can be decided on.
        assert_eq!(id(resolve(&all, "laptop", waiting)), Some(all[2].id));
        assert_eq!(id(resolve(&all, "2233", waiting)), Some(all[2].id));
    }

    #[test]
    fn several_or_none_are_refused() {
        let all = devices();
        assert!(matches!(
            resolve(&all, "Tablet", waiting),
            Err(Unresolved::Ambiguous(found)) if found.len() == 2
        ));
        assert!(matches!(
            resolve(&all, "22", |_| true),
            Err(Unresolved::Ambiguous(found)) if found.len() == 2
        ));
        for unknown in ["phone", "", "9999", "0000-c1e9b-0d77e-1xy2z", "00003-C1E9B"] {
            assert!(
                matches!(resolve(&all, unknown, waiting), Err(Unresolved::Unknown)),
                "{unknown}"
            );
        }
    }

    #[test]
    fn the_table_lines_up_and_escapes_names() {
        let mut all = devices();
        all[1].name = "bad\u{1b}[2Jname".to_owned();
        all[1].decided_by = Some("desk".to_owned());
        all[1].decided_at = Some(1_700_000_000_000_000_000);
        let text = table(&all);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 6, "{text}");
        assert!(lines[0].starts_with("DEVICE    NAME"), "{text}");
        assert!(lines[1].contains("this device, approved"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(
            lines[2].contains(" removed ")
                && lines[2].ends_with("  desk (2023-11-14 22:13:20 UTC)"),
            "{text}"
        );
        let code_column = lines[0].find("CODE").unwrap_or_default();
        assert!(
            lines
                .iter()
                .skip(1)
                .all(|line| line[code_column..].starts_with(char::is_alphanumeric))
        );
    }
}
