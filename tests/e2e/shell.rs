//! The interactive shells in a real terminal (a pty): what reaches the history files,
//! model-id completion where a command declares it, and the chat REPL's `/save`.

use std::fs;
use std::path::PathBuf;

use crate::fake_server::API_KEY;
use crate::pty::{spawn, Screen};
use crate::sandbox::Sandbox;

const REPL_PROMPT: &str = "cometapi> ";
const CHAT_PROMPT: &str = "gpt-5.4> ";

fn history_file(sandbox: &Sandbox, name: &str) -> PathBuf {
    sandbox.home.path().join(".config/cometapi").join(name)
}

/// Types `line` and waits for `shown` in the output, then for the next prompt.
fn run(screen: &mut Screen, prompt: &str, line: &str, shown: &str) {
    screen.send(&format!("{line}\r"));
    screen.wait_for(shown);
    screen.wait_for(prompt);
}

#[cfg(unix)]
#[test]
fn repl_history_never_holds_a_secret_however_it_was_typed() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[]));
    screen.wait_for(REPL_PROMPT);
    let lines = [
        // A flag between `set` and the key.
        (
            "config set --json api_key sk-json-abcdefgh-1111",
            "****1111",
        ),
        // A global flag and a quoted value.
        (
            "config set -v access_token 'tok;quoted|abcdef$2222'",
            "****2222",
        ),
        // An escaped value: the command gets `sk-escaped-abcdef-3333`.
        (r"config set api_key sk\-escaped\-abcdef\-3333", "****3333"),
        // A key where no command declares a secret, and one in a comment.
        (
            "models --search sk-abcdefghijklmnopqrstuvwxyz4444",
            "No models found",
        ),
        (
            "config path # sk-commentabcdefghijklmnopq5555",
            "config.toml",
        ),
    ];
    for (line, shown) in lines {
        run(&mut screen, REPL_PROMPT, line, shown);
    }
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);

    let history = fs::read_to_string(history_file(&sandbox, "repl_history")).expect("history");
    for secret in [
        "json-abcdefgh",
        "quoted|abcdef",
        "escaped",
        "abcdefghijklmnopqrstuvwxyz",
        "comment",
    ] {
        assert!(!history.contains(secret), "{secret} in:\n{history}");
    }
    for masked in [
        "config set --json api_key '****1111'",
        "config set -v access_token '****2222'",
        "config set api_key '****3333'",
        "models --search '****4444'",
        "config path # ****5555",
    ] {
        assert!(history.contains(masked), "{masked} not in:\n{history}");
    }
    let config = sandbox.read_config();
    assert!(
        config.contains("sk-escaped-abcdef-3333") && config.contains("tok;quoted|abcdef$2222"),
        "the commands got the real, unescaped values:\n{config}"
    );
}

#[cfg(unix)]
#[test]
fn chat_history_masks_a_key_in_a_message_that_was_sent_as_typed() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["chat"], &[("COMETAPI_KEY", API_KEY)]));
    screen.wait_for(CHAT_PROMPT);
    let message =
        "is sk-chatsecretabcdefghijklmn6666 a key? it's \"sk-quotedabcdefghijklmnopq7777\"";
    run(&mut screen, CHAT_PROMPT, message, "echo: is");
    screen.send("/exit\r");
    assert_eq!(screen.exit_code(), 0);

    let sent = sandbox.server.requests_to("/v1/chat/completions");
    assert!(
        sent[0].body.contains("sk-chatsecretabcdefghijklmn6666"),
        "{}",
        sent[0].body
    );
    let history = fs::read_to_string(history_file(&sandbox, "chat_history")).expect("history");
    assert!(!history.contains("chatsecret"), "{history}");
    assert!(!history.contains("quotedabcdef"), "{history}");
    assert!(
        history.contains("is ****6666 a key? it's \"****7777\""),
        "{history}"
    );
}

/// A declared model-id argument (`run MODEL`) completes from the cached catalog.
#[cfg(unix)]
#[test]
fn a_declared_model_argument_completes_model_ids() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[]));
    screen.wait_for(REPL_PROMPT);
    run(
        &mut screen,
        REPL_PROMPT,
        "models --search gpt-4o",
        "gpt-4o-mini",
    );
    screen.send("run gpt-4o-m\t");
    screen.wait_for("run gpt-4o-mini ");
    screen.send("\x03");
    screen.wait_for(REPL_PROMPT);
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn save_expands_home_writes_0600_and_asks_before_overwriting() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    let saved = sandbox.home.path().join("chat.md");
    let mut screen = Screen::new(spawn(&sandbox, &["chat"], &[("COMETAPI_KEY", API_KEY)]));
    screen.wait_for(CHAT_PROMPT);
    run(
        &mut screen,
        CHAT_PROMPT,
        "first message",
        "echo: first message",
    );
    run(
        &mut screen,
        CHAT_PROMPT,
        "/save ~/chat.md",
        "saved 2 messages",
    );
    let mode = fs::metadata(&saved)
        .expect("saved under HOME")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let first = fs::read_to_string(&saved).expect("read");
    assert!(first.contains("first message"), "{first}");

    run(
        &mut screen,
        CHAT_PROMPT,
        "second message",
        "echo: second message",
    );
    screen.send("/save ~/chat.md\r");
    screen.wait_for("exists; overwrite it? [y/N]");
    screen.send("n\r");
    screen.wait_for("not saved; /save! ~/chat.md overwrites without asking");
    screen.wait_for(CHAT_PROMPT);
    assert_eq!(fs::read_to_string(&saved).expect("read"), first, "kept");

    screen.send("/save ~/chat.md\r");
    screen.wait_for("overwrite it? [y/N]");
    screen.send("y\r");
    screen.wait_for("saved 4 messages");
    screen.wait_for(CHAT_PROMPT);
    assert!(fs::read_to_string(&saved)
        .expect("read")
        .contains("second message"));

    run(
        &mut screen,
        CHAT_PROMPT,
        "third message",
        "echo: third message",
    );
    run(
        &mut screen,
        CHAT_PROMPT,
        "/save! ~/chat.md",
        "saved 6 messages",
    );
    assert!(fs::read_to_string(&saved)
        .expect("read")
        .contains("third message"));
    let mode = fs::metadata(&saved).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);

    run(&mut screen, CHAT_PROMPT, "/help", "/save!");
    screen.send("/exit\r");
    assert_eq!(screen.exit_code(), 0);
}
