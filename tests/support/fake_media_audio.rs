//! The fake server's audio and embedding routes: `POST /v1/audio/transcriptions` and
//! `/v1/audio/translations` (multipart, every `response_format`), and
//! `POST /v1/embeddings` (at most 2048 inputs, data in input order, vectors derived from
//! each input so tests can check them), and the cut reply (`Fault::CutReply`).

use std::io::Write;

use serde_json::{json, Value};

use super::{bad_request, guarded, multipart_parts, Auth, Call, Part, Recorded, Reply};

/// The audio extensions the transcription endpoints accept (as OpenAI's).
const AUDIO_EXTENSIONS: &[&str] = &[
    "flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm",
];
/// The most inputs one embeddings request may carry.
pub const MAX_EMBED_INPUTS: usize = 2048;
/// The vector length when the request gives no `dimensions` (small, for benchmarks).
pub const DEFAULT_DIMENSIONS: usize = 4;

/// The text of the multipart field `name` in a recorded body.
pub fn form_text(req: &Recorded, name: &str) -> Option<String> {
    multipart_parts(req)
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| text_of(&p))
}

fn text_of(part: &Part) -> String {
    String::from_utf8_lossy(&part.data).into_owned()
}

/// The reply to a request for one of the routes here, `None` for any other path.
pub(super) fn route(call: &Call) -> Option<Reply> {
    let req = call.req;
    let answer: fn(&Recorded) -> Reply = match (req.method.as_str(), call.path) {
        ("POST", "/v1/embeddings") => embeddings,
        ("POST", "/v1/audio/translations") => |req| transcription(req, "translate"),
        ("POST", "/v1/audio/transcriptions") => |req| transcription(req, "transcribe"),
        _ => return None,
    };
    Some(guarded(req, Auth::BearerKey, || answer(req)))
}

/// What the fake hears in an audio file: its name and size, so tests can tell that
/// the file's bytes arrived whole.
pub fn heard(file_name: &str, bytes: usize, task: &str) -> String {
    let verb = if task == "translate" {
        "Translated"
    } else {
        "Transcribed"
    };
    format!("{verb} {file_name} ({bytes} bytes).")
}

fn transcription(req: &Recorded, task: &str) -> Reply {
    let parts = multipart_parts(req);
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let Some(file) = field("file") else {
        return bad_request("file: a multipart file field is required", "missing_file");
    };
    let file_name = file.filename.clone().unwrap_or_default();
    let known = file_name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| AUDIO_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
    if !known {
        return bad_request("Invalid file format.", "invalid_file_format");
    }
    if field("model").is_none_or(|m| text_of(m).trim().is_empty()) {
        return bad_request("model: field required", "missing_model");
    }
    if let Some(t) = field("temperature") {
        if !text_of(t)
            .parse::<f64>()
            .is_ok_and(|t| (0.0..=1.0).contains(&t))
        {
            return bad_request("temperature must be between 0 and 1", "invalid_temperature");
        }
    }
    let text = heard(&file_name, file.data.len(), task);
    let format = field("response_format").map_or_else(|| "json".to_string(), text_of);
    let language = field("language").map_or_else(|| "english".to_string(), text_of);
    match format.as_str() {
        "json" => Reply::json(200, json!({ "text": text })),
        "verbose_json" => Reply::json(
            200,
            json!({"task": task, "language": language, "duration": 1.5, "text": text,
                   "segments": [{"id": 0, "start": 0.0, "end": 1.5, "text": text}]}),
        ),
        "text" => Reply::raw(200, "text/plain; charset=utf-8", format!("{text}\n")),
        "srt" => Reply::raw(
            200,
            "text/plain; charset=utf-8",
            format!("1\n00:00:00,000 --> 00:00:01,500\n{text}\n\n"),
        ),
        "vtt" => Reply::raw(
            200,
            "text/vtt; charset=utf-8",
            format!("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n{text}\n\n"),
        ),
        other => bad_request(
            &format!("response_format `{other}` is not supported"),
            "invalid_response_format",
        ),
    }
}

/// The vector the fake gives `input`: each value a byte of the input's FNV-1a hash
/// (cycled), scaled to 0..1 and kept to four decimals.
pub fn fake_embedding(input: &str, dimensions: usize) -> Vec<f64> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in input.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    (0..dimensions)
        .map(|i| {
            let byte = (hash >> ((i % 8) * 8)) & 0xff;
            (byte as f64 / 255.0 * 10_000.0).round() / 10_000.0
        })
        .collect()
}

fn embeddings(req: &Recorded) -> Reply {
    let Some(body) = serde_json::from_slice::<Value>(&req.body_bytes).ok() else {
        return bad_request("the body is not JSON", "invalid_json");
    };
    let inputs: Vec<String> = match &body["input"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => {
            return bad_request(
                "input: a string or an array of strings is required",
                "invalid_input",
            )
        }
    };
    if inputs.len() > MAX_EMBED_INPUTS {
        return bad_request("input: at most 2048 inputs per request", "too_many_inputs");
    }
    if inputs.iter().any(String::is_empty) {
        return bad_request("input: empty strings are not allowed", "invalid_input");
    }
    let Some(model) = body["model"].as_str().filter(|m| !m.is_empty()) else {
        return bad_request("model: field required", "missing_model");
    };
    let dimensions = body["dimensions"]
        .as_u64()
        .map_or(DEFAULT_DIMENSIONS, |d| d as usize);
    let tokens: usize = inputs.iter().map(|i| i.len().div_ceil(4)).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            json!({"object": "embedding", "index": index,
                   "embedding": fake_embedding(input, dimensions)})
        })
        .collect();
    Reply::json(
        200,
        json!({"object": "list", "data": data, "model": model,
               "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}),
    )
}

/// A 200 whose chunked body starts with `prefix`, then breaks its framing: the client
/// has sent everything and the reply is cut mid-body.
pub(super) fn write_cut(request: tiny_http::Request, prefix: &str) {
    let mut out = request.into_writer();
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{prefix}\r\nzz\r\n",
        prefix.len()
    );
    let _ = out.flush();
}
