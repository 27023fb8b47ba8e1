//! Attempts under one deadline: which failures are tried again ([`Http::judge`]), the
//! pause before the next attempt (the server's `Retry-After`, else exponential backoff
//! with jitter), and the deadlines every attempt, pause and body read keeps to.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;

use crate::error::{CliError, Result};
use crate::net::client::Http;
use crate::net::errors::{describe, error_type, status_error, transport_error};
use crate::net::request::Request;
use crate::term::interrupt;
use crate::term::progress;

pub const MAX_ATTEMPTS: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(20);

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
    /// Runs `once` until it succeeds, fails for good, or has had [`MAX_ATTEMPTS`].
    /// Every attempt and every pause between two shares one deadline, the time limit
    /// from now: a pause that would end after it is not taken. The spinner says what
    /// is awaited (`waiting`) and is gone when this returns.
    pub(super) fn with_retries<T>(
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
    /// connection failures; see `retryable`).
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
                let error = status_error(request, *status, headers, body, self.hints);
                (error, delay)
            }
            Failure::Transport(err) => {
                self.trace(format_args!("< failed: {}", describe(err)));
                // A request that never reached the server is always safe to repeat
                // (but a refused certificate will be refused again); a timed-out one
                // only when it changes nothing (GET).
                let error = transport_error(request, err, self.hints);
                let safe = (err.is_connect() && error.transient)
                    || (err.is_timeout() && request.method == Method::GET);
                (error, safe.then(|| backoff(attempt)))
            }
        }
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

    /// When the next piece of a body must have come: before anything of it was used,
    /// by the request's deadline; after, within the time limit of the last piece.
    pub(super) fn body_limit(&self, started: bool, deadline: Instant) -> Instant {
        if started {
            Instant::now() + self.timeout
        } else {
            deadline
        }
    }
}

/// `future`'s output, or `None` when `deadline` comes first.
pub(super) async fn within<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    tokio::time::timeout_at(deadline.into(), future).await.ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::request::Auth;
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
}
