//! Reading what a backup holds: every item's attribute file, checked against its file name and
//! the index of the last complete run. What verify and restore both start from.

use std::collections::{BTreeMap, HashSet};
use std::fs;

use uuid::Uuid;

use super::RecordKeys;
use super::layout::{BackupLayout, DATA_SUFFIX, ShardEntry, XML_SUFFIX, shard_entries};
use super::manifest::BackupManifest;
use super::xml::{self, Record};
use crate::error::{Error, Result};
use crate::item::Kind;
use crate::problem::{ItemProblem, ProblemKind};

/// The items of a backup that can be trusted, and everything found wrong.
pub(crate) struct Catalogue {
    /// Items whose attribute file is authentic, names its own UUID and agrees with the index
    /// (or was written by an interrupted run).
    pub(crate) records: BTreeMap<Uuid, Record>,
    /// Attribute files and index entries that are wrong, each naming the item.
    pub(crate) problems: Vec<ItemProblem>,
    /// Items whose attribute file is wrong: their data files are not orphans.
    pub(crate) bad: HashSet<Uuid>,
    /// Data files by UUID (right name, right shard), temporary and unexpected files.
    pub(crate) data_files: HashSet<Uuid>,
    /// Temporary and unexpected files in `items/` and `files/`.
    pub(crate) stray_files: Vec<ShardEntry>,
    /// The last run did not complete.
    pub(crate) interrupted: bool,
}

impl Catalogue {
    /// Reads every attribute file of the backup.
    pub(crate) fn load(
        layout: &BackupLayout,
        manifest: &BackupManifest,
        keys: &RecordKeys<'_>,
    ) -> Result<Self> {
        let mut problems = Vec::new();
        let sealed = load_index(layout, manifest, keys, &mut problems)?;
        // Format 1 keeps the run state in backup.json; format 2 in the sealed index, which
        // nobody without the keys can change (no index: nothing to hold the records to).
        let interrupted = if manifest.version >= 2 {
            sealed.as_ref().is_some_and(|sealed| sealed.run_in_progress)
        } else {
            manifest.is_interrupted()
        };
        let index = sealed.map(|sealed| sealed.entries);
        let name_of = |id: Uuid| {
            index
                .as_ref()
                .and_then(|index| index.get(&id))
                .map(|entry| entry.name.clone())
        };
        let mut records = BTreeMap::new();
        let mut bad = HashSet::new();
        let mut stray_files = Vec::new();
        let mut seen = HashSet::new();
        for entry in shard_entries(&layout.items_dir(), XML_SUFFIX)? {
            let (id, path) = match entry {
                ShardEntry::Named(id, path) => (id, path),
                other => {
                    stray_files.push(other);
                    continue;
                }
            };
            seen.insert(id);
            let problem = |kind: ProblemKind, problem: String| {
                ItemProblem::new(kind, problem)
                    .item(id)
                    .path(name_of(id))
                    .file(layout.relative(&path))
            };
            let sealed = fs::read(&path).map_err(Error::io(&path))?;
            let parsed = xml::open(keys, &sealed)
                .map_err(|reason| format!("its attribute file {reason}"))
                .and_then(|text| {
                    let hash = xml::sha256(text.as_bytes());
                    Record::from_xml(&text)
                        .map(|record| (record, hash))
                        .map_err(|reason| format!("its attribute file is not valid: {reason}"))
                });
            let (record, hash) = match parsed {
                Ok(parsed) => parsed,
                Err(reason) => {
                    bad.insert(id);
                    problems.push(problem(ProblemKind::RecordUnreadable, reason));
                    continue;
                }
            };
            if record.item.id != id {
                bad.insert(id);
                problems.push(problem(ProblemKind::RecordReplaced, format!(
                    "its attribute file holds the attributes of another item ({}): files were swapped",
                    record.item.id
                )));
                continue;
            }
            if let Some(index) = &index {
                let verdict = match index.get(&id) {
                    Some(entry) if entry.xml_sha256 == hash => None,
                    Some(_) => Some(
                        "its attribute file differs from the one the last complete run wrote (replaced by an older or another version)",
                    ),
                    None => Some("its attribute file is not in the index of the last complete run"),
                };
                if let Some(reason) = verdict
                    && !interrupted
                {
                    bad.insert(id);
                    problems.push(problem(ProblemKind::RecordReplaced, reason.to_owned()));
                    continue;
                }
            }
            records.insert(id, record);
        }
        if let Some(index) = &index {
            for (id, entry) in index {
                if !seen.contains(id) {
                    bad.insert(*id);
                    problems.push(
                        ItemProblem::new(
                            ProblemKind::RecordMissing,
                            "its attribute file is missing",
                        )
                        .item(*id)
                        .path(entry.name.clone())
                        .file(layout.relative(&layout.xml_file(*id))),
                    );
                }
            }
        }
        // Every format-2 run seals its index before it writes a record: records without an
        // index mean it was removed, and nothing holds them to the last run any more.
        if manifest.version >= 2
            && index.is_none()
            && !seen.is_empty()
            && !problems
                .iter()
                .any(|problem| problem.kind == ProblemKind::IndexUnreadable)
        {
            problems.push(
                ItemProblem::new(
                    ProblemKind::IndexUnreadable,
                    "the index is missing: no record can be held to the last run (an older \
                     record put back would pass)",
                )
                .file(layout.relative(&layout.index())),
            );
        }
        let mut data_files = HashSet::new();
        for entry in shard_entries(&layout.files_dir(), DATA_SUFFIX)? {
            match entry {
                ShardEntry::Named(id, _) => {
                    data_files.insert(id);
                }
                other => stray_files.push(other),
            }
        }
        Ok(Self {
            records,
            problems,
            bad,
            data_files,
            stray_files,
            interrupted,
        })
    }

