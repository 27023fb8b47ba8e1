//! The one HTTP client: timeouts, retries with backoff and jitter, error mapping
//! to exit codes, and `--verbose` tracing with every credential redacted.

use std::future::Future;
use std::io::Write;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use crate::config::secret::{self, Secret};
use crate::config::timeout;
use crate::error::{CliError, ExitCode, Result};
use crate::net::multipart::Form;
use crate::net::urls::{host_of, path_of};
use crate::term::interrupt;
use crate::term::progress;
use crate::term::sanitize;

pub const USER_AGENT: &str = concat!("cometapi/", env!("CARGO_PKG_VERSION"));
pub const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(20);
/// At most half the time limit, so that an unreachable host is reported as one rather
/// than as a server that was slow to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const WAITING_FOR_TEXT: &str = "waiting for the first token";
const TIMEOUT_HINT: &str =
    "allow more time with --timeout (for example --timeout 2m) or `cometapi config set timeout 2m`";
/// The most a reply read whole (JSON, an error body) may hold.
pub const MAX_BODY_BYTES: usize = 64 << 20;
const MAX_REDIRECTS: usize = 10;

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

    /// The credential this request carries, to redact it from what the server says.
    pub fn secret(&self) -> Option<&Secret> {
        match self {
            Auth::None => None,
            Auth::ApiKey(secret, _) | Auth::AccessToken(secret) => Some(secret),
        }
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
    /// A `multipart/form-data` body, built afresh for every attempt (its files are
    /// streamed from disk); takes the place of `body`.
    pub form: Option<&'a Form>,
    /// The request creates something (an image, speech, a task): once the server may
    /// have received it, it is never sent again (see [`Request::creates`]).
    pub creates: bool,
    /// The reply must be a binary body (see [`Request::binary`]).
    pub binary: bool,
    /// Redirects may lead to any host (see [`Request::get_anywhere`]).
    pub anywhere: bool,
}

impl<'a> Request<'a> {
    pub fn get(url: impl Into<String>, auth: Auth<'a>) -> Self {
        Request {
            method: Method::GET,
            url: url.into(),
            auth,
            headers: Vec::new(),
            body: None,
            form: None,
            creates: false,
            binary: false,
            anywhere: false,
        }
    }

    pub fn post_json(url: impl Into<String>, auth: Auth<'a>, body: &Value) -> Self {
        Request {
            method: Method::POST,
            url: url.into(),
            auth,
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(body.to_string().into_bytes()),
            form: None,
            creates: false,
            binary: false,
            anywhere: false,
        }
    }

    /// A `multipart/form-data` POST; the files in `form` were checked when added.
    pub fn post_multipart(url: impl Into<String>, auth: Auth<'a>, form: &'a Form) -> Self {
        Request {
            method: Method::POST,
            url: url.into(),
            auth,
            headers: Vec::new(),
            body: None,
            form: Some(form),
            creates: false,
            binary: false,
            anywhere: false,
        }
    }

    /// A GET with no credential of a URL a server handed back (an image on a CDN).
    /// Unlike every other request it may be redirected to another host (at most 10
    /// times, http and https only): it carries nothing a host could misuse.
    pub fn get_anywhere(url: impl Into<String>) -> Self {
        let mut request = Request::get(url, Auth::None);
        request.anywhere = true;
        request
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Declares a request that creates something and costs money each time: it is
    /// retried only when the server cannot have acted on it (the connection was never
    /// made, or a 429 refused it); never after a 5xx, a timeout or a cut reply.
    pub fn creates(mut self) -> Self {
        self.creates = true;
        self
    }

    /// Declares that a 2xx reply must be a binary body (audio, an image) for
    /// [`Http::download`]: one labelled JSON is an error object in a 200 and fails with
    /// the server's message instead of being written out.
    pub fn binary(mut self) -> Self {
        self.binary = true;
        self
    }
}

/// A successful (2xx) reply, read whole.
pub struct Response {
    pub status: u16,
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

/// A reply's status line and headers, read before its body.
struct Head {
    status: u16,
    version: reqwest::Version,
    headers: HeaderMap,
}

impl Head {
    fn of(response: &reqwest::Response) -> Head {
        Head {
            status: response.status().as_u16(),
            version: response.version(),
            headers: response.headers().clone(),
        }
    }
}

const BASE_URL_HINT: &str =
    "the base URL should end in /v1 (e.g. https://api.cometapi.com/v1); check `cometapi config show`";

pub struct Http {
    client: reqwest::Client,
    /// For [`Request::get_anywhere`]: redirects to any host; built on first use.
    anywhere_client: std::sync::OnceLock<reqwest::Client>,
    runtime: tokio::runtime::Runtime,
    /// `-v` count: 1 traces requests and replies, 2 also their bodies.
    verbose: u8,
    /// How long one request may take, all attempts and pauses included, until its reply
    /// is whole (or, for a body read as it arrives, until the first of it is shown); after
    /// that, the longest silence allowed between two pieces of the body.
    timeout: Duration,
}

/// What a streaming callback made of one network read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkFlow {
    /// Nothing shown yet: a failure may still be retried.
    Quiet,
    /// Output was shown: no retry from now on.
    Shown,
    /// The reply is complete; stop reading.
    Done,
}

/// How a stream ended without an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The callback said the reply was complete.
    Done,
    /// The server closed the body; whether the reply was complete is the caller's call.
    Eof,
    /// The server answered with a JSON document instead of an event stream (an error
    /// object, or a whole reply from a proxy that ignored `stream: true`): here it is.
    NotStreamed(Vec<u8>),
}

