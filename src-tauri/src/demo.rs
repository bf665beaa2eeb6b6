//! The demo Safe `scripts/run-app --demo` opens: sample files (fixtures/demo) put in a Safe in
//! the app's data folder on first use, under a password printed for the person trying Arca.

use std::path::{Path, PathBuf};

use arca_cryptor::{Iterations, Password};
use arca_safe::{ImportOptions, JobControl, Safe};

/// The demo Safe's password (it guards nothing but sample files).
pub const PASSWORD: &str = "demo-violet-granite-orbit";

/// Makes the demo Safe from the files in `samples` unless it exists; returns its path.
///
/// # Errors
/// If the Safe cannot be created or the samples imported.
pub fn prepare(data_folder: &Path, samples: &Path) -> arca_safe::Result<PathBuf> {
    let path = data_folder.join("Demo.arca");
    if path.join("safe.json").exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(data_folder).map_err(|error| arca_safe::Error::Io {
        path: data_folder.to_path_buf(),
        error,
    })?;
    let safe = Safe::create(
        &path,
        &Password::new(PASSWORD.to_owned()),
        Iterations::KEY_FILE,
    )?;
    let mut sources: Vec<PathBuf> = std::fs::read_dir(samples)
        .map_err(|error| arca_safe::Error::Io {
            path: samples.to_path_buf(),
            error,
        })?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    sources.sort();
    safe.import(
        &sources,
        &ImportOptions::default(),
        &JobControl::new(),
        &mut |_| {},
    )?;
    Ok(path)
}
