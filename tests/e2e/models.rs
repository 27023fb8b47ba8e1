//! `models`: formats, filters, order, cache, `--source openai`.

use predicates::prelude::*;
use serde_json::Value;

use crate::fake_server::API_KEY;
use crate::sandbox::{stdout_of, Sandbox};

fn ids(sandbox: &Sandbox, args: &[&str]) -> Vec<String> {
    let output = sandbox
        .cmd_with_key()
        .arg("models")
        .args(args)
        .arg("--json")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    rows.as_array()
        .expect("array")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn catalog_is_sorted_newest_version_first() {
    let sandbox = Sandbox::new();
    assert_eq!(
        ids(&sandbox, &["--provider", "openai"]),
        vec!["gpt-5.4", "gpt-5.2", "gpt-4o", "gpt-4o-mini", "gpt-image-1"]
    );
}

#[test]
fn every_format_renders_the_catalog() {
    let sandbox = Sandbox::new();
    let run = |format: &str| {
        stdout_of(
            &sandbox
                .cmd()
                .args(["models", "--search", "gpt-5.4", "-f", format])
                .output()
                .expect("run"),
        )
    };
    assert_eq!(
        run("table"),
        "Model    Provider  Type  Pricing                   Context  Endpoints\n\
         gpt-5.4  OpenAI    text  in $1.25/M, out $10.00/M  400,000  openai-chat, openai-responses\n"
    );
    assert_eq!(
        run("csv"),
        "Model,Provider,Type,Pricing,Context,Endpoints\n\
         gpt-5.4,OpenAI,text,\"in $1.25/M, out $10.00/M\",400000,\"openai-chat, openai-responses\"\n"
    );
    assert_eq!(
        run("markdown"),
        "| Model | Provider | Type | Pricing | Context | Endpoints |\n\
         | --- | --- | --- | --- | --- | --- |\n\
         | gpt-5.4 | OpenAI | text | in $1.25/M, out $10.00/M | 400,000 | openai-chat, openai-responses |\n"
    );
    let json: Value = serde_json::from_str(&run("json")).expect("json");
    assert_eq!(json[0]["id"], "gpt-5.4");
    assert_eq!(json[0]["pricing"]["input"], 1.25, "prices stay numbers");
    assert_eq!(json[0]["context_length"], 400000);
    assert_eq!(
        json[0]["endpoints"],
        serde_json::json!(["openai-chat", "openai-responses"])
    );
    assert_eq!(json[0]["features"][0], "text-to-text");
    let yaml = run("yaml");
    assert!(
        yaml.starts_with("- id: gpt-5.4\n  provider: OpenAI\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  context_length: 400000\n"), "{yaml}");
}

#[test]
fn filters_narrow_the_catalog() {
    let sandbox = Sandbox::new();
    assert_eq!(
        ids(&sandbox, &["--search", "GEMINI"]),
        vec!["gemini-2.5-pro"]
    );
    assert_eq!(
        ids(&sandbox, &["--provider", "anthropic,deepseek"]),
        vec!["deepseek-v4-pro", "claude-sonnet-4-6", "claude-opus-4-5"]
    );
    assert_eq!(ids(&sandbox, &["--type", "image"]), vec!["gpt-image-1"]);
    assert_eq!(ids(&sandbox, &["--modality", "audio"]), vec!["suno-v4"]);
    assert_eq!(
        ids(&sandbox, &["--feature", "text-to-music,text-to-image"]),
        vec!["suno-v4", "gpt-image-1"]
    );
    assert_eq!(
        ids(&sandbox, &["--endpoint", "/v1/messages"]),
        vec!["claude-sonnet-4-6", "claude-opus-4-5"]
    );
    assert_eq!(
        ids(
            &sandbox,
            &["--endpoint", "anthropic-messages", "--limit", "1"]
        ),
        vec!["claude-sonnet-4-6"]
    );
    assert_eq!(
        ids(
            &sandbox,
            &["--provider", "openai", "--feature", "reasoning"]
        ),
        vec!["gpt-5.4", "gpt-5.2"]
    );
    sandbox
        .cmd()
        .args(["models", "--search", "no-such-model"])
        .assert()
        .success()
        .stdout("No models found.\n");
    sandbox
        .cmd()
        .args(["models", "--search", "no-such-model", "--json"])
        .assert()
        .success()
        .stdout("[]\n");
    sandbox
        .cmd()
        .args(["models", "--limit", "0"])
        .assert()
        .code(2);
}

#[test]
fn catalog_is_cached_for_the_base_url() {
    let sandbox = Sandbox::new();
    sandbox.cmd().arg("models").assert().success();
    sandbox.cmd().arg("models").assert().success();
    assert_eq!(
        sandbox.server.requests_to("/api/models").len(),
        1,
        "second run reads the cache"
    );
    let cache: Value =
        serde_json::from_slice(&std::fs::read(sandbox.cache_path()).expect("cache")).expect("json");
    let key = format!("{}/api/models", sandbox.server.root_url());
    assert_eq!(
        cache[&key]["data"].as_array().map(Vec::len),
        Some(10),
        "keyed by base URL"
    );

    sandbox
        .cmd()
        .args(["models", "--refresh"])
        .assert()
        .success();
    assert_eq!(
        sandbox.server.requests_to("/api/models").len(),
        2,
        "--refresh fetches again"
    );

    // Another server (another base URL) does not reuse this one's cache.
    let other = crate::fake_server::FakeServer::start();
    sandbox
        .cmd()
        .env("COMETAPI_BASE_URL", other.base_url())
        .arg("models")
        .assert()
        .success();
    assert_eq!(other.requests_to("/api/models").len(), 1);
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .assert()
        .success();
    assert!(!sandbox.cache_path().exists());
    sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .assert()
        .success();
    assert_eq!(sandbox.server.requests_to("/api/models").len(), 2);
}

#[test]
fn catalog_needs_no_credential_and_sends_none() {
    let sandbox = Sandbox::new();
    sandbox.cmd().arg("models").assert().success();
    let request = &sandbox.server.requests_to("/api/models")[0];
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.header("user-agent"),
        Some(concat!("cometapi/", env!("CARGO_PKG_VERSION")))
    );
}

#[test]
fn openai_source_lists_v1_models_with_the_key() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["models", "--source", "openai", "--search", "gpt"])
        .output()
        .expect("run");
    assert_eq!(
        stdout_of(&output),
        "Model        Owner\ngpt-5.4      openai\ngpt-5.2      openai\ngpt-4o       openai\ngpt-4o-mini  openai\n"
    );
    let request = &sandbox.server.requests_to("/v1/models")[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}

#[test]
fn openai_source_without_key_is_exit_64() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .args(["models", "--source", "openai"])
        .assert()
        .code(64)
        .stderr(predicate::str::contains("API key is not configured"))
        .stderr(predicate::str::contains("COMETAPI_KEY"))
        .stderr(predicate::str::contains("cometapi init"));
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn openai_source_with_rejected_key_is_exit_77() {
    let sandbox = Sandbox::new();
    sandbox
        .cmd()
        .env("COMETAPI_KEY", "sk-wrong-key-000000000000")
        .args(["models", "--source", "openai"])
        .assert()
        .code(77)
        .stderr(predicate::str::contains("HTTP 401"))
        .stderr(predicate::str::contains("hint: check the API key"))
        .stderr(predicate::str::contains("sk-wrong-key-000000000000").not());
}
