//! `conversations export` (JSON Lines, one conversation a line, written as each is
//! read) and `import` (the chat REPL's `/save` JSON, or export's lines).

use std::io::{self, BufWriter, Read, Write};
use std::path::Path;

use serde_json::{json, Value};

use crate::commands::chat::conversation::Conversation;
use crate::error::{CliError, ExitCode, Result};
use crate::output::dates;
use crate::output::Output;
use crate::store::chatlog::{self, Status, Stored};
use crate::store::files;

/// `typed` ids (or unique starts of them); none exports every conversation.
pub fn export(typed: &[String]) -> Result<Output> {
    let store = chatlog::open()?;
    let ids = if typed.is_empty() {
        store.all_ids().map_err(|e| chatlog::failed(&e))?
    } else {
        typed
            .iter()
            .map(|t| chatlog::resolve(&store, t))
            .collect::<Result<Vec<_>>>()?
    };
    let mut out = BufWriter::new(io::stdout().lock());
    for id in ids {
        let Some(stored) = store.load(&id).map_err(|e| chatlog::failed(&e))? else {
            continue; // deleted meanwhile
        };
        writeln!(out, "{}", exported(&stored))
            .and_then(|()| out.flush())
            .map_err(CliError::from_output)?;
    }
    Ok(Output::Empty)
}

/// One conversation: the `/save` fields (`model`, `system`, `messages` of its completed
/// exchanges) so that import reads it back, plus everything the log knows.
fn exported(stored: &Stored) -> Value {
    let iso = |ms: i64| dates::format_iso(ms / 1000);
    let completed = stored
        .exchanges
        .iter()
        .filter(|e| e.status == Status::Completed.as_str());
    let messages: Vec<Value> = completed
        .flat_map(|e| {
            [
                json!({"role": "user", "content": e.prompt}),
                json!({"role": "assistant", "content": e.reply}),
            ]
        })
        .collect();
    let exchanges: Vec<Value> = stored
        .exchanges
        .iter()
        .map(|e| {
            json!({
                "model": e.model,
                "prompt": e.prompt,
                "attachments": serde_json::from_str::<Value>(&e.attachments).unwrap_or(Value::Null),
                "reply": e.reply,
                "usage": e.usage.as_deref().and_then(|u| serde_json::from_str::<Value>(u).ok()),
                "prompt_tokens": e.prompt_tokens,
                "completion_tokens": e.completion_tokens,
                "cost_usd": e.cost_usd,
                "first_token_ms": e.first_token_ms,
                "total_ms": e.total_ms,
                "status": e.status,
                "created": iso(e.created_ms),
            })
        })
        .collect();
    json!({
        "id": stored.id,
        "source": stored.source,
        "model": stored.model,
        "system": stored.system,
        "created": iso(stored.created_ms),
        "updated": iso(stored.updated_ms),
        "messages": messages,
        "exchanges": exchanges,
    })
}

/// `file` (`-` is stdin).
pub fn import(file: &str) -> Result<Output> {
    let text = if file == "-" {
        let mut text = String::new();
        io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| CliError::usage(format!("cannot read stdin: {e}")))?;
        text
    } else {
        files::read_regular(Path::new(file))
            .map_err(|e| CliError::usage(format!("cannot read {file}: {e}")))?
    };
    // Parsed whole before anything is written, so a bad line imports nothing.
    let conversations = parse(&text).map_err(|why| {
        CliError::new(
            ExitCode::ConfigMissing,
            format!("{file} is not a saved chat: {why}"),
        )
    })?;
    let mut store = chatlog::open()?;
    let mut ids = Vec::new();
    for c in &conversations {
        let id = store
            .import(
                &c.model,
                c.system.as_deref(),
                &c.exchanges(),
                chatlog::now_ms(),
            )
            .map_err(|e| chatlog::failed(&e))?;
        ids.push(id);
    }
    Ok(Output::Text(format!(
        "imported {} conversation(s): {}",
        ids.len(),
        ids.join(" ")
    )))
}

/// One JSON object (`/save`), or JSON Lines of them (export).
fn parse(text: &str) -> std::result::Result<Vec<Conversation>, String> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Conversation::from_json(&value).map(|c| vec![c]);
    }
    let mut conversations = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: {e}", n + 1))?;
        conversations
            .push(Conversation::from_json(&value).map_err(|e| format!("line {}: {e}", n + 1))?);
    }
    if conversations.is_empty() {
        return Err("it is empty".into());
    }
    Ok(conversations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_or_json_lines() {
        let one = r#"{"model":"m","messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}]}"#;
        let parsed = parse(one).expect("one");
        assert_eq!(
            parsed[0].exchanges(),
            [("hi".to_string(), "yo".to_string())]
        );
        assert_eq!(parse(&format!("{one}\n\n{one}\n")).expect("lines").len(), 2);
        assert!(parse("").expect_err("empty").contains("empty"));
        assert!(parse(&format!("{one}\nnot json"))
            .expect_err("bad")
            .contains("line 2"));
        assert!(parse(r#"{"messages":[]}"#)
            .expect_err("no model")
            .contains("model"));
    }

    proptest::proptest! {
        /// Any file is read or refused with a reason, never a panic.
        #[test]
        fn any_text_is_read_or_refused(text in "(\\{\"model\":\"m\",\"messages\":\\[)?\\PC{0,60}\n?\\PC{0,20}") {
            if let Err(why) = parse(&text) {
                proptest::prop_assert!(!why.is_empty());
            }
        }
    }
}
