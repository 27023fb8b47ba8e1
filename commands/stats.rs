//! `stats`: this month's usage statistics from `/api/user/self/stats`.

use clap::ArgMatches;
use serde_json::Value;

use crate::api::money::usd_cell;
use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::Result;
use crate::output::{Cell, Outcome, Output, Record};

fn run(ctx: &Context, _: &ArgMatches) -> Result<Outcome> {
    let stats = web_console::get(ctx, "user/self/stats", &[])?;
    let get = |k: &str| stats.get(k).cloned().unwrap_or(Value::Null);
    let record = Record::new()
        .field(
            "requests",
            "Requests this month",
            Cell::count(get("month_req_count")),
        )
        .field(
            "request_rate_change",
            "Requests vs last month",
            change(get("req_rate")),
        )
        .field(
            "usage_usd",
            "Usage this month",
            get("month_usage")
                .as_f64()
                .map_or_else(|| Cell::new(Value::Null), usd_cell),
        )
        .field(
            "usage_rate_change",
            "Usage vs last month",
            change(get("usage_rate")),
        )
        .field(
            "success_rate",
            "Success rate",
            percent(get("month_success_rate")),
        )
        .field(
            "predicted_days_left",
            "Predicted days left",
            get("predicted_days"),
        );
    Ok(Output::Record(record).into())
}

/// `99.1%`; the value stays the number the server sent.
fn percent(value: Value) -> Cell {
    match value.as_f64() {
        Some(p) => Cell::with_text(value, format!("{p:.1}%")),
        None => Cell::new(value),
    }
}

/// `+12.5%` or `-8.3%`, signed so the direction reads at a glance.
fn change(value: Value) -> Cell {
    match value.as_f64() {
        Some(p) => Cell::with_text(value, format!("{p:+.1}%")),
        None => Cell::new(value),
    }
}

inventory::submit! {
    CommandSpec::new("stats", "Show this month's usage statistics", run)
        .needs(Credential::AccessToken)
}
