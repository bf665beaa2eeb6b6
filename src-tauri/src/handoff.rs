//! Paths other programs hand to the app: its own command line, and the command line of every
//! later `arca-desktop` started while this one runs (`single_instance` forwards it here, then
//! that process exits). A file manager hands a Safe to open (a `.arca` folder or its
//! `safe.json`) or files to add to a Safe (`--add`).
//!
//! Nothing happens to a handed path by itself: a Safe is only chosen for unlocking and files
//! wait for the person to press "Add here" in the folder they want. Any local program can start
//! `arca-desktop`, so a handoff must never import or open anything unasked.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use arca_safe::Layout;

use crate::dto::Handoff;

/// A Safe's folder name ends with this; its manifest is `safe.json`.
const SAFE_SUFFIX: &str = ".arca";
const MANIFEST: &str = "safe.json";

/// Reads one command line (`args` without the program name; relative paths are taken from
/// `cwd`, the directory of the process that was started).
///
/// `--add` hands every path after it as a file to add, even a Safe. `--demo DIR` is the demo
/// Safe's sample folder, not a handed path. Other options are ignored; after `--` everything is
/// a path.
pub fn parse(args: impl IntoIterator<Item = OsString>, cwd: &Path) -> Handoff {
    let mut handoff = Handoff::default();
    let mut add = false;
    let mut options = true;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if options {
            if arg == "--demo" {
                args.next();
                continue;
            }
            if arg == "--add" {
                add = true;
                continue;
            }
            if arg == "--" {
                options = false;
                continue;
            }
            if arg.to_string_lossy().starts_with("--") {
                continue;
            }
        }
        let path = cwd.join(PathBuf::from(arg));
        let shown = path.display().to_string();
        if !add && let Some(safe) = safe_at(&path) {
            if handoff.safe.is_none() {
                handoff.safe = Some(safe.display().to_string());
            } else {
                handoff.ignored_safes.push(shown);
            }
        } else if path.symlink_metadata().is_ok() {
            handoff.files.push(shown);
        } else {
            handoff.missing.push(shown);
        }
    }
    handoff
}

/// The Safe `path` names: a folder holding `safe.json` or called `….arca` (the start screen
/// says what is wrong with one that is not a Safe), or a `safe.json` itself.
fn safe_at(path: &Path) -> Option<PathBuf> {
    if path.is_dir() {
        let named = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().ends_with(SAFE_SUFFIX));
        return (named || Layout::new(path).manifest().is_file()).then(|| path.to_path_buf());
    }
    if path.file_name().is_some_and(|name| name == MANIFEST) {
        return path.parent().map(Path::to_path_buf);
    }
    None
}

/// Handoffs the window has not taken yet (it takes them when it starts and at each `handoff`
/// event).
#[derive(Default)]
pub struct Inbox(Mutex<Handoff>);

impl Inbox {
    /// Adds `handoff` to what is waiting; a later Safe replaces an earlier one.
    pub fn put(&self, handoff: Handoff) {
        let mut waiting = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if handoff.safe.is_some() {
            waiting.safe = handoff.safe;
        }
        waiting.files.extend(handoff.files);
        waiting.missing.extend(handoff.missing);
        waiting.ignored_safes.extend(handoff.ignored_safes);
        waiting.page_restarted |= handoff.page_restarted;
    }

    /// Everything waiting, leaving nothing.
    pub fn take(&self) -> Handoff {
        std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn folders() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let safe = dir.path().join("Travel.arca");
        std::fs::create_dir(&safe).unwrap();
        std::fs::write(safe.join(MANIFEST), "{}").unwrap();
        std::fs::write(dir.path().join("photo.jpg"), "x").unwrap();
        std::fs::create_dir(dir.path().join("Letters")).unwrap();
        (dir, safe)
    }

    #[test]
    fn a_safe_folder_or_its_manifest_is_a_safe_to_open() {
        let (dir, safe) = folders();
        let shown = safe.display().to_string();
        assert_eq!(
            parse(args(&["Travel.arca"]), dir.path()).safe,
            Some(shown.clone())
        );
        let manifest = parse(args(&["Travel.arca/safe.json"]), dir.path());
        assert_eq!(manifest.safe, Some(shown));
        assert!(manifest.files.is_empty());
        // A folder called ….arca without a manifest goes to the start screen too, which says
        // it is not a Safe, rather than being imported.
        std::fs::create_dir(dir.path().join("Empty.arca")).unwrap();
        assert!(parse(args(&["Empty.arca"]), dir.path()).safe.is_some());
    }

    #[test]
    fn other_paths_are_files_to_add_and_add_makes_a_safe_one_too() {
        let (dir, safe) = folders();
        let handoff = parse(args(&["photo.jpg", "Letters"]), dir.path());
        assert_eq!(handoff.safe, None);
        assert_eq!(
            handoff.files,
            [dir.path().join("photo.jpg"), dir.path().join("Letters")]
                .map(|path| path.display().to_string())
        );
        let add = parse(args(&["--add", "Travel.arca", "photo.jpg"]), dir.path());
        assert_eq!(add.safe, None);
        assert_eq!(add.files[0], safe.display().to_string());
    }

    #[test]
    fn missing_paths_extra_safes_and_the_demo_folder_are_told_apart() {
        let (dir, _) = folders();
        let second = dir.path().join("Work.arca");
        std::fs::create_dir(&second).unwrap();
        let handoff = parse(
            args(&[
                "--demo",
                "photo.jpg",
                "gone.txt",
                "Travel.arca",
                "Work.arca",
            ]),
            dir.path(),
        );
        assert!(handoff.files.is_empty(), "--demo's folder is not handed");
        std::fs::write(dir.path().join("--odd"), "x").unwrap();
        let odd = parse(args(&["--add", "--", "--odd"]), dir.path());
        assert_eq!(odd.files, [dir.path().join("--odd").display().to_string()]);
        assert_eq!(
            handoff.missing,
            [dir.path().join("gone.txt").display().to_string()]
        );
        assert!(handoff.safe.unwrap().ends_with("Travel.arca"));
        assert_eq!(handoff.ignored_safes, [second.display().to_string()]);
    }

    #[test]
    fn absolute_paths_stay_as_given_and_the_inbox_gathers_until_taken() {
        let (dir, safe) = folders();
        let photo = dir.path().join("photo.jpg");
        let inbox = Inbox::default();
        inbox.put(parse(
            [photo.clone().into_os_string()],
            Path::new("/elsewhere"),
        ));
        inbox.put(parse([safe.clone().into_os_string()], Path::new("/")));
        let taken = inbox.take();
        assert_eq!(taken.files, [photo.display().to_string()]);
        assert_eq!(taken.safe, Some(safe.display().to_string()));
        assert_eq!(inbox.take(), Handoff::default());
    }
}
