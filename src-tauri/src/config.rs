//! What the app remembers between runs, in its config folder: the Safes opened recently (their
//! paths and when, never a password or a key), the settings, and each Safe's own settings (by
//! its folder, as the recent list knows it: two copies of one Safe on this computer each have
//! their own; how often it syncs, when it last did). Each file is written whole and
//! atomically; one that cannot be read is treated as empty, never as an error that keeps the
//! app from starting.

use std::collections::BTreeMap;
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

/// How often a Safe syncs unless its person says otherwise: after each unlock and every
/// quarter of an hour while unlocked. A run that finds nothing new costs a listing of the
/// target, and a person who set up a target expects the devices to keep in step.
pub const DEFAULT_SYNC_MINUTES: Option<u32> = Some(15);

/// One Safe's settings in this app (nothing of its contents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SafePrefs {
    /// Sync after each unlock and every this many minutes; `None`: only when asked.
    #[serde(default = "default_sync_minutes")]
    pub sync_every_minutes: Option<u32>,
    /// When its last sync run reached its end (ms since the epoch).
    #[serde(default)]
    pub last_synced_ms: Option<i64>,
}

fn default_sync_minutes() -> Option<u32> {
    DEFAULT_SYNC_MINUTES
}

impl Default for SafePrefs {
    fn default() -> Self {
        Self {
            sync_every_minutes: DEFAULT_SYNC_MINUTES,
            last_synced_ms: None,
        }
    }
}

/// The config folder's contents.
#[derive(Debug)]
pub struct Config {
    folder: PathBuf,
    pub recent: Vec<Recent>,
    pub settings: Settings,
    /// Each Safe's settings, by its folder.
    safes: BTreeMap<PathBuf, SafePrefs>,
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
            safes: read(&folder.join("safes.json")).unwrap_or_default(),
        }
    }

    /// The settings of the Safe at `path` (the defaults for one never seen).
    pub fn safe(&self, path: &Path) -> SafePrefs {
        self.safes.get(path).cloned().unwrap_or_default()
    }

    /// Changes the settings of the Safe at `path`.
    pub fn update_safe(&mut self, path: &Path, change: impl FnOnce(&mut SafePrefs)) {
        change(self.safes.entry(path.to_path_buf()).or_default());
        write(&self.folder.join("safes.json"), &self.safes);
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

    #[test]
    fn each_safe_keeps_its_own_sync_settings_with_a_default_for_a_new_one() {
        let dir = std::env::temp_dir().join(format!("arca-config-test-{}", uuid::Uuid::new_v4()));
        let (one, other) = (Path::new("/desk/A.arca"), Path::new("/usb/A.arca"));
        let mut config = Config::load(&dir);
        assert_eq!(config.safe(one).sync_every_minutes, DEFAULT_SYNC_MINUTES);
        config.update_safe(one, |prefs| {
            prefs.sync_every_minutes = None;
            prefs.last_synced_ms = Some(5);
        });
        let reloaded = Config::load(&dir);
        assert_eq!(reloaded.safe(one).sync_every_minutes, None);
        assert_eq!(reloaded.safe(one).last_synced_ms, Some(5));
        assert_eq!(reloaded.safe(other), SafePrefs::default());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
