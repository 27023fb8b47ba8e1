//! `chat`: streaming (exact bytes through every stream shape), failures mid-stream,
//! retries only before output, stdin joining, `--json`, options and model precedence.

use serde_json::Value;

use crate::fake_server::{Fault, StreamMode};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CHAT: &str = "/v1/chat/completions";

fn chat(sandbox: &Sandbox, args: &[&str], stdin: &str) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .arg("chat")
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run")
}

fn sent(sandbox: &Sandbox) -> Value {
    let requests = sandbox.server.requests_to(CHAT);
    let last = requests.last().expect("a chat request");
    serde_json::from_str(&last.body).expect("json body")
}

#[test]
fn streams_the_reply_and_asks_for_usage() {
    let sandbox = Sandbox::new();
    let output = chat(&sandbox, &["hello"], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hello\n");
    assert_eq!(
        stderr_of(&output),
        "",
        "no usage line when stderr is not a terminal"
    );
    let body = sent(&sandbox);
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["model"], "gpt-5.4");
    assert_eq!(body["messages"][0]["role"], "user");
}

#[test]
fn every_stream_shape_gives_the_same_bytes() {
    let message = "h\u{e9}llo \u{1f600} \u{4e16}\u{754c}";
    for mode in [
        StreamMode::SplitUtf8,
        StreamMode::CrOnly,
        StreamMode::Crlf,
        StreamMode::Comments,
    ] {
        let sandbox = Sandbox::new();
        sandbox.server.set_stream_mode(mode.clone());
        let output = chat(&sandbox, &[message], "");
        assert_eq!(output.status.code(), Some(0), "{mode:?}: {output:?}");
        assert_eq!(
            output.stdout,
            format!("echo: {message}\n").into_bytes(),
            "{mode:?}"
        );
    }
}

#[test]
fn stream_usage_false_leaves_out_stream_options() {
    let sandbox = Sandbox::new();
    sandbox.write_config("stream_usage = \"false\"\n");
    let output = chat(&sandbox, &["hi"], "");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    assert!(sent(&sandbox).get("stream_options").is_none());
}

#[test]
fn mid_stream_error_keeps_the_text_and_fails_with_the_message() {
    for mode in [StreamMode::ErrorAfter(1), StreamMode::ErrorEventAfter(1)] {
        let sandbox = Sandbox::new();
        sandbox.server.set_stream_mode(mode.clone());
        let output = chat(&sandbox, &["hi"], "");
        assert_eq!(output.status.code(), Some(1), "{mode:?}");
        assert_eq!(stdout_of(&output), "echo: \n", "{mode:?}");
        assert!(
            stderr_of(&output).contains("upstream provider failed"),
            "{mode:?}: {}",
            stderr_of(&output)
        );
        assert_eq!(sandbox.server.requests_to(CHAT).len(), 1, "never retried");
    }
}

#[test]
fn a_payload_that_is_not_json_is_shown() {
    let sandbox = Sandbox::new();
    sandbox.server.set_stream_mode(StreamMode::NotJsonAfter(0));
    let output = chat(&sandbox, &["hi"], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_of(&output), "");
    assert!(stderr_of(&output).contains("not JSON: <html>bad gateway</html>"));
}

#[test]
fn a_cut_stream_keeps_the_partial_text_and_exits_69() {
    let sandbox = Sandbox::new();
    sandbox.server.set_stream_mode(StreamMode::CutAfter(2));
    let output = chat(&sandbox, &["hi"], "");
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("stream interrupted"), "{stderr}");
    assert!(stderr.contains("8 characters from gpt-5.4"), "{stderr}");
}

#[test]
fn a_broken_stream_after_output_is_not_retried() {
    let sandbox = Sandbox::new();
    sandbox.server.set_stream_mode(StreamMode::BreakAfter(1));
    let output = chat(&sandbox, &["hi"], "");
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: \n");
    assert!(stderr_of(&output).contains("stream interrupted"));
    assert_eq!(sandbox.server.requests_to(CHAT).len(), 1);
}

#[test]
fn rate_limited_before_the_first_byte_is_retried() {
    let sandbox = Sandbox::new();
    let fault = Fault::RateLimited {
        retry_after_secs: None,
        retry_after_ms: Some(10),
    };
    sandbox.server.inject(CHAT, fault, 1);
    let output = chat(&sandbox, &["hi"], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
    assert_eq!(sandbox.server.requests_to(CHAT).len(), 2);
}

#[test]
fn piped_stdin_joins_the_message() {
    let sandbox = Sandbox::new();
    let output = chat(&sandbox, &["review"], "diff --git a b\n");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        sent(&sandbox)["messages"][0]["content"],
        "review\n\ndiff --git a b\n"
    );
    assert_eq!(stdout_of(&output), "echo: review\n\ndiff --git a b\n");
}

