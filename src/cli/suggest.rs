//! "Did you mean ...?" for a mistyped command name or model id.

/// The candidate closest to `typed`, if it is close enough to be a typo.
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    close(typed, candidates, 1).into_iter().next()
}

/// Up to `most` candidates close enough to `typed` to be a typo, closest first (ties in
/// the candidates' order). The distance is optimal string alignment (a swap of two
/// neighbours is one edit, so `modles` is closer to `models` than to `model`), from
/// `strsim` rather than a hand-written table.
pub fn close<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    most: usize,
) -> Vec<&'a str> {
    let limit = (typed.chars().count() / 3).max(1);
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(typed, c), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort_by_key(|(d, _)| *d);
    near.into_iter().take(most).map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_command() {
        let names = ["model", "models", "logs", "tokens"];
        assert_eq!(closest("modles", names), Some("models"));
        assert_eq!(closest("tokns", names), Some("tokens"));
        assert_eq!(closest("xyz", names), None);
        assert_eq!(closest("", names), None);
    }

    #[test]
    fn close_ids_closest_first_and_capped() {
        let ids = ["gpt-5.2", "gpt-5.4", "gpt-4o", "claude-sonnet-4"];
        assert_eq!(close("gpt-5.3", ids, 3), vec!["gpt-5.2", "gpt-5.4"]);
        assert_eq!(close("gpt-5.3", ids, 1), vec!["gpt-5.2"]);
        assert!(close("zzzzzz", ids, 3).is_empty());
    }
}
