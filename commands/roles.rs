//! `roles list|show|edit`: the saved roles in ~/.config/cometapi/roles/NAME.md that
//! `chat --role NAME` uses (a system prompt after an optional front matter setting
//! `model`, `temperature` and `description`). `edit` opens `$VISUAL` or `$EDITOR`
//! (else `vi`), creating the file from a template, and checks it afterwards.

use std::path::Path;
use std::process::Command;

use clap::{Arg, ArgMatches};
use serde_json::Value;

use crate::cli::context::{env_var, Context};
use crate::cli::registry::CommandSpec;
use crate::error::{CliError, Result};
use crate::output::{Cell, Column, Outcome, Output, Record, Table};
use crate::store::files;
use crate::store::roles::{self, Role};

const TEMPLATE: &str = "---\n# model: gpt-5.4\n# temperature: 0.7\n# description: what this role is for\n---\nYou are a helpful assistant.\n";

fn args(cmd: clap::Command) -> clap::Command {
    let name = || {
        Arg::new("name")
            .value_name("NAME")
            .required(true)
            .help("Role name (the file NAME.md)")
    };
    cmd.subcommand_required(true)
        .after_help("Roles live in ~/.config/cometapi/roles/NAME.md: an optional front matter between `---` lines (model, temperature, description), then the system prompt.")
        .subcommand(clap::Command::new("list").about("List the saved roles"))
        .subcommand(clap::Command::new("show").about("Show a role: its settings and system prompt").arg(name()))
        .subcommand(clap::Command::new("edit").about("Edit a role in $VISUAL or $EDITOR (created from a template when new)").arg(name()))
}

/// What `roles` was asked to do, read once from its arguments.
#[derive(Debug, PartialEq)]
enum Verb {
    List,
    Show { name: String },
    Edit { name: String },
}

impl Verb {
    fn from_matches(m: &ArgMatches) -> Result<Verb> {
        let name = |m: &ArgMatches| m.get_one::<String>("name").cloned().unwrap_or_default();
        match m.subcommand() {
            Some(("show", m)) => Ok(Verb::Show { name: name(m) }),
            Some(("edit", m)) => Ok(Verb::Edit { name: name(m) }),
            Some(("list", _)) => Ok(Verb::List),
            _ => Err(CliError::usage("name a subcommand: list, show or edit")),
        }
    }
}

fn run(_: &Context, m: &ArgMatches) -> Result<Outcome> {
    let output = match Verb::from_matches(m)? {
        Verb::Show { name } => show(&name)?,
        Verb::Edit { name } => edit(&name)?,
        Verb::List => list(),
    };
    Ok(output.into())
}

fn list() -> Output {
    let mut table = Table::new(
        vec![
            Column::new("name", "Name"),
            Column::new("model", "Model").droppable(2),
            Column::new("temperature", "Temperature").droppable(1),
            Column::new("description", "Description").truncates(),
        ],
        "No roles yet; create one with `cometapi roles edit NAME`.",
    );
    for name in roles::names() {
        // A role that does not parse is still listed, saying why.
        let (model, temperature, description) = match roles::load(&name) {
            Ok(role) => (
                Cell::new(role.model),
                Cell::new(role.temperature),
                Cell::new(role.description.unwrap_or_else(|| first_line(&role.prompt))),
            ),
            Err(err) => (
                Cell::new(Value::Null),
                Cell::new(Value::Null),
                Cell::new(format!("invalid: {}", err.message)),
            ),
        };
        table.push(vec![Cell::new(name), model, temperature, description]);
    }
    Output::Table(table)
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

fn show(name: &str) -> Result<Output> {
    let role = roles::load(name)?;
    Ok(Output::Record(record(name, &role)?))
}

fn record(name: &str, role: &Role) -> Result<Record> {
    Ok(Record::new()
        .field("name", "Name", name)
        .field("path", "Path", roles::path_of(name)?.display().to_string())
        .field("model", "Model", role.model.clone())
        .field("temperature", "Temperature", role.temperature)
        .field("description", "Description", role.description.clone())
        .field("prompt", "System prompt", role.prompt.clone()))
}

fn edit(name: &str) -> Result<Output> {
    let path = roles::path_of(name)?;
    if !path.exists() {
        files::write_private(&path, TEMPLATE.as_bytes())
            .map_err(|e| CliError::failure(format!("cannot create {}: {e}", path.display())))?;
    }
    open_editor(&path)?;
    let role = roles::load(name)?;
    Ok(Output::Record(record(name, &role)?))
}

/// Runs `$VISUAL`, else `$EDITOR`, else `vi` on `path` and waits for it. The variable may
/// hold arguments (`code --wait`), split as a shell would.
fn open_editor(path: &Path) -> Result<()> {
    let editor = env_var("VISUAL")
        .or_else(|| env_var("EDITOR"))
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    let words = shlex::split(&editor)
        .filter(|w| !w.is_empty())
        .ok_or_else(|| CliError::usage(format!("cannot read the editor command `{editor}`")))?;
    let status = Command::new(&words[0])
        .args(&words[1..])
        .arg(path)
        .status()
        .map_err(|e| CliError::failure(format!("cannot run the editor `{editor}`: {e}")))?;
    if !status.success() {
        return Err(CliError::failure(format!(
            "the editor `{editor}` failed ({status}); {} is left as it is",
            path.display()
        )));
    }
    Ok(())
}

inventory::submit! {
    CommandSpec::new("roles", "List, show and edit saved roles for chat --role", run)
        .with_args(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(argv: &[&str]) -> std::result::Result<Result<Verb>, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Verb::from_matches(&m))
    }

    #[test]
    fn each_subcommand_reads_into_its_verb() {
        let verb = |argv: &[&str]| parse(argv).expect("parses").expect("a verb");
        assert_eq!(verb(&["list"]), Verb::List);
        let name = "coder".to_string();
        assert_eq!(verb(&["show", "coder"]), Verb::Show { name: name.clone() });
        assert_eq!(verb(&["edit", "coder"]), Verb::Edit { name });
        assert!(parse(&["show"]).is_err(), "show needs a name");
        assert!(parse(&[]).is_err(), "a subcommand is required");
    }

    #[test]
    fn matches_without_a_subcommand_are_a_usage_error() {
        let m = clap::Command::new("roles").get_matches_from(["roles"]);
        let err = Verb::from_matches(&m).expect_err("no subcommand");
        assert_eq!(err.exit.code(), 2);
    }
}
