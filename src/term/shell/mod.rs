//! The shared line-editor setup for interactive shells (`cometapi repl` and the chat
//! REPL): reedline with a masked, 0600, concurrency-safe history file, hints from
//! history, a Tab completion menu showing each item's one-line description, and per
//! kind of line either command highlighting plus a validator that keeps a line with an
//! open quote going (commands), or Alt-Enter newlines and bracketed paste (free text).

pub mod completer;
pub mod history;
pub mod mask;

use std::borrow::Cow;
use std::path::Path;

use nu_ansi_term::{Color, Style};
use reedline::{
    default_emacs_keybindings, ColumnarMenu, Completer, DefaultHinter, EditCommand, Emacs,
    Highlighter, KeyCode, KeyModifiers, MenuBuilder, Prompt, PromptEditMode, PromptHistorySearch,
    PromptHistorySearchStatus, Reedline, ReedlineEvent, ReedlineMenu, StyledText, ValidationResult,
    Validator,
};

pub use history::MaskedHistory;

const MENU: &str = "completion_menu";

/// What an interactive shell plugs into the editor.
pub struct Parts {
    pub prompt: String,
    pub completer: Box<dyn Completer + Send>,
    pub lines: Lines,
}

/// What a line is.
pub enum Lines {
    /// A command line: the first word highlighted, open quotes continue the line.
    Commands {
        /// Words highlighted as known in first position.
        known: Vec<String>,
        /// Ignored in first position (a habitual `cometapi`).
        program: String,
    },
    /// Free text (chat messages): Alt-Enter inserts a newline, pasted newlines stay.
    FreeText,
}

/// The line editor, with its history at `history_path` (created 0600).
pub fn editor(parts: Parts, history_path: &Path) -> std::io::Result<(Reedline, ShellPrompt)> {
    let mask = match parts.lines {
        Lines::Commands { .. } => mask::command_line,
        Lines::FreeText => mask::free_text,
    };
    let history = MaskedHistory::open(history_path, mask)?;
    let mut keybindings = default_emacs_keybindings();
    keybindings.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu(MENU.to_string()),
            ReedlineEvent::MenuNext,
        ]),
    );
    keybindings.add_binding(
        KeyModifiers::SHIFT,
        KeyCode::BackTab,
        ReedlineEvent::MenuPrevious,
    );
    if let Lines::FreeText = parts.lines {
        keybindings.add_binding(
            KeyModifiers::ALT,
            KeyCode::Enter,
            ReedlineEvent::Edit(vec![EditCommand::InsertNewline]),
        );
    }
    let menu = ColumnarMenu::default().with_name(MENU);
    let mut editor = Reedline::create()
        .with_history(Box::new(history))
        .with_hinter(Box::new(
            DefaultHinter::default().with_style(Style::new().fg(Color::DarkGray)),
        ));
    editor = match parts.lines {
        Lines::Commands { known, program } => editor
            .with_highlighter(Box::new(CommandHighlighter { known, program }))
            .with_validator(Box::new(QuoteValidator)),
        Lines::FreeText => editor.use_bracketed_paste(true),
    };
    let editor = editor
        .with_completer(parts.completer)
        .with_quick_completions(true)
        .with_partial_completions(true)
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_edit_mode(Box::new(Emacs::new(keybindings)));
    Ok((editor, ShellPrompt(parts.prompt)))
}

/// `name> `, and `...> ` on continuation lines.
pub struct ShellPrompt(pub String);

impl Prompt for ShellPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.0)
    }

    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }

    fn render_prompt_indicator(&self, _: PromptEditMode) -> Cow<'_, str> {
        Cow::Borrowed("> ")
    }

    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed("...> ")
    }

    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        let failing = match search.status {
            PromptHistorySearchStatus::Passing => "",
            PromptHistorySearchStatus::Failing => "failing ",
        };
        Cow::Owned(format!("({failing}search: {}) ", search.term))
    }
}

/// Marks the first word green when it is a known command, red otherwise.
pub struct CommandHighlighter {
    pub known: Vec<String>,
    pub program: String,
}

impl Highlighter for CommandHighlighter {
    fn highlight(&self, line: &str, _cursor: usize) -> StyledText {
        let mut styled = StyledText::new();
        let mut rest = line;
        let mut first = true;
        while !rest.is_empty() {
            let start = rest.len() - rest.trim_start().len();
            if start > 0 {
                styled.push((Style::new(), rest[..start].to_string()));
                rest = &rest[start..];
                continue;
            }
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let word = &rest[..end];
            let style = if word == self.program {
                Style::new().fg(Color::DarkGray)
            } else if first {
                first = false;
                if self.known.iter().any(|k| k == word) {
                    Style::new().fg(Color::Green).bold()
                } else {
                    Style::new().fg(Color::Red)
                }
            } else {
                Style::new()
            };
            styled.push((style, word.to_string()));
            rest = &rest[end..];
        }
        styled
    }
}

/// Splits a command line into words as a POSIX shell does (`shlex`): `'...'` is
/// literal, `"..."` allows `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes
/// escapes the next character, and `#` at the start of a word begins a comment. `None`
/// when a quote is still open or the line ends in a backslash.
pub fn split_words(line: &str) -> Option<Vec<String>> {
    shlex::split(line)
}

/// A line with an open quote (or a trailing backslash) is not finished: Enter adds a line.
pub struct QuoteValidator;

impl Validator for QuoteValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        match split_words(line) {
            Some(_) => ValidationResult::Complete,
            None => ValidationResult::Incomplete,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split_words(line).unwrap_or_else(|| panic!("{line} does not split"))
    }

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(words("  models  --json "), ["models", "--json"]);
        assert_eq!(
            words(r#"chat "hello world" 'a "b"' c\ d"#),
            ["chat", "hello world", "a \"b\"", "c d"]
        );
        assert_eq!(words(r#"x "a\"b\\c\n\$""#), ["x", "a\"b\\c\\n$"]);
        assert_eq!(words("x ''"), ["x", ""]);
        assert_eq!(words("chat C# is #not a comment"), ["chat", "C#", "is"]);
        assert_eq!(
            words("chat '#quoted' \\#escaped"),
            ["chat", "#quoted", "#escaped"]
        );
        assert!(words("").is_empty());
    }

    #[test]
    fn open_quotes_and_a_trailing_backslash_do_not_split() {
        for line in ["chat 'hi", "chat \"hi", "chat hi\\", "chat \"a\\\""] {
            assert_eq!(split_words(line), None, "{line}");
        }
    }

    #[test]
    fn open_quote_keeps_the_line_open() {
        assert!(matches!(
            QuoteValidator.validate("chat 'hello"),
            ValidationResult::Incomplete
        ));
        assert!(matches!(
            QuoteValidator.validate("chat 'hello'"),
            ValidationResult::Complete
        ));
    }

    #[test]
    fn known_and_unknown_commands_look_different() {
        let highlighter = CommandHighlighter {
            known: vec!["models".into()],
            program: "cometapi".into(),
        };
        let styles = |line: &str| -> Vec<(Style, String)> { highlighter.highlight(line, 0).buffer };
        let known = styles("cometapi models --json");
        let unknown = styles("modles --json");
        let style_of = |parts: &[(Style, String)], word: &str| {
            parts.iter().find(|(_, w)| w == word).map(|(s, _)| *s)
        };
        assert_ne!(style_of(&known, "models"), style_of(&unknown, "modles"));
        assert_eq!(
            known.iter().map(|(_, w)| w.as_str()).collect::<String>(),
            "cometapi models --json"
        );
    }
}
