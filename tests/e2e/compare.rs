//! `compare`: one prompt to several models at once; a failing model does not stop the
//! others; sections in a stable order when piped or with `--format`; fastest and
//! cheapest marked; on a terminal (a pty) the replies drawn as they arrive.

use std::time::Duration;

use serde_json::Value;

use crate::fake_server::API_KEY;
use crate::pty::{spawn, Screen};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CHAT: &str = "/v1/chat/completions";

/// The models [`three_models`] sets up, as `compare` takes them.
const THREE_MODELS: [&str; 6] = ["-m", "gpt-5.4", "-m", "broken-model", "-m", "gpt-4o-mini"];

/// A slow model and a failing one on the server.
fn three_models(sandbox: &Sandbox) {
    sandbox
        .server
        .set_model_latency("gpt-5.4", Duration::from_millis(300));
    sandbox.server.set_failing_model("broken-model", 400);
}

#[test]
fn three_models_one_failing_sections_in_order_and_exit_1() {
    let sandbox = Sandbox::new();
    three_models(&sandbox);
    let output = sandbox
        .cmd_with_key()
        .arg("compare")
        .args(THREE_MODELS)
        .args(["say", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = stdout_of(&output);
    let first = stdout.find("== gpt-5.4 ==").expect("first section");
    let second = stdout.find("== broken-model ==").expect("second section");
    let third = stdout.find("== gpt-4o-mini ==").expect("third section");
    assert!(
        first < second && second < third,
        "the order given: {stdout}"
    );
    assert_eq!(
        stdout.matches("echo: say hi").count(),
        2,
        "both others answered: {stdout}"
    );
    assert!(
        stdout.contains("error: HTTP 400"),
        "the failure in its section: {stdout}"
    );
    assert!(
        stdout.contains("fastest") && stdout.contains("cheapest"),
        "{stdout}"
    );
    let bodies: Vec<Value> = sandbox
        .server
        .requests_to(CHAT)
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("json"))
        .collect();
    assert_eq!(bodies.len(), 3, "one request per model");
    assert!(bodies
        .iter()
        .all(|b| b["stream"] == true && b["messages"][0]["content"] == "say hi"));
    assert!(stderr_of(&output).is_empty() || !stderr_of(&output).contains("panick"));
}

#[test]
fn json_marks_the_fastest_and_cheapest_and_keeps_the_error() {
    let sandbox = Sandbox::new();
    three_models(&sandbox);
    let output = sandbox
        .cmd_with_key()
        .arg("compare")
        .args(THREE_MODELS)
        .args(["--json", "-"])
        .write_stdin("from stdin")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let value: Value = serde_json::from_slice(&output.stdout).expect("json");
    let models = value["models"].as_array().expect("models");
    let names: Vec<&str> = models.iter().filter_map(|m| m["model"].as_str()).collect();
    assert_eq!(names, ["gpt-5.4", "broken-model", "gpt-4o-mini"]);
    let mini = &models[2];
    assert_eq!(mini["content"], "echo: from stdin");
    assert_eq!(mini["fastest"], true, "gpt-5.4 waits 300 ms");
    assert_eq!(mini["cheapest"], true, "$0.12/M against $1.25/M");
    assert!(mini["first_token_ms"].is_u64() && mini["cost_usd"].as_f64() > Some(0.0));
    assert!(models[0]["total_ms"].as_u64() >= Some(300));
    assert!(models[1]["error"]
        .as_str()
        .is_some_and(|e| e.contains("fake failure")));
    assert_eq!(models[1]["fastest"], false);
}

/// (A blank prompt is a row of `every_command.rs`.)
#[test]
fn one_model_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["compare", "-m", "gpt-4o", "-m", "gpt-4o", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(sandbox.server.requests_to(CHAT).is_empty());
}

/// `compare` on a pty, `COLUMNS` wide, with the test key.
fn on_terminal(sandbox: &Sandbox, models: &[&str], prompt: &str, columns: &str) -> Screen {
    let mut args = vec!["compare"];
    for model in models {
        args.extend(["-m", model]);
    }
    args.push(prompt);
    Screen::new(spawn(
        sandbox,
        &args,
        &[("COMETAPI_KEY", API_KEY), ("COLUMNS", columns)],
    ))
}

#[test]
fn on_a_terminal_a_fast_reply_shows_while_a_slow_one_waits_and_ctrl_c_stops_all() {
    let sandbox = Sandbox::new();
    // Far beyond the test's expect timeout: the slow model cannot finish before Ctrl-C,
    // so the fast reply on the screen was drawn while the slow one was still waiting.
    sandbox
        .server
        .set_model_latency("slow-model", Duration::from_secs(60));
    sandbox.server.set_failing_model("broken-model", 400);
    let models = ["gpt-4o-mini", "slow-model", "broken-model"];
    let mut screen = on_terminal(&sandbox, &models, "say hi", "100");
    let header = screen.wait_for("broken-model");
    assert!(
        header.contains("gpt-4o-mini") && header.contains("slow-model"),
        "side by side: {header}"
    );
    screen.wait_for("echo: say hi");
    // The failure in its column as soon as it failed, the slow model still waiting.
    screen.wait_for("error: HTTP 400");
    assert!(
        !screen.text.contains("Total (s)"),
        "no summary yet: {}",
        screen.text
    );
    screen.send("\x03");
    assert_eq!(screen.exit_code(), 130, "{}", screen.text);
    assert!(!screen.text.contains("Total (s)"), "{}", screen.text);
    assert_eq!(sandbox.server.requests_to(CHAT).len(), 3);
}

#[test]
fn on_a_terminal_the_replies_end_side_by_side_with_the_summary() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_model_latency("gpt-5.4", Duration::from_millis(300));
    let mut screen = on_terminal(&sandbox, &["gpt-4o-mini", "gpt-5.4"], "say hi", "100");
    screen.wait_for("echo: say hi");
    screen.wait_for("Total (s)");
    assert_eq!(screen.exit_code(), 0, "{}", screen.text);
    // Once side by side at the end; more often when it was also drawn live.
    assert!(
        screen.text.matches("echo: say hi").count() > 2,
        "the replies were drawn as they came: {}",
        screen.text
    );
    let summary = screen.text.rfind("Total (s)").expect("summary");
    let both = |line: &&str| line.matches("echo: say hi").count() == 2 && line.contains(" │ ");
    assert!(
        screen.text[..summary].lines().any(|line| both(&line)),
        "side by side at the end: {}",
        screen.text
    );
}

