//! The chat REPL: `cometapi chat` with no message and a terminal on stdin. Each line is
//! a message (sent with the whole conversation, the reply streamed like one-shot chat)
//! or a slash command. The editor is the shared `src/shell` setup in free-text mode.

use std::fmt::Display;
use std::io::Write;
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
    // A closed stderr is no reason to stop.
    let _ = writeln!(
        ctx.streams().err(),
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
                if let Flow::Exit = on_line(ctx, session, &mut conversation, &line)? {
                    break;
                }
            }
            Signal::CtrlD => break,
            _ => continue, // Ctrl-C at the prompt: the line is cleared
        }
    }
    Ok(())
}

/// `text` neutralised when the context's stdout is a terminal.
fn for_stdout<'a>(ctx: &Context, text: &'a str) -> std::borrow::Cow<'a, str> {
    sanitize::for_terminal(text, ctx.streams().stdout_is_terminal())
}

/// A line of the REPL's own on stdout; a failed write (stdout closed) ends the session.
fn say(ctx: &Context, text: impl Display) -> Result<()> {
    writeln!(ctx.streams().out(), "{text}").map_err(CliError::from_output)
}

/// One line typed at the prompt: a message to send, or a slash command.
fn on_line(
    ctx: &Context,
    session: &Session,
    conversation: &mut Conversation,
    line: &str,
) -> Result<Flow> {
    let Some(command) = slash::parse(line) else {
        if !line.trim().is_empty() {
            ask(ctx, session, conversation, line)?;
        }
        return Ok(Flow::Continue);
    };
    match command {
        Slash::Model(id) => set_model(ctx, conversation, id)?,
        Slash::System(prompt) => set_system(ctx, conversation, prompt)?,
        Slash::Clear => {
            conversation.clear();
            say(ctx, "conversation cleared (the system prompt stays)")?;
        }
        Slash::New => {
            conversation.clear();
            say(ctx, "new conversation (model and system prompt stay)")?;
        }
        Slash::Conversations => print_conversations(ctx)?,
        Slash::History => print_history(ctx, conversation)?,
        Slash::Save(file, force) => save_to(ctx, conversation, file, force)?,
        Slash::Load(file) => load_from(ctx, conversation, file)?,
        Slash::Attach(None) => report(
            ctx,
            &CliError::usage("/attach needs a file or URL: /attach PATH|URL"),
        ),
        Slash::Attach(Some(spec)) => attach_next(ctx, conversation, spec)?,
        Slash::Retry => retry(ctx, session, conversation)?,
        Slash::Tokens => {
            let t = conversation.tokens;
            let line = format!(
                "prompt {} · completion {} · total {}",
                t.prompt, t.completion, t.total
            );
            say(ctx, line)?;
        }
        Slash::Help => say(ctx, slash::help_text())?,
        Slash::Exit => return Ok(Flow::Exit),
        Slash::Unknown(name) => {
            let help = slash::help_text();
            let text = format!("unknown command {name}; the commands are:\n{help}");
            let _ = writeln!(ctx.streams().err(), "{text}");
        }
    }
    Ok(Flow::Continue)
}

/// `/model`: shows the model, or (`/model ID`) switches to another.
fn set_model(ctx: &Context, conversation: &mut Conversation, id: Option<&str>) -> Result<()> {
    match id {
        None => say(ctx, &conversation.model),
        Some(id) => {
            conversation.model = id.to_string();
            say(ctx, format!("model: {id}"))
        }
    }
}

/// `/system`: shows the system prompt, sets it (`/system TEXT`) or clears it (`/system ""`).
fn set_system(ctx: &Context, conversation: &mut Conversation, prompt: Option<&str>) -> Result<()> {
    match prompt {
        None => match &conversation.system {
            Some(system) => say(ctx, system),
            None => say(ctx, "(no system prompt)"),
        },
        Some("") => {
            conversation.system = None;
            say(ctx, "system prompt cleared")
        }
        Some(prompt) => {
            conversation.system = Some(prompt.to_string());
            say(ctx, "system prompt set")
        }
    }
}

/// `/save FILE` (`/save! FILE` overwrites without asking).
fn save_to(
    ctx: &Context,
    conversation: &Conversation,
    file: Option<&str>,
    force: bool,
) -> Result<()> {
    let Some(file) = file else {
        let usage = "/save needs a file: /save FILE.json or FILE.md (/save! FILE overwrites)";
        report(ctx, &CliError::usage(usage));
        return Ok(());
    };
    match save(conversation, file, force) {
        Ok(Saved::Written(path)) => {
            let count = conversation.turns.len();
            say(ctx, format!("saved {count} messages to {}", path.display()))
        }
        Ok(Saved::Declined) => say(
            ctx,
            format!("not saved; /save! {file} overwrites without asking"),
        ),
        Err(err) => {
            report(ctx, &err);
            Ok(())
        }
    }
}

