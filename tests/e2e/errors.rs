//! Error reporting: plain and JSON, and usage errors.

use serde_json::Value;

use crate::sandbox::{stderr_of, Sandbox};

#[test]
fn json_errors_are_structured_on_stderr() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["models", "--source", "openai", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(64));
    assert!(output.stdout.is_empty());
    let error: Value = serde_json::from_str(stderr_of(&output).trim()).expect("one JSON document");
    assert_eq!(error["error"]["code"], 64);
    assert_eq!(error["error"]["message"], "API key is not configured");
    assert!(error["error"]["hint"]
        .as_str()
        .is_some_and(|h| h.contains("COMETAPI_KEY")));
}

#[test]
fn json_usage_errors_are_structured_too() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["-f", "json", "models", "--limit", "zero"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let error: Value = serde_json::from_str(stderr_of(&output).trim()).expect("one JSON document");
    assert_eq!(error["error"]["code"], 2);
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid value 'zero'")),
        "{error}"
    );
}

#[test]
fn plain_errors_have_error_and_hint_lines() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["models", "--source", "openai"])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: API key is not configured\nhint: set COMETAPI_KEY"),
        "{stderr}"
    );
}

#[test]
fn unknown_command_is_exit_2() {
    Sandbox::new().cmd().arg("frobnicate").assert().code(2);
}

#[test]
fn bad_base_url_is_exit_2() {
    Sandbox::new()
        .cmd()
        .args(["--base-url", "api.cometapi.com", "models"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "invalid base URL from flag --base-url",
        ));
}
