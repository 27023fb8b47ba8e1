//! One line of Markdown outside code and tables: its block marker (heading, list item,
//! block quote, rule) read by hand, the rest styled inline by `pulldown-cmark`
//! (emphasis, strong, strikethrough, code spans, links). The line is already neutralised.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{Style, BOLD, CODE, DIM, HEADING, ITALIC, PLAIN, RESET, STRIKE, UNDERLINE};

/// `line` rendered with its block marker.
pub fn block_line(line: &str) -> String {
    let indent_len = line.len() - line.trim_start_matches([' ', '\t']).len();
    let (indent, rest) = line.split_at(indent_len);
    if indent_len < 4 {
        if let Some(title) = heading(rest) {
            return format!("{indent}{HEADING}{}{RESET}", styled(title, HEADING));
        }
        if is_rule(rest) {
            return format!("{indent}{DIM}{}{RESET}", "─".repeat(40));
        }
        if let Some(quoted) = rest.strip_prefix('>') {
            let quoted = quoted.strip_prefix(' ').unwrap_or(quoted);
            return format!("{indent}{DIM}│{RESET} {}", block_line(quoted));
        }
    }
    if let Some(item) = bullet(rest) {
        return format!("{indent}• {}", styled(item, PLAIN));
    }
    if let Some((number, item)) = numbered(rest) {
        return format!("{indent}{BOLD}{number}{RESET} {}", styled(item, PLAIN));
    }
    format!("{indent}{}", styled(rest, PLAIN))
}

/// `## Title` → `Title` (a closing run of `#` dropped).
fn heading(text: &str) -> Option<&str> {
    let level = text.len() - text.trim_start_matches('#').len();
    let after = &text[level..];
    if !(1..=6).contains(&level) || !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let title = after.trim();
    let unclosed = title.trim_end_matches('#');
    Some(if unclosed.is_empty() || unclosed.ends_with([' ', '\t']) {
        unclosed.trim_end()
    } else {
        title
    })
}

/// `---`, `***` or `___` (spaces allowed between).
fn is_rule(text: &str) -> bool {
    let marks: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    marks.len() >= 3
        && ["-", "*", "_"]
            .iter()
            .any(|m| marks.chars().all(|c| c.to_string() == *m))
}

/// `- item`, `* item`, `+ item`.
fn bullet(text: &str) -> Option<&str> {
    let mut chars = text.chars();
    let marker = chars.next()?;
    let rest = chars.as_str();
    (matches!(marker, '-' | '*' | '+') && rest.starts_with([' ', '\t'])).then(|| rest.trim_start())
}

/// `12. item` or `12) item`: the number with its mark, and the item.
fn numbered(text: &str) -> Option<(&str, &str)> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if !(1..=9).contains(&digits) {
        return None;
    }
    let after = &text[digits..];
    let rest = after.strip_prefix(['.', ')'])?;
    rest.starts_with([' ', '\t'])
        .then(|| (&text[..=digits], rest.trim_start()))
}

/// `text` without its inline markup (a table cell: the table draws its own styles).
pub fn plain(text: &str) -> String {
    let out: String = Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH)
        .filter_map(|event| match event {
            Event::Text(t) | Event::Code(t) | Event::InlineHtml(t) => Some(t.into_string()),
            _ => None,
        })
        .collect();
    if out.is_empty() {
        text.to_string()
    } else {
        out
    }
}

/// `text` with its inline markup styled; `base` is the style around it, restored after
/// each styled span. Text Markdown would not show (a link definition) is kept as sent.
pub fn styled(text: &str, base: Style) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut active: Vec<Style> = Vec::new();
    let mut links: Vec<String> = Vec::new();
    let restore = |out: &mut String, active: &[Style]| {
        out.push_str(&format!("{RESET}{base}"));
        active.iter().for_each(|s| out.push_str(&s.to_string()));
    };
    for event in Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) => out.push_str(t.trim_end_matches('\n')),
            Event::Code(c) => {
                out.push_str(&format!("{CODE}{c}"));
                restore(&mut out, &active);
            }
            Event::Html(t) | Event::InlineHtml(t) => out.push_str(t.trim_end_matches('\n')),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::Start(tag) => {
                let style = match tag {
                    Tag::Emphasis => ITALIC,
                    Tag::Strong => BOLD,
                    Tag::Strikethrough => STRIKE,
                    Tag::Link { dest_url, .. } => {
                        links.push(dest_url.into_string());
                        UNDERLINE
                    }
                    _ => continue,
                };
                active.push(style);
                out.push_str(&style.to_string());
            }
            Event::End(
                end @ (TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link),
            ) => {
                active.pop();
                restore(&mut out, &active);
                if end == TagEnd::Link {
                    if let Some(url) = links.pop().filter(|u| !u.is_empty()) {
                        out.push_str(&format!("{DIM} ({url}){RESET}{base}"));
                        active.iter().for_each(|s| out.push_str(&s.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    if out.is_empty() {
        return text.to_string();
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The text with our escapes (and syntect's) removed.
    pub fn strip(shown: &str) -> String {
        let mut out = String::new();
        let mut chars = shown.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn block_markers() {
        assert_eq!(strip(&block_line("## Steps ##")), "Steps");
        assert_eq!(strip(&block_line("#hashtag")), "#hashtag");
        assert_eq!(strip(&block_line("  - item *x*")), "  • item x");
        assert_eq!(strip(&block_line("3. third")), "3. third");
        assert_eq!(strip(&block_line("> > deep")), "│ │ deep");
        assert_eq!(strip(&block_line("***")), "─".repeat(40));
        assert_eq!(strip(&block_line("    - code-like")), "    • code-like");
    }

    #[test]
    fn inline_styles_restore_the_base() {
        assert_eq!(
            styled("a **b** `c`", PLAIN),
            format!("a {BOLD}b{RESET} {CODE}c{RESET}")
        );
        assert_eq!(strip(&styled("[x](http://u)", PLAIN)), "x (http://u)");
        assert_eq!(styled("[x]: http://u", PLAIN), "[x]: http://u");
        assert_eq!(styled("2 ** 3", PLAIN), "2 ** 3");
    }
}
