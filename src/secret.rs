//! Secrets (API keys, access tokens) in a type that never shows them.

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
    fn multibyte_tail_is_cut_on_characters() {
        assert_eq!(mask("ключ-секрет-длинный"), "****нный");
    }
}
