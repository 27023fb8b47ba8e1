//! Fenced code blocks: the opening and closing fences, and each line highlighted by
//! `syntect` as it comes. The syntaxes and theme are loaded the first time a block
//! opens, so a reply without code (and start-up) never pays for them.

use std::sync::OnceLock;

use syntect::easy::HighlightLines;
use syntect::highlighting::{Theme, ThemeSet};
use syntect::parsing::SyntaxSet;
use syntect::util::as_24_bit_terminal_escaped;

use super::{CODE, RESET};

const THEME: &str = "base16-ocean.dark";

fn syntaxes() -> &'static SyntaxSet {
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines)
}

fn theme() -> Option<&'static Theme> {
    static THEME_SET: OnceLock<ThemeSet> = OnceLock::new();
    THEME_SET
        .get_or_init(ThemeSet::load_defaults)
        .themes
        .get(THEME)
}

/// An open fenced block.
pub struct Block {
    /// The fence that closes it: the same character, at least as many.
    fence: String,
    /// `None` when the language is unknown: the code is shown in one colour.
    highlighter: Option<HighlightLines<'static>>,
}

impl Block {
    /// The block a line like `` ```rust `` or `~~~` opens, if it is a fence.
    pub fn opened_by(line: &str) -> Option<Block> {
        let trimmed = line.trim_start_matches(' ');
        if line.len() - trimmed.len() > 3 {
            return None;
        }
        let mark = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let fence_len = trimmed.len() - trimmed.trim_start_matches(mark).len();
        let info = trimmed[fence_len..].trim();
        if fence_len < 3 || (mark == '`' && info.contains('`')) {
            return None;
        }
        let language = info.split_whitespace().next().unwrap_or("");
        let highlighter = (!language.is_empty())
            .then(|| syntaxes().find_syntax_by_token(language))
            .flatten()
            .zip(theme())
            .map(|(syntax, theme)| HighlightLines::new(syntax, theme));
        Some(Block {
            fence: trimmed[..fence_len].to_string(),
            highlighter,
        })
    }

    /// Whether `line` is this block's closing fence.
    pub fn closes(&self, line: &str) -> bool {
        let trimmed = line.trim();
        let Some(mark) = self.fence.chars().next() else {
            return false;
        };
        trimmed.len() >= self.fence.len() && trimmed.chars().all(|c| c == mark)
    }

    /// One line of code, coloured.
    pub fn highlight(&mut self, line: &str) -> String {
        let with_newline = format!("{line}\n");
        let ranges = self
            .highlighter
            .as_mut()
            .and_then(|h| h.highlight_line(&with_newline, syntaxes()).ok());
        match ranges {
            Some(ranges) => {
                let shown = as_24_bit_terminal_escaped(&ranges, false);
                format!("{}{RESET}", shown.trim_end_matches('\n'))
            }
            None => format!("{CODE}{line}{RESET}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_open_and_close() {
        let block = Block::opened_by("```rust").expect("a fence");
        assert!(block.highlighter.is_some());
        assert!(block.closes("```") && block.closes(" ```` "));
        assert!(!block.closes("~~~") && !block.closes("``` x"));
        assert!(Block::opened_by("``").is_none());
        assert!(Block::opened_by("    ```").is_none());
        assert!(Block::opened_by("``` a`b").is_none());
        assert!(Block::opened_by("~~~ nosuchlanguage")
            .expect("fence")
            .highlighter
            .is_none());
    }

    #[test]
    fn code_is_coloured_and_keeps_its_text() {
        let mut block = Block::opened_by("```rust").expect("a fence");
        let shown = block.highlight("fn main() {}");
        assert!(shown.contains(crate::term::style::TRUE_COLOUR), "{shown:?}");
        assert_eq!(
            crate::term::markdown::inline::tests::strip(&shown),
            "fn main() {}"
        );
    }
}
