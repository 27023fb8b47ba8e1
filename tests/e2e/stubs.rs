//! The fake server's per-test stubs: a stub answers ahead of the built-in route with
//! its status, headers and body, and a stub no request hit fails the test, by
//! `verify_stubs` or when the server is dropped, but never twice over a test that is
//! failing already.

use std::panic::{self, AssertUnwindSafe};

use serde_json::json;

use crate::fake_server::Stub;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

#[test]
fn a_stub_answers_ahead_of_the_built_in_route_with_its_status_and_headers() {
    let sandbox = Sandbox::new();
    sandbox.server.stub(
        "GET",
        "/api/user/self/stats",
        Stub::json(json!({"success": false, "message": "no stats for this token", "data": null}))
            .status(403)
            .header("x-request-id", "stub-77"),
    );
    let output = sandbox
        .cmd_with_token()
        .args(["-vv", "stats"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(77), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("HTTP 403 from GET /api/user/self/stats: no stats for this token"),
        "{stderr}"
    );
    assert!(stderr.contains("x-request-id stub-77"), "{stderr}");
    assert_eq!(sandbox.server.requests_to("/api/user/self/stats").len(), 1);
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("a panic");
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|m| m.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn verify_stubs_names_exactly_the_stubs_no_request_hit() {
    let sandbox = Sandbox::new();
    sandbox.server.stub(
        "GET",
        "/api/user/self",
        Stub::console(json!({"id": 7, "username": "stubbed"})),
    );
    sandbox
        .server
        .stub("get", "/api/token/", Stub::console(json!({"items": []})));
    sandbox.server.stub(
        "POST",
        "/v1/chat/completions",
        json!({"choices": [{"message": {"content": "never asked"}}]}),
    );
    let account = sandbox
        .cmd_with_token()
        .args(["account", "--json"])
        .output()
        .expect("run");
    assert!(
        stdout_of(&account).contains("\"username\": \"stubbed\""),
        "{account:?}"
    );

    assert_eq!(
        panic_message(|| sandbox.server.verify_stubs()),
        "fake server: stubs never hit: GET /api/token/, POST /v1/chat/completions"
    );

    // Once every stub is hit, the check passes (and so does the one on drop).
    let tokens = sandbox
        .cmd_with_token()
        .arg("tokens")
        .output()
        .expect("run");
    assert_eq!(stdout_of(&tokens), "No tokens found.\n", "{tokens:?}");
    let chat = sandbox
        .cmd_with_key()
        .args(["chat", "--no-stream", "hi"])
        .output()
        .expect("run");
    assert_eq!(stdout_of(&chat), "never asked\n", "{chat:?}");
    sandbox.server.verify_stubs();
}

#[test]
#[should_panic(expected = "fake server: stubs never hit: GET /api/user/self")]
fn dropping_the_server_fails_the_test_over_a_stub_never_hit() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .stub("GET", "/api/user/self", Stub::console(json!({"id": 1})));
}

/// A failing test with a stub left unhit fails with its own message: the check on
/// drop stays quiet while the test unwinds (a second panic would abort the whole run).
#[test]
#[should_panic(expected = "the test's own failure")]
fn a_failing_test_is_not_turned_into_an_abort_by_its_unhit_stubs() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .stub("GET", "/api/user/self", Stub::console(json!({"id": 1})));
    panic!("the test's own failure");
}
