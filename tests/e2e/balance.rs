//! `balance`: account view, key view, and the order in which they are tried (no
//! credential at all, or a rejected one: a row of `every_command.rs`).

use predicates::prelude::*;
use serde_json::{json, Value};

use crate::fake_server::{Stub, ACCESS_TOKEN, API_KEY};
use crate::sandbox::{dead_base_url, stdout_of, Sandbox};

const SUBSCRIPTION: &str = "/v1/dashboard/billing/subscription";
const USAGE: &str = "/v1/dashboard/billing/usage";

fn balance_json(cmd: &mut assert_cmd::Command, extra: &[&str]) -> Value {
    let output = cmd
        .arg("balance")
        .args(extra)
        .arg("--json")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).expect("json")
}

#[test]
fn account_view_converts_quota_to_dollars() {
    let sandbox = Sandbox::new();
    // 500,000 quota is a dollar.
    sandbox.server.stub(
        "GET",
        "/api/user/self",
        Stub::console(json!({"id": 42, "quota": 2_500_000, "used_quota": 500_000})),
    );
    let mut cmd = sandbox.cmd_with_token();
    cmd.env("COMETAPI_KEY", API_KEY);
    assert_eq!(
        balance_json(&mut cmd, &[]),
        json!({"source": "account", "currency": "USD", "balance": 5.0, "used": 1.0, "total_topped_up": 6.0})
    );
    let asked = sandbox.server.requests_to("/api/user/self");
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
    assert!(
        sandbox.server.requests_to(SUBSCRIPTION).is_empty(),
        "no fallback when the account answers"
    );
    let table = stdout_of(
        &sandbox
            .cmd_with_token()
            .arg("balance")
            .output()
            .expect("run"),
    );
    assert!(table.contains("Available balance  $5.00\n"), "{table}");
    assert!(table.contains("Used               $1.00\n"), "{table}");
    assert!(table.contains("Total topped up    $6.00\n"), "{table}");
}

#[test]
fn key_view_without_a_token() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .stub("GET", SUBSCRIPTION, json!({"hard_limit_usd": 100.0}));
    // In cents.
    sandbox.server.stub(
        "GET",
        USAGE,
        json!({"object": "list", "total_usage": 1234.5}),
    );
    let json = balance_json(&mut sandbox.cmd_with_key(), &[]);
    assert_eq!(json["source"], "key");
    assert_eq!(json["limit"], 100.0);
    assert_eq!(json["used"], 12.345);
    assert_eq!(json["balance"], 87.655);
    assert_eq!(json["unlimited"], false);
    assert!(sandbox.server.requests_to("/api/user/self").is_empty());
    let sent = &sandbox.server.requests_to(SUBSCRIPTION)[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    let sent = &sandbox.server.requests_to(USAGE);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}

#[test]
fn falls_back_to_the_key_when_the_account_call_fails() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_ACCESS_TOKEN", "tok-revoked-00000000000")
        .args(["balance", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let json: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(json["source"], "key");
    assert!(String::from_utf8_lossy(&output.stderr).contains("note: account balance unavailable"));
    let order: Vec<String> = sandbox
        .server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(order, vec!["/api/user/self", SUBSCRIPTION, USAGE]);
}

#[test]
fn source_account_never_falls_back() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd_with_key()
        .env("COMETAPI_ACCESS_TOKEN", "tok-revoked-00000000000")
        .args(["balance", "--source", "account"])
        .assert()
        .code(77)
        .stderr(predicate::str::contains("check the access token"));
    assert!(sandbox.server.requests_to(SUBSCRIPTION).is_empty());
    sandbox
        .cmd_with_key()
        .args(["balance", "--source", "account"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("COMETAPI_ACCESS_TOKEN"))
        .stderr(predicate::str::contains("cometapi init"));
}

#[test]
fn source_key_and_its_token_alias_skip_the_account() {
    let sandbox = Sandbox::new();
    for source in ["key", "token", "KEY"] {
        let mut cmd = sandbox.cmd_with_token();
        cmd.env("COMETAPI_KEY", API_KEY);
        assert_eq!(
            balance_json(&mut cmd, &["--source", source])["source"],
            "key",
            "{source}"
        );
    }
    assert!(sandbox.server.requests_to("/api/user/self").is_empty());
    sandbox
        .cmd_with_token()
        .args(["balance", "--source", "key"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("COMETAPI_KEY"));
    sandbox
        .cmd_with_key()
        .args(["balance", "--source", "wallet"])
        .assert()
        .code(2);
}

#[test]
fn unlimited_key_says_so() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .stub("GET", SUBSCRIPTION, json!({"hard_limit_usd": 100_000_000}));
    let output = sandbox.cmd_with_key().arg("balance").output().expect("run");
    let table = stdout_of(&output);
    assert!(table.contains("Limit              Unlimited\n"), "{table}");
    assert!(table.contains("Available balance  Unlimited\n"), "{table}");
    let json = balance_json(&mut sandbox.cmd_with_key(), &[]);
    assert_eq!(json["limit"], Value::Null);
    assert_eq!(json["balance"], Value::Null);
    assert_eq!(json["unlimited"], true);
}

#[test]
fn base_url_flag_is_honoured() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .env("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN)
        .args([
            "--base-url",
            &sandbox.server.base_url(),
            "balance",
            "--json",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"source\": \"account\""));
}
