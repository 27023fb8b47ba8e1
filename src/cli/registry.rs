//! The command and formatter registries. Each module in `commands/` and
//! `formatters/` submits one entry with `inventory::submit!`; everything that
//! lists commands or formats (clap, help, completion, the REPL) reads them here.

use std::io::{self, Write};
use std::sync::OnceLock;

use clap::ArgMatches;

use crate::cli::context::Context;
use crate::error::Result;
use crate::output::{Outcome, Output};

/// Which credential a command needs before it can run. The front end checks it,
/// so a command never starts without what it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    None,
    ApiKey,
    AccessToken,
    /// The access token or the API key (for example `balance`).
    Either,
}

impl Credential {
    pub fn describe(self) -> &'static str {
        match self {
            Credential::None => "none",
            Credential::ApiKey => "API key",
            Credential::AccessToken => "access token",
            Credential::Either => "access token or API key",
        }
    }
}

pub struct CommandSpec {
    pub name: &'static str,
    pub about: &'static str,
    pub credential: Credential,
    /// Adds the command's arguments and subcommands to `clap::Command::new(name)`.
    pub args: fn(clap::Command) -> clap::Command,
    pub run: fn(&Context, &ArgMatches) -> Result<Outcome>,
    /// The values in the command's own matches that are secrets, for the REPL to mask
    /// in its history (see `shell::mask`). Only the command knows which of its values
    /// are secret, so it declares them; the default is none.
    pub secret_values: fn(&ArgMatches) -> Vec<String>,
    /// Ids of arguments, anywhere under this command, whose value is a model id: the
    /// REPL completes them from the cached catalog.
    pub model_id_args: &'static [&'static str],
    /// Other names the command answers to, never listed (help and completion show the
    /// registry's names only).
    pub hidden_aliases: &'static [&'static str],
}

impl CommandSpec {
    /// A command with no options of its own that needs no credential; the `const`
    /// builder methods below declare the rest, so a new property is one method here
    /// and a registration names only what differs from the default.
    pub const fn new(
        name: &'static str,
        about: &'static str,
        run: fn(&Context, &ArgMatches) -> Result<Outcome>,
    ) -> CommandSpec {
        CommandSpec {
            name,
            about,
            credential: Credential::None,
            args: no_args,
            run,
            secret_values: no_secrets,
            model_id_args: &[],
            hidden_aliases: &[],
        }
    }

    /// The credential the front end checks before `run`.
    pub const fn needs(mut self, credential: Credential) -> CommandSpec {
        self.credential = credential;
        self
    }

    /// Adds the command's arguments and subcommands.
    pub const fn with_args(mut self, args: fn(clap::Command) -> clap::Command) -> CommandSpec {
        self.args = args;
        self
    }

    /// Declares which of the command's argument values are secrets (see
    /// [`CommandSpec::secret_values`]).
    pub const fn secret_values(mut self, values: fn(&ArgMatches) -> Vec<String>) -> CommandSpec {
        self.secret_values = values;
        self
    }

    /// Declares the arguments whose value is a model id (see [`CommandSpec::model_id_args`]).
    pub const fn model_id_args(mut self, ids: &'static [&'static str]) -> CommandSpec {
        self.model_id_args = ids;
        self
    }

    /// Declares other names for the command (see [`CommandSpec::hidden_aliases`]).
    pub const fn hidden_aliases(mut self, names: &'static [&'static str]) -> CommandSpec {
        self.hidden_aliases = names;
        self
    }
}

fn no_args(cmd: clap::Command) -> clap::Command {
    cmd
}

fn no_secrets(_: &ArgMatches) -> Vec<String> {
    Vec::new()
}

inventory::collect!(CommandSpec);

/// A command's own matches for `argv` (the words after its name), as `run` receives
/// them: how a command's unit tests read its options without the whole front end.
#[cfg(test)]
pub fn test_matches(
    args: fn(clap::Command) -> clap::Command,
    argv: &[&str],
) -> std::result::Result<ArgMatches, clap::Error> {
    args(clap::Command::new("test"))
        .try_get_matches_from(std::iter::once("test").chain(argv.iter().copied()))
}

/// How a formatter is asked to render.
#[derive(Clone, Copy, Debug)]
pub struct RenderOptions {
    /// ANSI colour allowed: stdout is a terminal and neither `NO_COLOR` nor `--no-color` is set.
    pub color: bool,
    /// stdout is a terminal: draw borders and fit its width; otherwise plain aligned columns.
    pub terminal: bool,
    /// The terminal's width in columns (`fit::terminal_width`); only used on a terminal.
    pub width: usize,
}

impl RenderOptions {
    /// Piped output: no colour, no borders.
    pub const PLAIN: RenderOptions = RenderOptions {
        color: false,
        terminal: false,
        width: 80,
    };
}

