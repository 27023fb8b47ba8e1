//! The config file (`config.toml`) and the keys it may hold.

use std::io;
use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use crate::error::{CliError, Result};
use crate::store::files;

use super::Kind;

/// One setting the CLI knows: its config key, environment variable and default.
#[derive(Debug)]
pub struct KeySpec {
    pub name: &'static str,
    pub env: Option<&'static str>,
    pub secret: bool,
    pub kind: Kind,
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
        kind: Kind::Text,
        default: None,
        about: "API key (sk-...) for /v1 endpoints",
    },
    KeySpec {
        name: "access_token",
        env: Some("COMETAPI_ACCESS_TOKEN"),
        secret: true,
        kind: Kind::Text,
        default: None,
        about: "console access token for account, usage and log commands",
    },
    KeySpec {
        name: "base_url",
        env: Some("COMETAPI_BASE_URL"),
        secret: false,
        kind: Kind::Text,
        default: Some(DEFAULT_BASE_URL),
        about: "OpenAI-compatible base URL; every other URL is derived from it",
    },
    KeySpec {
        name: "default_model",
        env: Some("COMETAPI_DEFAULT_MODEL"),
        secret: false,
        kind: Kind::Text,
        default: Some(DEFAULT_MODEL),
        about: "model used when a command is not given one",
    },
    KeySpec {
        name: "output_format",
        env: None,
        secret: false,
        kind: Kind::Text,
        default: None,
        about: "output format used when none is given on the command line",
    },
    KeySpec {
        name: "stream_usage",
        env: None,
        secret: false,
        kind: Kind::Bool,
        default: Some("true"),
        about: "ask streamed chat replies for token usage (stream_options); false for servers that reject it",
    },
    KeySpec {
        name: "render",
        env: None,
        secret: false,
        kind: Kind::Bool,
        default: Some("true"),
        about: "render replies as Markdown on a terminal (false: as the model wrote them, like --raw)",
    },
    KeySpec {
        name: "timeout",
        env: Some("COMETAPI_TIMEOUT"),
        secret: false,
        kind: Kind::Duration,
        default: Some("60s"),
        about: "time limit of a request, retries included (30s, 2m, or seconds); also the longest silence in a streamed reply",
    },
    KeySpec {
        name: "log",
        env: None,
        secret: false,
        kind: Kind::Bool,
        default: Some("true"),
        about: "record chat and run exchanges in the local conversation log (false turns it off; --no-log for one run)",
    },
];

pub fn key_spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

pub fn key_names() -> Vec<&'static str> {
    KEYS.iter().map(|k| k.name).collect()
}

/// The config file as written: comments, layout and unknown keys survive a change,
/// so a newer CLI's settings survive an older one's write.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub exists: bool,
    doc: DocumentMut,
    changed: bool,
}

