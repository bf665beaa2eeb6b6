//! The applications of the desktop that can open a file, and starting one on a copy: from the
//! freedesktop.org application entries (`applications/*.desktop`) and shared MIME database
//! (`mime/globs2`) in `$XDG_DATA_HOME` and `$XDG_DATA_DIRS`, as file managers do.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An application entry that can be started on a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesktopApp {
    /// The entry's id (its file name), like `org.gnome.TextEditor.desktop`.
    pub id: String,
    pub name: String,
    exec: String,
}

/// The folders that hold `applications/` and `mime/`, most important first.
pub fn data_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    match std::env::var_os("XDG_DATA_HOME").filter(|dir| !dir.is_empty()) {
        Some(home) => dirs.push(PathBuf::from(home)),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                dirs.push(Path::new(&home).join(".local/share"));
            }
        }
    }
    let system = std::env::var("XDG_DATA_DIRS")
        .ok()
        .filter(|dirs| !dirs.is_empty())
        .unwrap_or_else(|| "/usr/local/share:/usr/share".to_owned());
    dirs.extend(
        system
            .split(':')
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from),
    );
    dirs
}

/// The MIME type of a file name by the shared MIME database's globs (the heaviest match), or
/// the app's own guess for the types it previews.
pub fn mime_type(dirs: &[PathBuf], name: &str) -> String {
    let lower = name.to_lowercase();
    let mut best: Option<(u32, usize, String)> = None;
    for dir in dirs {
        let Ok(globs) = fs::read_to_string(dir.join("mime/globs2")) else {
            continue;
        };
        for line in globs.lines().filter(|line| !line.starts_with('#')) {
            let mut fields = line.split(':');
            let (Some(weight), Some(mime), Some(glob)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Some(suffix) = glob
                .strip_prefix('*')
                .filter(|suffix| !suffix.contains(['*', '?', '[']))
            else {
                continue;
            };
            if lower.ends_with(&suffix.to_lowercase()) {
                let weight = weight.parse().unwrap_or(50);
                // The heaviest glob wins; between equal ones, the longest (`.tar.gz` over `.gz`).
                if best
                    .as_ref()
                    .is_none_or(|(w, len, _)| (weight, suffix.len()) > (*w, *len))
                {
                    best = Some((weight, suffix.len(), mime.to_owned()));
                }
            }
        }
    }
    best.map(|(_, _, mime)| mime).unwrap_or_else(|| {
        crate::convert::mime(name)
            .split(';')
            .next()
            .unwrap_or("application/octet-stream")
            .to_owned()
    })
}

/// The applications whose entries say they open `mime` (exactly, or its whole family like
/// `text/*`), by name. Hidden entries, terminal programs and ones without a command are left out.
pub fn apps_for(dirs: &[PathBuf], mime: &str) -> Vec<DesktopApp> {
    let family = mime.split('/').next().map(|family| format!("{family}/*"));
    let mut found: BTreeMap<String, DesktopApp> = BTreeMap::new();
    // Earlier folders win for an id: the user's own entries over the system's.
    for dir in dirs {
        for entry in fs::read_dir(dir.join("applications"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let id = entry.file_name().to_string_lossy().into_owned();
            if !id.ends_with(".desktop") || found.contains_key(&id) {
                continue;
            }
            let Ok(text) = fs::read_to_string(entry.path()) else {
                continue;
            };
            if let Some(app) = parse_entry(&id, &text, mime, family.as_deref()) {
                found.insert(id, app);
            }
        }
    }
    let mut apps: Vec<DesktopApp> = found.into_values().collect();
    apps.sort_by_key(|app| app.name.to_lowercase());
    apps
}

/// The entry `text` as an app that opens `mime`, if it is one.
fn parse_entry(id: &str, text: &str, mime: &str, family: Option<&str>) -> Option<DesktopApp> {
    let mut in_main = false;
    let mut fields: BTreeMap<&str, &str> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_main = line == "[Desktop Entry]";
        } else if in_main && let Some((key, value)) = line.split_once('=') {
            fields.entry(key.trim()).or_insert(value.trim());
        }
    }
    let yes = |key: &str| fields.get(key).is_some_and(|value| *value == "true");
    if fields.get("Type") != Some(&"Application")
        || yes("Hidden")
        || yes("NoDisplay")
        || yes("Terminal")
    {
        return None;
    }
    let opens = fields
        .get("MimeType")?
        .split(';')
        .any(|listed| listed == mime || family.is_some_and(|family| listed == family));
    if !opens {
        return None;
    }
    Some(DesktopApp {
        id: id.to_owned(),
        name: (*fields.get("Name")?).to_owned(),
        exec: (*fields.get("Exec")?).to_owned(),
    })
}

