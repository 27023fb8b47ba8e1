//! A fake CometAPI server for tests, built on `tiny_http`.
//!
//! It speaks the wire shapes described in `api-reference.md`: the OpenAI-compatible
//! routes under `/v1`, Anthropic `/v1/messages`, Gemini `/v1beta/models/{m}:generateContent`
//! and the console routes under `/api`. Every request is recorded (before faults are
//! applied) so tests can assert on what the CLI sent, and faults can be injected per
//! path to exercise retries and error handling. All data is fixed and deterministic.
//!
//! ```ignore
//! let server = FakeServer::start();
//! server.inject("/v1/models", Fault::ServerError, 1);
//! // run the CLI with COMETAPI_BASE_URL=server.base_url() ...
//! assert_eq!(server.requests_to("/v1/models").len(), 2);
//! ```
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::{json, Map, Value};

#[path = "fake_bulk.rs"]
mod bulk;
#[path = "fake_jobs.rs"]
mod jobs;
#[path = "fake_media_audio.rs"]
pub mod media_audio;
#[path = "fake_media_images.rs"]
mod media_images;
#[allow(unused_imports)] // not every user of this file needs them
pub use jobs::{audio_bytes, video_bytes};
#[allow(unused_imports)] // not every user of this file needs them
pub use media_images::{image_bytes, multipart_parts, speech_audio, Part};

/// The only API key the server accepts.
pub const API_KEY: &str = "sk-test-valid-key-0001";
/// The only console access token the server accepts.
pub const ACCESS_TOKEN: &str = "tok-test-valid-token-0002";

/// Fixed "now" used for `created` fields so outputs are deterministic.
const FIXED_CREATED: i64 = 1_772_700_000;

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path as sent on the wire (not percent-decoded), without the query string.
    pub path: String,
    /// Raw query string without '?', "" if none.
    pub query: String,
    /// Header names are lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as received, for binary and multipart bodies.
    pub body_bytes: Vec<u8>,
}

impl Recorded {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query pairs, percent-decoded ('+' as space).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        parse_query(&self.query)
    }

    /// First value of query parameter `name`, decoded.
    fn param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Parameter value, treating an empty value as absent.
    fn filter(&self, name: &str) -> Option<String> {
        self.param(name).filter(|v| !v.is_empty())
    }

    fn json_body(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
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

/// How streamed (SSE) replies are written. Every streaming route (chat with
/// `"stream": true`, Responses and Anthropic with `"stream": true`, Gemini
/// `:streamGenerateContent?alt=sse`) follows it. Each event is one write (one HTTP
/// chunk) unless the mode says otherwise.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum StreamMode {
    #[default]
    Normal,
    /// End the body cleanly after this many events, before the reply finished.
    CutAfter(usize),
    /// After this many events, break the chunked framing: the client sees a transport error.
    BreakAfter(usize),
    /// After this many events, `data: {"error":{"message":"upstream provider failed",...}}`.
    ErrorAfter(usize),
    /// After this many events, `event: error` with a JSON error payload.
    ErrorEventAfter(usize),
    /// After this many events, a `data:` line that is not JSON.
    NotJsonAfter(usize),
    /// Every write ends inside a multi-byte UTF-8 character where there is one.
    SplitUtf8,
    /// Lines end in CR only.
    CrOnly,
    /// Lines end in CRLF, and each event's last LF starts the next write.
    Crlf,
    /// A `: keep-alive` comment line before every event.
    Comments,
    /// Every byte its own write, this long after the one before (a trickling server).
    Trickle(Duration),
    /// After this many events, send nothing more and keep the connection open.
    StallAfter(usize),
}

/// The running server. Dropping it stops the accept loop.
pub struct FakeServer {
    server: Arc<tiny_http::Server>,
    state: Arc<State>,
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeServer {
    /// Start on an ephemeral port of 127.0.0.1.
    pub fn start() -> FakeServer {
        FakeServer::start_on("127.0.0.1:0").expect("fake server: cannot bind 127.0.0.1:0")
    }

    /// Start on a given address, e.g. "127.0.0.1:8787".
    pub fn start_on(addr: &str) -> std::io::Result<FakeServer> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let server = Arc::new(server);
        let state = Arc::new(State::default());
        let stopping = Arc::new(AtomicBool::new(false));

        let accept = {
            let server = Arc::clone(&server);
            let state = Arc::clone(&state);
            let stopping = Arc::clone(&stopping);
            thread::Builder::new()
                .name("fake-cometapi-accept".into())
                .spawn(move || accept_loop(&server, &state, &stopping))?
        };

        Ok(FakeServer {
            server,
            state,
            addr: local,
            stopping,
            accept: Some(accept),
        })
    }

