//! `--search TEXT` as an FTS5 query: every word must appear (in any order, any case),
//! each quoted so that FTS5 syntax in what the user typed (`"`, `*`, `AND`, `:`) is
//! matched as text and never an error.

/// The FTS5 query for `text`; `None` when it has no words.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| format!("\"{}\"", word.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_and_joined() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("rust  AND"), Some("\"rust\" \"AND\"".into()));
        assert_eq!(
            fts_query("say \"hi\""),
            Some("\"say\" \"\"\"hi\"\"\"".into())
        );
    }

    proptest::proptest! {
        /// Whatever is typed, SQLite accepts the query.
        #[test]
        fn any_text_is_a_valid_query(text in "\\PC{0,30}") {
            if let Some(query) = fts_query(&text) {
                let conn = rusqlite::Connection::open_in_memory().expect("memory db");
                conn.execute_batch("CREATE VIRTUAL TABLE t USING fts5(a)").expect("fts5");
                let found = conn.query_row(
                    "SELECT count(*) FROM t WHERE t MATCH ?1",
                    [&query],
                    |row| row.get::<_, i64>(0),
                );
                proptest::prop_assert!(found.is_ok(), "{query}: {found:?}");
            }
        }
    }
}
