//! The public model catalog (`/api/models`, `/api/model/{code}`): fetching,
//! a one-hour cache per base URL, lookup by id or code, and the helpers that
//! turn a catalog record into words (pricing, endpoints, version order).

use std::cmp::Ordering;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Arg, ArgAction, ArgMatches};
use serde_json::{json, Map, Value};

use crate::api::envelope::console_get;
use crate::cli::context::Context;
use crate::config::paths;
use crate::error::{CliError, Result};
use crate::net::Auth;
use crate::output::MISSING;
use crate::store::files;

const TTL: Duration = Duration::from_secs(60 * 60);

/// How a command may use the cache: `--refresh` skips reading it, `--no-cache` skips it entirely.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CachePolicy {
    Use,
    Refresh,
    Bypass,
}

impl CachePolicy {
    /// `--refresh` and `--no-cache`, for every command that reads the catalog.
    pub fn args() -> [Arg; 2] {
        [
            Arg::new("refresh")
                .long("refresh")
                .action(ArgAction::SetTrue)
                .help("Fetch the catalog again and update the cache"),
            Arg::new("no_cache")
                .long("no-cache")
                .action(ArgAction::SetTrue)
                .help("Neither read nor write the catalog cache"),
        ]
    }

    pub fn from_matches(matches: &ArgMatches) -> Self {
        match (matches.get_flag("refresh"), matches.get_flag("no_cache")) {
            (_, true) => CachePolicy::Bypass,
            (true, false) => CachePolicy::Refresh,
            (false, false) => CachePolicy::Use,
        }
    }
}

/// Every catalog record, from the cache when it is fresh.
pub fn models(ctx: &Context, policy: CachePolicy) -> Result<Vec<Value>> {
    let url = ctx.base_url()?.console("models");
    if policy == CachePolicy::Use {
        if let Some(models) = read_cache(&url) {
            return Ok(models);
        }
    }
    let data = console_get(ctx.http()?, &url, Auth::None)?;
    let Value::Array(models) = data else {
        return Err(CliError::failure("the model catalog is not a list"));
    };
    if policy != CachePolicy::Bypass {
        write_cache(&url, &models); // best effort: a read-only cache dir must not fail the command
    }
    Ok(models)
}

/// The catalog from the cache only, however old: never fetches (used for the cost
/// estimate after a chat reply, which must not cost a request).
pub fn cached_models(ctx: &Context) -> Option<Vec<Value>> {
    let url = ctx.base_url().ok()?.console("models");
    read_cache_entry(&url, None)
}

/// Model ids from the cache alone, whatever its age; never a request. For completion.
pub fn cached_ids(ctx: &Context) -> Vec<String> {
    let mut ids: Vec<String> = cached_models(ctx)
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.get("id").and_then(Value::as_str).map(str::to_string))
        .collect();
    ids.sort_by(|a, b| compare_ids(a, b));
    ids.dedup();
    ids
}

