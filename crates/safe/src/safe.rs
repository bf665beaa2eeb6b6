//! A Safe: creating it, unlocking it, the handle that many threads share while it is unlocked,
//! locking it again, and the security settings that rewrite only its key files.
//!
//! [`Safe`] is a cheap, cloneable handle: a file browser lists and searches on one thread,
//! previews on another, and imports on a third, each through its own database connection
//! (taken from a pool) and the one set of keys, which is never copied. A Safe opened for
//! writing holds the Safe's writer lock ([`crate::lock`]) until it is locked or dropped; one
//! opened for reading takes no lock and refuses every change.
//!
//! [`Safe::lock`] interrupts every job (an import stays resumable), waits for operations in
//! flight to finish, closes every connection and drops the keys; from then on every clone of
//! the handle fails with [`Error::SafeLocked`].

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arca_cryptor::{Iterations, Password, RecoveryKey, SafeKeys};
use rusqlite::Connection;
use uuid::Uuid;

use crate::backoff::Backoff;
use crate::changes::{self, ChangeSet};
use crate::db::{self, DbAccess};
use crate::error::{Error, Result};
use crate::job::{JobControl, JobRegistry};
use crate::layout::Layout;
use crate::lock::{Holder, Refused, WriterLock};
use crate::manifest::Manifest;
use crate::unlock::{self, KeyFiles, Unlock};

/// An unlocked Safe. Clone it to share it between threads; lock it (or drop every clone) to
/// drop its keys.
#[derive(Clone)]
pub struct Safe {
    core: Arc<Core>,
}

pub(crate) struct Core {
    layout: Layout,
    manifest: Manifest,
    access: Access,
    backoff: Backoff,
    session: Mutex<Option<Arc<Session>>>,
    jobs: JobRegistry,
    /// Import jobs running through this handle (not interrupted, whatever the database says).
    running_imports: Mutex<HashSet<Uuid>>,
}

/// The keys and connections of an unlocked Safe; gone once it is locked.
pub(crate) struct Session {
    keys: SafeKeys,
    pool: Mutex<Vec<Connection>>,
    database_path: PathBuf,
    database: DbAccess,
    _writer_lock: Option<WriterLock>,
}

/// How a Safe was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Everything can be done; this handle holds the Safe's writer lock.
    Write,
    /// Only reading (list, search, read, export, check without repair).
    Read(ReadOnlyReason),
}

/// Why a Safe is open for reading only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOnlyReason {
    /// It was asked for.
    Requested,
    /// Its folder cannot be written (write-protected media, a read-only mount, permissions).
    Media,
    /// Another program is writing to it.
    InUse(Option<Holder>),
}

impl std::fmt::Display for ReadOnlyReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Requested => f.write_str("opened for reading"),
            Self::Media => f.write_str("its folder cannot be written"),
            Self::InUse(Some(holder)) => write!(f, "{holder} is writing to it"),
            Self::InUse(None) => f.write_str("another program is writing to it"),
        }
    }
}

/// What to ask for when opening a Safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpenMode {
    /// Writing, or fail ([`Error::LockedByOther`], [`Error::ReadOnly`]).
    #[default]
    Write,
    /// Reading only, without the writer lock.
    Read,
    /// Writing if possible; reading when the folder cannot be written or another program is
    /// writing to it (the app: a Safe on a write-protected stick still opens).
    WriteOrRead,
}

/// How to open a Safe.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Writing or reading.
    pub mode: OpenMode,
    /// Where the back-off after wrong passwords is kept.
    pub backoff: Backoff,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            mode: OpenMode::Write,
            backoff: Backoff::for_user(),
        }
    }
}

impl OpenOptions {
    /// Options with `mode` and the user's back-off.
    pub fn mode(mode: OpenMode) -> Self {
        Self {
            mode,
            ..Self::default()
        }
    }
}

/// A summary of a Safe, for `arca info` and the app.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Info {
    /// The Safe's UUID.
    pub safe_id: Uuid,
    /// Safe format version.
    pub format_version: u64,
    /// Attribute database schema version.
    pub schema_version: u64,
    /// PBKDF2 iterations of the key files.
    pub kdf_iterations: u32,
    /// Whether a recovery key file exists.
    pub has_recovery_key: bool,
    /// Files not in the trash.
    pub files: u64,
    /// Folders not in the trash.
    pub folders: u64,
    /// Total cleartext size of those files.
    pub bytes: u64,
    /// Items in the trash (top-level trashed items).
    pub trashed: u64,
    /// Files whose content is missing (found damaged or gone): restore them from a backup.
    pub missing: u64,
}

