//! `init`: the setup wizard. On a terminal it asks for each setting (secrets hidden,
//! Enter keeps the current value); for scripts, values come from flags and stdin and
//! nothing is asked. The file is written atomically with mode 0600 under the config
//! lock, then the key and the token are checked live; a rejected one is reported with a
//! hint and exit 77, and the file stays written.

use std::io::{self, Read, Write};

use clap::{Arg, ArgAction, ArgMatches};

use crate::api::envelope::console_get;
use crate::cli::context::Context;
use crate::cli::registry::{self, CommandSpec};
use crate::config::secret::{mask, Secret};
use crate::config::settings::is_sendable;
use crate::config::{ConfigFile, Key, DEFAULT_MODEL};
use crate::error::{CliError, ExitCode, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Cell, Outcome, Output, Record, Tone};
use crate::term::line_input;
use crate::term::streams::Streams;

/// The values the wizard (or the flags) settled on; `None` leaves a key as it is.
#[derive(Debug, Default)]
struct Answers {
    api_key: Option<String>,
    access_token: Option<String>,
    default_model: Option<String>,
    output_format: Option<String>,
}

/// What `init` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    api_key_stdin: bool,
    access_token_stdin: bool,
    default_model: Option<String>,
    /// A registered format's name (clap checked it).
    output_format: Option<String>,
    no_verify: bool,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            api_key_stdin: m.get_flag("api_key_stdin"),
            access_token_stdin: m.get_flag("access_token_stdin"),
            default_model: m.get_one::<String>("default_model").cloned(),
            output_format: m.get_one::<String>("output_format").cloned(),
            no_verify: m.get_flag("no_verify"),
        }
    }

    /// Any flag but `--no-verify` gives the values: nothing is asked.
    fn scripted(&self) -> bool {
        self.api_key_stdin
            || self.access_token_stdin
            || self.default_model.is_some()
            || self.output_format.is_some()
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    init(ctx, &Options::from_matches(m))
}

fn init(ctx: &Context, options: &Options) -> Result<Outcome> {
    let current = ctx.config_file()?;
    let answers = if options.scripted() {
        from_flags(options)?
    } else if ctx.streams().stdin_is_terminal() {
        ask(ctx.streams(), current)?
    } else {
        return Err(
            CliError::usage("`init` has no terminal to ask on").with_hint(
                "in scripts, pass the values: `--api-key-stdin`, `--access-token-stdin`, \
             `--default-model MODEL`, `--output-format FORMAT`",
            ),
        );
    };
    check_answers(&answers)?;
    // Questions are asked without the lock; the file is re-read under it and changed.
    let file = ConfigFile::update(&ctx.config_path, |file| {
        apply(file, &answers);
        Ok(file.clone())
    })?;
    let checks = if options.no_verify {
        Checks::skipped()
    } else {
        Checks::run(ctx, &file)
    };
    let shown = |key: Key, secret: bool| match file.get(key) {
        Some(value) if secret => mask(value),
        Some(value) => value.to_string(),
        None => "not set".to_string(),
    };
    let mut record = Record::new()
        .field(
            "config_file",
            "Config file",
            file.path.display().to_string(),
        )
        .field("api_key", "API key", shown(Key::ApiKey, true))
        .field(
            "access_token",
            "Access token",
            shown(Key::AccessToken, true),
        )
        .field(
            "default_model",
            "Default model",
            shown(Key::DefaultModel, false),
        )
        .field(
            "output_format",
            "Output format",
            shown(Key::OutputFormat, false),
        )
        .field("key_check", "Key check", checks.key)
        .field("token_check", "Token check", checks.token);
    if let Some(hint) = &checks.hint {
        record = record.field("hint", "Hint", hint.as_str());
    }
    Ok(Outcome::with_exit(Output::Record(record), checks.exit))
}

fn apply(file: &mut ConfigFile, answers: &Answers) {
    for (key, value) in answers.pairs() {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            file.set(key, toml_edit::Value::from(value));
        }
    }
}

/// A credential with whitespace or a control character inside could not be sent.
fn check_answers(answers: &Answers) -> Result<()> {
    for (key, value) in answers.pairs().into_iter().take(2) {
        if value.is_some_and(|v| !is_sendable(v)) {
            return Err(CliError::usage(format!(
                "the {key} contains whitespace or a control character; nothing was written"
            )));
        }
    }
    Ok(())
}

impl Answers {
    /// Each config key with its answer, the two credentials first.
    fn pairs(&self) -> [(Key, Option<&str>); 4] {
        [
            (Key::ApiKey, self.api_key.as_deref()),
            (Key::AccessToken, self.access_token.as_deref()),
            (Key::DefaultModel, self.default_model.as_deref()),
            (Key::OutputFormat, self.output_format.as_deref()),
        ]
    }
}

