//! Import a tree, organise it, search it, export it back, and detect tampering.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fs;
use std::path::PathBuf;

use arca_safe::{
    Content, Error, ImportOptions, JobControl, JobEvent, Kind, OnClash, ProblemKind, SearchQuery,
};
use common::*;

const MARKER: &[u8] = b"CLEARTEXT-MARKER-7f3a";
/// What must never appear in a Safe's bytes: the marker and the names of `sample_tree`.
const LEAKS: &[&[u8]] = &[
    MARKER,
    b"Holiday Photos",
    b"beach.jpg",
    b"notes.txt",
    b"Day one",
    b".dotfile",
    b"empty folder",
    b"nnnnnnnnnnnnnnnn",
];

fn sample_tree(root: &std::path::Path) -> PathBuf {
    let src = root.join("Holiday Photos");
    fs::create_dir_all(src.join("Day one/empty folder")).unwrap();
    fs::create_dir_all(src.join(".hidden")).unwrap();
    fs::write(src.join("notes.txt"), [MARKER, b" notes"].concat()).unwrap();
    fs::write(src.join("empty.bin"), b"").unwrap();
    fs::write(
        src.join("Day one/beach.jpg"),
        [MARKER, &vec![7u8; 300_000][..]].concat(),
    )
    .unwrap();
    fs::write(src.join("Day one/Caf\u{e9}.txt"), b"nfc").unwrap();
    fs::write(src.join("Day one/Cafe\u{301}.txt"), b"nfd").unwrap();
    fs::write(src.join(".hidden/.dotfile"), [MARKER, b"dot"].concat()).unwrap();
    fs::write(src.join(format!("{}.txt", "n".repeat(251))), b"long name").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("/etc/passwd", src.join("link-out")).unwrap();
    src
}

