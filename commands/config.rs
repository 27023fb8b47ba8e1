//! `config [show|get|set|unset|path]`: read and change the config file. `config` alone
//! is `config show`.

use std::io::Read;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches};

use crate::api::base_url::BaseUrl;
use crate::cli::context::{env_var, Context};
use crate::cli::registry::{self, CommandSpec};
use crate::config::secret::mask;
use crate::config::settings::{is_sendable, Setting};
use crate::config::{key_names, key_spec, ConfigFile, KeySpec, KEYS};
use crate::error::{CliError, Result};
use crate::net::urls::redact_url;
use crate::output::{Cell, Column, Outcome, Output, Table};

/// A setting's typed value for structured output, a password in a URL masked.
fn shown_json(setting: &Setting) -> serde_json::Value {
    match setting.json() {
        serde_json::Value::String(text) => redact_url(&text).into_owned().into(),
        other => other,
    }
}

fn args(cmd: clap::Command) -> clap::Command {
    let key = || {
        Arg::new("key")
            .required(true)
            .value_name("KEY")
            .value_parser(PossibleValuesParser::new(key_names()))
    };
    cmd.after_long_help(keys_help())
        .subcommand(
            clap::Command::new("show")
                .about("Show every setting (secrets masked) and where it comes from (the default)"),
        )
        .subcommand(
            clap::Command::new("get")
                .about("Print one setting's value in force (secrets masked); exit 1 if unset")
                .arg(key()),
        )
        .subcommand(
            clap::Command::new("set")
                .about("Set a key in the config file, keeping its comments and layout")
                .arg(key())
                .arg(
                    Arg::new("value")
                        .required(true)
                        .value_name("VALUE")
                        .help("The value; `-` reads it from stdin"),
                ),
        )
        .subcommand(
            clap::Command::new("unset")
                .about("Remove a key from the config file")
                .arg(key()),
        )
        .subcommand(clap::Command::new("path").about("Print the config file's path"))
}

/// The keys, their environment variables and meaning, for `config --help`.
fn keys_help() -> String {
    let lines: Vec<String> = KEYS
        .iter()
        .map(|k| {
            let env = k.env.map(|v| format!(" (env {v})")).unwrap_or_default();
            format!("  {}{env}\n      {}", k.name, k.about)
        })
        .collect();
    format!("Keys:\n{}", lines.join("\n"))
}

/// What `config` was asked to do, read once from its arguments. The key is the name
/// as given (clap checked it against the known keys).
#[derive(Debug, PartialEq)]
enum Action {
    Show,
    Get { key: String },
    Set { key: String, value: String },
    Unset { key: String },
    Path,
}

impl Action {
    fn from_matches(matches: &ArgMatches) -> Action {
        let arg = |m: &ArgMatches, id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
        match matches.subcommand() {
            Some(("get", m)) => Action::Get { key: arg(m, "key") },
            Some(("set", m)) => Action::Set {
                key: arg(m, "key"),
                value: arg(m, "value"),
            },
            Some(("unset", m)) => Action::Unset { key: arg(m, "key") },
            Some(("path", _)) => Action::Path,
            _ => Action::Show,
        }
    }
}

fn run(ctx: &Context, matches: &ArgMatches) -> Result<Outcome> {
    let output = match Action::from_matches(matches) {
        Action::Get { key } => get(ctx, &key)?,
        Action::Set { key, value } => set(ctx, &key, &value)?,
        Action::Unset { key } => unset(ctx, &key)?,
        Action::Path => Output::Text(ctx.config_path.display().to_string()),
        Action::Show => show(ctx)?,
    };
    Ok(output.into())
}

fn show(ctx: &Context) -> Result<Output> {
    let mut table = Table::new(
        vec![
            Column::new("key", "Key"),
            Column::new("value", "Value"),
            Column::new("source", "Source"),
        ],
        "No settings.",
    );
    for setting in ctx.settings()?.iter() {
        let value = match setting.display() {
            Some(text) => Cell::with_text(shown_json(setting), redact_url(&text).into_owned()),
            None => Cell::new(serde_json::Value::Null),
        };
        table.push(vec![
            Cell::new(setting.key.name),
            value,
            Cell::new(setting.source.to_string()),
        ]);
    }
    Ok(Output::Table(table))
}

/// One value, as scripts want it: the text alone, secrets masked.
fn get(ctx: &Context, key: &str) -> Result<Output> {
    let spec = key_spec(key).ok_or_else(|| CliError::usage(format!("unknown key `{key}`")))?;
    let setting = ctx.settings()?.get(spec.key);
    match setting.display() {
        Some(text) => Ok(Output::Text(text)),
        None => Err(CliError::failure(format!("{key} is not set"))
            .with_hint(format!("set it with `cometapi config set {key} <value>`"))),
    }
}

fn set(ctx: &Context, key: &str, value: &str) -> Result<Output> {
    let spec = key_spec(key).ok_or_else(|| CliError::usage(format!("unknown key `{key}`")))?;
    let value = if value == "-" {
        read_stdin()?
    } else {
        value.to_string()
    };
    let value = validate(spec, &value)?;
    // A file that does not parse fails here (exit 78) and is never written over.
    let _ = ctx.config_file()?;
    let path = ConfigFile::update(&ctx.config_path, |file| {
        file.set(spec.key, spec.kind.to_toml(&value));
        Ok(file.path.clone())
    })?;
    let shown = if spec.secret {
        mask(&value)
    } else {
        redact_url(&value).into_owned()
    };
    let mut message = format!("Set {key} = {shown} in {}", path.display());
    if let Some(var) = spec.env.filter(|var| env_var(var).is_some()) {
        message.push_str(&format!(
            "\nnote: {var} is set and takes precedence over the file"
        ));
    }
    Ok(Output::Text(message))
}

