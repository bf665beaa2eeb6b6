//! Editing in another app through the secure temporary storage: the copy lives in RAM only, each
//! save is taken back as the same item, a copy left by a crash is found and either taken back or
//! wiped, and a folder on disk is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arca_safe::{ErrorKind, ImportOptions, SecureArea, TakeBack};
use common::child::copy_dir;
use common::{import, new_safe};

/// A base folder in RAM for the test (`/dev/shm` is a tmpfs on Linux), removed at the end.
struct RamBase(PathBuf);

impl RamBase {
    fn new() -> Self {
        let path = Path::new("/dev/shm").join(format!("arca-test-{}", uuid::Uuid::new_v4()));
        fs::create_dir(&path).expect("/dev/shm must be a writable tmpfs for this test");
        Self(path)
    }
    fn base(&self) -> PathBuf {
        self.0.join("arca")
    }
}

impl Drop for RamBase {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn safe_with_letter(dir: &Path) -> (arca_safe::Safe, uuid::Uuid) {
    let safe = new_safe(dir);
    let source = dir.join("Letter to Zoë.txt");
    fs::write(&source, b"Dear Zoe, first draft of the letter.").unwrap();
    import(&safe, &[source], &ImportOptions::default());
    let item = safe.resolve("/Letter to Zoë.txt").unwrap().unwrap();
    safe.add_tag(item.id, "letters").unwrap();
    safe.set_comment(item.id, "to send on Monday").unwrap();
    (safe, item.id)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_folder_on_disk_is_refused_and_nothing_is_written_there() {
    let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let base = disk.path().join("arca");
    let error = SecureArea::create_under(&base).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoSecureArea, "{error}");
    assert!(error.to_string().contains("not in RAM"), "{error}");
    assert!(!base.exists(), "a folder was made on disk");
}

#[test]
fn a_copy_in_ram_is_taken_back_as_the_same_item_and_wiped_at_the_end() {
    let ram = RamBase::new();
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = safe_with_letter(dir.path());
    let area = SecureArea::create_under(&ram.base()).unwrap();
    let root = area.root().to_path_buf();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&root).unwrap().permissions().mode() & 0o777,
            0o700
        );
        assert!(root.join(".nomedia").exists() && root.join(".trackerignore").exists());
    }

    let mut edit = area.open_copy(&safe, id).unwrap();
    assert_eq!(edit.file().file_name().unwrap(), "Letter to Zoë.txt");
    assert!(edit.file().starts_with(&root));
    assert_eq!(
        fs::read(edit.file()).unwrap(),
        b"Dear Zoe, first draft of the letter."
    );
    let item = safe.item(id).unwrap();
    let copy_time = fs::metadata(edit.file()).unwrap().modified().unwrap();
    assert_eq!(arca_safe_time(copy_time), item.modified_at);
    assert_eq!(safe.take_back(&mut edit).unwrap(), TakeBack::Unchanged);

    // The other app saves: written in place, then by a new file renamed over the copy.
    fs::write(edit.file(), b"Dear Zoe, second draft.").unwrap();
    assert_eq!(
        safe.take_back(&mut edit).unwrap(),
        TakeBack::Saved { size: 23 }
    );
    let renamed = edit.folder().join(".goutputstream-XYZ");
    fs::write(&renamed, b"Dear Zoe, the final letter.").unwrap();
    fs::rename(&renamed, edit.file()).unwrap();
    assert!(matches!(
        safe.take_back(&mut edit).unwrap(),
        TakeBack::Saved { .. }
    ));
    assert_eq!(&safe.read(id).unwrap()[..], b"Dear Zoe, the final letter.");
    let after = safe.item(id).unwrap();
    assert_eq!(after.name, "Letter to Zoë.txt");
    assert_eq!(after.parent, item.parent);
    assert_eq!(after.comment, "to send on Monday");
    assert_eq!(safe.tags_of(id).unwrap(), ["letters"]);
    assert_eq!(
        after.modified_at,
        arca_safe_time(fs::metadata(edit.file()).unwrap().modified().unwrap())
    );

    // Between an editor's delete and its write the copy is missing: nothing changes.
    fs::remove_file(edit.file()).unwrap();
    assert_eq!(safe.take_back(&mut edit).unwrap(), TakeBack::Missing);
    assert_eq!(&safe.read(id).unwrap()[..], b"Dear Zoe, the final letter.");

    edit.close().unwrap();
    drop(area);
    assert!(!root.exists(), "the run's folder outlived it");
    let report = safe
        .check(true, false, &common::JobControl::new(), &mut |_| {})
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
}

fn arca_safe_time(time: std::time::SystemTime) -> Option<i64> {
    time.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_nanos()).ok())
}

#[test]
fn a_watch_takes_back_the_last_of_several_quick_writes_once_they_settle() {
    let ram = RamBase::new();
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = safe_with_letter(dir.path());
    let area = SecureArea::create_under(&ram.base()).unwrap();
    let edit = Arc::new(std::sync::Mutex::new(area.open_copy(&safe, id).unwrap()));
    let calls = Arc::new(AtomicUsize::new(0));
    let saved = Arc::new(std::sync::Mutex::new(Vec::new()));
    let watch = {
        let (safe, shared, calls, saved) =
            (safe.clone(), edit.clone(), calls.clone(), saved.clone());
        arca_safe::watch(
            &edit.lock().unwrap(),
            Duration::from_millis(200),
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                let outcome = safe.take_back(&mut shared.lock().unwrap()).unwrap();
                saved.lock().unwrap().push(outcome);
            },
        )
        .unwrap()
    };
    let file = edit.lock().unwrap().file().to_path_buf();
    // Three writes in a row, each well inside the quiet time: one take-back, of the last.
    for text in ["one", "one two", "one two three"] {
        fs::write(&file, text).unwrap();
        std::thread::sleep(Duration::from_millis(30));
    }
    wait_for("the first take-back", || calls.load(Ordering::SeqCst) >= 1);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "{:?}",
        saved.lock().unwrap()
    );
    assert_eq!(&safe.read(id).unwrap()[..], b"one two three");

    // A save by rename is seen too.
    let temporary = file.with_file_name("letter.tmp~");
    fs::write(&temporary, b"renamed into place").unwrap();
    fs::rename(&temporary, &file).unwrap();
    wait_for("the renamed save", || {
        safe.read(id)
            .is_ok_and(|bytes| &bytes[..] == b"renamed into place")
    });
    drop(watch);
}

