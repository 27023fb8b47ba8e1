//! The one place for the escapes of ours that reach a terminal: text styles (bold, dim,
//! colours) named with `anstyle`, and cursor control (move up, clear) from `crossterm`.
//! Everything else writes `{BOLD}…{RESET}` or calls [`back_up_and_clear`].

use std::fmt;

use anstyle::AnsiColor;
use crossterm::cursor::MoveUp;
use crossterm::terminal::{Clear, ClearType};
use crossterm::Command;

/// A text style, written by `{style}` (see [`Style::fmt`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style(anstyle::Style);

/// No style: writes nothing (the base of text outside any styled span).
pub const PLAIN: Style = Style(anstyle::Style::new());
pub const BOLD: Style = Style(anstyle::Style::new().bold());
pub const DIM: Style = Style(anstyle::Style::new().dimmed());
pub const ITALIC: Style = Style(anstyle::Style::new().italic());
pub const UNDERLINE: Style = Style(anstyle::Style::new().underline());
pub const STRIKE: Style = Style(anstyle::Style::new().strikethrough());
pub const CYAN: Style = fg(AnsiColor::Cyan, false);
pub const YELLOW: Style = fg(AnsiColor::Yellow, false);
pub const BOLD_RED: Style = fg(AnsiColor::Red, true);
pub const BOLD_MAGENTA: Style = fg(AnsiColor::Magenta, true);

/// Ends every style: `\x1b[0m`.
pub const RESET: anstyle::Reset = anstyle::Reset;

/// How a 24-bit foreground colour starts, as `syntect` writes the colours of code; tests
/// look for it.
#[cfg(test)]
pub const TRUE_COLOUR: &str = "\x1b[38;2;";

const fn fg(color: AnsiColor, bold: bool) -> Style {
    let base = anstyle::Style::new().fg_color(Some(anstyle::Color::Ansi(color)));
    Style(if bold { base.bold() } else { base })
}

impl Style {
    /// `text` in this style, then [`RESET`]; `text` alone when `colour` is off
    /// (`--no-color`, `NO_COLOR`, or not a terminal).
    pub fn paint(self, text: impl fmt::Display, colour: bool) -> String {
        if colour {
            format!("{self}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

impl fmt::Display for Style {
    /// As anstyle writes it: one sequence per attribute (`\x1b[1m\x1b[35m`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render().fmt(f)
    }
}

/// Back to the start of the line, up `rows` more rows, and the screen cleared from there
/// down: what redraws a block of lines in place.
pub fn back_up_and_clear(rows: usize) -> String {
    let mut out = String::from("\r");
    if rows > 0 {
        // The cursor never goes above the screen's top: more rows than u16 is the same.
        let rows = u16::try_from(rows).unwrap_or(u16::MAX);
        let _ = MoveUp(rows).write_ansi(&mut out); // a String never fails to take text
    }
    let _ = Clear(ClearType::FromCursorDown).write_ansi(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_style_is_the_sequence_the_terminal_has_always_had() {
        for (style, bytes) in [
            (PLAIN, ""),
            (BOLD, "\x1b[1m"),
            (DIM, "\x1b[2m"),
            (ITALIC, "\x1b[3m"),
            (UNDERLINE, "\x1b[4m"),
            (STRIKE, "\x1b[9m"),
            (CYAN, "\x1b[36m"),
            (YELLOW, "\x1b[33m"),
            (BOLD_RED, "\x1b[1m\x1b[31m"),
            (BOLD_MAGENTA, "\x1b[1m\x1b[35m"),
        ] {
            assert_eq!(style.to_string(), bytes, "{style:?}");
        }
        assert_eq!(RESET.to_string(), "\x1b[0m");
    }

    #[test]
    fn paint_styles_only_with_colour() {
        assert_eq!(DIM.paint("note", true), "\x1b[2mnote\x1b[0m");
        assert_eq!(DIM.paint("note", false), "note");
        assert_eq!(PLAIN.paint(3, true), "3\x1b[0m");
    }

    #[test]
    fn back_up_and_clear_goes_up_the_rows_asked() {
        assert_eq!(back_up_and_clear(0), "\r\x1b[J");
        assert_eq!(back_up_and_clear(4), "\r\x1b[4A\x1b[J");
        assert_eq!(back_up_and_clear(usize::MAX), "\r\x1b[65535A\x1b[J");
    }
}