/// `/load FILE`: a saved chat replaces the conversation (a new one in the log).
fn load_from(ctx: &Context, conversation: &mut Conversation, file: Option<&str>) -> Result<()> {
    let Some(file) = file else {
        report(ctx, &CliError::usage("/load needs a file: /load FILE.json"));
        return Ok(());
    };
    match load(&expand_home(file)) {
        Ok(loaded) => {
            conversation.model = loaded.model;
            conversation.system = loaded.system;
            conversation.turns = loaded.turns;
            conversation.log_id = None;
            let line = format!(
                "loaded {} messages from {file} (model {})",
                conversation.turns.len(),
                conversation.model
            );
            say(ctx, line)
        }
        Err(err) => {
            report(ctx, &err);
            Ok(())
        }
    }
}

/// `/retry`: the last message sent again in place of its reply; a failed retry puts
/// the conversation back as it was.
fn retry(ctx: &Context, session: &Session, conversation: &mut Conversation) -> Result<()> {
    let before = conversation.turns.clone();
    let Some(message) = conversation.take_last_exchange() else {
        return say(ctx, "nothing to retry");
    };
    if !ask(ctx, session, conversation, &message)? {
        conversation.turns = before;
    } else if let (true, Some(id)) = (session.log, &conversation.log_id) {
        // The replaced reply stays logged, but is not sent again by `-c`.
        chatlog::mark_replaced(id);
    }
    Ok(())
}

