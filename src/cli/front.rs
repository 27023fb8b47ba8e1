//! The clap front end, built from the registries: one subcommand per registered
//! command, and `--format` accepting exactly the registered formatter names.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{value_parser, Arg, ArgAction};

use crate::cli::registry::{self, Credential};

const AFTER_HELP: &str = "\
Settings come from flags, then COMETAPI_* environment variables, then the config file
(`cometapi config path`). Run `cometapi doctor` to check them.

Exit codes: 0 ok, 1 error, 2 invalid arguments, 64 setting missing, 69 service
unavailable, 77 authentication rejected, 78 config file unreadable, 130 interrupted.";

/// The root command with every registered command under it. A command name that is
/// not built in parses as an external subcommand (a plugin, see `plugins.rs`); a
/// missing command is reported by `app`, so that `--install-completion` works alone.
pub fn build() -> clap::Command {
    build_with_help(AFTER_HELP.to_string())
}

/// [`build`] with a "Plugins:" section in the root help (see `plugins::help_section`).
pub fn build_with_plugins(section: Option<String>) -> clap::Command {
    match section {
        Some(section) => build_with_help(format!("{section}\n\n{AFTER_HELP}")),
        None => build(),
    }
}

fn build_with_help(after_help: String) -> clap::Command {
    let root = clap::Command::new("cometapi")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A fast, dependable command-line client for the CometAPI gateway")
        .arg_required_else_help(true)
        .allow_external_subcommands(true)
        .external_subcommand_value_parser(value_parser!(OsString))
        .after_help(after_help)
        .args(global_args())
        .arg(
            Arg::new("install_completion")
                .long("install-completion")
                .value_name("SHELL")
                .num_args(0..=1)
                .require_equals(false)
                .value_parser(PossibleValuesParser::new(
                    crate::cli::completion::INSTALLABLE,
                ))
                .help("Install tab completion for bash, zsh or fish (default: from $SHELL)"),
        );
    // A command's arguments are added only when clap needs them (it was asked for, or
    // the whole tree is introspected): building all 26 was a third of start-up.
    registry::commands().iter().fold(root, |root, spec| {
        let mut cmd = clap::Command::new(spec.name)
            .about(spec.about)
            .aliases(spec.hidden_aliases);
        if spec.credential != Credential::None {
            cmd = cmd.after_help(format!("Needs: {}.", spec.credential.describe()));
        }
        root.subcommand(cmd.defer(spec.args))
    })
}

/// A clap value parser for ids and text that must not be empty or only blanks
/// (`-m ""` would otherwise reach the server as an empty model).
/// `-m/--model MODEL`, never blank: the model option every request-making command has.
pub fn model_arg(help: &'static str) -> Arg {
    Arg::new("model")
        .short('m')
        .long("model")
        .value_name("MODEL")
        .value_parser(non_blank)
        .help(help)
}

/// `--force`: replace an existing output file.
pub fn force_arg(help: &'static str) -> Arg {
    Arg::new("force")
        .long("force")
        .action(ArgAction::SetTrue)
        .help(help)
}

pub fn non_blank(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Err("must not be empty".to_string())
    } else {
        Ok(value.to_string())
    }
}

/// The registered formatters as clap values, each with its one-line about (shown in
/// `--help` and in the REPL's completion menu).
pub fn format_values() -> PossibleValuesParser {
    PossibleValuesParser::new(
        registry::formatters()
            .iter()
            .map(|f| PossibleValue::new(f.name).help(f.about)),
    )
}

/// Options accepted before or after any command name, listed under their own
/// heading so a command's help shows its own options apart from these.
fn global_args() -> Vec<Arg> {
    let args = vec![
        Arg::new("format")
            .short('f')
            .long("format")
            .value_name("FORMAT")
            .value_parser(format_values())
            .global(true)
            .help("Output format"),
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Shortcut for --format json"),
        Arg::new("base_url")
            .long("base-url")
            .value_name("URL")
            .global(true)
            .help("API base URL for this run [env: COMETAPI_BASE_URL]"),
        Arg::new("config")
            .long("config")
            .value_name("PATH")
            .value_parser(value_parser!(PathBuf))
            .global(true)
            .help("Config file to use [env: COMETAPI_CONFIG]"),
        Arg::new("verbose")
            .short('v')
            .long("verbose")
            .action(ArgAction::Count)
            .global(true)
            .help("Trace HTTP requests and retries to stderr; -vv adds bodies (secrets redacted)"),
        Arg::new("timeout")
            .long("timeout")
            .value_name("DURATION")
            .value_parser(|text: &str| crate::config::timeout::parse(text))
            .global(true)
            .help("Time limit of each request, retries included: 30s, 2m, 1.5 (seconds) [env: COMETAPI_TIMEOUT, default: 60s]")
            .long_help(
                "Time limit of each request, retries and their pauses included: 30s, 2m, 1m30s, \
                 500ms, or a number of seconds. A reply that is not streamed must arrive whole \
                 within it; a streamed reply must start within it, and then no gap between two \
                 pieces may be longer. Also the environment variable COMETAPI_TIMEOUT and the \
                 config key `timeout`. Default 60s. For the job commands (video, midjourney, \
                 music) --timeout on the command line is the limit of the whole wait for the \
                 job instead (default 30m; exit 124 when it runs out).",
            ),
        Arg::new("no_color")
            .long("no-color")
            .action(ArgAction::SetTrue)
            .global(true)
            .help("Never use colour (also when NO_COLOR is set)"),
    ];
    args.into_iter()
        .map(|arg| arg.help_heading(GLOBAL_HEADING))
        .collect()
}

/// The help heading of [`global_args`].
const GLOBAL_HEADING: &str = "Global options";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_tree_is_valid_and_lists_every_command() {
        let cmd = build();
        cmd.clone().debug_assert();
        let subcommands: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        let registered: Vec<&str> = registry::commands().iter().map(|c| c.name).collect();
        assert_eq!(subcommands, registered);
    }

    #[test]
    fn format_accepts_exactly_the_registered_formatters() {
        let cmd = build();
        let format = cmd
            .get_arguments()
            .find(|a| a.get_id() == "format")
            .expect("--format exists");
        let accepted: Vec<String> = format
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        let registered: Vec<String> = registry::formatter_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(accepted, registered);
    }
}
