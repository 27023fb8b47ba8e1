//! `batch` input: lines in the OpenAI Batch API shape, simple `{id?, prompt, ...}`
//! objects, plain text, or (with `--template`) JSON objects or CSV rows filling
//! `{{field}}` placeholders. Each becomes an [`Entry`]: its `custom_id`, endpoint and
//! request body. The file is read twice (checked whole, then sent), never held.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::api::chat_body::{self, ChatSettings};
use crate::error::{CliError, Result};

/// The Batch API URLs a line may name, and the `batch` endpoints they are.
pub const URLS: [&str; 4] = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/messages",
];
/// Line errors listed before giving up: enough to fix a file, short enough to read.
const ERRORS_SHOWN: usize = 20;

/// How `--input-format` says to read the lines. (Plain comments on the variants: a
/// doc comment would become the value's help, and `--input-format` explains them.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    // Per line: a JSON object in either shape, or plain text.
    Auto,
    Text,
    Csv,
}

/// What lines that do not say it themselves get.
pub struct Defaults {
    pub model: String,
    pub system: Option<String>,
    pub temperature: Option<f64>,
    pub template: Option<String>,
}

/// One request of the batch.
pub struct Entry {
    pub custom_id: String,
    /// One of [`URLS`].
    pub url: &'static str,
    pub body: Value,
}

impl Entry {
    pub fn model(&self) -> &str {
        self.body
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// Entries with their line numbers, or each bad line's problem.
pub type Entries<'a> = Box<dyn Iterator<Item = (u64, Result<Entry, String>)> + 'a>;

/// The input's entries in order, each with its line number (from 1), or that line's
/// problem. Blank lines are skipped.
pub fn entries<'a>(path: &Path, format: Format, defaults: &'a Defaults) -> Result<Entries<'a>> {
    let file = File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read {}", path.display())).caused_by(e))?;
    if format == Format::Csv {
        return Ok(Box::new(csv_rows(file, defaults)));
    }
    let lines = BufReader::new(file).lines().enumerate();
    Ok(Box::new(lines.filter_map(move |(index, line)| {
        let number = index as u64 + 1;
        match line {
            Err(e) => Some((number, Err(format!("cannot be read: {e}")))),
            Ok(line) if line.trim().is_empty() => None,
            Ok(line) => Some((number, parse_line(&line, number, format, defaults))),
        }
    })))
}

fn csv_rows(
    file: File,
    defaults: &Defaults,
) -> impl Iterator<Item = (u64, Result<Entry, String>)> + '_ {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(file);
    let headers = reader.headers().cloned().map_err(|e| e.to_string());
    reader.into_records().map(move |row| {
        let number = match &row {
            Ok(row) => row.position(),
            Err(e) => e.position(),
        }
        .map_or(0, csv::Position::line);
        let entry = match (&headers, row) {
            (Err(e), _) => Err(format!("the CSV header cannot be read: {e}")),
            (_, Err(e)) => Err(format!("is not a valid CSV row ({e})")),
            (Ok(headers), Ok(row)) => {
                let fields: Map<String, Value> = headers
                    .iter()
                    .zip(row.iter())
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
                simple(&fields, number, defaults)
            }
        };
        (number, entry)
    })
}

/// One line of a JSONL or text input.
fn parse_line(
    line: &str,
    number: u64,
    format: Format,
    defaults: &Defaults,
) -> Result<Entry, String> {
    if format == Format::Text || !line.trim_start().starts_with('{') {
        if defaults.template.is_some() {
            return Err("is not a JSON object (a --template fills its fields)".into());
        }
        return Ok(chat_entry(
            number.to_string(),
            line.trim_end(),
            defaults,
            &Map::new(),
        ));
    }
    let object = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return Err("is not a JSON object".into()),
        Err(e) => return Err(format!("is not valid JSON: {e}")),
    };
    if object.contains_key("url") || object.contains_key("custom_id") {
        return openai_line(object);
    }
    simple(&object, number, defaults)
}

