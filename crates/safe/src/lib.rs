//! Everything a Safe does, as a plain Rust API usable without any GUI: its layout on disk, the
//! encrypted attribute database, and the operations on items. Keys never leave
//! [`arca_cryptor::SafeKeys`]; this crate only holds the handle.

#![forbid(unsafe_code)]

mod backup;
mod changes;
mod check;
mod db;
mod error;
mod export;
mod import;
mod item;
mod job;
mod layout;
mod manifest;
mod organise;
mod query;
mod safe;
mod search;
mod strength;
mod tags;
mod time;

pub use backup::{
    BACKUP_FORMAT_NAME, BACKUP_FORMAT_VERSION, BackupManifest, BackupOptions, BackupReport,
    ITEM_XML_VERSION, ItemProblem, RebuildReport, RestoreInto, RestoreItemsOptions, RestoreReport,
    Unlock, VerifyReport, rebuild_database_from_backup, restore_backup, verify_backup,
};
pub use check::{CheckReport, Problem};
pub use db::SCHEMA_VERSION;
pub use error::{Error, Result};
pub use export::ExportReport;
pub use import::{FileProblem, ImportOptions, ImportReport, OnClash};
pub use item::{Content, Item, ItemUpdate, Kind};
pub use job::{JobControl, Progress};
pub use layout::Layout;
pub use manifest::{FORMAT_VERSION, Manifest};
pub use organise::{MAX_NAME_BYTES, validate_name};
pub use safe::{Info, Safe};
pub use search::SearchQuery;
pub use strength::{MIN_SCORE, Strength, password_strength};
pub use tags::TagCount;
pub use time::UtcTime;
