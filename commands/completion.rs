//! `completion <SHELL>`: print the completion script built from the clap tree.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches};
use clap_complete::Shell;

use crate::cli::completion;
use crate::cli::context::Context;
use crate::cli::registry::CommandSpec;
use crate::error::{CliError, Result};
use crate::output::{Outcome, Output};

/// What `completion` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    shell: Shell,
}

impl Options {
    /// The shells come from `completion::SHELLS`, so the name is checked against them.
    fn from_matches(m: &ArgMatches) -> Result<Options> {
        let name = m
            .get_one::<String>("shell")
            .ok_or_else(|| CliError::usage("name a shell"))?;
        Ok(Options {
            shell: completion::parse_shell(name)?,
        })
    }
}

fn run(_: &Context, m: &ArgMatches) -> Result<Outcome> {
    print_script(&Options::from_matches(m)?)
}

fn print_script(options: &Options) -> Result<Outcome> {
    let script = completion::script(options.shell);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn options(argv: &[&str]) -> Result<Options, String> {
        let m = crate::cli::registry::test_matches(args, argv).map_err(|e| e.kind().to_string())?;
        Options::from_matches(&m).map_err(|e| e.message)
    }

    #[test]
    fn the_shell_is_read_and_an_unknown_one_rejected() {
        assert_eq!(options(&["zsh"]), Ok(Options { shell: Shell::Zsh }));
        assert_eq!(
            options(&["powershell"]),
            Ok(Options {
                shell: Shell::PowerShell
            })
        );
        assert!(options(&["tcsh"]).is_err());
        assert!(options(&[]).is_err());
    }
}