/// `{custom_id, method, url, body}`.
fn openai_line(mut object: Map<String, Value>) -> Result<Entry, String> {
    let custom_id = match object.get("custom_id") {
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(_) => return Err("has a custom_id that is not a non-empty string".into()),
        None => return Err("has no custom_id".into()),
    };
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("POST");
    if !method.eq_ignore_ascii_case("POST") {
        return Err(format!("has method {method}; only POST is supported"));
    }
    let asked = object
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(url) = URLS.iter().find(|u| **u == asked) else {
        return Err(format!(
            "has an unknown url {asked:?} (one of {})",
            URLS.join(", ")
        ));
    };
    match object.remove("body") {
        Some(body @ Value::Object(_)) => Ok(Entry {
            custom_id,
            url,
            body,
        }),
        _ => Err("has no body object".into()),
    }
}

/// `{id?, prompt, model?, system?, temperature?}`, or any object under `--template`.
fn simple(fields: &Map<String, Value>, number: u64, defaults: &Defaults) -> Result<Entry, String> {
    let custom_id = match fields.get("id") {
        None | Some(Value::Null) => number.to_string(),
        Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("has an id that is not a non-empty string or number".into()),
    };
    let prompt = match &defaults.template {
        Some(template) => fill(template, fields)?,
        None => match fields.get("prompt") {
            Some(Value::String(p)) if !p.trim().is_empty() => p.clone(),
            Some(_) => return Err("has a prompt that is not non-empty text".into()),
            None => return Err("has no prompt (nor custom_id and url)".into()),
        },
    };
    if let Some(t) = fields.get("temperature") {
        if !t.as_f64().is_some_and(|t| (0.0..=2.0).contains(&t)) {
            return Err("has a temperature that is not a number from 0 to 2".into());
        }
    }
    Ok(chat_entry(custom_id, &prompt, defaults, fields))
}

/// A chat completion for `prompt`; the line's own model, system prompt and temperature
/// win over the command's.
fn chat_entry(
    custom_id: String,
    prompt: &str,
    defaults: &Defaults,
    fields: &Map<String, Value>,
) -> Entry {
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let model = text("model").unwrap_or(&defaults.model);
    let system = text("system").or(defaults.system.as_deref());
    let settings = ChatSettings {
        temperature: fields
            .get("temperature")
            .and_then(Value::as_f64)
            .or(defaults.temperature),
        ..ChatSettings::default()
    };
    Entry {
        custom_id,
        url: URLS[0],
        body: settings.body(model, chat_body::first_turn(system, prompt)),
    }
}

/// `template` with every `{{field}}` replaced by that field's value (text as is, other
/// values as JSON); a field the object lacks is an error.
pub fn fill(template: &str, fields: &Map<String, Value>) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("{{") {
        out.push_str(before);
        let Some((name, tail)) = after.split_once("}}") else {
            out.push_str("{{");
            out.push_str(after);
            return Ok(out);
        };
        let name = name.trim();
        match fields.get(name) {
            Some(Value::String(text)) => out.push_str(text),
            Some(value) => out.push_str(&value.to_string()),
            None => return Err(format!("has no field {name:?} for the template")),
        }
        rest = tail;
    }
    out.push_str(rest);
    Ok(out)
}

