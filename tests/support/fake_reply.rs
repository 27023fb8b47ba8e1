//! The fake server's replies: [`Reply`] (what a route answers, before it becomes a
//! `tiny_http` response), the error shapes (OpenAI's `{"error": ...}`, the console's
//! `{"success": false, ...}`, a foreign gateway's `{"detail": ...}`), the checked JSON
//! body of a request, and the canned failures a test injects ([`Fault`]).

use std::io::Read;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::media_images::ByHand;
use super::Recorded;

/// A response before it is turned into a tiny_http one.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: String,
    /// A body produced as it is read, sent chunked instead of `body`.
    pub(super) stream: Option<Box<dyn Read + Send>>,
    /// Server-sent events, written by [`super::stream`] with exact write boundaries.
    pub(super) events: Option<Events>,
    /// The whole reply (status line, headers, body) written to the connection by hand,
    /// for a cut no well-formed reply can make.
    pub(super) by_hand: Option<ByHand>,
}

/// The SSE events of a streamed reply, each a complete `field: value\n...\n\n` block.
pub(super) type Events = Box<dyn Iterator<Item = String> + Send>;

impl Reply {
    pub(super) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string(),
            stream: None,
            events: None,
            by_hand: None,
        }
    }

    pub(super) fn raw(status: u16, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type,
            headers: Vec::new(),
            body,
            stream: None,
            events: None,
            by_hand: None,
        }
    }

    /// A `text/event-stream` reply of these events.
    pub(super) fn sse(events: Events) -> Reply {
        let mut reply = Reply::raw(200, "text/event-stream", String::new())
            .header("Cache-Control", "no-cache".into());
        reply.events = Some(events);
        reply
    }

    pub(super) fn header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }

    pub(super) fn into_response(self, id: u64) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let mut response =
            tiny_http::Response::from_data(self.body.into_bytes()).with_status_code(self.status);
        for h in Reply::tiny_headers(self.content_type, self.headers, id) {
            response.add_header(h);
        }
        response
    }

    /// No length given, so tiny_http sends the stream with chunked encoding.
    pub(super) fn into_streaming_response(
        self,
        id: u64,
    ) -> tiny_http::Response<Box<dyn Read + Send>> {
        let body = self.stream.unwrap_or_else(|| Box::new(std::io::empty()));
        let headers = Reply::tiny_headers(self.content_type, self.headers, id);
        tiny_http::Response::new(self.status.into(), headers, body, None, None)
    }

    fn tiny_headers(
        content_type: &str,
        extra: Vec<(String, String)>,
        id: u64,
    ) -> Vec<tiny_http::Header> {
        let mut headers = vec![
            ("Content-Type".to_string(), content_type.to_string()),
            ("X-Cometapi-Request-Id".to_string(), format!("req-{id}")),
        ];
        headers.extend(extra);
        headers
            .into_iter()
            .filter_map(|(name, value)| {
                tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
            })
            .collect()
    }
}

pub(super) fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Reply {
    let mut err = Map::new();
    err.insert("message".into(), json!(message));
    err.insert("type".into(), json!(kind));
    if let Some(code) = code {
        err.insert("code".into(), json!(code));
    }
    Reply::json(status, json!({ "error": err }))
}

pub(super) fn bad_request(message: &str, code: &str) -> Reply {
    openai_error(400, message, "invalid_request_error", Some(code))
}

pub(super) fn console_ok(data: Value) -> Reply {
    Reply::json(200, json!({"success": true, "message": "", "data": data}))
}

pub(super) fn console_fail(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"success": false, "message": message, "data": null}),
    )
}

/// A required body field: name, type check, and the type's description.
pub(super) type Required = (&'static str, fn(&Value) -> bool, &'static str);

/// Parse a JSON object body and check required fields; Err is the 400 reply.
pub(super) fn require_json(req: &Recorded, required: &[Required]) -> Result<Value, Reply> {
    let body = match req.json_body() {
        Some(v @ Value::Object(_)) => v,
        _ => {
            return Err(bad_request(
                "request body is not valid JSON",
                "invalid_json",
            ))
        }
    };
    for (field, ok, what) in required {
        if !body.get(*field).is_some_and(ok) {
            return Err(bad_request(
                &format!("'{field}' is required and must be {what}"),
                "missing_required_parameter",
            ));
        }
    }
    Ok(body)
}

