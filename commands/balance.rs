//! `balance`: the account balance from the console, or the API key's billing view.

use std::io::Write;

use clap::{Arg, ArgMatches};
use serde_json::Value;

use crate::api::money::{quota_to_usd, unlimited_cell, usd_cell};
use crate::api::web_console;
use crate::cli::app;
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader};
use crate::output::{Cell, Outcome, Output, Record};
use crate::term::sanitize;

/// `hard_limit_usd` at or above this means the key has no limit.
const UNLIMITED_USD: f64 = 100_000_000.0;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("source")
            .long("source")
            .value_name("SOURCE")
            .value_parser(clap::value_parser!(Source))
            .ignore_case(true)
            .help(
                "account: the whole account (access token); key (or token): this API key's billing",
            ),
    )
    .after_help(
        "Without --source: the account view when an access token is set, else (or if that \
         fails) the API key's billing view.",
    )
}

/// Which balance `--source` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Source {
    Account,
    #[value(alias = "token")]
    Key,
}

/// What `balance` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// `None`: the account when an access token is set, else the key.
    source: Option<Source>,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            source: m.get_one::<Source>("source").copied(),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    show_balance(ctx, &Options::from_matches(m))
}

fn show_balance(ctx: &Context, options: &Options) -> Result<Outcome> {
    let record = match options.source {
        Some(Source::Account) => account_balance(ctx)?,
        Some(Source::Key) => key_balance(ctx)?,
        None if ctx.access_token().is_err() => key_balance(ctx)?,
        None => match account_balance(ctx) {
            Ok(record) => record,
            // The key's view is a fallback only when there is a key to use.
            Err(err) if ctx.api_key().is_ok() => {
                let why = app::redacted(err, ctx).message;
                let _ = writeln!(
                    ctx.streams().err(),
                    "note: account balance unavailable ({}); showing the API key's billing",
                    sanitize::for_terminal(&why, ctx.streams().stderr_is_terminal())
                );
                key_balance(ctx)?
            }
            Err(err) => return Err(err),
        },
    };
    Ok(Output::Record(record).into())
}

/// From `/api/user/self`: quota left, quota used, and their sum (all ever topped up).
fn account_balance(ctx: &Context) -> Result<Record> {
    let user = web_console::get(ctx, "user/self", &[])?;
    let number = |k: &str| user.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let (quota, used) = (number("quota"), number("used_quota"));
    Ok(Record::new()
        .field(
            "source",
            "Source",
            Cell::with_text("account", "account (/api/user/self)"),
        )
        .field("currency", "Currency", "USD")
        .field(
            "balance",
            "Available balance",
            usd_cell(quota_to_usd(quota)),
        )
        .field("used", "Used", usd_cell(quota_to_usd(used)))
        .field(
            "total_topped_up",
            "Total topped up",
            usd_cell(quota_to_usd(quota + used)),
        ))
}

const SUBSCRIPTION: &str = "dashboard/billing/subscription";
const USAGE: &str = "dashboard/billing/usage";

/// A number the billing reply must carry: a reply without it (a console `success:false`,
/// `{}`) is an error with the server's message, never a limit of $0.00.
fn billing_number(reply: &Value, field: &str, path: &str) -> Result<f64> {
    if let Some(number) = reply.get(field).and_then(Value::as_f64) {
        return Ok(number);
    }
    let message = reply
        .get("message")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map_or_else(|| format!("the reply has no `{field}`"), str::to_string);
    Err(CliError::failure(format!("{message} (/v1/{path})")))
}

/// From the OpenAI-style billing endpoints: the key's limit and what it has used (in cents).
fn key_balance(ctx: &Context) -> Result<Record> {
    let key = ctx.api_key()?;
    let base = ctx.base_url()?;
    let http = ctx.http()?;
    let auth = Auth::ApiKey(&key, KeyHeader::Bearer);
    let subscription = http.get_json(&base.v1(SUBSCRIPTION), auth)?;
    let limit = billing_number(&subscription, "hard_limit_usd", SUBSCRIPTION)?;
    let usage = http.get_json(&base.v1(USAGE), auth)?;
    let used = billing_number(&usage, "total_usage", USAGE)? / 100.0;
    let unlimited = limit >= UNLIMITED_USD;
    let (limit_cell, balance_cell) = if unlimited {
        (unlimited_cell(), unlimited_cell())
    } else {
        (usd_cell(limit), usd_cell(limit - used))
    };
    Ok(Record::new()
        .field(
            "source",
            "Source",
            Cell::with_text("key", "API key (/v1/dashboard/billing)"),
        )
        .field("currency", "Currency", "USD")
        .field("limit", "Limit", limit_cell)
        .field("used", "Used", usd_cell(used))
        .field("balance", "Available balance", balance_cell)
        .field(
            "unlimited",
            "Unlimited",
            Cell::with_text(unlimited, if unlimited { "yes" } else { "no" }),
        ))
}

inventory::submit! {
    CommandSpec::new("balance", "Show the account balance (or this API key's)", run)
        .needs(Credential::Either)
        .with_args(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(argv: &[&str]) -> Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn the_source_is_read_with_its_alias_in_any_case() {
        assert_eq!(options(&[]).ok(), Some(Options { source: None }));
        for (given, source) in [
            ("account", Source::Account),
            ("Account", Source::Account),
            ("key", Source::Key),
            ("token", Source::Key),
            ("TOKEN", Source::Key),
        ] {
            let read = options(&["--source", given]).ok();
            assert_eq!(
                read,
                Some(Options {
                    source: Some(source)
                }),
                "{given}"
            );
        }
    }

    #[test]
    fn an_unknown_source_is_rejected() {
        let err = options(&["--source", "wallet"]).err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(clap::error::ErrorKind::InvalidValue)
        );
    }
}
