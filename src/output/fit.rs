//! Fitting a table to a terminal's width without splitting what must stay whole.
//!
//! Every column declares how its text may be fitted (`output::Fit`): ids, dates,
//! numbers and money are never split or shortened; free text is cut at a space with
//! `…` or wrapped at spaces. When even the shortest form does not fit, droppable
//! columns are left out, lowest rank first (`Column::droppable`), and the table
//! formatter names them under the table.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::output::Fit;

/// The narrowest a free-text column is made before columns are dropped instead.
const FREE_TEXT_MIN: usize = 16;

/// What the fitter needs to know of one column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// The header's width: a header is never split either.
    pub header: usize,
    /// The widest line of the header and every cell.
    pub natural: usize,
    pub fit: Fit,
    pub drop_rank: Option<u8>,
}

impl Needs {
    fn minimum(&self) -> usize {
        match self.fit {
            Fit::Whole => self.natural,
            Fit::Truncate | Fit::Wrap => self.natural.min(self.header.max(FREE_TEXT_MIN)),
        }
    }
}

/// Which columns to show and how wide each is; `kept` and `dropped` index the `Needs`.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan {
    pub kept: Vec<usize>,
    /// The width of each kept column, in the order of `kept`.
    pub widths: Vec<usize>,
    /// Left out to fit, in the order they were dropped.
    pub dropped: Vec<usize>,
}

/// The width the borders take: `│ ` before, ` │ ` between and ` │` after the columns.
pub fn frame(columns: usize) -> usize {
    3 * columns + 1
}

/// Drops droppable columns (lowest rank first; among equals the rightmost) until the
/// rest fit `width` at their narrowest, then gives free text the room that is left.
/// A table whose undroppable columns are wider than `width` is left wider: an id the
/// terminal wraps is still whole when copied, one the table split is not.
pub fn plan(columns: &[Needs], width: usize) -> Plan {
    let needed = |kept: &[usize]| {
        kept.iter().map(|&i| columns[i].minimum()).sum::<usize>() + frame(kept.len())
    };
    let mut order: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].drop_rank.is_some())
        .collect();
    order.sort_by_key(|&i| (columns[i].drop_rank, std::cmp::Reverse(i)));
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    let mut dropped = Vec::new();
    for i in order {
        if needed(&kept) <= width {
            break;
        }
        kept.retain(|&k| k != i);
        dropped.push(i);
    }
    let mut spare = width.saturating_sub(needed(&kept));
    let widths = kept
        .iter()
        .map(|&i| {
            let minimum = columns[i].minimum();
            let grow = (columns[i].natural - minimum).min(spare);
            spare -= grow;
            minimum + grow
        })
        .collect();
    Plan {
        kept,
        widths,
        dropped,
    }
}

/// The display width of the widest line (wide characters count two).
pub fn width(text: &str) -> usize {
    text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0)
}

/// Fits a cell's text to `width` as its column declares.
pub fn fitted(text: &str, fit: Fit, width: usize) -> String {
    match fit {
        Fit::Whole => text.to_string(),
        Fit::Truncate => truncate(text, width),
        Fit::Wrap => wrap(text, width),
    }
}

/// One line at most `width` wide: cut at the last space that fits and ended with `…`;
/// only a first word longer than the width is cut inside.
pub fn truncate(text: &str, width: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.width() <= width {
        return line;
    }
    let room = width.saturating_sub(1); // for the `…`
    let mut cut = String::new();
    for c in line.chars() {
        if cut.width() + c.width().unwrap_or(0) > room {
            // Mid-word: go back to the last space, if there is one.
            let whole_words = line
                .get(cut.len()..)
                .is_some_and(|rest| rest.starts_with(' '));
            if !whole_words {
                if let Some(space) = cut.rfind(' ') {
                    cut.truncate(space);
                }
            }
            break;
        }
        cut.push(c);
    }
    format!("{}…", cut.trim_end())
}

