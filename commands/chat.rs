//! `chat [MESSAGE]`: one message to `POST {base}/chat/completions`, the reply streamed
//! to stdout as it arrives (or rendered whole with `--no-stream`), then a dim usage
//! line on stderr when stderr is a terminal. `--json` prints `{model, role, content, usage}`.
//! With no message and a terminal on stdin, the multi-turn chat REPL (`chat/repl.rs`).

pub mod conversation;
mod log;
mod repl;
mod slash;
mod start;

use std::io::Write;

use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::{json, Value};

use crate::api::attach;
use crate::api::catalog;
use crate::api::chat_body::ChatSettings;
use crate::api::message;
use crate::api::stream::{self, Reply, Wire};
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Outcome, Output};
use crate::term::markdown;
use crate::term::sanitize;
use crate::term::style;

fn args(cmd: clap::Command) -> clap::Command {
    start::args(
        cmd.after_help(
            "With no MESSAGE and a terminal on stdin: the multi-turn chat REPL (`/help` lists its \
         slash commands; Alt-Enter inserts a newline; Ctrl-C stops a reply; /exit or Ctrl-D \
         leave). History: ~/.config/cometapi/chat_history (0600).",
        )
        .arg(
            Arg::new("message")
                .value_name("MESSAGE")
                .num_args(1..)
                .help(
                    "The message; several words are joined with spaces (`chat hello world`); `-` \
                 reads it from stdin. Piped stdin is added after a blank line",
                ),
        )
        .arg(
            Arg::new("model")
                .short('m')
                .long("model")
                .value_name("MODEL")
                .value_parser(front::non_blank)
                .help("Model id (default: COMETAPI_DEFAULT_MODEL, config default_model, gpt-5.4)"),
        )
        .arg(
            Arg::new("system")
                .short('s')
                .long("system")
                .value_name("PROMPT")
                .help("System prompt; @FILE reads it from a file"),
        )
        .arg(
            Arg::new("temperature")
                .short('t')
                .long("temperature")
                .value_name("T")
                .allow_negative_numbers(true)
                .value_parser(value_parser!(f64))
                .help("Sampling temperature, 0.0 to 2.0"),
        )
        .arg(
            Arg::new("max_tokens")
                .long("max-tokens")
                .value_name("N")
                .value_parser(value_parser!(u32).range(1..))
                .help("Most tokens to generate"),
        )
        .arg(
            Arg::new("stream")
                .long("stream")
                .action(ArgAction::SetTrue)
                .overrides_with("no_stream")
                .help("Stream the reply as it is written (the default)"),
        )
        .arg(
            Arg::new("no_stream")
                .long("no-stream")
                .action(ArgAction::SetTrue)
                .overrides_with("stream")
                .help(
                    "Wait for the whole reply, then show it (rendered as Markdown on a terminal)",
                ),
        )
        .arg(attach::arg())
        .arg(markdown::raw_arg()),
    )
}

/// What `chat` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// The words of MESSAGE joined with spaces; `None` when none were given.
    message: Option<String>,
    model: Option<String>,
    /// As given: `@FILE` is read when the run starts.
    system: Option<String>,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    no_stream: bool,
    /// The `--attach` specs, in order.
    attach: Vec<String>,
    raw: bool,
    /// `-c`: continue the latest logged conversation.
    continue_latest: bool,
    cid: Option<String>,
    role: Option<String>,
    no_log: bool,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        let words: Option<Vec<&str>> = m
            .get_many::<String>("message")
            .map(|words| words.map(String::as_str).collect());
        let strings = |id: &str| m.get_many::<String>(id).into_iter().flatten().cloned();
        Options {
            message: words.map(|words| words.join(" ")),
            model: m.get_one::<String>("model").cloned(),
            system: m.get_one::<String>("system").cloned(),
            temperature: m.get_one::<f64>("temperature").copied(),
            max_tokens: m.get_one::<u32>("max_tokens").copied(),
            no_stream: m.get_flag("no_stream"),
            attach: strings("attach").collect(),
            raw: m.get_flag("raw"),
            continue_latest: m.get_flag("continue"),
            cid: m.get_one::<String>("cid").cloned(),
            role: m.get_one::<String>("role").cloned(),
            no_log: m.get_flag("no_log"),
        }
    }
}

/// What every request of one `chat` run shares.
struct Session {
    request: ChatSettings,
    /// Replies rendered as Markdown (a terminal with colour, no `--raw`).
    render: bool,
    /// Record exchanges in the conversation log (no `--no-log`, config `log` not false).
    log: bool,
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    chat(ctx, &Options::from_matches(m))
}

