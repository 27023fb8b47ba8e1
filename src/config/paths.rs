//! Where files live: `~/.config/cometapi`, `~/.cache/cometapi` and
//! `~/.local/share/cometapi`, honouring `XDG_CONFIG_HOME`, `XDG_CACHE_HOME` and
//! `XDG_DATA_HOME` on every platform (like `gh` and `git`).

use std::env;
use std::path::PathBuf;

fn xdg_or_home(var: &str, home_relative: &str) -> PathBuf {
    if let Some(dir) = env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return dir;
    }
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(home_relative)
}

/// `$XDG_CONFIG_HOME/cometapi` or `~/.config/cometapi`.
pub fn config_dir() -> PathBuf {
    xdg_or_home("XDG_CONFIG_HOME", ".config").join("cometapi")
}

pub fn default_config_file() -> PathBuf {
    config_dir().join("config.toml")
}

/// `$XDG_CACHE_HOME/cometapi` or `~/.cache/cometapi`.
pub fn cache_dir() -> PathBuf {
    xdg_or_home("XDG_CACHE_HOME", ".cache").join("cometapi")
}

/// `$XDG_DATA_HOME/cometapi` or `~/.local/share/cometapi`.
pub fn data_dir() -> PathBuf {
    xdg_or_home("XDG_DATA_HOME", ".local/share").join("cometapi")
}
