//! Issue 8 on the command surface: blank messages and ids rejected before any request,
//! whole replies that are errors or empty, `--install-completion` to a closed pipe or a
//! full disk, absurd `-i` depth, unquoted chat words, `run`'s stdin and `-m`, short
//! flags, a bare `cometapi`, and `--no-color` on clap's errors.

use std::process::{Output, Stdio};

use serde_json::Value;

use crate::fake_server::Fault;
use crate::pty;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CHAT: &str = "/v1/chat/completions";

fn run(sandbox: &Sandbox, args: &[&str], stdin: &str) -> Output {
    sandbox
        .cmd_with_key()
        .args(args)
        .write_stdin(stdin)
        .output()
        .expect("run")
}

fn last_body(sandbox: &Sandbox, path: &str) -> Value {
    let requests = sandbox.server.requests_to(path);
    let last = requests.last().expect("a request");
    serde_json::from_str(&last.body).expect("json body")
}

/// Blank messages and models of `chat` and `run` are rows of `every_command.rs`;
/// `model` needs no credential, so it has no row there.
#[test]
fn a_blank_model_id_is_a_usage_error_before_any_request() {
    let sandbox = Sandbox::new();
    let args = ["model", "info", ""];
    let output = run(&sandbox, &args, "");
    assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    assert!(!stderr_of(&output).is_empty(), "{args:?} says why");
    assert!(
        sandbox.server.requests().is_empty(),
        "no request: {:?}",
        sandbox.server.requests()
    );
}

#[test]
fn no_stream_error_objects_and_empty_replies_are_failures() {
    let cases = [
        (
            r#"{"error":{"message":"model overloaded","type":"server_error"}}"#,
            "model overloaded",
        ),
        (r#"{"choices":[]}"#, "no choices"),
        (
            r#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#,
            "no text content",
        ),
    ];
    for (body, says) in cases {
        for json in [false, true] {
            let sandbox = Sandbox::new();
            sandbox
                .server
                .inject(CHAT, Fault::Status(200, body.to_string()), 1);
            let mut args = vec!["chat", "--no-stream", "hi"];
            if json {
                args.push("--json");
            }
            let output = run(&sandbox, &args, "");
            assert_eq!(output.status.code(), Some(1), "{body}: {output:?}");
            assert!(stderr_of(&output).contains(says), "{body}: {output:?}");
            assert_eq!(stdout_of(&output), "", "{body}");
        }
    }
}

#[test]
fn run_without_stream_reports_an_error_object_in_a_200() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        "/v1/messages",
        Fault::Status(
            200,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"try later"}}"#
                .to_string(),
        ),
        1,
    );
    let output = run(
        &sandbox,
        &["run", "claude-x", "-e", "ANTHROPIC", "-p", "hi"],
        "",
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr_of(&output).contains("try later"), "{output:?}");
}

#[test]
fn install_completion_to_a_closed_pipe_is_quiet_and_to_a_full_disk_fails() {
    let sandbox = Sandbox::new();
    let install = |stdout: Stdio| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cometapi"))
            .args(["--install-completion", "bash"])
            .env_clear()
            .env("HOME", sandbox.home.path())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .expect("run")
    };
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = install(Stdio::from(writer));
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stderr_of(&output), "", "quiet");

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let output = install(Stdio::from(full));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr_of(&output).contains("cannot write output"),
        "{output:?}"
    );
}

#[test]
fn an_absurdly_deep_input_key_is_exit_2_not_a_crash() {
    let sandbox = Sandbox::new();
    let deep = format!("{}=1", vec!["a"; 60_000].join("."));
    let output = run(&sandbox, &["run", "gpt-5.4", "-p", "hi", "-i", &deep], "");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("at most 64"), "{output:?}");
    assert!(sandbox.server.requests().is_empty());
}

#[test]
fn unquoted_chat_words_are_one_message() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["chat", "hello", "big", "world"], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        last_body(&sandbox, CHAT)["messages"][0]["content"],
        "hello big world"
    );
}

