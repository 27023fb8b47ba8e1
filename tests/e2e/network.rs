//! A hostile or foreign server: redirects to other hosts, secrets echoed back, absurd
//! Retry-After values, JSON where a stream was asked for, oversized lines and bodies,
//! and an OpenAI-compatible gateway that is not CometAPI.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::fake_server::{FakeServer, Fault, ACCESS_TOKEN, API_KEY};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

/// Each wire format: the arguments that send it and the path it goes to.
const WIRES: [(&[&str], &str); 4] = [
    (&["chat", "hi"], "/v1/chat/completions"),
    (
        &["run", "-e", "responses", "-p", "hi", "gpt-5.4"],
        "/v1/responses",
    ),
    (
        &["run", "-e", "anthropic", "-p", "hi", "claude-sonnet-4-6"],
        "/v1/messages",
    ),
    (
        &["run", "-e", "gemini", "-p", "hi", "gemini-2.5-flash"],
        "/v1beta/models/gemini-2.5-flash:generateContent",
    ),
];

fn custom(status: u16, content_type: &'static str, body: &str) -> Fault {
    Fault::Custom {
        status,
        content_type,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

#[test]
fn a_redirect_to_another_host_never_carries_a_credential() {
    for code in [301, 302, 307, 308] {
        for (args, path) in WIRES {
            let sandbox = Sandbox::new();
            let elsewhere = FakeServer::start();
            let target = format!("{}{path}", elsewhere.root_url());
            sandbox
                .server
                .inject(path, Fault::Redirect(code, target), 1);
            let output = sandbox.cmd_with_key().args(args).output().expect("run");
            let stderr = stderr_of(&output);
            assert_eq!(output.status.code(), Some(1), "{code} {args:?}: {stderr}");
            assert!(stderr.contains("another host"), "{code} {args:?}: {stderr}");
            for request in elsewhere.requests() {
                for (name, value) in &request.headers {
                    assert!(
                        !value.contains(API_KEY),
                        "{code} {args:?}: the key reached the other host in {name}"
                    );
                }
            }
            assert!(elsewhere.requests().is_empty(), "{code} {args:?}");
        }
    }
}

#[test]
fn a_redirect_on_the_same_host_is_followed() {
    let sandbox = Sandbox::new();
    let path = "/v1/chat/completions";
    let same = format!("{}{path}", sandbox.server.root_url());
    sandbox.server.inject(path, Fault::Redirect(307, same), 1);
    sandbox
        .cmd_with_key()
        .args(["chat", "--no-stream", "hello"])
        .assert()
        .success()
        .stdout("echo: hello\n");
    let requests = sandbox.server.requests_to(path);
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
}

/// Runs `cometapi -v models --source openai` against a 429 carrying `name: value`
/// and reads its trace until the retry wait is announced; the process is then ended.
fn announced_wait(name: &str, value: &str) -> String {
    let sandbox = Sandbox::new();
    let fault = Fault::Custom {
        status: 429,
        content_type: "application/json",
        headers: vec![(name.to_string(), value.to_string())],
        body: r#"{"error":{"message":"slow down","type":"rate_limit"}}"#.to_string(),
    };
    sandbox.server.inject("/v1/models", fault, 1);
    let mut child = Command::new(env!("CARGO_BIN_EXE_cometapi"))
        .env_clear()
        .env("HOME", sandbox.home.path())
        .env("COMETAPI_BASE_URL", sandbox.server.base_url())
        .env("COMETAPI_KEY", API_KEY)
        .args(["-v", "models", "--source", "openai"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        seen.push_str(&line);
        seen.push('\n');
        if line.starts_with("retrying in") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    seen
}

#[test]
fn absurd_retry_after_values_are_capped_not_a_crash() {
    for (name, value) in [("Retry-After", "1e20"), ("retry-after-ms", "1e30")] {
        let trace = announced_wait(name, value);
        assert!(trace.contains("retrying in 20.00s"), "{name}: {trace}");
        assert!(!trace.contains("panicked"), "{name}: {trace}");
    }
}

#[test]
fn a_key_echoed_back_by_the_server_is_masked() {
    let echoed = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {API_KEY}; also sk-abcdefghijklmnopqrstuvwxyz0123","type":"invalid_request_error"}}}}"#
    );
    for json in [false, true] {
        let sandbox = Sandbox::new();
        sandbox.server.inject(
            "/v1/chat/completions",
            custom(401, "application/json", &echoed),
            1,
        );
        let mut cmd = sandbox.cmd_with_key();
        if json {
            cmd.arg("--json");
        }
        let output = cmd.args(["chat", "hi"]).output().expect("run");
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(77), "{stderr}");
        assert!(
            stderr.contains("Incorrect API key provided: ****0001"),
            "{stderr}"
        );
        assert!(stderr.contains("****0123"), "{stderr}");
        assert!(
            !stderr.contains("valid-key") && !stderr.contains("abcdefghij"),
            "{stderr}"
        );
    }
}

#[test]
fn a_key_in_a_stream_error_event_is_masked() {
    let sandbox = Sandbox::new();
    let body = format!(
        "data: {{\"choices\":[{{\"delta\":{{\"content\":\"a\"}}}}]}}\n\n\
         data: {{\"error\":{{\"message\":\"key {API_KEY} was revoked\"}}}}\n\n"
    );
    sandbox.server.inject(
        "/v1/chat/completions",
        custom(200, "text/event-stream", &body),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("key ****0001 was revoked"), "{stderr}");
    assert!(!stderr.contains(API_KEY), "{stderr}");
}

#[test]
fn a_password_in_the_base_url_is_never_shown_or_stored() {
    let sandbox = Sandbox::new();
    let with_password = sandbox
        .server
        .base_url()
        .replace("http://", "http://me:hunter2secret@");
    let output = sandbox
        .cmd_with_key()
        .args(["-v", "--base-url", &with_password, "models", "-l", "1"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("me:****@127.0.0.1"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let cache = std::fs::read_to_string(sandbox.cache_path()).expect("cache written");
    assert!(
        cache.contains("me:****@"),
        "the cache key is the masked URL"
    );
    assert!(!cache.contains("hunter2"));

    let set = sandbox
        .cmd()
        .args(["config", "set", "base_url", &with_password])
        .output()
        .expect("run");
    assert!(stdout_of(&set).contains("me:****@"), "{}", stdout_of(&set));
    assert!(!stdout_of(&set).contains("hunter2"), "{}", stdout_of(&set));
    let shown = sandbox
        .cmd()
        .env("COMETAPI_BASE_URL", &with_password)
        .args(["config", "show"])
        .output()
        .expect("run");
    assert!(
        stdout_of(&shown).contains("me:****@"),
        "{}",
        stdout_of(&shown)
    );
    let doctor = sandbox
        .cmd_with_key()
        .env("COMETAPI_BASE_URL", &with_password)
        .arg("doctor")
        .output()
        .expect("run");
    let all = stdout_of(&doctor) + &stderr_of(&doctor);
    assert!(all.contains("me:****@"), "{all}");
    for text in [stdout_of(&shown), all] {
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[test]
fn a_json_reply_to_a_streamed_request_is_shown_whole() {
    let whole = r#"{"id":"x","model":"gpt-5.4","choices":[{"index":0,"message":{"role":"assistant","content":"the whole reply"},"finish_reason":"stop"}]}"#;
    let sandbox = Sandbox::new();
    sandbox
        .server
        .inject("/v1/chat/completions", Fault::Status(200, whole.into()), 1);
    sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .assert()
        .success()
        .stdout("the whole reply\n");

    let error = r#"{"error":{"message":"model is overloaded","type":"server_error"}}"#;
    sandbox
        .server
        .inject("/v1/chat/completions", Fault::Status(200, error.into()), 1);
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_of(&output).contains("model is overloaded"));
    assert!(!stderr_of(&output).contains("interrupted"));
}

#[test]
fn run_stream_takes_a_whole_json_reply_in_every_format() {
    let cases = [
        (
            "chat",
            "/v1/chat/completions",
            r#"{"choices":[{"message":{"content":"C"}}]}"#,
        ),
        (
            "responses",
            "/v1/responses",
            r#"{"output":[{"content":[{"type":"output_text","text":"R"}]}]}"#,
        ),
        (
            "anthropic",
            "/v1/messages",
            r#"{"content":[{"type":"text","text":"A"}]}"#,
        ),
        (
            "gemini",
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent",
            r#"{"candidates":[{"content":{"parts":[{"text":"G"}]}}]}"#,
        ),
    ];
    for (endpoint, path, body) in cases {
        let sandbox = Sandbox::new();
        sandbox
            .server
            .inject(path, Fault::Status(200, body.into()), 1);
        let output = sandbox
            .cmd_with_key()
            .args([
                "run",
                "--stream",
                "-e",
                endpoint,
                "-p",
                "hi",
                "gemini-2.5-flash",
            ])
            .output()
            .expect("run");
        assert!(
            output.status.success(),
            "{endpoint}: {}",
            stderr_of(&output)
        );
        let expected = &endpoint[..1].to_uppercase();
        assert_eq!(stdout_of(&output), format!("{expected}\n"), "{endpoint}");
    }
}

#[test]
fn a_gemini_stream_404_does_not_blame_the_base_url() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/v1beta/models/no-such-model:streamGenerateContent",
        Fault::Status(
            404,
            r#"{"error":{"message":"models/no-such-model is not found"}}"#.into(),
        ),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args([
            "run",
            "--stream",
            "-e",
            "gemini",
            "-p",
            "hi",
            "no-such-model",
        ])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not found"), "{stderr}");
    assert!(!stderr.contains("should end in /v1"), "{stderr}");
    assert!(stderr.contains("model id"), "{stderr}");
}

#[test]
fn the_v1_hint_only_when_the_base_url_lacks_it() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["--base-url", &sandbox.server.root_url(), "chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("should end in /v1"),
        "{}",
        stderr_of(&output)
    );
    sandbox.server.inject(
        "/v1/chat/completions",
        Fault::Status(404, r#"{"error":{"message":"no route"}}"#.into()),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        !stderr_of(&output).contains("should end in /v1"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn an_oversized_sse_line_is_refused() {
    let sandbox = Sandbox::new();
    let fault = Fault::Oversized {
        content_type: "text/event-stream",
        prefix: "data: ".into(),
        bytes: 17 << 20,
    };
    sandbox.server.inject("/v1/chat/completions", fault, 1);
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("larger than 16 MB"), "{stderr}");
}

#[test]
fn an_oversized_json_body_is_refused() {
    let sandbox = Sandbox::new();
    let fault = Fault::Oversized {
        content_type: "application/json",
        prefix: r#"{"data":""#.into(),
        bytes: (64 << 20) + 1,
    };
    sandbox.server.inject("/v1/models", fault, 1);
    let output = sandbox
        .cmd_with_key()
        .args(["models", "--source", "openai"])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("larger than 64 MB"), "{stderr}");
}

#[test]
fn run_stream_json_chat_asks_for_usage_as_chat_does() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .args(["run", "--stream", "--json", "-p", "hi", "gpt-5.4"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let reply: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert!(reply["usage"]["prompt_tokens"].is_u64(), "{reply}");
    let sent: Value =
        serde_json::from_str(&sandbox.server.requests_to("/v1/chat/completions")[0].body)
            .expect("body");
    assert_eq!(sent["stream_options"]["include_usage"], true);

    sandbox.write_config("stream_usage = \"false\"\n");
    sandbox
        .cmd_with_key()
        .args(["run", "--stream", "--json", "-p", "hi", "gpt-5.4"])
        .assert()
        .success();
    let sent: Value =
        serde_json::from_str(&sandbox.server.requests_to("/v1/chat/completions")[1].body)
            .expect("body");
    assert!(sent.get("stream_options").is_none(), "{sent}");
}

#[test]
fn a_foreign_gateway_explains_itself() {
    let sandbox = Sandbox::new();
    sandbox.server.set_foreign_gateway(true);
    let output = sandbox
        .cmd()
        .args(["models", "--no-cache"])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("HTTP 404 from GET /api/models: Not Found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no CometAPI catalog or console"),
        "{stderr}"
    );
    assert!(stderr.contains("models --source openai"), "{stderr}");
    assert!(!stderr.contains("should end in /v1"), "{stderr}");

    let output = sandbox
        .cmd()
        .env("COMETAPI_KEY", "sk-wrong-key-000000000000000")
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(77));
    assert!(
        stderr_of(&output).contains(": Invalid API key"),
        "{}",
        stderr_of(&output)
    );

    let output = sandbox
        .cmd_with_key()
        .args(["run", "--stream", "--json", "-p", "hi", "gpt-5.4"])
        .output()
        .expect("run");
    assert!(output.status.success(), "{}", stderr_of(&output));
    let reply: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(reply["content"], "echo: hi");
    assert!(reply["usage"]["total_tokens"].is_u64(), "{reply}");
}

#[test]
fn error_bodies_as_event_streams_or_detail_lists_give_their_message() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/v1/chat/completions",
        custom(
            400,
            "text/event-stream",
            "data: {\"error\":{\"message\":\"unknown model x\"}}\n\n",
        ),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert!(
        stderr_of(&output).contains("HTTP 400 from POST /v1/chat/completions: unknown model x"),
        "{}",
        stderr_of(&output)
    );
    sandbox.server.inject(
        "/v1/chat/completions",
        Fault::Status(
            422,
            r#"{"detail":[{"loc":["body","messages"],"msg":"field required","type":"missing"}]}"#
                .into(),
        ),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert!(
        stderr_of(&output).contains(": body.messages: field required"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn very_verbose_traces_bodies_and_request_ids_with_secrets_masked() {
    let sandbox = Sandbox::new();
    let fault = Fault::Custom {
        status: 200,
        content_type: "application/json",
        headers: vec![
            ("x-request-id".into(), "upstream-77".into()),
            ("request-id".into(), "anthropic-88".into()),
        ],
        body: format!(
            r#"{{"model":"m","choices":[{{"message":{{"content":"body says {API_KEY}"}}}}]}}"#
        ),
    };
    sandbox.server.inject("/v1/chat/completions", fault, 1);
    let output = sandbox
        .cmd_with_key()
        .args(["-vv", "chat", "--no-stream", "traced"])
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("> {\"model\":"), "request body: {stderr}");
    assert!(stderr.contains("traced"), "{stderr}");
    assert!(
        stderr.contains("< {\"model\":\"m\""),
        "reply body: {stderr}"
    );
    assert!(stderr.contains("x-request-id upstream-77"), "{stderr}");
    assert!(stderr.contains("request-id anthropic-88"), "{stderr}");
    assert!(stderr.contains("x-cometapi-request-id req-"), "{stderr}");
    assert!(!stderr.contains(API_KEY), "{stderr}");

    let once = sandbox
        .cmd_with_key()
        .args(["-v", "chat", "--no-stream", "quiet"])
        .output()
        .expect("run");
    assert!(
        !stderr_of(&once).contains("> {\"model\":"),
        "-v alone traces no bodies"
    );
}

#[test]
fn a_refused_redirect_says_where_it_went_and_why() {
    let sandbox = Sandbox::new();
    let elsewhere = FakeServer::start();
    let path = "/v1/messages";
    let target = format!("{}{path}", elsewhere.root_url());
    sandbox.server.inject(path, Fault::Redirect(307, target), 1);
    let output = sandbox
        .cmd_with_key()
        .args(["run", "-e", "anthropic", "-p", "hi", "claude-sonnet-4-6"])
        .output()
        .expect("run");
    assert_eq!(
        stderr_of(&output),
        format!(
            "error: POST /v1/messages was not followed: redirected to another host ({})\n\
             hint: a redirect to another host is refused so that the credential is never sent there; \
             point the base URL at the API itself\n",
            elsewhere.root_url()
        )
    );
}

#[test]
fn doctor_masks_a_key_the_server_echoes() {
    let sandbox = Sandbox::new();
    let echoed = format!(r#"{{"error":{{"message":"Incorrect API key provided: {API_KEY}"}}}}"#);
    sandbox
        .server
        .inject("/v1/models", custom(401, "application/json", &echoed), 3);
    let output = sandbox.cmd_with_key().arg("doctor").output().expect("run");
    let all = stdout_of(&output) + &stderr_of(&output);
    assert!(all.contains("****0001"), "{all}");
    assert!(!all.contains(API_KEY), "{all}");
}

#[test]
fn an_event_stream_labelled_json_is_still_read_as_a_stream() {
    let sandbox = Sandbox::new();
    let body = "data: {\"choices\":[{\"delta\":{\"content\":\"mislabelled\"},\"finish_reason\":\"stop\"}]}\n\n\
                data: [DONE]\n\n";
    sandbox.server.inject(
        "/v1/chat/completions",
        custom(200, "application/json", body),
        1,
    );
    sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .assert()
        .success()
        .stdout("mislabelled\n");
    sandbox.server.inject(
        "/v1/chat/completions",
        custom(200, "application/json", "<html>proxy error</html>"),
        1,
    );
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("neither JSON nor an event stream: <html>proxy error</html>"),
        "{}",
        stderr_of(&output)
    );
}

#[test]
fn a_token_echoed_in_a_console_failure_is_masked_before_it_is_reported() {
    // `success: false` in a 200 becomes an error outside the HTTP error path; the
    // configured token is masked by the last line of defence in `app`.
    let sandbox = Sandbox::new();
    let body =
        format!(r#"{{"success":false,"message":"token {ACCESS_TOKEN} has expired","data":null}}"#);
    sandbox
        .server
        .inject("/api/user/self", Fault::Status(200, body), 1);
    let output = sandbox
        .cmd_with_token()
        .arg("account")
        .output()
        .expect("run");
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("token ****0002 has expired"), "{stderr}");
    assert!(!stderr.contains(ACCESS_TOKEN), "{stderr}");
}