#[test]
fn on_a_narrow_terminal_the_live_replies_are_stacked_and_neutralised() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_model_latency("slow-model", Duration::from_secs(60));
    let models = ["gpt-4o-mini", "slow-model", "gpt-5.4"];
    let mut screen = on_terminal(&sandbox, &models, "say \x1b[2J hi", "50");
    screen.wait_for("== gpt-4o-mini ==");
    // The escape shown as a visible stand-in (a real one would be stripped here).
    screen.wait_for("echo: say ␛[2J hi");
    screen.wait_for("== slow-model ==");
    screen.wait_for("== gpt-5.4 ==");
    screen.send("\x03");
    assert_eq!(screen.exit_code(), 130, "{}", screen.text);
}

#[test]
fn on_a_terminal_with_format_the_sections_come_once_at_the_end() {
    let sandbox = Sandbox::new();
    let args = [
        "--format",
        "markdown",
        "compare",
        "-m",
        "gpt-4o-mini",
        "-m",
        "gpt-5.4",
        "say hi",
    ];
    let env = [("COMETAPI_KEY", API_KEY), ("COLUMNS", "100")];
    let mut screen = Screen::new(spawn(&sandbox, &args, &env));
    assert_eq!(screen.exit_code(), 0, "{}", screen.text);
    let first = screen
        .text
        .find("== gpt-4o-mini ==")
        .expect("first section");
    let second = screen.text.find("== gpt-5.4 ==").expect("second section");
    assert!(first < second, "{}", screen.text);
    assert_eq!(
        screen.text.matches("echo: say hi").count(),
        2,
        "not drawn live: {}",
        screen.text
    );
    assert!(!screen.text.contains(" │ "), "{}", screen.text);
}
