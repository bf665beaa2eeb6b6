//! Append-only schema migrations keyed by `PRAGMA user_version`.
//!
//! Never edit a migration that has shipped: add the next one. A database whose version is newer
//! than the last migration here was written by a newer Arca and is refused untouched.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Each entry takes the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[include_str!("schema_v1.sql"), include_str!("schema_v2.sql")];

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
