//! `account` and `stats`: the console profile and this month's statistics (a missing
//! or rejected access token: rows of `every_command.rs`).

use predicates::prelude::*;
use serde_json::{json, Value};

use crate::fake_server::{Fault, Stub, ACCESS_TOKEN};
use crate::sandbox::{dead_base_url, stdout_of, Sandbox};

#[test]
fn account_table_names_role_and_status() {
    let sandbox = Sandbox::new();
    sandbox.server.stub(
        "GET",
        "/api/user/self",
        Stub::console(json!({
            "id": 42, "username": "tester", "display_name": "Test User",
            "email": "tester@example.com", "role": 1, "status": 1, "quota": 2_500_000,
            "used_quota": 500_000, "request_count": 321, "group": "default",
        })),
    );
    let text = stdout_of(
        &sandbox
            .cmd_with_token()
            .arg("account")
            .output()
            .expect("run"),
    );
    assert_eq!(
        text,
        "ID            42\nUsername      tester\nDisplay name  Test User\nEmail         tester@example.com\n\
         Role          user\nStatus        enabled\nGroup         default\nRequests      321\n"
    );
    let sent = &sandbox.server.requests_to("/api/user/self")[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {ACCESS_TOKEN}").as_str())
    );
}

#[test]
fn account_json_is_the_server_record_with_secrets_masked() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_token()
        .args(["account", "--json"])
        .output()
        .expect("run");
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["quota"], 2_500_000, "raw server fields pass through");
    assert_eq!(record["role"], 1);

    let with_secret = json!({"success": true, "message": "", "data": {
        "id": 42, "username": "tester", "access_token": "tok-live-abcdefghijklmnop9999"
    }});
    sandbox.server.inject(
        "/api/user/self",
        Fault::Status(200, with_secret.to_string()),
        2,
    );
    for format in ["json", "yaml"] {
        let text = stdout_of(
            &sandbox
                .cmd_with_token()
                .args(["account", "-f", format])
                .output()
                .expect("run"),
        );
        assert!(
            text.contains("****9999") && !text.contains("abcdefgh"),
            "{format}: {text}"
        );
    }
}

#[test]
fn stats_show_usage_and_rates() {
    let sandbox = Sandbox::new();
    sandbox.server.stub(
        "GET",
        "/api/user/self/stats",
        Stub::console(json!({
            "month_req_count": 321, "req_rate": 12.5, "month_usage": 1.0,
            "usage_rate": -8.3, "month_success_rate": 99.1, "predicted_days": 150,
        })),
    );
    let text = stdout_of(&sandbox.cmd_with_token().arg("stats").output().expect("run"));
    assert_eq!(
        text,
        "Requests this month     321\nRequests vs last month  +12.5%\nUsage this month        $1.00\n\
         Usage vs last month     -8.3%\nSuccess rate            99.1%\nPredicted days left     150\n"
    );
    let output = sandbox
        .cmd_with_token()
        .args(["stats", "--json"])
        .output()
        .expect("run");
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(
        record,
        json!({
            "requests": 321, "request_rate_change": 12.5, "usage_usd": 1.0,
            "usage_rate_change": -8.3, "success_rate": 99.1, "predicted_days_left": 150
        })
    );
    let asked = sandbox.server.requests_to("/api/user/self/stats");
    assert_eq!(asked.len(), 2);
    assert!(asked
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {ACCESS_TOKEN}"))));
}

#[test]
fn base_url_flag_is_honoured() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd_with_token()
        .env("COMETAPI_BASE_URL", dead_base_url())
        .args(["--base-url", &sandbox.server.base_url(), "stats"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Predicted days left"));
}
