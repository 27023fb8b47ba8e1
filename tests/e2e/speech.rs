//! `speech`: audio streamed to a file or a pipe, never a terminal; the 4096-character
//! limit; a rate-limited create sent again; cuts that leave no file. Credentials, no
//! retry of a create answered 500 and blank arguments are rows of `every_command.rs`.

use std::fs;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::fake_server::{speech_audio, Fault, API_KEY};
use crate::pty;
use crate::sandbox::{stderr_of, Sandbox};

const SPEECH: &str = "/v1/audio/speech";

fn run(sandbox: &Sandbox, args: &[&str]) -> std::process::Output {
    sandbox
        .cmd_with_key()
        .current_dir(sandbox.home.path())
        .args(args)
        .output()
        .expect("run")
}

fn body_of(sandbox: &Sandbox) -> Value {
    let requests = sandbox.server.requests_to(SPEECH);
    assert_eq!(requests.len(), 1, "one request");
    serde_json::from_str(&requests[0].body).expect("JSON body")
}

/// The names in `dir`, sorted (temporary files included: they must not be left).
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".config" && n != ".cache")
        .collect();
    names.sort();
    names
}

#[test]
fn the_audio_is_streamed_to_the_file_with_every_option_sent() {
    let sandbox = Sandbox::new();
    let output = run(
        &sandbox,
        &[
            "speech",
            "hello world",
            "-o",
            "hello.wav",
            "-m",
            "tts-1-hd",
            "--voice",
            "Nova",
            "--audio-format",
            "wav",
            "--speed",
            "1.5",
            "--json",
        ],
    );
    assert!(output.status.success(), "{output:?}");
    let file = sandbox.home.path().join("hello.wav");
    let expected = speech_audio("wav", "hello world");
    assert_eq!(fs::read(&file).expect("file"), expected);
    let record: Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(record["path"], "hello.wav");
    assert_eq!(record["bytes"], expected.len());
    assert_eq!(record["type"], "audio/x-wav");
    let body = body_of(&sandbox);
    assert_eq!(body["model"], "tts-1-hd");
    assert_eq!(body["input"], "hello world");
    assert_eq!(body["voice"], "nova");
    assert_eq!(body["response_format"], "wav");
    assert_eq!(body["speed"], 1.5);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode & 0o600, 0o600, "readable and writable by the user");
    }
}