fn chat(ctx: &Context, options: &Options) -> Result<Outcome> {
    let arg = options.message.as_deref();
    if arg.is_some_and(|m| m.trim().is_empty()) {
        return Err(CliError::usage("the message is empty")
            .with_hint("pass some text (`cometapi chat \"hello\"`), or `-` to read stdin"));
    }
    let start::Start {
        conversation,
        temperature,
    } = start::start(ctx, options)?;
    let interactive =
        message::Source::of(arg, ctx.streams().stdin_is_terminal()) == message::Source::Interactive;
    let streaming = interactive || !options.no_stream;
    let session = Session {
        request: ChatSettings {
            temperature,
            max_tokens: options.max_tokens,
            streaming,
            stream_usage: streaming && ctx.stream_usage()?,
        },
        render: ctx.renders_markdown(options.raw)?,
        log: crate::store::chatlog::enabled(ctx, options.no_log),
    };
    let mut conversation = conversation;
    conversation.pending = attach::load_all(&options.attach)?;
    if interactive {
        repl::run(ctx, &session, conversation)?;
        return Ok(Output::Empty.into());
    }
    let message = if attach::takes_stdin(&options.attach) {
        message::argument_only(arg)?
    } else {
        message::read(arg, ctx.streams().stdin_is_terminal())?
    };
    let structured = ctx.formatter().structured;
    let model = conversation.model.clone();
    let mut messages = conversation.messages_with(&message);
    if let Some(last) = messages.as_array_mut().and_then(|all| all.last_mut()) {
        last["content"] = attach::user_content(Wire::Chat, &message, &conversation.pending)?;
    }
    let body = session.request.body(&model, messages);
    let key = ctx.api_key()?;
    let url = ctx.base_url()?.v1("chat/completions");
    let request = Request::post_json(url, Auth::ApiKey(&key, KeyHeader::Bearer), &body);

    let started = std::time::Instant::now();
    // Kept for the log, at most its cap (a huge reply does not grow memory with it).
    let mut reply = if session.log {
        Reply::keeping_at_most(crate::store::chatlog::REPLY_CAP)
    } else {
        Reply::new(false)
    };
    let result = one_shot(ctx, &session, &model, &request, structured, &mut reply);
    if session.log {
        log::record(ctx, &conversation, &message, &reply, &result, started);
    }
    result
}

/// Sends the one message and shows the reply (streamed, whole, or as JSON), keeping
/// what is known of it in `reply` for the conversation log.
fn one_shot(
    ctx: &Context,
    session: &Session,
    model: &str,
    request: &Request,
    structured: bool,
    reply: &mut Reply,
) -> Result<Outcome> {
    if !session.request.streaming {
        let whole = ctx.http()?.send(request)?.json()?;
        stream::check_whole_reply(&whole)?;
        let output = whole_reply(session, model, &whole, structured)?;
        *reply = known_of(&whole);
        reply.content = stream::text_of(Wire::Chat, &whole);
        if let Output::Text(text) = &output {
            // Written here, like the streamed reply, so the usage line comes after it.
            let mut out = ctx.streams().out();
            writeln!(out, "{text}")
                .and_then(|()| out.flush())
                .map_err(CliError::from_output)?;
            print_usage_line(ctx, model, reply);
            return Ok(Output::Empty.into());
        }
        return Ok(output.into());
    }
    if structured {
        *reply = stream::collect(ctx.http()?, request, Wire::Chat)?;
        let content = reply.content.clone().unwrap_or_default();
        return Ok(Output::Json(summary(model, reply, content)).into());
    }
    stream_to_stdout(ctx, model, request, reply, session.render).map(|_| Output::Empty.into())
}

/// Writes the reply as it arrives into `reply` (whose text is kept when it was made
/// with `Reply::new(true)`); on any failure the text shown stays and the cursor is put
/// on a fresh line before the error is reported. Then the dim usage line on stderr.
/// Shared by one-shot chat and every turn of the chat REPL.
fn stream_to_stdout(
    ctx: &Context,
    model: &str,
    request: &Request,
    reply: &mut Reply,
    render: bool,
) -> Result<()> {
    stream::to_stdout(ctx.http()?, request, Wire::Chat, reply, render)?;
    print_usage_line(ctx, model, reply);
    Ok(())
}