pub struct FormatterSpec {
    pub name: &'static str,
    pub about: &'static str,
    pub render: fn(&Output, &RenderOptions, &mut dyn Write) -> io::Result<()>,
    /// Renders typed data (`json`, `yaml`): commands give it whole records instead of
    /// streaming text, and errors are reported in the same form when it is `json`.
    pub structured: bool,
}

impl FormatterSpec {
    pub const fn new(
        name: &'static str,
        about: &'static str,
        render: fn(&Output, &RenderOptions, &mut dyn Write) -> io::Result<()>,
    ) -> FormatterSpec {
        FormatterSpec {
            name,
            about,
            render,
            structured: false,
        }
    }

    /// Marks a format of typed data (see [`FormatterSpec::structured`]).
    pub const fn structured(mut self) -> FormatterSpec {
        self.structured = true;
        self
    }
}

inventory::collect!(FormatterSpec);

/// Every command, sorted by name.
pub fn commands() -> &'static [&'static CommandSpec] {
    static SORTED: OnceLock<Vec<&'static CommandSpec>> = OnceLock::new();
    SORTED.get_or_init(|| {
        sorted(inventory::iter::<CommandSpec>.into_iter().collect(), |c| {
            c.name
        })
    })
}

/// Every formatter, sorted by name.
pub fn formatters() -> &'static [&'static FormatterSpec] {
    static SORTED: OnceLock<Vec<&'static FormatterSpec>> = OnceLock::new();
    SORTED.get_or_init(|| {
        sorted(
            inventory::iter::<FormatterSpec>.into_iter().collect(),
            |f| f.name,
        )
    })
}

pub fn command(name: &str) -> Option<&'static CommandSpec> {
    commands().iter().copied().find(|c| c.name == name)
}

pub fn formatter(name: &str) -> Option<&'static FormatterSpec> {
    formatters().iter().copied().find(|f| f.name == name)
}

pub fn formatter_names() -> Vec<&'static str> {
    formatters().iter().map(|f| f.name).collect()
}

fn sorted<T>(mut items: Vec<&'static T>, name: fn(&T) -> &'static str) -> Vec<&'static T> {
    items.sort_by_key(|item| name(item));
    debug_assert!(
        duplicates(items.iter().map(|i| name(i))).is_empty(),
        "duplicate registry names"
    );
    items
}

/// Names that occur more than once in a sorted sequence.
pub fn duplicates<'a>(sorted_names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let names: Vec<&str> = sorted_names.collect();
    let mut dups: Vec<&str> = names
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    dups.dedup();
    dups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_sorted_unique_and_documented() {
        let names: Vec<&str> = commands().iter().map(|c| c.name).collect();
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "commands sorted and unique: {names:?}"
        );
        for spec in commands() {
            assert!(
                !spec.about.trim().is_empty(),
                "command {} has no about",
                spec.name
            );
        }
        let formats = formatter_names();
        assert!(
            formats.windows(2).all(|w| w[0] < w[1]),
            "formatters sorted and unique: {formats:?}"
        );
        for spec in formatters() {
            assert!(
                !spec.about.trim().is_empty(),
                "formatter {} has no about",
                spec.name
            );
        }
    }

    #[test]
    fn duplicates_are_found() {
        let names = ["a", "b", "b", "c", "c", "c"];
        assert_eq!(duplicates(names.into_iter()), vec!["b", "c"]);
    }

    /// Every file in `commands/` and `formatters/` (but `mod.rs`) was compiled as a module
    /// (`automod` reads the directory the build script listed) and registers exactly one
    /// entry named after it (`_` read as `-`): a file dropped in is a command, with no
    /// other file to edit.
    #[test]
    fn every_module_file_is_compiled_and_registered() {
        let root = env!("CARGO_MANIFEST_DIR");
        let built = |list: &'static str| -> Vec<String> {
            list.split(',').map(|s| s.replace('_', "-")).collect()
        };
        let commands_built = built(env!("COMETAPI_BUILT_COMMANDS"));
        assert_eq!(commands_built, module_stems(&format!("{root}/commands")));
        let registered: Vec<&str> = commands().iter().map(|c| c.name).collect();
        assert_eq!(
            registered, commands_built,
            "commands/*.rs vs registered commands"
        );
        let formatters_built = built(env!("COMETAPI_BUILT_FORMATTERS"));
        assert_eq!(
            formatters_built,
            module_stems(&format!("{root}/formatters"))
        );
        assert_eq!(
            formatter_names(),
            formatters_built,
            "formatters/*.rs vs registered formats"
        );
    }

    fn module_stems(dir: &str) -> Vec<String> {
        let mut stems: Vec<String> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {dir}: {e}"))
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().into_string().ok()?;
                let stem = name.strip_suffix(".rs")?;
                (stem != "mod").then(|| stem.replace('_', "-"))
            })
            .collect();
        stems.sort();
        assert!(!stems.is_empty(), "{dir} has no modules");
        stems
    }
}
