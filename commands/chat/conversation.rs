//! The chat REPL's state: model, system prompt, the turns so far and the tokens the
//! server reported. Pure data: building a request's messages, `/save` (JSON or a
//! markdown transcript) and `/load`.

use serde_json::{json, Value};

use crate::api::attach::Attachment;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Turn {
    pub role: String,
    pub content: String,
}

/// Token totals from the usage the server returned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    pub prompt: u64,
    pub completion: u64,
    pub total: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Conversation {
    pub model: String,
    pub system: Option<String>,
    pub turns: Vec<Turn>,
    pub tokens: Tokens,
    /// Attachments for the next message (`chat -a`, `/attach`); sent with it only.
    pub pending: Vec<Attachment>,
    /// The conversation log's id for it, once an exchange was recorded or it was
    /// continued from the log; `None` starts a new logged conversation.
    pub log_id: Option<String>,
}

impl Conversation {
    pub fn new(model: String, system: Option<String>) -> Conversation {
        Conversation {
            model,
            system: system.filter(|s| !s.is_empty()),
            turns: Vec::new(),
            tokens: Tokens::default(),
            pending: Vec::new(),
            log_id: None,
        }
    }

    /// A logged conversation; its completed exchanges become the turns.
    pub fn from_log(stored: &crate::store::chatlog::Stored) -> Conversation {
        let mut conversation = Conversation::new(stored.model.clone(), stored.system.clone());
        for exchange in &stored.exchanges {
            if exchange.status == crate::store::chatlog::Status::Completed.as_str() {
                conversation.push_exchange(&exchange.prompt, &exchange.reply);
            }
        }
        conversation.log_id = Some(stored.id.clone());
        conversation
    }

    /// The completed exchanges as (prompt, reply) pairs; a user turn without a reply
    /// is left out.
    pub fn exchanges(&self) -> Vec<(String, String)> {
        self.turns
            .windows(2)
            .filter(|pair| pair[0].role == "user" && pair[1].role == "assistant")
            .map(|pair| (pair[0].content.clone(), pair[1].content.clone()))
            .collect()
    }

    /// The messages to send: the system prompt, every turn so far, then `message`.
    pub fn messages_with(&self, message: &str) -> Value {
        let mut messages: Vec<Value> = self
            .system
            .iter()
            .map(|s| json!({"role": "system", "content": s}))
            .collect();
        messages.extend(
            self.turns
                .iter()
                .map(|t| json!({"role": t.role, "content": t.content})),
        );
        messages.push(json!({"role": "user", "content": message}));
        Value::Array(messages)
    }

    /// Keeps an answered exchange.
    pub fn push_exchange(&mut self, user: &str, assistant: &str) {
        self.turns.push(turn("user", user));
        self.turns.push(turn("assistant", assistant));
    }

    /// `/retry`: removes the last exchange and returns its user message.
    pub fn take_last_exchange(&mut self) -> Option<String> {
        if self.turns.last().is_some_and(|t| t.role == "assistant") {
            self.turns.pop();
        }
        match self.turns.last() {
            Some(t) if t.role == "user" => self.turns.pop().map(|t| t.content),
            _ => None,
        }
    }

    /// Adds the tokens of one reply's `usage` object.
    pub fn add_usage(&mut self, usage: Option<&Value>) {
        let get = |k: &str| usage.and_then(|u| u.get(k)).and_then(Value::as_u64);
        let prompt = get("prompt_tokens").unwrap_or(0);
        let completion = get("completion_tokens").unwrap_or(0);
        self.tokens.prompt += prompt;
        self.tokens.completion += completion;
        self.tokens.total += get("total_tokens").unwrap_or(prompt + completion);
    }

    /// `/clear` and `/new`: drops the turns, keeps model and system prompt; the next
    /// exchange starts a new logged conversation.
    pub fn clear(&mut self) {
        self.turns.clear();
        self.log_id = None;
    }

