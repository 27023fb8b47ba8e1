//! A small POSIX-style word splitter for REPL lines: whitespace separates words,
//! `'...'` is literal, `"..."` allows `\"` and `\\`, a backslash outside quotes
//! escapes the next character.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitError {
    /// A quote is still open: the line continues.
    UnclosedQuote,
    /// The line ends in a backslash: the line continues.
    TrailingBackslash,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SplitError::UnclosedQuote => "unclosed quote",
            SplitError::TrailingBackslash => "line ends in a backslash",
        })
    }
}

pub fn split(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SplitError::UnclosedQuote),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(SplitError::UnclosedQuote),
                        },
                        Some(c) => word.push(c),
                        None => return Err(SplitError::UnclosedQuote),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(SplitError::TrailingBackslash),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Vec<String> {
        split(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(ok("  models  --json "), ["models", "--json"]);
        assert_eq!(
            ok(r#"chat "hello world" 'a "b"' c\ d"#),
            ["chat", "hello world", "a \"b\"", "c d"]
        );
        assert_eq!(ok(r#"x "a\"b\\c\n""#), ["x", "a\"b\\c\\n"]);
        assert_eq!(ok("x ''"), ["x", ""]);
        assert!(ok("").is_empty());
    }

    #[test]
    fn open_quotes_and_trailing_backslash_continue_the_line() {
        assert_eq!(split("chat 'hi"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("chat \"hi"), Err(SplitError::UnclosedQuote));
        assert_eq!(split("chat hi\\"), Err(SplitError::TrailingBackslash));
    }
}
