//! What a file browser reads: pages of a large folder in every order (folders first, each row
//! with its tags), paging that covers every row once, recent items, favorites, tagged items and
//! the trash; search inside a folder with the folder path of each hit and paging, the trash
//! apart; tags renamed, merged and deleted across the Safe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod open_common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::Path;
use std::time::{Duration, Instant, UNIX_EPOCH};

use arca_safe::{ErrorKind, ImportOptions, Kind, Page, Row, Safe, SearchQuery, SortKey, SortOrder};
use common::import;
use open_common::*;
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

const FOLDERS: usize = 6_000;
const FILES: usize = 4_000;

/// Words that sort differently by bytes, by case and by normalisation (a decomposed "é").
const WORDS: [&str; 9] = [
    "Zebra",
    "apple",
    "Äpfel",
    "élan",
    "e\u{301}cole",
    "Ørsted",
    "banana",
    "2024",
    "_x",
];

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A folder `big` of `FOLDERS` empty folders and `FILES` files with names, sizes and times that
/// repeat (so ties are broken by name).
fn big_folder(dir: &Path) -> std::path::PathBuf {
    let big = dir.join("big");
    fs::create_dir_all(&big).unwrap();
    let mut state = 0x5eed_u64;
    let base = UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    for index in 0..FOLDERS + FILES {
        let word = WORDS[(next(&mut state) % WORDS.len() as u64) as usize];
        let modified = base + Duration::from_secs(next(&mut state) % 50 * 3_600);
        if index < FOLDERS {
            let path = big.join(format!("{word} folder {index}"));
            fs::create_dir(&path).unwrap();
            File::open(&path).unwrap().set_modified(modified).unwrap();
        } else {
            let path = big.join(format!("{word} {index}.txt"));
            let size = (next(&mut state) % 40) as usize * 7;
            fs::write(&path, vec![b'x'; size]).unwrap();
            File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(modified)
                .unwrap();
        }
    }
    big
}

fn name_key(name: &str) -> String {
    name.nfc().collect()
}

/// `rows` in the order a page promises: folders first, then files, each by `sort` and then by
/// name (both reversed for descending).
/// What a page sorts a row by: files after folders, the sort key, the name.
type OrderKey = (bool, u64, Option<i64>, String);

fn expected_order(rows: Vec<Row>, sort: SortKey, order: SortOrder) -> Vec<Row> {
    let mut keyed: Vec<(OrderKey, Row)> = rows
        .into_iter()
        .map(|row| {
            let item = &row.item;
            let key = match sort {
                SortKey::Name | SortKey::Kind => (0, None),
                SortKey::Size => (item.size, None),
                SortKey::Modified => (0, item.modified_at),
            };
            (
                (item.kind == Kind::File, key.0, key.1, name_key(&item.name)),
                row,
            )
        })
        .collect();
    keyed.sort_by(|(a, _), (b, _)| {
        let by_key = (a.1, a.2, &a.3).cmp(&(b.1, b.2, &b.3));
        a.0.cmp(&b.0).then(match order {
            SortOrder::Ascending => by_key,
            SortOrder::Descending => by_key.reverse(),
        })
    });
    keyed.into_iter().map(|(_, row)| row).collect()
}

/// Every row of a list, a page of `limit` at a time; checks each page's total and offset.
fn all_pages(limit: u64, mut page: impl FnMut(u64, u64) -> Page) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let got = page(offset, limit);
        assert_eq!(got.offset, offset);
        assert!(got.rows.len() as u64 <= limit);
        let total = got.total;
        rows.extend(got.rows);
        offset += limit;
        if offset >= total {
            assert_eq!(rows.len() as u64, total, "rows missing or repeated");
            return rows;
        }
    }
}

fn ids(rows: &[Row]) -> Vec<Uuid> {
    rows.iter().map(|row| row.item.id).collect()
}

fn names(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(|row| row.item.name.as_str()).collect()
}