/// Lines at most `width` wide, broken at spaces; a word longer than the width is cut.
pub fn wrap(text: &str, width: usize) -> String {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let mut word = word.to_string();
            if !line.is_empty() && line.width() + 1 + word.width() > width {
                lines.push(std::mem::take(&mut line));
            }
            while word.width() > width {
                let (head, tail) = split_at_width(&word, width);
                lines.push(head);
                word = tail;
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(&word);
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// The longest head of `word` at most `width` wide (at least one character), and the rest.
fn split_at_width(word: &str, width: usize) -> (String, String) {
    let mut head = String::new();
    let mut chars = word.chars().peekable();
    while let Some(&c) = chars.peek() {
        // Measured whole: a variation selector can widen the character before it.
        let mut longer = head.clone();
        longer.push(c);
        if !head.is_empty() && longer.width() > width {
            break;
        }
        head = longer;
        chars.next();
    }
    (head, chars.collect())
}

/// The terminal's width: `COLUMNS` when set (tests and users can pin it), else what
/// the terminal reports, else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
        .or_else(|| {
            crossterm::terminal::size()
                .ok()
                .map(|(w, _)| usize::from(w))
        })
        .filter(|&c| c > 0)
        .unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn needs(natural: usize, fit: Fit, drop_rank: Option<u8>) -> Needs {
        Needs {
            header: 4,
            natural,
            fit,
            drop_rank,
        }
    }

    #[test]
    fn everything_fits_when_there_is_room() {
        let columns = [
            needs(10, Fit::Whole, None),
            needs(30, Fit::Truncate, Some(1)),
        ];
        let plan = plan(&columns, 80);
        assert_eq!(plan.kept, [0, 1]);
        assert_eq!(plan.widths, [10, 30]);
        assert!(plan.dropped.is_empty());
    }

    #[test]
    fn free_text_shrinks_before_anything_is_dropped() {
        let columns = [
            needs(20, Fit::Whole, Some(1)),
            needs(60, Fit::Truncate, None),
        ];
        // 20 + 16 + frame 7 = 43 fits; free text gets the rest.
        let plan = plan(&columns, 50);
        assert_eq!(plan.kept, [0, 1]);
        assert_eq!(plan.widths, [20, 23]);
    }

    #[test]
    fn lowest_rank_goes_first_and_only_as_many_as_needed() {
        let columns = [
            needs(20, Fit::Whole, None),
            needs(20, Fit::Whole, Some(2)),
            needs(20, Fit::Whole, Some(1)),
            needs(20, Fit::Whole, Some(3)),
        ];
        let plan = plan(&columns, 50);
        assert_eq!(plan.dropped, [2, 1]);
        assert_eq!(plan.kept, [0, 3]);
    }

    #[test]
    fn undroppable_columns_are_never_narrowed() {
        let plan = plan(&[needs(100, Fit::Whole, None)], 40);
        assert_eq!(plan.widths, [100]);
    }

    #[test]
    fn truncation_cuts_at_a_space() {
        assert_eq!(truncate("in $1.25/M, out $10.00/M", 20), "in $1.25/M, out…");
        assert_eq!(truncate("in $1.25/M, out $10.00/M", 11), "in…");
        assert_eq!(truncate("openai-responses", 10), "openai-re…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("two\nlines", 20), "two lines");
    }

    #[test]
    fn wrapping_breaks_at_spaces() {
        assert_eq!(
            wrap("the service answered in 3 s", 12),
            "the service\nanswered in\n3 s"
        );
        assert_eq!(wrap("abcdefghij", 4), "abcd\nefgh\nij");
        assert_eq!(wrap("a\nb c", 10), "a\nb c");
    }

    proptest! {
        #[test]
        fn fitted_text_is_never_wider_than_asked(text in "\\PC{0,60}", width in 2usize..40) {
            prop_assert!(truncate(&text, width).width() <= width);
            prop_assert!(self::width(&wrap(&text, width)) <= width.max(2));
        }

        #[test]
        fn truncation_keeps_whole_words_after_the_first(
            words in proptest::collection::vec("[a-z0-9.$/]{1,8}", 1..10), width in 10usize..40
        ) {
            let text = words.join(" ");
            let cut = truncate(&text, width);
            let kept: Vec<&str> = cut.trim_end_matches('…').split(' ').collect();
            if kept.len() > 1 || cut == text {
                for word in kept {
                    prop_assert!(words.iter().any(|w| w == word), "{word} is not whole in {cut}");
                }
            }
        }
    }
}
