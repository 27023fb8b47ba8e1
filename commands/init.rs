//! `init`: the setup wizard. On a terminal it asks for each setting (secrets hidden,
//! Enter keeps the current value); for scripts, values come from flags and stdin and
//! nothing is asked. The file is written atomically with mode 0600, then the key is
//! checked live; a rejected key is reported, the file stays written.

use std::io::{self, IsTerminal, Read};

use clap::{Arg, ArgAction, ArgMatches};

use crate::config::{ConfigFile, DEFAULT_MODEL};
use crate::context::Context;
use crate::error::{CliError, Result};
use crate::http::{Auth, KeyHeader, Request};
use crate::output::{Cell, Outcome, Output, Record, Tone};
use crate::prompt;
use crate::registry::{self, CommandSpec};
use crate::secret::{mask, Secret};

/// The values the wizard (or the flags) settled on; `None` leaves a key as it is.
#[derive(Debug, Default)]
struct Answers {
    api_key: Option<String>,
    access_token: Option<String>,
    default_model: Option<String>,
    output_format: Option<String>,
}

fn run(ctx: &Context, matches: &ArgMatches) -> Result<Outcome> {
    let mut file = ctx.config_file()?.clone();
    let scripted = ["api_key_stdin", "access_token_stdin"]
        .iter()
        .any(|id| matches.get_flag(id))
        || matches.get_one::<String>("default_model").is_some()
        || matches.get_one::<String>("output_format").is_some();
    let answers = if scripted {
        from_flags(matches)?
    } else if io::stdin().is_terminal() {
        ask(&file)?
    } else {
        return Err(
            CliError::usage("`init` has no terminal to ask on").with_hint(
                "in scripts, pass the values: `--api-key-stdin`, `--access-token-stdin`, \
             `--default-model MODEL`, `--output-format FORMAT`",
            ),
        );
    };
    apply(&mut file, &answers);
    file.save()?;
    let check = if matches.get_flag("no_verify") {
        Cell::new("skipped (--no-verify)")
    } else {
        verify(ctx, file.get("api_key"))
    };
    let shown = |key: &str, secret: bool| match file.get(key) {
        Some(value) if secret => mask(value),
        Some(value) => value.to_string(),
        None => "not set".to_string(),
    };
    let record = Record::new()
        .field(
            "config_file",
            "Config file",
            file.path.display().to_string(),
        )
        .field("api_key", "API key", shown("api_key", true))
        .field("access_token", "Access token", shown("access_token", true))
        .field(
            "default_model",
            "Default model",
            shown("default_model", false),
        )
        .field(
            "output_format",
            "Output format",
            shown("output_format", false),
        )
        .field("key_check", "Key check", check);
    Ok(Output::Record(record).into())
}

fn apply(file: &mut ConfigFile, answers: &Answers) {
    let pairs = [
        ("api_key", &answers.api_key),
        ("access_token", &answers.access_token),
        ("default_model", &answers.default_model),
        ("output_format", &answers.output_format),
    ];
    for (key, value) in pairs {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            file.set(key, value);
        }
    }
}

/// `--api-key-stdin` reads the first line of stdin; `--access-token-stdin` the next
/// one (or the first, when it is the only one asked for).
fn from_flags(matches: &ArgMatches) -> Result<Answers> {
    let key_stdin = matches.get_flag("api_key_stdin");
    let token_stdin = matches.get_flag("access_token_stdin");
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
        default_model: matches.get_one::<String>("default_model").cloned(),
        output_format: matches.get_one::<String>("output_format").cloned(),
    })
}

/// The interactive wizard: each question shows the current value (secrets masked);
/// Enter keeps it.
fn ask(file: &ConfigFile) -> Result<Answers> {
    eprintln!(
        "Setting up {} (Enter keeps the value in brackets).",
        file.path.display()
    );
    let mut answers = Answers::default();
    loop {
        let current = file.get("api_key").map(mask);
        let shown = current.as_deref().unwrap_or("none");
        let value = prompt::read_line(&format!("API key [{shown}]: "), true)?;
        if !value.trim().is_empty() || current.is_some() {
            answers.api_key = Some(value.trim().to_string());
            break;
        }
        eprintln!("An API key is needed (sk-...; from the CometAPI console).");
    }
    let shown = file.get("access_token").map(mask);
    let value = prompt::read_line(
        &format!(
            "Access token, optional [{}]: ",
            shown.as_deref().unwrap_or("none")
        ),
        true,
    )?;
    answers.access_token = Some(value.trim().to_string());
    let model = file.get("default_model").unwrap_or(DEFAULT_MODEL);
    let value = prompt::read_line(&format!("Default model [{model}]: "), false)?;
    answers.default_model = Some(value.trim().to_string());
    let names = registry::formatter_names();
    let format = file.get("output_format").unwrap_or("table");
    loop {
        let value = prompt::read_line(
            &format!("Output format ({}) [{format}]: ", names.join(", ")),
            false,
        )?;
        let value = value.trim();
        if value.is_empty() || registry::formatter(value).is_some() {
            answers.output_format = Some(value.to_string());
            break;
        }
        eprintln!(
            "`{value}` is not a format; use one of: {}",
            names.join(", ")
        );
    }
    Ok(answers)
}

/// `GET {base}/models` with the key; the result is reported, never fatal.
fn verify(ctx: &Context, key: Option<&str>) -> Cell {
    let Some(key) = key else {
        return Cell::new("skipped (no API key)");
    };
    let secret = Secret::new(key);
    let result = ctx.base_url().and_then(|base| {
        ctx.http()?
            .send(&Request::get(
                base.v1("models"),
                Auth::ApiKey(&secret, KeyHeader::Bearer),
            ))
            .map(drop)
    });
    match result {
        Ok(()) => Cell::new("accepted (GET /v1/models)").tone(Tone::Good),
        Err(err) => Cell::new(format!("failed: {}", err.message)).tone(Tone::Bad),
    }
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
            .value_parser(crate::cli::format_values())
            .help("Default output format; never prompt"),
    )
    .arg(
        Arg::new("no_verify")
            .long("no-verify")
            .action(ArgAction::SetTrue)
            .help("Do not check the API key against the service"),
    )
    .after_help(
        "On a terminal, asks for each setting; Enter keeps the current value, Ctrl-C \
         (exit 130) or Ctrl-D leave the file as it was. With any of the flags above \
         (except --no-verify), nothing is asked; without a terminal, one is needed.",
    )
}

inventory::submit! {
    CommandSpec::new("init", "Set up the API key, access token, default model and output format", run)
        .with_args(args)
}
