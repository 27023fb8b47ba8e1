//! From argv to exit code: parse with the registry-built clap tree, check the
//! command's credential, run it, render its output, map any error.

use std::ffi::OsString;
use std::io::{self, BufWriter, Write};

use clap::error::ErrorKind;
use clap::ArgMatches;

use crate::cli::completion;
use crate::cli::context::{env_var, Context, GlobalArgs};
use crate::cli::front;
use crate::cli::plugins;
use crate::cli::registry::{self, CommandSpec, Credential, RenderOptions};
use crate::error::{CliError, ExitCode, Result};

use crate::output::{Listing, Output, Table};
use crate::term::sanitize;
use crate::term::streams;
use crate::term::style::{BOLD_RED, DIM, YELLOW};

/// Runs the CLI and returns the process exit code.
pub fn main(args: Vec<OsString>) -> u8 {
    let matches = match front::build().try_get_matches_from(&args) {
        Ok(matches) => matches,
        Err(_) if args.len() <= 1 => {
            // A bare `cometapi` asks for the help: `cometapi --help`, on stdout, exit 0.
            let help: Vec<OsString> = args.iter().cloned().chain(["--help".into()]).collect();
            return match front::build().try_get_matches_from(&help) {
                Err(err) => clap_error(with_plugins_in_root_help(err, &help), false, false),
                Ok(_) => ExitCode::Success.code(),
            };
        }
        Err(err) => {
            let no_color = args.iter().any(|a| a == "--no-color");
            let err = with_plugins_in_root_help(err, &args);
            return clap_error(err, asks_for_json(&args), no_color);
        }
    };
    if let Some(named) = install_completion_request(&matches) {
        let json = matches.get_flag("json") || asks_for_json(&args);
        return finish(
            install_completion(named),
            json,
            matches.get_flag("no_color"),
        );
    }
    let Some((name, sub)) = matches.subcommand() else {
        let err = front::build().error(
            ErrorKind::MissingSubcommand,
            "no command given; see `cometapi --help`",
        );
        return clap_error(
            err,
            asks_for_json(&args),
            args.iter().any(|a| a == "--no-color"),
        );
    };
    let ctx = Context::new(GlobalArgs::from_matches(&matches));
    let result = match registry::command(name) {
        Some(spec) => dispatch(&ctx, spec, sub).map(ExitCode::code),
        None => run_plugin(&ctx, name, sub),
    };
    let result = result.map_err(|err| redacted(err, &ctx));
    finish(result, ctx.wants_json(), ctx.globals.no_color)
}

/// The last line of defence before an error is shown: the configured key and token,
/// and anything shaped like a key (`sk-…`), masked wherever they got into it. The
/// cause is folded into the message (its whole chain under `--verbose`) to be masked too.
pub fn redacted(err: CliError, ctx: &Context) -> CliError {
    let (key, token) = (ctx.api_key().ok(), ctx.access_token().ok());
    let known: Vec<&crate::config::secret::Secret> = key.iter().chain(token.iter()).collect();
    let mask = |text: &str| crate::config::secret::redact(text, &known).into_owned();
    CliError {
        message: mask(&err.describe(ctx.globals.verbose > 0)),
        hint: err.hint.as_deref().map(mask),
        cause: None,
        ..err
    }
}

/// The exit code of a finished run; an error is reported first.
fn finish(result: Result<u8>, json: bool, no_color: bool) -> u8 {
    match result {
        Ok(code) => code,
        Err(err) if err.is_quiet_success() => ExitCode::Success.code(),
        Err(err) => {
            report(&err, json, no_color);
            err.exit.code()
        }
    }
}

