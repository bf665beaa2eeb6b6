//! Looking at and organising items: `ls`, `stat`, `cat`, `mkdir`, `mv`, `rm` and `trash`.

use arca_safe::{Item, Kind, Safe, SortKey, SortOrder, escape_for_display};
use clap::{Args, Subcommand, ValueEnum};
use uuid::Uuid;

use crate::exit::Failure;
use crate::safe_cmd::output::{self, Entry, human_size, time_or_dash, utc};
use crate::safe_cmd::{SafeArg, fail, fail_plain, resolve_folder, resolve_item};

/// `arca ls SAFE [PATH]`.
#[derive(Args)]
pub struct LsArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The folder to list (or a single file), from the Safe's root
    #[arg(value_name = "PATH", default_value = "/")]
    path: String,

    /// List the folders below too, with their paths
    #[arg(short = 'R', long)]
    recursive: bool,

    /// Also list the items in the trash, marked as such (with -R, or alone)
    #[arg(long, conflicts_with_all = ["sort", "limit", "offset"])]
    trash: bool,

    /// Order of a folder's items (folders always come first)
    #[arg(long, value_enum, default_value_t = Sort::Name, conflicts_with = "recursive")]
    sort: Sort,

    /// Largest, newest, Z first
    #[arg(long)]
    reverse: bool,

    /// At most this many items (a page)
    #[arg(long, value_name = "N", conflicts_with = "recursive")]
    limit: Option<u64>,

    /// Skip this many items first (the next page)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        conflicts_with = "recursive"
    )]
    offset: u64,

    /// Print JSON (every attribute, with path and tags) instead of text
    #[arg(long)]
    json: bool,
}

/// What `ls` sorts by.
#[derive(Clone, Copy, ValueEnum)]
pub enum Sort {
    /// By name
    Name,
    /// By size
    Size,
    /// By modification time
    Modified,
    /// Folders, then files, each by name
    Kind,
}

impl From<Sort> for SortKey {
    fn from(sort: Sort) -> Self {
        match sort {
            Sort::Name => Self::Name,
            Sort::Size => Self::Size,
            Sort::Modified => Self::Modified,
            Sort::Kind => Self::Kind,
        }
    }
}

/// Rows a page has at most; more are read in pages of this size.
const PAGE: u64 = 1000;

/// Lists a folder (a page of it with --limit), or the folders below it with -R.
pub fn ls(args: LsArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let target = safe
        .resolve(&args.path)
        .map_err(fail(format!("cannot list {:?}", args.path)))?;
    let mut rows: Vec<(String, Item)> = Vec::new();
    match target {
        Some(item) if item.kind == Kind::File => {
            let path = path_or_fail(&safe, item.id)?;
            rows.push((path, item));
        }
        folder => {
            let (id, path) = match folder {
                Some(item) => (Some(item.id), path_or_fail(&safe, item.id)?),
                None => (None, String::new()),
            };
            if args.recursive || args.trash {
                collect(&safe, id, &path, args.recursive, args.trash, &mut rows)?;
            } else {
                page(&safe, id, &path, &args, &mut rows)?;
            }
        }
    }
    if args.json {
        let entries = rows
            .into_iter()
            .map(|(path, item)| Entry::at(&safe, path, item))
            .collect::<Result<Vec<_>, _>>()?;
        return output::print_json(&entries);
    }
    let mut text = String::new();
    for (path, item) in rows {
        let shown = if args.recursive {
            path.clone()
        } else {
            item.name.clone()
        };
        text.push_str(&Entry::bare(path, item).line(&shown));
    }
    output::write_stdout(text.as_bytes())
}

/// The rows of one folder in the order asked for, read a page at a time.
fn page(
    safe: &Safe,
    folder: Option<Uuid>,
    path: &str,
    args: &LsArgs,
    rows: &mut Vec<(String, Item)>,
) -> Result<(), Failure> {
    let shown = if path.is_empty() { "/" } else { path };
    let order = if args.reverse {
        SortOrder::Descending
    } else {
        SortOrder::Ascending
    };
    let mut offset = args.offset;
    let mut left = args.limit.unwrap_or(u64::MAX);
    while left > 0 {
        let page = safe
            .page(folder, args.sort.into(), order, offset, left.min(PAGE))
            .map_err(fail(format!("cannot list {shown}")))?;
        let got = page.rows.len() as u64;
        for row in page.rows {
            rows.push((format!("{path}/{}", row.item.name), row.item));
        }
        offset += got;
        left -= got;
        if got == 0 || offset >= page.total {
            break;
        }
    }
    Ok(())
}

/// The items in `folder` (at `path`), and with `recursive` everything below, parents first.
fn collect(
    safe: &Safe,
    folder: Option<Uuid>,
    path: &str,
    recursive: bool,
    include_trashed: bool,
    rows: &mut Vec<(String, Item)>,
) -> Result<(), Failure> {
    let shown = if path.is_empty() { "/" } else { path };
    let children = safe
        .children(folder, include_trashed)
        .map_err(fail(format!("cannot list {shown}")))?;
    for item in children {
        let child_path = format!("{path}/{}", item.name);
        let below = (recursive && item.kind == Kind::Folder).then_some(item.id);
        rows.push((child_path.clone(), item));
        if let Some(id) = below {
            collect(safe, Some(id), &child_path, true, include_trashed, rows)?;
        }
    }
    Ok(())
}

