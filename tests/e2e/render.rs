//! Replies rendered as Markdown on a terminal while they stream (a pty), and the same
//! reply piped: the server's bytes, unchanged. `--raw` and `config render false` show
//! the Markdown as written; the chat REPL renders too.

use crate::fake_server::API_KEY;
use crate::pty::{self, Screen};
use crate::sandbox::{stdout_of, Sandbox};

/// A reply with a heading, emphasis, a list, a table and a fenced Rust block whose
/// string carries an escape sequence that must not reach the terminal.
const REPLY: &str = "# Release notes\n\n\
    Some **bold** and *italic* text with `code` and [a link](https://example.com).\n\n\
    - first item\n- second item\n\n\
    > quoted\n\n\
    | name | value |\n|------|------:|\n| alpha | 1 |\n| beta | 22 |\n\n\
    ```rust\nfn main() {\n    println!(\"\x1b]0;pwned\x07\");\n}\n```\n\
    Done.\n";

/// The reply in pieces of a few bytes, cut anywhere (inside lines, marks and fences).
fn pieces(text: &str, size: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

fn sandbox_replying(reply: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.server.set_reply_deltas(Some(pieces(reply, 7)));
    sandbox
}

/// Everything `cometapi ARGS` writes to a pty until it exits, escapes included.
fn on_a_terminal(sandbox: &Sandbox, args: &[&str]) -> String {
    let mut session = pty::spawn(sandbox, args, &[("COMETAPI_KEY", API_KEY)]);
    let seen = match session.expect(expectrl::Eof) {
        Ok(found) => String::from_utf8_lossy(found.get(0).unwrap_or_default()).into_owned(),
        Err(err) => panic!("waiting for the end: {err}"),
    };
    assert_eq!(pty::exit_code(&session), 0, "{seen:?}");
    seen
}

/// The lines a terminal ends up showing, colours kept: the current line shown as it
/// came is taken back by `\r`, `ESC [ n A` (up) and `ESC [ J` (clear below), as the
/// renderer redraws it.
fn final_screen(raw: &str) -> String {
    let mut lines = vec![String::new()];
    let mut row = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {}
            '\n' => {
                row += 1;
                if lines.len() == row {
                    lines.push(String::new());
                }
            }
            '\x1b' if chars.peek() == Some(&'[') => {
                let mut sequence = String::from("\x1b");
                for c in chars.by_ref() {
                    sequence.push(c);
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
                let count = || {
                    sequence[2..sequence.len() - 1]
                        .parse::<usize>()
                        .unwrap_or(1)
                };
                match sequence.chars().last() {
                    Some('A') => row = row.saturating_sub(count()),
                    Some('J') => {
                        lines.truncate(row + 1);
                        lines[row].clear();
                    }
                    _ => lines[row].push_str(&sequence),
                }
            }
            c => lines[row].push(c),
        }
    }
    lines.join("\n")
}

#[test]
fn a_streamed_reply_is_rendered_on_a_terminal() {
    let sandbox = sandbox_replying(REPLY);
    let raw = on_a_terminal(&sandbox, &["chat", "notes please"]);
    assert!(
        !raw.contains("\x1b]0;"),
        "an OSC reached the terminal: {raw:?}"
    );
    assert!(
        !raw.contains('\x07'),
        "a bell reached the terminal: {raw:?}"
    );
    let seen = final_screen(&raw);
    for styled in [
        "\x1b[1m\x1b[35mRelease notes",
        "\x1b[1mbold",
        "\x1b[3mitalic",
        "\x1b[36mcode",
        "\x1b[4ma link",
        "(https://example.com)",
        "• first item",
        "• second item",
        "│\x1b[0m quoted",
        "\x1b[38;2;",
    ] {
        assert!(seen.contains(styled), "{styled:?} in {seen:?}");
    }
    let table = pty::strip_ansi(&seen);
    for drawn in ["alpha", "beta", "22", "┌", "└"] {
        assert!(table.contains(drawn), "{drawn:?} in {table}");
    }
    for raw in [
        "# Release",
        "**bold**",
        "- first item",
        "|------|",
        "| alpha |",
    ] {
        assert!(!seen.contains(raw), "{raw:?} left raw in {seen:?}");
    }
    assert!(table.contains("println!(\"␛]0;pwned␇\")"), "{table}");
}

#[test]
fn the_same_reply_piped_is_the_servers_bytes() {
    let sandbox = sandbox_replying(REPLY);
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "notes please"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(output.stdout, REPLY.as_bytes());
    // --raw and a setting change nothing when piped.
    let output = sandbox
        .cmd_with_key()
        .args(["run", "gpt-5.4", "--stream", "-p", "x"])
        .output()
        .expect("run");
    assert_eq!(stdout_of(&output), REPLY);
}

#[test]
fn raw_and_render_false_show_the_markdown_as_written() {
    let sandbox = sandbox_replying(REPLY);
    let check = |seen: &str| {
        for raw in [
            "# Release notes",
            "**bold**",
            "- first item",
            "|------|------:|",
            "```rust",
        ] {
            assert!(seen.contains(raw), "{raw:?} in {seen:?}");
        }
        assert!(
            !seen.contains("\x1b[35m") && !seen.contains("\x1b[38;2;"),
            "{seen:?}"
        );
        assert!(!seen.contains('\x07'), "{seen:?}");
    };
    check(&on_a_terminal(&sandbox, &["chat", "--raw", "x"]));
    check(&on_a_terminal(
        &sandbox,
        &["run", "gpt-5.4", "--stream", "--raw", "-p", "x"],
    ));
    sandbox.write_config("render = false\n");
    check(&on_a_terminal(&sandbox, &["chat", "x"]));

    let output = sandbox
        .cmd()
        .args(["config", "set", "render", "maybe"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        sandbox.read_config(),
        "render = false\n",
        "a bad value changes nothing"
    );
}

#[test]
fn a_whole_reply_and_run_are_rendered_on_a_terminal() {
    let sandbox = Sandbox::new();
    let message = "\n# Title\n\n- one\n";
    for args in [
        vec!["chat", "--no-stream", message],
        vec!["run", "gpt-5.4", "-p", message],
        vec!["run", "gpt-5.4", "--stream", "-p", message],
    ] {
        let seen = on_a_terminal(&sandbox, &args);
        assert!(seen.contains("\x1b[1m\x1b[35mTitle"), "{args:?}: {seen:?}");
        assert!(seen.contains("• one"), "{args:?}: {seen:?}");
    }
}

#[cfg(unix)]
#[test]
fn the_chat_repl_renders_replies_the_same_way() {
    let sandbox = sandbox_replying(REPLY);
    let mut screen = Screen::new(pty::spawn(
        &sandbox,
        &["chat"],
        &[("COMETAPI_KEY", API_KEY)],
    ));
    screen.wait_for("gpt-5.4> ");
    screen.send("notes please\r");
    let before = screen.wait_for("• second item");
    assert!(before.contains("• first item"), "{before}");
    screen.wait_for("Done.");
    screen.wait_for("gpt-5.4> ");
    screen.send("/exit\r");
    assert_eq!(screen.exit_code(), 0);
}