    /// `{"model", "system", "messages": [{role, content}]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "model": self.model,
            "system": self.system,
            "messages": self.turns.iter()
                .map(|t| json!({"role": t.role, "content": t.content}))
                .collect::<Vec<_>>(),
        })
    }

    /// A readable transcript.
    pub fn to_markdown(&self) -> String {
        let mut text = format!("# Chat with {}\n", self.model);
        if let Some(system) = &self.system {
            text.push_str(&format!("\n**System:** {system}\n"));
        }
        for t in &self.turns {
            let who = if t.role == "user" { "You" } else { "Assistant" };
            text.push_str(&format!("\n## {who}\n\n{}\n", t.content.trim_end()));
        }
        text
    }

    /// Reads what [`Conversation::to_json`] wrote (a `system` message inside
    /// `messages` is taken as the system prompt).
    pub fn from_json(value: &Value) -> Result<Conversation, String> {
        let model = value
            .get("model")
            .and_then(Value::as_str)
            .ok_or("no \"model\" string")?;
        let mut system = value
            .get("system")
            .and_then(Value::as_str)
            .map(str::to_string);
        let messages = value
            .get("messages")
            .and_then(Value::as_array)
            .ok_or("no \"messages\" array")?;
        let mut turns = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let role = m.get("role").and_then(Value::as_str);
            let content = m.get("content").and_then(Value::as_str);
            match (role, content) {
                (Some("system"), Some(c)) => system = Some(c.to_string()),
                (Some(r @ ("user" | "assistant")), Some(c)) => turns.push(turn(r, c)),
                _ => {
                    return Err(format!(
                        "message {} needs a role (user or assistant) and a string content",
                        i + 1
                    ))
                }
            }
        }
        let mut conversation = Conversation::new(model.to_string(), system);
        conversation.turns = turns;
        Ok(conversation)
    }
}

fn turn(role: &str, content: &str) -> Turn {
    Turn {
        role: role.to_string(),
        content: content.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_turns() -> Conversation {
        let mut c = Conversation::new("gpt-5.4".into(), Some("be brief".into()));
        c.push_exchange("hi", "echo: hi");
        c
    }

    #[test]
    fn messages_carry_system_history_then_the_new_message() {
        let roles: Vec<(String, String)> = two_turns()
            .messages_with("again")
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["role"].as_str().unwrap_or("").into(),
                    m["content"].as_str().unwrap_or("").into(),
                )
            })
            .collect();
        let expected = [
            ("system", "be brief"),
            ("user", "hi"),
            ("assistant", "echo: hi"),
            ("user", "again"),
        ];
        assert_eq!(roles, expected.map(|(r, c)| (r.to_string(), c.to_string())));
    }

    #[test]
    fn clear_keeps_the_system_prompt_and_retry_takes_the_last_exchange() {
        let mut c = two_turns();
        c.push_exchange("second", "echo: second");
        assert_eq!(c.take_last_exchange().as_deref(), Some("second"));
        assert_eq!(c.turns.len(), 2);
        c.clear();
        assert!(c.turns.is_empty());
        assert_eq!(c.system.as_deref(), Some("be brief"));
        assert_eq!(c.take_last_exchange(), None);
    }

    #[test]
    fn json_round_trips_and_markdown_reads_as_a_transcript() {
        let c = two_turns();
        let back = Conversation::from_json(&c.to_json()).expect("load");
        assert_eq!(back.turns, c.turns);
        assert_eq!(back.system, c.system);
        assert_eq!(back.model, "gpt-5.4");
        let md = c.to_markdown();
        assert!(md.contains("**System:** be brief"), "{md}");
        assert!(
            md.contains("## You\n\nhi\n\n## Assistant\n\necho: hi"),
            "{md}"
        );
        assert!(Conversation::from_json(&json!({"model": "m"})).is_err());
        assert!(
            Conversation::from_json(&json!({"model": "m", "messages": [{"role": "tool"}]}))
                .is_err()
        );
    }

    #[test]
    fn usage_adds_up() {
        let mut c = two_turns();
        c.add_usage(Some(
            &json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}),
        ));
        c.add_usage(Some(&json!({"prompt_tokens": 4, "completion_tokens": 1})));
        c.add_usage(None);
        assert_eq!(
            c.tokens,
            Tokens {
                prompt: 7,
                completion: 3,
                total: 10
            }
        );
    }
}
