//! The fake server's bulk features, for `batch` and `compare`: a fast path for many
//! small chat replies (nothing recorded, a fixed reply), per-model latencies, a burst
//! of 429s that clears after a number of requests, an error rate and failing models
//! (on every model path; embeddings themselves are answered by fake_media_audio.rs),
//! and a record of how many model requests overlapped at each arrival. Everything is deterministic: which request fails depends only on the seed
//! and the request body, never on timing.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use super::{openai_error, FakeServer, Recorded, Reply, State};

/// The model endpoints bulk work targets.
const MODEL_PATHS: [&str; 4] = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/messages",
];

#[derive(Default)]
pub struct Bulk {
    fast: AtomicBool,
    in_flight: AtomicUsize,
    /// Model requests seen (the fast path records nothing else).
    seen: AtomicUsize,
    arrivals: Mutex<Vec<Arrival>>,
    config: Mutex<Config>,
}

/// One model request as it arrived.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    /// Model requests in flight at the server, this one included.
    pub in_flight: usize,
    /// It was answered 429 (part of a burst).
    pub throttled: bool,
}

#[derive(Default)]
struct Config {
    latency: Duration,
    model_latency: HashMap<String, Duration>,
    /// Model requests numbered `from..from + count` (from 0) are answered 429.
    burst: Option<(usize, usize, u64)>,
    /// Requests fail with `status` when hash(seed, body) falls under `rate`.
    errors: Option<(f64, u16, u64)>,
    failing_models: HashMap<String, u16>,
}

impl FakeServer {
    /// The fast path: chat requests get a small fixed reply and are not recorded.
    pub fn set_bulk_fast(&self, fast: bool) {
        self.state.bulk.fast.store(fast, Ordering::SeqCst);
    }

    /// Every model request waits this long before its reply.
    pub fn set_latency(&self, latency: Duration) {
        self.bulk_config().latency = latency;
    }

    /// Requests for `model` wait this long instead.
    pub fn set_model_latency(&self, model: &str, latency: Duration) {
        self.bulk_config()
            .model_latency
            .insert(model.to_string(), latency);
    }

    /// Model requests number `from` to `from + count - 1` (counting from 0) are answered
    /// 429 with `retry-after-ms`; after them the burst has cleared.
    pub fn set_429_burst(&self, from: usize, count: usize, retry_after_ms: u64) {
        self.bulk_config().burst = Some((from, count, retry_after_ms));
    }

    /// Requests whose body hashes (with `seed`) under `rate` (0.0 to 1.0) fail with
    /// `status`; `rate` 0 turns it off.
    pub fn set_error_rate(&self, rate: f64, status: u16, seed: u64) {
        self.bulk_config().errors = (rate > 0.0).then_some((rate, status, seed));
    }

    /// Every request for `model` fails with `status`.
    pub fn set_failing_model(&self, model: &str, status: u16) {
        self.bulk_config()
            .failing_models
            .insert(model.to_string(), status);
    }

    /// Every model request's arrival, in order.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.state.bulk.arrivals.lock().expect("arrivals").clone()
    }

    /// How many model requests arrived (the fast path included).
    pub fn model_requests(&self) -> usize {
        self.state.bulk.seen.load(Ordering::SeqCst)
    }

    fn bulk_config(&self) -> std::sync::MutexGuard<'_, Config> {
        self.state.bulk.config.lock().expect("bulk config")
    }
}

/// Counts a model request in flight for as long as it is held.
pub struct Flight<'a> {
    bulk: Option<&'a Bulk>,
    at_arrival: usize,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if let Some(bulk) = self.bulk {
            bulk.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Called first for every request: model requests are counted in flight.
pub fn arrive<'a>(state: &'a State, path: &str) -> Flight<'a> {
    if !MODEL_PATHS.contains(&path) {
        return Flight {
            bulk: None,
            at_arrival: 0,
        };
    }
    let bulk = &state.bulk;
    let at_arrival = bulk.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    Flight {
        bulk: Some(bulk),
        at_arrival,
    }
}

/// A model reply asks the client to close its connection. tiny_http hands each
/// connection to a worker for as long as it stays open, and under a burst of new
/// connections its pool queues some behind workers that never free up (a client
/// keeping its connections alive), so their requests would never be answered.
/// tiny_http drops a `Connection` header, so a whole JSON reply is written by hand.
pub fn closing(reply: Reply, flight: &Flight, id: u64) -> Reply {
    let plain = reply.stream.is_none() && reply.events.is_none() && reply.by_hand.is_none();
    if flight.bulk.is_none() || !plain {
        return reply;
    }
    let mut head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nX-Cometapi-Request-Id: req-{id}\r\nConnection: close\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let body = reply.body.clone();
    Reply {
        by_hand: Some(Box::new(move |out: &mut dyn Write| {
            let _ = out
                .write_all(head.as_bytes())
                .and_then(|()| out.write_all(body.as_bytes()))
                .and_then(|()| out.flush());
        })),
        ..reply
    }
}

/// Whether the request is to be left out of the server's record (the fast path).
pub fn unrecorded(state: &State) -> bool {
    state.bulk.fast.load(Ordering::SeqCst)
}

/// The bulk reply to a model request, or `None` for the normal route.
pub fn intercept(state: &State, req: &Recorded, path: &str, flight: &Flight) -> Option<Reply> {
    flight.bulk?;
    let bulk = &state.bulk;
    let number = bulk.seen.fetch_add(1, Ordering::SeqCst);
    let body: Value = serde_json::from_slice(&req.body_bytes).unwrap_or(Value::Null);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (latency, throttle, failure) = {
        let config = bulk.config.lock().expect("bulk config");
        let latency = *config.model_latency.get(model).unwrap_or(&config.latency);
        let throttle = config
            .burst
            .filter(|(from, count, _)| (*from..from + count).contains(&number))
            .map(|(_, _, ms)| ms);
        let failure = config.failing_models.get(model).copied().or_else(|| {
            let (rate, status, seed) = config.errors?;
            (unit_hash(seed, &req.body_bytes) < rate).then_some(status)
        });
        (latency, throttle, failure)
    };
    if !bulk.fast.load(Ordering::SeqCst) {
        bulk.arrivals.lock().expect("arrivals").push(Arrival {
            in_flight: flight.at_arrival,
            throttled: throttle.is_some(),
        });
    }
    if !latency.is_zero() {
        thread::sleep(latency);
    }
    if let Some(ms) = throttle {
        return Some(
            openai_error(
                429,
                "Rate limit reached (fake burst)",
                "rate_limit_error",
                None,
            )
            .header("retry-after-ms", ms.to_string()),
        );
    }
    if let Some(status) = failure {
        let message = format!("fake failure for {model}");
        return Some(openai_error(status, &message, "server_error", None));
    }
    match path {
        "/v1/chat/completions" if bulk.fast.load(Ordering::SeqCst) => Some(fast_chat(model)),
        _ => None,
    }
}

fn fast_chat(model: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "id": "chatcmpl-fast", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        }),
    )
}

/// FNV-1a of the seed and the bytes, as a number in 0..1.
fn unit_hash(seed: u64, bytes: &[u8]) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1u64 << 53) as f64
}