fn cache_file() -> PathBuf {
    paths::cache_dir().join("models.json")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The cache file maps each catalog URL (a password in it masked: the file must not
/// hold one) to `{fetched_at, data}`, so switching base URLs neither mixes catalogs
/// nor throws the other one away.
fn read_cache(url: &str) -> Option<Vec<Value>> {
    read_cache_entry(url, Some(TTL))
}

/// The cached catalog for `url`, if it is younger than `max_age` (any age for `None`).
fn read_cache_entry(url: &str, max_age: Option<Duration>) -> Option<Vec<Value>> {
    let text = fs::read(cache_file()).ok()?;
    let mut all: Value = serde_json::from_slice(&text).ok()?;
    let entry = all.get_mut(crate::net::urls::redact_url(url).as_ref())?;
    let fetched_at = entry.get("fetched_at")?.as_u64()?;
    if max_age.is_some_and(|ttl| now_secs().saturating_sub(fetched_at) > ttl.as_secs()) {
        return None;
    }
    match entry.get_mut("data")?.take() {
        Value::Array(models) => Some(models),
        _ => None,
    }
}

fn write_cache(url: &str, models: &[Value]) {
    let path = cache_file();
    let mut all = fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .unwrap_or_default();
    all.insert(
        crate::net::urls::redact_url(url).into_owned(),
        json!({"fetched_at": now_secs(), "data": models}),
    );
    if let Ok(bytes) = serde_json::to_vec(&all) {
        let _ = files::write_private(&path, &bytes);
    }
}

/// The cost in USD of `prompt` and `completion` tokens of `model`, from the cached
/// catalog prices only (per million tokens); `None` when the catalog is not cached or
/// has no price for the model.
pub fn cost(ctx: &Context, model: &str, prompt: u64, completion: u64) -> Option<f64> {
    let models = cached_models(ctx)?;
    let (input, output) = token_prices(&models, model)?;
    Some((prompt as f64 * input + completion as f64 * output) / 1_000_000.0)
}

/// The record whose `id` or `code` is `id`, or whose `code` is `id` with dots as dashes.
pub fn find<'a>(models: &'a [Value], id: &str) -> Option<&'a Value> {
    let dashed = id.replace('.', "-");
    let field = |m: &Value, name: &str| m.get(name).and_then(Value::as_str).map(str::to_string);
    models
        .iter()
        .find(|m| field(m, "id").as_deref() == Some(id) || field(m, "code").as_deref() == Some(id))
        .or_else(|| {
            models
                .iter()
                .find(|m| field(m, "code").as_deref() == Some(dashed.as_str()))
        })
}

/// One model's detail record (with `overview`), resolving the id to its catalog code.
pub fn detail(ctx: &Context, id: &str, policy: CachePolicy) -> Result<Value> {
    let models = models(ctx, policy)?;
    let code = find(&models, id)
        .and_then(|m| m.get("code").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| id.replace('.', "-"));
    let url = ctx
        .base_url()?
        .console(&format!("model/{}", crate::net::urls::path_segment(&code)));
    match console_get(ctx.http()?, &url, Auth::None) {
        Ok(record @ Value::Object(_)) => Ok(record),
        Ok(_) => Err(CliError::failure(format!("no model `{id}` in the catalog"))),
        Err(err) if err.exit == crate::error::ExitCode::Failure => Err(CliError::failure(format!(
            "no model `{id}` in the catalog ({})",
            err.message
        ))
        .with_hint("`cometapi models --search <text>` lists the ids")),
        Err(err) => Err(err),
    }
}

/// A model's endpoints as `(name, method, path)`; the catalog sends them as a JSON object encoded in a string.
pub fn endpoints(model: &Value) -> Vec<(String, String, String)> {
    let parsed;
    let raw = match model.get("endpoints") {
        Some(Value::String(text)) => {
            parsed = serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
            &parsed
        }
        Some(other) => other,
        None => return Vec::new(),
    };
    let text = |v: &Value, k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match raw {
        Value::Object(map) => map
            .iter()
            .map(|(name, detail)| (name.clone(), text(detail, "method"), text(detail, "path")))
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|i| (crate::output::display(i), String::new(), String::new()))
            .collect(),
        _ => Vec::new(),
    }
}

/// A model's prices in USD per million input and output tokens, when the catalog has
/// it and prices it by the token.
pub fn token_prices(models: &[Value], id: &str) -> Option<(f64, f64)> {
    let pricing = find(models, id)?.get("pricing")?;
    let per_million = |k: &str| pricing.get(k).and_then(Value::as_f64);
    Some((per_million("input")?, per_million("output")?))
}

