//! Masking secrets before a line reaches a REPL's history file.
//!
//! Two rules. A command line is split with the same tokenizer (`shlex`) and parsed with
//! the same clap tree the REPL runs, and the values its command declares secret
//! (`CommandSpec::secret_values`) are masked wherever they occur, however they were
//! quoted or escaped. And anything that looks like a CometAPI key (`sk-` and 20 or more
//! key characters) is masked anywhere, in command lines that do not parse and in chat
//! messages too. A masked value becomes `****` plus its last four characters.

use std::ffi::OsString;

use clap::ArgMatches;

use crate::cli::registry;
use crate::config::secret::{contains_key_pattern, mask, mask_key_patterns};

/// Lines up to this many words that clap rejects are parsed again with each word left
/// out; longer ones (a pasted text, not a mistyped command) only once, tolerantly, so
/// masking stays linear in the line's length.
const RETRIED_WORDS: usize = 64;

/// A command-REPL line with the declared secrets and anything that looks like a key
/// masked. A line that was changed is re-quoted from its words (so an escaped or quoted
/// secret cannot survive in another spelling); a line with nothing to mask is kept as
/// typed.
pub fn command_line(line: &str) -> String {
    let Some(words) = shlex::split(line) else {
        return keys(line);
    };
    let secrets = declared_secrets(&words);
    let masked: Vec<String> = words.iter().map(|w| mask_word(w, &secrets)).collect();
    if masked == words {
        // Nothing in the words; a comment (`# ...`) may still hold a key.
        return keys(line);
    }
    let joined = shlex::Quoter::new()
        .allow_nul(true)
        .join(masked.iter().map(String::as_str))
        .unwrap_or_else(|_| masked.join(" "));
    keys(&joined)
}

/// Free text (a chat message): only the key rule applies.
pub fn free_text(text: &str) -> String {
    keys(text)
}

/// The secrets the command in `words` declares, from a parse with the REPL's clap
/// tree (a repeated flag allowed, last one wins). A leading program name is skipped, as
/// the REPL skips it. A line clap rejects is parsed again, tolerating errors where clap
/// can (`ignore_errors`), once whole and (up to [`RETRIED_WORDS`] words) once with each
/// word left out in turn, so one mistake (an unknown flag, `--help`, a leading `help`, a
/// secret pasted as two words) does not hide a secret.
fn declared_secrets(words: &[String]) -> Vec<String> {
    let tree = || crate::cli::front::build().args_override_self(true);
    let mut strict = tree();
    let program = strict.get_name().to_string();
    let words: Vec<&str> = match words.split_first() {
        Some((first, rest)) if *first == program => rest.iter().map(String::as_str).collect(),
        _ => words.iter().map(String::as_str).collect(),
    };
    let argv = |skipped: Option<usize>| -> Vec<OsString> {
        let kept = words
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skipped);
        std::iter::once(program.as_str())
            .chain(kept.map(|(_, w)| *w))
            .map(OsString::from)
            .collect()
    };
    if let Ok(matches) = strict.try_get_matches_from_mut(argv(None)) {
        return secrets_in(&matches);
    }
    let mut tolerant = tree().ignore_errors(true);
    let mut secrets = Vec::new();
    let retried = if words.len() <= RETRIED_WORDS {
        words.len()
    } else {
        0
    };
    let attempts = std::iter::once(None).chain((0..retried).map(Some));
    for skipped in attempts {
        if let Ok(matches) = tolerant.try_get_matches_from_mut(argv(skipped)) {
            secrets.extend(secrets_in(&matches));
        }
    }
    secrets.sort();
    secrets.dedup();
    secrets
}

/// What the matched command declares secret (`CommandSpec::secret_values`).
fn secrets_in(matches: &ArgMatches) -> Vec<String> {
    let Some((name, sub)) = matches.subcommand() else {
        return Vec::new();
    };
    registry::command(name)
        .map(|spec| (spec.secret_values)(sub))
        .unwrap_or_default()
        .into_iter()
        .filter(|secret| !secret.is_empty())
        .collect()
}

/// One word with a declared secret masked (the whole word, or the value of a
/// `--flag=SECRET` or `-fSECRET` word), then any key in it.
fn mask_word(word: &str, secrets: &[String]) -> String {
    for secret in secrets {
        if word == secret {
            return keys(&mask(secret));
        }
        if let Some(flag) = word.strip_suffix(secret.as_str()) {
            let long = flag.starts_with("--") && flag.ends_with('=');
            let short = flag.len() == 2 && flag.starts_with('-') && flag != "--";
            if long || short {
                return keys(&format!("{flag}{}", mask(secret)));
            }
        }
    }
    keys(word)
}

