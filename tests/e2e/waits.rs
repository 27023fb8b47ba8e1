//! Waiting, interrupting and time limits: `--timeout` and the `timeout` setting, slow,
//! silent and trickling servers, Ctrl-C during any wait (also in the REPL), the spinner,
//! and a panic in one REPL line.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::fake_server::{Fault, StreamMode, API_KEY};
use crate::pty::{spawn, Screen};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const CATALOG: &str = "/api/models";
const CHAT: &str = "/v1/chat/completions";
const PROMPT: &str = "cometapi> ";

/// Waits (polling the fake server) until `path` has received `count` requests.
fn wait_for_requests(sandbox: &Sandbox, path: &str, count: usize) {
    let started = Instant::now();
    while sandbox.server.requests_to(path).len() < count {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no request to {path}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run_timed(mut cmd: assert_cmd::Command) -> (Output, Duration) {
    let started = Instant::now();
    let output = cmd.output().expect("run");
    (output, started.elapsed())
}

// ---------------------------------------------------------------------------
// --timeout and the timeout setting
// ---------------------------------------------------------------------------

#[test]
fn a_server_that_never_answers_is_given_up_on_after_the_timeout() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(CATALOG, Fault::NeverAnswers, 3);
    let mut cmd = sandbox.cmd();
    cmd.args(["models", "--timeout", "1s"]);
    let (output, took) = run_timed(cmd);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let stderr = stderr_of(&output);
    // The server was reached: not a network problem, and the way out is named.
    assert!(
        stderr.contains("did not answer GET /api/models within 1s"),
        "{stderr}"
    );
    assert!(stderr.contains("--timeout"), "{stderr}");
    assert!(!stderr.contains("check the network"), "{stderr}");
    assert_eq!(
        sandbox.server.requests_to(CATALOG).len(),
        1,
        "one deadline for all attempts"
    );
    assert!(stdout_of(&output).is_empty());
}

#[test]
fn a_slow_reply_within_the_timeout_is_waited_for() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .inject(CATALOG, Fault::Slow(Duration::from_millis(300)), 1);
    let output = sandbox
        .cmd()
        .args(["models", "--timeout", "10s", "--json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(stdout_of(&output).contains("gpt-5.4"));
    // Not a terminal: no spinner, nothing at all on stderr.
    assert_eq!(stderr_of(&output), "");
}

#[test]
fn the_timeout_comes_from_the_environment_and_the_config_file() {
    let sandbox = Sandbox::new();
    // A TOML number of seconds, and a duration string.
    for config in ["timeout = 1\n", "timeout = 0.5\n", "timeout = \"1s\"\n"] {
        sandbox.write_config(config);
        sandbox.server.inject(CATALOG, Fault::NeverAnswers, 1);
        let (output, took) = run_timed({
            let mut cmd = sandbox.cmd();
            cmd.arg("models");
            cmd
        });
        assert_eq!(output.status.code(), Some(69), "{config}: {output:?}");
        assert!(took < Duration::from_secs(5), "{config}: took {took:?}");
    }
    // The environment beats the file, and the flag beats both.
    sandbox.write_config("timeout = \"10m\"\n");
    sandbox.server.inject(CATALOG, Fault::NeverAnswers, 1);
    let mut cmd = sandbox.cmd();
    cmd.env("COMETAPI_TIMEOUT", "1").arg("models");
    let (output, took) = run_timed(cmd);
    assert!(stderr_of(&output).contains("within 1s"), "{output:?}");
    assert!(took < Duration::from_secs(5));
    sandbox.server.inject(CATALOG, Fault::NeverAnswers, 1);
    let mut cmd = sandbox.cmd();
    cmd.env("COMETAPI_TIMEOUT", "10m")
        .args(["--timeout", "500ms", "models"]);
    let (output, _) = run_timed(cmd);
    assert!(stderr_of(&output).contains("within 500ms"), "{output:?}");
    let shown = sandbox
        .cmd()
        .args(["--timeout", "45s", "config", "show", "--json"])
        .output()
        .expect("run");
    let text = stdout_of(&shown);
    assert!(text.contains("45s") && text.contains("--timeout"), "{text}");
}

#[test]
fn bad_timeouts_are_refused_before_any_request() {
    let sandbox = Sandbox::new();
    for bad in ["abc", "0", "-3s", "10 parsecs", "1e400", ""] {
        let output = sandbox
            .cmd()
            .args(["models", &format!("--timeout={bad}")])
            .output()
            .expect("run");
        assert_eq!(
            output.status.code(),
            Some(2),
            "--timeout {bad:?}: {output:?}"
        );
        assert!(stderr_of(&output).contains("timeout"), "{output:?}");
    }
    let output = sandbox
        .cmd()
        .env("COMETAPI_TIMEOUT", "soon")
        .arg("models")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(
        stderr_of(&output).contains("COMETAPI_TIMEOUT"),
        "{output:?}"
    );
    for (config, expected) in [
        ("timeout = true\n", "boolean"),
        ("timeout = \"zz\"\n", "zz"),
    ] {
        sandbox.write_config(config);
        let output = sandbox.cmd().arg("models").output().expect("run");
        assert_eq!(output.status.code(), Some(78), "{config}: {output:?}");
        let stderr = stderr_of(&output);
        assert!(
            stderr.contains("timeout") && stderr.contains(expected),
            "{stderr}"
        );
    }
    assert!(sandbox.server.requests().is_empty(), "no request was sent");
}

#[test]
fn a_retry_pause_past_the_deadline_is_not_taken() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        CATALOG,
        Fault::RateLimited {
            retry_after_secs: Some(20),
            retry_after_ms: None,
        },
        1,
    );
    let mut cmd = sandbox.cmd();
    cmd.args(["models", "--timeout", "2s"]);
    let (output, took) = run_timed(cmd);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stderr_of(&output).contains("HTTP 429"), "{output:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(sandbox.server.requests_to(CATALOG).len(), 1);
}

