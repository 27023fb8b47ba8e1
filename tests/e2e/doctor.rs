//! `doctor`: every check, and the exit code for each kind of trouble.

use predicates::prelude::*;
use serde_json::Value;

use crate::fake_server::{ACCESS_TOKEN, API_KEY};
use crate::sandbox::{dead_base_url, stdout_of, Sandbox};

fn checks(output: &std::process::Output) -> Vec<(String, String, String)> {
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    rows.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("check"), s("status"), s("detail"))
        })
        .collect()
}

fn status_of(checks: &[(String, String, String)], name: &str) -> String {
    checks
        .iter()
        .find(|c| c.0 == name)
        .map(|c| c.1.clone())
        .unwrap_or_else(|| panic!("no check {name}"))
}

#[test]
fn all_checks_pass_with_good_credentials() {
    let sandbox = Sandbox::new();
    sandbox.write_config(&format!("access_token = \"{ACCESS_TOKEN}\"\n"));
    sandbox.chmod_config(0o600);
    let output = sandbox
        .cmd_with_key()
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let checks = checks(&output);
    for name in [
        "version",
        "config file",
        "base URL",
        "API key",
        "access token",
        "service",
        "API key valid",
        "access token valid",
    ] {
        assert_eq!(status_of(&checks, name), "ok", "{name}: {checks:?}");
    }
    let text = stdout_of(&output);
    assert!(
        text.contains("****0001 (env COMETAPI_KEY)") && text.contains("****0002 (config file)"),
        "{text}"
    );
    assert!(text.contains("signed in as tester"));
    assert!(
        !text.contains(API_KEY) && !text.contains(ACCESS_TOKEN),
        "no secret in output"
    );
    let key_check = &sandbox.server.requests_to("/v1/models")[0];
    assert_eq!(
        key_check.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    let token_check = &sandbox.server.requests_to("/api/user/self")[0];
    assert_eq!(
        token_check.header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

#[test]
fn missing_key_is_exit_64() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(64));
    let checks = checks(&output);
    assert_eq!(status_of(&checks, "API key"), "fail");
    assert_eq!(status_of(&checks, "access token"), "warn");
    assert_eq!(status_of(&checks, "config file"), "warn");
    assert_eq!(
        status_of(&checks, "service"),
        "ok",
        "reach is checked without a key"
    );
    assert_eq!(status_of(&checks, "API key valid"), "skip");
}

#[test]
fn rejected_key_is_exit_77() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .env("COMETAPI_KEY", "sk-wrong-key-000000000000")
        .env("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN)
        .arg("doctor")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(77));
    let text = stdout_of(&output);
    assert!(text.contains("API key valid       fail"), "{text}");
    assert!(text.contains("access token valid  ok"), "{text}");
}

#[test]
fn rejected_token_is_exit_77() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_ACCESS_TOKEN", "tok-wrong-token-00000000")
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(77));
    assert_eq!(status_of(&checks(&output), "access token valid"), "fail");
}

#[test]
fn unreachable_service_is_exit_69() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(69));
    let checks = checks(&output);
    assert_eq!(status_of(&checks, "service"), "fail");
    assert_eq!(
        status_of(&checks, "API key valid"),
        "skip",
        "no key verdict without a reply"
    );
}

#[test]
fn corrupt_config_is_exit_78() {
    let sandbox = Sandbox::new();
    sandbox.write_config("not toml at all [");
    sandbox
        .cmd_with_key()
        .arg("doctor")
        .assert()
        .code(78)
        .stdout(predicate::str::contains("config file"))
        .stdout(predicate::str::contains("does not parse"));
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn loose_config_permissions_are_a_warning() {
    let sandbox = Sandbox::new();
    sandbox.write_config("default_model = \"gpt-4o\"\n");
    sandbox.chmod_config(0o644);
    let output = sandbox
        .cmd_with_key()
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0));
    let checks = checks(&output);
    assert_eq!(status_of(&checks, "config file"), "warn");
    assert!(checks.iter().any(|c| c.2.contains("chmod 600")));
}
