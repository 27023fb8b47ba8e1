//! The fake server's audio and embedding routes: `POST /v1/audio/transcriptions` and
//! `/v1/audio/translations` (multipart, every `response_format`), and
//! `POST /v1/embeddings` (at most 2048 inputs, data in input order, vectors derived from
//! each input so tests can check them). Also the multipart parser tests use to read
//! the bodies the server recorded, and the cut reply (`Fault::CutReply`).

use std::io::Write;

use serde_json::{json, Value};

use super::{bad_request, Recorded, Reply};

/// The audio extensions the transcription endpoints accept (as OpenAI's).
const AUDIO_EXTENSIONS: &[&str] = &[
    "flac", "mp3", "mp4", "mpeg", "mpga", "m4a", "ogg", "wav", "webm",
];
/// The most inputs one embeddings request may carry.
pub const MAX_EMBED_INPUTS: usize = 2048;
/// The vector length when the request gives no `dimensions` (small, for benchmarks).
pub const DEFAULT_DIMENSIONS: usize = 4;

/// One field of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl FormPart {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

impl Recorded {
    /// The fields of a multipart body, in order; empty when it is not one.
    pub fn multipart(&self) -> Vec<FormPart> {
        let boundary = self
            .header("content-type")
            .and_then(|t| {
                t.split(';')
                    .find_map(|p| p.trim().strip_prefix("boundary="))
            })
            .map(|b| b.trim_matches('"').to_string());
        boundary.map_or_else(Vec::new, |b| parse_multipart(&self.body_bytes, &b))
    }

    /// The text of the multipart field `name`.
    pub fn form_text(&self, name: &str) -> Option<String> {
        self.multipart()
            .into_iter()
            .find(|p| p.name == name)
            .map(|p| p.text())
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| at + from)
}

/// Splits `body` on `--boundary` lines; each part is headers, a blank line, data.
pub fn parse_multipart(body: &[u8], boundary: &str) -> Vec<FormPart> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut parts = Vec::new();
    let Some(mut at) = find(body, &delimiter, 0) else {
        return parts;
    };
    loop {
        let start = at + delimiter.len();
        if body.get(start..start + 2) == Some(b"--") {
            return parts;
        }
        let Some(head_end) = find(body, b"\r\n\r\n", start) else {
            return parts;
        };
        let Some(next) = find(body, &[b"\r\n", &delimiter[..]].concat(), head_end) else {
            return parts;
        };
        let head = String::from_utf8_lossy(&body[start..head_end]).into_owned();
        parts.push(part_of(&head, body[head_end + 4..next].to_vec()));
        at = next + 2;
    }
}

fn part_of(head: &str, data: Vec<u8>) -> FormPart {
    let mut part = FormPart {
        name: String::new(),
        file_name: None,
        content_type: None,
        data,
    };
    for line in head.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.eq_ignore_ascii_case("content-type") {
            part.content_type = Some(value.trim().to_string());
        } else if key.eq_ignore_ascii_case("content-disposition") {
            for attr in value.split(';').map(str::trim) {
                if let Some(name) = attr.strip_prefix("name=") {
                    part.name = name.trim_matches('"').to_string();
                } else if let Some(file) = attr.strip_prefix("filename=") {
                    part.file_name = Some(file.trim_matches('"').to_string());
                }
            }
        }
    }
    part
}

/// Whether `path` is one of the routes here.
pub(super) fn serves(path: &str) -> bool {
    matches!(
        path,
        "/v1/audio/transcriptions" | "/v1/audio/translations" | "/v1/embeddings"
    )
}

/// The reply to a (POST, authorised) request to one of the routes here.
pub(super) fn route(req: &Recorded, path: &str) -> Reply {
    match path {
        "/v1/embeddings" => embeddings(req),
        "/v1/audio/translations" => transcription(req, "translate"),
        _ => transcription(req, "transcribe"),
    }
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
    let parts = req.multipart();
    let field = |name: &str| parts.iter().find(|p| p.name == name);
    let Some(file) = field("file") else {
        return bad_request("file: a multipart file field is required", "missing_file");
    };
    let file_name = file.file_name.clone().unwrap_or_default();
    let known = file_name
        .rsplit_once('.')
        .is_some_and(|(_, ext)| AUDIO_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
    if !known {
        return bad_request("Invalid file format.", "invalid_file_format");
    }
    if field("model").is_none_or(|m| m.text().trim().is_empty()) {
        return bad_request("model: field required", "missing_model");
    }
    if let Some(t) = field("temperature") {
        if !t
            .text()
            .parse::<f64>()
            .is_ok_and(|t| (0.0..=1.0).contains(&t))
        {
            return bad_request("temperature must be between 0 and 1", "invalid_temperature");
        }
    }
    let text = heard(&file_name, file.data.len(), task);
    let format = field("response_format").map_or_else(|| "json".to_string(), FormPart::text);
    let language = field("language").map_or_else(|| "english".to_string(), FormPart::text);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_are_split_into_their_fields() {
        let body = b"--XB\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp3\"\r\nContent-Type: audio/mpeg\r\n\r\n\x00\xff\r\n--XB--\r\n";
        let parts = parse_multipart(body, "XB");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "model");
        assert_eq!(parts[0].text(), "whisper-1");
        assert_eq!(parts[1].file_name.as_deref(), Some("a.mp3"));
        assert_eq!(parts[1].content_type.as_deref(), Some("audio/mpeg"));
        assert_eq!(parts[1].data, b"\x00\xff");
    }
}
