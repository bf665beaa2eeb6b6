//! What the app remembers between runs, in its config folder: the Safes opened recently (their
//! paths and when, never a password or a key) and the settings. Each file is written whole and
//! atomically; one that cannot be read is treated as empty, never as an error that keeps the
//! app from starting.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dto::{Language, Settings, Theme};

/// How many recent Safes are remembered.
const RECENT_LIMIT: usize = 12;

/// One recently opened Safe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recent {
    pub path: PathBuf,
    /// Milliseconds since the Unix epoch.
    pub opened_ms: i64,
}

/// The config folder's contents.
#[derive(Debug)]
pub struct Config {
    folder: PathBuf,
    pub recent: Vec<Recent>,
    pub settings: Settings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            auto_lock_minutes: Some(15),
            lock_on_sleep: true,
            theme: Theme::System,
            language: Language::System,
        }
    }
}

impl Config {
    /// Reads the config in `folder` (missing or unreadable files give the defaults).
    pub fn load(folder: &Path) -> Self {
        Self {
            folder: folder.to_path_buf(),
            recent: read(&folder.join("recent.json")).unwrap_or_default(),
            settings: read(&folder.join("settings.json")).unwrap_or_default(),
        }
    }

    /// Puts `path` first among the recent Safes.
    pub fn opened(&mut self, path: &Path, now_ms: i64) {
        self.recent.retain(|recent| recent.path != path);
        self.recent.insert(
            0,
            Recent {
                path: path.to_path_buf(),
                opened_ms: now_ms,
            },
        );
        self.recent.truncate(RECENT_LIMIT);
        self.save_recent();
    }

    /// Forgets a recent Safe (the Safe itself is not touched).
    pub fn forget(&mut self, path: &Path) {
        self.recent.retain(|recent| recent.path != path);
        self.save_recent();
    }

    fn save_recent(&self) {
        write(&self.folder.join("recent.json"), &self.recent);
    }

    /// Replaces the settings.
    pub fn set_settings(&mut self, settings: Settings) {
        self.settings = settings;
        write(&self.folder.join("settings.json"), &self.settings);
    }
}

fn read<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Best effort: the app works on with what it has in memory if its config cannot be saved.
fn write<T: Serialize>(path: &Path, value: &T) {
    let Ok(text) = serde_json::to_vec_pretty(value) else {
        return;
    };
    if let Some(folder) = path.parent() {
        let _ = std::fs::create_dir_all(folder);
    }
    if let Err(error) = arca_cryptor::write_atomically_private(path, &text) {
        eprintln!("arca-desktop: cannot save {}: {error}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_safes_are_remembered_newest_first_without_duplicates() -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("arca-config-test-{}", uuid::Uuid::new_v4()));
        let mut config = Config::load(&dir);
        config.opened(Path::new("/a.arca"), 1);
        config.opened(Path::new("/b.arca"), 2);
        config.opened(Path::new("/a.arca"), 3);
        let reloaded = Config::load(&dir);
        let paths: Vec<&Path> = reloaded.recent.iter().map(|r| r.path.as_path()).collect();
        assert_eq!(paths, [Path::new("/a.arca"), Path::new("/b.arca")]);
        let text = std::fs::read_to_string(dir.join("recent.json")).map_err(|e| e.to_string())?;
        assert!(!text.to_lowercase().contains("password"));
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