/// How long [`Safe::lock`] waits for operations in flight before it lets them finish alone.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Connections kept open for reuse.
const POOL_SIZE: usize = 8;

impl Safe {
    /// Creates a new, empty Safe in the folder `path`, which must not exist yet (or be empty),
    /// and opens it for writing.
    ///
    /// `safe.json` is written last: a crash before it leaves a folder that is not a Safe, never
    /// a Safe without its key file.
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] if `path` exists and is not an empty folder; [`Error::Io`];
    /// [`Error::Crypto`] for an empty password.
    pub fn create(path: &Path, password: &Password, iterations: Iterations) -> Result<Self> {
        Self::create_with(path, password, iterations, Backoff::for_user())
    }

    /// Like [`Safe::create`], with the back-off its security settings count wrong passwords in.
    ///
    /// # Errors
    /// As [`Safe::create`].
    pub fn create_with(
        path: &Path,
        password: &Password,
        iterations: Iterations,
        backoff: Backoff,
    ) -> Result<Self> {
        if password.is_empty() {
            return Err(Error::Crypto(arca_cryptor::Error::EmptyPassword));
        }
        let (layout, writer_lock) = prepare_new_safe_folder(path)?;
        let manifest = Manifest::new(Uuid::new_v4(), iterations);
        let keys = SafeKeys::generate(manifest.safe_id).map_err(Error::Crypto)?;
        keys.write_key_file(&layout.key_file(), password, iterations)
            .map_err(crypto_at(&layout.key_file()))?;
        Self::finish_new(layout, manifest, keys, writer_lock, backoff)
    }

    /// Makes a new copy of an existing Safe in `path` (which must not exist yet, or be empty)
    /// from its manifest and sealed key file, with an empty database and a device UUID of its
    /// own: how another device joins a Safe for sync. Opened for writing with `password`.
    ///
    /// # Errors
    /// As [`Safe::create`]; [`Error::WrongPassword`] if `password` does not open `key_file`.
    pub(crate) fn create_copy(
        path: &Path,
        manifest: Manifest,
        key_file: &[u8],
        password: &Password,
    ) -> Result<Self> {
        let (layout, writer_lock) = prepare_new_safe_folder(path)?;
        let result = (|| {
            arca_cryptor::write_atomically_private(&layout.key_file(), key_file)
                .map_err(Error::io(layout.key_file()))?;
            let backoff = Backoff::for_user();
            let keys = unlock_keys(&layout, &manifest, Unlock::Password(password), &backoff)?;
            Self::finish_new(layout.clone(), manifest, keys, writer_lock, backoff)
        })();
        if result.is_err() {
            // Nothing of a half-made copy stays behind: it is not a Safe without safe.json.
            let _ = fs::remove_file(layout.key_file());
        }
        result
    }

    /// The database and the manifest of a new Safe (or copy) whose key file is written.
    fn finish_new(
        layout: Layout,
        manifest: Manifest,
        keys: SafeKeys,
        writer_lock: WriterLock,
        backoff: Backoff,
    ) -> Result<Self> {
        layout.prepare_shards().map_err(Error::store(None))?;
        let connection = db::open(&layout.database(), &keys, DbAccess::Write { create: true })?;
        changes::init_device(&connection)?;
        manifest.write(&layout.manifest())?;
        arca_cryptor::sync_parent_dir(&layout.manifest()).map_err(Error::io(layout.root()))?;
        Ok(Self::assemble(
            layout,
            manifest,
            Access::Write,
            backoff,
            keys,
            connection,
            DbAccess::Write { create: false },
            Some(writer_lock),
        ))
    }

    /// Unlocks the Safe in `path` with its password, for writing.
    ///
    /// # Errors
    /// As [`Safe::open_with`].
    pub fn open(path: &Path, password: &Password) -> Result<Self> {
        Self::open_with(path, Unlock::Password(password), &OpenOptions::default())
    }

    /// Unlocks the Safe in `path` with its password, for reading only (no writer lock).
    ///
    /// # Errors
    /// As [`Safe::open_with`].
    pub fn open_read_only(path: &Path, password: &Password) -> Result<Self> {
        Self::open_with(
            path,
            Unlock::Password(password),
            &OpenOptions::mode(OpenMode::Read),
        )
    }

    /// Unlocks the Safe in `path` with its recovery key (as typed by the user), for writing.
    ///
    /// # Errors
    /// [`Error::NoRecoveryKey`], [`Error::WrongRecoveryKey`], and as [`Safe::open_with`].
    pub fn open_with_recovery_key(path: &Path, recovery_key: &RecoveryKey) -> Result<Self> {
        Self::open_with(
            path,
            Unlock::RecoveryKey(recovery_key),
            &OpenOptions::default(),
        )
    }

    /// Unlocks the Safe in `path`.
    ///
    /// # Errors
    /// [`Error::NotASafe`], [`Error::NewerFormat`], [`Error::DamagedManifest`];
    /// [`Error::LockedByOther`] or [`Error::ReadOnly`] when writing was asked for and is not
    /// possible; [`Error::TryLater`] during the back-off after wrong passwords;
    /// [`Error::WrongPassword`] (wrong password or damaged key file),
    /// [`Error::WrongRecoveryKey`], [`Error::ForeignKeyFile`]; [`Error::DamagedDatabase`].
    pub fn open_with(path: &Path, unlock: Unlock<'_>, options: &OpenOptions) -> Result<Self> {
        let layout = Layout::new(path);
        let manifest = Manifest::read(&layout.manifest())?;
        // Keys first: a wrong password leaves the Safe's folder exactly as it was.
        let keys = unlock_keys(&layout, &manifest, unlock, &options.backoff)?;
        let (access, writer_lock) = match options.mode {
            OpenMode::Read => (Access::Read(ReadOnlyReason::Requested), None),
            OpenMode::Write => (Access::Write, Some(acquire_writer_lock(&layout)?)),
            OpenMode::WriteOrRead => match WriterLock::acquire(layout.root()) {
                Ok(lock) => (Access::Write, Some(lock)),
                Err(Refused::Held(holder)) => (Access::Read(ReadOnlyReason::InUse(holder)), None),
                Err(Refused::ReadOnly) => (Access::Read(ReadOnlyReason::Media), None),
                Err(Refused::Io(error)) => return Err(Error::io(layout.root())(error)),
            },
        };
        Self::with_keys(
            layout,
            manifest,
            keys,
            access,
            writer_lock,
            options.backoff.clone(),
        )
    }

    /// Opens the database of a Safe whose keys [`unlock_keys`] gave.
    pub(crate) fn with_keys(
        layout: Layout,
        manifest: Manifest,
        keys: SafeKeys,
        access: Access,
        writer_lock: Option<WriterLock>,
        backoff: Backoff,
    ) -> Result<Self> {
        let database = match &access {
            Access::Write => DbAccess::Write { create: false },
            Access::Read(ReadOnlyReason::Media) => DbAccess::ReadOnlyMedia,
            Access::Read(_) if !folder_is_writable(layout.root()) => DbAccess::ReadOnlyMedia,
            Access::Read(_) => DbAccess::Read,
        };
        let connection = db::open(&layout.database(), &keys, database)?;
        if access == Access::Write {
            layout.prepare_shards().map_err(Error::store(None))?;
        }
        let safe = Self::assemble(
            layout,
            manifest,
            access,
            backoff,
            keys,
            connection,
            database,
            writer_lock,
        );
        if safe.access() == &Access::Write {
            safe.writing(|open| open.finish_replacements())?;
        }
        Ok(safe)
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        layout: Layout,
        manifest: Manifest,
        access: Access,
        backoff: Backoff,
        keys: SafeKeys,
        connection: Connection,
        database: DbAccess,
        writer_lock: Option<WriterLock>,
    ) -> Self {
        let session = Session {
            keys,
            pool: Mutex::new(vec![connection]),
            database_path: layout.database(),
            database,
            _writer_lock: writer_lock,
        };
        Self {
            core: Arc::new(Core {
                layout,
                manifest,
                access,
                backoff,
                session: Mutex::new(Some(Arc::new(session))),
                jobs: JobRegistry::default(),
                running_imports: Mutex::default(),
            }),
        }
    }

    /// The Safe's UUID.
    pub fn id(&self) -> Uuid {
        self.core.manifest.safe_id
    }

    /// The Safe's folder layout.
    pub fn layout(&self) -> &Layout {
        &self.core.layout
    }

    /// Whether this handle may write, or why not.
    pub fn access(&self) -> &Access {
        &self.core.access
    }

    /// Whether the Safe was locked (through any clone of this handle).
    pub fn is_locked(&self) -> bool {
        self.core
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }

    /// Locks the Safe: interrupts every running job (an import stays resumable), waits until
    /// the operations in flight have stopped (at most a few seconds), closes every database
    /// connection and drops the keys. Every clone of this handle then fails with
    /// [`Error::SafeLocked`]. Returns whether everything had stopped in time (if not, the keys
    /// are dropped the moment the last operation ends).
    pub fn lock(&self) -> bool {
        let session = self
            .core
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        self.core.jobs.interrupt_all();
        let Some(session) = session else {
            return true;
        };
        let started = Instant::now();
        while Arc::strong_count(&session) > 1 {
            if started.elapsed() > LOCK_WAIT {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        drop(session);
        true
    }

    pub(crate) fn session(&self) -> Result<Arc<Session>> {
        self.core
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(Error::SafeLocked)
    }

    /// Runs `operation` with a connection of its own.
    pub(crate) fn reading<T>(
        &self,
        operation: impl FnOnce(&mut Open<'_>) -> Result<T>,
    ) -> Result<T> {
        let session = self.session()?;
        let mut open = Open {
            core: &self.core,
            session: &session,
            db: session.connection()?,
        };
        operation(&mut open)
    }

    /// Like [`Safe::reading`], for an operation that changes the Safe.
    ///
    /// # Errors
    /// [`Error::ReadOnly`] if the Safe is open for reading only.
    pub(crate) fn writing<T>(
        &self,
        operation: impl FnOnce(&mut Open<'_>) -> Result<T>,
    ) -> Result<T> {
        self.writable()?;
        self.reading(operation)
    }

    /// Like [`Safe::reading`] (or [`Safe::writing`]) for a job: locking the Safe interrupts it.
    pub(crate) fn job<T>(
        &self,
        control: &JobControl,
        writes: bool,
        operation: impl FnOnce(&mut Open<'_>) -> Result<T>,
    ) -> Result<T> {
        if writes {
            self.writable()?;
        }
        let _registration = self.core.jobs.register(control);
        if self.is_locked() {
            control.interrupt();
        }
        self.reading(operation)
    }

    /// Whether this handle may change the Safe.
    ///
    /// # Errors
    /// [`Error::ReadOnly`] with the reason when it is open for reading only.
    pub fn writable(&self) -> Result<()> {
        match &self.core.access {
            Access::Write => Ok(()),
            Access::Read(reason) => Err(Error::ReadOnly {
                reason: reason.to_string(),
            }),
        }
    }

    /// Checks the Safe Password, as security settings do before they change anything. Counted
    /// by the back-off like an unlock.
    ///
    /// # Errors
    /// [`Error::WrongPassword`], [`Error::TryLater`]; [`Error::SafeLocked`].
    pub fn check_password(&self, password: &Password) -> Result<()> {
        // A locked handle asks for nothing: it is unlocked anew, not confirmed.
        drop(self.session()?);
        unlock_keys(
            &self.core.layout,
            &self.core.manifest,
            Unlock::Password(password),
            &self.core.backoff,
        )
        .map(drop)
    }

    /// Changes the Safe Password after checking the current one. Only `safe.key` is rewritten
    /// (atomically); data, database and recovery key stay valid.
    ///
    /// # Errors
    /// [`Error::WrongPassword`] / [`Error::TryLater`] for `current`; [`Error::Crypto`] for an
    /// empty new password; [`Error::ReadOnly`]; [`Error::Io`].
    pub fn change_password(&self, current: &Password, new: &Password) -> Result<()> {
        self.writable()?;
        self.check_password(current)?;
        self.write_key_file(new)
    }

    /// Sets a new Safe Password on a Safe unlocked with its recovery key.
    ///
    /// # Errors
    /// As [`Safe::change_password`].
    pub fn reset_password(&self, new: &Password) -> Result<()> {
        self.writable()?;
        self.write_key_file(new)
    }

    fn write_key_file(&self, new: &Password) -> Result<()> {
        let path = self.core.layout.key_file();
        let session = self.session()?;
        session
            .keys
            .write_key_file(&path, new, self.core.manifest.iterations())
            .map_err(crypto_at(&path))
    }

    /// Creates (or replaces) the recovery key after checking the Safe Password, and returns it
    /// to be shown once.
    ///
    /// # Errors
    /// [`Error::WrongPassword`], [`Error::TryLater`]; [`Error::ReadOnly`]; [`Error::Io`].
    pub fn create_recovery_key(&self, password: &Password) -> Result<RecoveryKey> {
        self.writable()?;
        self.check_password(password)?;
        let recovery_key = RecoveryKey::generate().map_err(Error::Crypto)?;
        let path = self.core.layout.recovery_file();
        let session = self.session()?;
        session
            .keys
            .write_recovery_file(&path, &recovery_key, self.core.manifest.iterations())
            .map_err(crypto_at(&path))?;
        Ok(recovery_key)
    }

    /// A summary of the Safe.
    ///
    /// # Errors
    /// [`Error::Database`], [`Error::SafeLocked`].
    pub fn info(&self) -> Result<Info> {
        self.reading(|open| {
            let (files, folders, bytes, missing): (u64, u64, u64, u64) = open.db().query_row(
                "SELECT count(*) FILTER (WHERE kind = 'file'), count(*) FILTER (WHERE kind = 'folder'),
                        ifnull(sum(size) FILTER (WHERE kind = 'file'), 0),
                        count(*) FILTER (WHERE content = 'missing')
                 FROM items WHERE trashed_at IS NULL",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )?;
            let trashed: u64 = open.db().query_row(
                "SELECT count(*) FROM items WHERE trashed_at IS NOT NULL",
                [],
                |row| row.get(0),
            )?;
            Ok(Info {
                safe_id: self.id(),
                format_version: self.core.manifest.version,
                schema_version: db::SCHEMA_VERSION,
                kdf_iterations: self.core.manifest.kdf.iterations,
                has_recovery_key: self.core.layout.recovery_file().exists(),
                files,
                folders,
                bytes,
                trashed,
                missing,
            })
        })
    }
}

impl Core {
    /// Marks an import job as running through this handle until the guard is dropped.
    ///
    /// # Errors
    /// [`Error::TrashState`] if it runs already.
    pub(crate) fn running_imports(&self) -> HashSet<Uuid> {
        self.running_imports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn mark_import_running(&self, job: Uuid) -> Result<RunningImport<'_>> {
        let mut running = self
            .running_imports
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !running.insert(job) {
            return Err(Error::AlreadyRunning(format!("the import {job}")));
        }
        Ok(RunningImport { core: self, job })
    }
}

/// An import job marked as running; unmarked when dropped.
pub(crate) struct RunningImport<'c> {
    core: &'c Core,
    job: Uuid,
}

impl Drop for RunningImport<'_> {
    fn drop(&mut self) {
        self.core
            .running_imports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.job);
    }
}

impl Safe {
    pub(crate) fn running_imports(&self) -> HashSet<Uuid> {
        self.core.running_imports()
    }

    pub(crate) fn mark_import_running(&self, job: Uuid) -> Result<RunningImport<'_>> {
        self.core.mark_import_running(job)
    }
}

impl Session {
    pub(crate) fn keys(&self) -> &SafeKeys {
        &self.keys
    }

    /// A connection from the pool, or a new one.
    fn connection(&self) -> Result<Pooled<'_>> {
        let pooled = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => db::open(&self.database_path, &self.keys, self.database)?,
        };
        Ok(Pooled {
            connection: Some(connection),
            pool: &self.pool,
        })
    }
}

