//! Several titled texts shown together: side by side in columns when the width allows,
//! else stacked one section after another; and [`Board`], the same layout redrawn in
//! place on a terminal while the texts are still arriving. Texts given here must already
//! be neutralised (`terminal_text`): this module adds its own escapes around them.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use crate::output::fit;
use crate::term::sanitize::neutralise;
use crate::term::style::back_up_and_clear;

/// The least time between two redraws while text arrives (a finished text redraws at once).
pub const REDRAW_EVERY: Duration = Duration::from_millis(40);

/// The narrowest a side-by-side column may be; below it the texts are stacked.
pub const MIN_COLUMN: usize = 28;
const GUTTER: &str = " │ ";

/// The column width for `panes` texts in `width`, or `None` when too narrow for columns.
pub fn column_width(panes: usize, width: usize) -> Option<usize> {
    let panes = panes.max(1);
    let column = width.saturating_sub(fit::width(GUTTER) * (panes - 1)) / panes;
    (column >= MIN_COLUMN).then_some(column)
}

/// `(title, text)` pairs in columns `column` wide; `tail` keeps only each text's last
/// that many rows (a live view bounded by the screen's height).
pub fn side_by_side(panes: &[(&str, &str)], column: usize, tail: Option<usize>) -> Vec<String> {
    let wrapped: Vec<Vec<String>> = panes
        .iter()
        .map(|(title, text)| {
            let mut lines = vec![fit::truncate(title, column), "─".repeat(column)];
            lines.extend(last_rows(text, column, tail));
            lines
        })
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(0);
    (0..height)
        .map(|row| {
            let cells: Vec<String> = wrapped
                .iter()
                .map(|lines| {
                    let cell = lines.get(row).map_or("", String::as_str);
                    format!(
                        "{cell}{}",
                        " ".repeat(column.saturating_sub(fit::width(cell)))
                    )
                })
                .collect();
            cells.join(GUTTER).trim_end().to_string()
        })
        .collect()
}

/// One `== title ==` section per pair, wrapped to `width`; `tail` as for [`side_by_side`].
pub fn stacked(panes: &[(&str, &str)], width: usize, tail: Option<usize>) -> Vec<String> {
    let mut lines = Vec::new();
    for (i, (title, text)) in panes.iter().enumerate() {
        if i > 0 {
            lines.push(String::new());
        }
        lines.push(fit::truncate(&format!("== {title} =="), width));
        lines.extend(last_rows(text, width, tail));
    }
    lines
}

/// `text` wrapped to `width`, only its last `tail` rows when given. Only the last
/// `tail` source lines are wrapped, so a redraw costs the same late in a long reply.
fn last_rows(text: &str, width: usize, tail: Option<usize>) -> Vec<String> {
    let Some(tail) = tail else {
        return fit::wrap(text, width).lines().map(str::to_string).collect();
    };
    let start = text
        .char_indices()
        .rev()
        .filter(|(_, c)| *c == '\n')
        .nth(tail)
        .map_or(0, |(at, _)| at + 1);
    let rows: Vec<String> = fit::wrap(text.get(start..).unwrap_or(text), width)
        .lines()
        .map(str::to_string)
        .collect();
    let skip = rows.len().saturating_sub(tail);
    rows.into_iter().skip(skip).collect()
}

/// The texts redrawn in place as they grow: the block below the cursor's starting line
/// is cleared and drawn again, never taller than the screen (so the cursor can always
/// go back to its top), each text showing its latest rows.
pub struct Board {
    width: usize,
    height: usize,
    /// Rows of the block now on the screen (0 before the first draw).
    drawn: usize,
}

impl Board {
    pub fn new(width: usize, height: usize) -> Board {
        Board {
            width: width.max(1),
            height: height.max(4),
            drawn: 0,
        }
    }

    /// Replaces the block on the screen by `panes` (neutralised text).
    pub fn draw(&mut self, panes: &[(&str, &str)], out: &mut impl Write) -> io::Result<()> {
        let budget = self.height - 1;
        let lines = match column_width(panes.len(), self.width) {
            Some(column) => side_by_side(panes, column, Some(budget.saturating_sub(2).max(1))),
            None => {
                let each = budget.saturating_sub(panes.len() * 2) / panes.len().max(1);
                stacked(panes, self.width, Some(each.max(1)))
            }
        };
        let skip = lines.len().saturating_sub(budget);
        let shown = lines.get(skip..).unwrap_or_default();
        let mut frame = self.clearing();
        frame.push_str(&shown.join("\n"));
        self.drawn = shown.len();
        out.write_all(frame.as_bytes())?;
        out.flush()
    }

    /// Takes the block off the screen (for the full text to be printed in its place).
    pub fn clear(&mut self, out: &mut impl Write) -> io::Result<()> {
        let frame = self.clearing();
        self.drawn = 0;
        out.write_all(frame.as_bytes())?;
        out.flush()
    }

    /// Ends the block's last line and leaves it on the screen (after Ctrl-C).
    pub fn leave(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.drawn > 0 {
            self.drawn = 0;
            out.write_all(b"\n")?;
        }
        out.flush()
    }