#[test]
fn import_export_round_trip_keeps_bytes_names_and_dates() {
    let dir = tempfile::tempdir().unwrap();
    let src = sample_tree(dir.path());
    let modified = fs::metadata(src.join("notes.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let safe = new_safe(dir.path());
    let report = import(&safe, std::slice::from_ref(&src), &ImportOptions::default());
    assert_eq!(report.files, 7, "{report:?}");
    assert!(report.skipped.is_empty());
    // The link was not imported: reported, so the import is not complete.
    assert_eq!(
        report.failed.len(),
        1,
        "the symlink is reported: {:?}",
        report.failed
    );
    assert_eq!(report.failed[0].kind, ProblemKind::NotARegularFile);
    assert!(report.failed[0].problem.contains("symbolic link"));
    assert!(!report.is_complete());

    let root = safe.resolve("/Holiday Photos").unwrap().unwrap();
    assert_eq!(root.kind, Kind::Folder);
    let beach = safe
        .resolve("/Holiday Photos/Day one/beach.jpg")
        .unwrap()
        .unwrap();
    assert_eq!(beach.content, Content::Present);
    assert_eq!(beach.size, 300_000 + MARKER.len() as u64);
    // NFC and NFD spellings of one name clash inside the Safe: one is renamed, none is lost.
    let day1: Vec<String> = safe
        .children(Some(beach.parent.unwrap()), false)
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(day1.len(), 4, "{day1:?}");
    assert!(day1.iter().any(|name| name.ends_with(" (2).txt")));

    let out = dir.path().join("out");
    let report = safe
        .export(
            &[root.id],
            &out,
            OnClash::KeepBoth,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(report.files, 7);
    assert!(report.failed.is_empty());
    let original: Vec<_> = tree(&src)
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let exported: Vec<_> = tree(&out.join("Holiday Photos"))
        .into_iter()
        .map(|(_, bytes)| bytes)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(original, exported);
    assert!(out.join("Holiday Photos/Day one/empty folder").is_dir());
    assert_eq!(
        fs::read(out.join("Holiday Photos/.hidden/.dotfile")).unwrap(),
        [MARKER, b"dot"].concat()
    );
    assert_eq!(
        fs::metadata(out.join("Holiday Photos/notes.txt"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );

    assert_no_leaks(safe.layout().root(), LEAKS);
    drop(safe);
    assert_no_leaks(&dir.path().join("test.arca"), LEAKS);
}

#[test]
fn organise_tag_comment_search_and_trash() {
    let dir = tempfile::tempdir().unwrap();
    let src = sample_tree(dir.path());
    let safe = new_safe(dir.path());
    import(&safe, &[src], &ImportOptions::default());
    let notes = safe
        .resolve("/Holiday Photos/notes.txt")
        .unwrap()
        .unwrap()
        .id;
    let archive = safe.create_folders("/Archive/2024").unwrap().unwrap();
    assert!(matches!(
        safe.create_folder(None, "Archive"),
        Err(Error::NameClash { .. })
    ));
    safe.move_to(notes, Some(archive)).unwrap();
    safe.rename(notes, "trip notes.txt").unwrap();
    assert_eq!(safe.path_of(notes).unwrap(), "/Archive/2024/trip notes.txt");
    let archive_root = safe.resolve_folder("/Archive").unwrap().unwrap();
    assert!(matches!(
        safe.move_to(archive_root, Some(archive)),
        Err(Error::MoveIntoItself(_))
    ));

    safe.add_tag(notes, "travel").unwrap();
    safe.set_comment(notes, "Lisbon itinerary").unwrap();
    safe.set_favorite(notes, true).unwrap();
    let find = |safe: &arca_safe::Safe, query: SearchQuery| {
        safe.search(&query)
            .unwrap()
            .0
            .into_iter()
            .map(|hit| hit.row.item.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find(
            &safe,
            SearchQuery {
                text: "lisb".into(),
                ..Default::default()
            }
        ),
        [notes]
    );
    assert_eq!(
        find(
            &safe,
            SearchQuery {
                text: "trav".into(),
                ..Default::default()
            }
        ),
        [notes]
    );
    assert_eq!(
        find(
            &safe,
            SearchQuery {
                text: "trip".into(),
                favorites: true,
                ..Default::default()
            }
        ),
        [notes]
    );
    assert_eq!(
        find(
            &safe,
            SearchQuery {
                tag: Some("travel".into()),
                ..Default::default()
            }
        ),
        [notes]
    );
    assert_eq!(safe.tags_of(notes).unwrap(), ["travel"]);

    safe.trash(archive_root).unwrap();
    assert!(
        find(
            &safe,
            SearchQuery {
                text: "lisbon".into(),
                ..Default::default()
            }
        )
        .is_empty()
    );
    assert_eq!(
        find(
            &safe,
            SearchQuery {
                text: "lisbon".into(),
                trash: true,
                ..Default::default()
            }
        ),
        [notes]
    );
    safe.create_folder(None, "Archive").unwrap();
    let restored = safe.restore_from_trash(archive_root).unwrap();
    assert_eq!(restored, "/Archive (2)");
    safe.trash(notes).unwrap();
    assert_eq!(safe.empty_trash().unwrap(), 1);
    assert!(!safe.layout().data_file(notes).exists());
    assert!(safe.item(notes).is_err());
    safe.remove_tag(notes, "travel").unwrap_err();
    // Its tag went with it: no tag is listed that nothing carries.
    assert_eq!(safe.all_tags().unwrap(), []);
    assert_no_leaks(
        safe.layout().root(),
        &[
            LEAKS,
            &[b"Lisbon itinerary", b"travel", b"trip notes", b"Archive"],
        ]
        .concat(),
    );
}

#[test]
fn tampered_swapped_and_missing_data_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    for name in ["a.txt", "b.txt", "c.txt", "d.txt"] {
        fs::write(src.join(name), format!("content of {name}")).unwrap();
    }
    let safe = new_safe(dir.path());
    import(&safe, &[src], &ImportOptions::default());
    let id = |name: &str| safe.resolve(&format!("/src/{name}")).unwrap().unwrap().id;
    let (a, b, c, d) = (id("a.txt"), id("b.txt"), id("c.txt"), id("d.txt"));
    let layout = safe.layout().clone();
    // a and b swapped: both authentic, neither the recorded version.
    let (file_a, file_b) = (
        fs::read(layout.data_file(a)).unwrap(),
        fs::read(layout.data_file(b)).unwrap(),
    );
    fs::write(layout.data_file(a), &file_b).unwrap();
    fs::write(layout.data_file(b), &file_a).unwrap();
    // c: one byte flipped. d: deleted.
    let mut file_c = fs::read(layout.data_file(c)).unwrap();
    file_c[40] ^= 0x20;
    fs::write(layout.data_file(c), &file_c).unwrap();
    fs::remove_file(layout.data_file(d)).unwrap();

    for (item, expected) in [
        (a, "replaced"),
        (b, "replaced"),
        (c, "modified"),
        (d, "missing"),
    ] {
        match safe.read(item) {
            Err(Error::DamagedFile { path, reason }) => {
                assert!(path.starts_with("/src/"), "{path}");
                assert!(reason.contains(expected), "{reason}");
            }
            other => panic!("expected a damaged-file error, got {other:?}"),
        }
    }
    let out = dir.path().join("out");
    let root = safe.resolve("/src").unwrap().unwrap().id;
    let report = safe
        .export(
            &[root],
            &out,
            OnClash::KeepBoth,
            &JobControl::new(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(report.failed.len(), 4);
    assert_eq!(
        fs::read_dir(out.join("src")).unwrap().count(),
        0,
        "no damaged file is exported, not even partly"
    );
    assert_no_leaks(layout.root(), &[b"content of", b"a.txt", b"d.txt"]);
}

#[test]
fn clash_policies_and_unreadable_sources() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("report.pdf");
    fs::write(&src, b"v1").unwrap();
    let safe = new_safe(dir.path());
    import(&safe, std::slice::from_ref(&src), &ImportOptions::default());
    fs::write(&src, b"v2").unwrap();
    import(&safe, std::slice::from_ref(&src), &ImportOptions::default());
    assert!(safe.resolve("/report (2).pdf").unwrap().is_some());
    let skipped = import(
        &safe,
        std::slice::from_ref(&src),
        &ImportOptions {
            on_clash: OnClash::Skip,
            ..Default::default()
        },
    );
    assert_eq!((skipped.files, skipped.skipped.len()), (0, 1));
    fs::write(&src, b"v3").unwrap();
    import(
        &safe,
        std::slice::from_ref(&src),
        &ImportOptions {
            on_clash: OnClash::Replace,
            ..Default::default()
        },
    );
    let current = safe.resolve("/report.pdf").unwrap().unwrap();
    assert_eq!(&safe.read(current.id).unwrap()[..], b"v3");
    assert_eq!(
        safe.trashed().unwrap().len(),
        1,
        "the replaced version went to the trash"
    );

    let missing = import(
        &safe,
        &[dir.path().join("does-not-exist")],
        &ImportOptions::default(),
    );
    assert_eq!(missing.failed.len(), 1);
    assert_eq!(missing.failed[0].kind, ProblemKind::Unreadable);
    assert_no_leaks(
        safe.layout().root(),
        &[b"report.pdf", b"report (2)", b"does-not-exist"],
    );
}

#[test]
fn cancel_takes_unencrypted_files_out_again() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("many files");
    fs::create_dir(&src).unwrap();
    // Progress is reported with each batch commit, at least every 250 ms: the files must take
    // longer than that to encrypt, or the first report comes after the last file.
    for index in 0..200 {
        fs::write(src.join(format!("{index}.txt")), vec![b'x'; 2 << 20]).unwrap();
    }
    let safe = new_safe(dir.path());
    let control = JobControl::new();
    let canceller = control.clone();
    let report = safe
        .import(
            &[src],
            &ImportOptions {
                threads: Some(1),
                ..Default::default()
            },
            &control,
            &mut |event| {
                if let JobEvent::Progress(progress) = event
                    && progress.files_done >= 20
                {
                    canceller.cancel();
                }
            },
        )
        .unwrap();
    assert!(report.cancelled);
    assert!(report.files >= 20 && report.files < 200, "{}", report.files);
    let folder = safe.resolve_folder("/many files").unwrap();
    let left = safe.children(folder, false).unwrap();
    assert_eq!(left.len() as u64, report.files);
    assert!(left.iter().all(|item| item.content == Content::Present));
    assert!(safe.interrupted_imports().unwrap().is_empty());
    assert_no_leaks(
        safe.layout().root(),
        &[b"many files", b"xxxxxxxxxxxxxxxx", b"199.txt"],
    );
}
