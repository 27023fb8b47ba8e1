//! The built binary in a real terminal (a pty from `expectrl`), for the wizard and the REPL.
//! Every wait is an `expect` with a timeout, never a sleep.

use std::process::Command;
use std::time::Duration;

use expectrl::{Session, WaitStatus};

use crate::sandbox::Sandbox;

/// `cometapi ARGS` on a pty, with the sandbox's HOME and base URL and nothing else
/// from the environment but `PATH` (or `path` when given).
pub fn spawn(sandbox: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Session {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cometapi"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.home.path())
        .env("TERM", "xterm")
        .env("COMETAPI_BASE_URL", sandbox.server.base_url());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut session = Session::spawn(cmd).expect("spawn on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

/// Waits for `needle`, failing with what was seen instead.
pub fn expect(session: &mut Session, needle: &str) -> String {
    match session.expect(needle) {
        Ok(found) => String::from_utf8_lossy(found.before()).into_owned(),
        Err(err) => panic!("waiting for {needle:?}: {err}"),
    }
}

/// The exit code once the process ends.
pub fn exit_code(session: &Session) -> i32 {
    match session.wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("ended by {other:?}"),
    }
}
