//! The current line shown while it is still arriving: its text as sent (neutralised),
//! replaced by its rendered form once complete. Only that line is ever redrawn, and
//! only while it fits on the screen (the cursor cannot go above the screen's top).

use std::io::{self, Write};

use unicode_width::UnicodeWidthStr;

use crate::term::sanitize::neutralise;
use crate::term::style::back_up_and_clear;

pub struct Live {
    width: usize,
    height: usize,
    /// How many bytes of the current line are on the screen.
    shown_bytes: usize,
    /// How many columns they take.
    shown_width: usize,
}

impl Live {
    /// For stdout's terminal (80x24 when its size is unknown).
    pub fn for_terminal() -> Live {
        let (width, height) = crossterm::terminal::size()
            .map(|(w, h)| (usize::from(w), usize::from(h)))
            .unwrap_or((80, 24));
        Live::sized(width, height)
    }

    pub fn sized(width: usize, height: usize) -> Live {
        Live {
            width: width.max(1),
            height: height.max(2),
            shown_bytes: 0,
            shown_width: 0,
        }
    }

    /// Shows what `partial` (an incomplete line) adds to what is already shown: whole
    /// characters only, a trailing `\r` held (it may start a `\r\n`). Only the new
    /// bytes are read, so a long line costs the same per write as a short one.
    pub fn show(&mut self, partial: &[u8], out: &mut impl Write) -> io::Result<()> {
        let new = partial.get(self.shown_bytes..).unwrap_or_default();
        let valid = match std::str::from_utf8(new) {
            Ok(text) => text,
            // Invalid bytes are shown (as U+FFFD) only once the line is complete.
            Err(e) => std::str::from_utf8(&new[..e.valid_up_to()]).unwrap_or_default(),
        };
        let valid = valid.strip_suffix('\r').unwrap_or(valid);
        if valid.is_empty() {
            return Ok(());
        }
        let text = neutralise(valid);
        out.write_all(text.as_bytes())?;
        self.shown_bytes += valid.len();
        self.shown_width += text.width();
        Ok(())
    }

    /// Takes the shown line off the screen so its rendered form can replace it; `false`
    /// (and the line left as it is) when it is too tall to go back to.
    pub fn erase(&mut self, out: &mut impl Write) -> io::Result<bool> {
        if self.shown_bytes == 0 {
            return Ok(true);
        }
        let rows = self.shown_width.div_ceil(self.width).max(1);
        self.shown_bytes = 0;
        self.shown_width = 0;
        if rows >= self.height {
            return Ok(false);
        }
        out.write_all(back_up_and_clear(rows - 1).as_bytes())
            .map(|()| true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(width: usize, height: usize) -> Live {
        Live::sized(width, height)
    }

    #[test]
    fn shows_only_what_is_new_and_whole_characters() {
        let mut screen = Vec::new();
        let mut line = live(80, 24);
        line.show(
            "ab\u{e9}".as_bytes().split_last().expect("bytes").1,
            &mut screen,
        )
        .expect("show");
        line.show("ab\u{e9}c\r".as_bytes(), &mut screen)
            .expect("show");
        line.show(b"ab\xc3\xa9c\r\x1b", &mut screen).expect("show");
        assert_eq!(
            String::from_utf8_lossy(&screen),
            "ab\u{e9}c\r\u{241b}".replace('\r', "\u{240d}")
        );
    }

    #[test]
    fn erases_the_rows_it_took_unless_too_tall() {
        let mut screen = Vec::new();
        let mut line = live(4, 3);
        line.show(b"abcdef", &mut screen).expect("show");
        assert!(line.erase(&mut screen).expect("erase"));
        assert_eq!(
            String::from_utf8_lossy(&screen),
            format!("abcdef{}", back_up_and_clear(1))
        );
        line.show(b"abcdefghijkl", &mut screen).expect("show");
        assert!(
            !line.erase(&mut screen).expect("erase"),
            "three rows of a three-row screen"
        );
        assert!(line.erase(&mut screen).expect("nothing shown"));
    }
}
