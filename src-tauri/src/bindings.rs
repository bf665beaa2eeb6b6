//! The TypeScript declarations of [`crate::dto`], in one file the window imports
//! (`ui/src/lib/bindings/index.ts`). A test keeps the file current.

use ts_rs::{Config, TS};

use crate::dto::*;

/// Where the declarations live, relative to this crate.
pub const BINDINGS_FILE: &str = "../ui/src/lib/bindings/index.ts";

fn declaration<T: TS>(config: &Config) -> String {
    format!("export {}", T::decl(config))
}

/// The whole file, as generated from the Rust types.
pub fn typescript() -> String {
    // Sizes and times fit in JavaScript's safe integers (2^53 bytes, 2^53 ms); they cross as
    // numbers, not bigints.
    let config = Config::new().with_large_int("number");
    let declarations = [
        declaration::<AppError>(&config),
        declaration::<ErrorKind>(&config),
        declaration::<RecoveryKeyTypo>(&config),
        declaration::<AppInfo>(&config),
        declaration::<SafeSummary>(&config),
        declaration::<SafeStatus>(&config),
        declaration::<Handoff>(&config),
        declaration::<OpenedSafe>(&config),
        declaration::<SafeInfo>(&config),
        declaration::<InterruptedImport>(&config),
        declaration::<Strength>(&config),
        declaration::<Kind>(&config),
        declaration::<Content>(&config),
        declaration::<Row>(&config),
        declaration::<SortKey>(&config),
        declaration::<ListRequest>(&config),
        declaration::<Page>(&config),
        declaration::<FolderNode>(&config),
        declaration::<Crumb>(&config),
        declaration::<ItemDetails>(&config),
        declaration::<PreviewKind>(&config),
        declaration::<SearchRequest>(&config),
        declaration::<SearchHit>(&config),
        declaration::<SearchPage>(&config),
        declaration::<TagCount>(&config),
        declaration::<JobKind>(&config),
        declaration::<JobPhase>(&config),
        declaration::<JobState>(&config),
        declaration::<Job>(&config),
        declaration::<Problem>(&config),
        declaration::<ProblemKind>(&config),
        declaration::<BackupEntry>(&config),
        declaration::<BackupListing>(&config),
        declaration::<RecoveryKeySheet>(&config),
        declaration::<Settings>(&config),
        declaration::<Theme>(&config),
        declaration::<Language>(&config),
        declaration::<LockReason>(&config),
        declaration::<LockedEvent>(&config),
        declaration::<ChangedEvent>(&config),
        declaration::<DialogPurpose>(&config),
        declaration::<OpenEdit>(&config),
        declaration::<EditEvent>(&config),
        declaration::<EditEventKind>(&config),
        declaration::<AppChoice>(&config),
        declaration::<LeftoverCopy>(&config),
        declaration::<SyncTarget>(&config),
        declaration::<BucketTarget>(&config),
        declaration::<ConflictKind>(&config),
        declaration::<SyncConflict>(&config),
        declaration::<ConflictItem>(&config),
        declaration::<SyncReport>(&config),
        declaration::<DeviceState>(&config),
        declaration::<SyncDevice>(&config),
        declaration::<DeviceDecision>(&config),
        declaration::<SyncRun>(&config),
        declaration::<SyncStatus>(&config),
        declaration::<SyncConfigInfo>(&config),
        declaration::<SyncConfigQr>(&config),
    ];
    let mut text = String::from(
        "// Generated from src-tauri/src/dto.rs by src-tauri/src/bindings.rs. Do not edit:\n\
         // change the Rust types and run `ARCA_UPDATE_BINDINGS=1 cargo test -p arca-desktop bindings`.\n",
    );
    for declaration in declarations {
        text.push('\n');
        text.push_str(&declaration);
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn bindings_are_current() -> Result<(), Box<dyn std::error::Error>> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::BINDINGS_FILE);
        let generated = super::typescript();
        if std::env::var_os("ARCA_UPDATE_BINDINGS").is_some() {
            if let Some(folder) = path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            std::fs::write(&path, &generated)?;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date: run `ARCA_UPDATE_BINDINGS=1 cargo test -p arca-desktop bindings`",
            path.display()
        );
        Ok(())
    }
}
