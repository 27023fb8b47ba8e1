//! The message a one-shot command sends: an argument, stdin, or both
//! (`git diff | cometapi chat "review this"` sends the message, a blank line, then stdin).

use std::io::Read;

use crate::error::{CliError, Result};

/// Where the message comes from, decided before anything is read.
#[derive(Debug, PartialEq, Eq)]
pub enum Source<'a> {
    /// `-`: the whole message is stdin.
    Stdin,
    /// A message, joined by stdin when stdin is not a terminal.
    Given(&'a str),
    /// No message and stdin not a terminal: stdin is the message.
    Piped,
    /// No message and a terminal on stdin: the interactive REPL.
    Interactive,
}

impl<'a> Source<'a> {
    pub fn of(arg: Option<&'a str>, stdin_is_terminal: bool) -> Source<'a> {
        match arg {
            Some("-") => Source::Stdin,
            Some(message) => Source::Given(message),
            None if stdin_is_terminal => Source::Interactive,
            None => Source::Piped,
        }
    }
}

/// The message to send; reads stdin when the source says so
/// (`stdin_is_terminal`: `ctx.streams().stdin_is_terminal()`).
pub fn read(arg: Option<&str>, stdin_is_terminal: bool) -> Result<String> {
    resolve(
        Source::of(arg, stdin_is_terminal),
        stdin_is_terminal,
        read_stdin,
    )
}

/// The message when `--attach -` takes stdin: only an argument will do (never `-`,
/// and piped stdin is not added to it).
pub fn argument_only(arg: Option<&str>) -> Result<String> {
    match arg {
        Some(message) if message != "-" => Ok(message.to_string()),
        _ => Err(CliError::usage("`--attach -` reads stdin, so the message cannot come from it")
            .with_hint("give the message as an argument: `cometapi chat -a - \"describe this\" < photo.png`")),
    }
}

/// Piped stdin as an optional message: `None` when stdin is a terminal or blank.
pub fn piped(stdin_is_terminal: bool) -> Result<Option<String>> {
    if stdin_is_terminal {
        return Ok(None);
    }
    let text = read_stdin()?;
    Ok((!text.trim().is_empty()).then_some(text))
}

/// [`read`] with stdin given as a function, for tests.
pub fn resolve(
    source: Source,
    stdin_is_terminal: bool,
    read: impl FnOnce() -> Result<String>,
) -> Result<String> {
    match source {
        // `chat` starts its REPL before reading; other callers need a message.
        Source::Interactive => Err(CliError::usage("no message given")
            .with_hint("pass a message (`cometapi chat \"hello\"`) or pipe one on stdin")),
        Source::Given(message) if stdin_is_terminal => Ok(message.to_string()),
        Source::Given(message) => {
            let piped = read()?;
            Ok(if piped.trim().is_empty() {
                message.to_string()
            } else {
                format!("{message}\n\n{piped}")
            })
        }
        Source::Stdin | Source::Piped => {
            let piped = read()?;
            if piped.trim().is_empty() {
                return Err(CliError::usage("no message: stdin was empty")
                    .with_hint("pass a message (`cometapi chat \"hello\"`) or pipe one on stdin"));
            }
            Ok(piped)
        }
    }
}

fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::failure(format!("cannot read stdin: {e}")))?;
    String::from_utf8(bytes).map_err(|_| CliError::usage("stdin is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdin(text: &'static str) -> impl FnOnce() -> Result<String> {
        move || Ok(text.to_string())
    }

    #[test]
    fn sources() {
        assert_eq!(Source::of(Some("-"), true), Source::Stdin);
        assert_eq!(Source::of(Some("hi"), false), Source::Given("hi"));
        assert_eq!(Source::of(None, false), Source::Piped);
        assert_eq!(Source::of(None, true), Source::Interactive);
    }

    #[test]
    fn piped_stdin_joins_the_message_after_a_blank_line() {
        let joined = resolve(Source::Given("review"), false, stdin("diff\n")).expect("ok");
        assert_eq!(joined, "review\n\ndiff\n");
        let alone = resolve(Source::Given("hi"), false, stdin("")).expect("ok");
        assert_eq!(alone, "hi");
        let whole = resolve(Source::Stdin, false, stdin("all of it")).expect("ok");
        assert_eq!(whole, "all of it");
    }

    #[test]
    fn interactive_and_empty_are_usage_errors() {
        let err = resolve(Source::Interactive, true, stdin("")).expect_err("repl");
        assert_eq!(err.exit.code(), 2);
        assert!(err.message.contains("no message given"));
        let err = resolve(Source::Piped, false, stdin("  \n")).expect_err("empty");
        assert_eq!(err.exit.code(), 2);
    }
}