#[test]
fn pages_of_a_large_folder_in_every_order_cover_every_row_once_with_its_tags() {
    let dir = memory_tempdir();
    let safe = new_test_safe(dir.path());
    let started = Instant::now();
    let source = big_folder(dir.path());
    println!("source written in {:?}", started.elapsed());
    let started = Instant::now();
    import(&safe, &[source], &ImportOptions::default());
    println!(
        "imported {} items in {:?}",
        FOLDERS + FILES,
        started.elapsed()
    );
    let folder = safe.resolve("/big").unwrap().unwrap().id;

    // Tags on every row: one for all, one for every third, one for every seventh.
    let children = safe.children(Some(folder), false).unwrap();
    assert_eq!(children.len(), FOLDERS + FILES);
    let every: Vec<Uuid> = children.iter().map(|item| item.id).collect();
    let thirds: Vec<Uuid> = every.iter().copied().step_by(3).collect();
    let sevenths: Vec<Uuid> = every.iter().copied().step_by(7).collect();
    let started = Instant::now();
    safe.add_tag_to(&every, "all").unwrap();
    safe.add_tag_to(&thirds, "third").unwrap();
    safe.add_tag_to(&sevenths, "Seventh").unwrap();
    println!("tagged in {:?}", started.elapsed());
    let thirds: std::collections::HashSet<Uuid> = thirds.into_iter().collect();
    let sevenths: std::collections::HashSet<Uuid> = sevenths.into_iter().collect();
    let tags_of = |id: &Uuid| {
        let mut tags = vec!["all".to_owned()];
        if sevenths.contains(id) {
            tags.insert(0, "Seventh".to_owned());
        }
        if thirds.contains(id) {
            tags.push("third".to_owned());
        }
        tags
    };
    let truth: Vec<Row> = children
        .iter()
        .map(|item| Row {
            item: item.clone(),
            tags: tags_of(&item.id),
        })
        .collect();

    for sort in [
        SortKey::Name,
        SortKey::Size,
        SortKey::Modified,
        SortKey::Kind,
    ] {
        for order in [SortOrder::Ascending, SortOrder::Descending] {
            let expected = expected_order(truth.clone(), sort, order);
            let started = Instant::now();
            let rows = all_pages(937, |offset, limit| {
                safe.page(Some(folder), sort, order, offset, limit).unwrap()
            });
            let took = started.elapsed();
            let context = format!("{sort:?} {order:?}");
            println!("{context}: every page in {took:?}");
            assert_eq!(names(&rows), names(&expected), "{context}: order");
            assert!(rows == expected, "{context}: a row or its tags differ");
        }
    }
    // A limit above the largest page is capped, and a page past the end is empty.
    let capped = safe
        .page(Some(folder), SortKey::Name, SortOrder::Ascending, 0, 5_000)
        .unwrap();
    assert_eq!(capped.rows.len(), 1_000);
    assert_eq!(capped.total, (FOLDERS + FILES) as u64);
    let past = safe
        .page(
            Some(folder),
            SortKey::Size,
            SortOrder::Ascending,
            20_000,
            10,
        )
        .unwrap();
    assert!(past.rows.is_empty());
    assert_eq!(past.total, (FOLDERS + FILES) as u64);
    // A page across the border between folders and files.
    let across = safe
        .page(
            Some(folder),
            SortKey::Modified,
            SortOrder::Descending,
            FOLDERS as u64 - 2,
            4,
        )
        .unwrap();
    let expected = expected_order(truth.clone(), SortKey::Modified, SortOrder::Descending);
    assert_eq!(ids(&across.rows), ids(&expected[FOLDERS - 2..FOLDERS + 2]));
    assert_eq!(
        across
            .rows
            .iter()
            .map(|row| row.item.kind)
            .collect::<Vec<_>>(),
        [Kind::Folder, Kind::Folder, Kind::File, Kind::File]
    );
    // Trashed items leave the folder's pages.
    safe.trash(expected[0].item.id).unwrap();
    safe.trash(expected[FOLDERS].item.id).unwrap();
    let after = all_pages(1_000, |offset, limit| {
        safe.page(
            Some(folder),
            SortKey::Modified,
            SortOrder::Descending,
            offset,
            limit,
        )
        .unwrap()
    });
    let mut left = expected.clone();
    left.remove(FOLDERS);
    left.remove(0);
    assert_eq!(ids(&after), ids(&left));
}