/// Why one attempt did not succeed.
pub enum Failure {
    /// The server answered with a status other than 2xx.
    Status(u16, HeaderMap, Vec<u8>),
    /// No answer: connection refused, timed out, reset.
    Transport(reqwest::Error),
    /// Not to be retried whatever it is (output was already written).
    Final(CliError),
}

impl Http {
    pub fn new(verbose: u8, timeout: Duration) -> Result<Http> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout / 2))
            .redirect(redirect_policy())
            .build()
            .map_err(|e| {
                CliError::failure(format!("cannot set up HTTP client: {}", describe(&e))).with_hint(
                    "HTTPS needs the system's CA certificates (the ca-certificates package), \
                     or SSL_CERT_FILE naming a PEM bundle",
                )
            })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
        Ok(Http {
            client,
            anywhere_client: std::sync::OnceLock::new(),
            runtime,
            verbose,
            timeout,
        })
    }

    /// Sends a request, retrying 408, 429 and 5xx replies and connection failures
    /// (at most three attempts). Anything but a 2xx reply comes back as an error
    /// with the exit code it maps to. The whole reply must arrive within the time
    /// limit, all attempts included; Ctrl-C ends the wait with exit 130.
    pub fn send(&self, request: &Request) -> Result<Response> {
        self.with_retries(request, &waiting_for(request), |deadline| {
            self.interruptible(self.exchange(request, deadline))
        })
    }

    /// One attempt of `request`, its reply read whole by `deadline`: a 2xx reply, or
    /// the [`Failure`] that [`Http::judge`] turns into an error and a retry decision.
    /// Not interruptible by itself: the caller selects on Ctrl-C (the bulk engine
    /// runs many of these at once).
    pub async fn exchange(
        &self,
        request: &Request<'_>,
        deadline: Instant,
    ) -> std::result::Result<Response, Failure> {
        let started = Instant::now();
        let reply = async {
            let (head, response) = self.open_unread(request, started).await?;
            let body = read_capped(response).await?;
            Ok((head, body))
        };
        let (head, body) = within(deadline, reply)
            .await
            .unwrap_or_else(|| Err(Failure::Final(self.no_answer(request))))?;
        self.trace_reply(&head, started, Some(body.len()));
        self.trace_body("<", &body, request);
        Ok(Response {
            status: head.status,
            headers: head.headers,
            body,
        })
    }

    /// Streams a 2xx reply's body into `out` as it arrives, never holding it whole,
    /// and reports the byte count so far to `progress`. Retried like [`Http::send`]
    /// only until the first byte has been written; a cut after that is exit 69. The
    /// first byte must come within the time limit, and no later gap may be longer.
    pub fn download(
        &self,
        request: &Request,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        self.with_retries(request, &waiting_for(request), |deadline| {
            self.interruptible(async {
                let mut response = self.open_within(request, deadline).await?;
                if request.binary && is_json(response.headers()) {
                    return Err(Failure::Final(
                        self.json_instead(request, response, deadline).await,
                    ));
                }
                let mut written = 0u64;
                loop {
                    let limit = self.body_limit(written > 0, deadline);
                    let Some(next) = within(limit, response.chunk()).await else {
                        return Err(Failure::Final(match written {
                            0 => self.no_answer(request),
                            _ => {
                                self.stalled(&format!("the download stalled after {written} bytes"))
                            }
                        }));
                    };
                    match next {
                        Ok(Some(chunk)) => {
                            progress::hide();
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
    /// the body ends or `on_chunk` says [`ChunkFlow::Done`]. Retried like [`Http::send`]
    /// only while `on_chunk` has shown nothing ([`ChunkFlow::Quiet`]); once output was
    /// shown, a cut is final (exit 69, "stream interrupted"). Something must be shown
    /// within the time limit, and after that no gap between reads may be longer (a
    /// server trickling bytes that never make text is cut off). Ctrl-C while waiting
    /// or reading ends the stream with exit 130 ([`ExitCode::Interrupted`]).
    pub fn stream(
        &self,
        request: &Request,
        on_chunk: &mut dyn FnMut(&[u8]) -> Result<ChunkFlow>,
    ) -> Result<StreamEnd> {
        let mut shown = false;
        self.with_retries(request, WAITING_FOR_TEXT, |deadline| {
            self.interruptible(self.stream_once(request, on_chunk, &mut shown, deadline))
        })
    }

    async fn stream_once(
        &self,
        request: &Request<'_>,
        on_chunk: &mut dyn FnMut(&[u8]) -> Result<ChunkFlow>,
        shown: &mut bool,
        deadline: Instant,
    ) -> std::result::Result<StreamEnd, Failure> {
        let mut response = self.open_within(request, deadline).await?;
        if is_json(response.headers()) {
            let body = within(deadline, read_capped(response))
                .await
                .unwrap_or_else(|| Err(Failure::Final(self.no_answer(request))))?;
            self.trace_body("<", &body, request);
            return Ok(StreamEnd::NotStreamed(body));
        }
        loop {
            let limit = self.body_limit(*shown, deadline);
            let Some(next) = within(limit, response.chunk()).await else {
                return Err(Failure::Final(if *shown {
                    self.stalled("stream interrupted")
                } else {
                    self.no_text()
                }));
            };
            match next {
                Ok(Some(chunk)) => {
                    self.trace_body("<", &chunk, request);
                    // The callback may write: the spinner's line must not be in the way.
                    progress::hide();
                    match on_chunk(&chunk).map_err(Failure::Final)? {
                        ChunkFlow::Quiet => self.spin(WAITING_FOR_TEXT.to_string()),
                        ChunkFlow::Shown => *shown = true,
                        ChunkFlow::Done => return Ok(StreamEnd::Done),
                    }
                }
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
    /// Every attempt and every pause between two shares one deadline, the time limit
    /// from now: a pause that would end after it is not taken. The spinner says what
    /// is awaited (`waiting`) and is gone when this returns.
    fn with_retries<T>(
        &self,
        request: &Request,
        waiting: &str,
        mut once: impl FnMut(Instant) -> std::result::Result<T, Failure>,
    ) -> Result<T> {
        let deadline = Instant::now() + self.timeout;
        // Counted as waiting from the start, so a Ctrl-C between two attempts (or before
        // the first) reaches the caller as exit 130, which can tidy up, rather than
        // ending the process where it stands.
        let _waiting = interrupt::waiting();
        let _spinner = progress::HideOnDrop;
        let mut attempt = 1;
        loop {
            self.trace_request(request, attempt);
            self.spin(waiting.to_string());
            let (error, retry_after) = match once(deadline) {
                Ok(value) => return Ok(value),
                Err(Failure::Final(error)) => return Err(error),
                Err(failure) => self.judge(request, &failure, attempt),
            };
            match retry_after {
                Some(delay) if attempt < MAX_ATTEMPTS && Instant::now() + delay < deadline => {
                    self.trace(format_args!("retrying in {:.2}s", delay.as_secs_f64()));
                    self.pause(delay)?;
                    attempt += 1;
                }
                _ => return Err(error),
            }
        }
    }

    /// What a failed attempt means: the error to report, and the pause before the
    /// next attempt when the client's rules allow one (408, 429 and 5xx replies, and
    /// connection failures; see [`retryable`]).
    pub fn judge(
        &self,
        request: &Request,
        failure: &Failure,
        attempt: u32,
    ) -> (CliError, Option<Duration>) {
        match failure {
            Failure::Final(error) => (error.clone(), None),
            Failure::Status(status, headers, body) => {
                let delay = retryable(request, *status, body)
                    .then(|| server_delay(headers).unwrap_or_else(|| backoff(attempt)));
                (status_error(request, *status, headers, body), delay)
            }
            Failure::Transport(err) => {
                self.trace(format_args!("< failed: {}", describe(err)));
                // A request that never reached the server is always safe to repeat
                // (but a refused certificate will be refused again); a timed-out one
                // only when it changes nothing (GET).
                let error = transport_error(request, err);
                let safe = (err.is_connect() && error.transient)
                    || (err.is_timeout() && request.method == Method::GET);
                (error, safe.then(|| backoff(attempt)))
            }
        }
    }

    /// How long one request may take (see [`Http::new`]).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs `work` (many requests at once, say) on the client's runtime, blocking until
    /// it ends; `work` watches Ctrl-C itself.
    pub fn block_on<F: Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }

    /// Runs one attempt on the runtime; Ctrl-C ends it at once with exit 130.
    fn interruptible<T>(
        &self,
        attempt: impl Future<Output = std::result::Result<T, Failure>>,
    ) -> std::result::Result<T, Failure> {
        self.runtime.block_on(async {
            let mut waiting = interrupt::waiting();
            tokio::select! {
                biased;
                () = waiting.interrupted() => Err(Failure::Final(interrupt::error())),
                result = attempt => result,
            }
        })
    }

    /// Sleeps for `delay` (between two polls of a job); Ctrl-C ends it at once with exit 130.
    pub fn sleep(&self, delay: Duration) -> Result<()> {
        self.runtime.block_on(async {
            let mut waiting = interrupt::waiting();
            tokio::select! {
                biased;
                () = waiting.interrupted() => Err(interrupt::error()),
                () = tokio::time::sleep(delay) => Ok(()),
            }
        })
    }

    /// The pause before the next attempt, counted down on the spinner; Ctrl-C ends it
    /// (and the request) at once with exit 130.
    fn pause(&self, delay: Duration) -> Result<()> {
        self.runtime.block_on(async {
            let until = tokio::time::Instant::now() + delay;
            let mut waiting = interrupt::waiting();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tokio::select! {
                    biased;
                    () = waiting.interrupted() => return Err(interrupt::error()),
                    () = tokio::time::sleep_until(until) => return Ok(()),
                    _ = tick.tick() => {
                        let left = until.saturating_duration_since(tokio::time::Instant::now());
                        self.spin(format!("retrying in {}s", left.as_secs_f64().ceil()));
                    }
                }
            }
        })
    }

    /// The error for a JSON reply where a binary body was expected: the server's message
    /// when it has one.
    async fn json_instead(
        &self,
        request: &Request<'_>,
        response: reqwest::Response,
        deadline: Instant,
    ) -> CliError {
        let body = match within(deadline, read_capped(response)).await {
            Some(Ok(body)) => body,
            Some(Err(Failure::Final(err))) => return err,
            _ => Vec::new(),
        };
        self.trace_body("<", &body, request);
        let said = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| message_in(&v))
            .unwrap_or_else(|| "a JSON document instead of the file".to_string());
        CliError::failure(format!(
            "{} {} answered 200 with an error: {}",
            request.method,
            path_of(&request.url),
            secret::redact(&said, request.auth.secret().as_slice())
        ))
    }

    /// [`Http::open`] within the deadline.
    async fn open_within(
        &self,
        request: &Request<'_>,
        deadline: Instant,
    ) -> std::result::Result<reqwest::Response, Failure> {
        within(deadline, self.open(request))
            .await
            .unwrap_or_else(|| Err(Failure::Final(self.no_answer(request))))
    }

    /// When the next piece of a body must have come: before anything of it was used,
    /// by the request's deadline; after, within the time limit of the last piece.
    fn body_limit(&self, started: bool, deadline: Instant) -> Instant {
        if started {
            Instant::now() + self.timeout
        } else {
            deadline
        }
    }

    /// The server took the request but no reply came in time (a read timeout: the
    /// server was reached, so this is not a network problem).
    fn no_answer(&self, request: &Request) -> CliError {
        CliError::unavailable(format!(
            "timed out: {} did not answer {} {} within {} (the server was reached but sent no reply in time)",
            host_of(&request.url),
            request.method,
            path_of(&request.url),
            timeout::show(self.timeout)
        ))
        .with_hint(TIMEOUT_HINT)
        .transient()
    }

    /// A streamed reply began but no text came in time.
    fn no_text(&self) -> CliError {
        CliError::unavailable(format!(
            "timed out: the reply did not start within {} (the server answered but sent no text)",
            timeout::show(self.timeout)
        ))
        .with_hint(TIMEOUT_HINT)
    }

    /// A body went silent after it had begun.
    fn stalled(&self, what: &str) -> CliError {
        CliError::unavailable(format!(
            "{what}: nothing received for {}",
            timeout::show(self.timeout)
        ))
        .with_hint(TIMEOUT_HINT)
    }

    /// Shows `message` on the spinner, unless `--verbose` traces the wait instead.
    fn spin(&self, message: String) {
        if self.verbose == 0 {
            progress::show(message);
        }
    }

    /// Sends the request and hands back a 2xx response with its body still unread;
    /// any other status is read whole and becomes [`Failure::Status`].
    async fn open(&self, request: &Request<'_>) -> std::result::Result<reqwest::Response, Failure> {
        let started = Instant::now();
        let (head, response) = self.open_unread(request, started).await?;
        self.trace_reply(&head, started, None);
        Ok(response)
    }

    /// [`Http::open`] without tracing a 2xx reply, which the caller does once it knows
    /// the body's size; any other status is read whole, traced and returned as
    /// [`Failure::Status`].
    async fn open_unread(
        &self,
        request: &Request<'_>,
        started: Instant,
    ) -> std::result::Result<(Head, reqwest::Response), Failure> {
        let response = self
            .build(request)?
            .send()
            .await
            .map_err(Failure::Transport)?;
        let head = Head::of(&response);
        if !(200..300).contains(&head.status) {
            let body = read_capped(response).await?;
            self.trace_reply(&head, started, Some(body.len()));
            self.trace_body("<", &body, request);
            return Err(Failure::Status(head.status, head.headers, body));
        }
        Ok((head, response))
    }

    fn build(&self, request: &Request) -> std::result::Result<reqwest::RequestBuilder, Failure> {
        let client = if request.anywhere && request.auth.secret().is_none() {
            self.anywhere_client()?
        } else {
            &self.client
        };
        let mut builder = client.request(request.method.clone(), &request.url);
        if let Some((name, value, _)) = request.auth.header() {
            builder = builder.header(name, value);
        }
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        if let Some(form) = request.form {
            builder = builder.multipart(form.to_reqwest().map_err(Failure::Final)?);
        }
        Ok(builder)
    }

    fn anywhere_client(&self) -> std::result::Result<&reqwest::Client, Failure> {
        if let Some(client) = self.anywhere_client.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT.min(self.timeout / 2))
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() > MAX_REDIRECTS {
                    attempt.error("too many redirects")
                } else if matches!(attempt.url().scheme(), "http" | "https") {
                    attempt.follow()
                } else {
                    attempt.error("redirected to a URL that is not http(s)")
                }
            }))
            .build()
            .map_err(|e| {
                Failure::Final(CliError::failure(format!(
                    "cannot set up HTTP client: {}",
                    describe(&e)
                )))
            })?;
        Ok(self.anywhere_client.get_or_init(|| client))
    }

    /// GET a JSON document.
    pub fn get_json(&self, url: &str, auth: Auth) -> Result<Value> {
        self.send(&Request::get(url, auth))?.json()
    }

    pub fn trace_request(&self, request: &Request, attempt: u32) {
        if self.verbose == 0 {
            return;
        }
        let retry = if attempt > 1 {
            format!(" (attempt {attempt} of {MAX_ATTEMPTS})")
        } else {
            String::new()
        };
        let url = crate::net::urls::redact_url(&request.url);
        self.trace(format_args!("> {} {url}{retry}", request.method));
        if let Some((name, _, redacted)) = request.auth.header() {
            self.trace(format_args!("> {name}: {redacted}"));
        }
        if let Some(body) = &request.body {
            self.trace_body(">", body, request);
        }
        if let (Some(form), true) = (request.form, self.verbose >= 2) {
            for field in form.describe() {
                let field = secret::redact(&field, request.auth.secret().as_slice());
                self.trace(format_args!("> {field}"));
            }
        }
    }

    /// With `-vv`: a body, its credentials and `sk-…` keys redacted, cut when long.
    fn trace_body(&self, direction: &str, body: &[u8], request: &Request) {
        const SHOWN: usize = 2000;
        if self.verbose < 2 || body.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(body);
        let text = secret::redact(&text, request.auth.secret().as_slice());
        let (shown, cut) = match text.char_indices().nth(SHOWN) {
            Some((at, _)) => (&text[..at], format!(" … ({} bytes in all)", body.len())),
            None => (&text[..], String::new()),
        };
        for line in shown.lines().filter(|l| !l.trim().is_empty()) {
            self.trace(format_args!("{direction} {line}"));
        }
        if !cut.is_empty() {
            self.trace(format_args!("{direction}{cut}"));
        }
    }

    /// `< 200 (HTTP/2.0, 12 ms, 345 bytes) request-id …`: the protocol shows whether
    /// the server took HTTP/2.
    fn trace_reply(&self, head: &Head, started: Instant, bytes: Option<usize>) {
        if self.verbose == 0 {
            return;
        }
        let Head {
            status,
            version,
            headers,
        } = head;
        let size = bytes.map(|n| format!(", {n} bytes")).unwrap_or_default();
        let ids: String = request_ids(headers)
            .map(|(name, id)| format!(" {name} {id}"))
            .collect();
        let ms = started.elapsed().as_millis();
        self.trace(format_args!("< {status} ({version:?}, {ms} ms{size}){ids}"));
    }

    fn trace(&self, line: std::fmt::Arguments) {
        if self.verbose > 0 {
            eprintln!("{}", sanitize::for_stderr(&line.to_string()));
        }
    }
}

/// `future`'s output, or `None` when `deadline` comes first.
async fn within<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    tokio::time::timeout_at(deadline.into(), future).await.ok()
}

/// What the spinner says while a request is sent: the host it went to.
fn waiting_for(request: &Request) -> String {
    format!("waiting for {}", host_of(&request.url))
}

/// Whether a reply with this status may be followed by another attempt: a creating
/// request only after a 429 (the server refused it before doing anything; a 5xx or
/// 408 may come after the work was done, from a gateway that gave up waiting).
fn retryable(request: &Request, status: u16, body: &[u8]) -> bool {
    if request.creates && status != 429 {
        return false;
    }
    retryable_status(status, body)
}

fn retryable_status(status: u16, body: &[u8]) -> bool {
    match status {
        408 | 500..=599 => true,
        // An empty balance will not fill up by waiting.
        429 => error_type(body).as_deref() != Some("insufficient_quota"),
        _ => false,
    }
}

/// `retry-after-ms` (OpenAI's) or `Retry-After` in seconds, capped. The cap applies
/// before the conversion: `Duration::from_secs_f64(1e20)` would panic.
pub fn server_delay(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<f64>().ok();
    let delay = header("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| header("retry-after"))
        .filter(|secs| secs.is_finite() && *secs >= 0.0)?;
    Some(Duration::from_secs_f64(
        delay.min(MAX_RETRY_DELAY.as_secs_f64()),
    ))
}

/// Exponential backoff with "equal jitter": half fixed, half random.
fn backoff(attempt: u32) -> Duration {
    let full = BACKOFF_BASE * 2u32.pow(attempt.saturating_sub(1));
    full / 2 + full.mul_f64(fastrand::f64() / 2.0)
}

/// Every request-id header the server sent (`x-request-id`, `request-id`,
/// `x-cometapi-request-id`, ...), for the `-v` trace and bulk results.
pub fn request_ids(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers.iter().filter_map(|(name, value)| {
        let name = name.as_str();
        let is_id = name.ends_with("request-id") || name.ends_with("requestid");
        is_id.then(|| Some((name, value.to_str().ok()?))).flatten()
    })
}

/// Follows redirects only within the origin (scheme, host and port) the request was
/// sent to. reqwest drops `Authorization` on a cross-host redirect but keeps
/// `x-api-key` and `x-goog-api-key`; refusing such a redirect keeps every credential
/// (and the body) away from a host it was not meant for.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().first().map(reqwest::Url::origin);
        let to = attempt.url().origin();
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if from.as_ref() == Some(&to) {
            attempt.follow()
        } else {
            let to = to.ascii_serialization();
            attempt.error(format!("redirected to another host ({to})"))
        }
    })
}