#[test]
fn dash_or_no_message_takes_stdin_whole() {
    for args in [&["-"][..], &[][..]] {
        let sandbox = Sandbox::new();
        let output = chat(&sandbox, args, "from stdin");
        assert_eq!(output.status.code(), Some(0), "{args:?}: {output:?}");
        assert_eq!(sent(&sandbox)["messages"][0]["content"], "from stdin");
        assert_eq!(stdout_of(&output), "echo: from stdin\n");
    }
    let sandbox = Sandbox::new();
    let output = chat(&sandbox, &["-"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn json_prints_model_role_content_usage() {
    for args in [
        &["hi", "--json"][..],
        &["hi", "--no-stream", "-f", "json"][..],
    ] {
        let sandbox = Sandbox::new();
        let output = chat(&sandbox, args, "");
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let value: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(
            value,
            serde_json::json!({
                "model": "gpt-5.4",
                "role": "assistant",
                "content": "echo: hi",
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
            }),
            "{args:?}"
        );
    }
}

#[test]
fn no_stream_prints_the_reply_plain_when_piped() {
    let sandbox = Sandbox::new();
    let output = chat(&sandbox, &["**hi**", "--no-stream"], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: **hi**\n");
    let body = sent(&sandbox);
    assert!(body.get("stream").is_none());
}

#[test]
fn options_reach_the_body() {
    let sandbox = Sandbox::new();
    let output = chat(
        &sandbox,
        &["hi", "-s", "be brief", "-t", "0.5", "--max-tokens", "20"],
        "",
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body = sent(&sandbox);
    assert_eq!(
        body["messages"][0],
        serde_json::json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["max_tokens"], 20);
}

#[test]
fn temperature_out_of_range_is_exit_2_without_a_request() {
    let sandbox = Sandbox::new();
    for t in ["2.1", "-0.1"] {
        let output = chat(&sandbox, &["hi", "-t", t], "");
        assert_eq!(output.status.code(), Some(2), "{t}: {output:?}");
        assert!(stderr_of(&output).contains("between 0.0 and 2.0"));
    }
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn model_precedence_flag_env_config_default() {
    let sandbox = Sandbox::new();
    let model_sent = |cmd: &mut assert_cmd::Command, extra: &[&str]| {
        let output = cmd
            .args(["chat", "hi"])
            .args(extra)
            .write_stdin("")
            .output()
            .expect("run");
        assert!(output.status.success(), "{output:?}");
        sent(&sandbox)["model"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(model_sent(&mut sandbox.cmd_with_key(), &[]), "gpt-5.4");
    sandbox.write_config("default_model = \"from-config\"\n");
    assert_eq!(model_sent(&mut sandbox.cmd_with_key(), &[]), "from-config");
    let with_env = || {
        let mut cmd = sandbox.cmd_with_key();
        cmd.env("COMETAPI_DEFAULT_MODEL", "from-env");
        cmd
    };
    assert_eq!(model_sent(&mut with_env(), &[]), "from-env");
    assert_eq!(
        model_sent(&mut with_env(), &["-m", "from-flag"]),
        "from-flag"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_waiting_for_the_stream_is_exit_130() {
    use std::time::Duration;
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_stream_first_byte_delay(Duration::from_secs(5));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_cometapi"))
        .env_clear()
        .env("HOME", sandbox.home.path())
        .env("COMETAPI_BASE_URL", sandbox.server.base_url())
        .env("COMETAPI_KEY", crate::fake_server::API_KEY)
        .args(["chat", "hi"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the request has arrived, so the signal handler is installed.
    for _ in 0..200 {
        if !sandbox.server.requests().is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(stderr_of(&output).contains("interrupted"));
}

#[test]
fn a_slow_first_byte_is_waited_for_up_to_the_read_timeout() {
    use std::time::Duration;
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_stream_first_byte_delay(Duration::from_millis(300));
    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_TIMEOUT", "5")
        .args(["chat", "hi"])
        .write_stdin("")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");

    let output = sandbox
        .cmd_with_key()
        .env("COMETAPI_TIMEOUT", "0.1")
        .args(["chat", "hi"])
        .write_stdin("")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(
        stderr_of(&output).contains("timed out"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        sandbox.server.requests_to(CHAT).len(),
        2,
        "a timed-out POST is not retried"
    );
}