    /// "http://127.0.0.1:PORT/v1"
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.root_url())
    }

    /// "http://127.0.0.1:PORT"
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.recorded.lock().expect("recorded mutex").clone()
    }

    /// Requests whose path (no query) equals `path`, raw or percent-decoded.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path || percent_decode(&r.path, false) == path)
            .collect()
    }

    /// The next `times` requests whose path equals `path` get `fault`
    /// instead of the normal reply. Injections on one path queue up in order.
    pub fn inject(&self, path: &str, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        self.state
            .faults
            .lock()
            .expect("faults mutex")
            .push(PendingFault {
                path: path.to_string(),
                fault,
                remaining: times,
            });
    }

    /// Append `extra` synthetic models ("synthetic-model-00001", ...) to `/api/models`.
    pub fn set_catalog_size(&self, extra: usize) {
        self.state.catalog_extra.store(extra, Ordering::SeqCst);
    }

    /// Make `/api/log/self/export` stream `rows` generated CSV rows (0: the five fixed
    /// logs). The body is produced lazily and sent chunked, never built in memory.
    pub fn set_export_rows(&self, rows: usize) {
        self.state.export_rows.store(rows, Ordering::SeqCst);
    }

    /// How streamed replies are written from now on (see [`StreamMode`]).
    pub fn set_stream_mode(&self, mode: StreamMode) {
        *self.state.stream.lock().expect("stream mutex") = mode;
    }

    /// Wait this long after the request before the first byte of a streamed reply.
    pub fn set_stream_first_byte_delay(&self, delay: Duration) {
        *self.state.first_byte_delay.lock().expect("delay mutex") = delay;
    }

    /// Make streamed chat replies `n` generated deltas (`"tok "` each, 64 events per
    /// write) plus the finish, usage and `[DONE]` events, produced lazily (benchmarks).
    /// 0 restores the echo reply.
    pub fn set_stream_chunks(&self, n: usize) {
        self.state.stream_chunks.store(n, Ordering::SeqCst);
    }

    /// Make streamed chat replies these deltas, in order, instead of the echo (a
    /// Markdown reply arriving in pieces, for rendering tests). `None` restores the echo.
    pub fn set_reply_deltas(&self, deltas: Option<Vec<String>>) {
        *self.state.reply_deltas.lock().expect("deltas mutex") = deltas;
    }

    /// "Foreign gateway" mode (an OpenAI-compatible proxy such as LiteLLM, not
    /// CometAPI): no `/api/*` routes (404 `{"detail":"Not Found"}`), every error as
    /// FastAPI's `{"detail": message}`, and the streamed usage chunk carries
    /// `choices: [{"delta": {}}]` instead of an empty list.
    pub fn set_foreign_gateway(&self, foreign: bool) {
        self.state.foreign.store(foreign, Ordering::SeqCst);
    }

    /// Whether the access token may use the operator endpoint `GET /api/log/` (default
    /// true). When false it answers 403 `{"success":false,"message":"no permission"}`.
    pub fn set_operator(&self, operator: bool) {
        self.state.not_operator.store(!operator, Ordering::SeqCst);
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

// ---------------------------------------------------------------------------
// Server internals
// ---------------------------------------------------------------------------

#[derive(Default)]
struct State {
    recorded: Mutex<Vec<Recorded>>,
    faults: Mutex<Vec<PendingFault>>,
    catalog_extra: AtomicUsize,
    export_rows: AtomicUsize,
    not_operator: AtomicBool,
    counter: AtomicU64,
    stream: Mutex<StreamMode>,
    first_byte_delay: Mutex<Duration>,
    stream_chunks: AtomicUsize,
    reply_deltas: Mutex<Option<Vec<String>>>,
    foreign: AtomicBool,
    media_images: media_images::Media,
    jobs: jobs::Jobs,
    bulk: bulk::Bulk,
}

struct PendingFault {
    path: String,
    fault: Fault,
    remaining: usize,
}

impl State {
    fn take_fault(&self, raw_path: &str, decoded_path: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().expect("faults mutex");
        let idx = faults
            .iter()
            .position(|f| f.remaining > 0 && (f.path == raw_path || f.path == decoded_path))?;
        let fault = faults[idx].fault.clone();
        faults[idx].remaining -= 1;
        if faults[idx].remaining == 0 {
            faults.remove(idx);
        }
        Some(fault)
    }
}

fn accept_loop(server: &tiny_http::Server, state: &Arc<State>, stopping: &AtomicBool) {
    loop {
        match server.recv() {
            Ok(request) => {
                let state = Arc::clone(state);
                let _ = thread::Builder::new()
                    .name("fake-cometapi-request".into())
                    .spawn(move || handle(&state, request));
            }
            Err(_) if stopping.load(Ordering::SeqCst) => break,
            // A failed accept: keep serving.
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn handle(state: &State, mut request: tiny_http::Request) {
    let id = state.counter.fetch_add(1, Ordering::SeqCst) + 1;

    let mut raw_body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut raw_body);
    let url = request.url().to_string();
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (url.clone(), String::new()),
    };
    let recorded = Recorded {
        method: request.method().as_str().to_ascii_uppercase(),
        path,
        query,
        headers: request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_ascii_lowercase(),
                    h.value.as_str().to_string(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&raw_body).into_owned(),
        body_bytes: raw_body,
    };
    let flight = bulk::arrive(state, &recorded.path);
    if !bulk::unrecorded(state) {
        let mut all = state.recorded.lock().expect("recorded mutex");
        all.push(recorded.clone());
    }

    let decoded_path = percent_decode(&recorded.path, false);
    let reply = match state.take_fault(&recorded.path, &decoded_path) {
        Some(Fault::Slow(delay)) => {
            thread::sleep(delay);
            route(state, &recorded, &decoded_path, id)
        }
        Some(Fault::NeverAnswers) => hang(),
        Some(Fault::CutReply(prefix)) => return media_audio::write_cut(request, &prefix),
        Some(fault) => fault_reply(&fault),
        None if state.foreign.load(Ordering::SeqCst) => {
            foreign_reply(route(state, &recorded, &decoded_path, id), &decoded_path)
        }
        None => bulk::intercept(state, &recorded, &decoded_path, &flight)
            .unwrap_or_else(|| route(state, &recorded, &decoded_path, id)),
    };
    let reply = bulk::closing(reply, &flight, id);
    if let Some(write) = reply.by_hand {
        write(&mut request.into_writer());
        return;
    }
    if reply.events.is_some() {
        write_sse(state, request, reply, id);
        return;
    }
    let _ = match reply.stream {
        Some(_) => request.respond(reply.into_streaming_response(id)),
        None => request.respond(reply.into_response(id)),
    };
}

/// Holds the request thread (and so the connection) until the test process ends.
fn hang() -> ! {
    loop {
        thread::park();
    }
}

/// Writes a streamed reply by hand (status line, headers, then each piece as one HTTP
/// chunk, flushed), so the [`StreamMode`] decides the exact write boundaries and cuts.
fn write_sse(state: &State, request: tiny_http::Request, reply: Reply, id: u64) {
    let mode = state.stream.lock().expect("stream mutex").clone();
    let delay = *state.first_byte_delay.lock().expect("delay mutex");
    let Some(events) = reply.events else { return };
    let mut head = format!(
        "HTTP/1.1 {} OK\r\nContent-Type: {}\r\nTransfer-Encoding: chunked\r\nX-Cometapi-Request-Id: req-{id}\r\n",
        reply.status, reply.content_type
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if !delay.is_zero() {
        thread::sleep(delay);
    }
    let mut out = request.into_writer();
    let _ = sse_body(&mut out, &mode, events, &head);
}

const STREAM_ERROR: &str = r#"{"error":{"message":"upstream provider failed","type":"upstream_error","code":"upstream_error"}}"#;

fn sse_body(
    out: &mut dyn Write,
    mode: &StreamMode,
    events: Events,
    head: &str,
) -> std::io::Result<()> {
    out.write_all(head.as_bytes())?;
    out.flush()?;
    for (i, event) in events.enumerate() {
        match mode {
            StreamMode::CutAfter(n) if i == *n => break,
            StreamMode::BreakAfter(n) if i == *n => {
                out.write_all(b"zz\r\n")?;
                return out.flush();
            }
            StreamMode::ErrorAfter(n) if i == *n => {
                write_chunk(out, format!("data: {STREAM_ERROR}\n\n").as_bytes())?;
                break;
            }
            StreamMode::ErrorEventAfter(n) if i == *n => {
                write_chunk(
                    out,
                    format!("event: error\ndata: {STREAM_ERROR}\n\n").as_bytes(),
                )?;
                break;
            }
            StreamMode::NotJsonAfter(n) if i == *n => {
                write_chunk(out, b"data: <html>bad gateway</html>\n\n")?;
                break;
            }
            _ => {}
        }
        if let StreamMode::StallAfter(n) = mode {
            if i == *n {
                hang();
            }
        }
        for piece in pieces(mode, event) {
            if let StreamMode::Trickle(gap) = mode {
                thread::sleep(*gap);
            }
            write_chunk(out, &piece)?;
        }
    }
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}

/// One event as the writes the mode asks for.
fn pieces(mode: &StreamMode, event: String) -> Vec<Vec<u8>> {
    match mode {
        StreamMode::Comments => vec![format!(": keep-alive\n{event}").into_bytes()],
        StreamMode::CrOnly => vec![event.replace('\n', "\r").into_bytes()],
        StreamMode::Trickle(_) => event.into_bytes().into_iter().map(|b| vec![b]).collect(),
        StreamMode::Crlf => {
            let crlf = event.replace('\n', "\r\n").into_bytes();
            let (head, lf) = crlf.split_at(crlf.len() - 1);
            vec![head.to_vec(), lf.to_vec()]
        }
        StreamMode::SplitUtf8 => {
            // Cut right after the lead byte of every multi-byte character.
            let mut pieces = vec![Vec::new()];
            for byte in event.into_bytes() {
                if let Some(last) = pieces.last_mut() {
                    last.push(byte);
                }
                if byte >= 0xC0 {
                    pieces.push(Vec::new());
                }
            }
            pieces.retain(|p| !p.is_empty());
            pieces
        }
        _ => vec![event.into_bytes()],
    }
}

fn write_chunk(out: &mut dyn Write, bytes: &[u8]) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    write!(out, "{:x}\r\n", bytes.len())?;
    out.write_all(bytes)?;
    out.write_all(b"\r\n")?;
    out.flush()
}

/// A response before it is turned into a tiny_http one.
struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(String, String)>,
    body: String,
    /// A body produced as it is read, sent chunked instead of `body`.
    stream: Option<Box<dyn Read + Send>>,
    /// Server-sent events, written by [`write_sse`] with exact write boundaries.
    events: Option<Events>,
    /// The whole reply (status line, headers, body) written to the connection by hand,
    /// for a cut no well-formed reply can make.
    by_hand: Option<media_images::ByHand>,
}

/// The SSE events of a streamed reply, each a complete `field: value\n...\n\n` block.
type Events = Box<dyn Iterator<Item = String> + Send>;

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
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

    fn raw(status: u16, content_type: &'static str, body: String) -> Reply {
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
    fn sse(events: Events) -> Reply {
        let mut reply = Reply::raw(200, "text/event-stream", String::new())
            .header("Cache-Control", "no-cache".into());
        reply.events = Some(events);
        reply
    }

    fn header(mut self, name: &str, value: String) -> Reply {
        self.headers.push((name.to_string(), value));
        self
    }

    fn into_response(self, id: u64) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let mut response =
            tiny_http::Response::from_data(self.body.into_bytes()).with_status_code(self.status);
        for h in Reply::tiny_headers(self.content_type, self.headers, id) {
            response.add_header(h);
        }
        response
    }

    /// No length given, so tiny_http sends the stream with chunked encoding.
    fn into_streaming_response(self, id: u64) -> tiny_http::Response<Box<dyn Read + Send>> {
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

fn openai_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> Reply {
    let mut err = Map::new();
    err.insert("message".into(), json!(message));
    err.insert("type".into(), json!(kind));
    if let Some(code) = code {
        err.insert("code".into(), json!(code));
    }
    Reply::json(status, json!({ "error": err }))
}

fn bad_request(message: &str, code: &str) -> Reply {
    openai_error(400, message, "invalid_request_error", Some(code))
}

fn console_ok(data: Value) -> Reply {
    Reply::json(200, json!({"success": true, "message": "", "data": data}))
}

fn console_fail(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"success": false, "message": message, "data": null}),
    )
}