/// Imports `names` (files with a few bytes each) into `folder` (the root for `None`).
fn files_in(safe: &Safe, dir: &Path, folder: Option<Uuid>, names: &[&str]) -> Vec<Uuid> {
    let staging = dir.join(format!("staging-{}", Uuid::new_v4()));
    fs::create_dir_all(&staging).unwrap();
    let sources: Vec<_> = names
        .iter()
        .map(|name| {
            let path = staging.join(name);
            fs::write(&path, name.as_bytes()).unwrap();
            path
        })
        .collect();
    import(
        safe,
        &sources,
        &ImportOptions {
            into: folder,
            ..ImportOptions::default()
        },
    );
    names
        .iter()
        .map(|name| {
            let path = match folder {
                Some(folder) => format!("{}/{name}", safe.path_of(folder).unwrap()),
                None => format!("/{name}"),
            };
            safe.resolve(&path).unwrap().unwrap().id
        })
        .collect()
}

#[test]
fn recent_favorites_tagged_and_trash_pages() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let folder = safe.create_folder(None, "Album").unwrap();
    let first = files_in(&safe, dir.path(), Some(folder), &["b old.jpg", "a old.jpg"]);
    // Imports stamp their files with when they were added: the next one is later.
    std::thread::sleep(Duration::from_millis(5));
    let second = files_in(&safe, dir.path(), None, &["new.txt"]);
    let gone = files_in(&safe, dir.path(), Some(folder), &["z gone.txt"]);
    let doomed = safe.create_folder(None, "Doomed").unwrap();
    let inside = files_in(&safe, dir.path(), Some(doomed), &["inside.txt"]);

    // Recent: files only, newest first, then by name; nothing from the trash.
    safe.trash(gone[0]).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    safe.trash(doomed).unwrap();
    let recent = safe.recent(0, 100).unwrap();
    assert_eq!(names(&recent.rows), ["new.txt", "a old.jpg", "b old.jpg"]);
    assert_eq!(recent.total, 3);
    let paged = all_pages(2, |offset, limit| safe.recent(offset, limit).unwrap());
    assert_eq!(ids(&paged), ids(&recent.rows));

    // Favorites: folders first, by name; a favorite inside a trashed folder is not listed.
    safe.set_favorite(first[0], true).unwrap();
    safe.set_favorite(second[0], true).unwrap();
    safe.set_favorite(folder, true).unwrap();
    safe.set_favorite(inside[0], true).unwrap();
    let favorites = safe.favorites(0, 100).unwrap();
    assert_eq!(names(&favorites.rows), ["Album", "b old.jpg", "new.txt"]);
    assert_eq!(favorites.total, 3);
    assert!(favorites.rows.iter().all(|row| row.item.favorite));

    // Tagged: the same, with each row's tags.
    safe.add_tag_to(&[first[1], second[0], folder, inside[0]], "Urlaub")
        .unwrap();
    safe.add_tag(second[0], "Alpen").unwrap();
    let tagged = safe.tagged("Urlaub", 0, 100).unwrap();
    assert_eq!(names(&tagged.rows), ["Album", "a old.jpg", "new.txt"]);
    assert_eq!(tagged.rows[2].tags, ["Alpen", "Urlaub"]);
    assert_eq!(tagged.total, 3);
    assert_eq!(safe.tagged("nothing", 0, 10).unwrap().total, 0);

    // The trash: what was trashed itself, latest first; what is inside a folder stays in it.
    let trash = safe.trash_page(0, 100).unwrap();
    assert_eq!(names(&trash.rows), ["Doomed", "z gone.txt"]);
    assert_eq!(trash.total, 2);
    assert_eq!(
        safe.count_inside(folder).unwrap(),
        2,
        "the trash counted inside"
    );
    let tree = safe.subfolders(None).unwrap();
    assert_eq!(
        tree.iter()
            .map(|(item, more)| (item.name.as_str(), *more))
            .collect::<Vec<_>>(),
        [("Album", false)]
    );
}

