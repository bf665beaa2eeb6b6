//! The SQLCipher attribute database: opening it with the Safe's raw key, for writing or for
//! reading only, and its schema.

pub(crate) mod migrations;

use std::fs::OpenOptions;
use std::path::Path;

use arca_cryptor::SafeKeys;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

pub use migrations::SCHEMA_VERSION;

/// How a connection may use the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DbAccess {
    /// Read and write; creates the database if `create`.
    Write { create: bool },
    /// Read only, beside a writer in another process (the folder is writable).
    Read,
    /// Read only, on media that cannot be written: no writer can exist, and the log files
    /// SQLite would need cannot be created.
    ReadOnlyMedia,
}

/// Opens (or creates) the attribute database and, for writing, brings its schema up to date.
///
/// # Errors
/// [`Error::DamagedDatabase`] if the key does not open it (SQLCipher accepts any key and fails
/// on the first read, so the key is proven with a read before anything else) or it is corrupt;
/// [`Error::NewerFormat`] for a database written by a newer Arca; [`Error::ReadOnly`] for a
/// read-only database whose schema needs an upgrade; [`Error::StoreIo`] / [`Error::Database`]
/// for a disk that is full, unreadable or read-only (never reported as damage).
pub(crate) fn open(path: &Path, keys: &SafeKeys, access: DbAccess) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    match access {
        DbAccess::Write { create } => {
            flags |= OpenFlags::SQLITE_OPEN_READ_WRITE;
            if create {
                flags |= OpenFlags::SQLITE_OPEN_CREATE;
                create_private(path)?;
            }
            restrict_permissions(path);
        }
        DbAccess::Read | DbAccess::ReadOnlyMedia => flags |= OpenFlags::SQLITE_OPEN_READ_ONLY,
    }
    if !path.exists() {
        return Err(Error::DamagedDatabase(
            "the attribute database (attributes.db) is missing".to_owned(),
        ));
    }
    let mut connection = match keyed(path, keys, access, flags) {
        Ok(connection) => connection,
        // Seen once in the whole suite's runs: SQLCipher refused `PRAGMA key` on a new, empty
        // database ("An error occurred with PRAGMA key or rekey"), and not again. A wrong key is
        // never refused here (only by the first read, below), so a second try hides nothing.
        Err(_) => keyed(path, keys, access, flags)?,
    };
    if let Err(error) = connection.query_row("SELECT count(*) FROM sqlite_master", [], |row| {
        row.get::<_, i64>(0)
    }) {
        return Err(match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                Error::DamagedDatabase(error.to_string())
            }
            // A full disk, a read-only folder, an I/O error: no proof of damage.
            _ => Error::Database(error),
        });
    }
    if let DbAccess::Write { .. } = access {
        connection
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))?;
    }
    connection.pragma_update(None, "synchronous", "FULL")?;
    // Items are keyed by random UUIDs, so a large import touches pages all over the tables;
    // with SQLite's default 2 MB cache every touch would read and decrypt a page again. At
    // 100,000 items in one folder, 32 MB still missed (a file cost 232-250 µs there against
    // 198-212 µs with 64 MB; 128 MB gained nothing more). The cache grows only as pages are
    // used, so a small Safe never holds this much.
    connection.pragma_update(None, "cache_size", -65_536)?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    // Room for every statement of the change log and of an import at once.
    connection.set_prepared_statement_cache_capacity(128);
    match access {
        DbAccess::Write { .. } => migrations::migrate(&mut connection)?,
        DbAccess::Read | DbAccess::ReadOnlyMedia => migrations::check_readable(&connection)?,
    }
    Ok(connection)
}

/// A connection to the database at `path` with the Safe's key set (not yet proven).
fn keyed(path: &Path, keys: &SafeKeys, access: DbAccess, flags: OpenFlags) -> Result<Connection> {
    let connection = Connection::open_with_flags(uri(path, access), flags)?;
    // SQLCipher would otherwise print HMAC failures of a wrong key or damaged page to stderr.
    connection.pragma_update(None, "cipher_log_level", "NONE")?;
    keys.with_database_key(|literal| connection.pragma_update(None, "key", literal))?;
    Ok(connection)
}

/// The URI SQLite opens. On read-only media a database without a `-wal` file is opened as
/// immutable (it has no log to read and nobody can change it); with one, SQLite reads the log
/// through its read-only WAL support.
fn uri(path: &Path, access: DbAccess) -> std::path::PathBuf {
    let mut uri = b"file:".to_vec();
    for byte in path.as_os_str().as_encoded_bytes() {
        match byte {
            b'?' | b'#' | b'%' => uri.extend_from_slice(format!("%{byte:02X}").as_bytes()),
            other => uri.push(*other),
        }
    }
    if access == DbAccess::ReadOnlyMedia && !companion(path, "-wal").exists() {
        uri.extend_from_slice(b"?immutable=1");
    }
    path_from_bytes(uri)
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> std::path::PathBuf {
    use std::os::unix::ffi::OsStringExt;
    std::path::PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> std::path::PathBuf {
    std::path::PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

fn companion(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// Creates an empty database file readable by its owner only: SQLite gives its `-wal` and
/// `-shm` files the database's permissions.
fn create_private(path: &Path) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(Error::store(None))
}

/// Makes the database and its companions private (a Safe made by an older version, or copied
/// with other permissions). Best effort: a file that cannot be changed is still used.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm"] {
        use std::os::unix::fs::PermissionsExt;
        let file = companion(path, suffix);
        if let Ok(metadata) = std::fs::metadata(&file)
            && metadata.permissions().mode() & 0o077 != 0
        {
            let _ = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
