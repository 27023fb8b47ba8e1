//! `logs --request-id`: one request's detail card, found by the operator's indexed
//! lookup when the account may use it, else in one bounded page of its own logs.

use serde_json::Value;

use super::{fields, Query};
use crate::api::web_console;
use crate::cli::context::Context;
use crate::error::{CliError, ExitCode, Result};
use crate::output::{Outcome, Output};

/// Entries `--request-id` scans when the indexed operator lookup is not available.
const SCAN_PAGE_SIZE: &str = "100";

pub(super) fn by_request_id(ctx: &Context, id: &str, filters: &Query) -> Result<Outcome> {
    let found = match indexed_lookup(ctx, id, filters)? {
        Some(log) => Some(log),
        None => recent_scan(ctx, id, filters)?,
    };
    match found {
        Some(log) => Ok(Output::Record(fields::card(&log)).into()),
        None => Err(
            CliError::failure(format!("no log found for request id {id}")).with_hint(format!(
                "only the newest {SCAN_PAGE_SIZE} log entries matching the filters were searched \
                 (the indexed lookup needs operator access); narrow the time range with \
                 --start/--end, or add --model or --type"
            )),
        ),
    }
}

/// The operator endpoint `GET /api/log/` indexes request ids. Ordinary accounts are
/// refused there (401/403 or `success: false`): that is not an error, only a miss.
/// An unreachable service is an error, so it is not tried twice.
fn indexed_lookup(ctx: &Context, id: &str, filters: &Query) -> Result<Option<Value>> {
    let mut query: Query = vec![
        ("request_id", Some(id.to_string())),
        ("p", Some("1".to_string())),
        ("page_size", Some("1".to_string())),
    ];
    query.extend(filters.iter().cloned());
    match web_console::get(ctx, "log/", &query) {
        Ok(data) => Ok(exact_match(web_console::items(data), id)),
        Err(err) if matches!(err.exit, ExitCode::AuthRejected | ExitCode::Failure) => Ok(None),
        Err(err) => Err(err),
    }
}

/// One bounded page of the account's own logs, newest first.
fn recent_scan(ctx: &Context, id: &str, filters: &Query) -> Result<Option<Value>> {
    let mut query: Query = vec![
        ("p", Some("1".to_string())),
        ("page_size", Some(SCAN_PAGE_SIZE.to_string())),
    ];
    query.extend(filters.iter().cloned());
    let logs = web_console::items(web_console::get(ctx, "log/self", &query)?);
    Ok(exact_match(logs, id))
}

fn exact_match(logs: Vec<Value>, id: &str) -> Option<Value> {
    logs.into_iter()
        .find(|log| log.get("request_id").and_then(Value::as_str) == Some(id))
}
