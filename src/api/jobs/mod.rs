//! Generation jobs: video, Midjourney and music are made asynchronously. A job is
//! submitted once, polled until it ends, and its results are downloaded before their
//! URLs expire. Each API is a [`Provider`] (one file in `commands/`, registered with
//! [`ProviderSpec`]); the submit-poll-download lifecycle is the same for all of them:
//!
//! - [`wait`] polls with a growing, jittered interval ([`schedule`]) until every job
//!   ends, within a time limit (exit 124) and until Ctrl-C (exit 130); either way the
//!   job keeps running on the server and the error says how to resume waiting.
//! - [`results::save_all`] downloads every result into a directory, atomically.

pub mod command;
mod driver;
pub mod results;
pub mod schedule;

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader, Request};

pub use driver::{wait, WaitPlan};

/// Where a job is, in the terms every provider maps its own status words to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Queued or running; also any status word the provider's docs do not list.
    Running,
    Succeeded,
    /// Ended without a result; the server's reason.
    Failed(String),
    /// Stopped until the user does something (Midjourney's `MODAL`); what to do.
    NeedsAction(String),
}

impl State {
    pub fn is_over(&self) -> bool {
        *self != State::Running
    }
}

/// One job as the server last described it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub id: String,
    /// The server's own status word (`IN_PROGRESS`, `queued`, `succeed`).
    pub status: String,
    pub state: State,
    /// Percent done, when the server says.
    pub progress: Option<u8>,
    /// The prompt, when the server repeats it (names the downloaded files).
    pub prompt: Option<String>,
    /// The result URLs, in the server's order.
    pub results: Vec<String>,
    /// The server's whole reply about this job, for `--json`.
    pub raw: Value,
}

/// What a job is asked to make. `fields` are the provider's own request fields, set by
/// the command's options; `files` are local files the provider uploads.
#[derive(Clone, Debug, Default)]
pub struct Submission {
    pub model: String,
    pub prompt: String,
    pub fields: Map<String, Value>,
    pub files: Vec<PathBuf>,
}

/// One job API.
pub trait Provider: Sync {
    /// The name `--provider` takes and messages use (`kling`).
    fn name(&self) -> &'static str;
    /// The command, after `cometapi`, that waits for this provider's jobs (`video wait`);
    /// the resume hint is this, the ids and `--provider NAME`.
    fn wait_command(&self) -> &'static str;
    /// Submits a job and returns its id. Sent once: never repeated after the server may
    /// have received it, so a job is never created twice.
    fn submit(&self, ctx: &Context, job: &Submission) -> Result<String>;
    /// The job's current state.
    fn fetch(&self, ctx: &Context, id: &str) -> Result<Snapshot>;
    /// Several jobs at once, in `ids` order: one batch request where the API has one.
    fn fetch_many(&self, ctx: &Context, ids: &[String]) -> Result<Vec<Snapshot>> {
        ids.iter().map(|id| self.fetch(ctx, id)).collect()
    }
}

/// A provider's registration: the command family it serves (`video`), and which model
/// ids and job ids are its own, so the family's commands can pick it without naming it.
pub struct ProviderSpec {
    pub family: &'static str,
    pub provider: &'static dyn Provider,
    pub takes_model: fn(&str) -> bool,
    pub owns_id: fn(&str) -> bool,
}

inventory::collect!(ProviderSpec);

/// The providers of a command family, by name.
pub fn providers(family: &str) -> Vec<&'static ProviderSpec> {
    let mut found: Vec<&'static ProviderSpec> = inventory::iter::<ProviderSpec>
        .into_iter()
        .filter(|spec| spec.family == family)
        .collect();
    found.sort_by_key(|spec| spec.provider.name());
    found
}

/// Sends the request `build` makes with the API key (as `Authorization: Bearer`) and
/// reads the reply as JSON: how every provider talks to its API.
pub fn call(ctx: &Context, build: impl FnOnce(Auth<'_>) -> Request<'_>) -> Result<Value> {
    let key = ctx.api_key()?;
    let request = build(Auth::ApiKey(&key, KeyHeader::Bearer));
    ctx.http()?.send(&request)?.json()
}

/// One job's state; a job the server does not know (404) is said so plainly.
pub fn fetch(ctx: &Context, provider: &dyn Provider, id: &str) -> Result<Snapshot> {
    provider
        .fetch(ctx, id)
        .map_err(|err| unknown_job(err, provider, &[id.to_string()]))
}

/// A 404 about jobs as "no such job", without the generic not-found hint.
pub fn unknown_job(err: CliError, provider: &dyn Provider, ids: &[String]) -> CliError {
    if err.http_status != Some(404) {
        return err;
    }
    CliError::failure(format!("{} has no job {}", provider.name(), ids.join(", ")))
        .caused_by(anyhow::anyhow!(err.message))
        .with_hint("check the id (and --provider); finished jobs are kept only for a while")
}

/// The resume command for `ids`: `cometapi video wait ID... --provider NAME`.
pub fn resume_command(provider: &dyn Provider, ids: &[String]) -> String {
    format!(
        "cometapi {} {} --provider {}",
        provider.wait_command(),
        ids.join(" "),
        provider.name()
    )
}

/// A percent the server wrote as `45%`, `"45"`, `45` or `0.45`... as a whole percent.
pub fn percent(value: Option<&Value>) -> Option<u8> {
    let number = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse::<f64>().ok()?,
        _ => return None,
    };
    (0.0..=100.0)
        .contains(&number)
        .then(|| number.round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn percents_are_read_in_every_spelling_and_nonsense_is_none() {
        assert_eq!(percent(Some(&json!("45%"))), Some(45));
        assert_eq!(percent(Some(&json!(" 7 % "))), Some(7));
        assert_eq!(percent(Some(&json!(100))), Some(100));
        assert_eq!(percent(Some(&json!(12.6))), Some(13));
        for bad in [
            json!("-1%"),
            json!("150"),
            json!("abc"),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(percent(Some(&bad)), None, "{bad}");
        }
        assert_eq!(percent(None), None);
    }
}
