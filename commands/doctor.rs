//! `doctor`: check the config file, credentials and the service, and say what to fix.

use clap::ArgMatches;

use crate::context::Context;
use crate::error::{ExitCode, Result};
use crate::http::{Auth, KeyHeader, Request};
use crate::output::{Cell, Column, Outcome, Output, Table, Tone};
use crate::registry::CommandSpec;
use crate::settings::Setting;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Ok,
    Warn,
    Fail(ExitCode),
    Skip,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail(_) => "fail",
            Status::Skip => "skip",
        }
    }

    fn tone(self) -> Tone {
        match self {
            Status::Ok => Tone::Good,
            Status::Warn => Tone::Warn,
            Status::Fail(_) => Tone::Bad,
            Status::Skip => Tone::Dim,
        }
    }
}

/// When several checks fail, the exit code names the most basic problem first.
const EXIT_PRIORITY: [ExitCode; 6] = [
    ExitCode::ConfigUnreadable,
    ExitCode::ConfigMissing,
    ExitCode::Unavailable,
    ExitCode::AuthRejected,
    ExitCode::Usage,
    ExitCode::Failure,
];

struct Checks {
    table: Table,
    failures: Vec<ExitCode>,
}

impl Checks {
    fn new() -> Self {
        Checks {
            table: Table::new(
                vec![
                    Column::new("check", "Check"),
                    Column::new("status", "Status"),
                    Column::new("detail", "Detail"),
                ],
                "No checks ran.",
            ),
            failures: Vec::new(),
        }
    }

    fn add(&mut self, check: &str, status: Status, detail: impl Into<String>) {
        if let Status::Fail(code) = status {
            self.failures.push(code);
        }
        self.table.push(vec![
            Cell::new(check),
            Cell::new(status.word()).tone(status.tone()),
            Cell::new(detail.into()),
        ]);
    }

    fn finish(self) -> Outcome {
        let exit = EXIT_PRIORITY
            .into_iter()
            .find(|code| self.failures.contains(code))
            .unwrap_or(ExitCode::Success);
        Outcome::with_exit(Output::Table(self.table), exit)
    }
}

#[allow(clippy::too_many_lines)] // to split by check: issue 8, item 22
fn run(ctx: &Context, _: &ArgMatches) -> Result<Outcome> {
    let mut checks = Checks::new();
    checks.add(
        "version",
        Status::Ok,
        format!("cometapi {}", env!("CARGO_PKG_VERSION")),
    );
    let path = ctx.config_path.display();
    let file = match ctx.config_file() {
        Ok(file) => file,
        Err(err) => {
            checks.add("config file", Status::Fail(err.exit), err.message);
            return Ok(checks.finish());
        }
    };
    if !file.exists {
        checks.add(
            "config file",
            Status::Warn,
            format!("{path} does not exist (optional; `cometapi init` creates it)"),
        );
    } else if let Some(mode) = loose_permissions(&file.path) {
        checks.add(
            "config file",
            Status::Warn,
            format!("{path} is readable by others (mode {mode:o}); run chmod 600"),
        );
    } else {
        checks.add(
            "config file",
            Status::Ok,
            format!("{path} ({})", ctx.config_path_source),
        );
    }

    let settings = ctx.settings()?;
    let base = match ctx.base_url() {
        Ok(base) => base,
        Err(err) => {
            checks.add("base URL", Status::Fail(err.exit), err.message);
            return Ok(checks.finish());
        }
    };
    checks.add(
        "base URL",
        Status::Ok,
        format!("{base} ({})", settings.get("base_url").source),
    );

    let key = settings.get("api_key");
    match key.secret() {
        Some(_) => checks.add("API key", Status::Ok, describe(key)),
        None => checks.add(
            "API key",
            Status::Fail(ExitCode::ConfigMissing),
            "not set: set COMETAPI_KEY or run `cometapi init`",
        ),
    }
    let token = settings.get("access_token");
    match token.secret() {
        Some(_) => checks.add("access token", Status::Ok, describe(token)),
        None => checks.add(
            "access token",
            Status::Warn,
            "not set (needed by account, stats, tokens, logs, tasks)",
        ),
    }

    let http = ctx.http()?;
    // One request answers two questions: can we reach the service, and is the key good?
    let auth = key
        .secret()
        .map(|k| Auth::ApiKey(k, KeyHeader::Bearer))
        .unwrap_or(Auth::None);
    let reply = http.send(&Request::get(base.v1("models"), auth)).map(drop);
    let reached = match &reply {
        Ok(()) => true,
        Err(err) => err.exit == ExitCode::AuthRejected,
    };
    match &reply {
        Err(err) if !reached => {
            let hint = err
                .hint
                .as_ref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            checks.add(
                "service",
                Status::Fail(err.exit),
                format!("{}{hint}", err.message),
            );
        }
        _ => checks.add("service", Status::Ok, format!("{base} answers")),
    }
    match (key.secret(), &reply) {
        (None, _) => checks.add("API key valid", Status::Skip, "no API key to test"),
        (Some(_), _) if !reached => {
            checks.add("API key valid", Status::Skip, "service not reached")
        }
        (Some(_), Ok(())) => checks.add("API key valid", Status::Ok, "GET /v1/models accepted it"),
        (Some(_), Err(err)) => checks.add(
            "API key valid",
            Status::Fail(ExitCode::AuthRejected),
            format!("rejected: {}", err.message),
        ),
    }

    match token.secret() {
        Some(_) if !reached => {
            checks.add("access token valid", Status::Skip, "service not reached")
        }
        Some(secret) => {
            match http.console_get(&base.console("user/self"), Auth::AccessToken(secret)) {
                Ok(user) => {
                    let name = user.get("username").and_then(|v| v.as_str()).unwrap_or("?");
                    checks.add(
                        "access token valid",
                        Status::Ok,
                        format!("signed in as {name}"),
                    );
                }
                Err(err) => checks.add(
                    "access token valid",
                    Status::Fail(err.exit),
                    format!("rejected: {}", err.message),
                ),
            }
        }
        None => checks.add(
            "access token valid",
            Status::Skip,
            "no access token to test",
        ),
    }
    Ok(checks.finish())
}

fn describe(setting: &Setting) -> String {
    format!(
        "{} ({})",
        setting.display().unwrap_or_default(),
        setting.source
    )
}

/// The file's mode when group or others may read it.
#[cfg(unix)]
fn loose_permissions(path: &std::path::Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_permissions(_: &std::path::Path) -> Option<u32> {
    None
}

inventory::submit! {
    CommandSpec::new("doctor", "Check configuration, credentials and connectivity", run)
}