/// The whole body, refused past [`MAX_BODY_BYTES`] (by its Content-Length first, then
/// as it arrives) so a huge reply cannot exhaust memory; held once, never copied whole.
async fn read_capped(mut response: reqwest::Response) -> std::result::Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::Final(CliError::failure(format!(
            "the server's reply is larger than {} MB; not read",
            MAX_BODY_BYTES >> 20
        )))
    };
    let declared = response.content_length().unwrap_or(0);
    if declared > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await.map_err(Failure::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A JSON reply where an event stream was asked for.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("json"))
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

/// The server's own words: `error.message`, a top-level `message`, FastAPI's `detail`,
/// the same inside an event-stream body (`data: {"error": ...}`), or the start of the body.
fn server_message(headers: &HeaderMap, body: &[u8]) -> String {
    if looks_like_html(headers, body) {
        return "the server answered with an HTML page".to_string();
    }
    let found = match serde_json::from_slice::<Value>(body) {
        Ok(value) => message_in(&value),
        Err(_) => event_stream_message(body),
    };
    if let Some(message) = found {
        return message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "no details given".to_string(),
        None => text.to_string(),
    }
}

/// The message in an error document of any of the shapes gateways use:
/// `{"error": {"message"}}`, `{"message"}`, `{"error": "..."}`, FastAPI's `{"detail"}`.
pub fn message_in(value: &Value) -> Option<String> {
    let direct = value
        .pointer("/error/message")
        .or_else(|| value.get("message"))
        .or_else(|| value.get("error"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty());
    if let Some(message) = direct {
        return Some(message.to_string());
    }
    match value.get("detail")? {
        Value::String(detail) if !detail.is_empty() => Some(detail.clone()),
        // FastAPI validation errors: [{"loc": ["body", "model"], "msg": "field required"}]
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(detail_item).collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        other @ Value::Object(_) => message_in(other),
        _ => None,
    }
}

fn detail_item(item: &Value) -> Option<String> {
    let msg = item.get("msg").and_then(Value::as_str)?;
    let place: Vec<String> = item
        .get("loc")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|part| {
            part.as_str()
                .map_or_else(|| part.to_string(), str::to_string)
        })
        .collect();
    Some(if place.is_empty() {
        msg.to_string()
    } else {
        format!("{}: {msg}", place.join("."))
    })
}

