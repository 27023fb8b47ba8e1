//! Settings resolved from flag > environment > config file > default,
//! each remembering where it came from (`config show` and `doctor` say so).

use std::fmt;

use crate::config::{ConfigFile, KeySpec, KEYS};
use crate::secret::Secret;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File,
    Default,
    Unset,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Env(var) => write!(f, "env {var}"),
            Source::File => f.write_str("config file"),
            Source::Default => f.write_str("default"),
            Source::Unset => f.write_str("not set"),
        }
    }
}

/// A setting's value; secrets stay in [`Secret`] so no `Debug` can print them.
#[derive(Clone, Debug)]
pub enum Value {
    Plain(String),
    Secret(Secret),
}

#[derive(Clone, Debug)]
pub struct Setting {
    pub key: &'static KeySpec,
    pub value: Option<Value>,
    pub source: Source,
}

impl Setting {
    /// The value as people may see it: secrets masked, unset as `None`.
    pub fn display(&self) -> Option<String> {
        self.value.as_ref().map(|v| match v {
            Value::Plain(s) => s.clone(),
            Value::Secret(s) => s.masked(),
        })
    }

    pub fn plain(&self) -> Option<&str> {
        match &self.value {
            Some(Value::Plain(s)) => Some(s),
            _ => None,
        }
    }

    pub fn secret(&self) -> Option<&Secret> {
        match &self.value {
            Some(Value::Secret(s)) => Some(s),
            _ => None,
        }
    }
}

/// A value given on the command line for a config key, e.g. `--base-url`.
pub struct FlagOverride {
    pub key: &'static str,
    pub flag: &'static str,
    pub value: String,
}

#[derive(Clone, Debug)]
pub struct Settings {
    items: Vec<Setting>,
}

impl Settings {
    pub fn resolve(
        file: &ConfigFile,
        flags: &[FlagOverride],
        env: impl Fn(&str) -> Option<String>,
    ) -> Settings {
        let items = KEYS
            .iter()
            .map(|key| {
                let from_flag = flags
                    .iter()
                    .find(|f| f.key == key.name)
                    .map(|f| (f.value.clone(), Source::Flag(f.flag)));
                let from_env = || {
                    let var = key.env?;
                    env(var)
                        .filter(|v| !v.is_empty())
                        .map(|v| (v, Source::Env(var)))
                };
                let from_file = || file.get(key.name).map(|v| (v.to_string(), Source::File));
                let from_default = || key.default.map(|v| (v.to_string(), Source::Default));
                let found = from_flag
                    .or_else(from_env)
                    .or_else(from_file)
                    .or_else(from_default);
                match found {
                    Some((raw, source)) => Setting {
                        key,
                        value: Some(if key.secret {
                            Value::Secret(Secret::new(raw))
                        } else {
                            Value::Plain(raw)
                        }),
                        source,
                    },
                    None => Setting {
                        key,
                        value: None,
                        source: Source::Unset,
                    },
                }
            })
            .collect();
        Settings { items }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Setting> {
        self.items.iter()
    }

    /// The setting for a key from [`KEYS`].
    pub fn get(&self, key: &str) -> &Setting {
        self.items
            .iter()
            .find(|s| s.key.name == key)
            .unwrap_or_else(|| panic!("unknown setting {key}: add it to config::KEYS"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn file_with(text: &str) -> (tempfile::TempDir, ConfigFile) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        fs::write(&path, text).expect("write");
        let file = ConfigFile::load(&path).expect("load");
        (dir, file)
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let (_dir, file) =
            file_with("base_url = \"http://file/v1\"\ndefault_model = \"file-model\"\n");
        let env = |var: &str| match var {
            "COMETAPI_BASE_URL" => Some("http://env/v1".to_string()),
            "COMETAPI_DEFAULT_MODEL" => Some(String::new()), // empty counts as unset
            _ => None,
        };
        let flags = [FlagOverride {
            key: "base_url",
            flag: "--base-url",
            value: "http://flag/v1".into(),
        }];
        let with_flag = Settings::resolve(&file, &flags, env);
        assert_eq!(with_flag.get("base_url").plain(), Some("http://flag/v1"));
        assert_eq!(with_flag.get("base_url").source, Source::Flag("--base-url"));
        let without_flag = Settings::resolve(&file, &[], env);
        assert_eq!(
            without_flag.get("base_url").source,
            Source::Env("COMETAPI_BASE_URL")
        );
        assert_eq!(
            without_flag.get("default_model").plain(),
            Some("file-model")
        );
        assert_eq!(without_flag.get("default_model").source, Source::File);
        let (_dir, empty) = file_with("");
        let defaults = Settings::resolve(&empty, &[], |_| None);
        assert_eq!(defaults.get("default_model").source, Source::Default);
        assert_eq!(defaults.get("api_key").source, Source::Unset);
    }

    #[test]
    fn secrets_are_masked_in_display_and_debug() {
        let (_dir, file) = file_with("api_key = \"sk-live-abcdefghijkl9876\"\n");
        let settings = Settings::resolve(&file, &[], |_| None);
        let key = settings.get("api_key");
        assert_eq!(key.display().as_deref(), Some("****9876"));
        assert!(!format!("{settings:?}").contains("abcdefgh"));
        assert_eq!(
            key.secret().map(|s| s.expose()),
            Some("sk-live-abcdefghijkl9876")
        );
    }
}