/// The root help lists plugins in its own section. Only the root help scans `PATH`,
/// so every other run (subcommand help included) starts without touching the disk.
fn with_plugins_in_root_help(err: clap::Error, args: &[OsString]) -> clap::Error {
    let help = matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    );
    if !help
        || !err
            .render()
            .to_string()
            .contains("Usage: cometapi [OPTIONS] [COMMAND]")
    {
        return err;
    }
    let section = plugins::help_section(&plugins::discover());
    if section.is_none() {
        return err;
    }
    match front::build_with_plugins(section).try_get_matches_from(args) {
        Err(with_plugins) => with_plugins,
        Ok(_) => err,
    }
}

/// `Some(None)` for a bare `--install-completion`, `Some(Some(shell))` when named.
fn install_completion_request(matches: &ArgMatches) -> Option<Option<String>> {
    matches.value_source("install_completion")?;
    Some(matches.get_one::<String>("install_completion").cloned())
}

fn install_completion(named: Option<String>) -> Result<u8> {
    let shell = completion::detect(named.as_deref(), env_var("SHELL").as_deref())?;
    let home =
        dirs::home_dir().ok_or_else(|| CliError::failure("cannot find your home directory"))?;
    let installed = completion::install(shell, &home, env_var)?;
    let next = installed
        .note
        .unwrap_or_else(|| "Start a new shell to use it.".to_string());
    let message = format!(
        "Installed {} completion in {}\n{next}\n",
        installed.shell,
        installed.path.display()
    );
    // A closed pipe is exit 0 quietly (via `finish`); a full disk is exit 1.
    let mut out = io::stdout().lock();
    out.write_all(message.as_bytes())
        .and_then(|()| out.flush())
        .map_err(CliError::from_output)?;
    Ok(ExitCode::Success.code())
}

/// Exit 2 naming the closest command or plugin when the name looks like a typo.
fn unknown_command(name: &str) -> CliError {
    let plugins = plugins::discover();
    let names = registry::commands()
        .iter()
        .map(|c| c.name)
        .chain(plugins.iter().map(|p| p.name.as_str()));
    let hint = match crate::cli::suggest::closest(name, names) {
        Some(close) => {
            format!("did you mean `{close}`? See `cometapi --help` for commands and plugins")
        }
        None => "see `cometapi --help` for commands and plugins".to_string(),
    };
    CliError::usage(format!("unknown command `{name}`")).with_hint(hint)
}

/// Runs `cometapi-<name>` from `PATH` with the resolved base URL, output format and
/// config path in its environment (no secret is added; the environment passes through).
fn run_plugin(ctx: &Context, name: &str, sub: &ArgMatches) -> Result<u8> {
    let path = plugins::find(name).ok_or_else(|| unknown_command(name))?;
    let args: Vec<OsString> = sub
        .get_many::<OsString>("")
        .map(|values| values.cloned().collect())
        .unwrap_or_default();
    let env = [
        ("COMETAPI_BASE_URL", OsString::from(ctx.base_url()?.base())),
        (
            "COMETAPI_OUTPUT_FORMAT",
            OsString::from(ctx.formatter().name),
        ),
        ("COMETAPI_CONFIG", ctx.config_path.clone().into_os_string()),
    ];
    plugins::run(&path, &args, &env)
}

fn dispatch(ctx: &Context, spec: &CommandSpec, sub: &ArgMatches) -> Result<ExitCode> {
    require(ctx, spec.credential)?;
    let formatter = ctx.formatter();
    if let Some(warning) = ctx.format_warning() {
        let _ = writeln!(ctx.streams().err(), "warning: {warning}"); // a closed stderr is no reason to stop
    }
    let mut outcome = (spec.run)(ctx, sub)?;
    if outcome.output != Output::Empty {
        let streams = ctx.streams();
        let options = RenderOptions {
            color: streams.color(),
            terminal: streams.stdout_is_terminal(),
            width: streams.width(),
        };
        if options.terminal {
            sanitize::neutralise_output(&mut outcome.output);
        }
        let mut out = BufWriter::new(streams.out());
        (formatter.render)(&outcome.output, &options, &mut out)
            .and_then(|()| out.flush())
            .map_err(CliError::from_output)?;
    }
    if let Output::Table(Table {
        listing: Some(listing),
        ..
    }) = &outcome.output
    {
        note_listing(listing, ctx.globals.no_color);
    }
    Ok(outcome.exit)
}

