//! The Suno job API (`/suno/...`). Its reply envelope (`{code: "success", data}`) is
//! **unconfirmed** for CometAPI: other gateways using this format reply this way, and
//! anything else is read tolerantly (a bare id, a bare task).

use serde_json::{json, Value};

use crate::api::jobs::{self, percent, Provider, ProviderSpec, Snapshot, State, Submission};
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::{Auth, Request};

pub struct Suno;

impl Suno {
    /// Sends the request `build` makes with the API key, and unwraps the reply.
    fn send(&self, ctx: &Context, build: impl FnOnce(Auth<'_>) -> Request<'_>) -> Result<Value> {
        unwrap(jobs::call(ctx, build)?)
    }
}

/// `data` out of `{code: "success", data}`; another code is an error with its message.
fn unwrap(reply: Value) -> Result<Value> {
    match reply.get("code") {
        None => Ok(reply),
        Some(code) if code == "success" || code == 200 || code == 0 => {
            Ok(reply.get("data").cloned().unwrap_or(Value::Null))
        }
        Some(code) => Err(CliError::failure(format!(
            "Suno refused the request ({code}): {}",
            reply
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message")
        ))),
    }
}

impl Provider for Suno {
    fn name(&self) -> &'static str {
        "suno"
    }

    fn wait_command(&self) -> &'static str {
        "music wait"
    }

    /// `fields` carry the mode's own keys (`gpt_description_prompt`, or `prompt`,
    /// `tags` and `title`); the model is `mv`.
    fn submit(&self, ctx: &Context, job: &Submission) -> Result<String> {
        let mut body = job.fields.clone();
        body.insert("mv".into(), json!(job.model));
        let url = ctx.base_url()?.at_root("suno/submit/music");
        let body = Value::Object(body);
        let data = self.send(ctx, |auth| Request::post_json(url, auth, &body).creates())?;
        match data {
            Value::String(id) if !id.trim().is_empty() => Ok(id),
            Value::Object(ref task) => task
                .get("task_id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| CliError::failure("Suno's reply has no task id")),
            _ => Err(CliError::failure("Suno's reply has no task id")),
        }
    }

    fn fetch(&self, ctx: &Context, id: &str) -> Result<Snapshot> {
        let path = format!("suno/fetch/{}", crate::net::urls::path_segment(id));
        let url = ctx.base_url()?.at_root(&path);
        let task = self.send(ctx, |auth| Request::get(url, auth))?;
        snapshot(id, task)
    }

    /// One `POST /suno/fetch` for all of them.
    fn fetch_many(&self, ctx: &Context, ids: &[String]) -> Result<Vec<Snapshot>> {
        if let [id] = ids {
            return Ok(vec![self.fetch(ctx, id)?]);
        }
        let url = ctx.base_url()?.at_root("suno/fetch");
        let body = json!({"ids": ids, "action": "MUSIC"});
        match self.send(ctx, |auth| Request::post_json(url, auth, &body))? {
            Value::Array(tasks) => tasks
                .into_iter()
                .map(|task| {
                    let id = task
                        .get("task_id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    snapshot(&id, task)
                })
                .collect(),
            _ => Err(CliError::failure(
                "the reply to a Suno task list is not a list",
            )),
        }
    }
}

fn snapshot(id: &str, task: Value) -> Result<Snapshot> {
    let Some(status) = task.get("status").and_then(Value::as_str) else {
        return Err(CliError::failure(format!("no status for Suno task {id}")));
    };
    let state = match status {
        "SUCCESS" | "complete" => State::Succeeded,
        "FAILURE" | "error" => State::Failed(
            task.get("fail_reason")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("no reason given")
                .to_string(),
        ),
        _ => State::Running,
    };
    let results = clips(&task)
        .filter_map(|clip| clip.get("audio_url")?.as_str())
        .filter(|url| !url.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Snapshot {
        id: id.to_string(),
        status: status.to_string(),
        progress: percent(task.get("progress")),
        prompt: None,
        results,
        state,
        raw: task,
    })
}

/// The clips of a task (`data.data[]`).
pub fn clips(task: &Value) -> impl Iterator<Item = &Value> {
    task.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

inventory::submit! {
    ProviderSpec {
        family: "music",
        provider: &Suno,
        takes_model: |_| true,
        owns_id: |_| true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_read_tolerantly() {
        assert_eq!(
            unwrap(json!({"code": "success", "data": "id-1"})).ok(),
            Some(json!("id-1"))
        );
        assert_eq!(unwrap(json!("id-2")).ok(), Some(json!("id-2")));
        let err = unwrap(json!({"code": "error", "message": "bad lyrics"})).expect_err("an error");
        assert!(err.message.contains("bad lyrics"), "{}", err.message);
    }

    #[test]
    fn clips_give_the_audio_urls_and_failures_their_reason() {
        let task = json!({"status": "SUCCESS", "progress": "100%", "data": [
            {"audio_url": "https://cdn/a.mp3"}, {"audio_url": ""}, {"title": "no audio"}]});
        let snapshot = snapshot("t", task).expect("a snapshot");
        assert_eq!(snapshot.results, vec!["https://cdn/a.mp3"]);
        assert_eq!(snapshot.progress, Some(100));
        let failed = snapshot_state(json!({"status": "FAILURE", "fail_reason": "lyrics rejected"}));
        assert_eq!(failed, State::Failed("lyrics rejected".into()));
        assert_eq!(
            snapshot_state(json!({"status": "STREAMING"})),
            State::Running
        );
    }

    fn snapshot_state(task: Value) -> State {
        snapshot("t", task).expect("a snapshot").state
    }
}