fn path_or_fail(safe: &Safe, id: Uuid) -> Result<String, Failure> {
    safe.path_of(id)
        .map_err(fail(format!("cannot find the path of item {id}")))
}

/// `arca stat SAFE PATH`.
#[derive(Args)]
pub struct StatArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The item, from the Safe's root
    #[arg(value_name = "PATH")]
    path: String,

    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Prints every attribute of one item.
pub fn stat(args: StatArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let item = resolve_item(&safe, &args.path)?;
    let entry = Entry::new(&safe, item)?;
    if args.json {
        return output::print_json(&entry);
    }
    let item = &entry.item;
    let kind = match item.kind {
        Kind::File => "file",
        Kind::Folder => "folder",
    };
    let mut text = format!(
        "Path:      {}\nId:        {}\nKind:      {kind}\n",
        escape_for_display(&entry.path),
        item.id
    );
    if item.kind == Kind::File {
        text.push_str(&format!(
            "Size:      {} ({} bytes)\nContent:   {}\nSHA-256:   {}\n",
            human_size(item.size),
            item.size,
            content_name(item.content),
            item.sha256.map_or_else(|| "-".to_owned(), hex::encode)
        ));
    }
    text.push_str(&format!(
        "Modified:  {}\nCreated:   {}\nAdded:     {}\n",
        time_or_dash(item.modified_at),
        time_or_dash(item.created_at),
        utc(item.added_at)
    ));
    if let Some(trashed) = item.trashed_at {
        text.push_str(&format!("Trashed:   {}\n", utc(trashed)));
    }
    text.push_str(&format!(
        "Favorite:  {}\nTags:      {}\nComment:   {}\n",
        if item.favorite { "yes" } else { "no" },
        escape_for_display(&entry.tags.join(", ")),
        escape_for_display(&item.comment)
    ));
    output::write_stdout(text.as_bytes())
}

fn content_name(content: arca_safe::Content) -> &'static str {
    match content {
        arca_safe::Content::None => "none",
        arca_safe::Content::Pending => "pending (its import has not finished)",
        arca_safe::Content::Present => "present",
        arca_safe::Content::Missing => {
            "MISSING (found damaged or gone by check --repair): restore it from a backup with \
             `arca restore TARGET SAFE --items PATH`, or delete it"
        }
    }
}

/// `arca cat SAFE PATH`.
#[derive(Args)]
pub struct CatArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The file, from the Safe's root
    #[arg(value_name = "PATH")]
    path: String,
}

/// Writes a file's content to standard output, only once all of it has been verified: a
/// damaged file prints nothing. The content is held in memory (zeroized afterwards); export
/// large files with `arca export`.
pub fn cat(args: CatArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let item = resolve_item(&safe, &args.path)?;
    if item.kind == Kind::Folder {
        return Err(Failure::usage(
            format!("{} is a folder; cat writes out one file", args.path),
            "list the folder with `arca ls SAFE PATH`, or export it with `arca export`",
        ));
    }
    let content = safe.read(item.id).map_err(fail_plain)?;
    output::write_stdout(&content)
}

/// `arca mkdir SAFE PATH...`.
#[derive(Args)]
pub struct MkdirArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Folders to create, with any missing parents (an existing folder is fine)
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

/// Creates folders, like `mkdir -p`.
pub fn mkdir(args: MkdirArgs) -> Result<(), Failure> {
    let safe = args.safe.open()?;
    for path in &args.paths {
        safe.create_folders(path)
            .map_err(fail(format!("cannot create the folder {path:?}")))?;
    }
    Ok(())
}

/// `arca mv SAFE SRC DST`.
#[derive(Args)]
pub struct MvArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The item to move or rename
    #[arg(value_name = "SRC")]
    source: String,

    /// An existing folder to move SRC into, or the new path (folder and name) of SRC
    #[arg(value_name = "DST")]
    destination: String,
}

/// Moves and renames one item.
pub fn mv(args: MvArgs) -> Result<(), Failure> {
    let safe = args.safe.open()?;
    let item = resolve_item(&safe, &args.source)?;
    let context = format!("cannot move {} to {}", args.source, args.destination);
    let existing = match safe.resolve(&args.destination) {
        Ok(existing) => Some(existing),
        Err(arca_safe::Error::PathNotFound(_)) => None,
        Err(error) => return Err(fail(context)(error)),
    };
    let (folder, name) = match existing {
        // The root, or an existing folder: move into it.
        Some(None) => (None, item.name.clone()),
        Some(Some(target)) if target.kind == Kind::Folder && target.id != item.id => {
            (Some(target.id), item.name.clone())
        }
        // A new path (or an existing file, which the library refuses as a name clash).
        _ => {
            let (parent, name) = split_parent(&args.destination);
            (resolve_folder(&safe, parent)?, name.to_owned())
        }
    };
    safe.move_and_rename(item.id, folder, &name)
        .map_err(fail(context))
}

