//! The settings the CLI knows: a [`Key`] for each, so code names a setting by a value the
//! compiler checks (a typo is a build error, not a panic), and its [`KeySpec`] (config
//! name, environment variable, kind, default) in [`KEYS`].

use std::fmt;

use super::Kind;

/// A setting. The variants are in the order of [`KEYS`], which `config show` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    ApiKey,
    AccessToken,
    BaseUrl,
    DefaultModel,
    OutputFormat,
    StreamUsage,
    Render,
    Timeout,
    Log,
}

impl Key {
    pub const COUNT: usize = 9;

    /// The key's entry in [`KEYS`].
    pub fn spec(self) -> &'static KeySpec {
        &KEYS[self as usize]
    }

    /// The key's name in the config file and in `config get/set`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One setting the CLI knows: its config key, environment variable and default.
#[derive(Debug)]
pub struct KeySpec {
    pub key: Key,
    pub name: &'static str,
    pub env: Option<&'static str>,
    /// The global flag that sets it for one run, if any.
    pub flag: Option<&'static str>,
    pub secret: bool,
    pub kind: Kind,
    pub default: Option<&'static str>,
    pub about: &'static str,
}

pub const DEFAULT_BASE_URL: &str = "https://api.cometapi.com/v1";
pub const DEFAULT_MODEL: &str = "gpt-5.4";

/// Every key `config set` accepts, in the order `config show` lists them.
pub static KEYS: [KeySpec; Key::COUNT] = [
    KeySpec {
        key: Key::ApiKey,
        name: "api_key",
        env: Some("COMETAPI_KEY"),
        flag: None,
        secret: true,
        kind: Kind::Text,
        default: None,
        about: "API key (sk-...) for /v1 endpoints",
    },
    KeySpec {
        key: Key::AccessToken,
        name: "access_token",
        env: Some("COMETAPI_ACCESS_TOKEN"),
        flag: None,
        secret: true,
        kind: Kind::Text,
        default: None,
        about: "console access token for account, usage and log commands",
    },
    KeySpec {
        key: Key::BaseUrl,
        name: "base_url",
        env: Some("COMETAPI_BASE_URL"),
        flag: Some("--base-url"),
        secret: false,
        kind: Kind::Text,
        default: Some(DEFAULT_BASE_URL),
        about: "OpenAI-compatible base URL; every other URL is derived from it",
    },
    KeySpec {
        key: Key::DefaultModel,
        name: "default_model",
        env: Some("COMETAPI_DEFAULT_MODEL"),
        flag: None,
        secret: false,
        kind: Kind::Text,
        default: Some(DEFAULT_MODEL),
        about: "model used when a command is not given one",
    },
    KeySpec {
        key: Key::OutputFormat,
        name: "output_format",
        env: None,
        flag: None,
        secret: false,
        kind: Kind::Text,
        default: None,
        about: "output format used when none is given on the command line (table when unset)",
    },
    KeySpec {
        key: Key::StreamUsage,
        name: "stream_usage",
        env: None,
        flag: None,
        secret: false,
        kind: Kind::Bool,
        default: Some("true"),
        about: "ask streamed chat replies for token usage (stream_options); false for servers that reject it",
    },
    KeySpec {
        key: Key::Render,
        name: "render",
        env: None,
        flag: None,
        secret: false,
        kind: Kind::Bool,
        default: Some("true"),
        about: "render replies as Markdown on a terminal (false: as the model wrote them, like --raw)",
    },
    KeySpec {
        key: Key::Timeout,
        name: "timeout",
        env: Some("COMETAPI_TIMEOUT"),
        flag: Some("--timeout"),
        secret: false,
        kind: Kind::Duration,
        default: Some("60s"),
        about: "time limit of a request, retries included (30s, 2m, or seconds); also the longest silence in a streamed reply",
    },
    KeySpec {
        key: Key::Log,
        name: "log",
        env: None,
        flag: None,
        secret: false,
        kind: Kind::Bool,
        default: Some("true"),
        about: "record chat and run exchanges in the local conversation log (false turns it off; --no-log for one run)",
    },
];

/// The key a person named (`config set NAME`), if there is one.
pub fn key_spec(name: &str) -> Option<&'static KeySpec> {
    KEYS.iter().find(|k| k.name == name)
}

pub fn key_names() -> Vec<&'static str> {
    KEYS.iter().map(|k| k.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_sits_at_its_own_place_in_the_table() {
        for (place, spec) in KEYS.iter().enumerate() {
            assert_eq!(spec.key as usize, place, "{} is out of order", spec.name);
            assert_eq!(spec.key.spec().name, spec.name);
        }
    }

    #[test]
    fn every_key_is_named_once() {
        let mut names = key_names();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KEYS.len());
    }

    #[test]
    fn a_name_that_is_no_key_finds_nothing() {
        assert_eq!(key_spec("base_url").map(|s| s.key), Some(Key::BaseUrl));
        assert!(key_spec("base-url").is_none());
        assert!(key_spec("").is_none());
        assert!(key_spec("API_KEY").is_none());
    }
}
