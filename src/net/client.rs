//! The one HTTP client: rustls, HTTP/2 by ALPN, redirects kept on the request's origin,
//! a second client for URLs a server handed back (built on first use), the runtime
//! every call blocks on, and one request sent and its reply read whole ([`Http::send`]).

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::error::{CliError, Result};
use crate::net::body::read_capped;
use crate::net::errors::{describe, Hints};
use crate::net::request::{Auth, Request, Response};
use crate::net::retry::{within, Failure};
use crate::net::urls::host_of;
use crate::term::interrupt;
use crate::term::progress;

/// The package's own name and version, `name/version`.
const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
/// At most half the time limit, so that an unreachable host is reported as one rather
/// than as a server that was slow to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_REDIRECTS: usize = 10;

pub struct Http {
    client: reqwest::Client,
    /// For [`Request::get_anywhere`]: redirects to any host; built on first use.
    anywhere_client: OnceLock<reqwest::Client>,
    pub(super) runtime: tokio::runtime::Runtime,
    /// `-v` count: 1 traces requests and replies, 2 also their bodies.
    pub(super) verbose: u8,
    /// How long one request may take, all attempts and pauses included, until its reply
    /// is whole (or, for a body read as it arrives, until the first of it is shown); after
    /// that, the longest silence allowed between two pieces of the body.
    pub(super) timeout: Duration,
    /// The hints errors carry where the remedy is the service's or the program's.
    pub(super) hints: &'static dyn Hints,
}

/// A reply's status line and headers, read before its body.
pub(super) struct Head {
    pub(super) status: u16,
    pub(super) version: reqwest::Version,
    pub(super) headers: HeaderMap,
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

impl Http {
    pub fn new(verbose: u8, timeout: Duration, hints: &'static dyn Hints) -> Result<Http> {
        let client = builder(timeout)
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
            anywhere_client: OnceLock::new(),
            runtime,
            verbose,
            timeout,
            hints,
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

    /// GET a JSON document.
    pub fn get_json(&self, url: &str, auth: Auth) -> Result<Value> {
        self.send(&Request::get(url, auth))?.json()
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
            html_hint: self.hints.html_reply(),
        })
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
    pub(super) fn interruptible<T>(
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

    /// Shows `message` on the spinner, unless `--verbose` traces the wait instead.
    pub(super) fn spin(&self, message: String) {
        if self.verbose == 0 {
            progress::show(message);
        }
    }

    /// [`Http::open`] within the deadline.
    pub(super) async fn open_within(
        &self,
        request: &Request<'_>,
        deadline: Instant,
    ) -> std::result::Result<reqwest::Response, Failure> {
        within(deadline, self.open(request))
            .await
            .unwrap_or_else(|| Err(Failure::Final(self.no_answer(request))))
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
        let client = builder(self.timeout)
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
}

/// What both clients share: the user agent and the connect timeout.
fn builder(timeout: Duration) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT.min(timeout / 2))
}

/// What the spinner says while a request is sent: the host it went to.
pub(super) fn waiting_for(request: &Request) -> String {
    format!("waiting for {}", host_of(&request.url))
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