/// A Safe for searching: "alpha" files in a folder, its subfolders, a sibling folder, the root,
/// the trash and a trashed folder.
fn search_safe(dir: &Path) -> (Safe, BTreeMap<&'static str, Uuid>) {
    let safe = new_test_safe(dir);
    let projects = safe.create_folder(None, "Projects").unwrap();
    let sub = safe.create_folder(Some(projects), "Sub").unwrap();
    let deeper = safe.create_folder(Some(sub), "Deeper").unwrap();
    let sibling = safe.create_folder(None, "Projects 2").unwrap();
    let trashed = safe.create_folder(None, "Trashed").unwrap();
    let mut ids = BTreeMap::new();
    for (folder, name) in [
        (Some(projects), "alpha-report.txt"),
        (Some(sub), "alpha-notes.txt"),
        (Some(deeper), "alpha-deep.txt"),
        (Some(projects), "beta.txt"),
        (Some(sibling), "alpha-sibling.txt"),
        (None, "alpha-root.txt"),
        (None, "alpha-trashed.txt"),
        (Some(trashed), "alpha-in-trashed-folder.txt"),
    ] {
        let id = files_in(&safe, dir, folder, &[name])[0];
        ids.insert(name, id);
    }
    ids.insert("Projects", projects);
    safe.trash(ids["alpha-trashed.txt"]).unwrap();
    safe.trash(trashed).unwrap();
    (safe, ids)
}

fn search(safe: &Safe, query: SearchQuery) -> (Vec<(String, String)>, u64) {
    let (hits, total) = safe.search(&query).unwrap();
    (
        hits.into_iter()
            .map(|hit| (hit.row.item.name, hit.folder_path))
            .collect(),
        total,
    )
}

fn text(words: &str) -> SearchQuery {
    SearchQuery {
        text: words.to_owned(),
        ..SearchQuery::default()
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn search_inside_a_folder_with_folder_paths_and_paging_and_the_trash_apart() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, ids) = search_safe(dir.path());

    // Inside a folder: its subfolders at any depth, not its sibling (whose name starts alike).
    let inside = SearchQuery {
        folder: Some(ids["Projects"]),
        ..text("alpha")
    };
    assert_eq!(
        search(&safe, inside.clone()),
        (
            owned(&[
                ("alpha-deep.txt", "/Projects/Sub/Deeper"),
                ("alpha-notes.txt", "/Projects/Sub"),
                ("alpha-report.txt", "/Projects"),
            ]),
            3
        )
    );
    // The whole Safe, without the trash and what is inside a trashed folder.
    let everywhere = search(&safe, text("alpha"));
    assert_eq!(
        everywhere,
        (
            owned(&[
                ("alpha-deep.txt", "/Projects/Sub/Deeper"),
                ("alpha-notes.txt", "/Projects/Sub"),
                ("alpha-report.txt", "/Projects"),
                ("alpha-root.txt", "/"),
                ("alpha-sibling.txt", "/Projects 2"),
            ]),
            5
        )
    );
    // Only the trash.
    assert_eq!(
        search(
            &safe,
            SearchQuery {
                trash: true,
                ..text("alpha")
            }
        ),
        (
            owned(&[
                ("alpha-in-trashed-folder.txt", "/Trashed"),
                ("alpha-trashed.txt", "/"),
            ]),
            2
        )
    );
    // Paging: every hit once, the total on every page.
    let mut paged = Vec::new();
    for offset in [0, 2, 4] {
        let (hits, total) = search(
            &safe,
            SearchQuery {
                offset,
                limit: Some(2),
                ..text("alpha")
            },
        );
        assert_eq!(total, 5, "offset {offset}");
        paged.extend(hits);
    }
    assert_eq!(paged, everywhere.0);
    // Paging inside the folder.
    let (second_page, total) = search(
        &safe,
        SearchQuery {
            offset: 1,
            limit: Some(1),
            ..inside
        },
    );
    assert_eq!(total, 3);
    assert_eq!(second_page, owned(&[("alpha-notes.txt", "/Projects/Sub")]));
    // Every word must match the start of a word; an empty text lists what the filters allow.
    assert_eq!(search(&safe, text("alpha notes")).1, 1);
    assert_eq!(search(&safe, text("lpha")).1, 0);
    let all_in_folder = search(
        &safe,
        SearchQuery {
            folder: Some(ids["Projects"]),
            ..SearchQuery::default()
        },
    );
    assert_eq!(all_in_folder.1, 6, "{all_in_folder:?}");
}

