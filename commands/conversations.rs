//! `conversations` (alias `conv`): the local conversation log that `chat` and `run`
//! write. `list` (newest first; `--model`, `--since`, `--search` over prompts and
//! replies), `show ID` (the transcript), `rm ID...` (asks on a terminal, `--yes`),
//! `export [ID...]` (JSON Lines, streamed) and `import FILE` (the chat REPL's `/save`
//! JSON, or export's lines).

mod transfer;

use std::io::{self, IsTerminal};

use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::Value;

use crate::api::money;
use crate::cli::context::Context;
use crate::cli::registry::CommandSpec;
use crate::error::{CliError, Result};
use crate::output::dates::{self, DayEdge};
use crate::output::{Cell, Column, Outcome, Output, Table};
use crate::store::chatlog::{self, Filter, Stored};
use crate::term::line_input;

fn id_arg(many: bool) -> Arg {
    let arg = Arg::new("id").value_name("ID").required(true);
    if many {
        arg.num_args(1..)
            .help("Conversation ids (or unique starts of them)")
    } else {
        arg.help("Conversation id (or a unique start of it)")
    }
}

fn args(cmd: clap::Command) -> clap::Command {
    cmd.subcommand_required(true)
        .subcommand(
            clap::Command::new("list")
                .about("List logged conversations, newest first")
                .arg(Arg::new("model").short('m').long("model").value_name("MODEL").help("Only conversations with this model"))
                .arg(Arg::new("since").long("since").value_name("DATE").help("Only conversations active since DATE (YYYY-MM-DD, ISO 8601 or Unix seconds)"))
                .arg(Arg::new("search").long("search").value_name("TEXT").help("Only conversations whose prompts or replies contain every word of TEXT"))
                .arg(
                    Arg::new("limit")
                        .short('l')
                        .long("limit")
                        .value_name("N")
                        .value_parser(value_parser!(u32).range(1..))
                        .default_value("20")
                        .help("Show at most N"),
                ),
        )
        .subcommand(clap::Command::new("show").about("Show a conversation's transcript").arg(id_arg(false)))
        .subcommand(
            clap::Command::new("rm")
                .about("Delete conversations (asks first on a terminal)")
                .arg(id_arg(true))
                .arg(Arg::new("yes").long("yes").action(ArgAction::SetTrue).help("Delete without asking")),
        )
        .subcommand(
            clap::Command::new("export")
                .about("Write conversations as JSON Lines, one per line (all when no ID is given)")
                .arg(Arg::new("id").value_name("ID").num_args(0..).help("Conversation ids (or unique starts of them)")),
        )
        .subcommand(
            clap::Command::new("import")
                .about("Add conversations from a chat /save JSON file or export's JSON Lines (- reads stdin)")
                .arg(Arg::new("file").value_name("FILE").required(true)),
        )
}

fn run(_: &Context, m: &ArgMatches) -> Result<Outcome> {
    let output = match m.subcommand() {
        Some(("show", m)) => show(m)?,
        Some(("rm", m)) => rm(m)?,
        Some(("export", m)) => transfer::export(m)?,
        Some(("import", m)) => transfer::import(m)?,
        Some(("list", m)) => list(m)?,
        _ => {
            return Err(CliError::usage(
                "name a subcommand: list, show, rm, export or import",
            ))
        }
    };
    Ok(output.into())
}

fn list(m: &ArgMatches) -> Result<Output> {
    let since_ms = m
        .get_one::<String>("since")
        .map(|since| dates::parse(since, DayEdge::Start, "--since"))
        .transpose()?
        .map(|secs| secs.saturating_mul(1000));
    let filter = Filter {
        model: m.get_one::<String>("model").cloned(),
        since_ms,
        search: m.get_one::<String>("search").cloned(),
        limit: m.get_one::<u32>("limit").map_or(20, |n| *n as usize),
    };
    let store = chatlog::open()?;
    let found = store.list(&filter).map_err(|e| chatlog::failed(&e))?;
    let mut table = Table::new(
        vec![
            Column::new("id", "ID"),
            Column::new("updated", "When"),
            Column::new("model", "Model").droppable(2),
            Column::new("turns", "Turns").droppable(3),
            Column::new("cost_usd", "Cost").droppable(1),
            Column::new("first_line", "First line").truncates(),
        ],
        "No conversations found.",
    );
    for c in found {
        table.push(vec![
            Cell::new(c.id),
            dates::timestamp_cell(c.updated_ms / 1000),
            Cell::new(c.model),
            Cell::count(c.turns.into()),
            c.cost_usd
                .map_or_else(|| Cell::new(Value::Null), money::usd_cell),
            Cell::new(c.first_prompt.lines().next().unwrap_or("").to_string()),
        ]);
    }
    Ok(Output::Table(table))
}

