//! A request body assembled from the command line: a JSON file, then repeatable
//! `key=value` inputs (the value parsed as JSON when it is valid JSON, dotted keys
//! nesting: `generationConfig.temperature=0.2`).

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{CliError, Result};

/// The object in `path`; anything but a JSON object is exit 2.
pub fn from_file(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CliError::usage(format!(
            "{} must hold a JSON object",
            path.display()
        ))),
        Err(e) => Err(CliError::usage(format!(
            "{} is not valid JSON: {e}",
            path.display()
        ))),
    }
}

/// The deepest dotted key `-i` accepts; real request bodies nest a handful of levels.
const MAX_DEPTH: usize = 64;

/// Sets one `key=value` input in `body`.
pub fn apply(body: &mut Map<String, Value>, input: &str) -> Result<()> {
    let (key, raw) = input.split_once('=').ok_or_else(|| {
        CliError::usage(format!("--input `{input}` is not key=value"))
            .with_hint("for example -i temperature=0.2 or -i generationConfig.maxOutputTokens=64")
    })?;
    let path: Vec<&str> = key.split('.').collect();
    if path.len() > MAX_DEPTH {
        return Err(CliError::usage(format!(
            "--input key has {} levels; at most {MAX_DEPTH} are allowed",
            path.len()
        )));
    }
    if path.iter().any(|part| part.trim().is_empty()) {
        return Err(CliError::usage(format!(
            "--input `{input}` has an empty key"
        )));
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    set(body, &path, value);
    Ok(())
}

/// Walks (creating objects, replacing scalars on the way) to the parent of the last
/// key and sets it. Iterative, so depth never grows the stack.
fn set(body: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut map = body;
    for part in parents {
        let child = map
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !child.is_object() {
            *child = Value::Object(Map::new());
        }
        let Value::Object(next) = child else {
            return;
        };
        map = next;
    }
    map.insert((*last).to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_json_when_they_parse_and_keys_nest() {
        let mut body = Map::new();
        for input in [
            "temperature=0.2",
            "stop=[\"x\"]",
            "name=plain text",
            "flag=true",
            "a.b.c=1",
            "a.b.d=two",
            "eq=x=y",
        ] {
            apply(&mut body, input).expect("apply");
        }
        assert_eq!(
            Value::Object(body),
            json!({
                "temperature": 0.2, "stop": ["x"], "name": "plain text", "flag": true,
                "a": {"b": {"c": 1, "d": "two"}}, "eq": "x=y",
            })
        );
    }

    #[test]
    fn a_scalar_on_the_way_is_replaced_and_bad_inputs_are_usage_errors() {
        let mut body = Map::new();
        apply(&mut body, "a=1").expect("apply");
        apply(&mut body, "a.b=2").expect("apply");
        assert_eq!(Value::Object(body.clone()), json!({"a": {"b": 2}}));
        assert_eq!(apply(&mut body, "novalue").expect_err("x").exit.code(), 2);
        assert_eq!(apply(&mut body, "a..b=1").expect_err("x").exit.code(), 2);
    }

    #[test]
    fn an_absurdly_deep_key_is_a_usage_error() {
        let mut body = Map::new();
        let deep = format!("{}=1", vec!["a"; 60_000].join("."));
        let err = apply(&mut body, &deep).expect_err("too deep");
        assert_eq!(err.exit.code(), 2);
        assert!(err.message.contains("at most 64"), "{}", err.message);
        let ok = format!("{}=1", vec!["a"; 64].join("."));
        apply(&mut body, &ok).expect("64 levels");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn never_panics_on_any_input(input in "\\PC{0,200}") {
            let _ = apply(&mut Map::new(), &input);
        }

        #[test]
        fn never_panics_on_dotted_keys(
            key in "[a.=\\[\\]{}\" ]{0,400}",
            value in "\\PC{0,40}",
        ) {
            let _ = apply(&mut Map::new(), &format!("{key}={value}"));
        }
    }
}
