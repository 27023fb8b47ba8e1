//! `tasks`: the account's asynchronous tasks (Suno, Midjourney, Luma, Kling, ...), with filters.

use clap::builder::ValueParser;
use clap::{value_parser, Arg, ArgMatches};
use serde_json::Value;

use crate::api::money;
use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::Result;
use crate::output::dates::{self, timestamp_cell};
use crate::output::{Cell, Column, Outcome, Output, Table, Tone};

/// The platforms the server knows, in the spelling it expects (lower case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Platform {
    Suno,
    Mj,
    Luma,
    Replicate,
    Kling,
    Runwayml,
    Runway,
    Jimeng,
    Volcengine,
    Sora,
    Bria,
    Flux,
}

/// The task statuses, in the spelling the server expects (upper case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
enum TaskStatus {
    Submitted,
    Queued,
    InProgress,
    Failure,
    Success,
    Unknown,
}

impl Platform {
    fn as_str(self) -> &'static str {
        match self {
            Platform::Suno => "suno",
            Platform::Mj => "mj",
            Platform::Luma => "luma",
            Platform::Replicate => "replicate",
            Platform::Kling => "kling",
            Platform::Runwayml => "runwayml",
            Platform::Runway => "runway",
            Platform::Jimeng => "jimeng",
            Platform::Volcengine => "volcengine",
            Platform::Sora => "sora",
            Platform::Bria => "bria",
            Platform::Flux => "flux",
        }
    }
}

impl TaskStatus {
    fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Submitted => "SUBMITTED",
            TaskStatus::Queued => "QUEUED",
            TaskStatus::InProgress => "IN_PROGRESS",
            TaskStatus::Failure => "FAILURE",
            TaskStatus::Success => "SUCCESS",
            TaskStatus::Unknown => "UNKNOWN",
        }
    }
}

fn args(cmd: clap::Command) -> clap::Command {
    let text = |name: &'static str, long: &'static str, value: &'static str, help: String| {
        // A blank filter is exit 2, not a filter silently dropped.
        Arg::new(name)
            .long(long)
            .value_name(value)
            .value_parser(front::non_blank)
            .help(help)
    };
    // Fixed choices are declared to clap so help, completion scripts and the REPL offer them.
    let choice = |name: &'static str, value: &'static str, valid: ValueParser| {
        text(name, name, value, format!("Only this {name}"))
            .value_parser(valid)
            .ignore_case(true)
    };
    cmd.arg(choice("platform", "NAME", value_parser!(Platform).into()))
        .arg(choice("status", "STATUS", value_parser!(TaskStatus).into()))
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

/// What `tasks` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    platform: Option<Platform>,
    status: Option<TaskStatus>,
    task_id: Option<String>,
    action: Option<String>,
    /// `--start` and `--end`, in Unix seconds.
    start: Option<i64>,
    end: Option<i64>,
    /// The page's query parameters, and the page and its size for the listing.
    page_query: [(&'static str, Option<String>); 2],
    page: Option<(u32, u32)>,
}

impl Options {
    /// Fails (exit 2) on a bad `--start`/`--end` or a start after the end.
    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let text = |name: &str| {
            m.get_one::<String>(name)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let (start, end) = dates::range(m)?;
        Ok(Options {
            platform: m.get_one::<Platform>("platform").copied(),
            status: m.get_one::<TaskStatus>("status").copied(),
            task_id: text("task_id"),
            action: text("action"),
            start,
            end,
            page_query: web_console::page_query(m),
            page: web_console::page_of(m),
        })
    }

    /// The `/api/task/self` query: paging plus the filters that were given.
    fn query(&self) -> Vec<(&'static str, Option<String>)> {
        let [page, page_size] = self.page_query.clone();
        vec![
            page,
            page_size,
            ("platform", self.platform.map(|p| p.as_str().to_string())),
            ("task_id", self.task_id.clone()),
            ("status", self.status.map(|s| s.as_str().to_string())),
            ("action", self.action.clone()),
            ("start_timestamp", self.start.map(|t| t.to_string())),
            ("end_timestamp", self.end.map(|t| t.to_string())),
        ]
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    list(ctx, &Options::from_matches(m)?)
}

fn list(ctx: &Context, options: &Options) -> Result<Outcome> {
    let reply = web_console::get(ctx, "task/self", &options.query())?;
    let (tasks, total) = web_console::page(reply);
    Ok(Output::Table(table(&tasks).listed(total, options.page)).into())
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
    use clap::error::ErrorKind;
    use clap::ValueEnum;
    use serde_json::json;

    fn parse(argv: &[&str]) -> std::result::Result<Result<Options>, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    fn options(argv: &[&str]) -> Options {
        parse(argv).expect("parses").expect("options")
    }

    #[test]
    fn filters_are_read_and_sent_in_the_servers_spelling() {
        let argv = [
            "--platform",
            "MJ",
            "--status",
            "in_progress",
            "--task-id",
            " t1 ",
            "--action",
            "IMAGINE",
            "--start",
            "1700000000",
            "--end",
            "1700000100",
            "--page",
            "2",
            "-l",
            "50",
        ];
        let expected = Options {
            platform: Some(Platform::Mj),
            status: Some(TaskStatus::InProgress),
            task_id: Some("t1".into()),
            action: Some("IMAGINE".into()),
            start: Some(1_700_000_000),
            end: Some(1_700_000_100),
            page_query: [("p", Some("2".into())), ("page_size", Some("50".into()))],
            page: Some((2, 50)),
        };
        let got = options(&argv);
        assert_eq!(got, expected);
        let query = got.query();
        assert_eq!(query[2], ("platform", Some("mj".to_string())));
        assert_eq!(query[4], ("status", Some("IN_PROGRESS".to_string())));
        let blank = parse(&["--task-id", "  "]).expect_err("a blank filter is refused");
        assert_eq!(blank.kind(), ErrorKind::ValueValidation);
        let plain = options(&[]);
        assert_eq!(
            (plain.platform, plain.status, plain.task_id),
            (None, None, None)
        );
        assert_eq!(plain.page, Some((1, 20)));
    }

    #[test]
    fn bad_choices_and_dates_are_rejected() {
        for argv in [["--platform", "midjourney"], ["--status", "DONE"]] {
            let err = parse(&argv).expect_err("not a choice");
            assert_eq!(err.kind(), ErrorKind::InvalidValue, "{argv:?}");
        }
        let backwards = parse(&["--start", "2026-03-02", "--end", "2026-03-01"]).expect("parses");
        assert_eq!(backwards.expect_err("start after end").exit.code(), 2);
        assert!(parse(&["--start", "soon"]).expect("parses").is_err());
    }

    #[test]
    fn the_wire_spelling_is_the_value_clap_takes() {
        for platform in Platform::value_variants() {
            let value = platform.to_possible_value().expect("listed");
            assert_eq!(value.get_name(), platform.as_str());
        }
        for status in TaskStatus::value_variants() {
            let value = status.to_possible_value().expect("listed");
            assert_eq!(value.get_name(), status.as_str());
        }
    }

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
