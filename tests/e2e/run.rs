//! `run`: each format's URL, credential header and body as the server received them,
//! body precedence (file < -i < -p < MODEL), extracted text, `--json`, `--stream`.

use std::fs;

use serde_json::{json, Value};

use crate::fake_server::{StreamMode, API_KEY};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .arg("run")
        .args(args)
        .write_stdin("")
        .output()
        .expect("run")
}

fn only_request(sandbox: &Sandbox) -> crate::fake_server::Recorded {
    let requests = sandbox.server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    requests[0].clone()
}

fn body_of(request: &crate::fake_server::Recorded) -> Value {
    serde_json::from_str(&request.body).expect("json body")
}

#[test]
fn chat_format() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["gpt-4o", "-p", "hi"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    let request = only_request(&sandbox);
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {API_KEY}"))
    );
    assert_eq!(
        body_of(&request),
        json!({"messages": [{"role": "user", "content": "hi"}], "model": "gpt-4o"})
    );
}

#[test]
fn responses_format() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["gpt-5.4", "-e", "responses", "-p", "hi"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    let request = only_request(&sandbox);
    assert_eq!(request.path, "/v1/responses");
    assert_eq!(
        request.header("authorization"),
        Some(&*format!("Bearer {API_KEY}"))
    );
    assert_eq!(
        body_of(&request),
        json!({"input": "hi", "model": "gpt-5.4"})
    );
}

#[test]
fn anthropic_format_with_default_max_tokens() {
    let sandbox = Sandbox::new();
    let output = run(
        &sandbox,
        &["claude-sonnet-4", "-e", "anthropic", "-p", "hi"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    let request = only_request(&sandbox);
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(API_KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        body_of(&request),
        json!({"messages": [{"role": "user", "content": "hi"}], "model": "claude-sonnet-4", "max_tokens": 1024})
    );
}

#[test]
fn gemini_format_model_in_the_encoded_path_not_the_body() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["gemini 2.5/pro", "-e", "gemini", "-p", "hi"]);
    let request = only_request(&sandbox);
    assert_eq!(
        request.path,
        "/v1beta/models/gemini%202.5%2Fpro:generateContent"
    );
    assert_eq!(request.header("x-goog-api-key"), Some(API_KEY));
    assert_eq!(
        body_of(&request),
        json!({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    );
    // The fake server refuses a model with a slash: the error is the server's 404.
    assert_eq!(output.status.code(), Some(1), "{output:?}");

    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["gemini-2.5-pro", "-e", "gemini", "-p", "hi"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    assert_eq!(
        only_request(&sandbox).path,
        "/v1beta/models/gemini-2.5-pro:generateContent"
    );
}

#[test]
fn precedence_file_then_inputs_then_prompt_then_model() {
    let sandbox = Sandbox::new();
    let file = sandbox.home.path().join("body.json");
    fs::write(
        &file,
        r#"{"model": "from-file", "temperature": 1, "messages": [{"role": "user", "content": "file"}], "keep": "yes"}"#,
    )
    .expect("write");
    let path = file.to_string_lossy().to_string();
    let output = run(
        &sandbox,
        &[
            "--input-file",
            &path,
            "-i",
            "temperature=0.3",
            "-i",
            "model=from-input",
            "-i",
            "messages=[{\"role\":\"user\",\"content\":\"input\"}]",
            "-i",
            "metadata.tag.name=x",
            "-i",
            "note=not json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        body_of(&only_request(&sandbox)),
        json!({
            "model": "from-input", "temperature": 0.3,
            "messages": [{"role": "user", "content": "input"}], "keep": "yes",
            "metadata": {"tag": {"name": "x"}}, "note": "not json",
        })
    );
    assert_eq!(stdout_of(&output), "echo: input\n");

    let sandbox = Sandbox::new();
    let output = run(
        &sandbox,
        &[
            "from-arg",
            "--input-file",
            &path,
            "-i",
            "messages=[]",
            "-p",
            "prompt",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body = body_of(&only_request(&sandbox));
    assert_eq!(body["model"], "from-arg");
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": "prompt"}])
    );
}

#[test]
fn input_file_must_be_a_json_object() {
    let sandbox = Sandbox::new();
    for (name, text) in [("list.json", "[1]"), ("bad.json", "{nope")] {
        let file = sandbox.home.path().join(name);
        fs::write(&file, text).expect("write");
        let output = run(&sandbox, &["--input-file", &file.to_string_lossy()]);
        assert_eq!(output.status.code(), Some(2), "{name}: {output:?}");
    }
    let output = run(&sandbox, &["-i", "novalue"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("key=value"));
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn json_prints_the_raw_reply() {
    let sandbox = Sandbox::new();
    let output = run(
        &sandbox,
        &["claude-x", "-e", "anthropic", "-p", "hi", "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let reply: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(reply["type"], "message");
    assert_eq!(reply["content"][0]["text"], "echo: hi");
}

#[test]
fn stream_each_format() {
    let cases: [(&str, &str, &str); 4] = [
        ("chat", "gpt-5.4", "/v1/chat/completions"),
        ("responses", "gpt-5.4", "/v1/responses"),
        ("anthropic", "claude-sonnet-4", "/v1/messages"),
        (
            "gemini",
            "gemini-2.5-pro",
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
        ),
    ];
    for (endpoint, model, path) in cases {
        let sandbox = Sandbox::new();
        sandbox.server.set_stream_mode(StreamMode::SplitUtf8);
        let output = run(
            &sandbox,
            &[model, "-e", endpoint, "-p", "h\u{e9} \u{1f600}", "--stream"],
        );
        assert_eq!(output.status.code(), Some(0), "{endpoint}: {output:?}");
        assert_eq!(
            stdout_of(&output),
            "echo: h\u{e9} \u{1f600}\n",
            "{endpoint}"
        );
        let request = only_request(&sandbox);
        assert_eq!(request.path, path, "{endpoint}");
        let body = body_of(&request);
        if endpoint == "gemini" {
            assert_eq!(request.query, "alt=sse");
            assert!(body.get("stream").is_none());
        } else {
            assert_eq!(body["stream"], true, "{endpoint}");
        }
    }
}

#[test]
fn a_cut_stream_is_exit_69_in_every_format() {
    for endpoint in ["chat", "responses", "anthropic", "gemini"] {
        let sandbox = Sandbox::new();
        sandbox.server.set_stream_mode(StreamMode::CutAfter(1));
        let output = run(
            &sandbox,
            &["gemini-2.5-pro", "-e", endpoint, "-p", "hi", "--stream"],
        );
        assert_eq!(output.status.code(), Some(69), "{endpoint}: {output:?}");
        assert!(
            stderr_of(&output).contains("stream interrupted"),
            "{endpoint}"
        );
    }
}
