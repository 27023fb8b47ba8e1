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
    cmd.args(args);
    spawn_command(sandbox, cmd, env)
}

/// Any command on a pty (a shell line that redirects, for example) with the same
/// environment as [`spawn`].
pub fn spawn_command(sandbox: &Sandbox, mut cmd: Command, env: &[(&str, &str)]) -> Session {
    cmd.env_clear()
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

/// A terminal screen as a test sees it: the text the program wrote, with ANSI escape
/// sequences removed, and answers to the cursor-position queries a line editor sends
/// (the part of a terminal emulator a pty lacks).
pub struct Screen {
    pub session: Session,
    /// Everything seen so far, escapes removed.
    pub text: String,
    /// Where the next `wait_for` starts looking.
    mark: usize,
}

impl Screen {
    pub fn new(session: Session) -> Screen {
        Screen {
            session,
            text: String::new(),
            mark: 0,
        }
    }

    /// Waits (with expect's timeout) until `needle` appears after the last match;
    /// returns the text before it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        loop {
            if let Some(at) = self.text[self.mark..].find(needle) {
                let before = self.text[self.mark..self.mark + at].to_string();
                self.mark += at + needle.len();
                return before;
            }
            let chunk = match self.session.expect(expectrl::Regex("(?s).+")) {
                Ok(found) => found.get(0).map(<[u8]>::to_vec).unwrap_or_default(),
                Err(err) => panic!(
                    "waiting for {needle:?}: {err}\nscreen so far:\n{}",
                    &self.text[self.mark..]
                ),
            };
            let raw = String::from_utf8_lossy(&chunk).into_owned();
            for _ in 0..raw.matches("\x1b[6n").count() {
                self.session.send("\x1b[1;1R").expect("answer cursor query");
            }
            self.text.push_str(&strip_ansi(&raw));
        }
    }

    /// Reads to the end (answering cursor queries, so the program is never left
    /// waiting for one) and returns the exit code.
    pub fn exit_code(&mut self) -> i32 {
        loop {
            match self.session.expect(expectrl::Regex("(?s).+")) {
                Ok(found) => {
                    let raw =
                        String::from_utf8_lossy(found.get(0).unwrap_or_default()).into_owned();
                    for _ in 0..raw.matches("\x1b[6n").count() {
                        let _ = self.session.send("\x1b[1;1R");
                    }
                    self.text.push_str(&strip_ansi(&raw));
                }
                Err(expectrl::Error::Eof) => break,
                Err(err) => panic!("waiting for the end: {err}\n{}", &self.text[self.mark..]),
            }
        }
        exit_code(&self.session)
    }

    pub fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("send keys");
    }
}

/// Removes CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL`) and two-byte escapes.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                for c in chars.by_ref() {
                    if c == '\x07' {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}
