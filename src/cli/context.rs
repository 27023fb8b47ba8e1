//! What every command runs with: the global flags, the config file, the resolved
//! settings, the output format, and the HTTP client (built on first use only).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use clap::ArgMatches;

use crate::api::base_url::BaseUrl;
use crate::api::hints::CometApi;
use crate::cli::registry::{self, FormatterSpec};
use crate::config::paths;
use crate::config::secret::Secret;
use crate::config::settings::{is_sendable, FlagOverride, Settings, Source};
use crate::config::timeout;
use crate::config::{ConfigFile, Key};
use crate::error::{CliError, ExitCode, Result};
use crate::net::Http;
use crate::term::streams::Streams;

/// The global options, read once from the command line.
#[derive(Clone, Debug, Default)]
pub struct GlobalArgs {
    pub format: Option<String>,
    pub json: bool,
    pub base_url: Option<String>,
    pub config: Option<PathBuf>,
    /// How many times `-v` was given: 1 traces requests, 2 also bodies.
    pub verbose: u8,
    pub no_color: bool,
    /// `--timeout` as given (already checked by clap).
    pub timeout: Option<String>,
}

impl GlobalArgs {
    pub fn from_matches(matches: &ArgMatches) -> GlobalArgs {
        // clap propagates global args down to the subcommand that was used; read them there.
        let leaf = deepest(matches);
        GlobalArgs {
            format: leaf.get_one::<String>("format").cloned(),
            json: leaf.get_flag("json"),
            base_url: leaf.get_one::<String>("base_url").cloned(),
            config: leaf.get_one::<PathBuf>("config").cloned(),
            verbose: leaf.get_count("verbose"),
            no_color: leaf.get_flag("no_color"),
            timeout: leaf
                .get_raw("timeout")
                .and_then(|mut raw| raw.next_back())
                .and_then(|raw| raw.to_str())
                .map(str::to_string),
        }
    }
}

/// The innermost subcommand's matches (`model info` → `info`), where clap puts global args.
/// An external subcommand (a plugin) has no global args of its own; its parent's count.
pub fn deepest(matches: &ArgMatches) -> &ArgMatches {
    match matches.subcommand() {
        Some((_, sub)) if sub.try_get_one::<String>("format").is_ok() => deepest(sub),
        _ => matches,
    }
}

pub struct Context {
    pub globals: GlobalArgs,
    streams: Streams,
    pub config_path: PathBuf,
    pub config_path_source: Source,
    file: Result<ConfigFile>,
    settings: Result<Settings>,
    http: OnceLock<Http>,
}

impl Context {
    /// The context of a run on the process's own streams.
    pub fn new(globals: GlobalArgs) -> Context {
        let streams = Streams::system(globals.no_color);
        Context::with_streams(globals, streams)
    }