    /// The path of an item from the backup's root, as far as its folders are known.
    pub(crate) fn path_of(&self, id: Uuid) -> Option<String> {
        let mut names = Vec::new();
        let mut next = Some(id);
        while let Some(current) = next {
            let record = self.records.get(&current)?;
            names.push(record.item.name.as_str());
            next = record.item.parent;
            if names.len() > self.records.len() {
                return None;
            }
        }
        names.reverse();
        Some(format!("/{}", names.join("/")))
    }

    /// Whether an item is in the trash itself or inside a trashed folder.
    pub(crate) fn in_trash(&self, id: Uuid) -> bool {
        let mut next = Some(id);
        let mut steps = 0;
        while let Some(current) = next {
            let Some(record) = self.records.get(&current) else {
                return false;
            };
            if record.item.trashed_at.is_some() {
                return true;
            }
            next = record.item.parent;
            steps += 1;
            if steps > self.records.len() {
                return false;
            }
        }
        false
    }

    /// Items whose folder is not in the catalogue (lost or never backed up).
    pub(crate) fn without_folder(&self) -> Vec<Uuid> {
        self.records
            .values()
            .filter(|record| {
                record.item.parent.is_some_and(|parent| {
                    self.records
                        .get(&parent)
                        .is_none_or(|folder| folder.item.kind != Kind::Folder)
                })
            })
            .map(|record| record.item.id)
            .collect()
    }

    /// The items in an order where each folder comes before what is in it; items caught in a
    /// folder cycle (only a damaged backup has one) come last.
    pub(crate) fn parents_first(&self) -> Vec<Uuid> {
        let mut children: BTreeMap<Option<Uuid>, Vec<Uuid>> = BTreeMap::new();
        for record in self.records.values() {
            let parent = record
                .item
                .parent
                .filter(|parent| self.records.contains_key(parent));
            children.entry(parent).or_default().push(record.item.id);
        }
        let mut order = Vec::with_capacity(self.records.len());
        let mut placed = HashSet::new();
        let mut queue: std::collections::VecDeque<Uuid> =
            children.get(&None).cloned().unwrap_or_default().into();
        while let Some(id) = queue.pop_front() {
            if !placed.insert(id) {
                continue;
            }
            order.push(id);
            if let Some(below) = children.get(&Some(id)) {
                queue.extend(below.iter().copied());
            }
        }
        for id in self.records.keys() {
            if !placed.contains(id) {
                order.push(*id);
            }
        }
        order
    }
}

fn load_index(
    layout: &BackupLayout,
    manifest: &BackupManifest,
    keys: &RecordKeys<'_>,
    problems: &mut Vec<ItemProblem>,
) -> Result<Option<xml::SealedIndex>> {
    let path = layout.index();
    let file = layout.relative(&path);
    let sealed = match fs::read(&path) {
        Ok(sealed) => sealed,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if manifest.last_complete.is_some() {
                problems.push(
                    ItemProblem::new(
                        ProblemKind::IndexUnreadable,
                        "the index of the last complete run is missing: items deleted from the backup cannot be named",
                    )
                    .file(file),
                );
            }
            return Ok(None);
        }
        Err(error) => return Err(Error::io(&path)(error)),
    };
    match xml::open(keys, &sealed).and_then(|text| xml::index_from_xml(&text)) {
        Ok(index) => Ok(Some(index)),
        Err(reason) => {
            problems.push(
                ItemProblem::new(ProblemKind::IndexUnreadable, format!("the index {reason}"))
                    .file(file),
            );
            Ok(None)
        }
    }
}
