//! `doctor`: check the config file, credentials and the service, and say what to fix.

use clap::ArgMatches;

use crate::api::base_url::BaseUrl;
use crate::api::envelope::console_get;
use crate::cli::context::Context;
use crate::cli::registry::{self, CommandSpec, Credential};
use crate::config::settings::Setting;
use crate::config::Key;
use crate::error::{CliError, ExitCode, Result};
use crate::net::{Auth, Http, KeyHeader};
use crate::output::{Cell, Column, Outcome, Output, Table, Tone};

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
                    Column::new("detail", "Detail").wraps(),
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

fn run(ctx: &Context, _: &ArgMatches) -> Result<Outcome> {
    let mut checks = Checks::new();
    checks.add(
        "version",
        Status::Ok,
        format!("cometapi {}", env!("CARGO_PKG_VERSION")),
    );
    if !check_config_file(ctx, &mut checks) {
        return Ok(checks.finish());
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
        format!("{base} ({})", settings.get(Key::BaseUrl).source),
    );
    let key = settings.get(Key::ApiKey);
    let token = settings.get(Key::AccessToken);
    check_credentials(key, token, &mut checks);
    let http = ctx.http()?;
    let reached = check_service_and_key(http, &base, key, &mut checks);
    check_token(http, &base, token, reached, &mut checks);
    Ok(checks.finish())
}

/// False when the config file cannot be read, which ends the checks.
fn check_config_file(ctx: &Context, checks: &mut Checks) -> bool {
    let path = ctx.config_path.display();
    let file = match ctx.config_file() {
        Ok(file) => file,
        Err(err) => {
            checks.add("config file", Status::Fail(err.exit), err.message);
            return false;
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
    true
}

fn check_credentials(key: &Setting, token: &Setting, checks: &mut Checks) {
    match key.secret() {
        Some(_) => checks.add("API key", Status::Ok, describe(key)),
        None => checks.add(
            "API key",
            Status::Fail(ExitCode::ConfigMissing),
            "not set: set COMETAPI_KEY or run `cometapi init`",
        ),
    }
    match token.secret() {
        Some(_) => checks.add("access token", Status::Ok, describe(token)),
        None => checks.add(
            "access token",
            Status::Warn,
            format!("not set (needed by {})", token_commands().join(", ")),
        ),
    }
}

/// The commands that declare they need the access token, from the registry.
fn token_commands() -> Vec<&'static str> {
    registry::commands()
        .iter()
        .filter(|spec| spec.credential == Credential::AccessToken)
        .map(|spec| spec.name)
        .collect()
}

/// An error's message and hint, without hints to run doctor (this is doctor).
fn explain(err: &CliError) -> String {
    match err
        .hint
        .as_deref()
        .filter(|h| !h.contains("cometapi doctor"))
    {
        Some(hint) => format!("{} ({hint})", err.message),
        None => err.message.clone(),
    }
}

/// One request answers two questions: can we reach the service, and is the key good?
/// Only a JSON reply accepts the key: an HTML 200 (a login page, a wrong base URL) does not.
/// Returns whether the server answered at all.
fn check_service_and_key(http: &Http, base: &BaseUrl, key: &Setting, checks: &mut Checks) -> bool {
    let auth = key
        .secret()
        .map(|k| Auth::ApiKey(k, KeyHeader::Bearer))
        .unwrap_or(Auth::None);
    let reply = http.get_json(&base.v1("models"), auth);
    let reached = !matches!(&reply, Err(err) if err.exit == ExitCode::Unavailable);
    match &reply {
        Err(err) if !reached => checks.add("service", Status::Fail(err.exit), explain(err)),
        _ => checks.add("service", Status::Ok, format!("{base} answers")),
    }
    match (key.secret(), &reply) {
        (None, _) => checks.add("API key valid", Status::Skip, "no API key to test"),
        (Some(_), _) if !reached => {
            checks.add("API key valid", Status::Skip, "service not reached")
        }
        (Some(_), Ok(_)) => checks.add("API key valid", Status::Ok, "GET /v1/models accepted it"),
        (Some(_), Err(err)) if err.exit == ExitCode::AuthRejected => checks.add(
            "API key valid",
            Status::Fail(ExitCode::AuthRejected),
            format!("rejected: {}", err.message),
        ),
        (Some(_), Err(err)) => checks.add(
            "API key valid",
            Status::Fail(err.exit),
            format!("not confirmed: the server answered {}", explain(err)),
        ),
    }
    reached
}

fn check_token(http: &Http, base: &BaseUrl, token: &Setting, reached: bool, checks: &mut Checks) {
    const CHECK: &str = "access token valid";
    let Some(secret) = token.secret() else {
        return checks.add(CHECK, Status::Skip, "no access token to test");
    };
    if !reached {
        return checks.add(CHECK, Status::Skip, "service not reached");
    }
    match console_get(http, &base.console("user/self"), Auth::AccessToken(secret)) {
        Ok(user) => {
            let name = user.get("username").and_then(|v| v.as_str()).unwrap_or("?");
            checks.add(CHECK, Status::Ok, format!("signed in as {name}"));
        }
        // Not a verdict on the token: this server has no CometAPI console.
        Err(err) if err.message.starts_with("HTTP 404 ") => checks.add(
            CHECK,
            Status::Warn,
            "not available on this server (no /api/user/self)",
        ),
        Err(err) if err.exit == ExitCode::AuthRejected => {
            checks.add(
                CHECK,
                Status::Fail(err.exit),
                format!("rejected: {}", err.message),
            );
        }
        Err(err) => checks.add(
            CHECK,
            Status::Fail(err.exit),
            format!("not confirmed: {}", explain(&err)),
        ),
    }
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