/// A connection taken from the pool, given back when dropped.
pub(crate) struct Pooled<'s> {
    connection: Option<Connection>,
    pool: &'s Mutex<Vec<Connection>>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match &self.connection {
            Some(connection) => connection,
            None => unreachable!("a pooled connection is present until dropped"),
        }
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match &mut self.connection {
            Some(connection) => connection,
            None => unreachable!("a pooled connection is present until dropped"),
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            // A connection left inside a transaction (an error in the middle of one) rolls it
            // back before anyone else gets it.
            if !connection.is_autocommit() {
                let _ = connection.execute_batch("ROLLBACK");
            }
            let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
            if pool.len() < POOL_SIZE {
                pool.push(connection);
            }
        }
    }
}

/// An unlocked Safe with a database connection: what every operation works with.
pub(crate) struct Open<'s> {
    core: &'s Core,
    session: &'s Session,
    db: Pooled<'s>,
}

impl<'s> Open<'s> {
    pub(crate) fn core(&self) -> &'s Core {
        self.core
    }

    /// The session's keys, for use while a change set holds the database.
    pub(crate) fn session_keys(&self) -> &'s SafeKeys {
        &self.session.keys
    }
}

impl Open<'_> {
    pub(crate) fn db(&self) -> &Connection {
        &self.db
    }

    pub(crate) fn keys(&self) -> &SafeKeys {
        &self.session.keys
    }

    pub(crate) fn layout(&self) -> &Layout {
        &self.core.layout
    }

    pub(crate) fn id(&self) -> Uuid {
        self.core.manifest.safe_id
    }

    pub(crate) fn manifest(&self) -> &Manifest {
        &self.core.manifest
    }

    /// Starts a set of changes (the only way to modify attributes).
    pub(crate) fn changes(&mut self) -> Result<ChangeSet<'_>> {
        ChangeSet::begin(&mut self.db)
    }

    /// The parts a job needs at once: keys for its workers, the layout, the database for its
    /// own thread.
    pub(crate) fn parts(&mut self) -> (&SafeKeys, &Layout, &mut Connection) {
        (&self.session.keys, &self.core.layout, &mut self.db)
    }
}