/// The first error message in an event-stream body.
fn event_stream_message(body: &[u8]) -> Option<String> {
    let mut found = None;
    let mut decoder = crate::net::sse::Decoder::new();
    let mut on_event = |event: &crate::net::sse::Event| {
        found = serde_json::from_str::<Value>(event.data)
            .ok()
            .and_then(|v| message_in(&v));
        Ok::<_, CliError>(if found.is_some() {
            crate::net::sse::Flow::Stop
        } else {
            crate::net::sse::Flow::Continue
        })
    };
    // The blank line dispatches a last event the body did not end.
    let _ = decoder
        .feed(body, &mut on_event)
        .and_then(|_| decoder.feed(b"\n\n", &mut on_event));
    found
}

fn status_error(request: &Request, status: u16, headers: &HeaderMap, body: &[u8]) -> CliError {
    let said = server_message(headers, body);
    let message = format!(
        "HTTP {status} from {} {}: {}",
        request.method,
        path_of(&request.url),
        secret::redact(&said, request.auth.secret().as_slice())
    );
    let err = status_error_of(request, status, body, message);
    let err = CliError {
        http_status: Some(status),
        ..err
    };
    if status != 404 && looks_like_html(headers, body) {
        return err.with_hint(BASE_URL_HINT);
    }
    err
}

