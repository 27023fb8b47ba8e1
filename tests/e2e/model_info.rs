//! `model info <ID>`.

use predicates::prelude::*;
use serde_json::Value;

use crate::sandbox::{stdout_of, Sandbox};

#[test]
fn resolves_id_to_catalog_code() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["model", "info", "claude-sonnet-4-6", "--json"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let raw: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(raw["code"], "claude-sonnet-4-6-latest");
    assert!(
        raw["overview"]
            .as_str()
            .is_some_and(|o| o.starts_with("# Claude Sonnet 4.6")),
        "raw record with overview"
    );
    assert!(
        raw["endpoints"].is_string(),
        "--json passes the server's record through"
    );
    assert_eq!(
        sandbox
            .server
            .requests_to("/api/model/claude-sonnet-4-6-latest")
            .len(),
        1
    );
}

#[test]
fn dots_resolve_to_dashed_codes() {
    let sandbox = Sandbox::new();
    for spelling in ["gemini-2.5-pro", "gemini-2-5-pro", "gemini.2.5.pro"] {
        sandbox
            .cmd()
            .args(["model", "info", spelling, "--json"])
            .assert()
            .success()
            .stdout(predicate::str::contains("\"code\": \"gemini-2-5-pro\""));
    }
    assert_eq!(
        sandbox
            .server
            .requests_to("/api/model/gemini-2-5-pro")
            .len(),
        3
    );
}

#[test]
fn table_shows_pricing_context_endpoints_docs_and_plain_overview() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd()
        .args(["model", "info", "gpt-5.4"])
        .output()
        .expect("run");
    let text = stdout_of(&output);
    for expected in [
        "ID          gpt-5.4\n",
        "Pricing     in $1.25/M, out $10.00/M\n",
        "Context     400,000\n",
        "Max output  128,000\n",
        "Endpoints   openai-chat (POST /v1/chat/completions), openai-responses (POST /v1/responses)\n",
        "Docs        https://apidoc.cometapi.com/models/gpt-5.4\n",
        "Overview    GPT-5.4 GPT-5.4 is a text model from OpenAI, served through CometAPI. Call it as gpt-5.4; see the API docs for details.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !text.contains("**") && !text.contains("](") && !text.contains('`'),
        "overview is plain text: {text}"
    );
    let md = stdout_of(
        &sandbox
            .cmd()
            .args(["model", "info", "gpt-5.4", "-f", "markdown"])
            .output()
            .expect("run"),
    );
    assert!(
        md.starts_with("| Field | Value |\n| --- | --- |\n| ID | gpt-5.4 |\n"),
        "{md}"
    );
}

#[test]
fn unknown_model_is_exit_1_with_hint() {
    Sandbox::new()
        .cmd()
        .args(["model", "info", "no-such-model"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "no model `no-such-model` in the catalog",
        ))
        .stderr(predicate::str::contains("model not found"))
        .stderr(predicate::str::contains("hint: `cometapi models --search"));
}

#[test]
fn uses_the_catalog_cache() {
    let sandbox = Sandbox::new();
    sandbox.cmd().arg("models").assert().success();
    sandbox
        .cmd()
        .args(["model", "info", "gpt-4o"])
        .assert()
        .success();
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 1);
    sandbox
        .cmd()
        .args(["model", "info", "gpt-4o", "--refresh"])
        .assert()
        .success();
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 2);
}
