//! A model's Markdown reply rendered on a terminal while it streams: headings,
//! emphasis, lists, block quotes, links, tables and fenced code (highlighted by
//! `syntect`, loaded only when a code block appears).
//!
//! Line-buffered, so text already shown is never redrawn: a line is rendered once it is
//! complete, a code block line by line, a table once its last row has come. Every line
//! is [`neutralise`](crate::term::sanitize::neutralise)d before any escape of ours is
//! added, so the server's control characters never reach the terminal. Used only on a
//! terminal with colour; piped output is the model's bytes unchanged.

mod code;
mod inline;
mod live;
mod table;

use std::io::{self, Write};

use clap::{Arg, ArgAction};

use crate::term::sanitize::neutralise;

pub(crate) use crate::term::style::{Style, BOLD, DIM, ITALIC, PLAIN, RESET, STRIKE, UNDERLINE};
pub(crate) const CODE: Style = crate::term::style::CYAN;
pub(crate) const HEADING: Style = crate::term::style::BOLD_MAGENTA;

/// `--raw`, shared by the commands that render replies.
pub fn raw_arg() -> Arg {
    Arg::new("raw")
        .long("raw")
        .action(ArgAction::SetTrue)
        .help("Show the reply as the model wrote it, not rendered as Markdown on a terminal (also: config set render false)")
}

/// The block the next line belongs to.
enum Block {
    Text,
    Code(Box<code::Block>),
    /// Table rows so far, drawn when the table ends.
    Table(Vec<String>),
}

/// A writer that renders the Markdown written through it into `inner`.
pub struct Renderer<W: Write> {
    inner: W,
    /// The current line, not yet complete.
    partial: Vec<u8>,
    block: Block,
    /// On a terminal: the current line shown as it arrives.
    live: Option<live::Live>,
}

impl<W: Write> Renderer<W> {
    /// Renders each line once it is complete.
    pub fn new(inner: W) -> Renderer<W> {
        Renderer {
            inner,
            partial: Vec::new(),
            block: Block::Text,
            live: None,
        }
    }

    /// For a terminal: also shows the current line as it arrives, then redraws it rendered.
    pub fn on_terminal(inner: W) -> Renderer<W> {
        Renderer {
            live: Some(live::Live::for_terminal()),
            ..Renderer::new(inner)
        }
    }

