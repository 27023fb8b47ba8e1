//! `tasks`: the account's asynchronous tasks (Suno, Midjourney, Luma, Kling, ...), with filters.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches};
use serde_json::Value;

use crate::api::money;
use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::output::dates::{self, timestamp_cell};
use crate::output::{Cell, Column, Outcome, Output, Table, Tone};

/// The platforms the server knows, in the spelling it expects (lower case).
const PLATFORMS: [&str; 12] = [
    "suno",
    "mj",
    "luma",
    "replicate",
    "kling",
    "runwayml",
    "runway",
    "jimeng",
    "volcengine",
    "sora",
    "bria",
    "flux",
];

/// The task statuses, in the spelling the server expects (upper case).
const STATUSES: [&str; 6] = [
    "SUBMITTED",
    "QUEUED",
    "IN_PROGRESS",
    "FAILURE",
    "SUCCESS",
    "UNKNOWN",
];

fn args(cmd: clap::Command) -> clap::Command {
    let text = |name: &'static str, long: &'static str, value: &'static str, help: String| {
        Arg::new(name).long(long).value_name(value).help(help)
    };
    // Fixed choices are declared to clap so help, completion scripts and the REPL offer them.
    let choice = |name: &'static str, value: &'static str, valid: &'static [&'static str]| {
        text(name, name, value, format!("Only this {name}"))
            .value_parser(PossibleValuesParser::new(valid))
            .ignore_case(true)
    };
    cmd.arg(choice("platform", "NAME", &PLATFORMS))
        .arg(choice("status", "STATUS", &STATUSES))
        .arg(text("task_id", "task-id", "ID", "Only this task".into()))
        .arg(text(
            "action",
            "action",
            "ACTION",
            "Only this action (MUSIC, IMAGINE, text2video, ...)".into(),
        ))
        .arg(text(
            "start",
            "start",
            "DATE",
            "Submitted at or after DATE (YYYY-MM-DD, ISO 8601 or Unix seconds; UTC)".into(),
        ))
        .arg(text(
            "end",
            "end",
            "DATE",
            "Submitted at or before DATE (a bare YYYY-MM-DD means the end of that day)".into(),
        ))
        .args(web_console::page_args())
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let query = query(m)?;
    let (tasks, total) = web_console::page(web_console::get(ctx, "task/self", &query)?);
    Ok(Output::Table(table(&tasks).listed(total, web_console::page_of(m))).into())
}

/// The `/api/task/self` query: paging plus the filters that were given, checked first.
fn query(m: &ArgMatches) -> Result<Vec<(&'static str, Option<String>)>> {
    let [page, page_size] = web_console::page_query(m);
    let (start, end) = dates::range(m)?;
    Ok(vec![
        page,
        page_size,
        ("platform", one_of(m, "platform", &PLATFORMS)?),
        ("task_id", text(m, "task_id")),
        ("status", one_of(m, "status", &STATUSES)?),
        ("action", text(m, "action")),
        ("start_timestamp", start.map(|t| t.to_string())),
        ("end_timestamp", end.map(|t| t.to_string())),
    ])
}

/// A value from a fixed list, matched case-insensitively and returned in the list's spelling.
fn one_of(m: &ArgMatches, name: &str, valid: &[&str]) -> Result<Option<String>> {
    let Some(given) = m.get_one::<String>(name) else {
        return Ok(None);
    };
    valid
        .iter()
        .find(|v| v.eq_ignore_ascii_case(given.trim()))
        .map(|v| Some(v.to_string()))
        .ok_or_else(|| {
            CliError::usage(format!(
                "unknown --{name} `{given}`; use one of: {}",
                valid.join(", ")
            ))
        })
}

fn text(m: &ArgMatches, name: &str) -> Option<String> {
    m.get_one::<String>(name)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn table(tasks: &[Value]) -> Table {
    let mut table = Table::new(
        vec![
            Column::new("time", "Time"),
            Column::new("platform", "Platform").droppable(4),
            Column::new("task_id", "Task ID"),
            Column::new("action", "Action").droppable(3),
            Column::new("status", "Status"),
            Column::new("model", "Model").droppable(5),
            Column::new("progress", "Progress").droppable(2),
            Column::new("cost_usd", "Cost").droppable(6),
            Column::new("duration_secs", "Duration (s)").droppable(1),
            Column::new("submit_time", "Submitted").structured_only(),
            Column::new("finish_time", "Finished").structured_only(),
            Column::new("fail_reason", "Fail reason").structured_only(),
        ],
        "No tasks found.",
    );
    for task in tasks {
        table.push(row(task));
    }
    table
}

fn row(task: &Value) -> Vec<Cell> {
    let submit = web_console::int_field(task, "submit_time");
    let finish = web_console::int_field(task, "finish_time");
    let created = web_console::int_field(task, "created_at");
    vec![
        timestamp_cell(if created > 0 { created } else { submit }),
        Cell::new(web_console::field(task, "platform")),
        Cell::new(web_console::field(task, "task_id")),
        Cell::new(web_console::field(task, "action")),
        status_cell(task.get("status").and_then(Value::as_str)),
        Cell::new(web_console::field(task, "model_name")),
        Cell::new(web_console::field(task, "progress")),
        money::quota_cell(task.get("quota")),
        duration_cell(submit, finish),
        timestamp_cell(submit),
        timestamp_cell(finish),
        Cell::new(fail_reason(task)),
    ]
}

fn status_cell(status: Option<&str>) -> Cell {
    let tone = match status {
        Some("SUCCESS") => Tone::Good,
        Some("FAILURE") => Tone::Bad,
        Some("SUBMITTED" | "QUEUED" | "IN_PROGRESS") => Tone::Warn,
        _ => Tone::Plain,
    };
    Cell::new(status.map_or(Value::Null, Value::from)).tone(tone)
}

/// Whole seconds from submission to finish, the one unit of every Duration column (its
/// header says `(s)`); missing while the task has not finished (the console sends 0).
fn duration_cell(submit: i64, finish: i64) -> Cell {
    if submit <= 0 || finish < submit {
        return Cell::new(Value::Null);
    }
    Cell::new(finish - submit)
}

/// Only failed tasks have a reason; the console sends `""` for the others.
fn fail_reason(task: &Value) -> Value {
    match web_console::field(task, "fail_reason") {
        Value::String(s) if s.is_empty() => Value::Null,
        reason => reason,
    }
}

inventory::submit! {
    CommandSpec::new("tasks", "List async task logs (Suno, Midjourney, Luma, Kling, ...)", run)
        .needs(Credential::AccessToken)
        .with_args(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unfinished_tasks_have_no_duration() {
        let cell = duration_cell(1_000, 0);
        assert_eq!((cell.text.as_str(), &cell.value), ("-", &Value::Null));
        assert_eq!(duration_cell(0, 1_000).value, Value::Null);
        assert_eq!(duration_cell(1_000, 1_045).value, json!(45));
        assert_eq!(duration_cell(1_000, 1_095).text, "95");
    }

    #[test]
    fn odd_records_do_not_panic() {
        for odd in [json!(null), json!([1]), json!({"status": 3, "quota": "x"})] {
            let cells = row(&odd);
            assert_eq!(cells[0].text, "-");
            assert_eq!(cells[4].tone, Tone::Plain);
            assert_eq!(cells[8].text, "-");
        }
    }
}
