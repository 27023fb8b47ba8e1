//! `tokens`: list and search the account's API keys. A key is always shown masked
//! (`****` + last 4), in every format: the full key never leaves this module.

use clap::{Arg, ArgMatches};
use serde_json::Value;

use crate::api::money;
use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::config::secret::mask;
use crate::error::Result;
use crate::output::dates::timestamp_cell;
use crate::output::{Cell, Column, Outcome, Output, Table, Tone};

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("search")
            .long("search")
            .value_name("TEXT")
            .value_parser(front::non_blank)
            .help("Only keys whose name or key contains TEXT (searched by the server)"),
    )
    .args(web_console::page_args())
}

/// What `tokens` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    search: Option<String>,
    /// The page's query parameters, and the page and its size.
    page_query: [(&'static str, Option<String>); 2],
    page: Option<(u32, u32)>,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        Options {
            search: m.get_one::<String>("search").cloned(),
            page_query: web_console::page_query(m),
            page: web_console::page_of(m),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    list(ctx, &Options::from_matches(m))
}

fn list(ctx: &Context, options: &Options) -> Result<Outcome> {
    let (tokens, total) = match &options.search {
        Some(keyword) => search(ctx, keyword, options.page)?,
        None => web_console::page(web_console::get(ctx, "token/", &options.page_query)?),
    };
    Ok(Output::Table(table(&tokens).listed(total, options.page)).into())
}

/// `/api/token/search` takes only the keyword and returns every match at once,
/// so `--page` and `--page-size` are applied here (and the total is every match).
fn search(
    ctx: &Context,
    keyword: &str,
    page: Option<(u32, u32)>,
) -> Result<(Vec<Value>, Option<u64>)> {
    let data = web_console::get(
        ctx,
        "token/search",
        &[("keyword", Some(keyword.to_string()))],
    )?;
    let (page, size) = page.map_or((1, 20), |(p, n)| (p as usize, n as usize));
    let matches = web_console::items(data);
    let total = matches.len() as u64;
    let shown = matches
        .into_iter()
        .skip(page.saturating_sub(1).saturating_mul(size))
        .take(size)
        .collect();
    Ok((shown, Some(total)))
}

fn table(tokens: &[Value]) -> Table {
    let mut table = Table::new(
        vec![
            Column::new("id", "ID"),
            Column::new("name", "Name").truncates(),
            Column::new("key", "Key").droppable(4),
            Column::new("status", "Status"),
            Column::new("balance_usd", "Balance"),
            Column::new("used_usd", "Used").droppable(5),
            Column::new("created", "Created").droppable(2),
            Column::new("accessed", "Accessed").droppable(1),
            Column::new("expires", "Expires").droppable(3),
            Column::new("unlimited", "Unlimited").structured_only(),
        ],
        "No tokens found.",
    );
    for token in tokens {
        table.push(row(token));
    }
    table
}

fn row(token: &Value) -> Vec<Cell> {
    let unlimited = is_unlimited(token);
    vec![
        Cell::new(web_console::field(token, "id")),
        Cell::new(web_console::field(token, "name")),
        key_cell(token),
        status_cell(web_console::int_field(token, "status")),
        if unlimited {
            money::unlimited_cell()
        } else {
            money::quota_cell(token.get("remain_quota"))
        },
        money::quota_cell(token.get("used_quota")),
        timestamp_cell(web_console::int_field(token, "created_time")),
        timestamp_cell(web_console::int_field(token, "accessed_time")),
        expires_cell(web_console::int_field(token, "expired_time")),
        Cell::new(unlimited),
    ]
}

/// The masked key; the server's full key is dropped here and goes nowhere else.
fn key_cell(token: &Value) -> Cell {
    match token.get("key").and_then(Value::as_str) {
        Some(key) if !key.is_empty() => Cell::new(mask(key)),
        _ => Cell::new(Value::Null),
    }
}

fn status_cell(code: i64) -> Cell {
    let (word, tone) = match code {
        1 => ("active", Tone::Good),
        2 => ("disabled", Tone::Warn),
        3 => ("expired", Tone::Warn),
        4 => ("exhausted", Tone::Bad),
        _ => ("unknown", Tone::Dim),
    };
    Cell::new(word).tone(tone)
}

/// The console marks a key without a spending cap either way.
fn is_unlimited(token: &Value) -> bool {
    token.get("unlimited_quota").and_then(Value::as_bool) == Some(true)
        || token
            .get("remain_quota")
            .and_then(Value::as_f64)
            .is_some_and(|q| q < 0.0)
}

/// `-1` is the console's "never expires".
fn expires_cell(unix: i64) -> Cell {
    if unix == -1 {
        Cell::with_text(Value::Null, "Never")
    } else {
        timestamp_cell(unix)
    }
}

inventory::submit! {
    CommandSpec::new("tokens", "List and search API keys (always masked)", run)
        .needs(Credential::AccessToken)
        .with_args(args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(argv: &[&str]) -> std::result::Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn the_search_and_the_page_are_read() {
        let expected = Options {
            search: Some("ci".into()),
            page_query: [("p", Some("3".into())), ("page_size", Some("5".into()))],
            page: Some((3, 5)),
        };
        let argv = ["--search", "ci", "--page", "3", "--limit", "5"];
        assert_eq!(parse(&argv).expect("parses"), expected);
        let plain = parse(&[]).expect("parses");
        assert_eq!((plain.search, plain.page), (None, Some((1, 20))));
        assert!(parse(&["--page", "0"]).is_err(), "pages count from 1");
        assert!(parse(&["--page-size", "1001"]).is_err(), "at most 1000");
    }

    #[test]
    fn rows_mask_the_key_and_read_the_console_codes() {
        let key = "sk-abcdefghijklmnopqrstuvwxyz0123";
        let cells = row(&json!({
            "id": 7, "name": "n", "key": key, "status": 4, "remain_quota": -1,
            "used_quota": 750_000, "created_time": 0, "expired_time": -1,
        }));
        assert_eq!(cells[2].value, json!("****0123"));
        assert!(cells
            .iter()
            .all(|c| !c.text.contains(key) && !c.value.to_string().contains(key)));
        assert_eq!(
            (cells[3].text.as_str(), cells[3].tone),
            ("exhausted", Tone::Bad)
        );
        assert_eq!(
            (cells[4].text.as_str(), &cells[4].value),
            ("Unlimited", &Value::Null)
        );
        assert_eq!(
            (cells[5].text.as_str(), &cells[5].value),
            ("$1.50", &json!(1.5))
        );
        assert_eq!(cells[6].text, "-");
        assert_eq!(
            (cells[8].text.as_str(), &cells[8].value),
            ("Never", &Value::Null)
        );
        assert_eq!(cells[9].value, json!(true));
    }

    #[test]
    fn odd_records_do_not_panic() {
        for odd in [json!(null), json!("x"), json!({"key": 5, "status": "1"})] {
            let cells = row(&odd);
            assert_eq!(cells[2].text, "-");
            assert_eq!(cells[3].text, "unknown");
        }
    }
}
