//! `repl` in a real terminal (a pty): completion, running commands, errors, history.

use std::fs;

use crate::plugins::{path_with, write_plugin};
use crate::pty::{spawn, Screen};
use crate::sandbox::Sandbox;

const PROMPT: &str = "cometapi> ";

fn history(sandbox: &Sandbox) -> std::path::PathBuf {
    sandbox.home.path().join(".config/cometapi/repl_history")
}

#[cfg(unix)]
#[test]
fn completes_runs_reports_errors_masks_history_and_exits_on_ctrl_d() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[]));
    let banner = screen.wait_for(PROMPT);
    assert!(banner.contains("cometapi 0.1.0"), "{banner}");
    assert!(banner.contains("no API key configured"), "{banner}");

    // `mod<Tab>`: the menu offers both commands with their about; Tab, Enter picks `models`.
    screen.send("mod\t");
    screen.wait_for("List and filter available models");
    screen.send("\t");
    screen.wait_for("List and filter available models"); // repainted with `models` selected
    screen.send("\r");
    screen.wait_for("cometapi> models ");
    // `--fo<Tab>` has one match and completes at once.
    screen.send("--fo\t");
    screen.wait_for("models --format ");
    // `--format <Tab>` offers every registered formatter.
    screen.send("\t");
    let mut menu = String::new();
    for name in cometapi::cli::registry::formatter_names() {
        menu.push_str(&screen.wait_for(name));
    }
    screen.send("\x03"); // Ctrl-C: the menu closes and the line is cleared
    screen.wait_for(PROMPT);
    screen.send("models --format table --search gpt-5.4\r");
    screen.wait_for("400,000");
    screen.wait_for(PROMPT);

    // Model ids come from the catalog cache the line above filled; no request is made.
    let catalog_requests = sandbox.server.requests().len();
    screen.send("model info gpt-4o\t");
    screen.wait_for("gpt-4o-mini");
    assert_eq!(sandbox.server.requests().len(), catalog_requests);
    screen.send("\x03");
    screen.wait_for(PROMPT);

    screen.send("nosuchcommand\r");
    screen.wait_for("unknown command `nosuchcommand`");
    screen.wait_for("[exit 2]");
    screen.wait_for(PROMPT);

    screen.send("models --limit\r");
    screen.wait_for("[exit 2]");
    screen.wait_for(PROMPT);

    screen.send("cometapi config set api_key sk-secret-1234567890\r");
    screen.wait_for("****7890");
    screen.wait_for(PROMPT);
    screen.send("repl\r");
    screen.wait_for("already in the REPL");
    screen.wait_for(PROMPT);

    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
    let text = fs::read_to_string(history(&sandbox)).expect("history file");
    assert!(!text.contains("sk-secret"), "{text}");
    assert!(text.contains("config set api_key '****7890'"), "{text}");
    assert!(
        text.contains("models --format table --search gpt-5.4"),
        "{text}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(history(&sandbox))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(
        sandbox.read_config().contains("sk-secret-1234567890"),
        "the command itself got the real value"
    );
}

#[cfg(unix)]
#[test]
fn config_changes_apply_to_the_next_line_and_ctrl_c_clears_the_line() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[]));
    screen.wait_for(PROMPT);
    screen.send("config set output_format json\r");
    screen.wait_for(PROMPT);
    screen.send("models --search gpt-5.4\r");
    screen.wait_for("\"id\": \"gpt-5.4\"");
    screen.wait_for(PROMPT);
    screen.send("balance");
    screen.send("\x03");
    screen.wait_for(PROMPT);
    screen.send("exit\r");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn help_lists_the_registry_and_plugins_and_a_plugin_runs() {
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().expect("tempdir");
    write_plugin(
        bin.path(),
        "hello",
        "#!/bin/sh\necho \"hello from plugin: $* at $COMETAPI_BASE_URL\"\nexit 3\n",
    );
    let path = path_with(bin.path());
    let path = path.to_str().expect("utf-8 PATH");
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[("PATH", path)]));
    screen.wait_for(PROMPT);
    screen.send("help\r");
    let help = screen.wait_for("Shell:");
    let section = |title: &str| -> Vec<String> {
        help.split(&format!("{title}:"))
            .nth(1)
            .unwrap_or_default()
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    };
    let registered: Vec<String> = cometapi::cli::registry::commands()
        .iter()
        .map(|c| c.name.to_string())
        .collect();
    assert_eq!(section("Commands"), registered, "{help}");
    assert_eq!(section("Plugins"), ["hello"], "{help}");
    screen.wait_for(PROMPT);
    screen.send("help models\r");
    screen.wait_for("Usage: cometapi models");
    screen.wait_for(PROMPT);

    screen.send("hel\t");
    screen.wait_for("plugin (");
    screen.send("\x03");
    screen.wait_for(PROMPT);
    screen.send("hello 'a b' c\r");
    screen.wait_for(&format!(
        "hello from plugin: a b c at {}",
        sandbox.server.base_url()
    ));
    screen.wait_for("[exit 3]");
    screen.wait_for(PROMPT);
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn an_open_quote_keeps_the_line_open() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[]));
    screen.wait_for(PROMPT);
    screen.send("models --search 'gpt-5.4\r");
    screen.wait_for("...> ");
    screen.send("'\r");
    screen.wait_for("400,000");
    screen.wait_for(PROMPT);
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
}

#[test]
fn repl_without_a_terminal_says_so() {
    let sandbox = Sandbox::new();
    let output = sandbox.cmd().arg("repl").output().expect("run");
    assert_eq!(output.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn history_hint_is_accepted_with_the_right_arrow() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[]));
    screen.wait_for(PROMPT);
    screen.send("config path\r");
    screen.wait_for("config.toml");
    screen.wait_for(PROMPT);
    screen.send("conf");
    // The rest of the earlier line shows as a hint after what was typed.
    screen.wait_for("conf");
    screen.wait_for("ig path");
    screen.send("\x1b[C\r"); // Right arrow, Enter
    screen.wait_for("config path");
    screen.wait_for("config.toml");
    screen.wait_for(PROMPT);
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
    assert!(
        !screen.text.contains("unknown command"),
        "the whole line ran, not `conf`:\n{}",
        screen.text
    );
    let text = fs::read_to_string(history(&sandbox)).expect("history");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["config path"],
        "a repeated line is stored once"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_ends_a_running_plugin_and_the_shell_goes_on() {
    let sandbox = Sandbox::new();
    let bin = tempfile::tempdir().expect("tempdir");
    write_plugin(
        bin.path(),
        "wait",
        "#!/bin/sh\necho waiting-for-input\nread line\necho got $line\n",
    );
    let path = path_with(bin.path());
    let path = path.to_str().expect("utf-8 PATH");
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[("PATH", path)]));
    screen.wait_for(PROMPT);
    screen.send("wait\r");
    screen.wait_for("waiting-for-input");
    screen.send("\x03");
    screen.wait_for("[exit 130]");
    screen.wait_for(PROMPT);
    screen.send("exit\r");
    assert_eq!(screen.exit_code(), 0);
}
