//! The chat REPL: `cometapi chat` with no message and a terminal on stdin. Each line is
//! a message (sent with the whole conversation, the reply streamed like one-shot chat)
//! or a slash command. The editor is the shared `src/shell` setup in free-text mode.

use std::path::{Path, PathBuf};

use reedline::Signal;
use serde_json::Value;

use super::conversation::Conversation;
use super::slash::{self, Slash, SlashCompleter};
use super::{stream_to_stdout, Session};
use crate::api::attach;
use crate::api::catalog;
use crate::api::stream::{Reply, Wire};
use crate::cli::app;
use crate::cli::context::Context;
use crate::config::paths;
use crate::error::{CliError, ExitCode, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::dates;
use crate::store::chatlog;
use crate::store::files;
use crate::term::line_input;
use crate::term::sanitize;
use crate::term::shell::{self, ShellPrompt};

enum Flow {
    Continue,
    Exit,
}

pub fn run(ctx: &Context, session: &Session, mut conversation: Conversation) -> Result<()> {
    crate::term::interrupt::enter_shell(); // Ctrl-C stops a reply, never the session
    let globals = ctx.globals.clone();
    let completer = SlashCompleter {
        model_ids: Box::new(move || catalog::cached_ids(&Context::new(globals.clone()))),
    };
    let parts = shell::Parts {
        prompt: conversation.model.clone(),
        completer: Box::new(completer),
        lines: shell::Lines::FreeText,
    };
    let history_path = paths::config_dir().join("chat_history");
    let (mut editor, _) = shell::editor(parts, &history_path).map_err(|e| {
        CliError::failure(format!(
            "cannot open the history file {}: {e}",
            history_path.display()
        ))
    })?;
    eprintln!(
        "Chatting with {}. Type /help for commands, Alt-Enter for a new line, /exit or Ctrl-D to leave.",
        conversation.model
    );
    loop {
        let prompt = ShellPrompt(conversation.model.clone());
        let signal = editor
            .read_line(&prompt)
            .map_err(|e| CliError::failure(format!("cannot read from the terminal: {e}")))?;
        match signal {
            Signal::Success(line) => {
                if let Flow::Exit = on_line(ctx, session, &mut conversation, &line) {
                    break;
                }
            }
            Signal::CtrlD => break,
            _ => continue, // Ctrl-C at the prompt: the line is cleared
        }
    }
    Ok(())
}

/// One line typed at the prompt: a message to send, or a slash command.
fn on_line(ctx: &Context, session: &Session, conversation: &mut Conversation, line: &str) -> Flow {
    let Some(command) = slash::parse(line) else {
        if !line.trim().is_empty() {
            ask(ctx, session, conversation, line);
        }
        return Flow::Continue;
    };
    match command {
        Slash::Model(id) => set_model(conversation, id),
        Slash::System(prompt) => set_system(conversation, prompt),
        Slash::Clear => {
            conversation.clear();
            println!("conversation cleared (the system prompt stays)");
        }
        Slash::New => {
            conversation.clear();
            println!("new conversation (model and system prompt stay)");
        }
        Slash::Conversations => print_conversations(ctx),
        Slash::History => print_history(conversation),
        Slash::Save(file, force) => save_to(ctx, conversation, file, force),
        Slash::Load(file) => load_from(ctx, conversation, file),
        Slash::Attach(None) => report(
            ctx,
            &CliError::usage("/attach needs a file or URL: /attach PATH|URL"),
        ),
        Slash::Attach(Some(spec)) => attach_next(ctx, conversation, spec),
        Slash::Retry => retry(ctx, session, conversation),
        Slash::Tokens => {
            let t = conversation.tokens;
            println!(
                "prompt {} · completion {} · total {}",
                t.prompt, t.completion, t.total
            );
        }
        Slash::Help => println!("{}", slash::help_text()),
        Slash::Exit => return Flow::Exit,
        Slash::Unknown(name) => {
            eprintln!("unknown command {name}; the commands are:");
            eprintln!("{}", slash::help_text());
        }
    }
    Flow::Continue
}

/// `/model`: shows the model, or (`/model ID`) switches to another.
fn set_model(conversation: &mut Conversation, id: Option<&str>) {
    match id {
        None => println!("{}", conversation.model),
        Some(id) => {
            conversation.model = id.to_string();
            println!("model: {id}");
        }
    }
}

/// `/system`: shows the system prompt, sets it (`/system TEXT`) or clears it (`/system ""`).
fn set_system(conversation: &mut Conversation, prompt: Option<&str>) {
    match prompt {
        None => match &conversation.system {
            Some(system) => println!("{system}"),
            None => println!("(no system prompt)"),
        },
        Some("") => {
            conversation.system = None;
            println!("system prompt cleared");
        }
        Some(prompt) => {
            conversation.system = Some(prompt.to_string());
            println!("system prompt set");
        }
    }
}

/// `/save FILE` (`/save! FILE` overwrites without asking).
fn save_to(ctx: &Context, conversation: &Conversation, file: Option<&str>, force: bool) {
    let Some(file) = file else {
        let usage = "/save needs a file: /save FILE.json or FILE.md (/save! FILE overwrites)";
        report(ctx, &CliError::usage(usage));
        return;
    };
    match save(conversation, file, force) {
        Ok(Saved::Written(path)) => println!(
            "saved {} messages to {}",
            conversation.turns.len(),
            path.display()
        ),
        Ok(Saved::Declined) => {
            println!("not saved; /save! {file} overwrites without asking");
        }
        Err(err) => report(ctx, &err),
    }
}

/// `/load FILE`: a saved chat replaces the conversation (a new one in the log).
fn load_from(ctx: &Context, conversation: &mut Conversation, file: Option<&str>) {
    let Some(file) = file else {
        report(ctx, &CliError::usage("/load needs a file: /load FILE.json"));
        return;
    };
    match load(&expand_home(file)) {
        Ok(loaded) => {
            conversation.model = loaded.model;
            conversation.system = loaded.system;
            conversation.turns = loaded.turns;
            conversation.log_id = None;
            println!(
                "loaded {} messages from {file} (model {})",
                conversation.turns.len(),
                conversation.model
            );
        }
        Err(err) => report(ctx, &err),
    }
}

/// `/retry`: the last message sent again in place of its reply; a failed retry puts
/// the conversation back as it was.
fn retry(ctx: &Context, session: &Session, conversation: &mut Conversation) {
    let before = conversation.turns.clone();
    let Some(message) = conversation.take_last_exchange() else {
        println!("nothing to retry");
        return;
    };
    if !ask(ctx, session, conversation, &message) {
        conversation.turns = before;
    } else if let (true, Some(id)) = (session.log, &conversation.log_id) {
        // The replaced reply stays logged, but is not sent again by `-c`.
        chatlog::mark_replaced(id);
    }
}

/// Sends `message` with the conversation and streams the reply. The exchange is kept
/// only when the reply finished; Ctrl-C or an error drops it. Returns whether it was kept.
fn ask(ctx: &Context, session: &Session, conversation: &mut Conversation, message: &str) -> bool {
    crate::term::interrupt::clear(); // a Ctrl-C that stopped the last reply does not stop this one
    let mut reply = Reply::new(true);
    let started = std::time::Instant::now();
    let result = send(ctx, session, conversation, message, &mut reply);
    if session.log {
        let logged = super::log::record(ctx, conversation, message, &reply, &result, started);
        conversation.log_id = logged.or(conversation.log_id.take());
    }
    match result {
        Ok(()) => {
            let text = reply.content.take().unwrap_or_default();
            conversation.add_usage(reply.usage.as_ref());
            // Text files stay in the history; images and PDFs went with this message only.
            let sent = attach::message_text(message, &conversation.pending);
            conversation.pending.clear();
            conversation.push_exchange(&sent, &text);
            true
        }
        Err(err) if err.exit == ExitCode::Interrupted => {
            if reply.chars == 0 {
                println!();
            }
            false
        }
        Err(err) => {
            report(ctx, &err);
            false
        }
    }
}

fn send(
    ctx: &Context,
    session: &Session,
    conversation: &Conversation,
    message: &str,
    reply: &mut Reply,
) -> Result<()> {
    let key = ctx.api_key()?;
    let url = ctx.base_url()?.v1("chat/completions");
    let mut messages = conversation.messages_with(message);
    if let Some(last) = messages.as_array_mut().and_then(|m| m.last_mut()) {
        last["content"] = attach::user_content(Wire::Chat, message, &conversation.pending)?;
    }
    let body = session.request.body(&conversation.model, messages);
    let request = Request::post_json(url, Auth::ApiKey(&key, KeyHeader::Bearer), &body);
    stream_to_stdout(ctx, &conversation.model, &request, reply, session.render)
}

/// `/attach PATH|URL`: read now (so a bad path is reported at once), sent with the next message.
fn attach_next(ctx: &Context, conversation: &mut Conversation, spec: &str) {
    let path = expand_home(spec);
    match attach::load(&path.to_string_lossy()) {
        Ok(attachment) => {
            println!(
                "{} goes with the next message",
                sanitize::for_stdout(attachment.name())
            );
            conversation.pending.push(attachment);
        }
        Err(err) => report(ctx, &err),
    }
}

fn report(ctx: &Context, err: &CliError) {
    app::report(
        &app::redacted(err.clone(), ctx),
        false,
        ctx.globals.no_color,
    );
}

/// `/conversations`: the latest logged conversations, one line each.
fn print_conversations(ctx: &Context) {
    let filter = chatlog::Filter {
        limit: 10,
        ..chatlog::Filter::default()
    };
    let listed =
        chatlog::open().and_then(|store| store.list(&filter).map_err(|e| chatlog::failed(&e)));
    match listed {
        Ok(found) if found.is_empty() => println!("(no logged conversations yet)"),
        Ok(found) => {
            for c in found {
                let first = c.first_prompt.lines().next().unwrap_or("");
                let when = dates::format_datetime(c.updated_ms / 1000);
                let line = format!("{}  {when}  {}  {first}", c.id, c.model);
                println!("{}", sanitize::for_stdout(&line));
            }
            println!("continue one with `cometapi chat --cid ID`");
        }
        Err(err) => report(ctx, &err),
    }
}

fn print_history(conversation: &Conversation) {
    if let Some(system) = &conversation.system {
        println!("system: {}", sanitize::for_stdout(system));
    }
    if conversation.turns.is_empty() {
        println!("(no messages yet)");
    }
    for turn in &conversation.turns {
        let content = sanitize::for_stdout(turn.content.trim_end());
        println!("{}: {content}", turn.role);
    }
}

enum Saved {
    Written(PathBuf),
    /// The file existed and the user did not confirm.
    Declined,
}

/// Writes the conversation to `file` (`~` expanded) atomically with mode 0600. An
/// existing file is overwritten only when `force` (`/save!`) or the user says yes.
fn save(conversation: &Conversation, file: &str, force: bool) -> Result<Saved> {
    let path = expand_home(file);
    let text = render(conversation, &path)?;
    // A dangling symlink is something that exists too.
    if !force && std::fs::symlink_metadata(&path).is_ok() {
        let question = format!("{} exists; overwrite it? [y/N] ", path.display());
        let answer = line_input::read_line(&question, false)?;
        if !matches!(answer.trim().to_lowercase().as_str(), "y" | "yes") {
            return Ok(Saved::Declined);
        }
    }
    files::write_private(&path, text.as_bytes())
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))?;
    Ok(Saved::Written(path))
}

