//! Settings resolved from flag > environment > config file > default,
//! each remembering where it came from (`config show` and `doctor` say so).

use std::fmt;

use crate::config::secret::Secret;
use crate::config::{ConfigFile, Key, KeySpec, KEYS};
use crate::error::{CliError, Result};

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

    /// The value for structured output: typed (`stream_usage` is a boolean), secrets
    /// masked, unset as `null`.
    pub fn json(&self) -> serde_json::Value {
        match &self.value {
            Some(Value::Plain(s)) => self.key.kind.to_json(s),
            Some(Value::Secret(s)) => serde_json::Value::from(s.masked()),
            None => serde_json::Value::Null,
        }
    }

    /// A boolean setting's value.
    pub fn enabled(&self) -> Option<bool> {
        self.plain().map(|s| s == "true")
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

/// A value given on the command line for a config key by its flag
/// ([`KeySpec::flag`], e.g. `--base-url`).
pub struct FlagOverride {
    pub key: Key,
    pub value: String,
}

#[derive(Clone, Debug)]
pub struct Settings {
    items: Vec<Setting>,
}

impl Settings {
    /// Every key of [`KEYS`] from the first source that has it. A value of the wrong
    /// type is an error naming the key and the type expected: exit 78 in the config
    /// file, exit 2 on the command line or in the environment. Secrets lose the
    /// whitespace around them (a key pasted from a file ends in a newline).
    pub fn resolve(
        file: &ConfigFile,
        flags: &[FlagOverride],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let items = KEYS
            .iter()
            .map(|key| resolve_one(key, file, flags, &env))
            .collect::<Result<_>>()?;
        Ok(Settings { items })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Setting> {
        self.items.iter()
    }

    /// The setting for a key (the settings are in the order of [`KEYS`]).
    pub fn get(&self, key: Key) -> &Setting {
        &self.items[key as usize]
    }
}

/// Whether a credential can go into an HTTP header as it is: no whitespace or control
/// characters inside (surrounding whitespace is trimmed before this is asked).
pub fn is_sendable(secret: &str) -> bool {
    !secret.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn resolve_one(
    key: &'static KeySpec,
    file: &ConfigFile,
    flags: &[FlagOverride],
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Setting> {
    let from_flag = flags.iter().find(|f| f.key == key.key).map(|f| {
        (
            f.value.clone(),
            Source::Flag(key.flag.unwrap_or("the command line")),
        )
    });
    let from_env = key
        .env
        .and_then(|var| env(var).map(|v| (v, Source::Env(var))));
    let mut candidates = Vec::new();
    for (raw, source) in from_flag.into_iter().chain(from_env) {
        let text = key.kind.parse(&raw).map_err(|found| {
            CliError::usage(format!(
                "{} from {source} must be {}, not {found}",
                key.name,
                key.kind.expected()
            ))
        })?;
        candidates.push((text, source));
    }
    if let Some(item) = file.item(key.key) {
        let text = key
            .kind
            .parse_item(item)
            .map_err(|found| wrong_type(file, key, item, found))?;
        candidates.push((text, Source::File));
    }
    candidates.extend(key.default.map(|v| (v.to_string(), Source::Default)));
    let found = candidates
        .into_iter()
        .map(|(text, source)| {
            let text = if key.secret {
                text.trim().to_string()
            } else {
                text
            };
            (text, source)
        })
        .find(|(text, _)| !text.is_empty());
    Ok(match found {
        Some((text, source)) => Setting {
            key,
            value: Some(if key.secret {
                Value::Secret(Secret::new(text))
            } else {
                Value::Plain(text)
            }),
            source,
        },
        None => Setting {
            key,
            value: None,
            source: Source::Unset,
        },
    })
}

fn wrong_type(file: &ConfigFile, key: &KeySpec, item: &toml_edit::Item, found: String) -> CliError {
    let found = if key.secret {
        format!("a TOML {}", item.type_name()) // never echo (part of) a secret
    } else {
        found
    };
    CliError::config_unreadable(format!(
        "config file {}: `{}` must be {}, not {found}",
        file.path.display(),
        key.name,
        key.kind.expected()
    ))
    .with_hint(format!(
        "fix it with `cometapi config set {} <value>` or `cometapi config unset {}`",
        key.name, key.name
    ))
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
            key: Key::BaseUrl,
            value: "http://flag/v1".into(),
        }];
        let with_flag = Settings::resolve(&file, &flags, env).expect("resolve");
        assert_eq!(with_flag.get(Key::BaseUrl).plain(), Some("http://flag/v1"));
        assert_eq!(
            with_flag.get(Key::BaseUrl).source,
            Source::Flag("--base-url")
        );
        let without_flag = Settings::resolve(&file, &[], env).expect("resolve");
        assert_eq!(
            without_flag.get(Key::BaseUrl).source,
            Source::Env("COMETAPI_BASE_URL")
        );
        assert_eq!(
            without_flag.get(Key::DefaultModel).plain(),
            Some("file-model")
        );
        assert_eq!(without_flag.get(Key::DefaultModel).source, Source::File);
        let (_dir, empty) = file_with("");
        let defaults = Settings::resolve(&empty, &[], |_| None).expect("resolve");
        assert_eq!(defaults.get(Key::DefaultModel).source, Source::Default);
        assert_eq!(defaults.get(Key::ApiKey).source, Source::Unset);
    }

    #[test]
    fn secrets_are_masked_in_display_and_debug() {
        let (_dir, file) = file_with("api_key = \"sk-live-abcdefghijkl9876\"\n");
        let settings = Settings::resolve(&file, &[], |_| None).expect("resolve");
        let key = settings.get(Key::ApiKey);
        assert_eq!(key.display().as_deref(), Some("****9876"));
        assert!(!format!("{settings:?}").contains("abcdefgh"));
        assert_eq!(
            key.secret().map(|s| s.expose()),
            Some("sk-live-abcdefghijkl9876")
        );
    }

    #[test]
    fn booleans_are_typed_and_wrong_types_are_exit_78_naming_key_and_type() {
        let (_dir, file) = file_with("stream_usage = false\n");
        let settings = Settings::resolve(&file, &[], |_| None).expect("resolve");
        let usage = settings.get(Key::StreamUsage);
        assert_eq!((usage.enabled(), usage.source), (Some(false), Source::File));
        assert_eq!(usage.json(), serde_json::Value::Bool(false));
        let (_dir, file) = file_with("");
        let settings = Settings::resolve(&file, &[], |_| None).expect("resolve");
        assert_eq!(
            settings.get(Key::StreamUsage).json(),
            serde_json::Value::Bool(true)
        );

        let cases = [
            (
                "stream_usage = 3\n",
                "`stream_usage` must be true or false, not the integer 3",
            ),
            (
                "stream_usage = \"maybe\"\n",
                "`stream_usage` must be true or false, not `maybe`",
            ),
            (
                "default_model = [\"a\"]\n",
                "`default_model` must be a string, not the array [\"a\"]",
            ),
            (
                "api_key = 12345\n",
                "`api_key` must be a string, not a TOML integer",
            ),
            (
                "[access_token]\nx = 1\n",
                "`access_token` must be a string, not a TOML table",
            ),
        ];
        for (text, expected) in cases {
            let (_dir, file) = file_with(text);
            let err = Settings::resolve(&file, &[], |_| None).expect_err(text);
            assert_eq!(err.exit.code(), 78, "{text}");
            assert!(err.message.contains(expected), "{text}: {}", err.message);
            assert!(err.message.contains(&file.path.display().to_string()));
            assert!(!err.message.contains("12345"), "a secret is not echoed");
        }
    }

    #[test]
    fn secrets_lose_surrounding_whitespace_from_env_and_file() {
        let (_dir, file) = file_with("access_token = \"tok-abcdefghijkl\\r\\n\"\n");
        let env = |var: &str| (var == "COMETAPI_KEY").then(|| " sk-abcdefghijkl\r\n".to_string());
        let settings = Settings::resolve(&file, &[], env).expect("resolve");
        let exposed = |key| settings.get(key).secret().map(|s| s.expose().to_string());
        assert_eq!(exposed(Key::ApiKey).as_deref(), Some("sk-abcdefghijkl"));
        assert_eq!(
            exposed(Key::AccessToken).as_deref(),
            Some("tok-abcdefghijkl")
        );
        // Only whitespace counts as unset, so the file's value is used.
        let (_dir, file) = file_with("api_key = \"sk-from-file\"\n");
        let settings = Settings::resolve(&file, &[], |var: &str| {
            (var == "COMETAPI_KEY").then(|| "\r\n".to_string())
        })
        .expect("resolve");
        assert_eq!(settings.get(Key::ApiKey).source, Source::File);
    }
}