/// The value as it will be written: checked against the key's type and meaning,
/// secrets without surrounding whitespace.
fn validate(spec: &KeySpec, value: &str) -> Result<String> {
    let key = spec.name;
    let value = if spec.secret { value.trim() } else { value };
    if value.trim().is_empty() {
        return Err(CliError::usage(format!(
            "{key} cannot be empty; use `cometapi config unset {key}`"
        )));
    }
    if spec.secret && !is_sendable(value) {
        return Err(CliError::usage(format!(
            "{key} cannot contain whitespace or control characters"
        )));
    }
    let value = spec.kind.parse(value).map_err(|found| {
        CliError::usage(format!(
            "{key} must be {}, not {found}",
            spec.kind.expected()
        ))
    })?;
    match key {
        "output_format" if registry::formatter(&value).is_none() => Err(CliError::usage(format!(
            "`{value}` is not an output format; use one of: {}",
            registry::formatter_names().join(", ")
        ))),
        "base_url" => BaseUrl::parse(&value)
            .map(|_| value)
            .map_err(|e| CliError::usage(e).with_hint("for example https://api.cometapi.com/v1")),
        _ => Ok(value),
    }
}

fn read_stdin() -> Result<String> {
    let mut value = String::new();
    std::io::stdin()
        .read_to_string(&mut value)
        .map_err(|e| CliError::failure(format!("cannot read the value from stdin: {e}")))?;
    Ok(value.trim_end_matches(['\n', '\r']).to_string())
}

fn unset(ctx: &Context, key: &str) -> Result<Output> {
    let spec = key_spec(key).ok_or_else(|| CliError::usage(format!("unknown key `{key}`")))?;
    let _ = ctx.config_file()?;
    let (removed, path) = ConfigFile::update(&ctx.config_path, |file| {
        Ok((file.unset(spec.key), file.path.clone()))
    })?;
    Ok(Output::Text(if removed {
        format!("Removed {key} from {}", path.display())
    } else {
        format!("{key} is not set in {}", path.display())
    }))
}

/// `config set <KEY> <VALUE>` with a secret key: the value is a secret (the REPL masks
/// it in its history).
/// The REPL parses tolerantly (`ignore_errors`), so the value may be missing (read as
/// empty): an empty secret would match inside every word.
fn secret_values(matches: &ArgMatches) -> Vec<String> {
    match Action::from_matches(matches) {
        Action::Set { key, value }
            if key_spec(&key).is_some_and(|k| k.secret) && !value.is_empty() && value != "-" =>
        {
            vec![value]
        }
        _ => Vec::new(),
    }
}

inventory::submit! {
    CommandSpec::new("config", "Show and change settings in the config file", run)
        .with_args(args)
        .secret_values(secret_values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, value: &str) -> Result<String, u8> {
        let spec = key_spec(key).expect("a key");
        validate(spec, value).map_err(|e| e.exit.code())
    }

    #[test]
    fn validation_rejects_unknown_formats_bad_urls_and_wrong_types() {
        assert_eq!(check("output_format", "json"), Ok("json".into()));
        assert_eq!(check("output_format", "xml"), Err(2));
        assert_eq!(check("base_url", "not a url"), Err(2));
        assert_eq!(check("api_key", " "), Err(2));
        assert_eq!(check("stream_usage", "Off"), Ok("false".into()));
        assert_eq!(check("stream_usage", "maybe"), Err(2));
        assert_eq!(check("api_key", "sk-abc\r\n"), Ok("sk-abc".into()));
        assert_eq!(check("access_token", "tok one"), Err(2));
        assert_eq!(check("api_key", "sk-\u{1b}[2J"), Err(2));
        assert_eq!(keys_help().lines().count(), 1 + 2 * KEYS.len());
    }

    fn action(argv: &[&str]) -> Result<Action, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Action::from_matches(&m))
    }

    #[test]
    fn each_subcommand_is_read_into_its_action() {
        let key = |k: &str| k.to_string();
        assert_eq!(action(&[]).ok(), Some(Action::Show));
        assert_eq!(action(&["show"]).ok(), Some(Action::Show));
        assert_eq!(action(&["path"]).ok(), Some(Action::Path));
        assert_eq!(
            action(&["get", "base_url"]).ok(),
            Some(Action::Get {
                key: key("base_url")
            })
        );
        assert_eq!(
            action(&["set", "api_key", "-"]).ok(),
            Some(Action::Set {
                key: key("api_key"),
                value: key("-")
            })
        );
        assert_eq!(
            action(&["unset", "log"]).ok(),
            Some(Action::Unset { key: key("log") })
        );
    }

    #[test]
    fn an_unknown_key_or_a_missing_value_is_rejected() {
        for argv in [
            &["get", "colour"][..],
            &["set", "api_key"],
            &["unset"],
            &["drop"],
        ] {
            assert!(action(argv).is_err(), "{argv:?}");
        }
    }

    #[test]
    fn only_a_secret_key_set_on_the_command_line_is_a_secret() {
        let secrets = |argv: &[&str]| {
            secret_values(&crate::cli::registry::test_matches(args, argv).expect("parses"))
        };
        assert_eq!(secrets(&["set", "api_key", "sk-1"]), ["sk-1"]);
        assert!(secrets(&["set", "api_key", "-"]).is_empty());
        assert!(secrets(&["set", "base_url", "https://x"]).is_empty());
        assert!(secrets(&["get", "api_key"]).is_empty());
        let tolerant = args(clap::Command::new("x"))
            .ignore_errors(true)
            .try_get_matches_from(["x", "set", "api_key"])
            .expect("tolerated");
        assert!(secret_values(&tolerant).is_empty(), "no value, no secret");
    }
}
