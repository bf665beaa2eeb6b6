//! Organising items: folders, renaming and moving, the trash, favorites, comments and tags.
//! Every change goes through [`ChangeSet`](crate::changes::ChangeSet).

use std::fs;

use uuid::Uuid;

use crate::changes::Change;
use crate::error::{Error, Result};
use crate::item::{Content, Item, ItemUpdate, Kind};
use crate::name::{MAX_NAME_BYTES, validate_name};
use crate::query;
use crate::safe::{Open, Safe};

/// "name (2).ext", "name (3).ext", … : the first name not taken in the folder.
pub(crate) fn free_name(
    db: &rusqlite::Connection,
    parent: Option<Uuid>,
    name: &str,
) -> Result<String> {
    free_name_where(name, |candidate| {
        Ok(query::live_child(db, parent, candidate)?.is_some())
    })
}

/// `name` if `is_taken` says it is free, else the first free "name (n).ext", cut to stay within
/// [`MAX_NAME_BYTES`].
pub(crate) fn free_name_where(
    name: &str,
    mut is_taken: impl FnMut(&str) -> Result<bool>,
) -> Result<String> {
    if !is_taken(name)? {
        return Ok(name.to_owned());
    }
    let (stem, extension) = match name.rfind('.') {
        Some(dot) if dot > 0 => name.split_at(dot),
        _ => (name, ""),
    };
    for counter in 2u64.. {
        let suffix = format!(" ({counter}){extension}");
        let mut cut = stem.len().min(MAX_NAME_BYTES.saturating_sub(suffix.len()));
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        let candidate = format!("{}{suffix}", &stem[..cut]);
        if !is_taken(&candidate)? {
            return Ok(candidate);
        }
    }
    unreachable!("u64 counter exhausted")
}