#[test]
fn a_stream_that_never_starts_its_text_is_cut_at_the_timeout() {
    let sandbox = Sandbox::new();
    // One byte every 50 ms: the first text would take seconds.
    sandbox
        .server
        .set_stream_mode(StreamMode::Trickle(Duration::from_millis(50)));
    let mut cmd = sandbox.cmd_with_key();
    cmd.args(["chat", "hi", "--timeout", "1s"]).write_stdin("");
    let (output, took) = run_timed(cmd);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("the reply did not start within 1s"),
        "{stderr}"
    );
    assert!(stderr.contains("--timeout"), "{stderr}");
    assert_eq!(stdout_of(&output), "");
}

#[test]
fn a_stream_that_goes_silent_after_its_text_began_is_cut() {
    let sandbox = Sandbox::new();
    sandbox.server.set_stream_mode(StreamMode::StallAfter(2));
    let mut cmd = sandbox.cmd_with_key();
    cmd.args(["chat", "hi", "--timeout", "1s"]).write_stdin("");
    let (output, took) = run_timed(cmd);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("stream interrupted: nothing received for 1s"),
        "{stderr}"
    );
    // The text shown stays; it was not retried.
    assert!(stdout_of(&output).starts_with("echo"), "{output:?}");
    assert_eq!(sandbox.server.requests_to(CHAT).len(), 1);
}

#[test]
fn a_trickling_stream_that_shows_text_in_time_completes() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_stream_mode(StreamMode::Trickle(Duration::from_millis(1)));
    let output = sandbox
        .cmd_with_key()
        .args(["chat", "hi", "--timeout", "10s"])
        .write_stdin("")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(stdout_of(&output), "echo: hi\n");
}

// ---------------------------------------------------------------------------
// Ctrl-C outside the REPL
// ---------------------------------------------------------------------------

fn spawn_child(sandbox: &Sandbox, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cometapi"))
        .env_clear()
        .env("HOME", sandbox.home.path())
        .env("COMETAPI_BASE_URL", sandbox.server.base_url())
        .env("COMETAPI_KEY", API_KEY)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

#[cfg(unix)]
fn interrupt(child: &Child) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    // SAFETY: sends SIGINT to the child this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_retry_pause_stops_at_once_with_exit_130() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(
        CATALOG,
        Fault::RateLimited {
            retry_after_secs: Some(20),
            retry_after_ms: None,
        },
        1,
    );
    let child = spawn_child(&sandbox, &["models"]);
    wait_for_requests(&sandbox, CATALOG, 1);
    let started = Instant::now();
    interrupt(&child);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the 20 s pause was waited out"
    );
    assert!(stderr_of(&output).contains("interrupted"), "{output:?}");
    assert_eq!(
        sandbox.server.requests_to(CATALOG).len(),
        1,
        "no retry after Ctrl-C"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_while_a_request_waits_is_exit_130() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(CATALOG, Fault::NeverAnswers, 1);
    let child = spawn_child(&sandbox, &["models"]);
    wait_for_requests(&sandbox, CATALOG, 1);
    interrupt(&child);
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    assert!(stderr_of(&output).contains("interrupted"), "{output:?}");
}

