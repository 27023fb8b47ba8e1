//! `logs`: usage logs with filters (`GET /api/log/self`), one request's detail card
//! (`--request-id`, in `logs/lookup.rs`), and the server's CSV export streamed to stdout
//! (`--export`, in `logs/export.rs`); the fields of an entry are in `logs/fields.rs`.

mod export;
mod fields;
mod lookup;

use clap::{value_parser, Arg, ArgAction, ArgMatches, ValueEnum};

use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::Result;
use crate::output::dates;
use crate::output::{Outcome, Output};

/// Query parameters; `None` values are not sent.
type Query = Vec<(&'static str, Option<String>)>;

/// A log's type, in the order the help lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LogType {
    Consume,
    Topup,
    Error,
    Refund,
    System,
    Manage,
    Unknown,
}

impl LogType {
    /// The number the server uses for the type.
    fn number(self) -> i64 {
        match self {
            LogType::Consume => 2,
            LogType::Topup => 1,
            LogType::Error => 5,
            LogType::Refund => 6,
            LogType::System => 4,
            LogType::Manage => 3,
            LogType::Unknown => 0,
        }
    }
}

/// The name of a type number a log carries; an unknown number as itself.
fn type_name(number: i64) -> String {
    LogType::value_variants()
        .iter()
        .find(|kind| kind.number() == number)
        .and_then(|kind| kind.to_possible_value())
        .map_or_else(|| number.to_string(), |value| value.get_name().to_string())
}

fn args(cmd: clap::Command) -> clap::Command {
    // A blank filter is exit 2, not a filter silently dropped.
    let text = |id: &'static str, long: &'static str, value: &'static str, help: &'static str| {
        Arg::new(id)
            .long(long)
            .value_name(value)
            .value_parser(front::non_blank)
            .help(help)
    };
    cmd.arg(text("model", "model", "MODEL", "Only this model (exact name)").short('m'))
        .arg(text(
            "token_name",
            "token-name",
            "NAME",
            "Only requests made with the API key of this name",
        ))
        .arg(
            Arg::new("type")
                .long("type")
                .value_name("TYPE")
                .value_parser(value_parser!(LogType))
                .ignore_case(true)
                .help("Only this type"),
        )
        .arg(text(
            "start",
            "start",
            "DATE",
            "From this time (UTC): YYYY-MM-DD (start of the day), ISO 8601 or Unix seconds",
        ))
        .arg(text(
            "end",
            "end",
            "DATE",
            "Until this time (UTC): YYYY-MM-DD (end of the day), ISO 8601 or Unix seconds",
        ))
        .arg(text("group", "group", "GROUP", "Only this group").short('g'))
        .args(web_console::page_args())
        .arg(
            Arg::new("detail")
                .long("detail")
                .action(ArgAction::SetTrue)
                .help("Add the request id and pricing ratio columns"),
        )
        .arg(text(
            "request_id",
            "request-id",
            "ID",
            "Show one request's detail card (ids are in the X-Cometapi-Request-Id header)",
        ))
        .arg(
            Arg::new("export")
                .long("export")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["request_id", "page", "page_size"])
                .help("Stream the server's CSV export of the matching logs to stdout (all pages; --format does not apply)"),
        )
}

/// What `logs` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// The filter parameters shared by the list, the request-id lookup and the export.
    filters: Query,
    /// The page's query parameters, and the page and its size for the listing.
    page_query: [(&'static str, Option<String>); 2],
    page: Option<(u32, u32)>,
    detail: bool,
    request_id: Option<String>,
    export: bool,
}

impl Options {
    /// Fails (exit 2) on a bad `--start`/`--end` or a start after the end.
    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let text = |id: &str| m.get_one::<String>(id).map(|s| s.trim().to_string());
        let kind = m.get_one::<LogType>("type").map(|kind| kind.number());
        let (start, end) = dates::range(m)?;
        Ok(Options {
            filters: vec![
                ("type", kind.map(|k| k.to_string())),
                ("model_name", text("model")),
                ("token_name", text("token_name")),
                ("start_timestamp", start.map(|s| s.to_string())),
                ("end_timestamp", end.map(|e| e.to_string())),
                ("group", text("group")),
            ],
            page_query: web_console::page_query(m),
            page: web_console::page_of(m),
            detail: m.get_flag("detail"),
            request_id: text("request_id"),
            export: m.get_flag("export"),
        })
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    logs(ctx, &Options::from_matches(m)?)
}

fn logs(ctx: &Context, options: &Options) -> Result<Outcome> {
    if options.export {
        return export::export(ctx, &options.filters);
    }
    if let Some(id) = &options.request_id {
        return lookup::by_request_id(ctx, id, &options.filters);
    }
    let mut query: Query = options.page_query.clone().into();
    query.extend(options.filters.iter().cloned());
    let (logs, total) = web_console::page(web_console::get(ctx, "log/self", &query)?);
    let table = fields::table(&logs, options.detail).listed(total, options.page);
    Ok(Output::Table(table).into())
}

inventory::submit! {
    CommandSpec::new("logs", "Usage logs: filter, export as CSV, or look up one request", run)
        .needs(Credential::AccessToken)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(argv: &[&str]) -> std::result::Result<Result<Options>, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    fn options(argv: &[&str]) -> Options {
        parse(argv).expect("parses").expect("options")
    }

    #[test]
    fn types_map_to_server_numbers_case_insensitively() {
        let kind = |name: &str| options(&["--type", name]).filters[0].1.clone();
        assert_eq!(kind("Consume").as_deref(), Some("2"));
        assert_eq!(kind("TOPUP").as_deref(), Some("1"));
        assert_eq!(kind("unknown").as_deref(), Some("0"));
        let err = parse(&["--type", "spend"]).expect_err("invalid");
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(err
            .to_string()
            .contains("consume, topup, error, refund, system, manage, unknown"));
        assert_eq!(type_name(6), "refund");
        assert_eq!(type_name(9), "9");
    }

    #[test]
    fn filters_and_modes_are_read_once() {
        let got = options(&[
            "-m",
            " gpt-5.4 ",
            "--token-name",
            "ci",
            "-g",
            "vip",
            "--detail",
            "--page",
            "2",
            "-l",
            "5",
            "--request-id",
            "req-1",
        ]);
        assert_eq!(got.filters[1], ("model_name", Some("gpt-5.4".into())));
        assert_eq!(got.filters[2], ("token_name", Some("ci".into())));
        assert_eq!(got.filters[5], ("group", Some("vip".into())));
        assert_eq!(got.page, Some((2, 5)));
        assert!(got.detail && !got.export);
        assert_eq!(got.request_id.as_deref(), Some("req-1"));
        assert!(options(&["--export"]).export);
        let conflict = parse(&["--export", "--page", "2"]).expect_err("conflicts");
        assert_eq!(conflict.kind(), ErrorKind::ArgumentConflict);
    }

    #[test]
    fn a_blank_filter_is_refused_not_dropped() {
        for flag in ["--model", "--token-name", "--group", "--request-id"] {
            let err = parse(&[flag, " "]).expect_err(flag);
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{flag}");
        }
        let bad_date = parse(&["--start", "yesterday"]).expect("parses");
        assert_eq!(bad_date.expect_err("bad date").exit.code(), 2);
    }
}