/// A 64-bit digest of a custom id: sets of these stay small for a million lines.
pub fn id_hash(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

/// What the checking pass learnt.
pub struct Checked {
    pub count: u64,
    /// Characters of every request body: a rough input-token estimate (4 a token).
    pub body_chars: u64,
    /// Characters by model, for the cost estimate.
    pub chars_by_model: Vec<(String, u64)>,
}

/// Reads every entry once: duplicate or missing ids, malformed lines and unknown URLs
/// are an error listing each with its line number (exit 2), before anything is sent.
pub fn check(path: &Path, format: Format, defaults: &Defaults) -> Result<Checked> {
    let mut seen: HashSet<u64> = HashSet::new();
    let mut problems = Vec::new();
    let mut problem_count = 0usize;
    let mut checked = Checked {
        count: 0,
        body_chars: 0,
        chars_by_model: Vec::new(),
    };
    for (number, entry) in entries(path, format, defaults)? {
        let problem = match entry {
            Err(why) => Some(format!("line {number} {why}")),
            Ok(entry) if !seen.insert(id_hash(&entry.custom_id)) => Some(format!(
                "line {number} repeats custom_id {:?}",
                entry.custom_id
            )),
            Ok(entry) => {
                checked.count += 1;
                let chars = entry.body.to_string().len() as u64;
                checked.body_chars += chars;
                add_chars(&mut checked.chars_by_model, entry.model(), chars);
                None
            }
        };
        if let Some(problem) = problem {
            problem_count += 1;
            if problems.len() < ERRORS_SHOWN {
                problems.push(problem);
            }
        }
    }
    if problem_count > 0 {
        let more = problem_count.saturating_sub(problems.len());
        let tail = if more > 0 {
            format!("\n  … and {more} more")
        } else {
            String::new()
        };
        return Err(CliError::usage(format!(
            "{problem_count} bad input line{}; nothing was sent:\n  {}{tail}",
            if problem_count == 1 { "" } else { "s" },
            problems.join("\n  ")
        ))
        .with_hint("each line is {custom_id, method, url, body}, {id?, prompt, model?, system?, temperature?}, or plain text; ids must be unique"));
    }
    if checked.count == 0 {
        return Err(CliError::usage("the input has no requests"));
    }
    Ok(checked)
}

fn add_chars(by_model: &mut Vec<(String, u64)>, model: &str, chars: u64) {
    match by_model.iter_mut().find(|(m, _)| m == model) {
        Some((_, total)) => *total += chars,
        None => by_model.push((model.to_string(), chars)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn defaults(template: Option<&str>) -> Defaults {
        Defaults {
            model: "m0".into(),
            system: None,
            temperature: None,
            template: template.map(str::to_string),
        }
    }

    #[test]
    fn every_line_shape() {
        let d = defaults(None);
        let openai = r#"{"custom_id":"a","method":"POST","url":"/v1/embeddings","body":{"model":"e","input":"x"}}"#;
        let entry = parse_line(openai, 1, Format::Auto, &d).expect("openai");
        assert_eq!(
            (entry.custom_id.as_str(), entry.url),
            ("a", "/v1/embeddings")
        );
        let simple = r#"{"id":7,"prompt":"hi","model":"m1","system":"be brief"}"#;
        let entry = parse_line(simple, 2, Format::Auto, &d).expect("simple");
        assert_eq!(entry.custom_id, "7");
        assert_eq!(entry.body["model"], "m1");
        assert_eq!(entry.body["messages"][0]["content"], "be brief");
        let text = parse_line("{not json but text", 3, Format::Text, &d).expect("text");
        assert_eq!(text.custom_id, "3");
        assert_eq!(text.body["messages"][0]["content"], "{not json but text");
    }

    #[test]
    fn bad_lines_say_why() {
        let d = defaults(None);
        let why = |line: &str| {
            parse_line(line, 1, Format::Auto, &d)
                .err()
                .unwrap_or_default()
        };
        assert!(why("{broken").contains("not valid JSON"));
        assert!(why(r#"{"url":"/v1/chat/completions","body":{}}"#).contains("no custom_id"));
        assert!(why(r#"{"custom_id":"x","url":"/v1/images","body":{}}"#).contains("unknown url"));
        assert!(why(r#"{"id":"x"}"#).contains("no prompt"));
        assert!(why(r#"{"prompt":"x","temperature":9}"#).contains("temperature"));
    }

    #[test]
    fn templates_fill_fields_and_name_missing_ones() {
        let fields: Map<String, Value> =
            serde_json::from_str(r#"{"city":"Oslo","n":3}"#).expect("json");
        assert_eq!(fill("{{ city }} x{{n}}", &fields).as_deref(), Ok("Oslo x3"));
        assert!(fill("{{country}}", &fields)
            .unwrap_err()
            .contains("country"));
        assert_eq!(fill("open {{ only", &fields).as_deref(), Ok("open {{ only"));
    }

    proptest! {
        #[test]
        fn any_line_parses_or_fails_without_panicking(line in "\\PC{0,80}") {
            let d = defaults(None);
            let _ = parse_line(&line, 1, Format::Auto, &d);
            let _ = fill(&line, &Map::new());
        }
    }
}
