//! Per-test stubs, as gh's `httpmock` registry: a test registers the reply for one
//! method and path next to the assertion that depends on it,
//!
//! ```ignore
//! sandbox.server.stub("GET", "/api/user/self", Stub::console(json!({"quota": 500_000})));
//! ```
//!
//! A stub answers every request to its method and path (the query is not compared),
//! ahead of the built-in routes and without their credential check; the first stub
//! registered for a path wins. Every stub must be hit: [`FakeServer::verify_stubs`]
//! panics naming the ones that were not, and dropping the server does the same (as
//! gh's `defer reg.Verify(t)`).

use std::sync::Mutex;

use serde_json::{json, Value};

use super::{Call, FakeServer, Reply};

/// A canned reply: a status, extra headers and a JSON body.
#[derive(Clone, Debug)]
pub struct Stub {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Stub {
    /// 200 with this JSON body.
    pub fn json(body: Value) -> Stub {
        Stub {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// 200 with the console's envelope around `data`
    /// (`{"success": true, "message": "", "data": ...}`).
    pub fn console(data: Value) -> Stub {
        Stub::json(json!({"success": true, "message": "", "data": data}))
    }

    /// This status instead of 200.
    pub fn status(mut self, status: u16) -> Stub {
        self.status = status;
        self
    }

    /// One more header on the reply.
    pub fn header(mut self, name: &str, value: &str) -> Stub {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    fn reply(&self) -> Reply {
        let mut reply = Reply::raw(self.status, "application/json", self.body.clone());
        reply.headers.extend(self.headers.iter().cloned());
        reply
    }
}

/// A JSON value is a 200 stub with that body.
impl From<Value> for Stub {
    fn from(body: Value) -> Stub {
        Stub::json(body)
    }
}

struct Registered {
    method: String,
    path: String,
    stub: Stub,
    hits: usize,
}

/// The stubs a test registered, in order.
#[derive(Default)]
pub(super) struct Stubs {
    registered: Mutex<Vec<Registered>>,
}

impl FakeServer {
    /// Answer every `method` request to `path` (raw or percent-decoded, without the
    /// query) with `reply`: a [`Stub`], or a JSON value for a 200 with that body.
    pub fn stub(&self, method: &str, path: &str, reply: impl Into<Stub>) {
        let mut registered = self.state.stubs.registered.lock().expect("stubs mutex");
        registered.push(Registered {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            stub: reply.into(),
            hits: 0,
        });
    }

    /// Panics naming every stub that no request has hit yet.
    pub fn verify_stubs(&self) {
        let registered = self.state.stubs.registered.lock().expect("stubs mutex");
        let unhit: Vec<String> = registered
            .iter()
            .filter(|r| r.hits == 0)
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        drop(registered);
        assert!(
            unhit.is_empty(),
            "fake server: stubs never hit: {}",
            unhit.join(", ")
        );
    }
}

/// The first stub for this request's method and path, `None` when there is none.
pub(super) fn route(call: &Call) -> Option<Reply> {
    let mut registered = call.state.stubs.registered.lock().expect("stubs mutex");
    let found = registered.iter_mut().find(|r| {
        r.method == call.req.method && (r.path == call.path || r.path == call.req.path)
    })?;
    found.hits += 1;
    Some(found.stub.reply())
}