    /// Renders what is still held (a last line without a newline, a table) and
    /// flushes; returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.line(&line, false)?;
        }
        self.end_table()?;
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// A complete line (`newline`), or the last one without a line end.
    fn line(&mut self, bytes: &[u8], newline: bool) -> io::Result<()> {
        let text = String::from_utf8_lossy(bytes);
        let text = neutralise(text.trim_end_matches(['\n', '\r']));
        let redraw = match &mut self.live {
            Some(live) => live.erase(&mut self.inner)?,
            None => true,
        };
        // Too tall to redraw, the line stays as sent; its block is still followed.
        let rendered = self.rendered(&text)?.filter(|_| redraw);
        if let Some(rendered) = &rendered {
            self.inner.write_all(rendered.as_bytes())?;
        }
        // A table row waits for its table.
        if newline && (rendered.is_some() || !redraw) {
            self.inner.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The line as it is shown, given the block it is in; `None` for a table row.
    fn rendered(&mut self, text: &str) -> io::Result<Option<String>> {
        if let Block::Code(block) = &mut self.block {
            if block.closes(text) {
                self.block = Block::Text;
                return Ok(Some(format!("{DIM}{text}{RESET}")));
            }
            return Ok(Some(block.highlight(text)));
        }
        if table::is_row(text) {
            match &mut self.block {
                Block::Table(rows) => rows.push(text.to_string()),
                _ => self.block = Block::Table(vec![text.to_string()]),
            }
            return Ok(None);
        }
        self.end_table()?;
        if let Some(block) = code::Block::opened_by(text) {
            self.block = Block::Code(Box::new(block));
            return Ok(Some(format!("{DIM}{text}{RESET}")));
        }
        Ok(Some(inline::block_line(text)))
    }

    /// Shows the incomplete line as it is so far, once it is known not to be a table
    /// row (a table is drawn first when this line ends it).
    fn show_partial(&mut self) -> io::Result<()> {
        let start = self.partial.trim_ascii_start();
        let in_code = matches!(self.block, Block::Code(_));
        if start.is_empty() || (!in_code && start.starts_with(b"|")) {
            return Ok(());
        }
        self.end_table()?;
        match &mut self.live {
            Some(live) => live.show(&self.partial, &mut self.inner),
            None => Ok(()),
        }
    }

    fn end_table(&mut self) -> io::Result<()> {
        if !matches!(self.block, Block::Table(_)) {
            return Ok(());
        }
        if let Block::Table(rows) = std::mem::replace(&mut self.block, Block::Text) {
            match table::draw(&rows) {
                Some(drawn) => writeln!(self.inner, "{drawn}")?,
                None => {
                    for row in rows {
                        writeln!(self.inner, "{}", inline::block_line(&row))?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl<W: Write> Write for Renderer<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while let Some(at) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(at + 1);
            if self.partial.is_empty() {
                self.line(line, true)?;
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                self.line(&whole, true)?;
            }
            rest = after;
        }
        self.partial.extend_from_slice(rest);
        if self.live.is_some() {
            self.show_partial()?;
        }
        Ok(buf.len())
    }

    /// Flushes what was rendered; an incomplete line stays held.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `markdown` rendered whole (`--no-stream` on a terminal).
pub fn to_string(markdown: &str) -> String {
    let mut renderer = Renderer::new(Vec::new());
    // Writing to a Vec cannot fail.
    let bytes = renderer
        .write_all(markdown.as_bytes())
        .and_then(|()| renderer.finish())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::term::markdown::inline::tests::strip;
    use crate::term::style::{back_up_and_clear, TRUE_COLOUR};

    #[test]
    fn lines_are_rendered_only_once_complete() {
        let mut renderer = Renderer::new(Vec::new());
        renderer.write_all(b"# Ti").expect("write");
        assert!(renderer.inner.is_empty(), "half a line is held");
        renderer.write_all(b"tle\nplain").expect("write");
        let shown = String::from_utf8_lossy(&renderer.inner).into_owned();
        assert_eq!(shown, format!("{HEADING}Title{RESET}\n"));
        let all = renderer.finish().expect("finish");
        assert!(String::from_utf8_lossy(&all).ends_with("plain"));
    }

    #[test]
    fn on_a_terminal_the_current_line_shows_as_it_comes_then_rendered() {
        let mut renderer = Renderer {
            live: Some(live::Live::sized(80, 24)),
            ..Renderer::new(Vec::new())
        };
        renderer.write_all(b"# Ti").expect("write");
        assert_eq!(renderer.inner, b"# Ti");
        renderer.write_all(b"tle\n| a |\n|--").expect("write");
        let shown = String::from_utf8_lossy(&renderer.inner).into_owned();
        assert_eq!(
            shown,
            format!("# Ti{}{HEADING}Title{RESET}\n", back_up_and_clear(0)),
            "rows wait"
        );
        renderer.write_all(b"|\n```rust\nfn x").expect("write");
        renderer.write_all(b"() {}\n").expect("write");
        let shown = String::from_utf8_lossy(&renderer.inner).into_owned();
        assert!(
            shown.ends_with(&format!("{RESET}\n")),
            "code keeps its block: {shown:?}"
        );
        assert!(
            shown.contains(TRUE_COLOUR),
            "code keeps its block: {shown:?}"
        );
        renderer.write_all(b"```\nnext").expect("write");
        let shown = String::from_utf8_lossy(&renderer.inner).into_owned();
        assert!(
            shown.contains(&format!("└───┘\n{DIM}```rust"))
                && shown.ends_with(&format!("```{RESET}\nnext")),
            "the table is drawn before the next line: {shown:?}"
        );
    }

    #[test]
    fn a_whole_reply_keeps_its_words() {
        let markdown = "# Plan\n\nSome *very* **bold** `code` and [a link](https://x.y).\n\n\
                        - one\n- two\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n\
                        ```rust\nfn main() {}\n```\nafter\n";
        let shown = to_string(markdown);
        let text = strip(&shown);
        for words in [
            "Plan",
            "very",
            "bold",
            "code",
            "a link (https://x.y)",
            "• one",
            "│ quoted",
            "fn main() {}",
            "after",
        ] {
            assert!(text.contains(words), "{words:?} in {text:?}");
        }
        assert!(
            text.contains('1') && text.contains('─'),
            "a drawn table: {text}"
        );
        assert!(!text.contains("**"), "{text}");
    }

    #[test]
    fn control_characters_from_the_model_are_neutralised() {
        let shown = to_string(
            "# \x1b]0;pwned\x07 title\n```\n\u{1b}[2J\n```\n| \u{1b}[2J | b |\n|---|---|\n",
        );
        assert!(!shown.contains("\x1b]"), "{shown:?}");
        assert!(!shown.contains("\u{1b}[2J"), "{shown:?}");
        assert!(!shown.contains('\x07'), "{shown:?}");
        assert!(shown.contains("␛]0;pwned␇"), "{shown:?}");
    }

    proptest::proptest! {
        #[test]
        fn only_our_colours_reach_the_terminal(markdown in "[#*`~|>\\-\n\x1b\x07\u{9b} a-z\u{e9}0-9\\[\\]()]{0,300}") {
            let shown = to_string(&markdown);
            let harmless = !shown.contains('\x07') && !shown.contains('\u{9b}');
            proptest::prop_assert!(harmless, "{:?}", shown);
            for piece in shown.split('\x1b').skip(1) {
                let sgr = piece.strip_prefix('[').and_then(|p| p.split_once('m'));
                let params_ok = sgr.is_some_and(|(params, _)| params.chars().all(|c| c.is_ascii_digit() || c == ';'));
                proptest::prop_assert!(params_ok, "{:?}", shown);
            }
        }
    }
}
