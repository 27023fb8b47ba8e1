//! The fake server's generation jobs: OpenAI-shape videos (Sora, Veo), Kling videos,
//! Midjourney and Suno. A job moves one stage per `polls_per_stage` fetches: queued,
//! then running at 50%, then done (or failed with the configured reason). With the
//! default of one poll per stage a job is done on its third fetch. Results are served
//! by the CDN host (another origin), except OpenAI videos, whose content comes from the
//! API itself (`/v1/videos/{id}/content`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::media_images::{binary, cdn, image_bytes};
use super::{guarded, openai_error, Auth, Call, FakeServer, Recorded, Reply, State};

#[derive(Default)]
pub struct Jobs {
    jobs: Mutex<Vec<Job>>,
    /// Fetches per stage (0 counts as 1).
    polls_per_stage: AtomicUsize,
    /// Jobs end in failure with this reason.
    failure: Mutex<Option<String>>,
    /// Jobs stay queued forever.
    stuck: AtomicBool,
    /// Midjourney jobs end in `MODAL`.
    modal: AtomicBool,
}

#[derive(Clone)]
struct Job {
    id: String,
    kind: Kind,
    prompt: String,
    fetches: usize,
    /// Published on the CDN when the job is first seen done.
    results: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    OpenAi,
    Kling(&'static str),
    Midjourney,
    Suno,
}

#[derive(Clone, Copy, PartialEq)]
enum Stage {
    Queued,
    Running,
    Done,
    Failed,
    Modal,
}

impl FakeServer {
    /// Every job needs this many fetches per stage (queued, running) before it ends.
    pub fn set_job_polls_per_stage(&self, polls: usize) {
        self.state
            .jobs
            .polls_per_stage
            .store(polls, Ordering::SeqCst);
    }

    /// Jobs fail with `reason` (None: they succeed).
    pub fn set_job_failure(&self, reason: Option<&str>) {
        *self.state.jobs.failure.lock().expect("failure") = reason.map(str::to_string);
    }

    /// Jobs stay queued forever.
    pub fn set_jobs_stuck(&self, stuck: bool) {
        self.state.jobs.stuck.store(stuck, Ordering::SeqCst);
    }

