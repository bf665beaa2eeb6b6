//! Labels on items: `arca tag`, `arca fav` and `arca comment`.

use clap::{Args, Subcommand};

use crate::exit::Failure;
use crate::safe_cmd::output;
use crate::safe_cmd::{SafeArg, fail, resolve_item};

/// `arca tag …`.
#[derive(Subcommand)]
pub enum TagCommand {
    /// Add tags to an item
    Add(TagEditArgs),
    /// Remove tags from an item (a tag no item carries any more is gone)
    Rm(TagEditArgs),
    /// List an item's tags, or every tag with its item count
    List(TagListArgs),
    /// Rename a tag on every item (renaming it to an existing tag merges the two)
    Rename(TagRenameArgs),
    /// Remove a tag from every item
    Delete(TagDeleteArgs),
}

/// `arca tag rename SAFE OLD NEW`.
#[derive(Args)]
pub struct TagRenameArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The tag as it is
    #[arg(value_name = "OLD")]
    from: String,

    /// Its new name
    #[arg(value_name = "NEW")]
    to: String,
}

/// `arca tag delete SAFE TAG`.
#[derive(Args)]
pub struct TagDeleteArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The tag
    #[arg(value_name = "TAG")]
    tag: String,
}

/// `arca tag add|rm SAFE PATH TAG...`.
#[derive(Args)]
pub struct TagEditArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The item, from the Safe's root
    #[arg(value_name = "PATH")]
    path: String,

    /// The tags (leading and trailing spaces are dropped)
    #[arg(value_name = "TAG", required = true)]
    tags: Vec<String>,
}

/// `arca tag list SAFE [PATH]`.
#[derive(Args)]
pub struct TagListArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The item whose tags to list; every tag in the Safe if left out
    #[arg(value_name = "PATH")]
    path: Option<String>,

    /// Print JSON instead of text
    #[arg(long)]
    json: bool,
}

/// Runs one `arca tag` subcommand.
pub fn tag(command: TagCommand) -> Result<(), Failure> {
    match command {
        TagCommand::Add(args) => edit(args, true),
        TagCommand::Rm(args) => edit(args, false),
        TagCommand::List(args) => list(args),
        TagCommand::Rename(args) => {
            let safe = args.safe.open()?;
            safe.rename_tag(&args.from, &args.to).map_err(fail(format!(
                "cannot rename the tag {:?} to {:?}",
                args.from, args.to
            )))
        }
        TagCommand::Delete(args) => {
            let safe = args.safe.open()?;
            safe.delete_tag(&args.tag)
                .map_err(fail(format!("cannot delete the tag {:?}", args.tag)))
        }
    }
}

fn edit(args: TagEditArgs, add: bool) -> Result<(), Failure> {
    // Checked before any tag changes, so a bad one in the list changes nothing.
    if args.tags.iter().any(|tag| tag.trim().is_empty()) {
        return Err(Failure::usage(
            "a tag cannot be empty; nothing was changed",
            "give each tag as a non-empty word, e.g. `arca tag add SAFE /a.jpg holiday`",
        ));
    }
    let safe = args.safe.open()?;
    let item = resolve_item(&safe, &args.path)?;
    for tag in &args.tags {
        if add {
            safe.add_tag(item.id, tag)
                .map_err(fail(format!("cannot tag {} with {tag:?}", args.path)))?;
        } else {
            safe.remove_tag(item.id, tag).map_err(fail(format!(
                "cannot remove the tag {tag:?} from {}",
                args.path
            )))?;
        }
    }
    Ok(())
}

fn list(args: TagListArgs) -> Result<(), Failure> {
    let safe = args.safe.open_reading()?;
    let Some(path) = &args.path else {
        let tags = safe.all_tags().map_err(fail("cannot list the tags"))?;
        if args.json {
            return output::print_json(&tags);
        }
        let text: String = tags
            .iter()
            .map(|tag| {
                format!(
                    "{}\t{}\n",
                    arca_safe::escape_for_display(&tag.name),
                    tag.items
                )
            })
            .collect();
        return output::write_stdout(text.as_bytes());
    };
    let item = resolve_item(&safe, path)?;
    let tags = safe
        .tags_of(item.id)
        .map_err(fail(format!("cannot list the tags of {path}")))?;
    if args.json {
        return output::print_json(&tags);
    }
    let text: String = tags.iter().map(|tag| format!("{tag}\n")).collect();
    output::write_stdout(text.as_bytes())
}

/// `arca fav on|off SAFE PATH`.
#[derive(Subcommand)]
pub enum FavCommand {
    /// Mark an item as favorite
    On(ItemArgs),
    /// Unmark it
    Off(ItemArgs),
}

/// A Safe and one item in it.
#[derive(Args)]
pub struct ItemArgs {
    #[command(flatten)]
    safe: SafeArg,

    /// The item, from the Safe's root
    #[arg(value_name = "PATH")]
    path: String,
}

/// Runs one `arca fav` subcommand.
pub fn fav(command: FavCommand) -> Result<(), Failure> {
    let (args, favorite) = match command {
        FavCommand::On(args) => (args, true),
        FavCommand::Off(args) => (args, false),
    };
    let safe = args.safe.open()?;
    let item = resolve_item(&safe, &args.path)?;
    safe.set_favorite(item.id, favorite).map_err(fail(format!(
        "cannot change the favorite mark of {}",
        args.path
    )))
}

/// `arca comment set|clear SAFE PATH`.
#[derive(Subcommand)]
pub enum CommentCommand {
    /// Set an item's comment (searchable)
    Set(CommentSetArgs),
    /// Remove an item's comment
    Clear(ItemArgs),
}

/// `arca comment set SAFE PATH TEXT`.
#[derive(Args)]
pub struct CommentSetArgs {
    #[command(flatten)]
    item: ItemArgs,

    /// The comment
    #[arg(value_name = "TEXT")]
    text: String,
}

/// Runs one `arca comment` subcommand.
pub fn comment(command: CommentCommand) -> Result<(), Failure> {
    let (args, text) = match command {
        CommentCommand::Set(args) => (args.item, args.text),
        CommentCommand::Clear(args) => (args, String::new()),
    };
    let safe = args.safe.open()?;
    let item = resolve_item(&safe, &args.path)?;
    safe.set_comment(item.id, &text)
        .map_err(fail(format!("cannot set the comment of {}", args.path)))
}
