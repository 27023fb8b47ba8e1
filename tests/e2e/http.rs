//! The shared HTTP client: retries, timeouts, URL derivation, tracing.

use std::time::Duration;

use predicates::prelude::*;

use crate::fake_server::{Fault, API_KEY};
use crate::sandbox::{dead_base_url, stderr_of, Sandbox};

fn rate_limited(ms: u64) -> Fault {
    Fault::RateLimited {
        retry_after_secs: None,
        retry_after_ms: Some(ms),
    }
}

#[test]
fn retries_once_after_a_429() {
    let sandbox = Sandbox::new();
    sandbox.server.inject("/api/models", rate_limited(10), 1);
    sandbox
        .cmd()
        .args(["models", "--no-cache", "-l", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("suno-v4"));
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 2);
}

#[test]
fn honours_retry_after_seconds() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/api/models",
        Fault::RateLimited {
            retry_after_secs: Some(1),
            retry_after_ms: None,
        },
        1,
    );
    let started = std::time::Instant::now();
    sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .assert()
        .success();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as told"
    );
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 2);
}

#[test]
fn gives_up_after_three_attempts_on_5xx_with_exit_69() {
    let sandbox = Sandbox::new();
    sandbox.server.inject("/api/models", Fault::ServerError, 5);
    sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("HTTP 500"));
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 3);
}

#[test]
fn never_retries_a_400() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/api/models",
        Fault::Status(
            400,
            r#"{"error":{"message":"bad filter","type":"invalid_request_error"}}"#.into(),
        ),
        1,
    );
    sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "HTTP 400 from GET /api/models: bad filter",
        ));
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 1);
}

#[test]
fn never_retries_insufficient_quota() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .inject("/v1/models", Fault::InsufficientQuota, 1);
    sandbox
        .cmd_with_key()
        .args(["models", "--source", "openai"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("insufficient quota"))
        .stderr(predicate::str::contains(
            "hint: the account is out of quota",
        ));
    assert_eq!(sandbox.server.requests_to("/v1/models").len(), 1);
}

#[test]
fn html_404_from_the_console_says_there_is_no_console() {
    // The base URL ends in /v1, so the /v1 hint would be wrong: the console is missing.
    let sandbox = Sandbox::new();
    sandbox.server.inject("/api/models", Fault::Html404, 1);
    sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("HTTP 404"))
        .stderr(predicate::str::contains("HTML page"))
        .stderr(predicate::str::contains("no CometAPI catalog or console"))
        .stderr(predicate::str::contains("should end in /v1").not());
}

#[test]
fn connection_refused_is_exit_69() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["models", "--no-cache"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("cannot reach http://127.0.0.1:"))
        .stderr(predicate::str::contains("hint: check the network"));
}

#[test]
fn slow_reply_times_out_with_exit_69() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .inject("/v1/models", Fault::Slow(Duration::from_secs(5)), 3);
    sandbox
        .cmd_with_key()
        .env("COMETAPI_TIMEOUT", "0.3")
        .args(["models", "--source", "openai"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("timed out"));
    assert_eq!(
        sandbox.server.requests_to("/v1/models").len(),
        1,
        "the time limit covers every attempt: none is left for a retry"
    );
}

#[test]
fn base_url_flag_is_honoured_for_console_endpoints() {
    let sandbox = Sandbox::new();
    let proxy_style = format!("{}/", sandbox.server.base_url());
    sandbox
        .cmd()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args([
            "--base-url",
            &proxy_style,
            "models",
            "--no-cache",
            "-l",
            "1",
        ])
        .assert()
        .success();
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 1);
}

#[test]
fn verbose_traces_requests_with_secrets_redacted() {
    let sandbox = Sandbox::new();
    sandbox.server.inject("/v1/models", rate_limited(5), 1);
    let output = sandbox
        .cmd_with_key()
        .args(["-v", "models", "--source", "openai"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let trace = stderr_of(&output);
    assert!(
        trace.contains(&format!("> GET {}/models", sandbox.server.base_url())),
        "{trace}"
    );
    assert!(
        trace.contains("> authorization: Bearer ****0001"),
        "{trace}"
    );
    assert!(
        trace.contains("< 429")
            && trace.contains("retrying in")
            && trace.contains("(attempt 2 of 3)"),
        "{trace}"
    );
    assert!(trace.contains("< 200"), "{trace}");
    assert!(!trace.contains(API_KEY), "the key never appears: {trace}");
}