    /// Midjourney jobs stop in `MODAL`.
    pub fn set_job_modal(&self, modal: bool) {
        self.state.jobs.modal.store(modal, Ordering::SeqCst);
    }
}

/// Whether `path` is one of the job endpoints.
fn serves(path: &str) -> bool {
    path.starts_with("/v1/videos")
        || path.starts_with("/kling/v1/videos/")
        || path.starts_with("/mj/")
        || path.starts_with("/suno/")
}

/// The reply to a request for one of the job paths (a 404 for an unknown one under
/// them), `None` for any other path.
pub(super) fn route(call: &Call) -> Option<Reply> {
    let (state, req, path) = (call.state, call.req, call.path);
    serves(path).then(|| {
        guarded(req, Auth::BearerKey, || {
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            match (req.method.as_str(), segments.as_slice()) {
                ("POST", ["v1", "videos"]) => openai_create(state, req),
                ("GET", ["v1", "videos", id]) => openai_fetch(state, id),
                ("GET", ["v1", "videos", id, "content"]) => openai_content(state, id),
                ("POST", ["kling", "v1", "videos", kind]) => kling_create(state, req, kind),
                ("GET", ["kling", "v1", "videos", kind, id]) => kling_fetch(state, kind, id),
                ("POST", ["mj", "submit", "imagine"]) => mj_imagine(state, req),
                ("POST", ["mj", "submit", "action"]) => mj_action(state, req),
                ("GET", ["mj", "task", id, "fetch"]) => mj_fetch(state, id),
                ("POST", ["mj", "task", "list-by-condition"]) => mj_list(state, req),
                ("POST", ["suno", "submit", "music"]) => suno_create(state, req),
                ("GET", ["suno", "fetch", id]) => suno_fetch(state, id),
                ("POST", ["suno", "fetch"]) => suno_fetch_many(state, req),
                _ => openai_error(
                    404,
                    &format!("Invalid URL ({} {path})", req.method),
                    "invalid_request_error",
                    None,
                ),
            }
        })
    })
}

// ---------------------------------------------------------------------------
// The job table
// ---------------------------------------------------------------------------

fn create(state: &State, kind: Kind, prompt: &str) -> String {
    let mut jobs = state.jobs.jobs.lock().expect("jobs");
    let n = jobs.len() + 1;
    let id = match kind {
        Kind::OpenAi => format!("video_fake_{n:04}"),
        Kind::Kling(_) => format!("kling{n:04}"),
        Kind::Midjourney => format!("17000000000{n:04}"),
        Kind::Suno => format!("suno-{n:04}"),
    };
    jobs.push(Job {
        id: id.clone(),
        kind,
        prompt: prompt.to_string(),
        fetches: 0,
        results: Vec::new(),
    });
    id
}

/// Fetches the job (one more fetch seen) and says where it now is.
fn advance(state: &State, id: &str, kind: impl Fn(Kind) -> bool) -> Option<(Job, Stage)> {
    let mut jobs = state.jobs.jobs.lock().expect("jobs");
    let job = jobs.iter_mut().find(|job| job.id == id && kind(job.kind))?;
    job.fetches += 1;
    let stage = stage_of(state, job);
    if stage == Stage::Done && job.results.is_empty() {
        job.results = publish(state, job);
    }
    Some((job.clone(), stage))
}

/// Where a job is without fetching it again (batch endpoints count as one fetch each).
fn stage_of(state: &State, job: &Job) -> Stage {
    let per_stage = state.jobs.polls_per_stage.load(Ordering::SeqCst).max(1);
    if state.jobs.stuck.load(Ordering::SeqCst) {
        return Stage::Queued;
    }
    match (job.fetches.saturating_sub(1)) / per_stage {
        0 => Stage::Queued,
        1 => Stage::Running,
        _ if state.jobs.failure.lock().expect("failure").is_some() => Stage::Failed,
        _ if job.kind == Kind::Midjourney && state.jobs.modal.load(Ordering::SeqCst) => {
            Stage::Modal
        }
        _ => Stage::Done,
    }
}

fn failure(state: &State) -> String {
    state
        .jobs
        .failure
        .lock()
        .expect("failure")
        .clone()
        .unwrap_or_default()
}

/// The result files of a finished job, put on the CDN.
fn publish(state: &State, job: &Job) -> Vec<String> {
    let cdn = cdn(state);
    match job.kind {
        Kind::OpenAi => Vec::new(),
        Kind::Kling(_) => vec![cdn.publish(video_bytes(&job.id))],
        Kind::Midjourney => vec![cdn.publish(image_bytes("png", 2048, 2048, 0))],
        Kind::Suno => (1..=2)
            .flat_map(|i| {
                [
                    cdn.publish(audio_bytes(&format!("{} clip {i}", job.id))),
                    cdn.publish(image_bytes("jpeg", 512, 512, i)),
                ]
            })
            .collect(),
    }
}

/// An MP4 (its `ftyp` box is what identifies it) carrying `label`.
pub fn video_bytes(label: &str) -> Vec<u8> {
    let mut bytes = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    bytes.extend_from_slice(format!("video {label}").as_bytes());
    bytes.resize(64 * 1024, b'.');
    bytes
}

/// An MP3 (an ID3 tag identifies it) carrying `label`.
pub fn audio_bytes(label: &str) -> Vec<u8> {
    let mut bytes = b"ID3\x03\0\0\0\0\0\0".to_vec();
    bytes.extend_from_slice(format!("audio {label}").as_bytes());
    bytes
}

fn body_of(req: &Recorded) -> Value {
    serde_json::from_str(&req.body).unwrap_or(Value::Null)
}

/// The `ids` of a batch fetch's body.
fn ids_of(req: &Recorded) -> Vec<String> {
    body_of(req)["ids"]
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn text(body: &Value, key: &str) -> String {
    body.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

// ---------------------------------------------------------------------------
// OpenAI videos
// ---------------------------------------------------------------------------

fn openai_create(state: &State, req: &Recorded) -> Reply {
    let parts = super::multipart_parts(req);
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map(|p| String::from_utf8_lossy(&p.data).into_owned())
    };
    let (Some(model), Some(prompt)) = (field("model"), field("prompt")) else {
        return openai_error(
            400,
            "model and prompt are required",
            "invalid_request_error",
            None,
        );
    };
    let id = create(state, Kind::OpenAi, &prompt);
    Reply::json(
        200,
        json!({"id": id, "object": "video", "model": format!("{model}-2026"), "status": "queued", "progress": 0, "prompt": prompt}),
    )
}

fn openai_fetch(state: &State, id: &str) -> Reply {
    let Some((job, stage)) = advance(state, id, |k| k == Kind::OpenAi) else {
        return openai_error(
            404,
            &format!("video {id} not found"),
            "invalid_request_error",
            None,
        );
    };
    let (status, progress) = match stage {
        Stage::Queued => ("queued", 0),
        Stage::Running => ("in_progress", 50),
        Stage::Done | Stage::Modal => ("completed", 100),
        Stage::Failed => ("failed", 100),
    };
    let mut video = json!({"id": job.id, "object": "video", "status": status, "progress": progress, "prompt": job.prompt});
    if stage == Stage::Failed {
        video["error"] = json!({"code": "generation_failed", "message": failure(state)});
    }
    Reply::json(200, video)
}

fn openai_content(state: &State, id: &str) -> Reply {
    let jobs = state.jobs.jobs.lock().expect("jobs");
    match jobs.iter().find(|job| job.id == id) {
        Some(job) if stage_of(state, job) == Stage::Done => binary("video/mp4", video_bytes(id)),
        Some(_) => openai_error(400, "the video is not ready", "invalid_request_error", None),
        None => openai_error(
            404,
            &format!("video {id} not found"),
            "invalid_request_error",
            None,
        ),
    }
}

// ---------------------------------------------------------------------------
// Kling
// ---------------------------------------------------------------------------

fn kling_create(state: &State, req: &Recorded, kind: &str) -> Reply {
    let kind = match kind {
        "text2video" => "text2video",
        "image2video" => "image2video",
        _ => return Reply::json(404, json!({"code": 1200, "message": "no such endpoint"})),
    };
    let body = body_of(req);
    let prompt = text(&body, "prompt");
    if prompt.chars().count() > 500 {
        return Reply::json(
            200,
            json!({"code": 1201, "message": "prompt is longer than 500 characters"}),
        );
    }
    let id = create(state, Kind::Kling(kind), &prompt);
    Reply::json(
        200,
        json!({"code": 0, "message": "SUCCEED", "request_id": "req-1", "data": {"task_id": id, "task_status": "submitted"}}),
    )
}

fn kling_fetch(state: &State, kind: &str, id: &str) -> Reply {
    let endpoint = if kind == "image2video" {
        "image2video"
    } else {
        "text2video"
    };
    let Some((job, stage)) = advance(state, id, |k| k == Kind::Kling(endpoint)) else {
        return Reply::json(404, json!({"code": 1203, "message": "task not found"}));
    };
    let status = match stage {
        Stage::Queued => "submitted",
        Stage::Running => "processing",
        Stage::Done | Stage::Modal => "succeed",
        Stage::Failed => "failed",
    };
    let mut data = json!({"task_id": job.id, "task_status": status});
    if stage == Stage::Failed {
        data["task_status_msg"] = json!(failure(state));
    }
    if stage == Stage::Done {
        let videos: Vec<Value> = job
            .results
            .iter()
            .map(|url| json!({"id": "v1", "url": url, "duration": "5"}))
            .collect();
        data["task_result"] = json!({"videos": videos});
    }
    Reply::json(200, json!({"code": 0, "message": "SUCCEED", "data": data}))
}

// ---------------------------------------------------------------------------
// Midjourney
// ---------------------------------------------------------------------------

fn mj_imagine(state: &State, req: &Recorded) -> Reply {
    let prompt = text(&body_of(req), "prompt");
    if prompt.trim().is_empty() {
        return Reply::json(200, json!({"code": 4, "description": "prompt is required"}));
    }
    let id = create(state, Kind::Midjourney, &prompt);
    Reply::json(
        200,
        json!({"code": 1, "description": "Submit success", "result": id, "properties": {}}),
    )
}

fn mj_action(state: &State, req: &Recorded) -> Reply {
    let body = body_of(req);
    let (parent, custom) = (text(&body, "taskId"), text(&body, "customId"));
    let prompt = {
        let jobs = state.jobs.jobs.lock().expect("jobs");
        match jobs.iter().find(|job| job.id == parent) {
            Some(job)
                if buttons(&job.id)
                    .iter()
                    .any(|b| b["customId"] == custom.as_str()) =>
            {
                job.prompt.clone()
            }
            Some(_) => {
                return Reply::json(
                    200,
                    json!({"code": 4, "description": "customId is not a button of the task"}),
                )
            }
            None => return Reply::json(200, json!({"code": 3, "description": "task not found"})),
        }
    };
    let id = create(state, Kind::Midjourney, &prompt);
    Reply::json(
        200,
        json!({"code": 1, "description": "Submit success", "result": id}),
    )
}

/// The buttons of a finished grid; their custom ids carry the task id (they change).
fn buttons(id: &str) -> Vec<Value> {
    let mut buttons: Vec<Value> = (1..=4)
        .flat_map(|i| {
            [
                json!({"customId": format!("MJ::JOB::upsample::{i}::{id}"), "emoji": "", "label": format!("U{i}")}),
                json!({"customId": format!("MJ::JOB::variation::{i}::{id}"), "emoji": "", "label": format!("V{i}")}),
            ]
        })
        .collect();
    buttons.push(
        json!({"customId": format!("MJ::JOB::reroll::0::{id}::SOLO"), "emoji": "🔄", "label": ""}),
    );
    buttons
}

fn mj_task(state: &State, job: &Job, stage: Stage) -> Value {
    let (status, progress) = match stage {
        Stage::Queued => ("SUBMITTED", "0%"),
        Stage::Running => ("IN_PROGRESS", "50%"),
        Stage::Done => ("SUCCESS", "100%"),
        Stage::Failed => ("FAILURE", "100%"),
        Stage::Modal => ("MODAL", "100%"),
    };
    let mut task = json!({"id": job.id, "action": "IMAGINE", "status": status, "progress": progress,
        "prompt": job.prompt, "promptEn": job.prompt, "imageUrl": "", "failReason": "", "buttons": []});
    if stage == Stage::Done {
        task["imageUrl"] = json!(job.results.first());
        task["buttons"] = Value::Array(buttons(&job.id));
    }
    if stage == Stage::Failed {
        task["failReason"] = json!(failure(state));
    }
    task
}

fn mj_fetch(state: &State, id: &str) -> Reply {
    match advance(state, id, |k| k == Kind::Midjourney) {
        Some((job, stage)) => Reply::json(200, mj_task(state, &job, stage)),
        None => Reply::json(404, json!({"code": 3, "description": "task not found"})),
    }
}

fn mj_list(state: &State, req: &Recorded) -> Reply {
    let ids = ids_of(req);
    let tasks: Vec<Value> = ids
        .iter()
        .filter_map(|id| advance(state, id, |k| k == Kind::Midjourney))
        .map(|(job, stage)| mj_task(state, &job, stage))
        .collect();
    Reply::json(200, Value::Array(tasks))
}

// ---------------------------------------------------------------------------
// Suno
// ---------------------------------------------------------------------------

fn suno_create(state: &State, req: &Recorded) -> Reply {
    let body = body_of(req);
    let prompt = match text(&body, "gpt_description_prompt") {
        p if p.is_empty() => text(&body, "prompt"),
        p => p,
    };
    if prompt.trim().is_empty() {
        return Reply::json(
            200,
            json!({"code": "error", "message": "a description or lyrics are required"}),
        );
    }
    let id = create(state, Kind::Suno, &prompt);
    Reply::json(200, json!({"code": "success", "message": "", "data": id}))
}

fn suno_task(state: &State, job: &Job, stage: Stage) -> Value {
    let (status, progress) = match stage {
        Stage::Queued => ("QUEUED", "0%"),
        Stage::Running => ("IN_PROGRESS", "50%"),
        Stage::Done | Stage::Modal => ("SUCCESS", "100%"),
        Stage::Failed => ("FAILURE", "100%"),
    };
    let clips: Vec<Value> = job
        .results
        .chunks(2)
        .enumerate()
        .map(|(i, urls)| {
            json!({"id": format!("{}-clip{}", job.id, i + 1), "title": "Fake song",
            "audio_url": urls.first(), "image_url": urls.get(1), "duration": 30.5})
        })
        .collect();
    let reason = if stage == Stage::Failed {
        failure(state)
    } else {
        String::new()
    };
    json!({"task_id": job.id, "action": "MUSIC", "status": status, "progress": progress,
        "fail_reason": reason, "data": if stage == Stage::Done { Value::Array(clips) } else { json!([]) }})
}

fn suno_fetch(state: &State, id: &str) -> Reply {
    match advance(state, id, |k| k == Kind::Suno) {
        Some((job, stage)) => Reply::json(
            200,
            json!({"code": "success", "data": suno_task(state, &job, stage)}),
        ),
        None => Reply::json(404, json!({"code": "error", "message": "task not found"})),
    }
}

fn suno_fetch_many(state: &State, req: &Recorded) -> Reply {
    let ids = ids_of(req);
    let tasks: Vec<Value> = ids
        .iter()
        .filter_map(|id| advance(state, id, |k| k == Kind::Suno))
        .map(|(job, stage)| suno_task(state, &job, stage))
        .collect();
    Reply::json(200, json!({"code": "success", "data": tasks}))
}