fn status_error_of(request: &Request, status: u16, body: &[u8], message: String) -> CliError {
    match status {
        // No credential was sent (a result URL on another host): nothing to check on our side.
        401 | 403 if matches!(request.auth, Auth::None) => CliError::failure(message).with_hint(
            "the host refused the download; a result link may have expired, so fetch the job again",
        ),
        401 | 403 => CliError::auth(message).with_hint(request.auth.rejected_hint()),
        404 => CliError::failure(message).with_hint(not_found_hint(&request.url)),
        429 if error_type(body).as_deref() == Some("insufficient_quota") => {
            CliError::failure(message)
                .with_hint("the account is out of quota; top up, then try again")
        }
        429 => CliError::failure(message)
            .with_hint("rate limited: wait a little and try again")
            .transient(),
        408 => CliError::failure(message).transient(),
        500..=599 => CliError::unavailable(message)
            .with_hint("the service is having trouble; try again shortly")
            .transient(),
        _ => CliError::failure(message),
    }
}

/// What a 404 most likely means, read from the path asked for: with a `/v1` or
/// `/v1beta` in it the base URL was right (a model or an endpoint is missing); a
/// console `/api/...` path means a server without the CometAPI console; otherwise
/// the base URL lacks its `/v1`.
fn not_found_hint(url: &str) -> &'static str {
    let path = path_of(url);
    let has = |segment: &str| path.split('/').any(|s| s == segment);
    if has("v1") || has("v1beta") {
        "check the model id and that the server offers this endpoint"
    } else if has("api") {
        "this server has no CometAPI catalog or console (another OpenAI-compatible gateway?); `cometapi models --source openai` lists its models"
    } else {
        BASE_URL_HINT
    }
}

