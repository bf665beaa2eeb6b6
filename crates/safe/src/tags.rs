//! Tags: named labels on items, searchable. A tag exists while an item carries it.

use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::changes::Change;
use crate::error::{Error, Result};
use crate::safe::{Open, Safe};

/// A tag and how many items carry it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagCount {
    /// The tag.
    pub name: String,
    /// Items tagged with it.
    pub items: u64,
}

/// Checks a tag as given (surrounding white space is not part of it) and returns it trimmed.
///
/// # Errors
/// [`Error::InvalidName`] for an empty tag, one over 255 bytes, or one with a control
/// character.
pub(crate) fn validate_tag(name: &str) -> Result<&str> {
    let trimmed = name.trim();
    let reason = if trimmed.is_empty() {
        "a tag cannot be empty"
    } else if trimmed.len() > 255 {
        "a tag is at most 255 bytes"
    } else if trimmed.chars().any(char::is_control) {
        "a tag cannot contain control characters"
    } else {
        return Ok(trimmed);
    };
    Err(Error::InvalidName {
        name: name.to_owned(),
        reason,
    })
}

impl Open<'_> {
    fn tag_id(&self, name: &str) -> Result<Option<Uuid>> {
        Ok(self
            .db()
            .query_row("SELECT id FROM tags WHERE name = ?1", [name], |row| {
                row.get(0)
            })
            .optional()?)
    }

    pub(crate) fn add_tag(&mut self, items: &[Uuid], name: &str) -> Result<()> {
        let name = validate_tag(name)?.to_owned();
        for &item in items {
            crate::query::item(self.db(), item)?;
        }
        let existing = self.tag_id(&name)?;
        let mut changes = self.changes()?;
        let tag = match existing {
            Some(tag) => tag,
            None => {
                let tag = Uuid::new_v4();
                changes.apply(Change::InsertTag { id: tag, name })?;
                tag
            }
        };
        for &item in items {
            changes.apply(Change::TagItem { item, tag })?;
        }
        changes.commit()
    }

    pub(crate) fn remove_tag(&mut self, items: &[Uuid], name: &str) -> Result<()> {
        for &item in items {
            crate::query::item(self.db(), item)?;
        }
        let Some(tag) = self.tag_id(name.trim())? else {
            return Ok(());
        };
        let mut changes = self.changes()?;
        for &item in items {
            changes.apply(Change::UntagItem { item, tag })?;
        }
        let left: u64 = changes.reader().query_row(
            "SELECT count(*) FROM item_tags WHERE tag = ?1",
            [tag],
            |row| row.get(0),
        )?;
        if left == 0 {
            changes.apply(Change::DeleteTag { id: tag })?;
        }
        changes.commit()
    }

    pub(crate) fn rename_tag(&mut self, from: &str, to: &str) -> Result<()> {
        let to = validate_tag(to)?.to_owned();
        let Some(tag) = self.tag_id(from.trim())? else {
            return Err(Error::TagNotFound(from.trim().to_owned()));
        };
        if from.trim() == to {
            return Ok(());
        }
        let mut changes = self.changes()?;
        match self_tag_id(changes.reader(), &to)? {
            // Renaming onto an existing tag merges the two.
            Some(other) => {
                let items: Vec<Uuid> = changes
                    .reader()
                    .prepare("SELECT item FROM item_tags WHERE tag = ?1")?
                    .query_map([tag], |row| row.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                for item in items {
                    changes.apply(Change::TagItem { item, tag: other })?;
                }
                changes.apply(Change::DeleteTag { id: tag })?;
            }
            None => changes.apply(Change::RenameTag { id: tag, name: to })?,
        }
        changes.commit()
    }

    pub(crate) fn delete_tag(&mut self, name: &str) -> Result<()> {
        let Some(tag) = self.tag_id(name.trim())? else {
            return Err(Error::TagNotFound(name.trim().to_owned()));
        };
        let mut changes = self.changes()?;
        changes.apply(Change::DeleteTag { id: tag })?;
        changes.commit()
    }

    pub(crate) fn tags_of(&self, item: Uuid) -> Result<Vec<String>> {
        let mut statement = self.db().prepare_cached(
            "SELECT tags.name FROM item_tags JOIN tags ON tags.id = item_tags.tag
             WHERE item_tags.item = ?1 ORDER BY tags.name",
        )?;
        let tags = statement
            .query_map([item], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(tags)
    }

    pub(crate) fn all_tags(&self) -> Result<Vec<TagCount>> {
        let mut statement = self.db().prepare(
            "SELECT tags.name, count(item_tags.item) FROM tags
             LEFT JOIN item_tags ON item_tags.tag = tags.id GROUP BY tags.id ORDER BY tags.name",
        )?;
        let tags = statement
            .query_map([], |row| {
                Ok(TagCount {
                    name: row.get(0)?,
                    items: row.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(tags)
    }
}

fn self_tag_id(db: &rusqlite::Connection, name: &str) -> Result<Option<Uuid>> {
    Ok(db
        .query_row("SELECT id FROM tags WHERE name = ?1", [name], |row| {
            row.get(0)
        })
        .optional()?)
}

impl Safe {
    /// Adds the tag `name` to an item, creating the tag if it is new.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for an empty tag; [`Error::NotFound`].
    pub fn add_tag(&self, item: Uuid, name: &str) -> Result<()> {
        self.writing(|open| open.add_tag(&[item], name))
    }

    /// Adds the tag `name` to several items at once (one change).
    ///
    /// # Errors
    /// As [`Safe::add_tag`]; nothing is tagged if one item is missing.
    pub fn add_tag_to(&self, items: &[Uuid], name: &str) -> Result<()> {
        self.writing(|open| open.add_tag(items, name))
    }

    /// Removes the tag `name` from an item; a tag no item carries any more is deleted.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the item does not exist.
    pub fn remove_tag(&self, item: Uuid, name: &str) -> Result<()> {
        self.writing(|open| open.remove_tag(&[item], name))
    }

    /// Removes the tag `name` from several items at once.
    ///
    /// # Errors
    /// As [`Safe::remove_tag`].
    pub fn remove_tag_from(&self, items: &[Uuid], name: &str) -> Result<()> {
        self.writing(|open| open.remove_tag(items, name))
    }

    /// Renames a tag on every item that carries it; renaming it to an existing tag merges the
    /// two.
    ///
    /// # Errors
    /// [`Error::TagNotFound`], [`Error::InvalidName`].
    pub fn rename_tag(&self, from: &str, to: &str) -> Result<()> {
        self.writing(|open| open.rename_tag(from, to))
    }

    /// Removes a tag from every item and deletes it.
    ///
    /// # Errors
    /// [`Error::TagNotFound`].
    pub fn delete_tag(&self, name: &str) -> Result<()> {
        self.writing(|open| open.delete_tag(name))
    }

    /// The tags of an item, sorted.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn tags_of(&self, item: Uuid) -> Result<Vec<String>> {
        self.reading(|open| open.tags_of(item))
    }

    /// Every tag with its item count, sorted by name.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn all_tags(&self) -> Result<Vec<TagCount>> {
        self.reading(|open| open.all_tags())
    }
}
