//! The checks every command that needs a credential must pass, written once as a table
//! over the registry: a missing credential is exit 64 naming what to set, a rejected
//! one (401) is exit 77 with the hint, a creating POST answered 500 is not sent again,
//! and a blank argument is exit 2 before any request. Each command line runs in a
//! fresh sandbox (its own HOME and server) and a working directory that must hold
//! only its input files afterwards: a failed command leaves no file behind.
//!
//! The credential comes from the command's registration, so a row only says how to
//! run the command; a registered command that needs a credential and has no row fails
//! [`every_command_that_needs_a_credential_has_a_row`].

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use cometapi::cli::registry::{self, Credential};

use crate::fake_server::{image_bytes, Fault, ACCESS_TOKEN, API_KEY};
use crate::sandbox::{stderr_of, stdout_of, Sandbox};

const WRONG_KEY: &str = "sk-wrong-key-000000000000";
const WRONG_TOKEN: &str = "tok-wrong-token-00000000";

/// An input file: its name in the working directory, and what makes its bytes.
type Input = (&'static str, fn() -> Vec<u8>);

/// One command line of a registered command.
struct Row {
    /// The registered name (`argv[0]` may be an alias of it).
    command: &'static str,
    /// The shortest command line that reaches the server.
    argv: &'static [&'static str],
    /// Files `argv` reads, written to the working directory first.
    files: &'static [Input],
    /// Where the command's creating POST goes, if it makes something.
    creates: Option<&'static str>,
    /// A 401 ends the command (exit 77), or it is one item's failure among many
    /// (exit 1, the 401 reported per item): `batch` and `compare` go on.
    rejected_per_item: bool,
    /// Command lines with a blank argument.
    blank: &'static [&'static [&'static str]],
}

const fn row(command: &'static str, argv: &'static [&'static str]) -> Row {
    Row {
        command,
        argv,
        files: &[],
        creates: None,
        rejected_per_item: false,
        blank: &[],
    }
}

impl Row {
    const fn files(mut self, files: &'static [Input]) -> Row {
        self.files = files;
        self
    }

    const fn creates(mut self, path: &'static str) -> Row {
        self.creates = Some(path);
        self
    }

    const fn rejected_per_item(mut self) -> Row {
        self.rejected_per_item = true;
        self
    }

    const fn blank(mut self, lines: &'static [&'static [&'static str]]) -> Row {
        self.blank = lines;
        self
    }
}

fn png() -> Vec<u8> {
    image_bytes("png", 4, 4, 0)
}

fn mp3() -> Vec<u8> {
    (0..2000).map(|i| (i % 251) as u8 | 0x80).collect()
}

fn prompts() -> Vec<u8> {
    b"hello\n".to_vec()
}

/// Every command that needs a credential, by the command lines that reach a different
/// endpoint (so `logs` has three and `video` two).
#[rustfmt::skip]
const ROWS: &[Row] = &[
    row("account", &["account"]),
    row("stats", &["stats"]),
    row("balance", &["balance"]),
    row("tasks", &["tasks", "--platform", "suno"])
        .blank(&[&["tasks", "--task-id", " "], &["tasks", "--action", ""]]),
    row("tokens", &["tokens"]),
    row("tokens", &["tokens", "--search", "ci"]).blank(&[&["tokens", "--search", " "]]),
    row("logs", &["logs"]).blank(&[
        &["logs", "--model", " "], &["logs", "--group", ""], &["logs", "--request-id", " "],
    ]),
    row("logs", &["logs", "--export"]),
    row("logs", &["logs", "--request-id", "req-log-0001"]),
    row("chat", &["chat", "hi"]).blank(&[
        &["chat", ""], &["chat", "  "], &["chat", "-m", "", "hi"], &["chat", "-m", " ", "hi"],
    ]),
    row("run", &["run", "gpt-5.4", "-p", "hi"]).blank(&[
        &["run", "", "-p", "hi"], &["run", "-m", "", "-p", "hi"], &["run", "gpt-5.4", "-p", " "],
    ]),
    row("compare", &["compare", "-m", "a", "-m", "b", "hi"])
        .rejected_per_item()
        .blank(&[&["compare", "-m", "a", "-m", "b", " "]]),
    row("batch", &["batch", "in.txt"])
        .files(&[("in.txt", prompts)])
        .rejected_per_item()
        .blank(&[&["batch", "in.txt", "-m", " "]]),
    row("embed", &["embed", "hi"]).blank(&[&["embed", ""], &["embed", "x", "-m", " "]]),
    row("image", &["image", "x"]).creates("/v1/images/generations").blank(&[
        &["image", "x", "-m", ""], &["image", "x", "--size", " "], &["image", "  "],
    ]),
    row("image", &["image", "edit", "in.png", "x"])
        .files(&[("in.png", png)])
        .creates("/v1/images/edits")
        .blank(&[&["image", "edit", "in.png", " "]]),
    row("speech", &["speech", "hi", "-o", "a.mp3"]).creates("/v1/audio/speech").blank(&[
        &["speech", "hi", "-m", " "], &["speech", " ", "-o", "blank.mp3"],
    ]),
    row("transcribe", &["transcribe", "clip.mp3"])
        .files(&[("clip.mp3", mp3)])
        .creates("/v1/audio/transcriptions")
        .blank(&[
            &["transcribe", "clip.mp3", "-m", " "], &["transcribe", "clip.mp3", "--language", ""],
        ]),
    row("midjourney", &["mj", "imagine", "x"])
        .creates("/mj/submit/imagine")
        .blank(&[&["mj", "imagine", "  "]]),
    row("music", &["music", "create", "--description", "rain"])
        .creates("/suno/submit/music")
        .blank(&[&["music", "create", "--description", " "]]),
    row("video", &["video", "create", "x"])
        .creates("/v1/videos")
        .blank(&[&["video", "create", " "]]),
    row("video", &["video", "create", "x", "-m", "kling-v1"])
        .creates("/kling/v1/videos/text2video"),
];

fn credential_of(row: &Row) -> Credential {
    registry::command(row.command)
        .unwrap_or_else(|| panic!("`{}` is not a registered command", row.command))
        .credential
}

/// `cometapi ARGV` in a fresh working directory under the sandbox's HOME holding the
/// row's files, with exactly the environment `env` on top of [`Sandbox::cmd`].
fn run(sandbox: &Sandbox, row: &Row, argv: &[&str], env: &[(&str, &str)]) -> Output {
    let dir = work_dir(sandbox);
    fs::create_dir_all(&dir).expect("work dir");
    for (name, contents) in row.files {
        fs::write(dir.join(name), contents()).expect("input file");
    }
    let mut cmd = sandbox.cmd();
    cmd.current_dir(&dir).env("COMETAPI_POLL_INTERVAL", "0.01");
    for (name, value) in env {
        cmd.env(name, value);
    }
    cmd.args(argv).output().expect("run")
}

fn work_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.home.path().join("work")
}

/// The working directory holds the row's input files and nothing else.
fn assert_left_nothing(sandbox: &Sandbox, row: &Row, argv: &[&str]) {
    let mut names: Vec<String> = fs::read_dir(work_dir(sandbox))
        .expect("work dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut inputs: Vec<String> = row.files.iter().map(|(n, _)| n.to_string()).collect();
    inputs.sort();
    assert_eq!(names, inputs, "{argv:?} left files behind");
}

fn assert_says(output: &Output, argv: &[&str], parts: &[&str]) {
    let stderr = stderr_of(output);
    for part in parts {
        assert!(
            stderr.contains(part),
            "{argv:?} does not say {part:?}: {stderr}"
        );
    }
}

#[test]
fn every_command_that_needs_a_credential_has_a_row() {
    for spec in registry::commands() {
        if spec.credential != Credential::None {
            assert!(
                ROWS.iter().any(|r| r.command == spec.name),
                "`{}` needs the {}: add its shortest command line to ROWS in {}",
                spec.name,
                spec.credential.describe(),
                file!()
            );
        }
    }
    for row in ROWS {
        let spec = registry::command(row.command).expect("a registered command");
        assert_ne!(
            spec.credential,
            Credential::None,
            "{}: no credential to check",
            row.command
        );
        for argv in std::iter::once(row.argv).chain(row.blank.iter().copied()) {
            let first = argv.first().copied().unwrap_or_default();
            assert!(
                first == spec.name || spec.hidden_aliases.contains(&first),
                "{argv:?} does not run `{}`",
                row.command
            );
        }
    }
}

/// What a missing credential's message names: the error, the variable and the way out.
fn missing_message(credential: Credential) -> &'static [&'static str] {
    match credential {
        Credential::ApiKey => &["API key is not configured", "COMETAPI_KEY", "cometapi init"],
        Credential::AccessToken => &[
            "access token is not configured",
            "COMETAPI_ACCESS_TOKEN",
            "cometapi init",
        ],
        Credential::Either | Credential::None => &[
            "neither an access token nor an API key is configured",
            "COMETAPI_ACCESS_TOKEN or COMETAPI_KEY",
            "cometapi init",
        ],
    }
}

#[test]
fn a_missing_credential_is_exit_64_naming_what_to_set_before_any_request() {
    for row in ROWS {
        let credential = credential_of(row);
        // The other credential is set: it never stands in for the one needed.
        let env: &[(&str, &str)] = match credential {
            Credential::ApiKey => &[("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN)],
            Credential::AccessToken => &[("COMETAPI_KEY", API_KEY)],
            Credential::Either | Credential::None => &[],
        };
        let sandbox = Sandbox::new();
        let output = run(&sandbox, row, row.argv, env);
        assert_eq!(output.status.code(), Some(64), "{:?}: {output:?}", row.argv);
        assert!(output.stdout.is_empty(), "{:?}: {output:?}", row.argv);
        assert_says(&output, row.argv, missing_message(credential));
        let sent = sandbox.server.requests();
        assert!(sent.is_empty(), "{:?} sent {sent:?}", row.argv);
        assert_left_nothing(&sandbox, row, row.argv);
    }
}

/// The wrong credentials to try (the variable and its value), and what the server says
/// to each.
fn rejected(credential: Credential) -> Vec<(&'static str, &'static str, &'static str)> {
    let key = ("COMETAPI_KEY", WRONG_KEY, "Invalid API key");
    let token = ("COMETAPI_ACCESS_TOKEN", WRONG_TOKEN, "invalid access token");
    match credential {
        Credential::ApiKey => vec![key],
        Credential::AccessToken => vec![token],
        Credential::Either | Credential::None => vec![token, key],
    }
}

#[test]
fn a_rejected_credential_is_exit_77_with_the_hint_and_never_echoed() {
    for row in ROWS {
        for (variable, wrong, said) in rejected(credential_of(row)) {
            let sandbox = Sandbox::new();
            let output = run(&sandbox, row, row.argv, &[(variable, wrong)]);
            let argv = row.argv;
            let everything = stdout_of(&output) + &stderr_of(&output);
            // The credential went out as configured (public routes, such as the
            // catalog, carry none).
            let sent = sandbox.server.requests();
            let carried: Vec<&str> = sent
                .iter()
                .filter_map(|r| r.header("authorization"))
                .collect();
            assert!(!carried.is_empty(), "{argv:?} sent no credential: {sent:?}");
            for header in carried {
                assert_eq!(header, format!("Bearer {wrong}"), "{argv:?}");
            }
            // Not even in part: a masked credential shows its last four characters only.
            let (head, _) = wrong.split_at(8);
            assert!(
                !everything.contains(head),
                "{argv:?} echoed {wrong}: {everything}"
            );
            let rejection = format!(": {said}");
            if row.rejected_per_item {
                assert_eq!(output.status.code(), Some(1), "{argv:?}: {output:?}");
                let stdout = stdout_of(&output);
                assert!(stdout.contains("HTTP 401 from POST"), "{argv:?}: {stdout}");
                assert!(stdout.contains(&rejection), "{argv:?}: {stdout}");
            } else {
                assert_eq!(output.status.code(), Some(77), "{argv:?}: {output:?}");
                assert!(output.stdout.is_empty(), "{argv:?}: {output:?}");
                let hint = match variable {
                    "COMETAPI_KEY" => "hint: check the API key",
                    _ => "hint: check the access token",
                };
                assert_says(&output, argv, &["HTTP 401 from ", &rejection, hint]);
            }
            assert_left_nothing(&sandbox, row, argv);
        }
    }
}

#[test]
fn a_creating_post_answered_500_is_not_sent_again() {
    for row in ROWS {
        let Some(path) = row.creates else { continue };
        let sandbox = Sandbox::new();
        sandbox.server.inject(path, Fault::ServerError, 3);
        let env = [("COMETAPI_KEY", API_KEY)];
        let output = run(&sandbox, row, row.argv, &env);
        let argv = row.argv;
        assert_eq!(output.status.code(), Some(69), "{argv:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{argv:?}: {output:?}");
        let said = format!("HTTP 500 from POST {path}: internal server error");
        assert_says(&output, argv, &[&said]);
        assert_eq!(
            sandbox.server.requests_to(path).len(),
            1,
            "{argv:?} sent it again"
        );
        assert_left_nothing(&sandbox, row, argv);
    }
}

#[test]
fn a_blank_argument_is_exit_2_before_any_request() {
    for row in ROWS {
        for argv in row.blank {
            let sandbox = Sandbox::new();
            let env = [
                ("COMETAPI_KEY", API_KEY),
                ("COMETAPI_ACCESS_TOKEN", ACCESS_TOKEN),
            ];
            let output = run(&sandbox, row, argv, &env);
            assert_eq!(output.status.code(), Some(2), "{argv:?}: {output:?}");
            assert!(output.stdout.is_empty(), "{argv:?}: {output:?}");
            assert_says(&output, argv, &["empty"]);
            let sent = sandbox.server.requests();
            assert!(sent.is_empty(), "{argv:?} sent {sent:?}");
            assert_left_nothing(&sandbox, row, argv);
        }
    }
}