/// Sends `message` with the conversation and streams the reply. The exchange is kept
/// only when the reply finished; Ctrl-C or an error drops it. Returns whether it was kept
/// (an error only when stdout cannot be written).
fn ask(
    ctx: &Context,
    session: &Session,
    conversation: &mut Conversation,
    message: &str,
) -> Result<bool> {
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
            Ok(true)
        }
        Err(err) if err.exit == ExitCode::Interrupted => {
            if reply.chars == 0 {
                say(ctx, "")?;
            }
            Ok(false)
        }
        Err(err) => {
            report(ctx, &err);
            Ok(false)
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
fn attach_next(ctx: &Context, conversation: &mut Conversation, spec: &str) -> Result<()> {
    let path = expand_home(spec);
    match attach::load(&path.to_string_lossy()) {
        Ok(attachment) => {
            let name = for_stdout(ctx, attachment.name());
            say(ctx, format!("{name} goes with the next message"))?;
            conversation.pending.push(attachment);
            Ok(())
        }
        Err(err) => {
            report(ctx, &err);
            Ok(())
        }
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
fn print_conversations(ctx: &Context) -> Result<()> {
    let filter = chatlog::Filter {
        limit: 10,
        ..chatlog::Filter::default()
    };
    let listed =
        chatlog::open().and_then(|store| store.list(&filter).map_err(|e| chatlog::failed(&e)));
    match listed {
        Ok(found) if found.is_empty() => say(ctx, "(no logged conversations yet)"),
        Ok(found) => {
            for c in found {
                let first = c.first_prompt.lines().next().unwrap_or("");
                let when = dates::format_datetime(c.updated_ms / 1000);
                let line = format!("{}  {when}  {}  {first}", c.id, c.model);
                say(ctx, for_stdout(ctx, &line))?;
            }
            say(ctx, "continue one with `cometapi chat --cid ID`")
        }
        Err(err) => {
            report(ctx, &err);
            Ok(())
        }
    }
}

fn print_history(ctx: &Context, conversation: &Conversation) -> Result<()> {
    if let Some(system) = &conversation.system {
        say(ctx, format!("system: {}", for_stdout(ctx, system)))?;
    }
    if conversation.turns.is_empty() {
        say(ctx, "(no messages yet)")?;
    }
    for turn in &conversation.turns {
        let content = for_stdout(ctx, turn.content.trim_end());
        say(ctx, format!("{}: {content}", turn.role))?;
    }
    Ok(())
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
    use crate::api::chat_body::ChatSettings;
    use crate::term::streams::{Captured, Streams, Terminals};

    const ALL: Terminals = Terminals {
        stdin: true,
        stdout: true,
        stderr: true,
    };

    fn session() -> Session {
        Session {
            request: ChatSettings {
                temperature: None,
                max_tokens: None,
                streaming: true,
                stream_usage: false,
            },
            render: false,
            log: false,
        }
    }

    /// Each line typed in turn at a REPL on test streams: whether the last one left,
    /// the conversation after them, and what was written.
    fn typed(lines: &[&str], conversation: Conversation) -> (bool, Conversation, Captured) {
        typed_on(Streams::test(), lines, conversation)
    }

    fn typed_on(
        (streams, captured): (Streams, Captured),
        lines: &[&str],
        mut conversation: Conversation,
    ) -> (bool, Conversation, Captured) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = Context::for_test(streams, dir.path());
        let mut exits = false;
        for line in lines {
            let flow = on_line(&ctx, &session(), &mut conversation, line).expect("runs");
            exits = matches!(flow, Flow::Exit);
        }
        (exits, conversation, captured)
    }

    fn fresh() -> Conversation {
        Conversation::new("gpt-x".into(), None)
    }

    #[test]
    fn model_and_system_replies_go_to_stdout() {
        let lines = [
            "/model",
            "/model other-1",
            "/system",
            "/system be brief",
            "/system",
        ];
        let (exits, conversation, captured) = typed(&lines, fresh());
        assert!(!exits);
        assert_eq!(
            captured.stdout(),
            "gpt-x\nmodel: other-1\n(no system prompt)\nsystem prompt set\nbe brief\n"
        );
        assert_eq!(captured.stderr(), "");
        assert_eq!(conversation.model, "other-1");
        assert_eq!(conversation.system.as_deref(), Some("be brief"));
        let (_, conversation, captured) = typed(&["/system \"\""], conversation);
        assert_eq!(captured.stdout(), "system prompt cleared\n");
        assert_eq!(conversation.system, None);
    }

    #[test]
    fn clear_new_tokens_retry_and_history_reply_on_stdout() {
        let mut conversation = Conversation::new("m".into(), Some("sys \x1b[31m".into()));
        conversation.push_exchange("hi", "hello  \n");
        conversation.tokens.prompt = 3;
        conversation.tokens.completion = 4;
        conversation.tokens.total = 7;
        let (streams, captured) = Streams::test();
        let on_terminal = (streams.with_terminals(ALL, 80), captured);
        let lines = ["/history", "/tokens", "/clear"];
        let (_, conversation, captured) = typed_on(on_terminal, &lines, conversation);
        let shown = captured.stdout();
        assert!(!shown.contains('\x1b'), "escapes neutralised: {shown:?}");
        assert!(shown.starts_with("system: sys "), "{shown}");
        assert!(shown.contains("\nuser: hi\nassistant: hello\n"), "{shown}");
        assert!(
            shown.ends_with(
                "prompt 3 · completion 4 · total 7\n\
                 conversation cleared (the system prompt stays)\n"
            ),
            "{shown}"
        );
        assert!(conversation.turns.is_empty());
        let mut escaped = fresh();
        escaped.push_exchange("\x1b[2J", "ok");
        let (_, _, captured) = typed(&["/history"], escaped);
        assert_eq!(
            captured.stdout(),
            "user: \x1b[2J\nassistant: ok\n",
            "a pipe gets the text as it is"
        );
        let (_, _, captured) = typed(&["/history", "/retry", "/new"], fresh());
        assert_eq!(
            captured.stdout(),
            "(no messages yet)\nnothing to retry\n\
             new conversation (model and system prompt stay)\n"
        );
    }

    #[test]
    fn help_goes_to_stdout_and_an_unknown_command_to_stderr() {
        let (_, _, captured) = typed(&["/help"], fresh());
        assert_eq!(captured.stdout(), format!("{}\n", slash::help_text()));
        assert!(captured.stdout().contains("/model"));
        assert_eq!(captured.stderr(), "");
        let (exits, _, captured) = typed(&["/frobnicate"], fresh());
        assert!(!exits, "an unknown command keeps the session");
        assert_eq!(captured.stdout(), "");
        let noted = captured.stderr();
        assert!(
            noted.starts_with("unknown command /frobnicate; the commands are:\n"),
            "{noted}"
        );
        assert!(
            noted.ends_with(&format!("{}\n", slash::help_text())),
            "{noted}"
        );
    }

    #[test]
    fn exit_leaves_and_a_blank_line_sends_nothing() {
        let (exits, _, captured) = typed(&["   "], fresh());
        assert!(!exits);
        assert_eq!(captured.stdout() + &captured.stderr(), "");
        let (exits, _, captured) = typed(&["/exit"], fresh());
        assert!(exits);
        assert_eq!(captured.stdout() + &captured.stderr(), "");
    }

    #[test]
    fn a_bad_save_or_load_writes_nothing_to_stdout() {
        // The errors are reported on the process's stderr (app::report); stdout stays clean.
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("missing.json");
        let load = format!("/load {}", missing.display());
        let save = format!("/save {}", dir.path().join("a.txt").display());
        let (exits, conversation, captured) = typed(&["/save", &save, &load], fresh());
        assert!(!exits);
        assert_eq!(captured.stdout(), "");
        assert_eq!(
            conversation.model, "gpt-x",
            "a failed load keeps the conversation"
        );
        assert!(!dir.path().join("a.txt").exists());
    }

    #[test]
    fn save_then_load_report_on_stdout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("chat.json");
        let mut conversation = fresh();
        conversation.push_exchange("q", "a");
        let save = format!("/save {}", file.display());
        let (_, _, captured) = typed(&[&save], conversation);
        assert_eq!(
            captured.stdout(),
            format!("saved 2 messages to {}\n", file.display())
        );
        let load = format!("/load {}", file.display());
        let (_, loaded, captured) = typed(&[&load], Conversation::new("other".into(), None));
        assert_eq!(
            captured.stdout(),
            format!("loaded 2 messages from {} (model gpt-x)\n", file.display())
        );
        assert_eq!(loaded.turns.len(), 2);
    }

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