/// A canned failure returned instead of the normal reply.
#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with a `rate_limit` error; `Retry-After` / `retry-after-ms` headers when Some.
    RateLimited {
        retry_after_secs: Option<u64>,
        retry_after_ms: Option<u64>,
    },
    /// 429 with an `insufficient_quota` error.
    InsufficientQuota,
    /// 500 with a JSON error body.
    ServerError,
    /// That status with that body (content-type application/json).
    Status(u16, String),
    /// Sleep this long, then give the normal reply.
    Slow(Duration),
    /// 404 with a small text/html page.
    Html404,
    /// Take the request and never answer it (the connection stays open).
    NeverAnswers,
    /// This status (301, 302, 307, 308) with `Location: url`.
    Redirect(u16, String),
    /// Exactly this status, content type, extra headers and body.
    Custom {
        status: u16,
        content_type: &'static str,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A 200 whose chunked body is cut after `prefix` (broken framing), once the
    /// request was read whole.
    CutReply(String),
    /// A 200 of this content type: `prefix`, then `x` up to `bytes` in all, produced
    /// as it is read (never built in memory) and sent chunked, with no newline.
    Oversized {
        content_type: &'static str,
        prefix: String,
        bytes: usize,
    },
}

pub(super) fn fault_reply(fault: &Fault) -> Reply {
    match fault {
        Fault::RateLimited {
            retry_after_secs,
            retry_after_ms,
        } => {
            let mut reply = openai_error(429, "rate limited", "rate_limit_error", Some("rate_limit"));
            if let Some(secs) = retry_after_secs {
                reply = reply.header("Retry-After", secs.to_string());
            }
            if let Some(ms) = retry_after_ms {
                reply = reply.header("retry-after-ms", ms.to_string());
            }
            reply
        }
        Fault::InsufficientQuota => openai_error(
            429,
            "insufficient quota",
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
        Fault::ServerError => openai_error(
            500,
            "internal server error",
            "server_error",
            Some("internal_error"),
        ),
        Fault::Status(status, body) => Reply::raw(*status, "application/json", body.clone()),
        // Handled before routing; kept for exhaustiveness.
        Fault::Slow(_) | Fault::NeverAnswers | Fault::CutReply(_) => openai_error(500, "unexpected slow fault", "server_error", None),
        Fault::Html404 => Reply::raw(
            404,
            "text/html; charset=utf-8",
            "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n\
             <body><h1>404 Not Found</h1><p>The page you requested does not exist.</p></body></html>\n"
                .to_string(),
        ),
        Fault::Redirect(status, location) => {
            Reply::raw(*status, "text/plain", String::new()).header("Location", location.clone())
        }
        Fault::Custom {
            status,
            content_type,
            headers,
            body,
        } => {
            let mut reply = Reply::raw(*status, content_type, body.clone());
            reply.headers.extend(headers.iter().cloned());
            reply
        }
        Fault::Oversized {
            content_type,
            prefix,
            bytes,
        } => {
            let mut reply = Reply::raw(200, content_type, String::new());
            let prefix = prefix.as_bytes().to_vec();
            let filler = std::io::repeat(b'x').take(bytes.saturating_sub(prefix.len()) as u64);
            reply.stream = Some(Box::new(std::io::Cursor::new(prefix).chain(filler)));
            reply
        }
    }
}

/// A reply as a foreign gateway gives it: no console, errors as `{"detail": ...}`.
pub(super) fn foreign_reply(reply: Reply, path: &str) -> Reply {
    if path.starts_with("/api/") {
        return Reply::json(404, json!({"detail": "Not Found"}));
    }
    if reply.status < 400 {
        return reply;
    }
    let message = serde_json::from_str::<Value>(&reply.body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| reply.body.clone());
    Reply::json(reply.status, json!({"detail": message}))
}