// ---------------------------------------------------------------------------
// The REPL: Ctrl-C, the spinner, panics
// ---------------------------------------------------------------------------

#[cfg(unix)]
#[test]
fn ctrl_c_in_the_repl_stops_the_command_and_the_shell_goes_on() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["repl"], &[("COMETAPI_KEY", API_KEY)]));
    screen.wait_for(PROMPT);

    // A request that is not streamed.
    sandbox.server.inject(CATALOG, Fault::NeverAnswers, 1);
    screen.send("models\r");
    wait_for_requests(&sandbox, CATALOG, 1);
    screen.send("\x03");
    screen.wait_for("[exit 130]");
    screen.wait_for(PROMPT);

    // A streamed chat, then the same again: Ctrl-C still works.
    screen.send("chat hello\r");
    screen.wait_for("echo: hello");
    screen.wait_for(PROMPT);
    sandbox.server.inject(CATALOG, Fault::NeverAnswers, 1);
    screen.send("models\r");
    wait_for_requests(&sandbox, CATALOG, 2);
    screen.send("\x03");
    screen.wait_for("[exit 130]");
    screen.wait_for(PROMPT);

    // A retry pause.
    sandbox.server.inject(
        CATALOG,
        Fault::RateLimited {
            retry_after_secs: Some(20),
            retry_after_ms: None,
        },
        1,
    );
    screen.send("models\r");
    wait_for_requests(&sandbox, CATALOG, 3);
    screen.wait_for("retrying in");
    screen.send("\x03");
    screen.wait_for("[exit 130]");
    screen.wait_for(PROMPT);

    // The Ctrl-C does not carry over: the next command runs.
    screen.send("models --search gpt-5.4\r");
    screen.wait_for("400,000");
    screen.wait_for(PROMPT);
    screen.send("exit\r");
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(sandbox.server.requests_to(CATALOG).len(), 4);
}

#[cfg(unix)]
#[test]
fn the_spinner_says_what_is_awaited_on_a_terminal() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .set_stream_first_byte_delay(Duration::from_millis(500));
    let mut screen = Screen::new(spawn(
        &sandbox,
        &["chat", "hi"],
        &[("COMETAPI_KEY", API_KEY)],
    ));
    screen.wait_for("waiting for the first token");
    screen.wait_for("echo: hi");
    assert_eq!(screen.exit_code(), 0);

    sandbox.server.inject(
        CATALOG,
        Fault::RateLimited {
            retry_after_secs: Some(1),
            retry_after_ms: None,
        },
        1,
    );
    let mut screen = Screen::new(spawn(&sandbox, &["models", "--search", "gpt-5.4"], &[]));
    screen.wait_for("retrying in 1s");
    screen.wait_for("400,000");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn a_panic_in_a_repl_line_is_reported_and_the_shell_goes_on() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(
        &sandbox,
        &["repl"],
        &[("COMETAPI_TEST_PANIC", "balance")],
    ));
    screen.wait_for(PROMPT);
    screen.send("balance\r");
    let report = screen.wait_for("[exit 101]");
    assert!(report.contains("internal error: test panic"), "{report}");
    assert!(report.contains("this is a bug"), "{report}");
    assert!(!report.contains("thread 'main' panicked"), "{report}");
    screen.wait_for(PROMPT);
    screen.send("config path\r");
    screen.wait_for("config.toml");
    screen.wait_for(PROMPT);
    screen.send("exit\r");
    assert_eq!(screen.exit_code(), 0);
}

#[cfg(unix)]
#[test]
fn ctrl_c_during_a_retry_pause_in_the_chat_repl_stops_only_that_reply() {
    let sandbox = Sandbox::new();
    let mut screen = Screen::new(spawn(&sandbox, &["chat"], &[("COMETAPI_KEY", API_KEY)]));
    screen.wait_for("gpt-5.4> ");
    sandbox.server.inject(
        CHAT,
        Fault::RateLimited {
            retry_after_secs: Some(20),
            retry_after_ms: None,
        },
        1,
    );
    let started = Instant::now();
    screen.send("first\r");
    screen.wait_for("retrying in");
    screen.send("\x03");
    screen.wait_for("gpt-5.4> ");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the pause was waited out"
    );
    screen.send("second\r");
    screen.wait_for("echo: second");
    screen.wait_for("gpt-5.4> ");
    screen.send("\x04");
    assert_eq!(screen.exit_code(), 0);
    assert_eq!(
        sandbox.server.requests_to(CHAT).len(),
        2,
        "no retry of the first"
    );
}
