//! `chat` with no message in a real terminal (a pty): the multi-turn chat REPL.

use serde_json::Value;

use crate::fake_server::API_KEY;
use crate::pty::{spawn, Screen};
use crate::sandbox::Sandbox;

const PROMPT: &str = "gpt-5.4> ";

fn chat_repl(sandbox: &Sandbox) -> Screen {
    let mut screen = Screen::new(spawn(sandbox, &["chat"], &[("COMETAPI_KEY", API_KEY)]));
    screen.wait_for(PROMPT);
    screen
}

/// `(role, content)` of every message in the `n`th chat request.
fn messages_sent(sandbox: &Sandbox, n: usize) -> Vec<(String, String)> {
    let requests = sandbox.server.requests_to("/v1/chat/completions");
    let body: Value = serde_json::from_str(&requests[n].body).expect("json body");
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let field = |k: &str| m[k].as_str().unwrap_or_default().to_string();
            (field("role"), field("content"))
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(r, c)| (r.to_string(), c.to_string()))
        .collect()
}

fn say(screen: &mut Screen, message: &str) {
    screen.send(&format!("{message}\r"));
    screen.wait_for(&format!("echo: {message}"));
    screen.wait_for(PROMPT);
}

#[cfg(unix)]
#[test]
fn second_turn_carries_the_first_and_ctrl_d_exits_0() {
    let sandbox = Sandbox::new();
    let mut screen = chat_repl(&sandbox);
    say(&mut screen, "first question");
    say(&mut screen, "second question");
    assert_eq!(
        messages_sent(&sandbox, 1),
        pairs(&[
            ("user", "first question"),
            ("assistant", "echo: first question"),
            ("user", "second question"),
        ])
    );
    screen.send("/tokens\r");
    screen.wait_for("total ");
    screen.wait_for(PROMPT);
    screen.send("/nosuch\r");
    screen.wait_for("unknown command /nosuch");
    screen.wait_for("/retry");
    screen.wait_for(PROMPT);
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
    let history = sandbox.home.path().join(".config/cometapi/chat_history");
    let text = std::fs::read_to_string(&history).expect("history file");
    assert!(text.contains("second question"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&history)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[cfg(unix)]
#[test]
fn save_clear_load_round_trips_the_conversation() {
    let sandbox = Sandbox::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("chat.json");
    let file = file.to_str().expect("utf-8 path");
    let mut screen = chat_repl(&sandbox);
    screen.send("/system be brief\r");
    screen.wait_for("system prompt set");
    say(&mut screen, "hello there");
    screen.send(&format!("/save {file}\r"));
    screen.wait_for("saved 2 messages");
    screen.wait_for(PROMPT);
    screen.send("/clear\r");
    screen.wait_for("conversation cleared");
    screen.send("/system \"\"\r");
    screen.wait_for("system prompt cleared");
    screen.send(&format!("/load {file}\r"));
    screen.wait_for("loaded 2 messages");
    screen.wait_for(PROMPT);
    screen.send("/history\r");
    screen.wait_for("system: be brief");
    screen.wait_for("user: hello there");
    screen.wait_for("assistant: echo: hello there");
    screen.wait_for(PROMPT);
    screen.send("/exit\r");
    assert_eq!(screen.exit_code(), 0);

    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(file).expect("saved file")).expect("json");
    assert_eq!(
        saved,
        serde_json::json!({
            "model": "gpt-5.4",
            "system": "be brief",
            "messages": [
                {"role": "user", "content": "hello there"},
                {"role": "assistant", "content": "echo: hello there"},
            ],
        })
    );
}

#[cfg(unix)]
#[test]
fn clear_keeps_the_system_prompt() {
    let sandbox = Sandbox::new();
    let mut screen = chat_repl(&sandbox);
    screen.send("/system you are terse\r");
    screen.wait_for("system prompt set");
    say(&mut screen, "old turn");
    screen.send("/clear\r");
    screen.wait_for("conversation cleared");
    say(&mut screen, "new turn");
    assert_eq!(
        messages_sent(&sandbox, 1),
        pairs(&[("system", "you are terse"), ("user", "new turn")])
    );
    screen.send("/quit\r");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn an_api_error_keeps_the_session_and_drops_the_failed_message() {
    let sandbox = Sandbox::new();
    let body = r#"{"error":{"message":"model not found","type":"invalid_request_error"}}"#;
    sandbox.server.inject(
        "/v1/chat/completions",
        crate::fake_server::Fault::Status(400, body.to_string()),
        1,
    );
    let mut screen = chat_repl(&sandbox);
    screen.send("doomed\r");
    screen.wait_for("model not found");
    screen.wait_for(PROMPT);
    say(&mut screen, "after the error");
    assert_eq!(
        messages_sent(&sandbox, 1),
        pairs(&[("user", "after the error")])
    );
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_only_the_reply_and_drops_the_unanswered_message() {
    let sandbox = Sandbox::new();
    // A reply far too long to finish: generated `tok ` deltas.
    sandbox.server.set_stream_chunks(50_000_000);
    let mut screen = chat_repl(&sandbox);
    screen.send("never answered\r");
    screen.wait_for("tok tok ");
    screen.send("\x03");
    screen.wait_for(PROMPT);
    sandbox.server.set_stream_chunks(0);
    say(&mut screen, "next one");
    assert_eq!(messages_sent(&sandbox, 1), pairs(&[("user", "next one")]));
    screen.send("/exit\r");
    assert_eq!(screen.exit_code(), 0);
}
