//! The one HTTP client: timeouts, retries with backoff and jitter, error mapping
//! to exit codes, and `--verbose` tracing with every credential redacted.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use crate::error::{CliError, ExitCode, Result};
use crate::secret::Secret;

pub const USER_AGENT: &str = concat!("cometapi/", env!("CARGO_PKG_VERSION"));
const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_READ_TIMEOUT_SECS: f64 = 60.0;

/// How a request proves who it is.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    None,
    /// The API key, sent as `Authorization: Bearer` or in a provider header.
    ApiKey(&'a Secret, KeyHeader),
    /// The console access token, sent as `Authorization: Bearer`.
    AccessToken(&'a Secret),
}

#[derive(Clone, Copy, Debug)]
pub enum KeyHeader {
    Bearer,
    /// `x-api-key` (Anthropic Messages).
    XApiKey,
    /// `x-goog-api-key` (Gemini).
    GoogApiKey,
}

impl Auth<'_> {
    fn header(&self) -> Option<(&'static str, String, String)> {
        let (name, secret, prefix) = match self {
            Auth::None => return None,
            Auth::ApiKey(secret, KeyHeader::Bearer) | Auth::AccessToken(secret) => {
                ("authorization", secret, "Bearer ")
            }
            Auth::ApiKey(secret, KeyHeader::XApiKey) => ("x-api-key", secret, ""),
            Auth::ApiKey(secret, KeyHeader::GoogApiKey) => ("x-goog-api-key", secret, ""),
        };
        Some((
            name,
            format!("{prefix}{}", secret.expose()),
            format!("{prefix}{}", secret.masked()),
        ))
    }

    fn rejected_hint(&self) -> &'static str {
        match self {
            Auth::AccessToken(_) => "check the access token (COMETAPI_ACCESS_TOKEN or `cometapi config set access_token`); `cometapi doctor` tests it",
            _ => "check the API key (COMETAPI_KEY or `cometapi config set api_key`); `cometapi doctor` tests it",
        }
    }
}

pub struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub auth: Auth<'a>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl<'a> Request<'a> {
    pub fn get(url: impl Into<String>, auth: Auth<'a>) -> Self {
        Request {
            method: Method::GET,
            url: url.into(),
            auth,
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn post_json(url: impl Into<String>, auth: Auth<'a>, body: &Value) -> Self {
        Request {
            method: Method::POST,
            url: url.into(),
            auth,
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(body.to_string().into_bytes()),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// A successful (2xx) reply, read whole.
pub struct Response {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let err = CliError::failure(format!("the server's reply is not JSON: {e}"));
            if looks_like_html(&self.headers, &self.body) {
                err.with_hint(BASE_URL_HINT)
            } else {
                err
            }
        })
    }
}

const BASE_URL_HINT: &str =
    "the base URL should end in /v1 (e.g. https://api.cometapi.com/v1); check `cometapi config show`";

pub struct Http {
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    verbose: bool,
}

/// What a streaming callback made of one network read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Nothing shown yet: a failure may still be retried.
    Quiet,
    /// Output was shown: no retry from now on.
    Shown,
    /// The reply is complete; stop reading.
    Done,
}

/// How a stream ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The callback said the reply was complete.
    Done,
    /// The server closed the body; whether the reply was complete is the caller's call.
    Eof,
}

/// Why one attempt did not succeed.
enum Failure {
    /// The server answered with a status other than 2xx.
    Status(u16, HeaderMap, Vec<u8>),
    /// No answer: connection refused, timed out, reset.
    Transport(reqwest::Error),
    /// Not to be retried whatever it is (output was already written).
    Final(CliError),
}

impl Http {
    pub fn new(verbose: bool) -> Result<Http> {
        let read_timeout = crate::context::env_var("COMETAPI_TIMEOUT")
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(DEFAULT_READ_TIMEOUT_SECS);
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(Duration::from_secs_f64(read_timeout))
            .build()
            .map_err(|e| CliError::failure(format!("cannot set up HTTP client: {e}")))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
        Ok(Http {
            client,
            runtime,
            verbose,
        })
    }

    /// Sends a request, retrying 408, 429 and 5xx replies and connection failures
    /// (at most three attempts). Anything but a 2xx reply comes back as an error
    /// with the exit code it maps to.
    pub fn send(&self, request: &Request) -> Result<Response> {
        self.with_retries(request, || {
            self.runtime.block_on(async {
                let started = Instant::now();
                let response = self
                    .build(request)
                    .send()
                    .await
                    .map_err(Failure::Transport)?;
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                let body = response.bytes().await.map_err(Failure::Transport)?.to_vec();
                self.trace_reply(status, &headers, started, Some(body.len()));
                if (200..300).contains(&status) {
                    Ok(Response { headers, body })
                } else {
                    Err(Failure::Status(status, headers, body))
                }
            })
        })
    }

