//! Waiting for jobs: poll every pending job on the [`Schedule`], show where they are,
//! and stop when all have ended, when the time limit runs out (exit 124) or on Ctrl-C
//! (exit 130). A poll that fails in a way that may pass (a 429, a 5xx, the network) is
//! tried again on the next round; the jobs keep running on the server whatever happens
//! here, so every early stop says how to resume.

use std::time::{Duration, Instant};

use crate::api::jobs::schedule::Schedule;
use crate::api::jobs::{resume_command, Provider, Snapshot};
use crate::cli::context::Context;
use crate::config::timeout;
use crate::error::{CliError, ExitCode, Result};
use crate::term::interrupt;
use crate::term::progress;
use crate::term::sanitize;
use crate::term::streams;

/// How long to wait and how often to poll, read before anything is submitted so that a
/// bad `COMETAPI_POLL_INTERVAL` never leaves a job made and not waited for.
pub struct WaitPlan {
    limit: Duration,
    schedule: Schedule,
}

impl WaitPlan {
    /// `--timeout` as given on the command line (else [`DEFAULT_WAIT`]; the `timeout`
    /// setting and `COMETAPI_TIMEOUT` still limit each request), and the poll schedule.
    pub fn for_command(ctx: &Context) -> Result<WaitPlan> {
        let limit = match &ctx.globals.timeout {
            Some(text) => timeout::parse(text).map_err(CliError::usage)?,
            None => DEFAULT_WAIT,
        };
        Ok(WaitPlan {
            limit,
            schedule: Schedule::from_env()?,
        })
    }
}

/// How long a job command waits when `--timeout` is not given: generation takes minutes.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(30 * 60);

/// Polls the jobs `ids` until every one has ended, or the plan's limit has passed. The
/// snapshots come back in `ids` order.
pub fn wait(
    ctx: &Context,
    provider: &dyn Provider,
    ids: &[String],
    plan: WaitPlan,
) -> Result<Vec<Snapshot>> {
    let WaitPlan {
        limit,
        mut schedule,
    } = plan;
    let deadline = Instant::now() + limit;
    let mut board = Board::new(ids);
    let _spinner = progress::pin(board.line());
    // The whole wait is one interruptible stretch: a Ctrl-C between two requests is
    // noticed below rather than ending the process before the resume command is shown.
    let _waiting = interrupt::waiting();
    loop {
        let pending = board.pending();
        if interrupt::is_pending() {
            return Err(interrupted(provider, &pending));
        }
        match provider.fetch_many(ctx, &pending) {
            Ok(snapshots) => board.record(snapshots),
            Err(err) if err.transient => {
                board.note(&format!("poll failed, retrying: {}", err.message))
            }
            Err(err) if err.exit == ExitCode::Interrupted => {
                return Err(interrupted(provider, &pending))
            }
            Err(err) => return Err(crate::api::jobs::unknown_job(err, provider, &pending)),
        }
        if board.pending().is_empty() {
            return Ok(board.into_snapshots());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(timed_out(provider, &board, limit));
        }
        let pause = schedule.next().unwrap_or(left).min(left);
        if ctx.http()?.sleep(pause).is_err() {
            return Err(interrupted(provider, &board.pending()));
        }
    }
}

fn timed_out(provider: &dyn Provider, board: &Board, limit: Duration) -> CliError {
    let pending = board.pending();
    CliError::new(
        ExitCode::TimedOut,
        format!(
            "gave up waiting after {}: {} still {}",
            timeout::show(limit),
            pending.join(", "),
            board.status_of(&pending)
        ),
    )
    .with_hint(format!(
        "the job keeps running on the server; wait again with `{}` (--timeout for longer)",
        resume_command(provider, &pending)
    ))
}

fn interrupted(provider: &dyn Provider, pending: &[String]) -> CliError {
    CliError::new(
        ExitCode::Interrupted,
        format!(
            "interrupted; {} keeps running on the server",
            pending.join(", ")
        ),
    )
    .with_hint(format!(
        "wait again with `{}`",
        resume_command(provider, pending)
    ))
}

/// What is known of each job, and how it is shown: a spinner line on a terminal, one
/// line per status change on stderr otherwise.
struct Board {
    jobs: Vec<(String, Option<Snapshot>)>,
    terminal: bool,
}

impl Board {
    fn new(ids: &[String]) -> Board {
        Board {
            jobs: ids.iter().map(|id| (id.clone(), None)).collect(),
            terminal: streams::process_terminals().stderr,
        }
    }

    /// The ids of jobs not known to have ended.
    fn pending(&self) -> Vec<String> {
        self.jobs
            .iter()
            .filter(|(_, last)| !last.as_ref().is_some_and(|s| s.state.is_over()))
            .map(|(id, _)| id.clone())
            .collect()
    }

    fn record(&mut self, snapshots: Vec<Snapshot>) {
        for snapshot in snapshots {
            let Some((_, last)) = self.jobs.iter_mut().find(|(id, _)| *id == snapshot.id) else {
                continue; // a batch reply may carry jobs not asked about
            };
            let changed = last.as_ref().is_none_or(|l| l.status != snapshot.status);
            if changed && !self.terminal {
                eprintln!("{}", sanitize::for_stderr(&describe(&snapshot)));
            }
            *last = Some(snapshot);
        }
        if self.terminal {
            progress::update(self.line());
        }
    }

    fn note(&self, what: &str) {
        if self.terminal {
            progress::update(format!("{} ({what})", self.line()));
        } else {
            eprintln!("{}", sanitize::for_stderr(what));
        }
    }

    /// `job 123: IN_PROGRESS 45%`, or for several `3 jobs: 1 done, 2 running`.
    fn line(&self) -> String {
        match self.jobs.as_slice() {
            [(id, None)] => format!("job {id}: submitted"),
            [(_, Some(snapshot))] => sanitize::neutralise(&describe(snapshot)).into_owned(),
            jobs => {
                let done = jobs.len() - self.pending().len();
                format!(
                    "{} jobs: {done} done, {} running",
                    jobs.len(),
                    jobs.len() - done
                )
            }
        }
    }

    /// The last status words of `ids`, joined.
    fn status_of(&self, ids: &[String]) -> String {
        let words: Vec<&str> = self
            .jobs
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(_, last)| last.as_ref().map_or("submitted", |s| s.status.as_str()))
            .collect();
        words.join(", ")
    }

    fn into_snapshots(self) -> Vec<Snapshot> {
        self.jobs.into_iter().filter_map(|(_, last)| last).collect()
    }
}

/// `job 123: IN_PROGRESS 45%`.
fn describe(snapshot: &Snapshot) -> String {
    let percent = snapshot
        .progress
        .map(|p| format!(" {p}%"))
        .unwrap_or_default();
    format!("job {}: {}{percent}", snapshot.id, snapshot.status)
}