    /// The context of a run on the given streams (a unit test's [`Streams::test`]).
    pub fn with_streams(globals: GlobalArgs, streams: Streams) -> Context {
        let (config_path, config_path_source) = match (&globals.config, env_var("COMETAPI_CONFIG"))
        {
            (Some(path), _) => (path.clone(), Source::Flag("--config")),
            (None, Some(path)) => (PathBuf::from(path), Source::Env("COMETAPI_CONFIG")),
            (None, None) => (paths::default_config_file(), Source::Default),
        };
        let mut flags: Vec<FlagOverride> = globals
            .base_url
            .iter()
            .map(|url| FlagOverride {
                key: Key::BaseUrl,
                value: url.clone(),
            })
            .collect();
        flags.extend(globals.timeout.iter().map(|limit| FlagOverride {
            key: Key::Timeout,
            value: limit.clone(),
        }));
        let file = ConfigFile::load(&config_path);
        // A value of the wrong type fails the settings but not the file, so
        // `config set` and `config unset` can still repair it.
        let settings = file
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|file| Settings::resolve(file, &flags, env_var));
        Context {
            globals,
            streams,
            config_path,
            config_path_source,
            file,
            settings,
            http: OnceLock::new(),
        }
    }

    /// The config file as read at start-up; exit 78 if it does not parse.
    pub fn config_file(&self) -> Result<&ConfigFile> {
        self.file.as_ref().map_err(Clone::clone)
    }

    /// Every setting resolved; exit 78 if the file does not parse or holds a value of
    /// the wrong type, exit 2 for a bad value on the command line or in the environment.
    pub fn settings(&self) -> Result<&Settings> {
        self.settings.as_ref().map_err(Clone::clone)
    }

    pub fn base_url(&self) -> Result<BaseUrl> {
        let setting = self.settings()?.get(Key::BaseUrl);
        let raw = setting.plain().unwrap_or(crate::config::DEFAULT_BASE_URL);
        BaseUrl::parse(raw).map_err(|e| {
            CliError::usage(format!("invalid base URL from {}: {e}", setting.source))
                .with_hint("use a URL such as https://api.cometapi.com/v1")
        })
    }

    pub fn api_key(&self) -> Result<Secret> {
        self.secret(Key::ApiKey, "API key")
    }

    pub fn access_token(&self) -> Result<Secret> {
        self.secret(Key::AccessToken, "access token")
    }

    /// A credential, which goes into a header as it is: whitespace around it is gone
    /// already (see `Settings::resolve`); whitespace or a control character inside is
    /// exit 64 naming where it came from, rather than a request that cannot be sent.
    fn secret(&self, key: Key, what: &str) -> Result<Secret> {
        let setting = self.settings()?.get(key);
        let env = key.spec().env.unwrap_or_default();
        let secret = setting
            .secret()
            .ok_or_else(|| CliError::missing_setting(what, env, key.name()))?;
        if !is_sendable(secret.expose()) {
            return Err(CliError::new(
                ExitCode::ConfigMissing,
                format!(
                    "the {what} from {} contains whitespace or a control character",
                    setting.source
                ),
            )
            .with_hint(format!(
                "set it again: `cometapi config set {} -` reads it from stdin",
                key.name()
            )));
        }
        Ok(secret.clone())
    }

    /// `COMETAPI_DEFAULT_MODEL` > config `default_model` > `gpt-5.4`.
    pub fn default_model(&self) -> Result<String> {
        Ok(self
            .settings()?
            .get(Key::DefaultModel)
            .plain()
            .unwrap_or(crate::config::DEFAULT_MODEL)
            .to_string())
    }

    /// Config `stream_usage` (default true; see `config::Kind::Bool` for the spellings).
    pub fn stream_usage(&self) -> Result<bool> {
        Ok(self
            .settings()?
            .get(Key::StreamUsage)
            .enabled()
            .unwrap_or(true))
    }

    /// Whether a reply is rendered as Markdown: on a terminal with colour, unless `--raw`
    /// (`raw`) or config `render` is false.
    pub fn renders_markdown(&self, raw: bool) -> Result<bool> {
        Ok(!raw && self.color() && self.settings()?.get(Key::Render).enabled().unwrap_or(true))
    }

    /// The time limit of a request: `--timeout` > `COMETAPI_TIMEOUT` > config `timeout`
    /// (a duration string or a number of seconds) > 60s. A bad value is exit 2 when
    /// given on the command line or in the environment, exit 78 in the config file.
    pub fn timeout(&self) -> Result<Duration> {
        // The settings checked the value's type and form (exit 78 from the file, 2 from a
        // flag or the environment); parse errors here can only come from those checks.
        let setting = self.settings()?.get(Key::Timeout);
        match setting.plain() {
            Some(text) => timeout::parse(text)
                .map_err(|e| CliError::usage(format!("{e} (from {})", setting.source))),
            None => Ok(timeout::DEFAULT),
        }
    }

    /// `--json` > `--format` (before or after the command) > config `output_format` > `table`.
    /// An unknown format in the config file falls back to `table` (see
    /// [`Context::format_warning`]), so `config set output_format` can still repair it.
    pub fn formatter(&self) -> &'static FormatterSpec {
        registry::formatter(&self.requested_format())
            .or_else(|| registry::formatter("table"))
            .unwrap_or(registry::formatters()[0])
    }

    /// Says so when the config file names a format that does not exist.
    pub fn format_warning(&self) -> Option<String> {
        let name = self.requested_format();
        registry::formatter(&name).is_none().then(|| {
            format!(
                "output_format `{name}` in {} is not a known format, using table; \
                 fix it with `cometapi config set output_format <{}>`",
                self.config_path.display(),
                registry::formatter_names().join("|")
            )
        })
    }

    fn requested_format(&self) -> String {
        if self.globals.json {
            return "json".to_string();
        }
        let from_config = || {
            self.settings()
                .ok()?
                .get(Key::OutputFormat)
                .plain()
                .map(str::to_string)
        };
        self.globals
            .format
            .clone()
            .or_else(from_config)
            .unwrap_or_else(|| "table".to_string())
    }

    /// Whether errors should be JSON: the output format in force is `json`.
    pub fn wants_json(&self) -> bool {
        self.formatter().name == "json"
    }

    /// ANSI colour only on a terminal, never with `--no-color` or `NO_COLOR`.
    pub fn color(&self) -> bool {
        self.streams.color()
    }

    /// Standard input, output and error, whether each is a terminal, width and colour.
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// The shared HTTP client, built the first time a command needs the network.
    pub fn http(&self) -> Result<&Http> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let http = Http::new(self.globals.verbose, self.timeout()?, &CometApi)?;
        Ok(self.http.get_or_init(|| http))
    }
}

/// An environment variable, with empty counting as unset.
pub fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
impl Context {
    /// A unit test's context on `streams`, no global flags, and a config file in `dir`
    /// that does not exist (so the user's own config never leaks into a test).
    pub fn for_test(streams: Streams, dir: &std::path::Path) -> Context {
        let globals = GlobalArgs {
            config: Some(dir.join("config.toml")),
            ..GlobalArgs::default()
        };
        Context::with_streams(globals, streams)
    }
}
