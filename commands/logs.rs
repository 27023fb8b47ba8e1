//! `logs`: usage logs with filters (`GET /api/log/self`), one request's detail card
//! (`--request-id`, in `logs/lookup.rs`), and the server's CSV export streamed to stdout
//! (`--export`, in `logs/export.rs`); the fields of an entry are in `logs/fields.rs`.

mod export;
mod fields;
mod lookup;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches};

use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::output::dates;
use crate::output::{Outcome, Output};

/// Query parameters; `None` values are not sent.
type Query = Vec<(&'static str, Option<String>)>;

/// Log type names and the numbers the server uses, in the order the help lists them.
const TYPES: [(&str, i64); 7] = [
    ("consume", 2),
    ("topup", 1),
    ("error", 5),
    ("refund", 6),
    ("system", 4),
    ("manage", 3),
    ("unknown", 0),
];

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(Arg::new("model").short('m').long("model").value_name("MODEL").help("Only this model (exact name)"))
        .arg(Arg::new("token_name").long("token-name").value_name("NAME").help("Only requests made with the API key of this name"))
        .arg(Arg::new("type").long("type").value_name("TYPE").value_parser(PossibleValuesParser::new(TYPES.map(|(name, _)| name))).ignore_case(true).help("Only this type"))
        .arg(Arg::new("start").long("start").value_name("DATE").help("From this time (UTC): YYYY-MM-DD (start of the day), ISO 8601 or Unix seconds"))
        .arg(Arg::new("end").long("end").value_name("DATE").help("Until this time (UTC): YYYY-MM-DD (end of the day), ISO 8601 or Unix seconds"))
        .arg(Arg::new("group").short('g').long("group").value_name("GROUP").help("Only this group"))
        .args(web_console::page_args())
        .arg(Arg::new("detail").long("detail").action(ArgAction::SetTrue).help("Add the request id and pricing ratio columns"))
        .arg(Arg::new("request_id").long("request-id").value_name("ID").help("Show one request's detail card (ids are in the X-Cometapi-Request-Id header)"))
        .arg(
            Arg::new("export")
                .long("export")
                .action(ArgAction::SetTrue)
                .conflicts_with_all(["request_id", "page", "page_size"])
                .help("Stream the server's CSV export of the matching logs to stdout (all pages; --format does not apply)"),
        )
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let filters = filters(m)?;
    if m.get_flag("export") {
        return export::export(ctx, &filters);
    }
    if let Some(id) = m.get_one::<String>("request_id") {
        return lookup::by_request_id(ctx, id, &filters);
    }
    let mut query: Query = web_console::page_query(m).into();
    query.extend(filters);
    let (logs, total) = web_console::page(web_console::get(ctx, "log/self", &query)?);
    let table = fields::table(&logs, m.get_flag("detail")).listed(total, web_console::page_of(m));
    Ok(Output::Table(table).into())
}

/// The filter parameters shared by the list, the request-id lookup and the export.
fn filters(m: &ArgMatches) -> Result<Query> {
    let text = |id: &str| {
        m.get_one::<String>(id)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let kind = text("type").map(|t| type_number(&t)).transpose()?;
    let (start, end) = dates::range(m)?;
    Ok(vec![
        ("type", kind.map(|k| k.to_string())),
        ("model_name", text("model")),
        ("token_name", text("token_name")),
        ("start_timestamp", start.map(|s| s.to_string())),
        ("end_timestamp", end.map(|e| e.to_string())),
        ("group", text("group")),
    ])
}

/// `consume` → 2, case-insensitive; anything else is exit 2 naming the valid names.
fn type_number(name: &str) -> Result<i64> {
    let wanted = name.to_ascii_lowercase();
    TYPES
        .iter()
        .find(|(known, _)| *known == wanted)
        .map(|(_, number)| *number)
        .ok_or_else(|| {
            let names: Vec<&str> = TYPES.iter().map(|(known, _)| *known).collect();
            CliError::usage(format!(
                "invalid --type `{name}`: use one of {}",
                names.join(", ")
            ))
        })
}

fn type_name(number: i64) -> String {
    TYPES
        .iter()
        .find(|(_, n)| *n == number)
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| number.to_string())
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

    #[test]
    fn types_map_to_server_numbers_case_insensitively() {
        assert_eq!(type_number("Consume").ok(), Some(2));
        assert_eq!(type_number("TOPUP").ok(), Some(1));
        assert_eq!(type_number("unknown").ok(), Some(0));
        let err = type_number("spend").expect_err("invalid");
        assert_eq!(err.exit.code(), 2);
        assert!(err
            .message
            .contains("consume, topup, error, refund, system, manage, unknown"));
        assert_eq!(type_name(6), "refund");
        assert_eq!(type_name(9), "9");
    }
}