fn transport_error(request: &Request, err: &reqwest::Error) -> CliError {
    if err.is_redirect() {
        return CliError::failure(format!(
            "{} {} was not followed: {}",
            request.method,
            path_of(&request.url),
            describe(err)
        ))
        .with_hint("a redirect to another host is refused so that the credential is never sent there; point the base URL at the API itself");
    }
    let failed = CliError::new(
        ExitCode::Unavailable,
        format!("cannot reach {}: {}", host_of(&request.url), describe(err)),
    );
    if is_certificate_failure(err) {
        // Trying again meets the same certificate.
        return failed.with_hint(
            "the server's TLS certificate is not trusted here; behind a proxy that inspects \
             HTTPS, name its CA certificate in SSL_CERT_FILE",
        );
    }
    failed
        .with_hint("check the network and the base URL (`cometapi doctor` diagnoses both)")
        .transient()
}

/// rustls refused the server's certificate: its errors say so in words
/// ("invalid peer certificate: UnknownIssuer"), the one thing they share across kinds.
fn is_certificate_failure(err: &reqwest::Error) -> bool {
    err.is_connect() && innermost_cause(err).is_some_and(|c| c.contains("certificate"))
}

fn describe(err: &reqwest::Error) -> String {
    if err.is_redirect() {
        return innermost_cause(err).unwrap_or_else(|| err.to_string());
    }
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
    innermost_cause(err)
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

fn innermost_cause(err: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(err);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    innermost
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
    fn a_creating_request_is_retried_only_when_refused_unprocessed() {
        let body = serde_json::json!({"prompt": "a cat"});
        let create =
            Request::post_json("http://h/v1/images/generations", Auth::None, &body).creates();
        let plain = Request::post_json("http://h/v1/chat/completions", Auth::None, &body);
        for status in [408, 500, 502, 503, 504, 524] {
            assert!(!retryable(&create, status, b""), "{status} after a create");
            assert!(retryable(&plain, status, b""), "{status} otherwise");
        }
        assert!(retryable(&create, 429, b"{}"), "a 429 created nothing");
        assert!(!retryable(
            &create,
            429,
            br#"{"error":{"type":"insufficient_quota"}}"#
        ));
        for status in [400, 401, 404] {
            assert!(!retryable(&create, status, b""));
        }
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
    fn absurd_server_delays_are_capped_not_a_panic() {
        for (name, value) in [
            ("retry-after", "1e20"),
            ("retry-after-ms", "1e30"),
            ("retry-after", "1.7976931348623157e308"),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            assert_eq!(
                server_delay(&headers),
                Some(MAX_RETRY_DELAY),
                "{name}: {value}"
            );
        }
        let mut bad = HeaderMap::new();
        bad.insert("retry-after", HeaderValue::from_static("inf"));
        assert_eq!(server_delay(&bad), None);
    }

    #[test]
    fn error_messages_from_gateways_of_every_shape() {
        let plain = HeaderMap::new();
        let said = |body: &str| server_message(&plain, body.as_bytes());
        assert_eq!(said(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(
            said(r#"{"detail":[{"loc":["body","model"],"msg":"field required"},{"msg":"bad"}]}"#),
            "body.model: field required; bad"
        );
        assert_eq!(
            said("data: {\"error\":{\"message\":\"no such model\"}}\n\n"),
            "no such model"
        );
        assert_eq!(
            said("event: error\ndata: {\"message\":\"unterminated\"}"),
            "unterminated"
        );
        assert_eq!(said("data: [DONE]"), "data: [DONE]");
    }

    #[test]
    fn a_404_hint_reads_the_path() {
        assert_eq!(not_found_hint("http://h/chat/completions"), BASE_URL_HINT);
        assert!(
            not_found_hint("http://h/v1beta/models/x:streamGenerateContent?alt=sse")
                .contains("model id")
        );
        assert!(not_found_hint("http://h/v1/chat/completions").contains("model id"));
        assert!(not_found_hint("http://h/api/models").contains("--source openai"));
    }

    #[test]
    fn every_request_id_header_is_found() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("a"));
        headers.insert("x-cometapi-request-id", HeaderValue::from_static("b"));
        headers.insert("content-type", HeaderValue::from_static("c"));
        let ids: Vec<_> = request_ids(&headers).collect();
        assert_eq!(ids, [("x-request-id", "a"), ("x-cometapi-request-id", "b")]);
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