#[test]
fn defaults_and_a_pipe_get_the_audio_on_stdout() {
    let sandbox = Sandbox::new();
    let output = run(&sandbox, &["speech", "piped"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(output.stdout, speech_audio("mp3", "piped"));
    let body = body_of(&sandbox);
    assert_eq!(body["model"], "tts-1");
    assert_eq!(body["voice"], "alloy");
    assert_eq!(body["response_format"], "mp3");
    assert!(body.get("speed").is_none(), "{body}");
}

#[test]
fn the_text_comes_from_stdin() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .cmd_with_key()
        .current_dir(sandbox.home.path())
        .args(["speech", "-", "-o", "in.mp3"])
        .write_stdin("read from stdin")
        .output()
        .expect("run");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(body_of(&sandbox)["input"], "read from stdin");
    let empty = sandbox
        .cmd_with_key()
        .args(["speech", "-o", "x.mp3"])
        .write_stdin("  \n")
        .output()
        .expect("run");
    assert_eq!(empty.status.code(), Some(2), "{empty:?}");
}

#[test]
fn an_existing_file_is_kept_without_force() {
    let sandbox = Sandbox::new();
    let file = sandbox.home.path().join("out.mp3");
    fs::write(&file, b"precious").expect("write");
    let output = run(&sandbox, &["speech", "hi", "-o", "out.mp3"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("already exists"), "{output:?}");
    assert!(stderr_of(&output).contains("--force"), "{output:?}");
    assert_eq!(fs::read(&file).expect("file"), b"precious");
    assert!(sandbox.server.requests().is_empty(), "nothing sent");

    let output = run(&sandbox, &["speech", "hi", "-o", "out.mp3", "--force"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(fs::read(&file).expect("file"), speech_audio("mp3", "hi"));
}

#[test]
fn text_over_4096_characters_is_refused_before_any_request() {
    let sandbox = Sandbox::new();
    let long = "é".repeat(4097);
    let output = run(&sandbox, &["speech", &long, "-o", "long.mp3"]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("4097 characters"), "{output:?}");
    assert!(sandbox.server.requests().is_empty(), "nothing sent");
    assert_eq!(names(sandbox.home.path()), Vec::<String>::new());

    let at_limit = "é".repeat(4096);
    let output = run(&sandbox, &["speech", &at_limit, "-o", "limit.mp3"]);
    assert!(output.status.success(), "{output:?}");
}

/// (Blank values are rows of `every_command.rs`.)
#[test]
fn bad_option_values_are_usage_errors_before_any_request() {
    let sandbox = Sandbox::new();
    for args in [
        &["speech", "hi", "--speed", "4.5"][..],
        &["speech", "hi", "--speed", "0.1"],
        &["speech", "hi", "--speed", "fast"],
        &["speech", "hi", "--voice", "robot"],
        &["speech", "hi", "--audio-format", "ogg"],
        &["speech", "hi", "-o", "."],
    ] {
        let output = run(&sandbox, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
    }
    assert!(sandbox.server.requests().is_empty(), "nothing sent");
}

#[test]
fn a_rate_limited_create_is_retried_since_nothing_was_made() {
    let sandbox = Sandbox::new();
    let fault = Fault::RateLimited {
        retry_after_secs: None,
        retry_after_ms: Some(10),
    };
    sandbox.server.inject(SPEECH, fault, 1);
    let output = run(&sandbox, &["speech", "hi", "-o", "a.mp3"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(sandbox.server.requests_to(SPEECH).len(), 2);
    let file = sandbox.home.path().join("a.mp3");
    assert_eq!(fs::read(file).expect("file"), speech_audio("mp3", "hi"));
}

#[test]
fn a_body_cut_mid_way_leaves_no_file_and_is_not_sent_again() {
    let sandbox = Sandbox::new();
    sandbox.server.set_media_cut_after(1000);
    let output = run(&sandbox, &["speech", "hi", "-o", "cut.mp3"]);
    assert_eq!(output.status.code(), Some(69), "{output:?}");
    assert!(
        stderr_of(&output).contains("cut off after 1000 bytes"),
        "{output:?}"
    );
    assert_eq!(sandbox.server.requests_to(SPEECH).len(), 1, "sent once");
    assert_eq!(
        names(sandbox.home.path()),
        Vec::<String>::new(),
        "no file, no temporary file"
    );
}

#[test]
fn an_error_object_in_a_200_is_an_error_and_no_file() {
    let sandbox = Sandbox::new();
    let fault = Fault::Custom {
        status: 200,
        content_type: "application/json",
        headers: Vec::new(),
        body: r#"{"error":{"message":"voice not available for this model"}}"#.to_string(),
    };
    sandbox.server.inject(SPEECH, fault, 1);
    let output = run(&sandbox, &["speech", "hi", "-o", "a.mp3"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stderr_of(&output).contains("voice not available for this model"),
        "{output:?}"
    );
    assert_eq!(names(sandbox.home.path()), Vec::<String>::new());
}

#[test]
fn binary_is_refused_on_a_terminal() {
    let sandbox = Sandbox::new();
    let mut session = pty::spawn(&sandbox, &["speech", "hi"], &[("COMETAPI_KEY", API_KEY)]);
    let seen = pty::expect(&mut session, "redirect");
    assert_eq!(pty::exit_code(&session), 2);
    assert!(
        seen.contains("refusing to write binary data to the terminal"),
        "{seen}"
    );
    assert!(seen.contains("-o speech.mp3"), "{seen}");
    assert!(sandbox.server.requests().is_empty(), "nothing sent");
}

#[test]
fn a_slow_reply_shows_the_spinner_with_elapsed_seconds_on_a_terminal() {
    let sandbox = Sandbox::new();
    sandbox
        .server
        .inject(SPEECH, Fault::Slow(Duration::from_millis(1500)), 1);
    let file = sandbox.home.path().join("slow.mp3");
    let path = file.to_string_lossy().into_owned();
    let mut session = pty::spawn(
        &sandbox,
        &["speech", "hi", "-o", &path],
        &[("COMETAPI_KEY", API_KEY)],
    );
    pty::expect(&mut session, "waiting for http://127.0.0.1");
    pty::expect(&mut session, "1s");
    pty::expect(&mut session, "slow.mp3");
    assert_eq!(pty::exit_code(&session), 0);
    assert_eq!(fs::read(&file).expect("file"), speech_audio("mp3", "hi"));
}

#[test]
fn ctrl_c_while_waiting_leaves_no_file_and_no_temporary_file() {
    let sandbox = Sandbox::new();
    sandbox.server.inject(SPEECH, Fault::NeverAnswers, 1);
    let dir = sandbox.home.path().join("out");
    fs::create_dir(&dir).expect("dir");
    let file = dir.join("never.mp3");
    let path = file.to_string_lossy().into_owned();
    let mut session = pty::spawn(
        &sandbox,
        &["speech", "hi", "-o", &path],
        &[("COMETAPI_KEY", API_KEY)],
    );
    pty::expect(&mut session, "waiting for");
    session.send("\x03").expect("Ctrl-C");
    assert_eq!(pty::exit_code(&session), 130);
    assert_eq!(names(&dir), Vec::<String>::new(), "nothing left behind");
}
