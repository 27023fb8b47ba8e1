//! Shell completion scripts, generated from the registry-built clap tree, and
//! `--install-completion`: where each shell looks for them.

use std::path::{Path, PathBuf};

use clap_complete::Shell;

use crate::cli::front;
use crate::error::{CliError, Result};
use crate::store::files;

/// The shells `completion` prints a script for.
pub const SHELLS: &[&str] = &["bash", "elvish", "fish", "powershell", "zsh"];

/// The shells `--install-completion` knows a standard location for.
pub const INSTALLABLE: &[&str] = &["bash", "fish", "zsh"];

pub fn parse_shell(name: &str) -> Result<Shell> {
    name.parse::<Shell>().map_err(|_| {
        CliError::usage(format!("unknown shell `{name}`"))
            .with_hint(format!("use one of: {}", SHELLS.join(", ")))
    })
}

/// The completion script for `shell`, built from the same clap tree as the parser.
/// Clap's `help` subcommand is left out, so the script lists exactly the registry.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = front::build().disable_help_subcommand(true);
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "cometapi", &mut out);
    out
}

/// What `--install-completion` did.
#[derive(Debug)]
pub struct Installed {
    pub shell: &'static str,
    pub path: PathBuf,
    /// Something the user must still do, such as adding a line to `.zshrc`.
    pub note: Option<String>,
}

/// The shell named on the command line, or the one in `$SHELL`.
pub fn detect(named: Option<&str>, shell_env: Option<&str>) -> Result<&'static str> {
    let name = match named {
        Some(name) => name.to_string(),
        None => shell_env
            .and_then(|s| Path::new(s).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                CliError::usage("cannot tell which shell you use: $SHELL is not set")
                    .with_hint("name it: `cometapi --install-completion bash|zsh|fish`")
            })?,
    };
    INSTALLABLE
        .iter()
        .copied()
        .find(|s| *s == name)
        .ok_or_else(|| {
            CliError::usage(format!("cannot install completion for `{name}`"))
                .with_hint(format!(
                    "supported: {}; for other shells print the script with `cometapi completion <SHELL>`",
                    INSTALLABLE.join(", ")
                ))
        })
}

/// Writes the script where `shell` loads completions from.
pub fn install(
    shell: &'static str,
    home: &Path,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Installed> {
    let xdg = |var: &str, fallback: &str| {
        env(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .unwrap_or_else(|| home.join(fallback))
    };
    let (path, note) = match shell {
        "bash" => {
            // bash-completion 2 looks in $BASH_COMPLETION_USER_DIR/completions first.
            let dir = env("BASH_COMPLETION_USER_DIR")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| xdg("XDG_DATA_HOME", ".local/share").join("bash-completion"));
            (dir.join("completions/cometapi"), None)
        }
        "fish" => (
            xdg("XDG_CONFIG_HOME", ".config").join("fish/completions/cometapi.fish"),
            None,
        ),
        _ => {
            let zdotdir = env("ZDOTDIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| home.to_path_buf());
            let zshrc = std::fs::read_to_string(zdotdir.join(".zshrc")).unwrap_or_default();
            let note = (!zshrc.contains(".zfunc")).then(|| {
                "add these lines to ~/.zshrc (before compinit), then start a new shell:\n  \
                 fpath=(~/.zfunc $fpath)\n  autoload -Uz compinit && compinit"
                    .to_string()
            });
            (home.join(".zfunc/_cometapi"), note)
        }
    };
    let script = script(parse_shell(shell)?);
    files::write_atomic(&path, &script, 0o644)
        .map_err(|e| CliError::failure(format!("cannot write {}", path.display())).caused_by(e))?;
    Ok(Installed { shell, path, note })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_comes_from_the_name_or_from_dollar_shell() {
        assert_eq!(detect(Some("fish"), Some("/bin/bash")).ok(), Some("fish"));
        assert_eq!(detect(None, Some("/usr/bin/zsh")).ok(), Some("zsh"));
        assert_eq!(detect(None, None).map_err(|e| e.exit.code()).err(), Some(2));
        assert!(detect(Some("tcsh"), None).is_err());
    }

    #[test]
    fn every_listed_shell_parses() {
        for shell in SHELLS {
            assert!(parse_shell(shell).is_ok(), "{shell}");
        }
    }
}
