//! `arca search`: names, comments and tags, through the Safe's full-text index.

use arca_safe::SearchQuery;
use clap::Args;

use crate::exit::Failure;
use crate::safe_cmd::output::{self, Entry};
use crate::safe_cmd::{SafeArg, fail};

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

    /// Print JSON (every attribute, with path and tags) instead of paths
    #[arg(long)]
    json: bool,
}

/// Prints the paths of the matching items.
pub fn search(args: SearchArgs) -> Result<(), Failure> {
    let safe = args.safe.open()?;
    let query = SearchQuery {
        text: args.query.clone(),
        tag: args.tag.clone(),
        favorites: args.favorites,
        trash: args.trash,
        limit: None,
    };
    let found = safe
        .search(&query)
        .map_err(fail(format!("cannot search for {:?}", args.query)))?;
    if args.json {
        let entries = found
            .into_iter()
            .map(|item| Entry::new(&safe, item))
            .collect::<Result<Vec<_>, _>>()?;
        return output::print_json(&entries);
    }
    let mut text = String::new();
    for item in found {
        let path = safe
            .path_of(item.id)
            .map_err(fail(format!("cannot find the path of item {}", item.id)))?;
        text.push_str(&Entry::bare(path.clone(), item).line(&path));
    }
    output::write_stdout(text.as_bytes())
}
