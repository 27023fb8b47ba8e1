//! `completion <SHELL>`: print the completion script built from the clap tree.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches};

use crate::cli::completion;
use crate::cli::context::Context;
use crate::cli::registry::CommandSpec;
use crate::error::{CliError, Result};
use crate::output::{Outcome, Output};

fn run(_: &Context, matches: &ArgMatches) -> Result<Outcome> {
    let name = matches
        .get_one::<String>("shell")
        .ok_or_else(|| CliError::usage("name a shell"))?;
    let script = completion::script(completion::parse_shell(name)?);
    let text = String::from_utf8_lossy(&script).trim_end().to_string();
    Ok(Output::Text(text).into())
}

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("shell")
            .value_name("SHELL")
            .required(true)
            .value_parser(PossibleValuesParser::new(completion::SHELLS))
            .help("Shell to print the script for"),
    )
    .after_help("Or install it where your shell looks: `cometapi --install-completion [SHELL]`.")
}

inventory::submit! {
    CommandSpec::new("completion", "Print the shell completion script (bash, zsh, fish, powershell, elvish)", run)
        .with_args(args)
}