    /// Streams a 2xx reply's body into `out` as it arrives, never holding it whole,
    /// and reports the byte count so far to `progress`. Retried like [`Http::send`]
    /// only until the first byte has been written; a cut after that is exit 69.
    pub fn download(
        &self,
        request: &Request,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        self.with_retries(request, || {
            self.runtime.block_on(async {
                let mut response = self.open(request).await?;
                let mut written = 0u64;
                loop {
                    match response.chunk().await {
                        Ok(Some(chunk)) => {
                            out.write_all(&chunk)
                                .map_err(|e| Failure::Final(CliError::from_output(e)))?;
                            written += chunk.len() as u64;
                            progress(written);
                        }
                        Ok(None) => return Ok(written),
                        Err(err) if written == 0 => return Err(Failure::Transport(err)),
                        Err(err) => {
                            return Err(Failure::Final(CliError::unavailable(format!(
                                "the download was cut off after {written} bytes: {}",
                                describe(&err)
                            ))))
                        }
                    }
                }
            })
        })
    }

    /// Streams a 2xx reply's body through `on_chunk`, one call per network read, until
    /// the body ends or `on_chunk` says [`Progress::Done`]. Retried like [`Http::send`]
    /// only while `on_chunk` has shown nothing ([`Progress::Quiet`]); once output was
    /// shown, a cut is final (exit 69, "stream interrupted"). Ctrl-C while waiting or
    /// reading ends the stream with exit 130 ([`ExitCode::Interrupted`]).
    pub fn stream(
        &self,
        request: &Request,
        on_chunk: &mut dyn FnMut(&[u8]) -> Result<Progress>,
    ) -> Result<StreamEnd> {
        let mut shown = false;
        self.with_retries(request, || {
            self.runtime.block_on(async {
                tokio::select! {
                    result = self.stream_once(request, on_chunk, &mut shown) => result,
                    _ = tokio::signal::ctrl_c() => Err(Failure::Final(CliError::new(
                        ExitCode::Interrupted,
                        "interrupted",
                    ))),
                }
            })
        })
    }

