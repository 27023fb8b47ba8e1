//! From argv to exit code: parse with the registry-built clap tree, check the
//! command's credential, run it, render its output, map any error.

use std::ffi::OsString;
use std::io::{self, BufWriter, IsTerminal, Write};

use clap::error::ErrorKind;
use clap::ArgMatches;

use crate::cli;
use crate::context::{env_var, Context, GlobalArgs};
use crate::error::{CliError, ExitCode, Result};
use crate::output::Output;
use crate::registry::{self, Credential, RenderOptions};

/// Runs the CLI and returns the process exit code.
pub fn main(args: Vec<OsString>) -> u8 {
    let matches = match cli::build().try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(err) => {
            let no_color = args.iter().any(|a| a == "--no-color");
            return clap_error(err, asks_for_json(&args), no_color);
        }
    };
    let ctx = Context::new(GlobalArgs::from_matches(&matches));
    match dispatch(&ctx, &matches) {
        Ok(exit) => exit.code(),
        Err(err) if err.is_broken_pipe() => ExitCode::Success.code(),
        Err(err) => {
            report(&err, ctx.wants_json(), ctx.globals.no_color);
            err.exit.code()
        }
    }
}

fn dispatch(ctx: &Context, matches: &ArgMatches) -> Result<ExitCode> {
    let (name, sub) = matches
        .subcommand()
        .ok_or_else(|| CliError::usage("no command given; see `cometapi --help`"))?;
    let spec = registry::command(name)
        .ok_or_else(|| CliError::usage(format!("unknown command `{name}`")))?;
    require(ctx, spec.credential)?;
    let formatter = ctx.formatter();
    if let Some(warning) = ctx.format_warning() {
        eprintln!("warning: {warning}");
    }
    let outcome = (spec.run)(ctx, sub)?;
    if outcome.output != Output::Empty {
        let options = RenderOptions {
            color: ctx.color(),
            terminal: io::stdout().is_terminal(),
        };
        let mut out = BufWriter::new(io::stdout().lock());
        (formatter.render)(&outcome.output, &options, &mut out)
            .and_then(|()| out.flush())
            .map_err(CliError::from_output)?;
    }
    Ok(outcome.exit)
}

/// Fails with exit 64 before the command runs if its credential is missing.
fn require(ctx: &Context, credential: Credential) -> Result<()> {
    match credential {
        Credential::None => Ok(()),
        Credential::ApiKey => ctx.api_key().map(drop),
        Credential::AccessToken => ctx.access_token().map(drop),
        Credential::Either => match (ctx.access_token(), ctx.api_key()) {
            (Ok(_), _) | (_, Ok(_)) => Ok(()),
            (Err(err), _) if err.exit != ExitCode::ConfigMissing => Err(err),
            _ => Err(CliError::new(
                ExitCode::ConfigMissing,
                "neither an access token nor an API key is configured",
            )
            .with_hint("set COMETAPI_ACCESS_TOKEN or COMETAPI_KEY, or run `cometapi init`")),
        },
    }
}

/// Whether the command line asks for JSON output, read from the raw arguments
/// because a usage error means clap could not parse them.
fn asks_for_json(args: &[OsString]) -> bool {
    let args: Vec<&str> = args.iter().filter_map(|a| a.to_str()).collect();
    args.iter().enumerate().any(|(i, arg)| {
        let next_is_json = args.get(i + 1) == Some(&"json");
        *arg == "--json"
            || *arg == "--format=json"
            || *arg == "-fjson"
            || ((*arg == "--format" || *arg == "-f") && next_is_json)
    })
}

/// Help and version go to stdout with exit 0; usage errors to stderr with exit 2.
fn clap_error(err: clap::Error, json: bool, no_color: bool) -> u8 {
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print(); // a closed pipe while printing help is not an error
            ExitCode::Success.code()
        }
        _ if json => {
            let rendered = err.render().to_string();
            let message = rendered
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches("error: ")
                .to_string();
            let err = CliError::usage(message).with_hint("see `cometapi --help`");
            report(&err, true, no_color);
            ExitCode::Usage.code()
        }
        _ => {
            let _ = err.print();
            ExitCode::Usage.code()
        }
    }
}

/// `error: ...` and `hint: ...` on stderr, or `{"error": {...}}` when JSON is wanted.
pub fn report(err: &CliError, json: bool, no_color: bool) {
    let mut stderr = io::stderr().lock();
    if json {
        let body = serde_json::json!({
            "error": {"code": err.exit.code(), "message": err.message, "hint": err.hint}
        });
        let _ = writeln!(stderr, "{body}");
        return;
    }
    let color = !no_color && io::stderr().is_terminal() && env_var("NO_COLOR").is_none();
    let (red, yellow, reset) = if color {
        ("\x1b[1;31m", "\x1b[33m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let _ = writeln!(stderr, "{red}error:{reset} {}", err.message);
    if let Some(hint) = &err.hint {
        let _ = writeln!(stderr, "{yellow}hint:{reset} {hint}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_recognised_in_every_spelling() {
        let asks =
            |args: &[&str]| asks_for_json(&args.iter().map(OsString::from).collect::<Vec<_>>());
        assert!(asks(&["cometapi", "models", "--json"]));
        assert!(asks(&["cometapi", "-f", "json", "models"]));
        assert!(asks(&["cometapi", "models", "--format=json"]));
        assert!(asks(&["cometapi", "models", "-fjson"]));
        assert!(!asks(&["cometapi", "models", "-f", "yaml", "-s", "json"]));
    }
}
