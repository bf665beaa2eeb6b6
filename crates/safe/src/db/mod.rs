//! The SQLCipher attribute database: opening it with the Safe's raw key, and its schema.

mod migrations;

use std::path::Path;

use arca_cryptor::SafeKeys;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

pub use migrations::SCHEMA_VERSION;

/// Opens (or with `create`, creates) the attribute database and brings its schema up to date.
///
/// # Errors
/// [`Error::DamagedDatabase`] if the key does not open it (SQLCipher accepts any key and fails
/// on the first read, so the key is proven with a read before anything else),
/// [`Error::NewerFormat`] for a database written by a newer Arca.
pub(crate) fn open(path: &Path, keys: &SafeKeys, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    } else if !path.exists() {
        return Err(Error::DamagedDatabase(format!(
            "{} is missing",
            path.display()
        )));
    }
    let mut connection = Connection::open_with_flags(path, flags)?;
    // SQLCipher would otherwise print HMAC failures of a wrong key or damaged page to stderr.
    connection.pragma_update(None, "cipher_log_level", "NONE")?;
    keys.with_database_key(|literal| connection.pragma_update(None, "key", literal))?;
    connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| {
            row.get::<_, i64>(0)
        })
        .map_err(|error| Error::DamagedDatabase(error.to_string()))?;
    connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    // Items are keyed by random UUIDs, so a large import touches pages all over the tables;
    // with SQLite's default 2 MB cache every touch would read and decrypt a page again. The
    // cache grows only as pages are used.
    connection.pragma_update(None, "cache_size", -32_768)?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    // Room for every statement of the change log and of an import at once.
    connection.set_prepared_statement_cache_capacity(64);
    migrations::migrate(&mut connection)?;
    Ok(connection)
}
