//! Markdown made readable on a terminal: headings bold, `**bold**` bold, inline
//! `code` and fenced code blocks in a distinct colour. Only used when colour is
//! allowed; piped output stays the plain text the model sent.

use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag};

const BOLD: &str = "\x1b[1m";
const CODE: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// `markdown` with its styling applied in place: the text stays the model's own, only
/// heading markers are dropped and colour codes added. Parsed by `pulldown-cmark`, so
/// `2 ** 3`, a lone backtick or `#hashtag` are left alone as CommonMark says.
pub fn style(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 64);
    let mut cursor = 0;
    for (event, range) in Parser::new(markdown).into_offset_iter() {
        if range.start < cursor {
            continue; // inside an element already styled
        }
        let source = &markdown[range.clone()];
        let styled = match event {
            Event::Start(Tag::Heading { .. }) => heading(source),
            Event::Start(Tag::Strong) => strong(source),
            Event::Code(code) => format!("{CODE}{code}{RESET}"),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => fenced(source),
            _ => continue,
        };
        out.push_str(&markdown[cursor..range.start]);
        out.push_str(&styled);
        cursor = range.end;
    }
    out.push_str(&markdown[cursor..]);
    out
}

/// `# Title\n` → bold `Title`, the line end kept.
fn heading(source: &str) -> String {
    let line = source.trim_end_matches(['\n', '\r']);
    let ending = &source[line.len()..];
    let title = line.trim_start_matches('#').trim();
    format!("{BOLD}{title}{RESET}{ending}")
}

/// `**bold**` → bold `bold`.
fn strong(source: &str) -> String {
    let inner = source
        .get(2..source.len().saturating_sub(2))
        .unwrap_or(source);
    format!("{BOLD}{inner}{RESET}")
}

/// A fenced block: the fence lines dim, the code in the code colour, line ends kept.
fn fenced(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 32);
    for line in source.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let colour = if body.trim_start().starts_with("```") || body.trim_start().starts_with("~~~")
        {
            DIM
        } else {
            CODE
        };
        out.push_str(colour);
        out.push_str(body);
        out.push_str(RESET);
        out.push_str(&line[body.len()..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_bold_and_code() {
        assert_eq!(style("# Hi\n"), "\x1b[1mHi\x1b[0m\n");
        assert_eq!(
            style("a **b** `c` d"),
            "a \x1b[1mb\x1b[0m \x1b[36mc\x1b[0m d"
        );
        assert_eq!(
            style("```rs\nx\n```\n"),
            "\x1b[2m```rs\x1b[0m\n\x1b[36mx\x1b[0m\n\x1b[2m```\x1b[0m\n"
        );
        assert_eq!(style("2 ** 3 and `x"), "2 ** 3 and `x");
        assert_eq!(style("#hashtag"), "#hashtag");
    }

    #[test]
    fn text_around_styles_stays_as_sent() {
        assert_eq!(
            style("intro\n\n## Steps\n1. **é** ok\n"),
            "intro\n\n\x1b[1mSteps\x1b[0m\n1. \x1b[1mé\x1b[0m ok\n"
        );
        assert_eq!(
            style("```\nunclosed"),
            "\x1b[2m```\x1b[0m\n\x1b[36munclosed\x1b[0m"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(markdown in "[#*`~\\-\n a-zé]{0,200}") {
            let _ = style(&markdown);
        }
    }
}
