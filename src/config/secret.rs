//! Secrets (API keys, access tokens) in a type that never shows them, and
//! [`redact`], which masks secrets inside text a server sent back.

use std::borrow::Cow;
use std::fmt;

/// A credential. `Debug` and `Display` show only the masked form; the value
/// itself is reachable only through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

/// `****` plus the last four characters; short values show nothing at all,
/// since four characters of an eight-character secret is half of it.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 12 {
        return "****".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

/// A CometAPI key in free text: `sk-`, then at least this many letters, digits, `-` or `_`.
const KEY_PREFIX: &str = "sk-";
const KEY_PATTERN_MIN: usize = 20;

/// `text` with every occurrence of a `known` secret and every `sk-…` key pattern
/// replaced by its masked form. For text that came from a server (error messages, stream
/// error events), which may echo a credential back. Borrowed when there was nothing to mask.
pub fn redact<'a>(text: &'a str, known: &[&Secret]) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    for secret in known {
        let value = secret.expose();
        if !value.is_empty() && out.contains(value) {
            out = Cow::Owned(out.replace(value, &secret.masked()));
        }
    }
    if !contains_key_pattern(&out) {
        return out;
    }
    Cow::Owned(mask_key_patterns(&out))
}

/// Whether `text` holds something shaped like a CometAPI key.
pub fn contains_key_pattern(text: &str) -> bool {
    next_key(text, 0).is_some()
}

/// `text` with every `sk-…` key pattern masked. A pattern counts wherever it starts,
/// even glued to a word (`xsk-…`): a key pasted against other text is still a key, and
/// masking a lookalike id is the safe mistake.
pub fn mask_key_patterns(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    while let Some((start, end)) = next_key(text, copied) {
        out.push_str(text.get(copied..start).unwrap_or_default());
        out.push_str(&mask(text.get(start..end).unwrap_or_default()));
        copied = end;
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    out
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// The byte range of the first key pattern in `text` at or after `from`.
fn next_key(text: &str, from: usize) -> Option<(usize, usize)> {
    let mut search = from;
    while let Some(found) = text.get(search..)?.find(KEY_PREFIX) {
        let start = search + found;
        let body_start = start + KEY_PREFIX.len();
        let body = text.get(body_start..)?;
        let body_len = body.find(|c: char| !is_key_char(c)).unwrap_or(body.len());
        if body_len >= KEY_PATTERN_MIN {
            return Some((start, body_start + body_len));
        }
        search = body_start;
    }
    None
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("sk-abcdefghijklmnop1234");
        assert_eq!(format!("{secret}"), "****1234");
        assert_eq!(format!("{secret:?}"), "Secret(****1234)");
        assert!(!format!("{secret:?}{secret}").contains("abcdef"));
        assert_eq!(secret.expose(), "sk-abcdefghijklmnop1234");
    }

    #[test]
    fn short_values_are_fully_masked() {
        assert_eq!(mask("sk-12345"), "****");
        assert_eq!(mask(""), "****");
    }

    #[test]
    fn redacts_known_secrets_and_key_patterns() {
        let token = Secret::new("tok-console-token-abcdef");
        let text = "Incorrect API key provided: sk-abcdefghijklmnopqrstuvwxyz1234. token tok-console-token-abcdef";
        assert_eq!(
            redact(text, &[&token]),
            "Incorrect API key provided: ****1234. token ****cdef"
        );
        assert_eq!(
            redact("sk-short and task-abcdefghijklmnopqrstuvwxyz", &[]),
            "sk-short and ta****wxyz"
        );
        assert!(matches!(
            redact("nothing here", &[&token]),
            Cow::Borrowed(_)
        ));
        assert_eq!(redact("ключ sk-ééé sk-", &[]), "ключ sk-ééé sk-");
    }

    #[test]
    fn multibyte_tail_is_cut_on_characters() {
        assert_eq!(mask("ключ-секрет-длинный"), "****нный");
    }
}
