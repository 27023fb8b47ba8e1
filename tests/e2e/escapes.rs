//! Escape sequences in what a server sends are made visible on a terminal (a hostile
//! reply must not retitle or clear it) and passed through untouched when piped.

use crate::fake_server::{Fault, API_KEY};
use crate::pty;
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

/// Retitles the terminal, then clears it.
const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J";
/// How [`HOSTILE`] looks once neutralised.
const SHOWN: &str = "␛]0;pwned␇␛[2J";

/// Everything `cometapi ARGS` writes to a pty (stdout and stderr) until it exits, raw.
fn on_a_terminal(sandbox: &Sandbox, args: &[&str]) -> (String, i32) {
    let mut session = pty::spawn(sandbox, args, &[("COMETAPI_KEY", API_KEY)]);
    let seen = match session.expect(expectrl::Eof) {
        // Eof matches everything the program wrote.
        Ok(found) => String::from_utf8_lossy(found.get(0).unwrap_or_default()).into_owned(),
        Err(err) => panic!("waiting for the end: {err}"),
    };
    (seen, pty::exit_code(&session))
}

fn assert_neutralised(seen: &str) {
    assert!(
        !seen.contains("\x1b]"),
        "an OSC reached the terminal: {seen:?}"
    );
    assert!(
        !seen.contains("\x1b[2J"),
        "a clear reached the terminal: {seen:?}"
    );
    assert!(
        !seen.contains('\x07'),
        "a bell reached the terminal: {seen:?}"
    );
}

#[test]
fn a_streamed_reply_shows_escapes_on_a_terminal() {
    let sandbox = Sandbox::new();
    let message = format!("hi {HOSTILE}");
    let (seen, code) = on_a_terminal(&sandbox, &["chat", &message]);
    assert_eq!(code, 0, "{seen:?}");
    assert!(seen.contains(&format!("echo: hi {SHOWN}")), "{seen:?}");
    assert_neutralised(&seen);
}

#[test]
fn a_whole_reply_and_run_show_escapes_on_a_terminal() {
    let sandbox = Sandbox::new();
    let message = format!("hi {HOSTILE}");
    for args in [
        vec!["chat", "--no-stream", &message],
        vec!["run", "gpt-5.4", "-p", &message],
        vec!["run", "gpt-5.4", "--stream", "-p", &message],
    ] {
        let (seen, code) = on_a_terminal(&sandbox, &args);
        assert_eq!(code, 0, "{args:?}: {seen:?}");
        assert!(seen.contains(SHOWN), "{args:?}: {seen:?}");
        assert_neutralised(&seen);
    }
}

#[test]
fn a_piped_reply_keeps_its_bytes() {
    let sandbox = Sandbox::new();
    let message = format!("hi {HOSTILE}\u{9b}31m\r!");
    for extra in [&[][..], &["--no-stream"][..]] {
        let output = sandbox
            .cmd_with_key()
            .arg("chat")
            .args(extra)
            .arg(&message)
            .output()
            .expect("run");
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        assert_eq!(
            stdout_of(&output),
            format!("echo: {message}\n"),
            "{extra:?}"
        );
    }
}

#[test]
fn ids_in_a_table_show_escapes_on_a_terminal() {
    let sandbox = Sandbox::new();
    let body = serde_json::json!({
        "object": "list",
        "data": [{"id": format!("evil{HOSTILE}"), "object": "model", "owned_by": "x\u{9b}2J"}],
    });
    sandbox.server.inject(
        "/v1/models",
        Fault::Custom {
            status: 200,
            content_type: "application/json",
            headers: Vec::new(),
            body: body.to_string(),
        },
        2,
    );
    let (seen, code) = on_a_terminal(&sandbox, &["models", "--source", "openai"]);
    assert_eq!(code, 0, "{seen:?}");
    assert!(seen.contains("evil␛]0;pwned␇"), "{seen:?}");
    assert!(
        !seen.contains('\u{9b}'),
        "a C1 CSI reached the terminal: {seen:?}"
    );
    assert_neutralised(&seen);

    // JSON on a terminal: C0 escaped by JSON itself, C1 written as an escape too.
    let (seen, code) = on_a_terminal(&sandbox, &["models", "--source", "openai", "--json"]);
    assert_eq!(code, 0, "{seen:?}");
    assert!(seen.contains(r"evil\u001b]0;pwned\u0007"), "{seen:?}");
    assert!(seen.contains(r"x\u009b2J"), "{seen:?}");
}

#[test]
fn a_server_error_message_shows_escapes_on_a_terminal_and_not_when_piped() {
    let sandbox = Sandbox::new();
    let body =
        serde_json::json!({"error": {"message": format!("bad {HOSTILE} request"), "type": "x"}});
    let fault = Fault::Status(400, body.to_string());
    sandbox
        .server
        .inject("/v1/chat/completions", fault.clone(), 1);
    let (seen, code) = on_a_terminal(&sandbox, &["chat", "hi"]);
    assert_eq!(code, 1, "{seen:?}");
    assert!(seen.contains(&format!("bad {SHOWN} request")), "{seen:?}");
    assert_neutralised(&seen);

    sandbox.server.inject("/v1/chat/completions", fault, 1);
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr_of(&output).contains(&format!("bad {HOSTILE} request")),
        "{output:?}"
    );
}
