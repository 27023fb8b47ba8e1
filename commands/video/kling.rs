//! Kling video jobs (`/kling/v1/videos/text2video` and `image2video`). The model's
//! field name `model_name` is **unconfirmed**.

use serde_json::{json, Value};

use crate::api::attach::inline_image;
use crate::api::jobs::{self, Provider, ProviderSpec, Snapshot, State, Submission};
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::{Auth, Request};

pub struct Kling;

/// Kling's limit on the prompt, in characters.
pub const MAX_PROMPT: usize = 500;

impl Kling {
    /// Sends `request` with the API key and returns `data` of `{code: 0, data}`.
    fn send(&self, ctx: &Context, build: impl FnOnce(Auth<'_>) -> Request<'_>) -> Result<Value> {
        let reply = jobs::call(ctx, build)?;
        match reply.get("code").and_then(Value::as_i64) {
            Some(0) => Ok(reply.get("data").cloned().unwrap_or(Value::Null)),
            code => Err(CliError::failure(format!(
                "Kling refused the request ({}): {}",
                code.map_or_else(|| "no code".to_string(), |c| c.to_string()),
                reply
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("no message")
            ))),
        }
    }

    fn task(&self, ctx: &Context, kind: &str, id: &str) -> Result<Value> {
        let path = format!(
            "kling/v1/videos/{kind}/{}",
            crate::net::urls::path_segment(id)
        );
        let url = ctx.base_url()?.at_root(&path);
        self.send(ctx, |auth| Request::get(url, auth))
    }
}

impl Provider for Kling {
    fn name(&self) -> &'static str {
        "kling"
    }

    fn wait_command(&self) -> &'static str {
        "video wait"
    }

    /// `text2video`, or `image2video` with the first file as `image`.
    fn submit(&self, ctx: &Context, job: &Submission) -> Result<String> {
        let mut body = job.fields.clone();
        body.insert("prompt".into(), json!(job.prompt));
        body.insert("model_name".into(), json!(job.model));
        let kind = match job.files.first() {
            Some(image) => {
                body.insert("image".into(), json!(inline_image(image)?.base64));
                "image2video"
            }
            None => "text2video",
        };
        let url = ctx.base_url()?.at_root(&format!("kling/v1/videos/{kind}"));
        let body = Value::Object(body);
        let data = self.send(ctx, |auth| Request::post_json(url, auth, &body).creates())?;
        data.get("task_id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| CliError::failure("Kling's reply has no task id"))
    }

    /// The id does not say which endpoint made the job: text2video is asked first,
    /// then image2video when it does not know the id.
    fn fetch(&self, ctx: &Context, id: &str) -> Result<Snapshot> {
        let task = match self.task(ctx, "text2video", id) {
            Err(err) if err.http_status == Some(404) => self.task(ctx, "image2video", id)?,
            other => other?,
        };
        snapshot(id, task)
    }
}

fn snapshot(id: &str, task: Value) -> Result<Snapshot> {
    let Some(status) = task.get("task_status").and_then(Value::as_str) else {
        return Err(CliError::failure(format!("no status for Kling task {id}")));
    };
    let state = match status {
        "succeed" => State::Succeeded,
        "failed" => State::Failed(
            task.get("task_status_msg")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("no reason given")
                .to_string(),
        ),
        _ => State::Running,
    };
    let results = task
        .pointer("/task_result/videos")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|video| video.get("url")?.as_str())
        .map(str::to_string)
        .collect();
    Ok(Snapshot {
        id: id.to_string(),
        status: status.to_string(),
        progress: None,
        prompt: None,
        results,
        state,
        raw: task,
    })
}

inventory::submit! {
    ProviderSpec {
        family: "video",
        provider: &Kling,
        takes_model: |model| model.starts_with("kling"),
        owns_id: |id| !id.starts_with("video_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_results_are_read() {
        let done = snapshot("k", json!({"task_status": "succeed", "task_result": {"videos": [{"url": "https://cdn/v.mp4"}]}}))
            .expect("a snapshot");
        assert_eq!(
            (done.state, done.results),
            (State::Succeeded, vec!["https://cdn/v.mp4".to_string()])
        );
        let failed = snapshot(
            "k",
            json!({"task_status": "failed", "task_status_msg": "risky content"}),
        )
        .expect("a snapshot");
        assert_eq!(failed.state, State::Failed("risky content".into()));
        assert!(snapshot("k", json!({"code": 5})).is_err());
    }
}