    /// The escapes that move to the block's top and erase to the screen's end.
    fn clearing(&self) -> String {
        match self.drawn {
            0 => String::new(),
            rows => back_up_and_clear(rows - 1),
        }
    }
}

/// Texts that grow from several threads at once (behind a mutex), drawn on a [`Board`]
/// on stdout's terminal. Server text is neutralised before it is laid out.
pub struct LiveLanes {
    titles: Vec<String>,
    texts: Vec<Vec<u8>>,
    board: Board,
    last_draw: Option<Instant>,
    /// Text arrived since the last redraw (held back because that was very recent).
    behind: bool,
}

impl LiveLanes {
    pub fn new(titles: &[String], width: usize, height: usize) -> LiveLanes {
        LiveLanes {
            titles: titles.iter().map(|t| neutralise(t).into_owned()).collect(),
            texts: vec![Vec::new(); titles.len()],
            board: Board::new(width, height),
            last_draw: None,
            behind: false,
        }
    }

    /// Adds `bytes` to text `lane`, redrawing unless the last redraw was very recent.
    pub fn push(&mut self, lane: usize, bytes: &[u8]) -> io::Result<()> {
        if let Some(text) = self.texts.get_mut(lane) {
            text.extend_from_slice(bytes);
        }
        if self.last_draw.is_some_and(|at| at.elapsed() < REDRAW_EVERY) {
            self.behind = true;
            return Ok(());
        }
        self.redraw()
    }

    /// Draws text held back by [`push`](Self::push), so a reply that pauses right after
    /// a piece still shows that piece; call it every [`REDRAW_EVERY`].
    pub fn catch_up(&mut self) -> io::Result<()> {
        if self.behind {
            self.redraw()
        } else {
            Ok(())
        }
    }

    /// Text `lane` is complete (replaced by `replacement`, an error, when given): redrawn now.
    pub fn finish(&mut self, lane: usize, replacement: Option<&str>) -> io::Result<()> {
        if let (Some(text), Some(replacement)) = (self.texts.get_mut(lane), replacement) {
            *text = replacement.as_bytes().to_vec();
        }
        self.redraw()
    }

    /// Draws every text as it is now (at the start: the titles over empty texts).
    pub fn redraw(&mut self) -> io::Result<()> {
        let texts: Vec<String> = self
            .texts
            .iter()
            .map(|t| neutralise(String::from_utf8_lossy(t).trim_end()).into_owned())
            .collect();
        let panes: Vec<(&str, &str)> = self
            .titles
            .iter()
            .zip(&texts)
            .map(|(title, text)| (title.as_str(), text.as_str()))
            .collect();
        self.last_draw = Some(Instant::now());
        self.behind = false;
        self.board.draw(&panes, &mut io::stdout().lock())
    }

    /// Takes the live block off the screen.
    pub fn clear(&mut self) -> io::Result<()> {
        self.board.clear(&mut io::stdout().lock())
    }

    /// Leaves the live block as it is, its last line ended (after Ctrl-C).
    pub fn leave(&mut self) -> io::Result<()> {
        self.board.leave(&mut io::stdout().lock())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_when_wide_enough_else_none() {
        assert_eq!(column_width(2, 80), Some(38));
        assert_eq!(column_width(3, 80), None);
    }

    #[test]
    fn tail_keeps_the_last_rows_only() {
        assert_eq!(last_rows("a\nb\nc\nd", 10, Some(2)), ["c", "d"]);
        assert_eq!(last_rows("a\nb", 10, Some(5)), ["a", "b"]);
        assert_eq!(last_rows("aaaa bbbb cccc", 4, Some(2)), ["bbbb", "cccc"]);
        assert_eq!(last_rows("a\nb", 10, None), ["a", "b"]);
    }

    #[test]
    fn side_by_side_pads_every_column_but_the_last() {
        let lines = side_by_side(&[("one", "hi"), ("two", "there")], 5, None);
        assert_eq!(lines[0], "one   │ two");
        assert_eq!(lines[2], "hi    │ there");
    }

    #[test]
    fn a_redraw_goes_back_over_the_rows_it_drew_and_never_past_the_screen() {
        let mut board = Board::new(80, 6);
        let mut out = Vec::new();
        board
            .draw(&[("a", "1\n2\n3\n4\n5\n6\n7"), ("b", "x")], &mut out)
            .expect("draw");
        let first = String::from_utf8(out.clone()).expect("utf8");
        assert_eq!(first.lines().count(), 5, "within the screen: {first}");
        assert!(first.contains('7') && !first.contains("\n4"), "{first}");
        out.clear();
        board
            .draw(&[("a", "8"), ("b", "y")], &mut out)
            .expect("draw");
        let second = String::from_utf8(out).expect("utf8");
        assert!(second.starts_with(&back_up_and_clear(4)), "{second:?}");
    }

    #[test]
    fn narrow_screens_stack_the_texts() {
        let mut board = Board::new(40, 20);
        let mut out = Vec::new();
        board
            .draw(&[("a", "one"), ("b", "two"), ("c", "three")], &mut out)
            .expect("draw");
        let shown = String::from_utf8(out).expect("utf8");
        assert!(
            shown.contains("== a ==\none") && shown.contains("== c ==\nthree"),
            "{shown}"
        );
    }
}