fn fault_reply(fault: &Fault) -> Reply {
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
fn foreign_reply(reply: Reply, path: &str) -> Reply {
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

// ---------------------------------------------------------------------------
// Routing and credentials
// ---------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Auth {
    /// `Authorization: Bearer API_KEY`
    BearerKey,
    /// `x-api-key: API_KEY` + `anthropic-version`
    Anthropic,
    /// `x-goog-api-key: API_KEY`
    Google,
    /// `Authorization: Bearer ACCESS_TOKEN`
    Console,
    Public,
}

fn bearer(req: &Recorded) -> Option<&str> {
    let value = req.header("authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn check_auth(req: &Recorded, auth: Auth) -> Option<Reply> {
    let invalid_key = || {
        openai_error(
            401,
            "Invalid API key",
            "invalid_request_error",
            Some("invalid_api_key"),
        )
    };
    match auth {
        Auth::BearerKey => (bearer(req) != Some(API_KEY)).then(invalid_key),
        Auth::Anthropic => {
            if req.header("x-api-key").map(str::trim) != Some(API_KEY) {
                Some(invalid_key())
            } else if req
                .header("anthropic-version")
                .is_none_or(|v| v.trim().is_empty())
            {
                Some(bad_request(
                    "anthropic-version: header is required",
                    "missing_anthropic_version",
                ))
            } else {
                None
            }
        }
        Auth::Google => {
            (req.header("x-goog-api-key").map(str::trim) != Some(API_KEY)).then(invalid_key)
        }
        Auth::Console => {
            (bearer(req) != Some(ACCESS_TOKEN)).then(|| console_fail(401, "invalid access token"))
        }
        Auth::Public => None,
    }
}

fn guarded(req: &Recorded, auth: Auth, reply: impl FnOnce() -> Reply) -> Reply {
    match check_auth(req, auth) {
        Some(err) => err,
        None => reply(),
    }
}

fn route(state: &State, req: &Recorded, path: &str, id: u64) -> Reply {
    use Auth::*;
    match (req.method.as_str(), path) {
        ("GET", "/v1/models") => guarded(req, BearerKey, openai_models),
        ("POST", "/v1/chat/completions") => {
            guarded(req, BearerKey, || chat_completions(state, req, id))
        }
        ("POST", "/v1/responses") => guarded(req, BearerKey, || responses(req, id)),
        ("POST", "/v1/messages") => guarded(req, Anthropic, || anthropic_messages(req, id)),
        ("GET", "/v1/dashboard/billing/subscription") => {
            guarded(req, BearerKey, billing_subscription)
        }
        ("GET", "/v1/dashboard/billing/usage") => guarded(req, BearerKey, billing_usage),
        ("POST", p) if gemini_target(p).is_some() => {
            let (model, action) = gemini_target(p).unwrap_or_default();
            guarded(req, Google, || gemini(req, &model, &action))
        }
        ("GET", "/api/models") => console_ok(Value::Array(catalog(state))),
        ("GET", p) if p.starts_with("/api/model/") && p.len() > "/api/model/".len() => {
            model_detail(state, &p["/api/model/".len()..])
        }
        ("GET", "/api/user/self") => guarded(req, Console, || console_ok(user_self())),
        ("GET", "/api/user/self/stats") => guarded(req, Console, || console_ok(user_stats())),
        ("GET", "/api/token/") => guarded(req, Console, || console_ok(paginate(req, tokens()))),
        ("GET", "/api/token/search") => guarded(req, Console, || token_search(req)),
        ("GET", "/api/log/self") => guarded(req, Console, || {
            filtered_logs(req).map_or_else(|e| e, |logs| console_ok(paginate(req, logs)))
        }),
        ("GET", "/api/log/self/export") => guarded(req, Console, || {
            match state.export_rows.load(Ordering::SeqCst) {
                0 => filtered_logs(req).map_or_else(|e| e, |logs| logs_csv(&logs)),
                rows => generated_logs_csv(rows),
            }
        }),
        ("GET", "/api/log/self/stat") => guarded(req, Console, || {
            filtered_logs(req).map_or_else(|e| e, |logs| console_ok(log_stat(&logs)))
        }),
        ("GET", "/api/log/") => guarded(req, Console, || {
            if state.not_operator.load(Ordering::SeqCst) {
                console_fail(403, "no permission")
            } else {
                log_by_request_id(req)
            }
        }),
        ("GET", "/api/task/self") => guarded(req, Console, || {
            filtered_tasks(req).map_or_else(|e| e, |tasks| console_ok(paginate(req, tasks)))
        }),
        ("POST", p) if media_images::serves(p) => media_images::route(state, req, p),
        ("POST", p) if media_audio::serves(p) => {
            guarded(req, BearerKey, || media_audio::route(req, p))
        }
        (_, p) if jobs::serves(p) => jobs::route(state, req, p),
        (method, _) => openai_error(
            404,
            &format!("Invalid URL ({method} {})", req.path),
            "invalid_request_error",
            None,
        ),
    }
}

/// `/v1beta/models/{model}:{action}` → (model, action) for the Gemini actions we serve.
fn gemini_target(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/v1beta/models/")?;
    let (model, action) = rest.rsplit_once(':')?;
    let known = action == "generateContent" || action == "streamGenerateContent";
    (known && !model.is_empty() && !model.contains('/'))
        .then(|| (model.to_string(), action.to_string()))
}

// ---------------------------------------------------------------------------
// Model endpoints
// ---------------------------------------------------------------------------

fn openai_models() -> Reply {
    let owned = [
        ("gpt-5.4", "openai"),
        ("gpt-5.2", "openai"),
        ("gpt-4o", "openai"),
        ("gpt-4o-mini", "openai"),
        ("claude-sonnet-4-6", "anthropic"),
        ("claude-opus-4-5", "anthropic"),
        ("gemini-2.5-pro", "google"),
        ("deepseek-v4-pro", "deepseek"),
    ];
    let data: Vec<Value> = owned
        .iter()
        .map(|(id, by)| json!({"id": id, "object": "model", "created": 1_767_225_600, "owned_by": by}))
        .collect();
    Reply::json(200, json!({"object": "list", "data": data}))
}

/// Rough token count: a quarter of the characters, at least 1.
fn tokens_of(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// Text of a message `content`: a string, or an array of parts with `text`.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Last `role: user` message's text in an OpenAI/Anthropic `messages` array.
fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
        .unwrap_or_default()
}

fn prompt_tokens(messages: &[Value]) -> u64 {
    messages
        .iter()
        .map(|m| 4 + tokens_of(&content_text(m.get("content").unwrap_or(&Value::Null))))
        .sum()
}

/// A required body field: name, type check, and the type's description.
type Required = (&'static str, fn(&Value) -> bool, &'static str);

/// Parse a JSON object body and check required fields; Err is the 400 reply.
fn require_json(req: &Recorded, required: &[Required]) -> Result<Value, Reply> {
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

fn chat_completions(state: &State, req: &Recorded, id: u64) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            ("messages", Value::is_array, "an array"),
        ],
    ) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = last_user_text(&messages);
    let reply = format!("echo: {user}");
    let prompt = prompt_tokens(&messages);
    let completion = tokens_of(&reply);
    let usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    let chat_id = format!("chatcmpl-fake-{id:04}");

    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        let chunk = |choices: Value| {
            json!({
                "id": chat_id, "object": "chat.completion.chunk",
                "created": FIXED_CREATED, "model": model, "choices": choices,
            })
        };
        let given = state.reply_deltas.lock().expect("deltas mutex").clone();
        let deltas = given.unwrap_or_else(|| vec!["echo: ".to_string(), user.clone()]);
        let mut events: Vec<Value> = deltas
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let delta = if i == 0 {
                    json!({"role": "assistant", "content": d})
                } else {
                    json!({"content": d})
                };
                chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]))
            })
            .collect();
        events.push(chunk(
            json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        ));
        if include_usage {
            let foreign = state.foreign.load(Ordering::SeqCst);
            let mut last = chunk(if foreign {
                json!([{"index": 0, "delta": {}}])
            } else {
                json!([])
            });
            last["usage"] = usage;
            events.push(last);
        }
        let tail: Vec<String> = events
            .iter()
            .map(|e| format!("data: {e}\n\n"))
            .chain(std::iter::once("data: [DONE]\n\n".to_string()))
            .collect();
        let n = state.stream_chunks.load(Ordering::SeqCst);
        if n == 0 {
            return Reply::sse(Box::new(tail.into_iter()));
        }
        // Generated deltas, 64 events per write, then the finish/usage/[DONE] tail.
        let delta =
            chunk(json!([{"index": 0, "delta": {"content": "tok "}, "finish_reason": null}]));
        let line = format!("data: {delta}\n\n");
        let batch = line.repeat(64);
        let generated = std::iter::repeat_n(batch, n / 64)
            .chain((n % 64 > 0).then(|| line.repeat(n % 64)))
            .chain(tail.into_iter().skip(2));
        return Reply::sse(Box::new(generated));
    }

    Reply::json(
        200,
        json!({
            "id": chat_id,
            "object": "chat.completion",
            "created": FIXED_CREATED,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
            }],
            "usage": usage,
        }),
    )
}

