//! `config show|set|unset|path`: read and change the config file.

use std::io::Read;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches};

use crate::config::{key_names, key_spec};
use crate::context::{env_var, Context};
use crate::error::{CliError, Result};
use crate::output::{Cell, Column, Outcome, Output, Table};
use crate::registry::{self, CommandSpec};
use crate::secret::mask;
use crate::urls::BaseUrl;

fn args(cmd: clap::Command) -> clap::Command {
    let key = || {
        Arg::new("key")
            .required(true)
            .value_name("KEY")
            .value_parser(PossibleValuesParser::new(key_names()))
    };
    cmd.subcommand_required(true)
        .subcommand(
            clap::Command::new("show")
                .about("Show every setting (secrets masked) and where it comes from"),
        )
        .subcommand(
            clap::Command::new("set")
                .about("Set a key in the config file")
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

fn run(ctx: &Context, matches: &ArgMatches) -> Result<Outcome> {
    let output = match matches.subcommand() {
        Some(("show", _)) => show(ctx)?,
        Some(("set", m)) => set(ctx, arg(m, "key"), arg(m, "value"))?,
        Some(("unset", m)) => unset(ctx, arg(m, "key"))?,
        _ => Output::Text(ctx.config_path.display().to_string()),
    };
    Ok(output.into())
}

fn arg<'a>(matches: &'a ArgMatches, name: &str) -> &'a str {
    matches
        .get_one::<String>(name)
        .map(String::as_str)
        .unwrap_or_default()
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
        let value = setting
            .display()
            .map(|v| crate::urls::redact_url(&v).into_owned())
            .map(serde_json::Value::String)
            .unwrap_or_default();
        table.push(vec![
            Cell::new(setting.key.name),
            Cell::new(value),
            Cell::new(setting.source.to_string()),
        ]);
    }
    Ok(Output::Table(table))
}

fn set(ctx: &Context, key: &str, value: &str) -> Result<Output> {
    let spec = key_spec(key).ok_or_else(|| CliError::usage(format!("unknown key `{key}`")))?;
    let value = if value == "-" {
        read_stdin()?
    } else {
        value.to_string()
    };
    validate(key, &value)?;
    // A file that does not parse fails here (exit 78) and is never written over.
    let mut file = ctx.config_file()?.clone();
    file.set(key, &value);
    file.save()?;
    let shown = if spec.secret {
        mask(&value)
    } else {
        crate::urls::redact_url(&value).into_owned()
    };
    let mut message = format!("Set {key} = {shown} in {}", file.path.display());
    if let Some(var) = spec.env.filter(|var| env_var(var).is_some()) {
        message.push_str(&format!(
            "\nnote: {var} is set and takes precedence over the file"
        ));
    }
    Ok(Output::Text(message))
}

fn validate(key: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(CliError::usage(format!(
            "{key} cannot be empty; use `cometapi config unset {key}`"
        )));
    }
    match key {
        "output_format" if registry::formatter(value).is_none() => Err(CliError::usage(format!(
            "`{value}` is not an output format; use one of: {}",
            registry::formatter_names().join(", ")
        ))),
        "stream_usage" if !matches!(value, "true" | "false") => Err(CliError::usage(format!(
            "stream_usage must be true or false, not `{value}`"
        ))),
        "base_url" => BaseUrl::parse(value)
            .map(drop)
            .map_err(|e| CliError::usage(e).with_hint("for example https://api.cometapi.com/v1")),
        _ => Ok(()),
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
    let mut file = ctx.config_file()?.clone();
    if !file.unset(key) {
        return Ok(Output::Text(format!(
            "{key} is not set in {}",
            file.path.display()
        )));
    }
    file.save()?;
    Ok(Output::Text(format!(
        "Removed {key} from {}",
        file.path.display()
    )))
}

/// `config set <KEY> <VALUE>` with a secret key: the value is a secret (the REPL masks
/// it in its history).
fn secret_values(matches: &ArgMatches) -> Vec<String> {
    let Some(("set", set)) = matches.subcommand() else {
        return Vec::new();
    };
    let given = |id: &str| set.try_get_one::<String>(id).ok().flatten();
    match (given("key"), given("value")) {
        (Some(key), Some(value)) if key_spec(key).is_some_and(|k| k.secret) && value != "-" => {
            vec![value.clone()]
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

    #[test]
    fn validation_rejects_unknown_formats_and_bad_urls() {
        assert!(validate("output_format", "json").is_ok());
        assert_eq!(
            validate("output_format", "xml").map_err(|e| e.exit.code()),
            Err(2)
        );
        assert_eq!(
            validate("base_url", "not a url").map_err(|e| e.exit.code()),
            Err(2)
        );
        assert_eq!(validate("api_key", " ").map_err(|e| e.exit.code()), Err(2));
        assert!(crate::config::KEYS
            .iter()
            .all(|k| key_names().contains(&k.name)));
    }
}