/// Reads the manifest's key files with `unlock`: the one way a Safe's keys are unlocked,
/// without touching the database (a Safe whose database is damaged can still have it rebuilt).
pub(crate) fn unlock_keys(
    layout: &Layout,
    manifest: &Manifest,
    unlock: Unlock<'_>,
    backoff: &Backoff,
) -> Result<SafeKeys> {
    unlock::unlock(
        &KeyFiles {
            key_file: &layout.key_file(),
            recovery_file: &layout.recovery_file(),
            iterations: manifest.iterations(),
            safe_id: manifest.safe_id,
            what: "the key file",
        },
        unlock,
        backoff,
    )
}

/// The folder of a new Safe: `path` must be missing (it is made, private) or empty, and not
/// inside another Safe. Returns it locked for writing.
fn prepare_new_safe_folder(path: &Path) -> Result<(Layout, WriterLock)> {
    crate::layout::refuse_new_safe_inside_another(path)?;
    match fs::read_dir(path) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Error::AlreadyExists(path.to_path_buf()));
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir(path)?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(Error::AlreadyExists(path.to_path_buf()));
        }
        Err(error) => return Err(Error::io(path)(error)),
    }
    let layout = Layout::new(path);
    let writer_lock = acquire_writer_lock(&layout)?;
    Ok((layout, writer_lock))
}

pub(crate) fn acquire_writer_lock(layout: &Layout) -> Result<WriterLock> {
    WriterLock::acquire(layout.root()).map_err(|refused| match refused {
        Refused::Held(holder) => Error::LockedByOther {
            what: "the Safe",
            holder,
        },
        Refused::ReadOnly => Error::ReadOnly {
            reason: ReadOnlyReason::Media.to_string(),
        },
        Refused::Io(error) => Error::io(layout.root())(error),
    })
}

fn folder_is_writable(folder: &Path) -> bool {
    #[cfg(unix)]
    {
        rustix::fs::access(folder, rustix::fs::Access::WRITE_OK).is_ok()
    }
    #[cfg(not(unix))]
    {
        !fs::metadata(folder).is_ok_and(|metadata| metadata.permissions().readonly())
    }
}

/// Creates a folder readable by its owner only (a Safe, its shards).
pub(crate) fn create_private_dir(path: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(Error::io(path))
}

fn crypto_at(path: &Path) -> impl FnOnce(arca_cryptor::Error) -> Error + '_ {
    move |error| match error {
        arca_cryptor::Error::Io(error) => Error::Io {
            path: path.to_path_buf(),
            error,
        },
        other => Error::Crypto(other),
    }
}
