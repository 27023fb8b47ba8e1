//! Line prompts on the terminal, with hidden input for secrets. Built on crossterm
//! (already in the tree through reedline): raw mode, keys read one by one, nothing
//! echoed for hidden input. Prompts go to stderr, so stdout stays data.

use std::io::{self, Write};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::terminal;

use crate::error::{CliError, ExitCode, Result};

/// Leaves raw mode however the prompt ends.
struct RawMode;

impl RawMode {
    fn enable() -> Result<RawMode> {
        terminal::enable_raw_mode()
            .map_err(|e| CliError::failure("cannot read from the terminal").caused_by(e))?;
        Ok(RawMode)
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = terminal::disable_raw_mode();
    }
}

/// What one key does to the line being typed.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Continue,
    Done,
    Interrupted,
    EndOfInput,
}

/// Applies one key to `line`; pure, so it is tested without a terminal.
fn apply(line: &mut String, key: KeyEvent) -> Step {
    if key.kind == KeyEventKind::Release {
        return Step::Continue;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Enter => Step::Done,
        KeyCode::Char('c') if ctrl => Step::Interrupted,
        KeyCode::Char('d') if ctrl && line.is_empty() => Step::EndOfInput,
        KeyCode::Char('u') if ctrl => {
            line.clear();
            Step::Continue
        }
        KeyCode::Backspace => {
            line.pop();
            Step::Continue
        }
        KeyCode::Char(c) if !ctrl => {
            line.push(c);
            Step::Continue
        }
        _ => Step::Continue,
    }
}

/// The error a cancelled prompt becomes: 130 for Ctrl-C, 1 for Ctrl-D.
pub fn cancelled(interrupted: bool) -> CliError {
    if interrupted {
        CliError::new(ExitCode::Interrupted, "interrupted; nothing was changed")
    } else {
        CliError::failure("cancelled at end of input; nothing was changed")
    }
}

/// Shows `prompt` on stderr and reads one line from the terminal. Hidden input echoes
/// nothing. Ctrl-C is exit 130 and Ctrl-D on an empty line exit 1 (see [`cancelled`]).
pub fn read_line(prompt: &str, hidden: bool) -> Result<String> {
    // Raw mode first, so nothing typed after the prompt appears is ever echoed.
    let raw = RawMode::enable()?;
    let mut err = io::stderr();
    let _ = write!(err, "{prompt}");
    let _ = err.flush();
    let mut line = String::new();
    let step = loop {
        let event = event::read()
            .map_err(|e| CliError::failure("cannot read from the terminal").caused_by(e))?;
        let Event::Key(key) = event else { continue };
        let before = line.chars().count();
        let step = apply(&mut line, key);
        if step != Step::Continue {
            break step;
        }
        if !hidden {
            let after = line.chars().count();
            if after > before {
                let _ = write!(err, "{}", line.chars().last().unwrap_or(' '));
            } else {
                let _ = write!(err, "{}", "\x08 \x08".repeat(before - after));
            }
            let _ = err.flush();
        }
    };
    let _ = write!(err, "\r\n");
    drop(raw);
    match step {
        Step::Done => Ok(line),
        Step::Interrupted => Err(cancelled(true)),
        _ => Err(cancelled(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn keys_edit_the_line() {
        let mut line = String::new();
        let none = KeyModifiers::NONE;
        for c in "sk-x".chars() {
            assert_eq!(
                apply(&mut line, key(KeyCode::Char(c), none)),
                Step::Continue
            );
        }
        apply(&mut line, key(KeyCode::Backspace, none));
        assert_eq!(line, "sk-");
        assert_eq!(apply(&mut line, key(KeyCode::Enter, none)), Step::Done);
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            apply(&mut line, key(KeyCode::Char('d'), ctrl)),
            Step::Continue,
            "Ctrl-D ends input only on an empty line"
        );
        assert_eq!(
            apply(&mut line, key(KeyCode::Char('c'), ctrl)),
            Step::Interrupted
        );
        apply(&mut line, key(KeyCode::Char('u'), ctrl));
        assert_eq!(
            apply(&mut line, key(KeyCode::Char('d'), ctrl)),
            Step::EndOfInput
        );
    }
}
