//! The body of a chat completion request, built one way for every command that sends
//! one.

use serde_json::{json, Map, Value};

/// What a chat request asks besides its model and messages.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChatSettings {
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub streaming: bool,
    /// With `streaming`: ask for a last chunk carrying the usage.
    pub stream_usage: bool,
}

impl ChatSettings {
    /// `{"model", "messages", …}` with only the settings that are set.
    pub fn body(&self, model: &str, messages: Value) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(model));
        body.insert("messages".into(), messages);
        if let Some(t) = self.temperature {
            body.insert("temperature".into(), json!(t));
        }
        if let Some(n) = self.max_tokens {
            body.insert("max_tokens".into(), json!(n));
        }
        if self.streaming {
            body.insert("stream".into(), json!(true));
            if self.stream_usage {
                body.insert("stream_options".into(), json!({"include_usage": true}));
            }
        }
        body.into()
    }
}

/// The messages of a first turn: the system prompt when there is one, then `prompt`.
pub fn first_turn(system: Option<&str>, prompt: &str) -> Value {
    let mut messages = Vec::new();
    if let Some(system) = system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.push(json!({"role": "user", "content": prompt}));
    Value::Array(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_set_is_sent() {
        let plain = ChatSettings::default().body("m", first_turn(None, "hi"));
        assert_eq!(
            plain,
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        );
        let all = ChatSettings {
            temperature: Some(0.5),
            max_tokens: Some(9),
            streaming: true,
            stream_usage: true,
        }
        .body("m", first_turn(Some("be brief"), "hi"));
        assert_eq!(
            all,
            json!({
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "hi"},
                ],
                "temperature": 0.5,
                "max_tokens": 9,
                "stream": true,
                "stream_options": {"include_usage": true},
            })
        );
        let usage_without_stream = ChatSettings {
            stream_usage: true,
            ..ChatSettings::default()
        };
        assert!(usage_without_stream
            .body("m", json!([]))
            .get("stream_options")
            .is_none());
    }
}