/// `in $0.50/M, out $1.50/M`, `$0.04/request` or `$0.10/second`, in the one money
/// style (`money::usd_text`), so float noise in the catalog never shows.
pub fn pricing_label(pricing: Option<&Value>) -> String {
    let Some(pricing) = pricing else {
        return MISSING.to_string();
    };
    let number = |k: &str| {
        pricing
            .get(k)
            .and_then(Value::as_f64)
            .map(crate::api::money::usd_text)
    };
    if let Some(per_request) = number("per_request") {
        return format!("{per_request}/request");
    }
    if let Some(per_second) = number("per_second") {
        return format!("{per_second}/second");
    }
    let parts: Vec<String> = [("in", number("input")), ("out", number("output"))]
        .into_iter()
        .filter_map(|(label, price)| Some(format!("{label} {}/M", price?)))
        .collect();
    if parts.is_empty() {
        MISSING.to_string()
    } else {
        parts.join(", ")
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    /// Digits without leading zeros, compared by length then text, so any size works.
    Number(String),
    Word(String),
}

fn tokens(id: &str) -> Vec<Token> {
    let lower = id.to_lowercase();
    let mut out = Vec::new();
    for segment in lower.split(['-', '.']) {
        let mut chars = segment.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() {
                let mut digits = String::new();
                while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(d);
                    chars.next();
                }
                let trimmed = digits.trim_start_matches('0');
                out.push(Token::Number(if trimmed.is_empty() {
                    "0".into()
                } else {
                    trimmed.into()
                }));
            } else if c.is_ascii_lowercase() {
                let mut word = String::new();
                while let Some(&w) = chars.peek().filter(|w| w.is_ascii_lowercase()) {
                    word.push(w);
                    chars.next();
                }
                out.push(Token::Word(word));
            } else {
                chars.next();
            }
        }
    }
    out
}

fn newer_number(a: &str, b: &str) -> Ordering {
    // Larger first: reverse of numeric order.
    (b.len(), b).cmp(&(a.len(), a))
}

/// Newest version first, as the official CLI orders ids: numbers compare as numbers
/// (`gpt-5.10` before `gpt-5.9`), a number before a word, and `gpt-5.4` before `gpt-5`.
pub fn compare_ids(left: &str, right: &str) -> Ordering {
    let (lt, rt) = (tokens(left), tokens(right));
    for (l, r) in lt.iter().zip(&rt) {
        let order = match (l, r) {
            (Token::Number(a), Token::Number(b)) => newer_number(a, b),
            (Token::Number(_), Token::Word(_)) => Ordering::Less,
            (Token::Word(_), Token::Number(_)) => Ordering::Greater,
            (Token::Word(a), Token::Word(b)) => b.cmp(a),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    match lt.len().cmp(&rt.len()) {
        Ordering::Equal => right.to_lowercase().cmp(&left.to_lowercase()),
        // The longer id continues with a number: a more specific version, so it comes first.
        Ordering::Less => match rt[lt.len()] {
            Token::Number(_) => Ordering::Greater,
            Token::Word(_) => Ordering::Less,
        },
        Ordering::Greater => match lt[rt.len()] {
            Token::Number(_) => Ordering::Less,
            Token::Word(_) => Ordering::Greater,
        },
    }
}

/// Markdown made into one plain paragraph for a table cell: no markup, links and
/// images as their text, code as its text, HTML left out; cut at `max_chars` with `…`.
pub fn plain_text(markdown: &str, max_chars: usize) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let mut text = String::new();
    for event in Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    ) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            // A block (paragraph, heading, list, item, table cell) starting or ending, or
            // a line break, separates words; inline spans (emphasis, links) do not.
            Event::Start(tag) if !is_inline(tag.to_end()) => text.push(' '),
            Event::End(end) if !is_inline(end) => text.push(' '),
            Event::SoftBreak | Event::HardBreak | Event::Rule => text.push(' '),
            _ => {}
        }
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().nth(max_chars).is_none() {
        return text;
    }
    let cut: String = text.chars().take(max_chars).collect();
    format!("{}…", cut.trim_end())
}