/// The apps for the file `name`, and the one with entry `id` among them.
pub fn for_file(dirs: &[PathBuf], name: &str) -> Vec<DesktopApp> {
    apps_for(dirs, &mime_type(dirs, name))
}

/// The command line of `exec` (an entry's `Exec`) on `file`: quoted arguments unquoted, the
/// file put where the entry's field code says (`%f %F %u %U`), or last; other codes dropped.
fn command_line(exec: &str, file: &Path) -> Vec<std::ffi::OsString> {
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut escaped, mut started) = (false, false, false);
    for c in exec.chars() {
        if escaped {
            word.push(c);
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            started = true;
        } else if c.is_whitespace() && !quoted {
            if started || !word.is_empty() {
                words.push(std::mem::take(&mut word));
                started = false;
            }
        } else {
            word.push(c);
        }
    }
    if started || !word.is_empty() {
        words.push(word);
    }
    let mut line = Vec::new();
    let mut placed = false;
    for word in words {
        match word.as_str() {
            "%f" | "%F" | "%u" | "%U" => {
                if !placed {
                    line.push(file.as_os_str().to_owned());
                    placed = true;
                }
            }
            "%i" | "%c" | "%k" | "%d" | "%D" | "%n" | "%N" | "%v" | "%m" => {}
            other => line.push(other.replace("%%", "%").into()),
        }
    }
    if !placed {
        line.push(file.as_os_str().to_owned());
    }
    line
}

/// Starts `app` on `file`, or the desktop's default app for it (`xdg-open`) for `None`. The
/// program runs on its own; its end is collected on a thread so it leaves no zombie.
pub fn launch(app: Option<&DesktopApp>, file: &Path) -> io::Result<()> {
    let line = match app {
        Some(app) => command_line(&app.exec, file),
        None => vec!["xdg-open".into(), file.as_os_str().to_owned()],
    };
    let Some((program, args)) = line.split_first() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the app has no command",
        ));
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_as_file_managers_read_them() {
        let entry = "[Desktop Entry]\nType=Application\nName=Text Editor\n\
                     Exec=gnome-text-editor --new-window \"%U\" --title \"My \\\"notes\\\"\"\n\
                     MimeType=text/plain;text/markdown;\n[Desktop Action new]\nName=Other\n";
        let app = parse_entry("editor.desktop", entry, "text/markdown", Some("text/*")).unwrap();
        assert_eq!(app.name, "Text Editor");
        let line = command_line(&app.exec, Path::new("/run/user/1/arca/a b.md"));
        assert_eq!(
            line,
            [
                "gnome-text-editor",
                "--new-window",
                "/run/user/1/arca/a b.md",
                "--title",
                "My \"notes\""
            ]
            .map(std::ffi::OsString::from)
        );
        assert!(parse_entry("editor.desktop", entry, "image/png", Some("image/*")).is_none());
        let hidden = entry.replace("Type=Application", "Type=Application\nNoDisplay=true");
        assert!(parse_entry("editor.desktop", &hidden, "text/plain", None).is_none());
        let family = entry.replace("text/plain;", "image/*;");
        assert!(parse_entry("viewer.desktop", &family, "image/png", Some("image/*")).is_some());
        // No field code: the file goes last.
        assert_eq!(
            command_line("viewer --fullscreen", Path::new("/x")),
            ["viewer", "--fullscreen", "/x"].map(std::ffi::OsString::from)
        );
    }
}
