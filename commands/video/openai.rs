//! OpenAI-shape video jobs (`/v1/videos`): Sora 2 and Veo 3. Veo's status words are
//! **unconfirmed**; they are assumed to be OpenAI's, and any other word keeps waiting.

use serde_json::Value;

use crate::api::jobs::{self, percent, Provider, ProviderSpec, Snapshot, State, Submission};
use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::multipart::{FileRules, Form};
use crate::net::{Auth, KeyHeader, Request};

pub struct OpenAiVideos;

/// A reference image or frame.
const REFERENCE: FileRules = FileRules {
    what: "reference image",
    max_bytes: 20 << 20,
    extensions: &["png", "jpg", "jpeg", "webp"],
};

impl Provider for OpenAiVideos {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn wait_command(&self) -> &'static str {
        "video wait"
    }

    /// A multipart form: `model`, `prompt`, the provider fields (`seconds`, `size`)
    /// and each file as `input_reference`.
    fn submit(&self, ctx: &Context, job: &Submission) -> Result<String> {
        let mut form = Form::new()
            .text("model", job.model.as_str())
            .text("prompt", job.prompt.as_str());
        for (name, value) in &job.fields {
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            form = form.text(name, text);
        }
        for file in &job.files {
            form = form.file("input_reference", file, REFERENCE)?;
        }
        // Not `jobs::call`: the request borrows the form, which outlives the key there.
        let key = ctx.api_key()?;
        let url = ctx.base_url()?.v1("videos");
        let auth = Auth::ApiKey(&key, KeyHeader::Bearer);
        let request = Request::post_multipart(url, auth, &form).creates();
        let reply = ctx.http()?.send(&request)?.json()?;
        reply
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .ok_or_else(|| CliError::failure("the server's reply has no video id"))
    }

    fn fetch(&self, ctx: &Context, id: &str) -> Result<Snapshot> {
        let base = ctx.base_url()?;
        let url = base.v1(&format!("videos/{}", crate::net::urls::path_segment(id)));
        let video = jobs::call(ctx, |auth| Request::get(url, auth))?;
        let content = base.v1(&format!(
            "videos/{}/content",
            crate::net::urls::path_segment(id)
        ));
        snapshot(id, video, content)
    }
}

fn snapshot(id: &str, video: Value, content_url: String) -> Result<Snapshot> {
    let Some(status) = video.get("status").and_then(Value::as_str) else {
        return Err(CliError::failure(format!("no status for video {id}")));
    };
    let state = match status {
        "completed" | "succeeded" => State::Succeeded,
        "failed" | "cancelled" | "expired" => State::Failed(
            crate::net::message_in(&video).unwrap_or_else(|| format!("the video is {status}")),
        ),
        _ => State::Running,
    };
    let text = |key: &str| video.get(key).and_then(Value::as_str).map(str::to_string);
    Ok(Snapshot {
        id: id.to_string(),
        status: status.to_string(),
        progress: percent(video.get("progress")),
        prompt: text("prompt"),
        results: match state {
            State::Succeeded => vec![content_url],
            _ => Vec::new(),
        },
        state,
        raw: video,
    })
}

inventory::submit! {
    ProviderSpec {
        family: "video",
        provider: &OpenAiVideos,
        takes_model: |model| model.starts_with("sora") || model.starts_with("veo"),
        owns_id: |id| id.starts_with("video_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_video_gives_the_servers_reason_and_a_done_one_its_content() {
        let url = "https://api/v1/videos/v/content".to_string();
        let failed = snapshot(
            "v",
            json!({"status": "failed", "error": {"message": "moderation"}}),
            url.clone(),
        )
        .expect("a snapshot");
        assert_eq!(failed.state, State::Failed("moderation".into()));
        let done = snapshot(
            "v",
            json!({"status": "completed", "progress": 100}),
            url.clone(),
        )
        .expect("a snapshot");
        assert_eq!(done.results, vec![url.clone()]);
        let odd = snapshot("v", json!({"status": "rendering"}), url).expect("a snapshot");
        assert_eq!(odd.state, State::Running);
    }
}