#[test]
fn a_page_past_the_end_still_tells_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let (safe, _) = search_safe(dir.path());
    let (hits, total) = search(
        &safe,
        SearchQuery {
            offset: 10,
            limit: Some(2),
            ..text("alpha")
        },
    );
    assert!(hits.is_empty());
    let trash = safe.trash_page(10, 2).unwrap();
    assert!(trash.rows.is_empty());
    assert_eq!(
        (total, trash.total),
        (5, 2),
        "totals of a search and of the trash past the end"
    );
}

#[test]
fn tags_renamed_merged_and_deleted_across_the_safe_show_in_search() {
    let dir = tempfile::tempdir().unwrap();
    let safe = new_test_safe(dir.path());
    let ids = files_in(
        &safe,
        dir.path(),
        None,
        &["one.txt", "two.txt", "three.txt"],
    );
    let (one, two, three) = (ids[0], ids[1], ids[2]);
    safe.add_tag_to(&[one, two], "holiday").unwrap();
    safe.add_tag_to(&[two, three], "vacation").unwrap();
    let found = |words: &str| {
        let mut names: Vec<String> = search(&safe, text(words))
            .0
            .into_iter()
            .map(|h| h.0)
            .collect();
        names.sort();
        names
    };
    let with_tag = |tag: &str| {
        let mut names: Vec<String> = search(
            &safe,
            SearchQuery {
                tag: Some(tag.to_owned()),
                ..SearchQuery::default()
            },
        )
        .0
        .into_iter()
        .map(|h| h.0)
        .collect();
        names.sort();
        names
    };
    assert_eq!(found("holiday"), ["one.txt", "two.txt"]);

    // Renamed: on every item, in search by word and by tag.
    safe.rename_tag("holiday", "trip").unwrap();
    assert_eq!(safe.tags_of(one).unwrap(), ["trip"]);
    assert_eq!(safe.tags_of(two).unwrap(), ["trip", "vacation"]);
    assert_eq!(found("trip"), ["one.txt", "two.txt"]);
    assert_eq!(found("holiday"), Vec::<String>::new());
    assert_eq!(with_tag("trip"), ["one.txt", "two.txt"]);
    assert_eq!(with_tag("holiday"), Vec::<String>::new());
    assert_eq!(safe.tagged("trip", 0, 10).unwrap().total, 2);

    // Renamed onto an existing tag: merged, each item carrying it once.
    safe.rename_tag("trip", "vacation").unwrap();
    for id in [one, two, three] {
        assert_eq!(safe.tags_of(id).unwrap(), ["vacation"]);
    }
    let all: Vec<(String, u64)> = safe
        .all_tags()
        .unwrap()
        .into_iter()
        .map(|tag| (tag.name, tag.items))
        .collect();
    assert_eq!(all, [("vacation".to_owned(), 3)]);
    assert_eq!(found("vacation"), ["one.txt", "three.txt", "two.txt"]);
    assert_eq!(found("trip"), Vec::<String>::new());
    let page = safe
        .page(None, SortKey::Name, SortOrder::Ascending, 0, 10)
        .unwrap();
    assert!(page.rows.iter().all(|row| row.tags == ["vacation"]));

    // Deleted: from every item, from search.
    safe.delete_tag("vacation").unwrap();
    assert!(safe.all_tags().unwrap().is_empty());
    assert_eq!(found("vacation"), Vec::<String>::new());
    assert_eq!(with_tag("vacation"), Vec::<String>::new());
    let page = safe
        .page(None, SortKey::Name, SortOrder::Ascending, 0, 10)
        .unwrap();
    assert!(page.rows.iter().all(|row| row.tags.is_empty()));
    assert_eq!(found("one"), ["one.txt"]);

    // Errors a program can act on.
    let missing = safe.rename_tag("nothing", "x").unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound, "{missing}");
    assert_eq!(
        safe.delete_tag("nothing").unwrap_err().kind(),
        ErrorKind::NotFound
    );
    safe.add_tag(one, "kept").unwrap();
    let invalid = safe.rename_tag("kept", "   ").unwrap_err();
    assert_eq!(invalid.kind(), ErrorKind::InvalidName, "{invalid}");
    assert_eq!(safe.tags_of(one).unwrap(), ["kept"]);
}
