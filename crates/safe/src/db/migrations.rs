//! Append-only schema migrations keyed by `PRAGMA user_version`.
//!
//! Never edit a migration that has shipped: add the next one. A database whose version is newer
//! than the last migration here was written by a newer Arca and is refused untouched.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Each entry takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("schema_v1.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

/// Brings the database up to [`SCHEMA_VERSION`] in one exclusive transaction.
///
/// # Errors
/// [`Error::NewerFormat`] for a newer database, [`Error::Database`] if a migration fails (the
/// transaction is then rolled back and the database is unchanged).
pub(crate) fn migrate(connection: &mut Connection) -> Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let current: u64 = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(Error::NewerFormat {
            what: "the attribute database",
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in &MIGRATIONS[current as usize..] {
        transaction.execute_batch(migration)?;
    }
    if current < SCHEMA_VERSION {
        transaction.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    transaction.commit()?;
    Ok(())
}

/// Checks that a database opened for reading only can be read by this build as it is: it
/// cannot be migrated, so it must be at [`SCHEMA_VERSION`].
///
/// # Errors
/// [`Error::NewerFormat`] for a newer database, [`Error::ReadOnly`] for an older one.
pub(crate) fn check_readable(connection: &Connection) -> Result<()> {
    let current: u64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(Error::NewerFormat {
            what: "the attribute database",
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    if current < SCHEMA_VERSION {
        return Err(Error::ReadOnly {
            reason: format!(
                "its attribute database (schema {current}) must be upgraded to schema \
                 {SCHEMA_VERSION} before this Arca can read it; open it once where it can be written"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_entries_of_schema_1_survive_and_removed_files_get_their_own_state() {
        let mut db = Connection::open_in_memory().unwrap();
        db.pragma_update(None, "foreign_keys", true).unwrap();
        db.execute_batch(MIGRATIONS[0]).unwrap();
        db.pragma_update(None, "user_version", 1).unwrap();
        db.execute_batch(
            "INSERT INTO import_jobs VALUES (x'01', 0, 'running');
             INSERT INTO import_entries VALUES
                 (x'01', x'0a', x'2f61', 'pending', NULL),
                 (x'01', x'0b', x'2f62', 'failed', 'removed from the Safe before it was imported'),
                 (x'01', x'0c', x'2f63', 'failed', 'cannot open: gone'),
                 (x'01', x'0d', x'2f64', 'done', NULL);",
        )
        .unwrap();
        migrate(&mut db).unwrap();
        let entries: Vec<(Vec<u8>, String, bool)> = db
            .prepare(
                "SELECT source, state, problem IS NULL AND device IS NULL AND inode IS NULL
                 FROM import_entries ORDER BY item",
            )
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(entries.iter().all(|(_, _, empty)| *empty), "{entries:?}");
        let states: Vec<(&[u8], &str)> = entries
            .iter()
            .map(|(source, state, _)| (source.as_slice(), state.as_str()))
            .collect();
        assert_eq!(
            states,
            [
                (&b"/a"[..], "pending"),
                (b"/b", "removed"),
                (b"/c", "failed"),
                (b"/d", "done")
            ]
        );
        // The new state and columns are accepted, and the job still owns its entries.
        db.execute(
            "INSERT INTO import_entries (job, item, source, state, problem, device, inode)
             VALUES (x'01', x'0e', x'2f65', 'removed', 'changed_since_scan', 1, 2)",
            [],
        )
        .unwrap();
        db.execute("DELETE FROM import_jobs", []).unwrap();
        let left: i64 = db
            .query_row("SELECT count(*) FROM import_entries", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn a_copy_that_synced_before_devices_signed_trusts_the_devices_it_held_operations_of() {
        let migrated = |synced: bool| {
            let mut db = Connection::open_in_memory().unwrap();
            for migration in &MIGRATIONS[..3] {
                db.execute_batch(migration).unwrap();
            }
            db.pragma_update(None, "user_version", 3).unwrap();
            db.execute_batch(
                "INSERT INTO device VALUES (1, x'0a', '{}');
                 INSERT INTO operations VALUES
                     (x'0a', 1, x'01', '{}', 0, 'item', x'f1', 'insert', '{}'),
                     (x'0b', 1, x'02', '{}', 0, 'item', x'f2', 'insert', '{}'),
                     (x'0b', 2, x'03', '{}', 0, 'item', x'f2', 'delete', '{}');",
            )
            .unwrap();
            if synced {
                db.execute("INSERT INTO sync_target VALUES (1, 'folder', '{}', 5)", [])
                    .unwrap();
            }
            migrate(&mut db).unwrap();
            db.prepare("SELECT device FROM sync_anchors ORDER BY device")
                .unwrap()
                .query_map([], |row| row.get(0))
                .unwrap()
                .collect::<rusqlite::Result<Vec<Vec<u8>>>>()
                .unwrap()
        };
        assert_eq!(migrated(true), [vec![0x0a], vec![0x0b]]);
        assert!(
            migrated(false).is_empty(),
            "a Safe that never synced trusts nobody yet"
        );
    }
}
