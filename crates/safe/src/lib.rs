//! Everything a Safe does, as a plain Rust API usable without any GUI: its layout on disk, the
//! encrypted attribute database, and the operations on items. Keys never leave
//! [`arca_cryptor::SafeKeys`]; this crate only holds the handle.

#![forbid(unsafe_code)]

mod changes;
mod db;
mod error;
mod item;
mod layout;
mod manifest;
mod safe;
mod time;

pub use db::SCHEMA_VERSION;
pub use error::{Error, Result};
pub use item::{Content, Item, ItemUpdate, Kind};
pub use layout::Layout;
pub use manifest::{FORMAT_VERSION, Manifest};
pub use safe::{Info, Safe};