/// `text` with every key masked. Each whitespace-separated run is checked as it is and
/// with quotes and backslashes removed, so `'sk-…'`, `sk\-…` or `"sk-"'…'` are found in
/// a line the tokenizer rejects; such a run is replaced by its unquoted, masked form.
fn keys(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if c.is_whitespace() {
            out.push_str(&mask_run(&std::mem::take(&mut run)));
            out.push(c);
        } else {
            run.push(c);
        }
    }
    out.push_str(&mask_run(&run));
    out
}

fn mask_run(run: &str) -> String {
    if contains_key_pattern(run) {
        return mask_key_patterns(run);
    }
    let bare: String = run
        .chars()
        .filter(|c| !matches!(c, '\'' | '"' | '\\'))
        .collect();
    if contains_key_pattern(&bare) {
        mask_key_patterns(&bare)
    } else {
        run.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &str = "sk-abcdefghijklmnopqrstuvwx1234";

    #[test]
    fn declared_secrets_are_masked_however_they_are_written() {
        let cases = [
            (
                "config set api_key sk-secret-1234567890",
                "config set api_key '****7890'",
            ),
            (
                "config set --json api_key secret-value-5678",
                "config set --json api_key '****5678'",
            ),
            (
                "config set -v access_token tok-abcdefghijkl",
                "config set -v access_token '****ijkl'",
            ),
            (
                "cometapi config set access_token 'tok abc def ghij'",
                "cometapi config set access_token '****ghij'",
            ),
            (
                r"config set access_token tok\-abcdefgh\ ijkl",
                "config set access_token '****ijkl'",
            ),
            (
                r#"config set api_key "a\"quoted\"-secret""#,
                "config set api_key '****cret'",
            ),
            ("config set api_key short", "config set api_key '****'"),
            (
                "config set --jsno api_key secret-value-5678",
                "config set --jsno api_key '****5678'",
            ),
            (
                "help config set api_key secret-value-5678",
                "help config set api_key '****5678'",
            ),
            (
                "config set api_key secret-value-5678 --help",
                "config set api_key '****5678' --help",
            ),
            (
                "config set -f table --format json api_key secret-value-5678",
                "config set -f table --format json api_key '****5678'",
            ),
            (
                "config set api_key pasted-secret with-a-space",
                "config set api_key '****cret' '****pace'",
            ),
            (
                "config --no-color set api_key short --json",
                "config --no-color set api_key '****' --json",
            ),
        ];
        for (line, masked) in cases {
            assert_eq!(command_line(line), masked, "{line}");
        }
    }

    #[test]
    fn a_secret_given_as_a_flag_value_is_masked_and_other_flags_are_not() {
        let secrets = ["secret-value-5678".to_string(), "n".to_string()];
        assert_eq!(
            mask_word("--key=secret-value-5678", &secrets),
            "--key=****5678"
        );
        assert_eq!(mask_word("-ksecret-value-5678", &secrets), "-k****5678");
        assert_eq!(mask_word("n", &secrets), "****");
        for kept in ["--json", "-n", "--", "plain"] {
            assert_eq!(mask_word(kept, &secrets), kept);
        }
    }

    #[test]
    fn a_long_rejected_line_is_masked_in_linear_time() {
        let line = format!("config set --jsno api_key {KEY} {}", "word ".repeat(20_000));
        let started = std::time::Instant::now();
        let masked = command_line(&line);
        assert!(!masked.contains(KEY));
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn lines_without_secrets_are_kept_as_typed() {
        for line in [
            "config set default_model gpt-4o",
            "models --json",
            "chat 'hello   world'  # a comment",
            "config set api_key -",
            "",
        ] {
            assert_eq!(command_line(line), line);
        }
    }

    #[test]
    fn keys_are_masked_anywhere() {
        assert_eq!(
            command_line(&format!("chat my key is {KEY} ok")),
            "chat my key is '****1234' ok"
        );
        assert_eq!(
            command_line(&format!("chat 'key={KEY}, fine'")),
            "chat 'key=****1234, fine'"
        );
        assert_eq!(
            command_line(&format!("chat 'open quote {KEY}")),
            "chat 'open quote ****1234"
        );
        assert_eq!(
            command_line(&format!("models # {KEY}")),
            "models # ****1234"
        );
        assert_eq!(
            command_line(r"chat s\k-abcdefghijklmnopqrstuvwx1234 'open"),
            "chat ****1234 'open"
        );
        assert_eq!(
            free_text(&format!("use \"{KEY}\", then")),
            "use \"****1234\", then"
        );
        assert_eq!(
            free_text("sk-too-short and task-list"),
            "sk-too-short and task-list"
        );
    }

    /// Pieces a hostile line is made of: quotes, escapes, comments, flags, keys and
    /// non-ASCII text.
    fn adversarial_line() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just(" ".to_string()),
            Just("\t".to_string()),
            Just("\n".to_string()),
            Just("#".to_string()),
            Just("=".to_string()),
            Just("sk-".to_string()),
            Just("--".to_string()),
            Just("-v".to_string()),
            Just("config".to_string()),
            Just("set".to_string()),
            Just("api_key".to_string()),
            Just("access_token".to_string()),
            Just("cometapi".to_string()),
            Just("é✓\u{0}".to_string()),
            "[a-zA-Z0-9_-]{1,30}",
        ];
        prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
    }

    /// `value` as a shell word, in one of several spellings.
    fn spelled(value: &str, spelling: u8) -> String {
        match spelling % 5 {
            0 => value.to_string(),
            1 => format!("'{}'", value.replace('\'', r"'\''")),
            2 => format!("\"{}\"", value.replace('\\', r"\\").replace('"', "\\\"")),
            3 => value.chars().map(|c| format!("\\{c}")).collect(),
            _ => {
                let cut = value
                    .char_indices()
                    .nth(value.chars().count() / 2)
                    .map_or(0, |(i, _)| i);
                format!("\"{}\"'{}'", &value[..cut], &value[cut..])
            }
        }
    }

    /// The text with quotes and backslashes removed: a secret in any spelling shows here.
    fn bare(text: &str) -> String {
        text.chars()
            .filter(|c| !matches!(c, '\'' | '"' | '\\'))
            .collect()
    }

    proptest! {
        // Each case feeds four lines; a line clap rejects costs one parse per word.
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics(line in any::<String>(), hostile in adversarial_line()) {
            command_line(&line);
            free_text(&line);
            command_line(&hostile);
            free_text(&hostile);
        }

    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn a_key_never_survives(
            before in adversarial_line(),
            after in adversarial_line(),
            body in "[A-Za-z0-9_-]{20,48}",
            spelling in any::<u8>(),
        ) {
            let key = format!("sk-{body}");
            let line = format!("{before} {} {after}", spelled(&key, spelling));
            prop_assert!(!bare(&command_line(&line)).contains(&key), "{line}");
            prop_assert!(!bare(&free_text(&line)).contains(&key), "{line}");
        }

        #[test]
        fn a_declared_secret_never_survives(
            flags in prop::collection::vec(
                prop::sample::select(vec!["--json", "-v", "--no-color", "-f table", "--format=json"]),
                0..3,
            ),
            at in 0usize..3,
            separator in any::<bool>(),
            key in prop::sample::select(vec!["api_key", "access_token"]),
            value in "[A-Za-z0-9][A-Za-z0-9 '\"\\\\$`#é-]{7,30}",
            spelling in any::<u8>(),
            program in any::<bool>(),
        ) {
            // A value with spaces or quotes typed bare would be other words.
            let plain = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            let spelling = if spelling % 5 == 0 && !plain { 1 } else { spelling };
            let value_word = spelled(&value, spelling);
            let mut words = vec!["config", "set", key, value_word.as_str()];
            // Flags after `set`, after the key or after the value.
            let at = 2 + at;
            words.splice(at..at, flags);
            if separator && at == 2 {
                let key_at = words.iter().position(|w| *w == key).unwrap_or(2);
                words.insert(key_at, "--");
            }
            if program {
                words.insert(0, "cometapi");
            }
            let line = words.join(" ");
            let masked = command_line(&line);
            prop_assert!(!masked.contains(&value), "{line} -> {masked}");
            let resplit = shlex::split(&masked).unwrap_or_default();
            prop_assert!(!resplit.contains(&value), "{line} -> {masked}");
        }
    }
}