/// `/a/b/c` → (`/a/b`, `c`).
fn split_parent(path: &str) -> (&str, &str) {
    let trimmed = path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(slash) => (&trimmed[..slash], &trimmed[slash + 1..]),
        None => ("/", trimmed),
    }
}

/// `arca rm SAFE PATH...`.
#[derive(Args)]
pub struct RmArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Items to move to the trash (folders with everything in them)
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<String>,
}

/// Moves items to the trash; nothing is deleted until the trash is emptied.
pub fn rm(args: RmArgs) -> Result<(), Failure> {
    let safe = args.safe.open()?;
    // Every path is found before anything moves, so a typo in the last changes nothing.
    let items = args
        .paths
        .iter()
        .map(|path| resolve_item(&safe, path).map(|item| (path, item.id)))
        .collect::<Result<Vec<_>, _>>()?;
    for (path, id) in items {
        safe.trash(id)
            .map_err(fail(format!("cannot move {path} to the trash")))?;
    }
    Ok(())
}

/// `arca trash …`.
#[derive(Subcommand)]
pub enum TrashCommand {
    /// List what is in the trash, most recently trashed first
    List(TrashListArgs),
    /// Put items back where they were (or at the root if that folder is gone)
    Restore(RestoreArgs),
    /// Delete everything in the trash for good
    Empty(EmptyArgs),
}

/// `arca trash list SAFE`.
#[derive(Args)]
pub struct TrashListArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// `arca trash restore SAFE ITEM...`.
#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Trashed items, by the path they had (as `arca trash list` shows it) or by id; of
    /// several with one path, the most recently trashed
    #[arg(value_name = "ITEM", required = true)]
    items: Vec<String>,
}

/// `arca trash empty SAFE`.
#[derive(Args)]
pub struct EmptyArgs {
    #[command(flatten)]
    safe: SafeArg,
}

/// Runs one `arca trash` subcommand.
pub fn trash(command: TrashCommand) -> Result<(), Failure> {
    match command {
        TrashCommand::List(args) => trash_list(args),
        TrashCommand::Restore(args) => trash_restore(args),
        TrashCommand::Empty(args) => trash_empty(args),
    }
}

fn trashed_entries(safe: &Safe) -> Result<Vec<Entry>, Failure> {
    safe.trashed()
        .map_err(fail("cannot list the trash"))?
        .into_iter()
        .map(|item| Entry::new(safe, item))
        .collect()
}

fn trash_list(args: TrashListArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let entries = trashed_entries(&safe)?;
    if args.json {
        return output::print_json(&entries);
    }
    let mut text = String::new();
    for entry in &entries {
        let size = match entry.item.kind {
            Kind::Folder => "-".to_owned(),
            Kind::File => human_size(entry.item.size),
        };
        let slash = if entry.item.kind == Kind::Folder {
            "/"
        } else {
            ""
        };
        text.push_str(&format!(
            "{size:>10}  trashed {}  {}{slash}  ({})\n",
            time_or_dash(entry.item.trashed_at),
            escape_for_display(&entry.path),
            entry.item.id
        ));
    }
    output::write_stdout(text.as_bytes())
}

fn trash_restore(args: RestoreArgs) -> Result<(), Failure> {
    let safe = args.safe.open()?;
    let entries = trashed_entries(&safe)?;
    let mut chosen = Vec::new();
    for wanted in &args.items {
        let trimmed = wanted.trim_end_matches('/');
        let found = entries
            .iter()
            .find(|entry| entry.item.id.to_string() == wanted.to_ascii_lowercase())
            .or_else(|| entries.iter().find(|entry| entry.path == trimmed));
        match found {
            Some(entry) => chosen.push((wanted, entry.item.id)),
            None => {
                return Err(Failure::new(
                    crate::exit::Exit::NotFound,
                    anyhow::anyhow!("{wanted:?} is not in the trash; nothing was restored"),
                    "name it by the path or id that `arca trash list SAFE` shows",
                ));
            }
        }
    }
    let mut text = String::new();
    for (wanted, id) in chosen {
        let path = safe
            .restore_from_trash(id)
            .map_err(fail(format!("cannot restore {wanted:?}")))?;
        text.push_str(&format!("restored {}\n", escape_for_display(&path)));
    }
    output::summary(&text)
}

fn trash_empty(args: EmptyArgs) -> Result<(), Failure> {
    let safe = args.safe.open()?;
    let deleted = safe.empty_trash().map_err(fail("cannot empty the trash"))?;
    output::summary(&format!("deleted {deleted} item(s) for good\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_and_names() {
        assert_eq!(split_parent("/a/b/c"), ("/a/b", "c"));
        assert_eq!(split_parent("/c"), ("", "c"));
        assert_eq!(split_parent("c"), ("/", "c"));
        assert_eq!(split_parent("/a/b/"), ("/a", "b"));
    }
}
