//! A fake CometAPI server for tests, built on `tiny_http`.
//!
//! It speaks the wire shapes of CometAPI's documented API (as `docs/guide.md` describes
//! it): the OpenAI-compatible routes under `/v1`, Anthropic `/v1/messages`, Gemini
//! `/v1beta/models/{m}:generateContent` and the console routes under `/api`. Every
//! request is recorded (before faults are applied) so tests can assert on what the CLI
//! sent, and faults can be injected per path to exercise retries and error handling.
//! All data is fixed and deterministic.
//!
//! A test can also register the reply for a path itself, next to its assertions; a
//! stub comes before the built-in route and must be hit (see `fake_stubs.rs`).
//!
//! Each file beside this one owns its paths: its `route` answers the requests for them
//! and passes on the rest (see [`ROUTES`]). This file holds the server, the record of
//! requests, the credentials and the dispatch.
//!
//! ```ignore
//! let server = FakeServer::start();
//! server.inject("/v1/models", Fault::ServerError, 1);
//! // run the CLI with COMETAPI_BASE_URL=server.base_url() ...
//! assert_eq!(server.requests_to("/v1/models").len(), 2);
//! ```

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::Value;

#[path = "fake_bulk.rs"]
mod bulk;
#[path = "fake_catalog.rs"]
mod catalog;
#[path = "fake_chat.rs"]
mod chat;
#[path = "fake_console.rs"]
mod console;
#[path = "fake_jobs.rs"]
mod jobs;
#[path = "fake_media_audio.rs"]
pub mod media_audio;
#[path = "fake_media_images.rs"]
mod media_images;
#[path = "fake_reply.rs"]
mod reply;
#[path = "fake_stream.rs"]
mod stream;
#[path = "fake_stubs.rs"]
mod stubs;

pub use jobs::{audio_bytes, video_bytes};
pub use media_images::{image_bytes, multipart_parts, speech_audio, Part};
pub use reply::Fault;
use reply::{
    bad_request, console_fail, console_ok, fault_reply, foreign_reply, openai_error, require_json,
    Events, Reply,
};
pub use stream::StreamMode;
pub use stubs::Stub;

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

    /// "Foreign gateway" mode (an OpenAI-compatible proxy such as LiteLLM, not
    /// CometAPI): no `/api/*` routes (404 `{"detail":"Not Found"}`), every error as
    /// FastAPI's `{"detail": message}`, and the streamed usage chunk carries
    /// `choices: [{"delta": {}}]` instead of an empty list.
    pub fn set_foreign_gateway(&self, foreign: bool) {
        self.state.foreign.store(foreign, Ordering::SeqCst);
    }
}

impl Drop for FakeServer {
    /// Stops the accept loop, then fails the test if a stub was never hit (unless the
    /// test is failing already: a second panic while unwinding would abort the run).
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
        if !thread::panicking() {
            self.verify_stubs();
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
    counter: AtomicU64,
    foreign: AtomicBool,
    stubs: stubs::Stubs,
    stream: stream::Stream,
    chat: chat::Chat,
    catalog: catalog::Catalog,
    console: console::Console,
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
    let call = Call {
        state,
        req: &recorded,
        path: &decoded_path,
        id,
    };
    let reply = match state.take_fault(&recorded.path, &decoded_path) {
        Some(Fault::Slow(delay)) => {
            thread::sleep(delay);
            route(&call)
        }
        Some(Fault::NeverAnswers) => hang(),
        Some(Fault::CutReply(prefix)) => return media_audio::write_cut(request, &prefix),
        Some(fault) => fault_reply(&fault),
        None if state.foreign.load(Ordering::SeqCst) => foreign_reply(route(&call), &decoded_path),
        None => bulk::intercept(state, &recorded, &decoded_path, &flight)
            .unwrap_or_else(|| route(&call)),
    };
    let reply = bulk::closing(reply, &flight, id);
    if let Some(write) = reply.by_hand {
        write(&mut request.into_writer());
        return;
    }
    if reply.events.is_some() {
        stream::write_sse(state, request, reply, id);
        return;
    }
    let _ = match reply.stream {
        Some(_) => request.respond(reply.into_streaming_response(id)),
        None => request.respond(reply.into_response(id)),
    };
}

/// Holds the request thread (and so the connection) until the test process ends.
pub(super) fn hang() -> ! {
    loop {
        thread::park();
    }
}

// ---------------------------------------------------------------------------
// Routing and credentials
// ---------------------------------------------------------------------------

/// One request being answered: the server's state, the request, its percent-decoded
/// path, and its number (for reply ids and `X-Cometapi-Request-Id`).
#[derive(Clone, Copy)]
struct Call<'a> {
    state: &'a State,
    req: &'a Recorded,
    path: &'a str,
    id: u64,
}

/// The routes, tried in order; the first that knows the path answers. The test's own
/// stubs come first, so they win over everything built in.
const ROUTES: [fn(&Call) -> Option<Reply>; 7] = [
    stubs::route,
    chat::route,
    catalog::route,
    console::route,
    media_images::route,
    media_audio::route,
    jobs::route,
];

fn route(call: &Call) -> Reply {
    ROUTES
        .iter()
        .find_map(|route| route(call))
        .unwrap_or_else(|| {
            let Recorded { method, path, .. } = call.req;
            openai_error(
                404,
                &format!("Invalid URL ({method} {path})"),
                "invalid_request_error",
                None,
            )
        })
}

/// The credential a route wants, and where the request carries it.
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
    }
}

fn guarded(req: &Recorded, auth: Auth, reply: impl FnOnce() -> Reply) -> Reply {
    match check_auth(req, auth) {
        Some(err) => err,
        None => reply(),
    }
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