/// `showing 20 of 250, page 1/13` on stderr, dim, for people only: nothing when stderr
/// is not a terminal, so scripts and logs see the data alone, and nothing after
/// "No logs found." when nothing matched at all.
fn note_listing(listing: &Listing, no_color: bool) {
    let nothing_at_all = listing.shown == 0 && listing.total.unwrap_or(0) == 0;
    if nothing_at_all || !streams::process_terminals().stderr {
        return;
    }
    let note = DIM.paint(listing, stderr_color(no_color));
    let _ = writeln!(io::stderr(), "{note}"); // a closed stderr is no reason to fail
}

/// Colour on stderr: a terminal, and neither `--no-color` nor `NO_COLOR`.
fn stderr_color(no_color: bool) -> bool {
    !no_color && streams::process_terminals().stderr && env_var("NO_COLOR").is_none()
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
            print_clap(&err, no_color); // a closed pipe while printing help is not an error
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
            print_clap(&err, no_color);
            ExitCode::Usage.code()
        }
    }
}

/// Prints clap's help or error where clap would, without styling under `--no-color`
/// or `NO_COLOR` (clap's `StyledStr` displays as plain text).
fn print_clap(err: &clap::Error, no_color: bool) {
    if !no_color && env_var("NO_COLOR").is_none() {
        let _ = err.print();
        return;
    }
    let text = err.render().to_string();
    let _ = if err.use_stderr() {
        io::stderr().lock().write_all(text.as_bytes())
    } else {
        io::stdout().lock().write_all(text.as_bytes())
    };
}

/// `error: ...` and `hint: ...` on stderr, or `{"error": {...}}` when JSON is wanted.
pub fn report(err: &CliError, json: bool, no_color: bool) {
    let mut stderr = io::stderr().lock();
    if json {
        let body = serde_json::json!({
            "error": {"code": err.exit.code(), "message": err.describe(false), "hint": err.hint}
        });
        let body = body.to_string();
        let _ = writeln!(stderr, "{}", sanitize::escape_json_controls(&body));
        return;
    }
    let colour = stderr_color(no_color);
    let message = err.describe(false);
    let _ = writeln!(
        stderr,
        "{} {}",
        BOLD_RED.paint("error:", colour),
        sanitize::for_stderr(&message)
    );
    if let Some(hint) = &err.hint {
        let _ = writeln!(
            stderr,
            "{} {}",
            YELLOW.paint("hint:", colour),
            sanitize::for_stderr(hint)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::streams::{Captured, Streams, Terminals};

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

    fn dispatched(terminals: Option<Terminals>) -> Captured {
        fn run(_: &Context, _: &ArgMatches) -> Result<crate::output::Outcome> {
            Ok(Output::Text("a\u{1b}]0;pwned\u{7}b".to_string()).into())
        }
        let spec = CommandSpec::new("t", "a command that prints server text", run);
        let (streams, captured) = Streams::test();
        let streams = match terminals {
            Some(terminals) => streams.with_terminals(terminals, 100),
            None => streams,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = Context::for_test(streams, dir.path()); // no config file: table format
        let exit = dispatch(&ctx, &spec, &ArgMatches::default()).expect("runs");
        assert_eq!(exit, ExitCode::Success);
        captured
    }

    #[test]
    fn piped_output_is_byte_for_byte_and_a_terminal_sees_it_neutralised() {
        let piped = dispatched(None);
        assert_eq!(piped.stdout(), "a\u{1b}]0;pwned\u{7}b\n");
        let all = Terminals {
            stdin: true,
            stdout: true,
            stderr: true,
        };
        let shown = dispatched(Some(all)).stdout();
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
        assert!(
            shown.starts_with('a') && shown.contains("pwned"),
            "{shown:?}"
        );
    }
}