fn responses(req: &Recorded, id: u64) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            (
                "input",
                |v| v.is_string() || v.is_array(),
                "a string or an array",
            ),
        ],
    ) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let model = body["model"].as_str().unwrap_or_default();
    let input = match &body["input"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            // Either messages ({role, content}) or bare content parts.
            let user = last_user_text(items);
            if user.is_empty() {
                content_text(&body["input"])
            } else {
                user
            }
        }
        _ => String::new(),
    };
    let text = format!("echo: {input}");
    let (inp, out) = (tokens_of(&input), tokens_of(&text));
    let response = json!({
            "id": format!("resp_fake_{id:04}"),
            "object": "response",
            "created_at": FIXED_CREATED,
            "status": "completed",
            "model": model,
            "output": [{
                "type": "message",
                "id": format!("msg_fake_{id:04}"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }],
            "output_text": text,
            "usage": {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out},
    });
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let created = json!({"type": "response.created", "response": {
            "id": response["id"], "object": "response", "status": "in_progress", "model": model,
        }});
        let delta = |d: &str| json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": d});
        let events = [
            created,
            delta("echo: "),
            delta(&input),
            json!({"type": "response.output_text.done", "output_index": 0, "content_index": 0, "text": text}),
            json!({"type": "response.completed", "response": response}),
        ];
        return Reply::sse(named_events(&events));
    }
    Reply::json(200, response)
}

