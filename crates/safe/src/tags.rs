//! Tags: named labels on items, searchable.

use rusqlite::OptionalExtension;
use uuid::Uuid;

use crate::changes::Change;
use crate::error::{Error, Result};
use crate::safe::Safe;

/// A tag and how many items carry it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagCount {
    /// The tag.
    pub name: String,
    /// Items tagged with it.
    pub items: u64,
}

fn validate_tag(name: &str) -> Result<&str> {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        return Err(Error::InvalidName {
            name: name.to_owned(),
            reason: "a tag cannot be empty",
        });
    }
    if trimmed.len() > 255 {
        return Err(Error::InvalidName {
            name: name.to_owned(),
            reason: "a tag is at most 255 bytes",
        });
    }
    Ok(trimmed)
}

impl Safe {
    fn tag_id(&self, name: &str) -> Result<Option<Uuid>> {
        Ok(self
            .db()
            .query_row("SELECT id FROM tags WHERE name = ?1", [name], |row| {
                row.get(0)
            })
            .optional()?)
    }

    /// Adds the tag `name` to an item, creating the tag if it is new.
    ///
    /// # Errors
    /// [`Error::InvalidName`] for an empty tag; [`Error::NotFound`].
    pub fn add_tag(&mut self, item: Uuid, name: &str) -> Result<()> {
        let name = validate_tag(name)?.to_owned();
        self.item(item)?;
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
        changes.apply(Change::TagItem { item, tag })?;
        changes.commit()
    }

    /// Removes the tag `name` from an item; a tag no item carries any more is deleted.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the item does not exist.
    pub fn remove_tag(&mut self, item: Uuid, name: &str) -> Result<()> {
        self.item(item)?;
        let Some(tag) = self.tag_id(name.trim())? else {
            return Ok(());
        };
        let others: u64 = self.db().query_row(
            "SELECT count(*) FROM item_tags WHERE tag = ?1 AND item != ?2",
            rusqlite::params![tag, item],
            |row| row.get(0),
        )?;
        let mut changes = self.changes()?;
        changes.apply(Change::UntagItem { item, tag })?;
        if others == 0 {
            changes.apply(Change::DeleteTag { id: tag })?;
        }
        changes.commit()
    }

    /// The tags of an item, sorted.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn tags_of(&self, item: Uuid) -> Result<Vec<String>> {
        let mut statement = self.db().prepare_cached(
            "SELECT tags.name FROM item_tags JOIN tags ON tags.id = item_tags.tag
             WHERE item_tags.item = ?1 ORDER BY tags.name",
        )?;
        let tags = statement
            .query_map([item], |row| row.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(tags)
    }

    /// Every tag with its item count, sorted by name.
    ///
    /// # Errors
    /// [`Error::Database`].
    pub fn all_tags(&self) -> Result<Vec<TagCount>> {
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
