//! External plugins: an executable `cometapi-<name>` on `PATH` runs as
//! `cometapi <name> [args]`, like `git` and `cargo` extensions. Built-in commands win.
//! Discovery is lazy: only the root help, the REPL and a command name that is not
//! built in ever look at `PATH`.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::registry;
use crate::error::{CliError, Result};

pub const PREFIX: &str = "cometapi-";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugin {
    pub name: String,
    pub path: PathBuf,
}

/// Every plugin on `PATH`, sorted by name; the first directory on `PATH` wins a name,
/// and names of built-in commands are left out.
pub fn discover() -> Vec<Plugin> {
    discover_in(std::env::var_os("PATH").as_deref())
}

pub fn discover_in(path_var: Option<&OsStr>) -> Vec<Plugin> {
    let mut found: Vec<Plugin> = Vec::new();
    for dir in std::env::split_paths(path_var.unwrap_or_default()) {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let Some(name) = plugin_name(&file_name) else {
                continue;
            };
            if registry::command(&name).is_some() || found.iter().any(|p| p.name == name) {
                continue;
            }
            let path = entry.path();
            if is_executable(&path) {
                found.push(Plugin { name, path });
            }
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// The plugin called `name`, looked up directly (no directory listing).
pub fn find(name: &str) -> Option<PathBuf> {
    if registry::command(name).is_some() || name.is_empty() || name.contains(['/', '\\']) {
        return None;
    }
    let path_var = std::env::var_os("PATH")?;
    std::env::split_paths(&path_var).find_map(|dir| {
        candidates(&dir, name)
            .into_iter()
            .find(|path| is_executable(path))
    })
}

fn candidates(dir: &Path, name: &str) -> Vec<PathBuf> {
    let base = dir.join(format!("{PREFIX}{name}"));
    if cfg!(windows) {
        vec![base.with_extension("exe"), base.with_extension("cmd"), base]
    } else {
        vec![base]
    }
}

/// `cometapi-hello` → `hello` (`.exe` dropped on Windows); anything else → `None`.
fn plugin_name(file_name: &OsStr) -> Option<String> {
    let file_name = file_name.to_str()?;
    let name = file_name.strip_prefix(PREFIX)?;
    let name = if cfg!(windows) {
        name.strip_suffix(".exe")
            .or_else(|| name.strip_suffix(".cmd"))
            .unwrap_or(name)
    } else {
        name
    };
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| name.to_string())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The "Plugins:" help section, or nothing when there are none.
pub fn help_section(plugins: &[Plugin]) -> Option<String> {
    if plugins.is_empty() {
        return None;
    }
    let width = plugins.iter().map(|p| p.name.len()).max().unwrap_or(0);
    let lines: Vec<String> = plugins
        .iter()
        .map(|p| format!("  {:width$}  {}", p.name, p.path.display()))
        .collect();
    Some(format!("Plugins:\n{}", lines.join("\n")))
}

/// Runs a plugin with the given arguments and extra environment; returns its exit
/// code (128 + signal number when a signal ended it).
pub fn run(path: &Path, args: &[OsString], env: &[(&str, OsString)]) -> Result<u8> {
    let mut command = Command::new(path);
    command.args(args).envs(env.iter().map(|(k, v)| (*k, v)));
    let status =
        signals::while_child_runs(&mut command, |command| command.status()).map_err(|e| {
            CliError::failure(format!("cannot run plugin {}", path.display())).caused_by(e)
        })?;
    if let Some(code) = status.code() {
        return Ok(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Ok(u8::try_from(128 + signal).unwrap_or(1));
        }
    }
    Ok(1)
}

/// Like `git`: while a plugin runs, Ctrl-C and Ctrl-\\ are the plugin's to handle.
/// `cometapi` (or the REPL) ignores them and reports the plugin's exit (130 when
/// Ctrl-C ended it); the plugin gets the default dispositions back before `exec`.
#[cfg(unix)]
mod signals {
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    pub fn while_child_runs<T>(
        command: &mut Command,
        run: impl FnOnce(&mut Command) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        // SAFETY: `signal` is async-signal-safe, as `pre_exec` requires; it only resets
        // the dispositions in the forked child before exec.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                libc::signal(libc::SIGQUIT, libc::SIG_DFL);
                Ok(())
            });
        }
        let int = ignore(libc::SIGINT);
        let quit = ignore(libc::SIGQUIT);
        let result = run(command);
        restore(libc::SIGINT, &int);
        restore(libc::SIGQUIT, &quit);
        result
    }

    /// Ignores `signal`, returning the whole previous action (handler and flags), so
    /// that a handler such as the Ctrl-C one in `interrupt.rs` comes back exactly.
    fn ignore(signal: libc::c_int) -> libc::sigaction {
        // SAFETY: a zeroed sigaction is valid (SIG_DFL, no flags, empty mask); setting
        // SIG_IGN installs no handler code, and `previous` is written by the kernel.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_IGN;
            let mut previous: libc::sigaction = std::mem::zeroed();
            libc::sigaction(signal, &action, &mut previous);
            previous
        }
    }

    fn restore(signal: libc::c_int, previous: &libc::sigaction) {
        // SAFETY: puts back the action the kernel handed out in `ignore`.
        unsafe {
            libc::sigaction(signal, previous, std::ptr::null_mut());
        }
    }
}

#[cfg(not(unix))]
mod signals {
    use std::process::Command;

    pub fn while_child_runs<T>(
        command: &mut Command,
        run: impl FnOnce(&mut Command) -> std::io::Result<T>,
    ) -> std::io::Result<T> {
        run(command)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, name: &str, mode: u32) {
        let path = dir.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn finds_executables_first_on_path_wins_builtins_excluded() {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        script(a.path(), "cometapi-hello", 0o755);
        script(b.path(), "cometapi-hello", 0o755);
        script(b.path(), "cometapi-zap", 0o755);
        script(b.path(), "cometapi-noexec", 0o644);
        script(b.path(), "cometapi-models", 0o755);
        script(b.path(), "other-tool", 0o755);
        let path_var = std::env::join_paths([a.path(), b.path()]).expect("join");
        let found = discover_in(Some(&path_var));
        let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["hello", "zap"]);
        assert_eq!(found[0].path, a.path().join("cometapi-hello"));
    }

    #[test]
    fn help_section_lists_names() {
        let section = help_section(&[Plugin {
            name: "hello".into(),
            path: PathBuf::from("/bin/cometapi-hello"),
        }]);
        assert_eq!(
            section.as_deref(),
            Some("Plugins:\n  hello  /bin/cometapi-hello")
        );
        assert_eq!(help_section(&[]), None);
    }
}