    async fn stream_once(
        &self,
        request: &Request<'_>,
        on_chunk: &mut dyn FnMut(&[u8]) -> Result<Progress>,
        shown: &mut bool,
    ) -> std::result::Result<StreamEnd, Failure> {
        let mut response = self.open(request).await?;
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => match on_chunk(&chunk).map_err(Failure::Final)? {
                    Progress::Quiet => {}
                    Progress::Shown => *shown = true,
                    Progress::Done => return Ok(StreamEnd::Done),
                },
                Ok(None) => return Ok(StreamEnd::Eof),
                Err(err) if !*shown => return Err(Failure::Transport(err)),
                Err(err) => {
                    return Err(Failure::Final(CliError::unavailable(format!(
                        "stream interrupted: {}",
                        describe(&err)
                    ))))
                }
            }
        }
    }

    /// Runs `once` until it succeeds, fails for good, or has had [`MAX_ATTEMPTS`].
    fn with_retries<T>(
        &self,
        request: &Request,
        mut once: impl FnMut() -> std::result::Result<T, Failure>,
    ) -> Result<T> {
        let mut attempt = 1;
        loop {
            self.trace_request(request, attempt);
            let (error, retry_after) = match once() {
                Ok(value) => return Ok(value),
                Err(Failure::Final(error)) => return Err(error),
                Err(Failure::Status(status, headers, body)) => {
                    let delay = retryable_status(status, &body)
                        .then(|| server_delay(&headers).unwrap_or_else(|| backoff(attempt)));
                    (status_error(request, status, &headers, &body), delay)
                }
                Err(Failure::Transport(err)) => {
                    self.trace(format_args!("< failed: {}", describe(&err)));
                    // A request that never reached the server is always safe to repeat;
                    // a timed-out one only when it changes nothing (GET).
                    let safe =
                        err.is_connect() || (err.is_timeout() && request.method == Method::GET);
                    (
                        transport_error(request, &err),
                        safe.then(|| backoff(attempt)),
                    )
                }
            };
            match retry_after {
                Some(delay) if attempt < MAX_ATTEMPTS => {
                    self.trace(format_args!("retrying in {:.2}s", delay.as_secs_f64()));
                    std::thread::sleep(delay);
                    attempt += 1;
                }
                _ => return Err(error),
            }
        }
    }

    /// Sends the request and hands back a 2xx response with its body still unread;
    /// any other status is read whole and becomes [`Failure::Status`].
    async fn open(&self, request: &Request<'_>) -> std::result::Result<reqwest::Response, Failure> {
        let started = Instant::now();
        let response = self
            .build(request)
            .send()
            .await
            .map_err(Failure::Transport)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(Failure::Transport)?.to_vec();
            self.trace_reply(status, &headers, started, Some(body.len()));
            return Err(Failure::Status(status, headers, body));
        }
        self.trace_reply(status, response.headers(), started, None);
        Ok(response)
    }

    fn build(&self, request: &Request) -> reqwest::RequestBuilder {
        let mut builder = self.client.request(request.method.clone(), &request.url);
        if let Some((name, value, _)) = request.auth.header() {
            builder = builder.header(name, value);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        builder
    }

    /// GET a JSON document.
    pub fn get_json(&self, url: &str, auth: Auth) -> Result<Value> {
        self.send(&Request::get(url, auth))?.json()
    }

    /// GET a console endpoint and unwrap its `{success, message, data}` envelope;
    /// `success: false` is an error carrying the server's message.
    pub fn console_get(&self, url: &str, auth: Auth) -> Result<Value> {
        let mut reply = self.get_json(url, auth)?;
        unwrap_console(&mut reply, url)
    }

    fn trace_request(&self, request: &Request, attempt: u32) {
        if !self.verbose {
            return;
        }
        let retry = if attempt > 1 {
            format!(" (attempt {attempt} of {MAX_ATTEMPTS})")
        } else {
            String::new()
        };
        self.trace(format_args!("> {} {}{retry}", request.method, request.url));
        if let Some((name, _, redacted)) = request.auth.header() {
            self.trace(format_args!("> {name}: {redacted}"));
        }
    }

    fn trace_reply(
        &self,
        status: u16,
        headers: &HeaderMap,
        started: Instant,
        bytes: Option<usize>,
    ) {
        let size = bytes.map(|n| format!(", {n} bytes")).unwrap_or_default();
        let id = request_id(headers)
            .map(|id| format!(" request-id {id}"))
            .unwrap_or_default();
        let ms = started.elapsed().as_millis();
        self.trace(format_args!("< {status} ({ms} ms{size}){id}"));
    }

    fn trace(&self, line: std::fmt::Arguments) {
        if self.verbose {
            eprintln!("{line}");
        }
    }
}

/// Takes `data` out of a console reply, or turns `success: false` into an error.
pub fn unwrap_console(reply: &mut Value, url: &str) -> Result<Value> {
    if reply.get("success").and_then(Value::as_bool) == Some(false) {
        let message = reply
            .get("message")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or("the server reported a failure without a message");
        return Err(CliError::failure(format!("{} ({})", message, path_of(url))));
    }
    // Missing data is an error, never a zero: `{}` or `"data": null` would otherwise
    // read as an empty balance or an empty list.
    match reply.get_mut("data").map(Value::take) {
        Some(data) if !data.is_null() => Ok(data),
        _ => Err(
            CliError::failure(format!("the server sent no data ({})", path_of(url)))
                .with_hint("the reply was not a CometAPI console reply; check the base URL"),
        ),
    }
}

fn retryable_status(status: u16, body: &[u8]) -> bool {
    match status {
        408 | 500..=599 => true,
        // An empty balance will not fill up by waiting.
        429 => error_type(body).as_deref() != Some("insufficient_quota"),
        _ => false,
    }
}

/// `retry-after-ms` (OpenAI's) or `Retry-After` in seconds, capped.
fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let delay = header("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| header("retry-after"))
        .filter(|secs| secs.is_finite() && *secs >= 0.0)?;
    Some(Duration::from_secs_f64(delay).min(MAX_RETRY_DELAY))
}

/// Exponential backoff with "equal jitter": half fixed, half random.
fn backoff(attempt: u32) -> Duration {
    let full = BACKOFF_BASE * 2u32.pow(attempt.saturating_sub(1));
    full / 2 + full.mul_f64(random_fraction() / 2.0)
}

fn random_fraction() -> f64 {
    let hash = RandomState::new().hash_one(SystemTime::now());
    (hash % 10_000) as f64 / 10_000.0
}

fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-cometapi-request-id")?.to_str().ok()
}

fn path_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string())
}