fn show(m: &ArgMatches) -> Result<Output> {
    let store = chatlog::open()?;
    let typed = m.get_one::<String>("id").map_or("", String::as_str);
    let id = chatlog::resolve(&store, typed)?;
    let stored = store
        .load(&id)
        .map_err(|e| chatlog::failed(&e))?
        .ok_or_else(|| CliError::failure(format!("no conversation {id}")))?;
    Ok(Output::Table(transcript(&stored)))
}

/// One row per message: the system prompt, then each prompt and its reply, the reply's
/// row carrying the exchange's status, tokens, cost and timings.
fn transcript(stored: &Stored) -> Table {
    let mut table = Table::new(
        vec![
            Column::new("role", "Role"),
            Column::new("when", "When").droppable(2),
            Column::new("model", "Model").droppable(1),
            Column::new("status", "Status").droppable(3),
            Column::new("content", "Content").wraps(),
            Column::new("prompt_tokens", "Prompt tokens").structured_only(),
            Column::new("completion_tokens", "Completion tokens").structured_only(),
            Column::new("cost_usd", "Cost").structured_only(),
            Column::new("first_token_ms", "First token ms").structured_only(),
            Column::new("total_ms", "Total ms").structured_only(),
        ],
        "No messages.",
    );
    let null = || Cell::new(Value::Null);
    let when = dates::timestamp_cell(stored.created_ms / 1000);
    if let Some(system) = &stored.system {
        let row = vec![
            Cell::new("system"),
            when,
            Cell::new(stored.model.clone()),
            null(),
            Cell::new(system.clone()),
        ];
        table.push(row.into_iter().chain((0..5).map(|_| null())).collect());
    }
    for e in &stored.exchanges {
        let when = dates::timestamp_cell(e.created_ms / 1000);
        let user = [
            Cell::new("user"),
            when.clone(),
            Cell::new(e.model.clone()),
            null(),
            Cell::new(e.prompt.clone()),
        ];
        table.push(user.into_iter().chain((0..5).map(|_| null())).collect());
        table.push(vec![
            Cell::new("assistant"),
            when,
            Cell::new(e.model.clone()),
            Cell::new(e.status.clone()),
            Cell::new(e.reply.clone()),
            Cell::new(e.prompt_tokens),
            Cell::new(e.completion_tokens),
            Cell::new(e.cost_usd),
            Cell::new(e.first_token_ms),
            Cell::new(e.total_ms),
        ]);
    }
    table
}

fn rm(m: &ArgMatches) -> Result<Output> {
    let mut store = chatlog::open()?;
    let ids = m
        .get_many::<String>("id")
        .into_iter()
        .flatten()
        .map(|typed| chatlog::resolve(&store, typed))
        .collect::<Result<Vec<_>>>()?;
    if !m.get_flag("yes") {
        if !io::stdin().is_terminal() {
            return Err(CliError::usage("rm deletes without asking only with --yes")
                .with_hint("add --yes to delete from a script"));
        }
        let question = format!(
            "delete {} conversation(s) ({})? [y/N] ",
            ids.len(),
            ids.join(", ")
        );
        let answer = line_input::read_line(&question, false)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            return Ok(Output::Text("nothing deleted".into()));
        }
    }
    let deleted = store.delete(&ids).map_err(|e| chatlog::failed(&e))?;
    Ok(Output::Text(format!("deleted {deleted} conversation(s)")))
}

inventory::submit! {
    CommandSpec::new("conversations", "List, show, delete, export and import logged conversations (alias conv)", run)
        .with_args(args)
        .hidden_aliases(&["conv"])
}