impl Open<'_> {
    /// The item with this UUID.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub(crate) fn item(&self, id: Uuid) -> Result<Item> {
        let mut item = query::item(self.db(), id)?;
        self.overlay_renamed_replacement(&mut item)?;
        Ok(item)
    }

    /// The live item at `path` (`/a/b.txt`); `None` for the root.
    ///
    /// # Errors
    /// [`Error::PathNotFound`], [`Error::NotAFolder`].
    pub(crate) fn resolve(&self, path: &str) -> Result<Option<Item>> {
        query::resolve(self.db(), path)
    }

    /// The folder at `path`: `None` for the root.
    ///
    /// # Errors
    /// As [`Safe::resolve`], and [`Error::NotAFolder`] if it is a file.
    pub(crate) fn resolve_folder(&self, path: &str) -> Result<Option<Uuid>> {
        match self.resolve(path)? {
            None => Ok(None),
            Some(item) if item.kind == Kind::Folder => Ok(Some(item.id)),
            Some(_) => Err(Error::NotAFolder(path.to_owned())),
        }
    }

    /// The path of an item from the Safe's root.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub(crate) fn path_of(&self, id: Uuid) -> Result<String> {
        query::path_of(self.db(), id)
    }

    fn folder_path(&self, folder: Option<Uuid>) -> Result<String> {
        folder.map_or_else(|| Ok("/".to_owned()), |id| self.path_of(id))
    }

    /// The items in `folder` (the root for `None`), folders first, by name; trashed ones only
    /// when `include_trashed`.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub(crate) fn children(
        &self,
        folder: Option<Uuid>,
        include_trashed: bool,
    ) -> Result<Vec<Item>> {
        query::children(self.db(), folder, include_trashed)
    }

    /// Creates a folder called `name` in `parent`.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::NameClash`], [`Error::NotFound`] for a missing parent.
    pub(crate) fn create_folder(&mut self, parent: Option<Uuid>, name: &str) -> Result<Uuid> {
        validate_name(name)?;
        self.check_folder(parent)?;
        if query::live_child(self.db(), parent, name)?.is_some() {
            return Err(Error::NameClash {
                name: name.to_owned(),
                folder: self.folder_path(parent)?,
            });
        }
        let mut changes = self.changes()?;
        let now = changes.at();
        let id = Uuid::new_v4();
        changes.apply(Change::InsertItem(Item {
            id,
            parent,
            kind: Kind::Folder,
            name: name.to_owned(),
            size: 0,
            created_at: Some(now),
            modified_at: Some(now),
            added_at: now,
            trashed_at: None,
            favorite: false,
            comment: String::new(),
            content: Content::None,
            hmac_tag: None,
            sha256: None,
        }))?;
        changes.commit()?;
        Ok(id)
    }

    /// Creates every missing folder along `path` (like `mkdir -p`) and returns the last one.
    ///
    /// # Errors
    /// As [`Safe::create_folder`]; [`Error::NotAFolder`] if a file is in the way.
    pub(crate) fn create_folders(&mut self, path: &str) -> Result<Option<Uuid>> {
        let mut parent = None;
        for name in query::components(path) {
            parent = Some(match query::live_child(self.db(), parent, name)? {
                Some(item) if item.kind == Kind::Folder => item.id,
                Some(_) => {
                    let folder = self.folder_path(parent)?;
                    return Err(Error::NotAFolder(format!(
                        "{}/{name}",
                        folder.trim_end_matches('/')
                    )));
                }
                None => self.create_folder(parent, name)?,
            });
        }
        Ok(parent)
    }

    pub(crate) fn check_folder(&self, folder: Option<Uuid>) -> Result<()> {
        if let Some(id) = folder {
            let item = self.item(id)?;
            if item.kind != Kind::Folder {
                return Err(Error::NotAFolder(self.path_of(id)?));
            }
            if query::in_trash(self.db(), id)? {
                return Err(Error::TrashState(format!(
                    "{} is in the trash",
                    self.path_of(id)?
                )));
            }
        }
        Ok(())
    }

    /// Renames an item in place.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::NameClash`], [`Error::NotFound`].
    pub(crate) fn rename(&mut self, id: Uuid, name: &str) -> Result<()> {
        let item = self.item(id)?;
        self.move_and_rename(id, item.parent, name)
    }

    /// Moves an item into `folder` (the root for `None`), keeping its name.
    ///
    /// # Errors
    /// [`Error::NameClash`], [`Error::MoveIntoItself`], [`Error::NotAFolder`], [`Error::NotFound`].
    pub(crate) fn move_to(&mut self, id: Uuid, folder: Option<Uuid>) -> Result<()> {
        let item = self.item(id)?;
        self.move_and_rename(id, folder, &item.name)
    }

    /// Moves and renames in one change.
    ///
    /// # Errors
    /// As [`Safe::rename`] and [`Safe::move_to`].
    pub(crate) fn move_and_rename(
        &mut self,
        id: Uuid,
        folder: Option<Uuid>,
        name: &str,
    ) -> Result<()> {
        validate_name(name)?;
        let item = self.item(id)?;
        self.check_folder(folder)?;
        if let Some(target) = folder
            && query::subtree(self.db(), id)?
                .iter()
                .any(|below| below.id == target)
        {
            return Err(Error::MoveIntoItself(self.path_of(id)?));
        }
        if item.parent == folder && item.name == name {
            return Ok(());
        }
        if let Some(existing) = query::live_child(self.db(), folder, name)?
            && existing.id != id
        {
            return Err(Error::NameClash {
                name: name.to_owned(),
                folder: self.folder_path(folder)?,
            });
        }
        let update = ItemUpdate {
            parent: (item.parent != folder).then_some(folder),
            name: (item.name != name).then(|| name.to_owned()),
            ..ItemUpdate::default()
        };
        let mut changes = self.changes()?;
        changes.apply(Change::UpdateItem { id, update })?;
        changes.commit()
    }

    /// Moves an item (and so everything in it) to the trash.
    ///
    /// # Errors
    /// [`Error::TrashState`] if it is in the trash already; [`Error::NotFound`].
    pub(crate) fn trash(&mut self, id: Uuid) -> Result<()> {
        if query::in_trash(self.db(), id)? {
            return Err(Error::TrashState(format!(
                "{} is already in the trash",
                self.path_of(id)?
            )));
        }
        let mut changes = self.changes()?;
        let now = changes.at();
        changes.apply(Change::UpdateItem {
            id,
            update: ItemUpdate {
                trashed_at: Some(Some(now)),
                ..ItemUpdate::default()
            },
        })?;
        changes.commit()
    }

    /// The items put in the trash (not what is inside trashed folders), most recent first.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub(crate) fn trashed(&self) -> Result<Vec<Item>> {
        let mut statement = self.db().prepare(&format!(
            "SELECT {} FROM items WHERE trashed_at IS NOT NULL ORDER BY trashed_at DESC, name_key",
            query::ITEM_COLUMNS
        ))?;
        let items = statement
            .query_map([], query::item_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(items)
    }

    /// Takes an item out of the trash, back into its folder (or the root if that folder is gone
    /// or itself in the trash). A name taken meanwhile gets a " (2)" suffix. Returns its path.
    ///
    /// # Errors
    /// [`Error::TrashState`] if it is not in the trash; [`Error::NotFound`].
    pub(crate) fn restore_from_trash(&mut self, id: Uuid) -> Result<String> {
        let item = self.item(id)?;
        if item.trashed_at.is_none() {
            return Err(Error::TrashState(format!(
                "{} is not in the trash",
                self.path_of(id)?
            )));
        }
        let parent = match item.parent {
            Some(parent) if !query::in_trash(self.db(), parent)? => Some(parent),
            _ => None,
        };
        let name = free_name(self.db(), parent, &item.name)?;
        let update = ItemUpdate {
            parent: (parent != item.parent).then_some(parent),
            name: (name != item.name).then(|| name.clone()),
            trashed_at: Some(None),
            ..ItemUpdate::default()
        };
        let mut changes = self.changes()?;
        changes.apply(Change::UpdateItem { id, update })?;
        changes.commit()?;
        self.path_of(id)
    }

    /// Deletes everything in the trash for good: the items, what they contain, and their data
    /// files. Returns how many items were deleted.
    ///
    /// The database is committed first; a data file whose removal fails afterwards is an
    /// orphan that `check` reports.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub(crate) fn empty_trash(&mut self) -> Result<usize> {
        let mut doomed = Vec::new();
        for top in self.trashed()? {
            // Children before parents, so no row ever points at a deleted parent.
            doomed.extend(query::subtree(self.db(), top.id)?.into_iter().rev());
        }
        let mut changes = self.changes()?;
        for item in &doomed {
            changes.apply(Change::DeleteItem { id: item.id })?;
        }
        // A tag goes with its last item, as when it is taken off it (also one an older version
        // left behind, carried by nothing).
        let unused: Vec<Uuid> = changes
            .reader()
            .prepare("SELECT id FROM tags WHERE id NOT IN (SELECT tag FROM item_tags)")?
            .query_map([], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in unused {
            changes.apply(Change::DeleteTag { id })?;
        }
        changes.commit()?;
        // A Safe that syncs keeps the data files until every device has seen the delete: one
        // that changed a file meanwhile keeps it (in the trash), and may need its data from
        // here. Sync removes them then.
        if !crate::sync::syncs(self.db())? {
            for item in doomed.iter().filter(|item| item.kind == Kind::File) {
                let _ = fs::remove_file(self.layout().data_file(item.id));
            }
        }
        Ok(doomed.len())
    }

    /// Marks or unmarks an item as favorite.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub(crate) fn set_favorite(&mut self, id: Uuid, favorite: bool) -> Result<()> {
        self.item(id)?;
        let mut changes = self.changes()?;
        changes.apply(Change::UpdateItem {
            id,
            update: ItemUpdate {
                favorite: Some(favorite),
                ..ItemUpdate::default()
            },
        })?;
        changes.commit()
    }

    /// Sets (or with an empty text, clears) an item's comment.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub(crate) fn set_comment(&mut self, id: Uuid, comment: &str) -> Result<()> {
        self.item(id)?;
        let mut changes = self.changes()?;
        changes.apply(Change::UpdateItem {
            id,
            update: ItemUpdate {
                comment: Some(comment.to_owned()),
                ..ItemUpdate::default()
            },
        })?;
        changes.commit()
    }
}

