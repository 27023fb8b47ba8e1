//! The config file (`config.toml`) and the keys it may hold.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::{CliError, Result};
use crate::fsutil;

/// One setting the CLI knows: its config key, environment variable and default.
#[derive(Debug)]
pub struct KeySpec {
    pub name: &'static str,
    pub env: Option<&'static str>,
    pub secret: bool,
    pub default: Option<&'static str>,
    pub about: &'static str,
}

pub const DEFAULT_BASE_URL: &str = "https://api.cometapi.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-5.4";

/// Every key `config set` accepts, in the order `config show` lists them.
pub const KEYS: &[KeySpec] = &[
    KeySpec {
        name: "api_key",
        env: Some("COMETAPI_KEY"),
        secret: true,
        default: None,
        about: "API key (sk-...) for /v1 endpoints",
    },
    KeySpec {
        name: "access_token",
        env: Some("COMETAPI_ACCESS_TOKEN"),
        secret: true,
        default: None,
        about: "console access token for account, usage and log commands",
    },
    KeySpec {
        name: "base_url",
        env: Some("COMETAPI_BASE_URL"),
        secret: false,
        default: Some(DEFAULT_BASE_URL),
        about: "OpenAI-compatible base URL; every other URL is derived from it",
    },
    KeySpec {
        name: "default_model",
        env: Some("COMETAPI_DEFAULT_MODEL"),
        secret: false,
        default: Some(DEFAULT_MODEL),
        about: "model used when a command is not given one",
    },
    KeySpec {
        name: "output_format",
        env: None,
        secret: false,
        default: None,
        about: "output format used when none is given on the command line",
    },
    KeySpec {
        name: "stream_usage",
        env: None,
        secret: false,
        default: Some("true"),
        about: "ask streamed chat replies for token usage (stream_options); false for servers that reject it",
    },
    KeySpec {
        name: "timeout",
        env: Some("COMETAPI_TIMEOUT"),
        secret: false,
        default: Some("60s"),
        about: "time limit of a request, retries included (30s, 2m, or seconds); also the longest silence in a streamed reply",
    },
];

pub fn key_spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

pub fn key_names() -> Vec<&'static str> {
    KEYS.iter().map(|k| k.name).collect()
}

/// The parsed config file. Unknown keys are kept, so a newer CLI's settings survive an older one's write.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub exists: bool,
    table: toml::Table,
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty config. A file that cannot be
    /// read or parsed is exit 78, and the caller must not write over it.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(ConfigFile {
                    path: path.to_path_buf(),
                    exists: false,
                    table: toml::Table::new(),
                })
            }
            Err(e) => {
                return Err(CliError::config_unreadable(format!(
                    "cannot read config file {}: {e}",
                    path.display()
                )))
            }
        };
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            CliError::config_unreadable(format!(
                "config file {} does not parse: {}",
                path.display(),
                e.message()
            ))
            .with_hint("fix the file by hand or remove it and run `cometapi init`; it is never overwritten while broken")
        })?;
        Ok(ConfigFile {
            path: path.to_path_buf(),
            exists: true,
            table,
        })
    }

    /// A key's value when it is a non-empty string; other TOML types are ignored.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.table
            .get(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// A key's value whatever its TOML type (for settings that accept several).
    pub fn raw(&self, key: &str) -> Option<&toml::Value> {
        self.table.get(key)
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.table
            .insert(key.to_string(), toml::Value::String(value.to_string()));
    }

    /// Removes a key; says whether it was there.
    pub fn unset(&mut self, key: &str) -> bool {
        self.table.remove(key).is_some()
    }

    /// Writes the file atomically, mode 0600, its directory 0700 if created.
    pub fn save(&self) -> Result<()> {
        let text = toml::to_string(&self.table)
            .map_err(|e| CliError::failure(format!("cannot encode config: {e}")))?;
        fsutil::write_private(&self.path, text.as_bytes()).map_err(|e| {
            CliError::failure(format!(
                "cannot write config file {}: {e}",
                self.path.display()
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_is_empty_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ConfigFile::load(&dir.path().join("none.toml")).expect("load");
        assert!(!config.exists);
        assert_eq!(config.get("api_key"), None);
    }

    #[test]
    fn corrupt_file_is_exit_78_naming_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        fs::write(&path, "api_key = \"unterminated\n").expect("write");
        let err = ConfigFile::load(&path).expect_err("must fail");
        assert_eq!(err.exit.code(), 78);
        assert!(err.message.contains(&path.display().to_string()));
    }

    #[test]
    fn set_keeps_unknown_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        fs::write(&path, "future_key = true\n").expect("write");
        let mut config = ConfigFile::load(&path).expect("load");
        config.set("default_model", "gpt-4o");
        config.save().expect("save");
        let text = fs::read_to_string(&path).expect("read");
        assert!(text.contains("future_key = true") && text.contains("default_model = \"gpt-4o\""));
    }

    #[test]
    fn every_key_is_named_once() {
        let mut names = key_names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
    }
}