/// `event: {type}` + `data: {json}` blocks (Responses and Anthropic streams).
fn named_events(events: &[Value]) -> Events {
    let blocks: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "event: {}\ndata: {e}\n\n",
                e["type"].as_str().unwrap_or("message")
            )
        })
        .collect();
    Box::new(blocks.into_iter())
}

fn anthropic_messages(req: &Recorded, id: u64) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            ("max_tokens", Value::is_u64, "a positive integer"),
            ("messages", Value::is_array, "an array"),
        ],
    ) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let model = body["model"].as_str().unwrap_or_default();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = last_user_text(&messages);
    let text = format!("echo: {user}");
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let delta = |t: &str| json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}});
        let events = [
            json!({"type": "message_start", "message": {
                "id": format!("msg_fake_{id:04}"), "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": null,
                "usage": {"input_tokens": prompt_tokens(&messages), "output_tokens": 1},
            }}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "ping"}),
            delta("echo: "),
            delta(&user),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"output_tokens": tokens_of(&text)}}),
            json!({"type": "message_stop"}),
        ];
        return Reply::sse(named_events(&events));
    }
    Reply::json(
        200,
        json!({
            "id": format!("msg_fake_{id:04}"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {
                "input_tokens": prompt_tokens(&messages),
                "output_tokens": tokens_of(&text),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }),
    )
}

fn gemini(req: &Recorded, model: &str, action: &str) -> Reply {
    let body = match require_json(req, &[("contents", Value::is_array, "an array")]) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    let parts_text = |c: &Value| content_text(c.get("parts").unwrap_or(&Value::Null));
    let user = contents
        .iter()
        .rev()
        .find(|c| {
            c.get("role")
                .and_then(Value::as_str)
                .is_none_or(|r| r == "user")
        })
        .map(parts_text)
        .unwrap_or_default();
    let prompt: u64 = contents.iter().map(|c| tokens_of(&parts_text(c))).sum();
    let candidate = |text: &str, finish: Option<&str>| {
        let mut c = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        c
    };
    let text = format!("echo: {user}");
    let usage = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": tokens_of(&text),
        "totalTokenCount": prompt + tokens_of(&text),
    });

    if action == "streamGenerateContent" {
        let chunks = [
            json!({"candidates": [candidate("echo: ", None)], "modelVersion": model}),
            json!({"candidates": [candidate(&user, Some("STOP"))], "usageMetadata": usage, "modelVersion": model}),
        ];
        if req.param("alt").as_deref() == Some("sse") {
            let blocks: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
            return Reply::sse(Box::new(blocks.into_iter()));
        }
        return Reply::json(200, Value::Array(chunks.to_vec()));
    }

    Reply::json(
        200,
        json!({
            "candidates": [candidate(&text, Some("STOP"))],
            "usageMetadata": usage,
            "modelVersion": model,
        }),
    )
}

fn billing_subscription() -> Reply {
    Reply::json(
        200,
        json!({
            "object": "billing_subscription",
            "has_payment_method": true,
            "soft_limit_usd": 100.0,
            "hard_limit_usd": 100.0,
            "system_hard_limit_usd": 100.0,
            "access_until": 0,
        }),
    )
}

fn billing_usage() -> Reply {
    // Cents: 12.345 USD used of the 100 USD limit.
    Reply::json(200, json!({"object": "list", "total_usage": 1234.5}))
}

// ---------------------------------------------------------------------------
// Public catalog
// ---------------------------------------------------------------------------

fn endpoints_string(endpoints: &[(&str, &str)]) -> String {
    let mut map = Map::new();
    for (name, path) in endpoints {
        map.insert((*name).into(), json!({"path": path, "method": "POST"}));
    }
    Value::Object(map).to_string()
}

fn token_pricing(input: f64, output: f64) -> Value {
    json!({"currency": "USD / M Tokens", "input": input, "output": output, "per_request": null, "per_second": null})
}

fn request_pricing(per_request: f64) -> Value {
    json!({"currency": "USD / Request", "input": null, "output": null, "per_request": per_request, "per_second": null})
}