fn looks_like_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let start = String::from_utf8_lossy(&body[..body.len().min(64)])
        .trim_start()
        .to_ascii_lowercase();
    content_type.contains("text/html")
        || start.starts_with("<!doctype html")
        || start.starts_with("<html")
}

fn error_type(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.pointer("/error/type")?.as_str().map(str::to_string)
}

/// The server's own words: `error.message`, a console `message`, or the start of the body.
fn server_message(headers: &HeaderMap, body: &[u8]) -> String {
    if looks_like_html(headers, body) {
        return "the server answered with an HTML page".to_string();
    }
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        let message = value
            .pointer("/error/message")
            .or_else(|| value.get("message"))
            .or_else(|| value.get("error"))
            .and_then(Value::as_str);
        if let Some(message) = message.filter(|m| !m.is_empty()) {
            return message.to_string();
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "no details given".to_string(),
        None => text.to_string(),
    }
}

fn status_error(request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> CliError {
    let message = format!(
        "HTTP {status} from {} {}: {}",
        request.method,
        path_of(&request.url),
        server_message(headers, body)
    );
    let err = match status {
        401 | 403 => CliError::auth(message).with_hint(request.auth.rejected_hint()),
        404 => CliError::failure(message).with_hint(BASE_URL_HINT),
        429 if error_type(body).as_deref() == Some("insufficient_quota") => {
            CliError::failure(message)
                .with_hint("the account is out of quota; top up, then try again")
        }
        429 => CliError::failure(message).with_hint("rate limited: wait a little and try again"),
        500..=599 => CliError::unavailable(message)
            .with_hint("the service is having trouble; try again shortly"),
        _ => CliError::failure(message),
    };
    if status != 404 && looks_like_html(headers, body) {
        return err.with_hint(BASE_URL_HINT);
    }
    err
}

fn transport_error(request: &Request, err: &reqwest::Error) -> CliError {
    CliError::new(
        ExitCode::Unavailable,
        format!("cannot reach {}: {}", host_of(&request.url), describe(err)),
    )
    .with_hint("check the network and the base URL (`cometapi doctor` diagnoses both)")
}

/// `scheme://host:port`, without the path: where we tried to connect.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_string();
    }
    if err.is_connect() {
        return "connection failed".to_string() + &source_chain(err);
    }
    err.to_string() + &source_chain(err)
}

/// The innermost cause ("Connection refused"), which reqwest's own message leaves out.
fn source_chain(err: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(err);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    innermost.map(|c| format!(" ({c})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_policy_by_status() {
        assert!(retryable_status(429, b"{}"));
        assert!(retryable_status(503, b""));
        assert!(retryable_status(408, b""));
        for status in [400, 401, 403, 404, 422] {
            assert!(
                !retryable_status(status, b""),
                "{status} must not be retried"
            );
        }
        assert!(!retryable_status(
            429,
            br#"{"error":{"type":"insufficient_quota"}}"#
        ));
    }

    #[test]
    fn server_delay_prefers_milliseconds_and_is_capped() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(server_delay(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(server_delay(&headers), Some(Duration::from_millis(150)));
        let mut huge = HeaderMap::new();
        huge.insert("retry-after", HeaderValue::from_static("86400"));
        assert_eq!(server_delay(&huge), Some(MAX_RETRY_DELAY));
    }

    #[test]
    fn backoff_grows_and_stays_within_jitter_bounds() {
        for attempt in 1..=3 {
            let full = BACKOFF_BASE * 2u32.pow(attempt - 1);
            let delay = backoff(attempt);
            assert!(
                delay >= full / 2 && delay <= full,
                "attempt {attempt}: {delay:?}"
            );
        }
    }

    #[test]
    fn console_failure_carries_server_message() {
        let mut reply =
            serde_json::json!({"success": false, "message": "model not found", "data": null});
        let err = unwrap_console(&mut reply, "http://h/api/model/x").expect_err("fails");
        assert!(err.message.contains("model not found"));
        let mut ok = serde_json::json!({"success": true, "data": [1]});
        assert_eq!(
            unwrap_console(&mut ok, "http://h/api/models").expect("ok"),
            serde_json::json!([1])
        );
    }

    #[test]
    fn auth_header_is_redacted_for_traces() {
        let secret = Secret::new("sk-abcdefghijklmnop1234");
        let (name, value, redacted) = Auth::ApiKey(&secret, KeyHeader::Bearer)
            .header()
            .expect("header");
        assert_eq!(name, "authorization");
        assert_eq!(value, "Bearer sk-abcdefghijklmnop1234");
        assert_eq!(redacted, "Bearer ****1234");
    }
}
