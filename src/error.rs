//! The one error type of the CLI: every failure carries the exit code it maps to,
//! where the user can do something about it a hint, and where it came from a lower-level
//! error (I/O, parsing, a plugin) that error's `anyhow` cause chain.

use std::fmt;
use std::io;
use std::sync::Arc;

/// Process exit codes (sysexits-style, as documented in the README).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    Failure = 1,
    Usage = 2,
    ConfigMissing = 64,
    Unavailable = 69,
    AuthRejected = 77,
    ConfigUnreadable = 78,
    /// A wait ran past its limit (`timeout(1)`'s code): a job still running, say.
    TimedOut = 124,
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

#[derive(Clone, Debug)]
pub struct CliError {
    pub exit: ExitCode,
    pub message: String,
    pub hint: Option<String>,
    /// The lower-level error behind this one; shared so that `CliError` stays `Clone`.
    pub cause: Option<Arc<anyhow::Error>>,
    /// The same request may well succeed a little later (a 429, a 5xx, a network
    /// failure): a poll that failed this way is tried again on the next round.
    pub transient: bool,
    /// The HTTP status of the reply this error is about, when there was one.
    pub http_status: Option<u16>,
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    pub fn new(exit: ExitCode, message: impl Into<String>) -> Self {
        CliError {
            exit,
            message: message.into(),
            hint: None,
            cause: None,
            transient: false,
            http_status: None,
        }
    }

    /// Marks an error the same request may not meet again later ([`CliError::transient`]).
    pub fn transient(mut self) -> Self {
        self.transient = true;
        self
    }

    /// Keeps `cause` (with its own chain) behind the message: the outermost cause is
    /// shown after the message, the whole chain under `--verbose` ([`CliError::describe`]).
    pub fn caused_by(mut self, cause: impl Into<anyhow::Error>) -> Self {
        self.cause = Some(Arc::new(cause.into()));
        self
    }

    /// The message as reported: `message: cause`, and with `verbose` every deeper
    /// cause on its own `caused by:` line.
    pub fn describe(&self, verbose: bool) -> String {
        let Some(cause) = &self.cause else {
            return self.message.clone();
        };
        let mut chain = cause.chain();
        let mut text = match chain.next() {
            Some(first) => format!("{}: {first}", self.message),
            None => self.message.clone(),
        };
        if verbose {
            for deeper in chain {
                text.push_str(&format!("\n  caused by: {deeper}"));
            }
        }
        text
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Failure, message)
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Usage, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ExitCode::Unavailable, message)
    }

    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ExitCode::AuthRejected, message)
    }

    pub fn config_unreadable(message: impl Into<String>) -> Self {
        Self::new(ExitCode::ConfigUnreadable, message)
    }

    /// A credential or setting is missing: names the environment variable and `cometapi init`.
    pub fn missing_setting(what: &str, env: &str, config_key: &str) -> Self {
        Self::new(ExitCode::ConfigMissing, format!("{what} is not configured")).with_hint(format!(
            "set {env}, run `cometapi config set {config_key} <value>`, or run `cometapi init`"
        ))
    }

    /// Whether this "error" ends the run with exit 0 and no report: a closed stdout
    /// (`cometapi models | head -1`), where the reader has all it wanted.
    pub fn is_quiet_success(&self) -> bool {
        self.exit == ExitCode::Success
    }

    /// Maps an error writing output; a broken pipe becomes a quiet success.
    pub fn from_output(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            Self::new(ExitCode::Success, "broken pipe")
        } else {
            Self::failure("cannot write output").caused_by(err)
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(false))
    }
}

impl std::error::Error for CliError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_pipe_is_a_quiet_success() {
        let err = CliError::from_output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(err.is_quiet_success());
        let other = CliError::from_output(io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(other.exit, ExitCode::Failure);
    }

    #[test]
    fn cause_is_shown_after_the_message_and_its_chain_under_verbose() {
        use anyhow::Context as _;
        let inner: std::result::Result<(), io::Error> =
            Err(io::Error::from(io::ErrorKind::PermissionDenied));
        let chained = inner.context("opening /x/config.toml").expect_err("fails");
        let err = CliError::failure("cannot save the config").caused_by(chained);
        assert_eq!(
            err.describe(false),
            "cannot save the config: opening /x/config.toml"
        );
        assert_eq!(
            err.describe(true),
            "cannot save the config: opening /x/config.toml\n  caused by: permission denied"
        );
        assert_eq!(err.to_string(), err.describe(false));
        let plain = CliError::usage("bad flag");
        assert_eq!(plain.describe(true), "bad flag");
    }

    #[test]
    fn missing_setting_names_env_var_and_init() {
        let err = CliError::missing_setting("API key", "COMETAPI_KEY", "api_key");
        assert_eq!(err.exit.code(), 64);
        let hint = err.hint.unwrap_or_default();
        assert!(hint.contains("COMETAPI_KEY") && hint.contains("cometapi init"));
    }
}
