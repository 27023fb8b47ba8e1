//! What the job commands (`video`, `midjourney`, `music`) share: their common options,
//! the wait limit, and the output of a submitted, fetched or finished job.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{json, Value};

use crate::api::jobs::results::{self, Saved};
use crate::api::jobs::{resume_command, Provider, Snapshot, State};
use crate::cli::context::Context;
use crate::error::{CliError, ExitCode, Result};
use crate::output::{Cell, Column, Outcome, Output, Record, Table};
use crate::term::sanitize;

/// `--out-dir DIR`.
pub fn out_dir_arg() -> Arg {
    Arg::new("out_dir")
        .long("out-dir")
        .value_name("DIR")
        .value_parser(directory_or_new)
        .help("Save the results here (created if missing; default: the current directory)")
}

/// A directory, or a path where one can be made: checked by the parser, so a file in
/// the way is exit 2 before anything is submitted (not after the job was paid for).
fn directory_or_new(text: &str) -> std::result::Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match std::fs::metadata(&path) {
        Ok(meta) if !meta.is_dir() => Err(format!("{text} exists and is not a directory")),
        _ => Ok(path),
    }
}

/// `--no-wait`.
pub fn no_wait_arg() -> Arg {
    Arg::new("no_wait")
        .long("no-wait")
        .action(ArgAction::SetTrue)
        .help("Print the job id and return at once; `wait ID` picks it up later")
}

/// `ID...`, the jobs a `wait` takes (`several`) or the one a `status` takes.
pub fn ids_arg(several: bool) -> Arg {
    let arg = Arg::new("id")
        .value_name("ID")
        .required(true)
        .value_parser(crate::cli::front::non_blank);
    if several {
        arg.num_args(1..)
            .help("Job ids (several are polled together)")
    } else {
        arg.help("Job id")
    }
}

/// The ids given to [`ids_arg`].
pub fn ids(m: &ArgMatches) -> Vec<String> {
    m.get_many::<String>("id")
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

/// `out_dir`, or the current directory.
pub fn out_dir(m: &ArgMatches) -> PathBuf {
    m.get_one::<PathBuf>("out_dir")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// What `--no-wait` prints: the id and how to wait for it.
pub fn submitted(provider: &dyn Provider, id: &str) -> Outcome {
    let wait = resume_command(provider, &[id.to_string()]);
    Output::Record(
        Record::new()
            .field("id", "Job", id)
            .field("provider", "Provider", provider.name())
            .field("wait", "Wait with", wait),
    )
    .into()
}

/// One job as last fetched (`status`, `fetch`): the server's reply under `--json`.
pub fn status_record(snapshot: &Snapshot, extra: Vec<(&str, &str, Cell)>) -> Outcome {
    let mut record = Record::new()
        .field("id", "Job", snapshot.id.as_str())
        .field("status", "Status", snapshot.status.as_str())
        .field("progress", "Progress", progress_cell(snapshot.progress));
    if let State::Failed(why) | State::NeedsAction(why) = &snapshot.state {
        record = record.field("reason", "Reason", why.as_str());
    }
    record = record.field("results", "Results", json!(snapshot.results));
    for (key, label, cell) in extra {
        record = record.field(key, label, cell);
    }
    Output::Record(record.with_raw(snapshot.raw.clone())).into()
}

fn progress_cell(progress: Option<u8>) -> Cell {
    match progress {
        Some(p) => Cell::with_text(p, format!("{p}%")),
        None => Cell::new(Value::Null),
    }
}

/// A column a command adds to the list of saved files (Midjourney's buttons).
pub struct ExtraColumn {
    pub key: &'static str,
    pub header: &'static str,
    pub cell: fn(&Snapshot) -> Cell,
}

/// Where a finished wait saves its results and what it calls them.
pub struct Destination<'a> {
    pub dir: PathBuf,
    /// Names the files when the server does not repeat the job's prompt.
    pub prompt: Option<&'a str>,
    /// Names the files when there is no prompt at all (`video`).
    pub fallback: &'static str,
}

/// The end of a wait: every succeeded job's results saved, listed one row per file. A
/// job that failed or needs an action is exit 1 with the server's reason; when others
/// succeeded their files are still saved and listed.
pub fn finish(
    ctx: &Context,
    jobs: &[Snapshot],
    to: &Destination,
    extra: &[ExtraColumn],
) -> Result<Outcome> {
    let (done, ended_badly): (Vec<Snapshot>, Vec<Snapshot>) = jobs
        .iter()
        .cloned()
        .partition(|job| job.state == State::Succeeded);
    let problems: Vec<String> = ended_badly.iter().map(problem).collect();
    if done.is_empty() {
        return Err(CliError::failure(problems.join("; ")));
    }
    let saved = results::save_all(ctx, &done, &to.dir, to.prompt, to.fallback)?;
    let output = files_table(&done, &saved, extra);
    if problems.is_empty() {
        return Ok(output.into());
    }
    for problem in &problems {
        eprintln!("error: {}", sanitize::for_stderr(problem));
    }
    Ok(Outcome::with_exit(output, ExitCode::Failure))
}

fn problem(job: &Snapshot) -> String {
    match &job.state {
        State::Failed(why) => format!("job {} failed: {why}", job.id),
        State::NeedsAction(what) => format!("job {} needs an action: {what}", job.id),
        _ => format!("job {} ended as {}", job.id, job.status),
    }
}

/// One row per saved file; `--json` adds each job's whole reply.
fn files_table(jobs: &[Snapshot], saved: &[Saved], extra: &[ExtraColumn]) -> Output {
    let mut columns = vec![
        Column::new("job", "Job"),
        Column::new("path", "File"),
        Column::new("bytes", "Bytes"),
    ];
    columns.extend(extra.iter().map(|c| Column::new(c.key, c.header)));
    columns.push(Column::new("url", "URL").structured_only());
    columns.push(Column::new("result", "Result").structured_only());
    let mut table = Table::new(columns, "The jobs finished without results.");
    for file in saved {
        let job = jobs.iter().find(|job| job.id == file.job);
        let mut row = vec![
            Cell::new(file.job.as_str()),
            Cell::new(shown_path(&file.path)),
            Cell::count(json!(file.bytes)),
        ];
        row.extend(
            extra
                .iter()
                .map(|c| job.map_or(Cell::new(Value::Null), c.cell)),
        );
        row.push(Cell::new(file.url.as_str()));
        row.push(Cell::new(job.map_or(Value::Null, |job| job.raw.clone())));
        table.push(row);
    }
    Output::Table(table)
}

/// A saved file as shown: `clip.mp4` rather than `./clip.mp4`.
fn shown_path(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}
