//! `docs/commands.md` and the man pages in `docs/man/`, generated from the clap tree the
//! parser uses, so the reference cannot drift from `--help`; the README's settings table,
//! generated from the config keys. The tests here fail when a
//! generated file is stale; `UPDATE_DOCS=1 cargo test --lib docgen` rewrites them.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::cli::front;
use crate::cli::registry;
use crate::config::{Kind, KEYS};

/// Help is wrapped at a fixed width so the files do not depend on the terminal.
const WIDTH: usize = 100;

const INTRO: &str = "\
# Command reference

<!-- Generated from the clap tree by `UPDATE_DOCS=1 cargo test --lib docgen`: do not edit.
     Explanations and examples live in guide.md. -->

Every command's `--help`, as this build prints it. Options marked global are accepted
before or after the command name. Examples, settings, retries and exit codes are explained
in [guide.md](guide.md); external `cometapi-<name>` plugins in [plugins.md](plugins.md).
";

/// The clap tree as the docs show it: fixed width, no `help` subcommand, usage resolved.
fn tree() -> clap::Command {
    let mut root = front::build()
        .term_width(WIDTH)
        .max_term_width(WIDTH)
        .disable_help_subcommand(true);
    root.build();
    root
}

/// The whole of `docs/commands.md`.
pub fn commands_markdown() -> String {
    let mut root = tree();
    let mut out = String::from(INTRO);
    out.push_str("\n## `cometapi`\n\n");
    push_help(&mut out, &mut root);
    out.push_str("\n## Output formats\n\n| format | what it prints |\n|---|---|\n");
    for spec in registry::formatters() {
        let _ = writeln!(out, "| `{}` | {} |", spec.name, spec.about);
    }
    for sub in root.get_subcommands_mut() {
        push_command(&mut out, sub, &mut Vec::new());
    }
    out
}

/// A command's section, then its subcommands' sections one heading level deeper.
fn push_command(out: &mut String, cmd: &mut clap::Command, parents: &mut Vec<String>) {
    parents.push(cmd.get_name().to_string());
    let level = "#".repeat(parents.len() + 1);
    let _ = write!(out, "\n{level} `{}`\n\n", parents.join(" "));
    push_help(out, cmd);
    for sub in cmd.get_subcommands_mut() {
        push_command(out, sub, parents);
    }
    parents.pop();
}

fn push_help(out: &mut String, cmd: &mut clap::Command) {
    let help = cmd.render_long_help().to_string();
    let help: Vec<&str> = help.lines().map(str::trim_end).collect();
    let _ = write!(out, "```text\n{}\n```\n", help.join("\n").trim());
}

/// Every man page, by file name: `cometapi.1`, `cometapi-config-set.1`, ...
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let mut pages = Vec::new();
    collect_man_pages(tree(), "cometapi", &mut pages);
    pages
}

fn collect_man_pages(cmd: clap::Command, name: &str, pages: &mut Vec<(String, Vec<u8>)>) {
    for sub in cmd.get_subcommands() {
        let sub_name = format!("{name}-{}", sub.get_name());
        collect_man_pages(sub.clone(), &sub_name, pages);
    }
    let cmd = cmd.name(name.to_string());
    let mut page = Vec::new();
    if let Err(e) = clap_mangen::Man::new(cmd).render(&mut page) {
        panic!("render man page {name}: {e}");
    }
    pages.push((format!("{name}.1"), page));
}

const TABLE_START: &str =
    "<!-- settings: generated from config::KEYS by `UPDATE_DOCS=1 cargo test --lib docgen` -->\n";
const TABLE_END: &str = "<!-- end of settings -->\n";

/// The README's table of settings, one row per config key.
pub fn settings_table() -> String {
    let mut out =
        String::from("| key | environment | default | what it sets |\n|---|---|---|---|\n");
    for key in &KEYS {
        let code = |text: &str| format!("`{text}`");
        let mut env = key.env.map(code).unwrap_or_default();
        if let Some(flag) = key.flag {
            env = format!("{env} (or `{flag}`)").trim_start().to_string();
        }
        let mut default = key.default.map(code).unwrap_or_default();
        if key.kind == Kind::Bool {
            default.push_str(" (a TOML boolean)");
        }
        let _ = writeln!(
            out,
            "| `{}` | {env} | {} | {} |",
            key.name,
            default.trim(),
            key.about
        );
    }
    out
}

/// The README with its settings table regenerated, or `None` without the markers.
fn readme_with_settings(readme: &str) -> Option<String> {
    let (head, rest) = readme.split_once(TABLE_START)?;
    let (_, tail) = rest.split_once(TABLE_END)?;
    Some(format!(
        "{head}{TABLE_START}{}{TABLE_END}{tail}",
        settings_table()
    ))
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

/// Compares a generated file with the one on disk, or writes it under `UPDATE_DOCS=1`.
/// Returns the name when it is stale.
fn check(path: &Path, generated: &[u8]) -> Option<String> {
    if fs::read(path).ok().as_deref() == Some(generated) {
        return None;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {dir:?}: {e}"));
        }
        fs::write(path, generated).unwrap_or_else(|e| panic!("write {path:?}: {e}"));
        return None;
    }
    Some(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STALE: &str = "generated docs are stale; run `UPDATE_DOCS=1 cargo test --lib docgen`";

    #[test]
    fn commands_md_is_generated_from_the_clap_tree() {
        let stale = check(
            &docs_dir().join("commands.md"),
            commands_markdown().as_bytes(),
        );
        assert!(stale.is_none(), "{STALE}: {stale:?}");
    }

    #[test]
    fn man_pages_are_generated_from_the_clap_tree() {
        let dir = docs_dir().join("man");
        let pages = man_pages();
        let stale: Vec<String> = pages
            .iter()
            .filter_map(|(name, page)| check(&dir.join(name), page))
            .collect();
        assert!(stale.is_empty(), "{STALE}: {stale:?}");
        let expected: Vec<&str> = pages.iter().map(|(name, _)| name.as_str()).collect();
        for entry in fs::read_dir(&dir).expect("docs/man") {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if expected.contains(&name.as_str()) {
                continue;
            }
            if std::env::var_os("UPDATE_DOCS").is_some() {
                fs::remove_file(dir.join(&name)).expect("remove stale page");
            } else {
                panic!("{STALE}: docs/man/{name} is not generated by any command");
            }
        }
    }

    #[test]
    fn readme_settings_table_is_generated_from_the_keys() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = fs::read_to_string(&path).expect("README.md");
        let generated = readme_with_settings(&readme).expect("the settings markers in README.md");
        let stale = check(&path, generated.as_bytes());
        assert!(stale.is_none(), "{STALE}: {stale:?}");
    }

    #[test]
    fn settings_table_has_a_row_per_key_and_needs_both_markers() {
        let table = settings_table();
        for key in &KEYS {
            assert!(
                table.contains(&format!("| `{}` |", key.name)),
                "{}",
                key.name
            );
        }
        assert!(
            table.contains("`COMETAPI_TIMEOUT` (or `--timeout`)"),
            "{table}"
        );
        assert_eq!(readme_with_settings("no markers here"), None);
        assert_eq!(readme_with_settings(&format!("a\n{TABLE_START}old")), None);
    }

    #[test]
    fn every_command_and_format_has_a_section() {
        let docs = commands_markdown();
        for spec in registry::commands() {
            assert!(
                docs.contains(&format!("## `{}`", spec.name)),
                "{}",
                spec.name
            );
        }
        for name in registry::formatter_names() {
            assert!(docs.contains(&format!("| `{name}` |")), "{name}");
        }
    }
}