#[allow(clippy::too_many_arguments)]
fn catalog_record(
    id: &str,
    code: &str,
    name: &str,
    (provider, provider_code): (&str, &str),
    model_type: &str,
    features: &[&str],
    endpoints: &[(&str, &str)],
    pricing: Value,
    (context_length, max_completion_tokens): (Value, Value),
) -> Value {
    json!({
        "id": id,
        "code": code,
        "name": name,
        "provider": provider,
        "provider_code": provider_code,
        "model_type": model_type,
        "features": features,
        "endpoints": endpoints_string(endpoints),
        "pricing": pricing,
        "context_length": context_length,
        "max_completion_tokens": max_completion_tokens,
        "api_doc_url": format!("https://apidoc.cometapi.com/models/{code}"),
    })
}

#[rustfmt::skip]
fn base_catalog() -> Vec<Value> {
    const OPENAI: (&str, &str) = ("OpenAI", "openai");
    const ANTHROPIC: (&str, &str) = ("Anthropic", "anthropic");
    const GOOGLE: (&str, &str) = ("Google", "google");
    const DEEPSEEK: (&str, &str) = ("DeepSeek", "deepseek");
    const SUNO: (&str, &str) = ("Suno", "suno");
    const CHAT: (&str, &str) = ("openai-chat", "/v1/chat/completions");
    const RESPONSES: (&str, &str) = ("openai-responses", "/v1/responses");
    const MESSAGES: (&str, &str) = ("anthropic-messages", "/v1/messages");
    let reasoning = ["text-to-text", "function-calling", "vision", "reasoning"];
    let vision = ["text-to-text", "function-calling", "vision"];
    let limits = |ctx: u64, out: u64| (json!(ctx), json!(out));
    vec![
        catalog_record("gpt-5.4", "gpt-5.4", "GPT-5.4", OPENAI, "text", &reasoning,
            &[CHAT, RESPONSES], token_pricing(1.25, 10.0), limits(400_000, 128_000)),
        catalog_record("gpt-5.2", "gpt-5.2", "GPT-5.2", OPENAI, "text", &reasoning,
            &[CHAT, RESPONSES], token_pricing(1.0, 8.0), limits(400_000, 128_000)),
        catalog_record("gpt-4o", "gpt-4o", "GPT-4o", OPENAI, "text", &vision,
            &[CHAT, RESPONSES], token_pricing(2.0, 8.0), limits(128_000, 16_384)),
        catalog_record("gpt-4o-mini", "gpt-4o-mini", "GPT-4o mini", OPENAI, "text", &vision,
            &[CHAT, RESPONSES], token_pricing(0.12, 0.48), limits(128_000, 16_384)),
        catalog_record("claude-sonnet-4-6", "claude-sonnet-4-6-latest", "Claude Sonnet 4.6",
            ANTHROPIC, "text", &reasoning, &[CHAT, MESSAGES], token_pricing(2.4, 12.0),
            limits(200_000, 64_000)),
        catalog_record("claude-opus-4-5", "claude-opus-4-5", "Claude Opus 4.5", ANTHROPIC,
            "text", &reasoning, &[CHAT, MESSAGES], token_pricing(4.0, 20.0),
            limits(200_000, 32_000)),
        catalog_record("gemini-2.5-pro", "gemini-2-5-pro", "Gemini 2.5 Pro", GOOGLE, "text",
            &reasoning,
            &[CHAT, ("gemini-generate", "/v1beta/models/gemini-2.5-pro:generateContent")],
            token_pricing(1.0, 8.0), limits(1_048_576, 65_536)),
        catalog_record("deepseek-v4-pro", "deepseek-v4-pro", "DeepSeek V4 Pro", DEEPSEEK,
            "text", &["text-to-text", "function-calling", "reasoning"], &[CHAT],
            token_pricing(0.44, 1.75), limits(128_000, 8_192)),
        catalog_record("gpt-image-1", "gpt-image-1", "GPT Image 1", OPENAI, "image",
            &["text-to-image", "image-to-image"],
            &[("openai-images", "/v1/images/generations")], request_pricing(0.04),
            (Value::Null, Value::Null)),
        catalog_record("suno-v4", "suno-v4", "Suno V4", SUNO, "audio", &["text-to-music"],
            &[("suno-music", "/suno/submit/music")], request_pricing(0.1),
            (Value::Null, Value::Null)),
    ]
}

fn synthetic_record(n: usize) -> Value {
    let id = format!("synthetic-model-{n:05}");
    let input = ((n % 50) as f64 + 1.0) / 10.0;
    catalog_record(
        &id,
        &id,
        &format!("Synthetic Model {n:05}"),
        ("Synthetic", "synthetic"),
        "text",
        &["text-to-text"],
        &[("openai-chat", "/v1/chat/completions")],
        token_pricing(input, input * 4.0),
        (json!(32_768), json!(4_096)),
    )
}

fn catalog(state: &State) -> Vec<Value> {
    let extra = state.catalog_extra.load(Ordering::SeqCst);
    let mut records = base_catalog();
    records.extend((1..=extra).map(synthetic_record));
    records
}

fn overview(record: &Value) -> String {
    let s = |k: &str| record[k].as_str().unwrap_or_default().to_string();
    let context = match record["context_length"].as_u64() {
        Some(n) => format!("{n} tokens"),
        None => "n/a".to_string(),
    };
    format!(
        "# {name}\n\n**{name}** is a {kind} model from {provider}, served through CometAPI. \
         Call it as `{id}`; see the [API docs](https://example.com) for details.\n\n\
         - Provider: {provider}\n- Type: {kind}\n- Context window: {context}\n",
        name = s("name"),
        kind = s("model_type"),
        provider = s("provider"),
        id = s("id"),
    )
}

fn model_detail(state: &State, code: &str) -> Reply {
    let found = catalog(state)
        .into_iter()
        .find(|r| r["code"].as_str() == Some(code));
    match found {
        Some(mut record) => {
            record["overview"] = json!(overview(&record));
            console_ok(record)
        }
        None => console_fail(200, "model not found"),
    }
}

// ---------------------------------------------------------------------------
// Console: account, tokens
// ---------------------------------------------------------------------------

fn user_self() -> Value {
    json!({
        "id": 42,
        "username": "tester",
        "display_name": "Test User",
        "email": "tester@example.com",
        "role": 1,
        "status": 1,
        "quota": 2_500_000,
        "used_quota": 500_000,
        "request_count": 321,
        "group": "default",
    })
}

