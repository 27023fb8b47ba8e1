//! The config file (`config.toml`) and the keys it may hold.

use std::io;
use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use crate::error::{CliError, Result};
use crate::store::files;

use super::Key;

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
    pub fn get(&self, key: Key) -> Option<&str> {
        self.item(key)
            .and_then(toml_edit::Item::as_value)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
    }

    /// A key's entry whatever its type, which may also be a `[table]`.
    pub fn item(&self, key: Key) -> Option<&toml_edit::Item> {
        self.doc.get(key.name())
    }

    /// Sets a key; an existing key keeps its place and the comments around it.
    pub fn set(&mut self, key: Key, mut value: toml_edit::Value) {
        let key = key.name();
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
    pub fn unset(&mut self, key: Key) -> bool {
        let removed = self.doc.remove(key.name()).is_some();
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
    use crate::config::Kind;
    use std::fs;

    #[test]
    fn missing_file_is_empty_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ConfigFile::load(&dir.path().join("none.toml")).expect("load");
        assert!(!config.exists);
        assert_eq!(config.get(Key::ApiKey), None);
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
            file.set(Key::DefaultModel, toml_edit::Value::from("gpt-4o"));
            file.set(Key::StreamUsage, Kind::Bool.to_toml("false"));
            Ok(())
        })
        .expect("update");
        let text = fs::read_to_string(&path).expect("read");
        assert_eq!(
            text,
            "# my settings\nfuture_key = true   # from a newer version\n\n\
             # the model\ndefault_model = \"gpt-4o\" # keep this note\nstream_usage = false\n\n[profile]\nx = 1\n"
        );
        ConfigFile::update(&path, |file| Ok(file.unset(Key::DefaultModel))).expect("unset");
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
            file.set(Key::DefaultModel, toml_edit::Value::from("m"));
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
}
