//! A command is one file: a scratch copy of the crate with only `commands/ping.rs` added
//! builds a `cometapi` in which `ping` runs and is listed by `-h`, the completion scripts,
//! the REPL and the regenerated `docs/commands.md`. The normal suite checks the same
//! promise cheaply (`registry::tests::every_module_file_is_compiled_and_registered`);
//! this test builds for real, so it is ignored by default:
//! `cargo test --test e2e dropin -- --ignored`.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::pty::Screen;

const PING: &str = r#"//! `ping`: prints pong.

use clap::ArgMatches;

use crate::cli::context::Context;
use crate::cli::registry::CommandSpec;
use crate::error::Result;
use crate::output::{Outcome, Output};

fn run(_: &Context, _: &ArgMatches) -> Result<Outcome> {
    Ok(Output::Text("pong".to_string()).into())
}

inventory::submit! {
    CommandSpec::new("ping", "Answer pong", run)
}
"#;

const COPIED: &[&str] = &[
    "Cargo.toml",
    "README.md",
    "Cargo.lock",
    "build.rs",
    "src",
    "commands",
    "formatters",
    "docs",
    "tests",
    "examples",
    "benches",
];

fn run_ok(cmd: &mut Command) -> String {
    let output = cmd.output().expect("spawn");
    assert!(output.status.success(), "{cmd:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "builds a scratch copy of the crate; run with --ignored"]
fn one_file_in_commands_is_a_whole_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("scratch dir");
    for item in COPIED {
        run_ok(
            Command::new("cp")
                .arg("-R")
                .arg(root.join(item))
                .arg(scratch.path()),
        );
    }
    std::fs::write(scratch.path().join("commands/ping.rs"), PING).expect("write ping.rs");
    // Its own target dir (kept between runs) so the binary under test is not replaced.
    let target = root.join("target/dropin");
    let cargo = || {
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(scratch.path())
            .env("CARGO_TARGET_DIR", &target);
        cmd
    };
    run_ok(cargo().args(["build", "--quiet"]));
    let bin = target.join("debug/cometapi");
    assert_eq!(run_ok(Command::new(&bin).arg("ping")), "pong\n");
    let help = run_ok(Command::new(&bin).arg("-h"));
    let listed = help.lines().any(|line| {
        let mut words = line.split_whitespace();
        words.next() == Some("ping") && words.collect::<Vec<_>>().join(" ") == "Answer pong"
    });
    assert!(
        listed,
        "ping is listed with its about, however wide the column:\n{help}"
    );
    for shell in ["bash", "zsh", "fish"] {
        let script = run_ok(Command::new(&bin).args(["completion", shell]));
        assert!(script.contains("ping"), "{shell} completion lists ping");
    }
    run_ok(
        cargo()
            .args(["test", "--quiet", "--lib", "docgen"])
            .env("UPDATE_DOCS", "1"),
    );
    let docs = std::fs::read_to_string(scratch.path().join("docs/commands.md")).expect("docs");
    assert!(docs.contains("## `ping`") && docs.contains("Answer pong"));
    assert!(scratch.path().join("docs/man/cometapi-ping.1").exists());
    repl_lists(&bin, scratch.path());
}

/// The REPL's `help` lists the new command and runs it without the prefix.
fn repl_lists(bin: &Path, home: &Path) {
    let mut cmd = Command::new(bin);
    cmd.arg("repl")
        .env_clear()
        .env("HOME", home)
        .env("TERM", "xterm");
    let mut session = expectrl::Session::spawn(cmd).expect("spawn on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    let mut screen = Screen::new(session);
    screen.send("help\r");
    screen.wait_for("Answer pong");
    screen.send("ping\r");
    screen.wait_for("pong");
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
}
