//! The standard streams as a command sees them (gh's `iostreams`): where output goes,
//! which of stdin, stdout and stderr are terminals, how wide the terminal is, and whether
//! colour is on. The process asks the operating system once, here and nowhere else;
//! a unit test builds a [`Streams::test`] instead, with output captured in buffers and
//! the terminals it wants, so terminal behaviour is testable without a pty.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock};

use crate::output::fit;

/// Which of the three standard streams are terminals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terminals {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// The process's own streams, asked once: every `is_terminal` in the program is this one.
pub fn process_terminals() -> Terminals {
    static TERMINALS: OnceLock<Terminals> = OnceLock::new();
    *TERMINALS.get_or_init(|| Terminals {
        stdin: io::stdin().is_terminal(),
        stdout: io::stdout().is_terminal(),
        stderr: io::stderr().is_terminal(),
    })
}

pub struct Streams {
    terminals: Terminals,
    width: usize,
    no_color: bool,
    sink: Sink,
}

enum Sink {
    System,
    Captured(Captured),
}

/// What a [`Streams::test`] wrote, for the test to read back.
#[derive(Clone, Default)]
pub struct Captured {
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    pub fn stdout(&self) -> String {
        text_of(&self.out)
    }

    pub fn stderr(&self) -> String {
        text_of(&self.err)
    }
}

fn text_of(buffer: &Mutex<Vec<u8>>) -> String {
    let bytes = buffer.lock().unwrap_or_else(|e| e.into_inner());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Appends to a captured buffer.
struct Appender(Arc<Mutex<Vec<u8>>>);

impl Write for Appender {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let mut buffer = self.0.lock().unwrap_or_else(|e| e.into_inner());
        buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Streams {
    /// The process's streams; colour off with `--no-color` (`no_color`) or `NO_COLOR`.
    pub fn system(no_color: bool) -> Streams {
        let terminals = process_terminals();
        Streams {
            terminals,
            width: if terminals.stdout {
                fit::terminal_width()
            } else {
                80
            },
            no_color: no_color || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            sink: Sink::System,
        }
    }

    /// For tests: no terminals, 80 columns, colour allowed once a terminal is set
    /// ([`Streams::with_terminals`]), stdout and stderr captured.
    pub fn test() -> (Streams, Captured) {
        let captured = Captured::default();
        let streams = Streams {
            terminals: Terminals {
                stdin: false,
                stdout: false,
                stderr: false,
            },
            width: 80,
            no_color: false,
            sink: Sink::Captured(captured.clone()),
        };
        (streams, captured)
    }

    /// The same streams, with these terminals and this width.
    pub fn with_terminals(mut self, terminals: Terminals, width: usize) -> Streams {
        self.terminals = terminals;
        self.width = width;
        self
    }

    pub fn stdin_is_terminal(&self) -> bool {
        self.terminals.stdin
    }

    pub fn stdout_is_terminal(&self) -> bool {
        self.terminals.stdout
    }

    pub fn stderr_is_terminal(&self) -> bool {
        self.terminals.stderr
    }

    /// The width output is laid out for: the terminal's on a terminal, else 80.
    pub fn width(&self) -> usize {
        self.width
    }

    /// ANSI colour on stdout: a terminal, and neither `--no-color` nor `NO_COLOR`.
    pub fn color(&self) -> bool {
        self.terminals.stdout && !self.no_color
    }

    /// ANSI colour on stderr, by the same rule.
    pub fn stderr_color(&self) -> bool {
        self.terminals.stderr && !self.no_color
    }

    /// Standard output (locked for the life of the writer).
    pub fn out(&self) -> Box<dyn Write + '_> {
        match &self.sink {
            Sink::System => Box::new(io::stdout().lock()),
            Sink::Captured(captured) => Box::new(Appender(Arc::clone(&captured.out))),
        }
    }

    /// Standard error (locked for the life of the writer).
    pub fn err(&self) -> Box<dyn Write + '_> {
        match &self.sink {
            Sink::System => Box::new(io::stderr().lock()),
            Sink::Captured(captured) => Box::new(Appender(Arc::clone(&captured.err))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Terminals = Terminals {
        stdin: true,
        stdout: true,
        stderr: true,
    };

    #[test]
    fn test_streams_capture_what_is_written() {
        let (streams, captured) = Streams::test();
        writeln!(streams.out(), "data").expect("write");
        writeln!(streams.err(), "note").expect("write");
        assert_eq!(captured.stdout(), "data\n");
        assert_eq!(captured.stderr(), "note\n");
    }

    #[test]
    fn colour_needs_a_terminal_and_no_opt_out() {
        let (streams, _) = Streams::test();
        assert!(
            !streams.color() && !streams.stderr_color(),
            "a pipe has no colour"
        );
        let streams = streams.with_terminals(ALL, 120);
        assert!(streams.color() && streams.stderr_color());
        assert_eq!(streams.width(), 120);
        let (mut opted_out, _) = Streams::test();
        opted_out.no_color = true;
        assert!(!opted_out.with_terminals(ALL, 80).color());
    }

    #[test]
    fn stdout_alone_a_terminal_colours_stdout_only() {
        let (streams, _) = Streams::test();
        let only_stdout = Terminals {
            stdin: false,
            stdout: true,
            stderr: false,
        };
        let streams = streams.with_terminals(only_stdout, 80);
        assert!(streams.color() && !streams.stderr_color());
        assert!(!streams.stdin_is_terminal() && streams.stdout_is_terminal());
    }

    #[test]
    fn invalid_utf8_written_is_read_back_lossily() {
        let (streams, captured) = Streams::test();
        streams.out().write_all(b"ok \xff").expect("write");
        assert_eq!(captured.stdout(), "ok \u{fffd}");
    }
}
