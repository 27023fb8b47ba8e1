//! `account`: the account profile from `/api/user/self`.

use clap::ArgMatches;
use serde_json::Value;

use crate::api::web_console;
use crate::cli::context::Context;
use crate::cli::registry::{CommandSpec, Credential};
use crate::config::secret::mask;
use crate::error::Result;
use crate::output::{Cell, Outcome, Output, Record};

/// Fields of the server's record that are credentials, masked even in `--json`.
const SECRET_FIELDS: [&str; 2] = ["access_token", "password"];

fn run(ctx: &Context, _: &ArgMatches) -> Result<Outcome> {
    let mut user = web_console::get(ctx, "user/self", &[])?;
    for field in SECRET_FIELDS {
        if let Some(value) = user
            .get_mut(field)
            .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
        {
            *value = Value::String(mask(value.as_str().unwrap_or_default()));
        }
    }
    let get = |k: &str| user.get(k).cloned().unwrap_or(Value::Null);
    let role = get("role");
    let status = get("status");
    let record = Record::new()
        .field("id", "ID", get("id"))
        .field("username", "Username", get("username"))
        .field("display_name", "Display name", get("display_name"))
        .field("email", "Email", get("email"))
        .field(
            "role",
            "Role",
            Cell::with_text(role.clone(), role_name(&role)),
        )
        .field(
            "status",
            "Status",
            Cell::with_text(status.clone(), status_name(&status)),
        )
        .field("group", "Group", get("group"))
        .field(
            "request_count",
            "Requests",
            Cell::count(get("request_count")),
        )
        .with_raw(user);
    Ok(Output::Record(record).into())
}

fn role_name(role: &Value) -> String {
    match role.as_i64() {
        Some(1) => "user".into(),
        Some(10) => "admin".into(),
        Some(100) => "root".into(),
        _ => crate::output::display(role),
    }
}

fn status_name(status: &Value) -> String {
    match status.as_i64() {
        Some(1) => "enabled".into(),
        Some(2) => "disabled".into(),
        _ => crate::output::display(status),
    }
}

inventory::submit! {
    CommandSpec::new("account", "Show the account profile", run)
        .needs(Credential::AccessToken)
}
