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
