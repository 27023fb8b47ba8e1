//! The chat REPL's slash commands: parsing a line and Tab completion (commands, and
//! model ids after `/model `, from the cached catalog only).

use reedline::{Completer, Suggestion};

/// Every slash command with its one-line help, in the order `/help` lists them.
pub const COMMANDS: &[(&str, &str)] = &[
    ("/model", "Show the model, or switch: /model ID"),
    (
        "/system",
        "Show the system prompt, or set it: /system PROMPT (/system \"\" clears)",
    ),
    ("/clear", "Drop the conversation (the system prompt stays)"),
    (
        "/new",
        "Start a new conversation (model and system prompt stay; the last one stays logged)",
    ),
    (
        "/conversations",
        "List the latest logged conversations (continue one with chat --cid ID)",
    ),
    ("/history", "Print the conversation"),
    (
        "/save",
        "Save the conversation (0600): /save FILE.json or FILE.md; asks before overwriting",
    ),
    (
        "/save!",
        "Save, overwriting FILE without asking: /save! FILE",
    ),
    (
        "/load",
        "Restore model, system prompt and messages: /load FILE.json",
    ),
    (
        "/attach",
        "Send a file or image URL with the next message: /attach PATH|URL",
    ),
    ("/retry", "Drop the last reply and ask again"),
    ("/tokens", "Prompt, completion and total tokens so far"),
    ("/help", "List these commands"),
    ("/exit", "Leave (also /quit, Ctrl-D)"),
    ("/quit", "Leave (also /exit, Ctrl-D)"),
];

#[derive(Debug, PartialEq, Eq)]
pub enum Slash<'a> {
    Model(Option<&'a str>),
    System(Option<&'a str>),
    Clear,
    New,
    Conversations,
    History,
    /// The file, and whether an existing one is overwritten without asking (`/save!`).
    Save(Option<&'a str>, bool),
    Load(Option<&'a str>),
    Attach(Option<&'a str>),
    Retry,
    Tokens,
    Help,
    Exit,
    Unknown(&'a str),
}

/// `None` when the line is a message (does not start with `/`).
pub fn parse(line: &str) -> Option<Slash<'_>> {
    let line = line.trim();
    if !line.starts_with('/') {
        return None;
    }
    let (name, rest) = match line.split_once(char::is_whitespace) {
        Some((name, rest)) => (name, Some(rest.trim()).filter(|r| !r.is_empty())),
        None => (line, None),
    };
    Some(match name {
        "/model" => Slash::Model(rest),
        "/system" => Slash::System(rest.map(unquote_empty)),
        "/clear" => Slash::Clear,
        "/new" => Slash::New,
        "/conversations" => Slash::Conversations,
        "/history" => Slash::History,
        "/save" => Slash::Save(rest, false),
        "/save!" => Slash::Save(rest, true),
        "/load" => Slash::Load(rest),
        "/attach" => Slash::Attach(rest),
        "/retry" => Slash::Retry,
        "/tokens" => Slash::Tokens,
        "/help" => Slash::Help,
        "/exit" | "/quit" => Slash::Exit,
        other => Slash::Unknown(other),
    })
}

/// `/system ""` (or `''`) is an empty prompt: it clears.
fn unquote_empty(rest: &str) -> &str {
    if rest == "\"\"" || rest == "''" {
        ""
    } else {
        rest
    }
}

/// The commands, one per line with their help.
pub fn help_text() -> String {
    let width = COMMANDS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    COMMANDS
        .iter()
        .map(|(name, about)| format!("  {name:width$}  {about}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub struct SlashCompleter {
    pub model_ids: Box<dyn Fn() -> Vec<String> + Send>,
}

impl SlashCompleter {
    /// `(replacement, description, start)` for the text before the cursor.
    pub fn candidates(&self, before: &str) -> (Vec<(String, String)>, usize) {
        if let Some(id) = before.strip_prefix("/model ") {
            if id.contains(char::is_whitespace) {
                return (Vec::new(), 0);
            }
            let ids = (self.model_ids)()
                .into_iter()
                .filter(|m| m.starts_with(id))
                .map(|m| (m, String::new()))
                .collect();
            return (ids, "/model ".len());
        }
        if before.starts_with('/') && !before.contains(char::is_whitespace) {
            let names = COMMANDS
                .iter()
                .filter(|(n, _)| n.starts_with(before))
                .map(|(n, a)| (n.to_string(), a.to_string()))
                .collect();
            return (names, 0);
        }
        (Vec::new(), 0)
    }
}

impl Completer for SlashCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> Vec<Suggestion> {
        let before = line.get(..pos).unwrap_or(line);
        let (items, start) = self.candidates(before);
        crate::term::shell::completer::suggestions(items, start, pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_leaves_messages_alone() {
        assert_eq!(parse("hello /model"), None);
        assert_eq!(parse("/model"), Some(Slash::Model(None)));
        assert_eq!(
            parse(" /model  gpt-4o "),
            Some(Slash::Model(Some("gpt-4o")))
        );
        assert_eq!(
            parse("/system be brief"),
            Some(Slash::System(Some("be brief")))
        );
        assert_eq!(parse("/system \"\""), Some(Slash::System(Some(""))));
        assert_eq!(parse("/save a.md"), Some(Slash::Save(Some("a.md"), false)));
        assert_eq!(
            parse("/save! ~/a.md"),
            Some(Slash::Save(Some("~/a.md"), true))
        );
        assert_eq!(parse("/save"), Some(Slash::Save(None, false)));
        assert_eq!(parse("/quit"), Some(Slash::Exit));
        assert_eq!(
            parse("/attach ~/a b.png"),
            Some(Slash::Attach(Some("~/a b.png")))
        );
        assert_eq!(parse("/new"), Some(Slash::New));
        assert_eq!(parse("/conversations"), Some(Slash::Conversations));
        assert_eq!(parse("/nope x"), Some(Slash::Unknown("/nope")));
        assert!(help_text().contains("/retry"));
    }

    #[test]
    fn completes_commands_and_model_ids() {
        let completer = SlashCompleter {
            model_ids: Box::new(|| vec!["gpt-4o".into(), "gpt-4o-mini".into(), "claude".into()]),
        };
        let names = |before: &str| -> Vec<String> {
            completer
                .candidates(before)
                .0
                .into_iter()
                .map(|(v, _)| v)
                .collect()
        };
        assert_eq!(names("/h"), ["/history", "/help"]);
        assert_eq!(names("/model gpt"), ["gpt-4o", "gpt-4o-mini"]);
        assert_eq!(completer.candidates("/model g").1, 7);
        assert!(names("hello").is_empty());
        assert!(names("/save x").is_empty());
    }
}
