//! The concurrent request engine: runs a (lazy) sequence of requests on the one HTTP
//! client with at most `jobs` in flight, through the [`Gate`] (AIMD on 429, the
//! server's `Retry-After`, `--rpm`), retrying under the client's rules, and hands each
//! result to the caller as it finishes, with its attempts, latency and request id.
//!
//! Requests are polled together on the client's current-thread runtime
//! (`FuturesUnordered`), so they may borrow the credential and nothing is spawned.
//! Ctrl-C stops submitting; requests in flight get a short grace period to finish.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};

use super::gate::Gate;
use crate::error::{CliError, Result};
use crate::net::{self, Failure, Http, Request};
use crate::term::interrupt;

/// How many attempts a request refused with 429 gets: the gate slows everyone down, so
/// a burst of them is ridden out rather than failed; the deadline still bounds it.
const THROTTLED_ATTEMPTS: u32 = 10;

pub struct Settings {
    /// Requests in flight at most (`-j`).
    pub jobs: usize,
    /// Requests per minute at most (`--rpm`).
    pub rpm: Option<u32>,
    /// With `--ordered`: a request is not started while one `window` places before it
    /// is unfinished, which bounds the caller's reorder buffer.
    pub window: Option<usize>,
    /// How long requests in flight may still finish after Ctrl-C.
    pub grace: Duration,
}

/// One request's result.
pub struct Finished {
    /// Its place in the sequence given to [`run`], from 0.
    pub seq: usize,
    /// The last reply's status, when there was a reply.
    pub status: Option<u16>,
    pub request_id: Option<String>,
    /// The last reply's body (a success, or the server's error document).
    pub body: Vec<u8>,
    /// Why it failed, when it did.
    pub error: Option<CliError>,
    pub attempts: u32,
    /// From the first attempt to the end of the last, pauses included.
    pub latency: Duration,
}

/// What the caller wants after a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Start nothing more; let what is in flight finish.
    Stop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Every request ran.
    Complete,
    /// The caller said [`Flow::Stop`].
    Stopped,
    /// Ctrl-C.
    Interrupted,
}

pub struct Report {
    pub ended: Ended,
    /// The lowest concurrency the gate went down to.
    pub lowest_limit: usize,
}

/// Runs `requests` and calls `on_done` with each result, in the order they finish.
/// An error from `on_done` (the output cannot be written) ends the run with it.
pub fn run<'a>(
    http: &Http,
    requests: impl Iterator<Item = Request<'a>>,
    settings: &Settings,
    on_done: &mut dyn FnMut(Finished) -> Result<Flow>,
) -> Result<Report> {
    let gate = Gate::new(settings.jobs, settings.rpm);
    let ended = http.block_on(drive(http, &gate, requests, settings, on_done))?;
    Ok(Report {
        ended,
        lowest_limit: gate.lowest(),
    })
}

async fn drive<'a>(
    http: &Http,
    gate: &Gate,
    requests: impl Iterator<Item = Request<'a>>,
    settings: &Settings,
    on_done: &mut dyn FnMut(Finished) -> Result<Flow>,
) -> Result<Ended> {
    let mut requests = requests.enumerate().peekable();
    let mut running = FuturesUnordered::new();
    let mut unfinished = BTreeSet::new();
    let mut waiting = interrupt::waiting();
    let mut stopped = false;
    loop {
        while !stopped && running.len() < settings.jobs.max(1) {
            let Some((seq, _)) = requests.peek() else {
                break;
            };
            let oldest = unfinished.first().copied().unwrap_or(*seq);
            if settings.window.is_some_and(|w| *seq >= oldest + w.max(1)) {
                break;
            }
            let Some((seq, request)) = requests.next() else {
                break;
            };
            unfinished.insert(seq);
            running.push(one(http, gate, seq, request));
        }
        if running.is_empty() {
            let more = requests.peek().is_some();
            return Ok(if more {
                Ended::Stopped
            } else {
                Ended::Complete
            });
        }
        tokio::select! {
            biased;
            () = waiting.interrupted() => {
                let until = Instant::now() + settings.grace;
                while let Ok(Some(done)) = tokio::time::timeout_at(until.into(), running.next()).await {
                    on_done(done)?;
                }
                return Ok(Ended::Interrupted);
            }
            Some(done) = running.next() => {
                unfinished.remove(&done.seq);
                if on_done(done)? == Flow::Stop {
                    stopped = true;
                }
            }
        }
    }
}

/// One request, attempt after attempt, until it succeeds or may not be tried again.
async fn one(http: &Http, gate: &Gate, seq: usize, request: Request<'_>) -> Finished {
    let started = Instant::now();
    let deadline = started + http.timeout();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let failure = {
            let permit = gate.enter().await;
            http.trace_request(&request, attempt);
            match http.exchange(&request, deadline).await {
                Ok(reply) => {
                    gate.succeeded();
                    return Finished {
                        seq,
                        status: Some(reply.status),
                        request_id: request_id(&reply.headers),
                        body: reply.body,
                        error: None,
                        attempts: attempt,
                        latency: started.elapsed(),
                    };
                }
                Err(failure) => {
                    if let Failure::Status(429, headers, _) = &failure {
                        let pause = net::server_delay(headers).unwrap_or_default();
                        gate.throttled(permit.epoch, pause);
                    }
                    failure
                }
            }
        };
        let (error, pause) = http.judge(&request, &failure, attempt);
        let throttled = matches!(failure, Failure::Status(429, ..));
        let most = if throttled {
            THROTTLED_ATTEMPTS
        } else {
            net::MAX_ATTEMPTS
        };
        match pause {
            Some(pause) if attempt < most && Instant::now() + pause < deadline => {
                tokio::time::sleep(pause).await;
            }
            _ => return failed(seq, failure, error, attempt, started),
        }
    }
}

fn failed(
    seq: usize,
    failure: Failure,
    error: CliError,
    attempts: u32,
    started: Instant,
) -> Finished {
    let (status, request_id, body) = match failure {
        Failure::Status(status, headers, body) => (Some(status), request_id(&headers), body),
        _ => (None, None, Vec::new()),
    };
    Finished {
        seq,
        status,
        request_id,
        body,
        error: Some(error),
        attempts,
        latency: started.elapsed(),
    }
}

fn request_id(headers: &reqwest::header::HeaderMap) -> Option<String> {
    net::request_ids(headers)
        .next()
        .map(|(_, id)| id.to_string())
}
