//! `conversations` (alias `conv`): the local conversation log that `chat` and `run`
//! write. `list` (newest first; `--model`, `--since`, `--search` over prompts and
//! replies), `show ID` (the transcript), `rm ID...` (asks on a terminal, `--yes`),
//! `export [ID...]` (JSON Lines, streamed) and `import FILE` (the chat REPL's `/save`
//! JSON, or export's lines).

mod transfer;

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
use crate::term::streams::Streams;

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

/// What `conversations list` was asked for.
#[derive(Debug, PartialEq)]
struct ListOptions {
    model: Option<String>,
    /// As typed; parsed (`--since` errors) when the list is made.
    since: Option<String>,
    search: Option<String>,
    limit: usize,
}

/// What `conversations` was asked to do, read once from its arguments.
#[derive(Debug, PartialEq)]
enum Action {
    List(ListOptions),
    Show {
        id: String,
    },
    Rm {
        ids: Vec<String>,
        yes: bool,
    },
    /// No ids: every conversation.
    Export {
        ids: Vec<String>,
    },
    Import {
        file: String,
    },
}

impl Action {
    fn from_matches(m: &ArgMatches) -> Result<Action> {
        let one = |m: &ArgMatches, id: &str| m.get_one::<String>(id).cloned();
        let many = |m: &ArgMatches| -> Vec<String> {
            m.get_many::<String>("id")
                .into_iter()
                .flatten()
                .cloned()
                .collect()
        };
        Ok(match m.subcommand() {
            Some(("show", m)) => Action::Show {
                id: one(m, "id").unwrap_or_default(),
            },
            Some(("rm", m)) => Action::Rm {
                ids: many(m),
                yes: m.get_flag("yes"),
            },
            Some(("export", m)) => Action::Export { ids: many(m) },
            Some(("import", m)) => Action::Import {
                file: one(m, "file").unwrap_or_else(|| "-".into()),
            },
            Some(("list", m)) => Action::List(ListOptions {
                model: one(m, "model"),
                since: one(m, "since"),
                search: one(m, "search"),
                limit: m.get_one::<u32>("limit").map_or(20, |n| *n as usize),
            }),
            _ => {
                return Err(CliError::usage(
                    "name a subcommand: list, show, rm, export or import",
                ))
            }
        })
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let output = match Action::from_matches(m)? {
        Action::Show { id } => show(&id)?,
        Action::Rm { ids, yes } => rm(ctx.streams(), &ids, yes)?,
        Action::Export { ids } => transfer::export(&ids)?,
        Action::Import { file } => transfer::import(&file)?,
        Action::List(options) => list(&options)?,
    };
    Ok(output.into())
}

fn list(options: &ListOptions) -> Result<Output> {
    let since_ms = options
        .since
        .as_deref()
        .map(|since| dates::parse(since, DayEdge::Start, "--since"))
        .transpose()?
        .map(|secs| secs.saturating_mul(1000));
    let filter = Filter {
        model: options.model.clone(),
        since_ms,
        search: options.search.clone(),
        limit: options.limit,
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

fn show(typed: &str) -> Result<Output> {
    let store = chatlog::open()?;
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

fn rm(streams: &Streams, typed: &[String], yes: bool) -> Result<Output> {
    let mut store = chatlog::open()?;
    let ids = typed
        .iter()
        .map(|typed| chatlog::resolve(&store, typed))
        .collect::<Result<Vec<_>>>()?;
    if !confirmed(streams, &ids, yes)? {
        return Ok(Output::Text("nothing deleted".into()));
    }
    let deleted = store.delete(&ids).map_err(|e| chatlog::failed(&e))?;
    Ok(Output::Text(format!("deleted {deleted} conversation(s)")))
}

/// Whether to delete `ids`: `--yes`, or a yes typed at the terminal; without a terminal
/// on stdin there is no one to ask, so refused.
fn confirmed(streams: &Streams, ids: &[String], yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    if !streams.stdin_is_terminal() {
        return Err(CliError::usage("rm deletes without asking only with --yes")
            .with_hint("add --yes to delete from a script"));
    }
    let question = format!(
        "delete {} conversation(s) ({})? [y/N] ",
        ids.len(),
        ids.join(", ")
    );
    let answer = line_input::read_line(&question, false)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

inventory::submit! {
    CommandSpec::new("conversations", "List, show, delete, export and import logged conversations (alias conv)", run)
        .with_args(args)
        .hidden_aliases(&["conv"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rm_without_yes_is_refused_when_stdin_is_not_a_terminal() {
        let (streams, captured) = Streams::test();
        let ids = ["c1".to_string()];
        let err = confirmed(&streams, &ids, false).expect_err("no one to ask");
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "rm deletes without asking only with --yes");
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("--yes"), "{hint}");
        assert_eq!(captured.stdout() + &captured.stderr(), "", "nothing asked");
    }

    #[test]
    fn rm_with_yes_deletes_without_asking_on_any_stdin() {
        let (streams, captured) = Streams::test();
        assert!(confirmed(&streams, &[], true).expect("confirmed"));
        let all = crate::term::streams::Terminals {
            stdin: true,
            stdout: true,
            stderr: true,
        };
        let streams = streams.with_terminals(all, 80);
        assert!(confirmed(&streams, &["c1".into()], true).expect("confirmed"));
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }

    fn action(argv: &[&str]) -> Result<Action, String> {
        let m = crate::cli::registry::test_matches(args, argv).map_err(|e| e.to_string())?;
        Action::from_matches(&m).map_err(|e| e.message)
    }

    #[test]
    fn each_subcommand_is_read_into_its_action() {
        let strings = |all: &[&str]| -> Vec<String> { all.iter().map(|s| s.to_string()).collect() };
        assert_eq!(
            action(&["list"]),
            Ok(Action::List(ListOptions {
                model: None,
                since: None,
                search: None,
                limit: 20,
            }))
        );
        assert_eq!(
            action(&[
                "list",
                "-m",
                "m1",
                "--since",
                "2024-01-02",
                "--search",
                "a b",
                "-l",
                "3"
            ]),
            Ok(Action::List(ListOptions {
                model: Some("m1".into()),
                since: Some("2024-01-02".into()),
                search: Some("a b".into()),
                limit: 3,
            }))
        );
        assert_eq!(
            action(&["show", "ab"]),
            Ok(Action::Show { id: "ab".into() })
        );
        assert_eq!(
            action(&["rm", "a", "b", "--yes"]),
            Ok(Action::Rm {
                ids: strings(&["a", "b"]),
                yes: true
            })
        );
        assert_eq!(action(&["export"]), Ok(Action::Export { ids: Vec::new() }));
        assert_eq!(
            action(&["export", "a"]),
            Ok(Action::Export {
                ids: strings(&["a"])
            })
        );
        assert_eq!(
            action(&["import", "-"]),
            Ok(Action::Import { file: "-".into() })
        );
    }

    #[test]
    fn bad_arguments_are_rejected() {
        for argv in [
            &[][..],
            &["list", "-l", "0"],
            &["show"],
            &["rm"],
            &["import"],
            &["drop", "a"],
        ] {
            assert!(action(argv).is_err(), "{argv:?}");
        }
    }
}
