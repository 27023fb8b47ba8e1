//! Markdown made readable on a terminal: headings bold, `**bold**` bold, inline
//! `code` and fenced code blocks in a distinct colour. Only used when colour is
//! allowed; piped output stays the plain text the model sent.

const BOLD: &str = "\x1b[1m";
const CODE: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

pub fn style(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 64);
    let mut in_fence = false;
    for line in markdown.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        if body.trim_start().starts_with("```") {
            in_fence = !in_fence;
            out.push_str(DIM);
            out.push_str(body);
            out.push_str(RESET);
        } else if in_fence {
            out.push_str(CODE);
            out.push_str(body);
            out.push_str(RESET);
        } else if let Some(heading) = heading(body) {
            out.push_str(BOLD);
            out.push_str(heading);
            out.push_str(RESET);
        } else {
            inline(body, &mut out);
        }
        out.push_str(ending);
    }
    out
}

/// `# Title` → `Title`.
fn heading(line: &str) -> Option<&str> {
    let hashes = line.len() - line.trim_start_matches('#').len();
    ((1..=6).contains(&hashes) && line[hashes..].starts_with(' ')).then(|| line[hashes..].trim())
}

/// `**bold**` and `` `code` ``; unpaired markers are left as they are.
fn inline(line: &str, out: &mut String) {
    let mut rest = line;
    loop {
        let bold = rest.find("**");
        let code = rest.find('`');
        let (at, marker, colour) = match (bold, code) {
            (Some(b), Some(c)) if c < b => (c, "`", CODE),
            (Some(b), _) => (b, "**", BOLD),
            (None, Some(c)) => (c, "`", CODE),
            (None, None) => break,
        };
        let after = &rest[at + marker.len()..];
        let Some(end) = after.find(marker) else { break };
        out.push_str(&rest[..at]);
        out.push_str(colour);
        out.push_str(&after[..end]);
        out.push_str(RESET);
        rest = &after[end + marker.len()..];
    }
    out.push_str(rest);
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
}