#[test]
fn a_safe_open_for_reading_only_gives_no_copy_to_edit() {
    let ram = RamBase::new();
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = safe_with_letter(dir.path());
    let path = safe.layout().root().to_path_buf();
    drop(safe);
    let reading = common::probe(&path, &common::password()).unwrap();
    let area = SecureArea::create_under(&ram.base()).unwrap();
    let error = area.open_copy(&reading, id).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::ReadOnly, "{error}");
    assert_eq!(
        fs::read_dir(area.root())
            .unwrap()
            .filter(|e| e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("edit-"))
            .count(),
        0
    );
}

#[test]
fn a_changed_copy_left_by_a_crash_is_kept_and_taken_back_and_an_unchanged_one_is_wiped() {
    let ram = RamBase::new();
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = safe_with_letter(dir.path());
    let other = {
        let source = dir.path().join("untouched.txt");
        fs::write(&source, b"nobody changed me").unwrap();
        import(&safe, &[source], &ImportOptions::default());
        safe.resolve("/untouched.txt").unwrap().unwrap().id
    };
    let area = SecureArea::create_under(&ram.base()).unwrap();
    let changed = area.open_copy(&safe, id).unwrap();
    let untouched = area.open_copy(&safe, other).unwrap();
    fs::write(changed.file(), b"saved in the editor, never taken back").unwrap();
    // A run that died: its folder is there, and nobody holds its lock.
    let dead = ram.base().join("run-0123456789abcdef");
    copy_dir(area.root(), &dead);
    drop((changed, untouched));

    // The living run is left alone; the dead one is swept.
    let left = arca_safe::sweep_leftovers(&ram.base()).unwrap();
    assert!(area.root().exists());
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].record.item, id);
    assert_eq!(left[0].record.path, "/Letter to Zoë.txt");
    let kept: Vec<PathBuf> = walk(&dead);
    assert!(
        !kept.iter().any(|path| path.ends_with("untouched.txt")),
        "an unchanged copy was kept: {kept:?}"
    );
    // Found again at the next start until the person decides.
    assert_eq!(arca_safe::sweep_leftovers(&ram.base()).unwrap().len(), 1);

    safe.take_back_leftover(&left[0]).unwrap();
    assert_eq!(
        &safe.read(id).unwrap()[..],
        b"saved in the editor, never taken back"
    );
    assert_eq!(safe.tags_of(id).unwrap(), ["letters"]);
    assert!(!dead.exists(), "the dead run's folder stayed");
    assert!(arca_safe::sweep_leftovers(&ram.base()).unwrap().is_empty());
}

#[test]
fn copies_another_process_holds_open_or_an_app_marked_as_open_are_named() {
    let ram = RamBase::new();
    let dir = tempfile::tempdir().unwrap();
    let (safe, id) = safe_with_letter(dir.path());
    let area = SecureArea::create_under(&ram.base()).unwrap();
    let edit = area.open_copy(&safe, id).unwrap();
    assert!(arca_safe::open_elsewhere(&[&edit]).is_empty());

    let mut holder = std::process::Command::new("sh")
        .arg("-c")
        .arg("exec 3<\"$1\"; exec sleep 30")
        .arg("holder")
        .arg(edit.file())
        .spawn()
        .unwrap();
    wait_for("the other process to open the copy", || {
        !arca_safe::open_elsewhere(&[&edit]).is_empty()
    });
    assert_eq!(
        arca_safe::open_elsewhere(&[&edit]),
        [edit.file().to_path_buf()]
    );
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(arca_safe::open_elsewhere(&[&edit]).is_empty());

    // LibreOffice reads a file and closes it, but leaves its lock file beside it.
    fs::write(edit.folder().join(".~lock.Letter to Zoë.txt#"), b"x").unwrap();
    assert_eq!(
        arca_safe::open_elsewhere(&[&edit]),
        [edit.file().to_path_buf()]
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(entry.path());
        if entry.file_type().unwrap().is_dir() {
            out.extend(walk(&entry.path()));
        }
    }
    out
}

#[test]
fn a_run_still_making_its_folder_is_left_alone_and_one_that_died_doing_so_is_removed() {
    let ram = RamBase::new();
    let area = SecureArea::create_under(&ram.base()).unwrap();
    let fresh = ram.base().join(".making-0000000000000001");
    let dead = ram.base().join(".making-0000000000000002");
    fs::create_dir(&fresh).unwrap();
    fs::create_dir(&dead).unwrap();
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    fs::File::open(&dead)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    assert!(arca_safe::sweep_leftovers(&ram.base()).unwrap().is_empty());
    assert!(fresh.exists(), "a folder being made was swept");
    assert!(!dead.exists(), "a folder a dead run was making stayed");
    assert!(area.root().exists(), "a living run was swept");
}