/// `--api-key-stdin` reads the first line of stdin; `--access-token-stdin` the next
/// one (or the first, when it is the only one asked for).
fn from_flags(options: &Options) -> Result<Answers> {
    let key_stdin = options.api_key_stdin;
    let token_stdin = options.access_token_stdin;
    let mut lines = Vec::new();
    if key_stdin || token_stdin {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::failure(format!("cannot read stdin: {e}")))?;
        lines = text.lines().map(|l| l.trim().to_string()).collect();
    }
    let mut lines = lines.into_iter();
    let mut take = |what: &str| {
        lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or_else(|| CliError::usage(format!("no {what} on stdin")))
    };
    let api_key = key_stdin.then(|| take("API key")).transpose()?;
    let access_token = token_stdin.then(|| take("access token")).transpose()?;
    Ok(Answers {
        api_key,
        access_token,
        default_model: options.default_model.clone(),
        output_format: options.output_format.clone(),
    })
}

/// The interactive wizard: each question shows the current value (secrets masked);
/// Enter keeps it. Its notes go to `streams`' stderr (a failed write is no reason to stop).
fn ask(streams: &Streams, file: &ConfigFile) -> Result<Answers> {
    let note = |text: &str| {
        let _ = writeln!(streams.err(), "{text}");
    };
    note(&format!(
        "Setting up {} (Enter keeps the value in brackets).",
        file.path.display()
    ));
    let mut answers = Answers::default();
    loop {
        let current = file.get(Key::ApiKey).map(mask);
        let shown = current.as_deref().unwrap_or("none");
        let value = line_input::read_line(&format!("API key [{shown}]: "), true)?;
        if !value.trim().is_empty() || current.is_some() {
            answers.api_key = Some(value.trim().to_string());
            break;
        }
        note("An API key is needed (sk-...; from the CometAPI console).");
    }
    let shown = file.get(Key::AccessToken).map(mask);
    let value = line_input::read_line(
        &format!(
            "Access token, optional [{}]: ",
            shown.as_deref().unwrap_or("none")
        ),
        true,
    )?;
    answers.access_token = Some(value.trim().to_string());
    let model = file.get(Key::DefaultModel).unwrap_or(DEFAULT_MODEL);
    let value = line_input::read_line(&format!("Default model [{model}]: "), false)?;
    answers.default_model = Some(value.trim().to_string());
    let names = registry::formatter_names();
    let format = file.get(Key::OutputFormat).unwrap_or("table");
    loop {
        let value = line_input::read_line(
            &format!("Output format ({}) [{format}]: ", names.join(", ")),
            false,
        )?;
        let value = value.trim();
        if value.is_empty() || registry::formatter(value).is_some() {
            answers.output_format = Some(value.to_string());
            break;
        }
        note(&format!(
            "`{value}` is not a format; use one of: {}",
            names.join(", ")
        ));
    }
    Ok(answers)
}

/// The live checks of the saved credentials; a rejection is reported with a hint and
/// exit 77, and the file stays written.
struct Checks {
    key: Cell,
    token: Cell,
    hint: Option<String>,
    exit: ExitCode,
}

impl Checks {
    fn skipped() -> Checks {
        Checks {
            key: Cell::new("skipped (--no-verify)"),
            token: Cell::new("skipped (--no-verify)"),
            hint: None,
            exit: ExitCode::Success,
        }
    }

    /// `GET {base}/models` with the key and `GET {root}/api/user/self` with the token.
    fn run(ctx: &Context, file: &ConfigFile) -> Checks {
        let mut checks = Checks::skipped();
        checks.key = match file.get(Key::ApiKey) {
            None => Cell::new("skipped (no API key)"),
            Some(key) => checks.judge("GET /v1/models", key_check(ctx, &Secret::new(key.trim()))),
        };
        checks.token = match file.get(Key::AccessToken) {
            None => Cell::new("skipped (no access token)"),
            Some(token) => checks.judge(
                "GET /api/user/self",
                token_check(ctx, &Secret::new(token.trim())),
            ),
        };
        checks
    }

    /// The cell for one check; a rejection also sets the hint and the exit code.
    fn judge(&mut self, what: &str, result: Result<String>) -> Cell {
        match result {
            Ok(detail) => Cell::new(format!("accepted ({what}{detail})")).tone(Tone::Good),
            Err(err) if err.exit == ExitCode::AuthRejected => {
                let hint = err.hint.unwrap_or_default();
                self.hint = Some(match self.hint.take() {
                    Some(first) => format!("{first}; {hint}"),
                    None => format!("the file is saved; {hint}"),
                });
                self.exit = ExitCode::AuthRejected;
                Cell::new(format!("rejected: {}", err.message)).tone(Tone::Bad)
            }
            Err(err) => Cell::new(format!("not checked: {}", err.message)).tone(Tone::Warn),
        }
    }
}

fn key_check(ctx: &Context, key: &Secret) -> Result<String> {
    let base = ctx.base_url()?;
    let auth = Auth::ApiKey(key, KeyHeader::Bearer);
    ctx.http()?.send(&Request::get(base.v1("models"), auth))?;
    Ok(String::new())
}