/// The dim usage line on stderr, when stderr is a terminal.
fn print_usage_line(ctx: &Context, model: &str, reply: &Reply) {
    let streams = ctx.streams();
    if streams.stderr_is_terminal() {
        let line = usage_line(ctx, reply.model.as_deref().unwrap_or(model), reply);
        let line = sanitize::neutralise(&line);
        let _ = writeln!(
            streams.err(),
            "{}",
            style::DIM.paint(line, streams.stderr_color())
        );
    }
}

/// `gpt-5.4 · 12 prompt + 5 completion tokens · ~$0.000075` (cost from the cached
/// catalog prices only; left out when the catalog is not cached).
fn usage_line(ctx: &Context, model: &str, reply: &Reply) -> String {
    let tokens = |k: &str| reply.usage.as_ref()?.get(k)?.as_u64();
    let mut line = model.to_string();
    if let (Some(prompt), Some(completion)) = (tokens("prompt_tokens"), tokens("completion_tokens"))
    {
        line.push_str(&format!(
            " · {prompt} prompt + {completion} completion tokens"
        ));
        if let Some(cost) = catalog::cost(ctx, model, prompt, completion) {
            line.push_str(&format!(" · ~{}", crate::api::money::usd_text(cost)));
        }
    }
    line
}

/// The model and usage a whole reply reports.
fn known_of(reply: &Value) -> Reply {
    let mut known = Reply::new(false);
    known.model = reply
        .get("model")
        .and_then(Value::as_str)
        .map(str::to_string);
    known.usage = reply.get("usage").cloned();
    known
}

/// `--no-stream`: the reply rendered whole, or `{model, role, content, usage}`. A reply
/// without text content (no choices, `content: null`) is exit 1.
fn whole_reply(session: &Session, model: &str, reply: &Value, structured: bool) -> Result<Output> {
    let message = reply.pointer("/choices/0/message");
    let content = message
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            let why = match reply.get("choices").and_then(Value::as_array) {
                Some(choices) if !choices.is_empty() => "no text content",
                _ => "no choices",
            };
            CliError::failure(format!("the server's reply has {why}"))
        })?
        .to_string();
    if structured {
        let mut value = summary(model, &known_of(reply), content);
        if let Some(role) = message.and_then(|m| m.get("role")).cloned() {
            value["role"] = role;
        }
        return Ok(Output::Json(value));
    }
    // Neutralised here, not by the app, because rendering adds escapes of its own.
    let content = content.trim_end_matches('\n');
    Ok(Output::Text(if session.render {
        markdown::to_string(content)
    } else {
        sanitize::for_stdout(content).into_owned()
    }))
}

fn summary(model: &str, reply: &Reply, content: String) -> Value {
    json!({
        "model": reply.model.as_deref().unwrap_or(model),
        "role": "assistant",
        "content": content,
        "usage": reply.usage.clone().unwrap_or(Value::Null),
    })
}

inventory::submit! {
    CommandSpec::new("chat", "Send one message and stream the reply", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(argv: &[&str]) -> Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn the_message_words_and_every_flag_are_read() {
        let argv = [
            "hello",
            "world",
            "-m",
            "m1",
            "-s",
            "@sys.md",
            "-t",
            "0.5",
            "--max-tokens",
            "9",
            "--no-stream",
            "-a",
            "a.png",
            "--attach",
            "-",
            "--raw",
            "--cid",
            "ab",
            "--role",
            "poet",
            "--no-log",
        ];
        assert_eq!(
            options(&argv).expect("parses"),
            Options {
                message: Some("hello world".into()),
                model: Some("m1".into()),
                system: Some("@sys.md".into()),
                temperature: Some(0.5),
                max_tokens: Some(9),
                no_stream: true,
                attach: vec!["a.png".into(), "-".into()],
                raw: true,
                continue_latest: false,
                cid: Some("ab".into()),
                role: Some("poet".into()),
                no_log: true,
            }
        );
        let bare = options(&["-c", "-t", "-1"]).expect("parses");
        assert_eq!((bare.message, bare.continue_latest), (None, true));
        assert_eq!(bare.temperature, Some(-1.0), "checked when the run starts");
        let last_wins = options(&["hi", "--no-stream", "--stream"]).expect("parses");
        assert!(!last_wins.no_stream);
        assert!(last_wins.attach.is_empty());
    }

    #[test]
    fn bad_values_are_rejected() {
        for argv in [
            &["hi", "--max-tokens", "0"][..],
            &["hi", "-t", "warm"],
            &["hi", "-m", " "],
            &["hi", "-c", "--cid", "ab"],
        ] {
            assert!(options(argv).is_err(), "{argv:?}");
        }
    }
}