impl Safe {
    /// The item with this UUID.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn item(&self, id: Uuid) -> Result<Item> {
        self.reading(|open| open.item(id))
    }

    /// The live item at `path` (`/a/b.txt`); `None` for the root.
    ///
    /// # Errors
    /// [`Error::PathNotFound`], [`Error::NotAFolder`].
    pub fn resolve(&self, path: &str) -> Result<Option<Item>> {
        self.reading(|open| open.resolve(path))
    }

    /// The folder at `path`: `None` for the root.
    ///
    /// # Errors
    /// As [`Safe::resolve`], and [`Error::NotAFolder`] if it is a file.
    pub fn resolve_folder(&self, path: &str) -> Result<Option<Uuid>> {
        self.reading(|open| open.resolve_folder(path))
    }

    /// The path of an item from the Safe's root.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn path_of(&self, id: Uuid) -> Result<String> {
        self.reading(|open| open.path_of(id))
    }

    /// The items in `folder` (the root for `None`), folders first, by name; trashed ones only
    /// when `include_trashed`. A file browser reads pages instead: [`Safe::page`].
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn children(&self, folder: Option<Uuid>, include_trashed: bool) -> Result<Vec<Item>> {
        self.reading(|open| open.children(folder, include_trashed))
    }

    /// Creates a folder called `name` in `parent`.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::NameClash`], [`Error::NotFound`] for a missing parent.
    pub fn create_folder(&self, parent: Option<Uuid>, name: &str) -> Result<Uuid> {
        self.writing(|open| open.create_folder(parent, name))
    }

    /// Creates every missing folder along `path` (like `mkdir -p`) and returns the last one.
    ///
    /// # Errors
    /// As [`Safe::create_folder`]; [`Error::NotAFolder`] if a file is in the way.
    pub fn create_folders(&self, path: &str) -> Result<Option<Uuid>> {
        self.writing(|open| open.create_folders(path))
    }

    /// Renames an item in place.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::NameClash`], [`Error::NotFound`].
    pub fn rename(&self, id: Uuid, name: &str) -> Result<()> {
        self.writing(|open| open.rename(id, name))
    }

    /// Moves an item into `folder` (the root for `None`), keeping its name.
    ///
    /// # Errors
    /// [`Error::NameClash`], [`Error::MoveIntoItself`], [`Error::NotAFolder`], [`Error::NotFound`].
    pub fn move_to(&self, id: Uuid, folder: Option<Uuid>) -> Result<()> {
        self.writing(|open| open.move_to(id, folder))
    }

    /// Moves and renames in one change.
    ///
    /// # Errors
    /// As [`Safe::rename`] and [`Safe::move_to`].
    pub fn move_and_rename(&self, id: Uuid, folder: Option<Uuid>, name: &str) -> Result<()> {
        self.writing(|open| open.move_and_rename(id, folder, name))
    }

    /// Moves an item (and so everything in it) to the trash.
    ///
    /// # Errors
    /// [`Error::TrashState`] if it is in the trash already; [`Error::NotFound`].
    pub fn trash(&self, id: Uuid) -> Result<()> {
        self.writing(|open| open.trash(id))
    }

    /// The items put in the trash (not what is inside trashed folders), most recent first.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn trashed(&self) -> Result<Vec<Item>> {
        self.reading(|open| open.trashed())
    }

    /// Whether an item is in the trash, itself or inside a trashed folder.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn is_in_trash(&self, id: Uuid) -> Result<bool> {
        self.reading(|open| query::in_trash(open.db(), id))
    }

    /// Takes an item out of the trash, back into its folder (or the root if that folder is gone
    /// or itself in the trash). A name taken meanwhile gets a " (2)" suffix. Returns its path.
    ///
    /// # Errors
    /// [`Error::TrashState`] if it is not in the trash; [`Error::NotFound`].
    pub fn restore_from_trash(&self, id: Uuid) -> Result<String> {
        self.writing(|open| open.restore_from_trash(id))
    }

    /// Deletes everything in the trash for good: the items, what they contain, and their data
    /// files. Returns how many items were deleted.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn empty_trash(&self) -> Result<usize> {
        self.writing(|open| open.empty_trash())
    }

    /// Marks or unmarks an item as favorite.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn set_favorite(&self, id: Uuid, favorite: bool) -> Result<()> {
        self.writing(|open| open.set_favorite(id, favorite))
    }

    /// Sets (or with an empty text, clears) an item's comment.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub fn set_comment(&self, id: Uuid, comment: &str) -> Result<()> {
        self.writing(|open| open.set_comment(id, comment))
    }
}
