//! `arca search`: names, comments and tags, through the Safe's full-text index.

use arca_safe::SearchQuery;
use clap::Args;

use crate::exit::Failure;
use crate::safe_cmd::output::{self, Entry};
use crate::safe_cmd::{SafeArg, fail, resolve_folder};

/// `arca search SAFE [QUERY]`.
#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// Words to find: each must start a word of the name, the comment or a tag (case and
    /// accents do not matter). Left out, everything the filters allow
    #[arg(value_name = "QUERY", default_value = "")]
    query: String,

    /// Only items with this tag
    #[arg(long, value_name = "T")]
    tag: Option<String>,

    /// Only favorites
    #[arg(long)]
    favorites: bool,

    /// Search the trash instead of the live items
    #[arg(long)]
    trash: bool,

    /// Only inside this folder (at any depth)
    #[arg(long, value_name = "PATH")]
    r#in: Option<String>,

    /// At most this many results
    #[arg(long, value_name = "N")]
    limit: Option<u64>,

    /// Skip this many results first (the next page)
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: u64,

    /// Print JSON (every attribute, with path and tags) instead of paths
    #[arg(long)]
    json: bool,
}

/// Prints the paths of the matching items.
pub fn search(args: SearchArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let folder = match &args.r#in {
        Some(path) => resolve_folder(&safe, path)?,
        None => None,
    };
    let query = SearchQuery {
        text: args.query.clone(),
        folder,
        tag: args.tag.clone(),
        favorites: args.favorites,
        trash: args.trash,
        offset: args.offset,
        limit: args.limit,
    };
    let (hits, _) = safe
        .search(&query)
        .map_err(fail(format!("cannot search for {:?}", args.query)))?;
    let entries: Vec<Entry> = hits
        .into_iter()
        .map(|hit| {
            let path = match hit.folder_path.as_str() {
                "/" => format!("/{}", hit.row.item.name),
                folder => format!("{folder}/{}", hit.row.item.name),
            };
            Entry {
                path,
                item: hit.row.item,
                tags: hit.row.tags,
            }
        })
        .collect();
    if args.json {
        return output::print_json(&entries);
    }
    let mut text = String::new();
    for entry in entries {
        let path = entry.path.clone();
        text.push_str(&Entry::bare(path.clone(), entry.item).line(&path));
    }
    output::write_stdout(text.as_bytes())
}