fn user_stats() -> Value {
    json!({
        "month_req_count": 321,
        "req_rate": 12.5,
        "month_usage": 1.0,
        "usage_rate": -8.3,
        "month_success_rate": 99.1,
        "predicted_days": 150,
    })
}

fn tokens() -> Vec<Value> {
    vec![
        json!({
            "id": 101, "name": "default",
            "key": "sk-Fk9wQ2mZr8TnLx4VbYc7JdHs3GpAe6Ku1NoWq5Ei0RtMzX9f3a",
            "status": 1, "remain_quota": 1_000_000, "used_quota": 250_000,
            "unlimited_quota": false, "created_time": 1_767_225_600,
            "accessed_time": 1_772_698_800, "expired_time": -1,
        }),
        json!({
            "id": 102, "name": "ci-pipeline",
            "key": "sk-Pq2Ls8Vn4Xc6Bz1Mk3Jh5Gf7Dd9Sa0Qw2Er4Ty6Ui8Op1c7c1d",
            "status": 1, "remain_quota": 0, "used_quota": 1_480_000,
            "unlimited_quota": true, "created_time": 1_767_139_200,
            "accessed_time": 1_772_546_710, "expired_time": 1_798_761_600,
        }),
        json!({
            "id": 103, "name": "old-experiment",
            "key": "sk-Zx7Cv5Bn3Mm1Lk9Jh8Gf6Dd4Ss2Aa0Qq1Ww3Ee5Rr7Tt9Yy0e5b",
            "status": 3, "remain_quota": 120_000, "used_quota": 380_000,
            "unlimited_quota": false, "created_time": 1_748_736_000,
            "accessed_time": 1_767_139_200, "expired_time": 1_767_225_600,
        }),
    ]
}

fn token_search(req: &Recorded) -> Reply {
    let keyword = req.param("keyword").unwrap_or_default();
    let hits: Vec<Value> = tokens()
        .into_iter()
        .filter(|t| {
            ["name", "key"]
                .iter()
                .any(|k| t[*k].as_str().is_some_and(|s| s.contains(&keyword)))
        })
        .collect();
    console_ok(Value::Array(hits))
}

/// `{"items","total","page","page_size"}` using `p` (1-based) and `page_size`.
fn paginate(req: &Recorded, items: Vec<Value>) -> Value {
    let page = req
        .param("p")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let page_size = req
        .param("page_size")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(10)
        .min(100);
    let total = items.len();
    let start = (page - 1).saturating_mul(page_size);
    let slice: Vec<Value> = items.into_iter().skip(start).take(page_size).collect();
    json!({"items": slice, "total": total, "page": page, "page_size": page_size})
}

// ---------------------------------------------------------------------------
// Console: logs and tasks
// ---------------------------------------------------------------------------

#[allow(clippy::too_many_arguments)]
fn log_entry(
    id: u64,
    created_at: i64,
    kind: u8,
    (model_name, token_name, group): (&str, &str, &str),
    (prompt_tokens, completion_tokens, quota): (u64, u64, i64),
    (use_time, is_stream): (u64, bool),
    request_id: &str,
    content: &str,
    other: Value,
) -> Value {
    json!({
        "id": id,
        "created_at": created_at,
        "type": kind,
        "model_name": model_name,
        "token_name": token_name,
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "quota": quota,
        "use_time": use_time,
        "is_stream": is_stream,
        "request_id": request_id,
        "response_id": if kind == 2 { format!("chatcmpl-{request_id}") } else { String::new() },
        "group": group,
        "content": content,
        // `other` is a JSON object encoded as a string ("" when there is none).
        "other": if other.is_null() { String::new() } else { other.to_string() },
    })
}

#[allow(clippy::too_many_arguments)]
fn log_other(
    model_ratio: f64,
    completion_ratio: f64,
    group_ratio: f64,
    cache_tokens: u64,
    total_ms: u64,
    frt: u64,
    request_path: &str,
) -> Value {
    json!({
        "model_ratio": model_ratio,
        "completion_ratio": completion_ratio,
        "group_ratio": group_ratio,
        "model_price": -1,
        "cache_tokens": cache_tokens,
        "cache_ratio": 0.1,
        "total_ms": total_ms,
        "frt": frt,
        "request_path": request_path,
    })
}

/// Five log entries, newest first, 2026-03-01 .. 2026-03-05 UTC.
#[rustfmt::skip]
fn logs() -> Vec<Value> {
    vec![
        log_entry(5005, 1_772_698_800, 2, ("deepseek-v4-pro", "ci-pipeline", "vip"),
            (5000, 1250, 1980), (6, true), "req-log-0005",
            "model ratio 0.22, completion ratio 4, group ratio 0.9",
            log_other(0.22, 4.0, 0.9, 1024, 6210, 480, "/v1/chat/completions")),
        log_entry(5004, 1_772_642_730, 5, ("gemini-2.5-pro", "default", "default"),
            (0, 0, 0), (2, false), "req-log-0004",
            "upstream error: status 503, model is overloaded",
            log_other(0.5, 8.0, 1.0, 0, 2050, 0, "/v1beta/models/gemini-2.5-pro:generateContent")),
        log_entry(5003, 1_772_546_710, 2, ("claude-sonnet-4-6", "ci-pipeline", "default"),
            (3400, 820, 9000), (4, false), "req-log-0003",
            "model ratio 1.2, completion ratio 5, group ratio 1",
            log_other(1.2, 5.0, 1.0, 0, 4380, 1320, "/v1/messages")),
        log_entry(5002, 1_772_447_400, 2, ("gpt-5.4", "default", "default"),
            (1200, 350, 2500), (3, true), "req-log-0002",
            "model ratio 0.625, completion ratio 8, group ratio 1",
            log_other(0.625, 8.0, 1.0, 256, 2840, 612, "/v1/chat/completions")),
        log_entry(5001, 1_772_356_500, 1, ("", "", "default"), (0, 0, 5_000_000), (0, false),
            "req-log-0001", "Top-up via Stripe: $10.00", Value::Null),
    ]
}

fn parse_int_param(req: &Recorded, name: &str) -> Result<Option<i64>, Reply> {
    match req.filter(name) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| console_fail(200, &format!("invalid parameter {name}: {v}"))),
    }
}

fn matches_str(item: &Value, field: &str, wanted: &Option<String>) -> bool {
    wanted
        .as_ref()
        .is_none_or(|w| item[field].as_str() == Some(w.as_str()))
}

