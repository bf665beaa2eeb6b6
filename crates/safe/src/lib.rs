//! Everything a Safe does, as a plain Rust API usable without any GUI: its layout on disk, the
//! encrypted attribute database, and the operations on items. Keys never leave
//! [`arca_cryptor::SafeKeys`]; this crate only holds the handle.
//!
//! A [`Safe`] is a handle that many threads share: reads go through connections of their own
//! beside a running job; [`Safe::lock`] stops every job and drops the keys. Failures are
//! [`Error`]s with a stable [`ErrorKind`]; problems with single items that a job reports and
//! goes on are [`ItemProblem`]s with a [`ProblemKind`].

#![forbid(unsafe_code)]

mod backoff;
mod backup;
mod bench_support;
mod browse;
mod changes;
mod check;
mod data_file;
mod db;
mod edit;
mod error;
mod export;
mod hex32;
mod import;
mod item;
mod job;
mod layout;
mod lock;
mod manifest;
mod name;
mod organise;
mod problem;
mod query;
mod reader;
mod replace;
mod safe;
mod search;
mod secure_area;
mod strength;
mod sync;
mod tags;
mod time;
mod unlock;
mod versioned;

pub use backoff::{Backoff, Clock, MAX_DELAY, delay_after};
pub use backup::{
    BACKUP_FORMAT_NAME, BACKUP_FORMAT_VERSION, BackupEntry, BackupListing, BackupManifest,
    BackupOptions, BackupReport, ITEM_XML_VERSION, RebuildReport, RestoreInto, RestoreItemsOptions,
    RestoreReport, VerifyReport, list_backup, rebuild_database_from_backup, restore_backup,
    verify_backup,
};
pub use browse::{Page, Row, SortKey, SortOrder};
pub use check::{CheckReport, Problem};
pub use db::SCHEMA_VERSION;
pub use edit::{Edit, QUIET, TakeBack, Watch, open_elsewhere, watch};
pub use error::{Error, ErrorKind, Result};
pub use export::ExportReport;
pub use import::{ImportJob, ImportOptions, ImportReport, OnClash};
pub use item::{Content, Item, ItemUpdate, Kind};
pub use job::{JobControl, JobEvent, Observer, Phase, Progress, Stop};
pub use layout::Layout;
pub use lock::{Holder, LOCK_FILE};
pub use manifest::{FORMAT_VERSION, Manifest};
pub use name::{MAX_NAME_BYTES, escape_for_display, join_checked, validate_name};
pub use problem::{ItemProblem, ProblemKind};
pub use reader::FileReader;
pub use safe::{Access, Info, OpenMode, OpenOptions, ReadOnlyReason, Safe};
pub use search::{SearchHit, SearchQuery};
pub use secure_area::{EditRecord, Leftover, SecureArea, default_base, sweep_leftovers};
pub use strength::{MIN_SCORE, Strength, password_strength};
pub use sync::{
    Conflict, DeviceState, FolderTarget, MAX_PICTURE_LEN, MAX_SYNC_CONFIG_LEN, PictureProblem,
    S3Settings, S3Target, Secret, SyncConfig, SyncDevice, SyncReport, Target, TargetSettings,
    is_picture, read_sync_config, sync_config_from_picture, sync_config_text,
};
pub use tags::TagCount;
pub use time::UtcTime;
#[cfg(feature = "clock-skew")]
pub use time::skew_this_threads_clock;
pub use unlock::Unlock;
pub use versioned::{KDF_NAME, Kdf};