#[test]
fn run_reads_stdin_like_chat_and_takes_the_model_as_an_option() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["run", "-m", "gpt-4o"], "from stdin");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let body = last_body(&sandbox, CHAT);
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["messages"][0]["content"], "from stdin");

    let output = run(&sandbox, &["run", "gpt-4o", "-p", "-"], "all of it");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        last_body(&sandbox, CHAT)["messages"][0]["content"],
        "all of it"
    );

    let output = run(&sandbox, &["run", "gpt-4o", "-p", "review"], "diff");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        last_body(&sandbox, CHAT)["messages"][0]["content"],
        "review\n\ndiff"
    );

    let output = run(&sandbox, &["run", "gpt-4o", "-m", "gpt-5.4", "-p", "x"], "");
    assert_eq!(
        output.status.code(),
        Some(2),
        "one model, not two: {output:?}"
    );
}

#[test]
fn search_and_source_lose_their_short_flag() {
    let sandbox = Sandbox::new();
    for args in [
        &["models", "-s", "gpt"][..],
        &["tokens", "-s", "x"][..],
        &["balance", "-s", "key"][..],
    ] {
        let output = run(&sandbox, args, "");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(stderr_of(&output).contains("'-s'"), "{args:?}: {output:?}");
    }
}

#[test]
fn models_type_and_run_endpoint_declare_their_choices() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["models", "--type", "IMAGE", "--json"], "");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let rows: Value = serde_json::from_slice(&output.stdout).expect("json");
    let rows = rows.as_array().expect("rows");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["model_type"] == "image"), "{rows:?}");

    let output = run(&sandbox, &["models", "--type", "hologram"], "");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("image"), "lists the choices");

    let output = run(&sandbox, &["run", "gpt-5.4", "-e", "bogus", "-p", "hi"], "");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("gemini"), "lists the endpoints");
    assert!(sandbox.server.requests_to(CHAT).is_empty());

    let help = run(&sandbox, &["models", "--help"], "");
    assert!(stdout_of(&help).contains("video"), "help lists the types");
    let help = run(&sandbox, &["run", "--help"], "");
    assert!(
        stdout_of(&help).contains("anthropic"),
        "help lists endpoints"
    );
}

#[test]
fn bare_cometapi_prints_help_and_exits_0() {
    let sandbox = Sandbox::new();
    let output = sandbox.cmd().output().expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout_of(&output).contains("Usage: cometapi"), "{output:?}");
}

#[test]
fn no_color_covers_clap_errors_on_a_terminal() {
    let sandbox = Sandbox::new();
    let styled = |args: &[&str], env: &[(&str, &str)]| {
        let mut session = pty::spawn(&sandbox, args, env);
        let before = pty::expect(&mut session, "For more information");
        assert_eq!(pty::exit_code(&session), 2);
        assert!(before.contains("--bogus"), "{before:?}");
        before.contains('\x1b')
    };
    assert!(
        styled(&["models", "--bogus"], &[]),
        "clap styles by default"
    );
    assert!(!styled(&["models", "--bogus", "--no-color"], &[]));
    assert!(!styled(&["models", "--bogus"], &[("NO_COLOR", "1")]));
}

#[test]
fn model_info_with_an_unknown_id_suggests_close_ids() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["model", "info", "gpt-5.3"], "");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("did you mean `gpt-5.4`, `gpt-5.2`?"),
        "{stderr}"
    );
}

#[test]
fn command_help_lists_global_options_apart() {
    let sandbox = Sandbox::new();
    let help = stdout_of(&run(&sandbox, &["chat", "--help"], ""));
    let own = help.find("\nOptions:").expect("own options");
    let global = help.find("\nGlobal options:").expect("a global heading");
    let model = help.find("--model").expect("--model");
    let base_url = help.find("--base-url").expect("--base-url");
    assert!(own < model && model < global && global < base_url, "{help}");
}

#[test]
fn no_stream_on_a_terminal_prints_the_reply_then_the_usage_line() {
    let sandbox = Sandbox::new();
    let mut session = pty::spawn(
        &sandbox,
        &["chat", "--no-stream", "hi"],
        &[("COMETAPI_KEY", crate::fake_server::API_KEY)],
    );
    let seen = pty::strip_ansi(&pty::expect(&mut session, " completion tokens"));
    assert_eq!(pty::exit_code(&session), 0);
    let reply = seen.find("echo: hi").expect("the reply");
    let usage = seen.find(" prompt + ").expect("the usage line");
    assert!(reply < usage, "{seen:?}");
}
