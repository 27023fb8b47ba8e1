//! Saved roles and system prompts from files. A role is
//! `~/.config/cometapi/roles/NAME.md`: an optional YAML front matter between `---`
//! lines (`model`, `temperature`, `description`; nothing else, so a typo is an error)
//! and the system prompt after it. `-s @FILE` reads a system prompt from a file.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::paths;
use crate::error::{CliError, Result};
use crate::store::files;

#[derive(Debug, Default, PartialEq)]
pub struct Role {
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub description: Option<String>,
    /// The system prompt: the text after the front matter, trimmed.
    pub prompt: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    model: Option<String>,
    temperature: Option<f64>,
    description: Option<String>,
}

/// Reads a role file's text. `Err` says what is wrong with it.
pub fn parse(text: &str) -> std::result::Result<Role, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front, body) = match split_front_matter(text) {
        Some((front, body)) => (front, body),
        None if first_line(text) == "---" => {
            return Err("the front matter has no closing `---` line".into())
        }
        None => ("", text),
    };
    let matter: FrontMatter = if front.trim().is_empty() {
        FrontMatter::default()
    } else {
        serde_yaml::from_str(front).map_err(|e| format!("front matter: {e}"))?
    };
    if let Some(t) = matter.temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(format!("temperature must be between 0.0 and 2.0, not {t}"));
    }
    if matter.model.as_deref().is_some_and(|m| m.trim().is_empty()) {
        return Err("model is blank".into());
    }
    Ok(Role {
        model: matter.model,
        temperature: matter.temperature,
        description: matter.description,
        prompt: body.trim().to_string(),
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim_end()
}

/// `(front matter, body)` when `text` opens with a `---` line closed by another.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    if first_line(text) != "---" {
        return None;
    }
    let after_open = text.find('\n')? + 1;
    let mut at = after_open;
    for line in text.get(after_open..)?.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((text.get(after_open..at)?, text.get(at + line.len()..)?));
        }
        at += line.len();
    }
    None
}

/// `~/.config/cometapi/roles`.
pub fn dir() -> PathBuf {
    paths::config_dir().join("roles")
}

/// The file of role `name`; a name that is not a plain file name is exit 2.
pub fn path_of(name: &str) -> Result<PathBuf> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !plain {
        return Err(CliError::usage(format!(
            "invalid role name `{name}`: use letters, digits, `-`, `_` and `.`"
        )));
    }
    Ok(dir().join(format!("{name}.md")))
}

/// Role `name`, read and parsed: missing is exit 2 (with the way to create it), a bad
/// file exit 64 naming it.
pub fn load(name: &str) -> Result<Role> {
    let path = path_of(name)?;
    if !path.exists() {
        return Err(CliError::usage(format!(
            "no role `{name}` ({} does not exist)",
            path.display()
        ))
        .with_hint(format!("create it with `cometapi roles edit {name}`")));
    }
    let text = read(&path)?;
    parse(&text).map_err(|why| bad_input(&path, &why))
}

/// The names of the saved roles, sorted.
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            name.strip_suffix(".md").map(str::to_string)
        })
        .filter(|name| path_of(name).is_ok())
        .collect();
    names.sort();
    names
}

/// `-s`'s value: `@FILE` is the file's text (trimmed), anything else itself. A file
/// that cannot be read is exit 2 naming it.
pub fn system_prompt(value: &str) -> Result<String> {
    match value.strip_prefix('@') {
        Some(file) if !file.is_empty() => Ok(read(Path::new(file))?.trim().to_string()),
        _ => Ok(value.to_string()),
    }
}

fn read(path: &Path) -> Result<String> {
    files::read_regular(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))
}

fn bad_input(path: &Path, why: &str) -> CliError {
    CliError::new(
        crate::error::ExitCode::ConfigMissing,
        format!("the role file {} is not valid: {why}", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_sets_model_and_temperature() {
        let role = parse("---\nmodel: claude-x\ntemperature: 0.3\n---\nBe terse.\n").expect("role");
        assert_eq!(role.model.as_deref(), Some("claude-x"));
        assert_eq!(role.temperature, Some(0.3));
        assert_eq!(role.prompt, "Be terse.");
        assert_eq!(
            parse("Just a prompt").expect("plain").prompt,
            "Just a prompt"
        );
        assert_eq!(parse("---\r\n---\r\nx").expect("crlf").prompt, "x");
    }

    #[test]
    fn bad_front_matter_says_why() {
        for (text, why) in [
            ("---\nmodel: m\n", "closing"),
            ("---\nmodle: m\n---\nx", "unknown field"),
            ("---\ntemperature: 9\n---\nx", "between"),
            ("---\ntemperature: warm\n---\nx", "front matter"),
            ("---\nmodel: ' '\n---\nx", "blank"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn role_names_are_plain_file_names() {
        assert!(path_of("coder-2.v1").is_ok());
        for bad in ["", ".hidden", "a/b", "../x", "a b"] {
            assert!(path_of(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn written_roles_read_back(
            model in "[a-z][a-z0-9.-]{0,20}",
            tenths in 0u8..=20,
            prompt in "[^\\s-][^\\r]{0,60}",
        ) {
            let temperature = f64::from(tenths) / 10.0;
            let text = format!("---\nmodel: \"{model}\"\ntemperature: {temperature}\n---\n{prompt}\n");
            let role = parse(&text).expect("parses");
            proptest::prop_assert_eq!(role.model, Some(model));
            proptest::prop_assert_eq!(role.temperature, Some(temperature));
            proptest::prop_assert_eq!(role.prompt, prompt.trim().to_string());
        }

        #[test]
        fn any_text_parses_or_says_why(text in "(---\n)?\\PC{0,80}(\n---\n)?\\PC{0,20}") {
            let _ = parse(&text);
        }
    }
}
