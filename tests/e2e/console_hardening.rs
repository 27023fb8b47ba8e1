//! Hostile or empty console replies and odd dates: errors with a message, never a zero
//! and never a panic.

use crate::fake_server::Fault;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

#[test]
fn a_date_with_a_multibyte_offset_is_a_usage_error_not_a_panic() {
    let sandbox = Sandbox::new();
    for bad in ["2026-03-01T12:00:00+1é1", "2026-03-01T12:00:00+25:00"] {
        let output = sandbox
            .cmd_with_token()
            .args(["logs", "--start", bad])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{bad}: {output:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("YYYY-MM-DD, ISO 8601"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(sandbox.server.requests_to("/api/log/self").is_empty());
}

#[test]
fn console_replies_without_data_are_errors_not_zero_balances() {
    for body in [r#"{"success":true,"data":null}"#, "{}"] {
        let sandbox = Sandbox::new();
        sandbox
            .server
            .inject("/api/user/self", Fault::Status(200, body.to_string()), 1);
        let output = sandbox
            .cmd_with_token()
            .args(["balance", "--source", "account"])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1), "{body}: {output:?}");
        assert!(!stdout_of(&output).contains("$0.00"), "{body}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("no data (/api/user/self)"), "{stderr}");
    }
}

#[test]
fn a_key_balance_answered_with_a_console_failure_is_that_failure() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/v1/dashboard/billing/subscription",
        Fault::Status(
            200,
            r#"{"success":false,"message":"key disabled"}"#.to_string(),
        ),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args(["balance", "--source", "key"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(!stdout_of(&output).contains("$0.00"));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("key disabled"), "{stderr}");
}

#[test]
fn fixed_choices_are_declared_to_clap_and_short_flags_follow_the_policy() {
    let sandbox = Sandbox::new();
    let help = stdout_of(
        &sandbox
            .cmd()
            .args(["logs", "--help"])
            .output()
            .expect("run"),
    );
    assert!(
        help.contains("consume, topup, error, refund, system, manage, unknown"),
        "{help}"
    );
    assert!(
        !help.contains("-t, --type") && !help.contains("-p, --page"),
        "{help}"
    );
    let help = stdout_of(
        &sandbox
            .cmd()
            .args(["tasks", "--help"])
            .output()
            .expect("run"),
    );
    assert!(help.contains("suno, mj, luma"), "{help}");
    assert!(help.contains("SUBMITTED, QUEUED, IN_PROGRESS"), "{help}");
    for retired in [["-t", "consume"], ["-p", "2"]] {
        let output = sandbox
            .cmd_with_token()
            .arg("logs")
            .args(retired)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(2), "{retired:?}: {output:?}");
    }
    assert!(sandbox.server.requests_to("/api/log/self").is_empty());
}

#[test]
fn an_export_that_is_not_csv_is_an_error_and_writes_nothing() {
    let bodies = [
        (
            "<!doctype html><title>Sign in</title>",
            "an HTML or XML page",
        ),
        (r#"{"success":true,"data":[]}"#, "JSON"),
        ("\u{1f}\u{8b}\u{8}\u{0}gzip", "binary data"),
    ];
    for (body, what) in bodies {
        let sandbox = Sandbox::new();
        sandbox.server.inject(
            "/api/log/self/export",
            Fault::Status(200, body.to_string()),
            1,
        );
        let output = sandbox
            .cmd_with_token()
            .args(["logs", "--export"])
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(1), "{what}: {output:?}");
        assert!(output.stdout.is_empty(), "{what}: {output:?}");
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains(&format!("the export is {what}")),
            "{stderr}"
        );
    }
}

/// `doctor --json` with both credentials: the rows as `check` → (`status`, `detail`).
fn doctor_rows(sandbox: &Sandbox) -> Vec<(String, String, String)> {
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_ACCESS_TOKEN", crate::fake_server::ACCESS_TOKEN)
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let text = |row: &serde_json::Value, key: &str| row[key].as_str().unwrap_or("").to_string();
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|row| (text(row, "check"), text(row, "status"), text(row, "detail")))
        .collect()
}

fn row(rows: &[(String, String, String)], check: &str) -> (String, String) {
    let (_, status, detail) = rows.iter().find(|r| r.0 == check).expect(check);
    (status.clone(), detail.clone())
}

#[test]
fn doctor_does_not_call_an_html_200_a_valid_key() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/v1/models",
        Fault::Status(200, "<!doctype html><title>Sign in</title>".into()),
        1,
    );
    let rows = doctor_rows(&sandbox);
    let (status, detail) = row(&rows, "API key valid");
    assert_eq!(status, "fail", "{detail}");
    assert!(detail.contains("not confirmed"), "{detail}");
    assert!(!detail.contains("cometapi doctor"), "{detail}");
}

#[test]
fn doctor_says_what_a_reached_server_answered_and_a_missing_console_is_not_a_rejection() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/v1/models",
        Fault::Status(400, r#"{"error":{"message":"bad gateway route"}}"#.into()),
        1,
    );
    sandbox.server.inject("/api/user/self", Fault::Html404, 1);
    let rows = doctor_rows(&sandbox);
    let (status, detail) = row(&rows, "API key valid");
    assert_eq!(status, "fail", "{detail}");
    assert!(
        detail.contains("the server answered HTTP 400") && detail.contains("bad gateway route"),
        "{detail}"
    );
    let (status, detail) = row(&rows, "access token valid");
    assert_eq!(status, "warn", "{detail}");
    assert!(detail.contains("not available on this server"), "{detail}");
}

#[test]
fn doctor_names_the_token_commands_the_registry_declares() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["doctor", "--json"])
        .output()
        .expect("run");
    let text = stdout_of(&output);
    assert!(
        text.contains("not set (needed by account, logs, stats, tasks, tokens)"),
        "{text}"
    );
}