fn in_range(ts: Option<i64>, start: Option<i64>, end: Option<i64>) -> bool {
    let ts = ts.unwrap_or(0);
    start.is_none_or(|s| ts >= s) && end.is_none_or(|e| ts <= e)
}

/// Logs after the `/api/log/self` filters; type 0 (or absent) means all types.
fn filtered_logs(req: &Recorded) -> Result<Vec<Value>, Reply> {
    let kind = parse_int_param(req, "type")?.filter(|t| *t != 0);
    let start = parse_int_param(req, "start_timestamp")?;
    let end = parse_int_param(req, "end_timestamp")?;
    let model = req.filter("model_name");
    let token = req.filter("token_name");
    let group = req.filter("group");
    let request_id = req.filter("request_id");
    Ok(logs()
        .into_iter()
        .filter(|l| kind.is_none_or(|k| l["type"].as_i64() == Some(k)))
        .filter(|l| in_range(l["created_at"].as_i64(), start, end))
        .filter(|l| matches_str(l, "model_name", &model))
        .filter(|l| matches_str(l, "token_name", &token))
        .filter(|l| matches_str(l, "group", &group))
        .filter(|l| matches_str(l, "request_id", &request_id))
        .collect())
}

fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn logs_csv(logs: &[Value]) -> Reply {
    const COLUMNS: [&str; 12] = [
        "created_at",
        "type",
        "model_name",
        "token_name",
        "prompt_tokens",
        "completion_tokens",
        "quota",
        "use_time",
        "is_stream",
        "request_id",
        "group",
        "content",
    ];
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for log in logs {
        let row: Vec<String> = COLUMNS.iter().map(|c| csv_field(&log[*c])).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    Reply::raw(200, "text/csv; charset=utf-8", out).header(
        "Content-Disposition",
        "attachment; filename=\"logs.csv\"".into(),
    )
}

const EXPORT_HEADER: &str = "created_at,type,model_name,token_name,prompt_tokens,\
completion_tokens,quota,use_time,is_stream,request_id,group,content\n";

/// `rows` generated log rows after the header, produced as they are read.
struct GeneratedRows {
    next: usize,
    rows: usize,
    line: Vec<u8>,
    pos: usize,
}

impl GeneratedRows {
    /// Row `n` (1-based): about 120 bytes, one quoted field with a comma.
    fn row(n: usize) -> String {
        format!(
            "{},2,gpt-5.4,default,{},{},{},3,true,req-export-{n:08},default,\
             \"model ratio 0.625, completion ratio 8, group ratio 1\"\n",
            FIXED_CREATED - n as i64,
            1000 + n % 1000,
            200 + n % 300,
            2000 + n % 5000,
        )
    }
}

impl Read for GeneratedRows {
    /// Fills `buf` with as many lines (or parts of one) as fit.
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut filled = 0;
        while filled < buf.len() {
            if self.pos == self.line.len() {
                if self.next > self.rows {
                    break;
                }
                self.line = match self.next {
                    0 => EXPORT_HEADER.as_bytes().to_vec(),
                    n => GeneratedRows::row(n).into_bytes(),
                };
                self.pos = 0;
                self.next += 1;
            }
            let n = (buf.len() - filled).min(self.line.len() - self.pos);
            buf[filled..filled + n].copy_from_slice(&self.line[self.pos..self.pos + n]);
            self.pos += n;
            filled += n;
        }
        Ok(filled)
    }
}

fn generated_logs_csv(rows: usize) -> Reply {
    let mut reply = Reply::raw(200, "text/csv; charset=utf-8", String::new()).header(
        "Content-Disposition",
        "attachment; filename=\"logs.csv\"".into(),
    );
    reply.stream = Some(Box::new(GeneratedRows {
        next: 0,
        rows,
        line: Vec::new(),
        pos: 0,
    }));
    reply
}

fn log_stat(logs: &[Value]) -> Value {
    let quota: i64 = logs
        .iter()
        .filter(|l| l["type"].as_i64() == Some(2))
        .filter_map(|l| l["quota"].as_i64())
        .sum();
    json!({"quota": quota, "rpm": 2, "tpm": 1550})
}

/// The operator lookup: the `/api/log/self` filters, and `request_id` is required.
fn log_by_request_id(req: &Recorded) -> Reply {
    if req.filter("request_id").is_none() {
        return console_ok(paginate(req, Vec::new()));
    }
    filtered_logs(req).map_or_else(|e| e, |hits| console_ok(paginate(req, hits)))
}

#[rustfmt::skip]
fn tasks() -> Vec<Value> {
    let task = |id: u64, at: i64, platform: &str, task_id: &str, action: &str, status: &str,
                model: &str, progress: &str, quota: i64, finish: i64, fail_reason: &str| {
        json!({
            "id": id, "created_at": at, "platform": platform, "task_id": task_id,
            "action": action, "status": status, "model_name": model, "progress": progress,
            "quota": quota, "submit_time": at, "finish_time": finish, "fail_reason": fail_reason,
        })
    };
    vec![
        task(903, 1_772_712_000, "kling", "task_kling_0003", "text2video", "IN_PROGRESS",
            "kling-v2-master", "45%", 200_000, 0, ""),
        task(902, 1_772_616_600, "mj", "task_mj_0002", "IMAGINE", "FAILURE", "mj_imagine",
            "100%", 0, 1_772_616_660, "prompt rejected by moderation"),
        task(901, 1_772_449_200, "suno", "task_suno_0001", "MUSIC", "SUCCESS", "suno-v4",
            "100%", 50_000, 1_772_449_295, ""),
    ]
}

fn filtered_tasks(req: &Recorded) -> Result<Vec<Value>, Reply> {
    let start = parse_int_param(req, "start_timestamp")?;
    let end = parse_int_param(req, "end_timestamp")?;
    let fields: Vec<(&str, Option<String>)> = ["platform", "task_id", "status", "action"]
        .iter()
        .map(|f| (*f, req.filter(f)))
        .collect();
    Ok(tasks()
        .into_iter()
        .filter(|t| in_range(t["submit_time"].as_i64(), start, end))
        .filter(|t| fields.iter().all(|(f, want)| matches_str(t, f, want)))
        .collect())
}

// ---------------------------------------------------------------------------
// URL helpers
// ---------------------------------------------------------------------------

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decode `%XX` escapes (and '+' as space when `plus` is set); bad escapes are kept.
fn percent_decode(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
