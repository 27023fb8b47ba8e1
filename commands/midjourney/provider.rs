//! The Midjourney job API (`/mj/...`, the midjourney-proxy convention CometAPI follows).

use serde_json::{json, Value};

use crate::api::jobs::{self, percent, Provider, ProviderSpec, Snapshot, State, Submission};
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::Request;

pub struct Midjourney;

/// Reply codes of a submit that gave a task id: submitted, already exists, queued.
const ACCEPTED: [i64; 3] = [1, 21, 22];

impl Midjourney {
    /// Submits to `/mj/submit/{what}` and returns the new task id.
    pub fn submit_to(&self, ctx: &Context, what: &str, body: &Value) -> Result<String> {
        let url = ctx.base_url()?.at_root(&format!("mj/submit/{what}"));
        let reply = jobs::call(ctx, |auth| Request::post_json(url, auth, body).creates())?;
        let code = reply.get("code").and_then(Value::as_i64);
        match reply.get("result").and_then(id_text) {
            Some(id) if code.is_some_and(|c| ACCEPTED.contains(&c)) => Ok(id),
            _ => Err(CliError::failure(format!(
                "Midjourney did not take the job: {}",
                reply
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("no description")
            ))),
        }
    }
}

impl Provider for Midjourney {
    fn name(&self) -> &'static str {
        "midjourney"
    }

    fn wait_command(&self) -> &'static str {
        "midjourney wait"
    }

    fn submit(&self, ctx: &Context, job: &Submission) -> Result<String> {
        let mut body = job.fields.clone();
        body.insert("prompt".into(), json!(job.prompt));
        self.submit_to(ctx, "imagine", &Value::Object(body))
    }

    fn fetch(&self, ctx: &Context, id: &str) -> Result<Snapshot> {
        let path = format!("mj/task/{}/fetch", crate::net::urls::path_segment(id));
        let url = ctx.base_url()?.at_root(&path);
        snapshot(id, jobs::call(ctx, |auth| Request::get(url, auth))?)
    }

    /// One `list-by-condition` request for all of them.
    fn fetch_many(&self, ctx: &Context, ids: &[String]) -> Result<Vec<Snapshot>> {
        if let [id] = ids {
            return Ok(vec![self.fetch(ctx, id)?]);
        }
        let url = ctx.base_url()?.at_root("mj/task/list-by-condition");
        let body = json!({ "ids": ids });
        match jobs::call(ctx, |auth| Request::post_json(url, auth, &body))? {
            Value::Array(tasks) => tasks
                .into_iter()
                .map(|task| {
                    let id = task.get("id").and_then(id_text).unwrap_or_default();
                    snapshot(&id, task)
                })
                .collect(),
            _ => Err(CliError::failure(
                "the reply to a Midjourney task list is not a list",
            )),
        }
    }
}

/// A task id the server may write as a string or a number.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn snapshot(id: &str, task: Value) -> Result<Snapshot> {
    let Some(status) = task.get("status").and_then(Value::as_str) else {
        let said = task.get("description").and_then(Value::as_str);
        return Err(CliError::failure(format!(
            "no status for Midjourney task {id}: {}",
            said.unwrap_or("the reply has none")
        )));
    };
    let text = |key: &str| {
        task.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let state = match status {
        "SUCCESS" => State::Succeeded,
        "FAILURE" => State::Failed(text("failReason").unwrap_or("no reason given").to_string()),
        "MODAL" => State::NeedsAction(
            "Midjourney asks for more input (a region or a new prompt) that this CLI cannot give; finish it on the Midjourney side or start a new job".to_string(),
        ),
        // NOT_START, SUBMITTED, IN_PROGRESS and any word the docs do not list.
        _ => State::Running,
    };
    Ok(Snapshot {
        id: id.to_string(),
        status: status.to_string(),
        progress: percent(task.get("progress")),
        prompt: text("prompt").map(str::to_string),
        results: text("imageUrl").map(str::to_string).into_iter().collect(),
        state,
        raw: task,
    })
}

/// The buttons of a finished task: (label, custom id). A button without a label (the
/// reroll) is named by its emoji.
pub fn buttons(task: &Value) -> Vec<(String, String)> {
    let Some(buttons) = task.get("buttons").and_then(Value::as_array) else {
        return Vec::new();
    };
    buttons
        .iter()
        .filter_map(|button| {
            let custom = button.get("customId")?.as_str()?.to_string();
            let label = [button.get("label"), button.get("emoji")]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .find(|s| !s.is_empty())?;
            Some((label.to_string(), custom))
        })
        .collect()
}

inventory::submit! {
    ProviderSpec {
        family: "midjourney",
        provider: &Midjourney,
        takes_model: |_| true,
        owns_id: |_| true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_states_and_unknown_words_keep_waiting() {
        let state = |status: &str| {
            snapshot("1", json!({"status": status, "failReason": "banned word"})).map(|s| s.state)
        };
        assert_eq!(state("SUCCESS").ok(), Some(State::Succeeded));
        assert_eq!(
            state("FAILURE").ok(),
            Some(State::Failed("banned word".into()))
        );
        assert!(matches!(state("MODAL"), Ok(State::NeedsAction(_))));
        assert_eq!(state("WARMING_UP").ok(), Some(State::Running));
        assert!(snapshot("1", json!({"code": 3, "description": "task not found"})).is_err());
    }

    #[test]
    fn buttons_are_named_by_label_or_emoji() {
        let task = json!({"buttons": [
            {"customId": "MJ::U1", "label": "U1", "emoji": ""},
            {"customId": "MJ::reroll", "label": "", "emoji": "🔄"},
            {"label": "broken"},
        ]});
        assert_eq!(
            buttons(&task),
            vec![
                ("U1".into(), "MJ::U1".into()),
                ("🔄".into(), "MJ::reroll".into())
            ]
        );
    }
}