impl ConfigFile {
    /// Reads the file; a missing file is an empty config. A file that cannot be read,
    /// does not parse or is not a regular file (a FIFO is never opened) is exit 78,
    /// and the caller must not write over it.
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = match files::read_regular(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(ConfigFile {
                    path: path.to_path_buf(),
                    exists: false,
                    doc: DocumentMut::new(),
                    changed: false,
                })
            }
            Err(e) => {
                return Err(CliError::config_unreadable(format!(
                    "cannot read config file {}: {e}",
                    path.display()
                )))
            }
        };
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
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
            doc,
            changed: false,
        })
    }

    /// Re-reads the file and applies `change` to it while holding the config lock,
    /// then saves it if it changed, so concurrent `config set`s each keep their key. The path must be
    /// a regular file or nothing (a symlink's target is changed in place); anything
    /// else is exit 78 before anything is written.
    pub fn update<T>(path: &Path, change: impl FnOnce(&mut ConfigFile) -> Result<T>) -> Result<T> {
        let cannot_write = |e: io::Error| {
            CliError::config_unreadable(format!("cannot write config file {}: {e}", path.display()))
        };
        let target = files::regular_target(path).map_err(cannot_write)?;
        files::with_lock(&target, || {
            let mut file = ConfigFile::load(path)?;
            let result = change(&mut file)?;
            if file.changed {
                file.save()?;
            }
            Ok(result)
        })
        .map_err(cannot_write)?
    }

    /// A key's value when it is a non-empty string; other TOML types are ignored.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.value(key)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// A key's value whatever its type.
    pub fn value(&self, key: &str) -> Option<&toml_edit::Value> {
        self.item(key).and_then(toml_edit::Item::as_value)
    }

    /// A key's entry, which may also be a `[table]`.
    pub fn item(&self, key: &str) -> Option<&toml_edit::Item> {
        self.doc.get(key)
    }

    /// Sets a key; an existing key keeps its place and the comments around it.
    pub fn set(&mut self, key: &str, mut value: toml_edit::Value) {
        match self.doc.get_mut(key) {
            Some(item) => {
                if let Some(old) = item.as_value() {
                    *value.decor_mut() = old.decor().clone();
                }
                *item = toml_edit::Item::Value(value);
            }
            None => {
                self.doc.insert(key, toml_edit::Item::Value(value));
            }
        }
        self.changed = true;
    }

    /// Removes a key; says whether it was there.
    pub fn unset(&mut self, key: &str) -> bool {
        let removed = self.doc.remove(key).is_some();
        self.changed |= removed;
        removed
    }

    /// Writes the file atomically (see [`files::write_private`]), mode 0600, its
    /// directory 0700 if created. Use [`ConfigFile::update`] to change the file.
    fn save(&self) -> Result<()> {
        files::write_private(&self.path, self.doc.to_string().as_bytes()).map_err(|e| {
            let message = format!("cannot write config file {}: {e}", self.path.display());
            if e.kind() == io::ErrorKind::InvalidInput {
                CliError::config_unreadable(message)
            } else {
                CliError::failure(message)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
    fn update_keeps_comments_layout_and_unknown_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let before = "# my settings\nfuture_key = true   # from a newer version\n\n\
                      # the model\ndefault_model = \"old\" # keep this note\n\n[profile]\nx = 1\n";
        fs::write(&path, before).expect("write");
        ConfigFile::update(&path, |file| {
            file.set("default_model", toml_edit::Value::from("gpt-4o"));
            file.set("stream_usage", Kind::Bool.to_toml("false"));
            Ok(())
        })
        .expect("update");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "# my settings\nfuture_key = true   # from a newer version\n\n\
             # the model\ndefault_model = \"gpt-4o\" # keep this note\nstream_usage = false\n\n[profile]\nx = 1\n"
        );
        ConfigFile::update(&path, |file| Ok(file.unset("default_model"))).expect("unset");
        let text = fs::read_to_string(&path).expect("read");
        assert!(
            !text.contains("default_model") && text.contains("[profile]\nx = 1"),
            "{text}"
        );
    }

    #[test]
    fn update_rereads_the_file_under_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let stale = ConfigFile::load(&path).expect("load");
        fs::write(&path, "api_key = \"written meanwhile\"\n").expect("write");
        ConfigFile::update(&path, |file| {
            file.set("default_model", toml_edit::Value::from("m"));
            Ok(())
        })
        .expect("update");
        assert!(!stale.exists);
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "api_key = \"written meanwhile\"\ndefault_model = \"m\"\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_neither_read_nor_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.expect("mkfifo").success());
        let err = ConfigFile::load(&path).expect_err("refused, not blocked on");
        assert_eq!(err.exit.code(), 78);
        assert!(err.message.contains("is a FIFO"), "{}", err.message);
        let err = ConfigFile::update(&path, |_| Ok(())).expect_err("refused");
        assert_eq!(err.exit.code(), 78);
        assert!(err.message.contains(&path.display().to_string()));
    }

    #[test]
    fn every_key_is_named_once() {
        let mut names = key_names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
    }
}