fn is_inline(end: pulldown_cmark::TagEnd) -> bool {
    use pulldown_cmark::TagEnd::*;
    matches!(
        end,
        Emphasis | Strong | Strikethrough | Superscript | Subscript | Link | Image
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(ids: &[&str]) -> Vec<String> {
        let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
        ids.sort_by(|a, b| compare_ids(a, b));
        ids
    }

    #[test]
    fn newest_version_first() {
        assert_eq!(
            sorted(&[
                "gpt-4o",
                "gpt-5",
                "gpt-5.10",
                "gpt-5.4",
                "gpt-4o-mini",
                "claude-3-5-sonnet"
            ]),
            vec![
                "gpt-5.10",
                "gpt-5.4",
                "gpt-5",
                "gpt-4o",
                "gpt-4o-mini",
                "claude-3-5-sonnet"
            ]
        );
        assert_eq!(
            sorted(&["a-99999999999999999999999", "a-2"]),
            vec!["a-99999999999999999999999", "a-2"]
        );
    }

    #[test]
    fn finds_by_id_code_or_dashed_code() {
        let models = vec![
            json!({"id": "gemini-2.5-pro", "code": "gemini-2-5-pro"}),
            json!({"id": "x", "code": "claude-3-5"}),
        ];
        assert_eq!(find(&models, "gemini-2.5-pro"), Some(&models[0]));
        assert_eq!(find(&models, "gemini-2-5-pro"), Some(&models[0]));
        assert_eq!(find(&models, "claude-3.5"), Some(&models[1]));
        assert_eq!(find(&models, "nope"), None);
    }

    #[test]
    fn endpoints_decode_from_a_json_string() {
        let model = json!({"endpoints": "{\"openai-chat\":{\"path\":\"/v1/chat/completions\",\"method\":\"POST\"}}"});
        assert_eq!(
            endpoints(&model),
            vec![(
                "openai-chat".to_string(),
                "POST".to_string(),
                "/v1/chat/completions".to_string()
            )]
        );
        assert!(endpoints(&json!({"endpoints": "not json"})).is_empty());
    }

    #[test]
    fn pricing_reads_naturally() {
        assert_eq!(
            pricing_label(Some(
                &json!({"input": 0.5, "output": 1.5, "per_request": null})
            )),
            "in $0.50/M, out $1.50/M"
        );
        assert_eq!(
            pricing_label(Some(&json!({"per_request": 0.04}))),
            "$0.04/request"
        );
        assert_eq!(
            pricing_label(Some(&json!({"input": 10.0, "output": 2}))),
            "in $10.00/M, out $2.00/M"
        );
        assert_eq!(
            pricing_label(Some(&json!({"input": 1.11, "output": 4.4399999999999995}))),
            "in $1.11/M, out $4.44/M"
        );
        assert_eq!(pricing_label(None), "-");
    }

    #[test]
    fn markdown_becomes_plain_text() {
        let md =
            "# Title\n\nSome **bold** and `code` with a [link](https://x.y).\n\n- one\n- two\n";
        assert_eq!(
            plain_text(md, 500),
            "Title Some bold and code with a link. one two"
        );
        assert_eq!(plain_text("abcdef", 3), "abc…");
        assert_eq!(plain_text("abc", 3), "abc");
        assert_eq!(plain_text("ab cd", 3), "ab…");
    }

    #[test]
    fn nested_and_odd_markdown_becomes_plain_text() {
        let md = "> ## A *quoted **nested** heading* ##\n\
                  >\n\
                  > 1. first ~~old~~\n\
                  >    - inner [**bold** link](https://x.y \"t\") and ![an image](i.png)\n\n\
                  ```rust\nfn x() {}\n```\n\n\
                  <div>raw <b>html</b></div>\n\n\
                  2 * 3 = 6, \\*escaped\\*, `` `tick` ``, [unclosed link, **unclosed bold\n\n\
                  | a | b |\n|---|---|\n| 1 | 2 |\n\n***\n\n\u{e9}t\u{e9}\u{2003}end";
        assert_eq!(
            plain_text(md, 500),
            "A quoted nested heading first old inner bold link and an image fn x() {} \
             2 * 3 = 6, *escaped*, `tick`, [unclosed link, **unclosed bold a b 1 2 \u{e9}t\u{e9} end"
        );
    }

    #[test]
    fn markup_alone_or_nothing_is_empty() {
        for md in [
            "",
            "   \n\n",
            "***",
            "<!-- a comment -->",
            "- \n- ",
            "[](https://x.y)",
        ] {
            assert_eq!(plain_text(md, 10), "", "{md:?}");
        }
        assert_eq!(plain_text("\u{e9}\u{e9}\u{e9}", 0), "…");
    }
}