/// The conversation as the file's extension asks: `.json` or `.md`.
fn render(conversation: &Conversation, path: &Path) -> Result<String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            let mut text = serde_json::to_string_pretty(&conversation.to_json())
                .map_err(|e| CliError::failure(e.to_string()))?;
            text.push('\n');
            Ok(text)
        }
        Some("md") => Ok(conversation.to_markdown()),
        _ => Err(CliError::usage(format!(
            "cannot save to {}: use a .json or .md file",
            path.display()
        ))),
    }
}

/// `~` and `~/...` name the home directory, as in a shell (the REPL has no shell to
/// expand them). `~user` is left as it is.
fn expand_home(file: &str) -> PathBuf {
    let rest = match file.strip_prefix('~') {
        Some("") => "",
        Some(rest) if rest.starts_with('/') => rest.trim_start_matches('/'),
        _ => return PathBuf::from(file),
    };
    match dirs::home_dir() {
        Some(home) => home.join(rest),
        None => PathBuf::from(file),
    }
}

fn load(path: &Path) -> Result<Conversation> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::failure(format!("cannot read {}: {e}", path.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::failure(format!("{} is not JSON: {e}", path.display())))?;
    Conversation::from_json(&value)
        .map_err(|e| CliError::failure(format!("{} is not a saved chat: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_tilde_is_the_home_directory() {
        let home = dirs::home_dir().expect("a home directory");
        assert_eq!(expand_home("~/chats/a.md"), home.join("chats/a.md"));
        assert_eq!(expand_home("~"), home.join(""));
        for kept in ["a.md", "~user/a.md", "./~/a.md", "/tmp/~a.md"] {
            assert_eq!(expand_home(kept), PathBuf::from(kept), "{kept}");
        }
    }

    #[test]
    fn only_json_and_markdown_are_saved() {
        let conversation = Conversation::new("m".into(), None);
        assert!(render(&conversation, Path::new("a.json")).is_ok());
        assert!(render(&conversation, Path::new("a.md")).is_ok());
        let err = render(&conversation, Path::new("a.txt")).expect_err("rejected");
        assert_eq!(err.exit, ExitCode::Usage);
    }
}