fn token_check(ctx: &Context, token: &Secret) -> Result<String> {
    let base = ctx.base_url()?;
    let user = console_get(
        ctx.http()?,
        &base.console("user/self"),
        Auth::AccessToken(token),
    )?;
    Ok(user
        .get("username")
        .and_then(|v| v.as_str())
        .map(|name| format!(", signed in as {name}"))
        .unwrap_or_default())
}

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("api_key_stdin")
            .long("api-key-stdin")
            .action(ArgAction::SetTrue)
            .help("Read the API key from the first line of stdin; never prompt"),
    )
    .arg(
        Arg::new("access_token_stdin")
            .long("access-token-stdin")
            .action(ArgAction::SetTrue)
            .help("Read the access token from stdin (the line after the key); never prompt"),
    )
    .arg(
        Arg::new("default_model")
            .long("default-model")
            .value_name("MODEL")
            .help("Default model; never prompt"),
    )
    .arg(
        Arg::new("output_format")
            .long("output-format")
            .value_name("FORMAT")
            .value_parser(crate::cli::front::format_values())
            .help("Default output format; never prompt"),
    )
    .arg(
        Arg::new("no_verify")
            .long("no-verify")
            .action(ArgAction::SetTrue)
            .help("Do not check the API key and access token against the service"),
    )
    .after_help(
        "On a terminal, asks for each setting; Enter keeps the current value, Ctrl-C \
         (exit 130) or Ctrl-D leave the file as it was. With any of the flags above \
         (except --no-verify), nothing is asked; without a terminal, one is needed. \
         The file is written first; then the API key and the access token are checked \
         against the service, and a rejected one is reported with a hint and exit 77.",
    )
}

inventory::submit! {
    CommandSpec::new("init", "Set up the API key, access token, default model and output format", run)
        .with_args(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::streams::{Captured, Terminals};

    /// `init ARGV` on test streams whose stdin is a terminal or not, with the config in
    /// `dir`: its result and what it wrote.
    fn init_in(dir: &std::path::Path, argv: &[&str], stdin: bool) -> (Result<Outcome>, Captured) {
        let (streams, captured) = Streams::test();
        let terminals = Terminals {
            stdin,
            stdout: false,
            stderr: false,
        };
        let ctx = Context::for_test(streams.with_terminals(terminals, 80), dir);
        (init(&ctx, &options(argv).expect("parses")), captured)
    }

    #[test]
    fn without_flags_or_a_terminal_init_refuses_and_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (result, captured) = init_in(dir.path(), &["--no-verify"], false);
        let err = result.expect_err("no terminal to ask on");
        assert_eq!(err.exit.code(), 2);
        assert_eq!(err.message, "`init` has no terminal to ask on");
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("--api-key-stdin"), "{hint}");
        assert!(!dir.path().join("config.toml").exists());
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }

    #[test]
    fn scripted_init_asks_nothing_even_on_a_terminal() {
        for stdin in [false, true] {
            let dir = tempfile::tempdir().expect("tempdir");
            let argv = [
                "--default-model",
                "gpt-x",
                "--output-format",
                "json",
                "--no-verify",
            ];
            let (result, captured) = init_in(dir.path(), &argv, stdin);
            assert!(result.is_ok(), "stdin a terminal: {stdin}");
            assert_eq!(captured.stderr(), "", "no wizard banner");
            let written =
                std::fs::read_to_string(dir.path().join("config.toml")).expect("config written");
            assert!(
                written.contains("gpt-x") && written.contains("json"),
                "{written}"
            );
        }
    }

    fn options(argv: &[&str]) -> Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn the_flags_are_read_and_any_but_no_verify_is_scripted() {
        let asked = options(&["--no-verify"]).expect("parses");
        assert_eq!(
            asked,
            Options {
                api_key_stdin: false,
                access_token_stdin: false,
                default_model: None,
                output_format: None,
                no_verify: true,
            }
        );
        assert!(!asked.scripted());
        let argv = [
            "--api-key-stdin",
            "--access-token-stdin",
            "--default-model",
            "m1",
            "--output-format",
            "json",
        ];
        let scripted = options(&argv).expect("parses");
        assert_eq!(
            (
                scripted.default_model.as_deref(),
                scripted.output_format.as_deref()
            ),
            (Some("m1"), Some("json"))
        );
        assert!(scripted.api_key_stdin && scripted.access_token_stdin && !scripted.no_verify);
        for one in [&["--api-key-stdin"][..], &["--output-format", "yaml"]] {
            assert!(options(one).expect("parses").scripted(), "{one:?}");
        }
    }

    #[test]
    fn an_unregistered_output_format_is_rejected() {
        let err = options(&["--output-format", "xml"]).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(clap::error::ErrorKind::InvalidValue)
        );
    }
}
