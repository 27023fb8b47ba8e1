//! `run [MODEL]`: one request in OpenAI chat, OpenAI Responses, Anthropic Messages or
//! Gemini format, the body built from `--input-file` < `-i key=value` < `-p` < MODEL.
//! Prints the reply's text (or the whole reply when it has none); `--json` the raw
//! reply; `--stream` streams the text of each format's events.

mod inputs;

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::{value_parser, Arg, ArgAction, ArgMatches};
use serde_json::{json, Map, Value};

use crate::api::attach::{self, Attachment};
use crate::api::base_url::BaseUrl;
use crate::api::message;
use crate::api::stream::{self, Reply, Wire};
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::urls::path_segment;
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Outcome, Output};
use crate::store::chatlog::{self, Exchange, Status};
use crate::term::markdown;

/// The request formats `-e` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Endpoint {
    #[value(help = "{base}/chat/completions")]
    Chat,
    #[value(help = "{base}/responses")]
    Responses,
    #[value(help = "{root}/v1/messages")]
    Anthropic,
    #[value(help = "{root}/v1beta/models/MODEL:generateContent")]
    Gemini,
}

pub(crate) const ANTHROPIC_VERSION: &str = "2023-06-01";
const ANTHROPIC_DEFAULT_MAX_TOKENS: u64 = 1024;

fn args(cmd: clap::Command) -> clap::Command {
    cmd.arg(
        Arg::new("model")
            .value_name("MODEL")
            .value_parser(front::non_blank)
            .conflicts_with("model_option")
            .help("Model id (default: the body's `model`, then the default model)"),
    )
    .arg(
        Arg::new("model_option")
            .short('m')
            .long("model")
            .value_name("MODEL")
            .value_parser(front::non_blank)
            .help("Model id, as an option (same as the MODEL argument)"),
    )
        .arg(
            Arg::new("endpoint")
                .short('e')
                .long("endpoint")
                .value_name("FORMAT")
                .value_parser(value_parser!(Endpoint))
                .ignore_case(true)
                .default_value("chat")
                .help("Request format"),
        )
        .arg(Arg::new("prompt").short('p').long("prompt").value_name("TEXT").help("The user prompt, put where the format expects it; `-` reads it from stdin, and piped stdin is added after a blank line (or is the prompt when there is none and the body has no messages)"))
        .arg(
            Arg::new("input")
                .short('i')
                .long("input")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .help("Set a body field; VALUE is parsed as JSON when it is JSON; dotted keys nest (repeatable)"),
        )
        .arg(
            Arg::new("input_file")
                .long("input-file")
                .value_name("FILE")
                .value_parser(value_parser!(PathBuf))
                .help("Start from the JSON object in FILE"),
        )
        .arg(Arg::new("stream").long("stream").action(ArgAction::SetTrue).help("Stream the reply's text as it is written"))
        .arg(attach::arg())
        .arg(markdown::raw_arg())
        .arg(chatlog::no_log_arg())
}

impl Endpoint {
    fn wire(self) -> Wire {
        match self {
            Endpoint::Chat => Wire::Chat,
            Endpoint::Responses => Wire::Responses,
            Endpoint::Anthropic => Wire::Anthropic,
            Endpoint::Gemini => Wire::Gemini,
        }
    }
}

/// What `run` was asked for, read once from its arguments.
#[derive(Debug, PartialEq)]
struct Options {
    /// MODEL, or `-m MODEL`.
    model: Option<String>,
    endpoint: Endpoint,
    prompt: Option<String>,
    /// The `-i key=value` inputs, in order.
    inputs: Vec<String>,
    input_file: Option<PathBuf>,
    stream: bool,
    /// The `--attach` specs, in order.
    attach: Vec<String>,
    raw: bool,
    no_log: bool,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
        let all = |id: &str| {
            m.get_many::<String>(id)
                .into_iter()
                .flatten()
                .cloned()
                .collect()
        };
        Options {
            model: m
                .get_one::<String>("model")
                .or_else(|| m.get_one::<String>("model_option"))
                .cloned(),
            endpoint: m
                .get_one::<Endpoint>("endpoint")
                .copied()
                .unwrap_or(Endpoint::Chat),
            prompt: m.get_one::<String>("prompt").cloned(),
            inputs: all("input"),
            input_file: m.get_one::<PathBuf>("input_file").cloned(),
            stream: m.get_flag("stream"),
            attach: all("attach"),
            raw: m.get_flag("raw"),
            no_log: m.get_flag("no_log"),
        }
    }
}

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    send(ctx, &Options::from_matches(m))
}

fn send(ctx: &Context, options: &Options) -> Result<Outcome> {
    let endpoint = options.endpoint;
    let Draft {
        mut body,
        attachments,
        prompt,
    } = draft(options, ctx.streams().stdin_is_terminal())?;
    // What the log records as the prompt: the text given, else the body's messages.
    let logged_prompt =
        chatlog::enabled(ctx, options.no_log).then(|| prompt.unwrap_or_else(|| prompt_in(&body)));
    let model = match &options.model {
        Some(model) => model.clone(),
        None => match body.get("model").and_then(Value::as_str) {
            Some(model) => model.to_string(),
            None => ctx.default_model()?,
        },
    };
    let streaming = options.stream;
    let key = ctx.api_key()?;
    let base = ctx.base_url()?;
    let (url, auth) = target(endpoint, &base, &model, streaming, &key);
    let wire = endpoint.wire();
    if endpoint == Endpoint::Gemini {
        body.remove("model"); // the model is in the path
    } else {
        body.insert("model".into(), json!(model));
    }
    if endpoint == Endpoint::Anthropic && !body.contains_key("max_tokens") {
        body.insert("max_tokens".into(), json!(ANTHROPIC_DEFAULT_MAX_TOKENS));
    }
    if streaming && endpoint != Endpoint::Gemini {
        body.insert("stream".into(), json!(true));
    }
    // As in `chat`: ask for the usage chunk unless the body already says otherwise.
    if streaming && wire == Wire::Chat && ctx.stream_usage()? {
        body.entry("stream_options")
            .or_insert_with(|| json!({"include_usage": true}));
    }
    let mut request = Request::post_json(url, auth, &Value::Object(body));
    if endpoint == Endpoint::Anthropic {
        request = request.header("anthropic-version", ANTHROPIC_VERSION);
    }
    let structured = ctx.formatter().structured;
    let render = ctx.renders_markdown(options.raw)?;
    let started = Instant::now();
    // Kept for the log, at most its cap (a huge reply does not grow memory with it).
    let mut reply = if logged_prompt.is_some() {
        Reply::keeping_at_most(crate::store::chatlog::REPLY_CAP)
    } else {
        Reply::new(false)
    };
    let result = if streaming {
        streamed(ctx, &request, wire, &model, structured, render, &mut reply)
    } else {
        whole(ctx, &request, wire, structured, render, &mut reply)
    };
    if let Some(prompt) = logged_prompt {
        let status = Status::of(&result, &reply);
        let mut exchange = Exchange::of_reply(ctx, "run", &model, &prompt, &reply, status, started);
        exchange.attachments = attach::fingerprints(&attachments);
        chatlog::record(&exchange);
    }
    result
}

/// The body before the model goes in, with what the log keeps of the prompt.
struct Draft {
    body: Map<String, Value>,
    attachments: Vec<Attachment>,
    prompt: Option<String>,
}

/// The file, then the inputs, then the prompt with its attachments.
fn draft(options: &Options, stdin_is_terminal: bool) -> Result<Draft> {
    let mut body = match &options.input_file {
        Some(path) => inputs::from_file(path)?,
        None => Map::new(),
    };
    for input in &options.inputs {
        inputs::apply(&mut body, input)?;
    }
    let attachments = attach::load_all(&options.attach)?;
    let stdin_taken = attach::takes_stdin(&options.attach);
    let prompt = prompt_of(
        options.prompt.as_deref(),
        &body,
        stdin_taken,
        stdin_is_terminal,
    )?;
    match &prompt {
        Some(prompt) => set_prompt(options.endpoint, &mut body, prompt, &attachments)?,
        None if !attachments.is_empty() => {
            return Err(
                CliError::usage("--attach needs a prompt to go with").with_hint("add `-p TEXT`")
            )
        }
        None => {}
    }
    Ok(Draft {
        body,
        attachments,
        prompt,
    })
}

/// The reply in one piece: its text, or the whole reply when it has none (or `--json`).
fn whole(
    ctx: &Context,
    request: &Request,
    wire: Wire,
    structured: bool,
    render: bool,
    reply: &mut Reply,
) -> Result<Outcome> {
    let value = ctx.http()?.send(request)?.json()?;
    stream::check_whole_reply(&value)?;
    let text = stream::text_of(wire, &value);
    let usage = if wire == Wire::Gemini {
        "usageMetadata"
    } else {
        "usage"
    };
    reply.usage = value.get(usage).cloned();
    reply.content.clone_from(&text);
    if structured {
        return Ok(Output::Json(value).into());
    }
    Ok(match text {
        // Rendered here, not by the app, whose neutralising would show our escapes.
        Some(text) if render => {
            let mut out = ctx.streams().out();
            writeln!(out, "{}", markdown::to_string(text.trim_end_matches('\n')))
                .and_then(|()| out.flush())
                .map_err(CliError::from_output)?;
            Output::Empty
        }
        Some(text) => Output::Text(text.trim_end_matches('\n').to_string()),
        None => Output::Json(value),
    }
    .into())
}

/// The body's own prompt (messages, input or contents) as compact JSON, for the log.
fn prompt_in(body: &Map<String, Value>) -> String {
    ["messages", "input", "contents"]
        .iter()
        .find_map(|k| body.get(*k))
        .map(Value::to_string)
        .unwrap_or_default()
}

/// The prompt: `-p TEXT` (joined by piped stdin, as `chat` does), `-p -` (stdin), or
/// piped stdin alone when the body has no prompt of its own; `None` otherwise. When
/// `--attach -` takes stdin, only `-p TEXT` will do. A terminal on stdin is never read
/// unless `-p -` asks for it.
fn prompt_of(
    given: Option<&str>,
    body: &Map<String, Value>,
    stdin_taken: bool,
    stdin_is_terminal: bool,
) -> Result<Option<String>> {
    if given.is_some_and(|p| p.trim().is_empty()) {
        return Err(CliError::usage("--prompt is empty"));
    }
    let has_prompt = ["messages", "input", "contents"]
        .iter()
        .any(|k| body.contains_key(*k));
    match given {
        Some(_) if stdin_taken => message::argument_only(given).map(Some),
        None if stdin_taken => Ok(None),
        Some(prompt) => message::read(Some(prompt), stdin_is_terminal).map(Some),
        None if has_prompt => Ok(None),
        None => message::piped(stdin_is_terminal),
    }
}

/// The prompt and its attachments as a single user message in the format's own shape.
fn set_prompt(
    endpoint: Endpoint,
    body: &mut Map<String, Value>,
    prompt: &str,
    attachments: &[Attachment],
) -> Result<()> {
    let content = attach::user_content(endpoint.wire(), prompt, attachments)?;
    let (key, value) = match endpoint {
        Endpoint::Responses => ("input", content),
        Endpoint::Gemini => ("contents", json!([{"role": "user", "parts": content}])),
        Endpoint::Chat | Endpoint::Anthropic => {
            ("messages", json!([{"role": "user", "content": content}]))
        }
    };
    body.insert(key.into(), value);
    Ok(())
}

fn target<'a>(
    endpoint: Endpoint,
    base: &BaseUrl,
    model: &str,
    streaming: bool,
    key: &'a crate::config::secret::Secret,
) -> (String, Auth<'a>) {
    match endpoint {
        Endpoint::Responses => (base.v1("responses"), Auth::ApiKey(key, KeyHeader::Bearer)),
        Endpoint::Anthropic => (
            base.at_root("v1/messages"),
            Auth::ApiKey(key, KeyHeader::XApiKey),
        ),
        Endpoint::Gemini => {
            let action = if streaming {
                "streamGenerateContent?alt=sse"
            } else {
                "generateContent"
            };
            let path = format!("v1beta/models/{}:{action}", path_segment(model));
            (
                base.at_root(&path),
                Auth::ApiKey(key, KeyHeader::GoogApiKey),
            )
        }
        Endpoint::Chat => (
            base.v1("chat/completions"),
            Auth::ApiKey(key, KeyHeader::Bearer),
        ),
    }
}

fn streamed(
    ctx: &Context,
    request: &Request,
    wire: Wire,
    model: &str,
    structured: bool,
    render: bool,
    reply: &mut Reply,
) -> Result<Outcome> {
    if structured {
        *reply = stream::collect(ctx.http()?, request, wire)?;
        return Ok(Output::Json(json!({
            "model": reply.model.as_deref().unwrap_or(model),
            "content": reply.content.clone().unwrap_or_default(),
            "usage": reply.usage.clone().unwrap_or(Value::Null),
        }))
        .into());
    }
    stream::to_stdout(ctx.http()?, request, wire, reply, render)?;
    Ok(Output::Empty.into())
}

inventory::submit! {
    CommandSpec::new("run", "Send one request in OpenAI chat, Responses, Anthropic or Gemini format", run)
        .needs(Credential::ApiKey)
        .with_args(args)
        .model_id_args(&["model"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(argv: &[&str]) -> std::result::Result<Options, clap::Error> {
        let m = crate::cli::registry::test_matches(args, argv)?;
        Ok(Options::from_matches(&m))
    }

    #[test]
    fn options_are_read_from_a_typical_command_line() {
        let argv = [
            "gpt-5",
            "-e",
            "anthropic",
            "-p",
            "hi",
            "-i",
            "a=1",
            "-i",
            "b.c=2",
            "--input-file",
            "body.json",
            "--stream",
            "-a",
            "x.png",
            "-a",
            "-",
            "--raw",
            "--no-log",
        ];
        let expected = Options {
            model: Some("gpt-5".into()),
            endpoint: Endpoint::Anthropic,
            prompt: Some("hi".into()),
            inputs: vec!["a=1".into(), "b.c=2".into()],
            input_file: Some(PathBuf::from("body.json")),
            stream: true,
            attach: vec!["x.png".into(), "-".into()],
            raw: true,
            no_log: true,
        };
        assert_eq!(parse(&argv).expect("parses"), expected);
    }

    #[test]
    fn nothing_given_is_chat_and_the_model_may_be_an_option() {
        let options = parse(&["-m", "claude"]).expect("parses");
        assert_eq!(options.model.as_deref(), Some("claude"));
        assert_eq!(options.endpoint, Endpoint::Chat);
        assert!(options.inputs.is_empty() && options.attach.is_empty());
        assert!(!options.stream && !options.raw && !options.no_log);
        assert_eq!(parse(&[]).expect("parses").model, None);
    }

    #[test]
    fn the_endpoint_ignores_case_and_rejects_other_formats() {
        let endpoint = |given: &str| parse(&["-e", given]).map(|o| o.endpoint);
        assert_eq!(endpoint("GEMINI").ok(), Some(Endpoint::Gemini));
        assert_eq!(endpoint("Responses").ok(), Some(Endpoint::Responses));
        let err = endpoint("openai").expect_err("not a format");
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(err.to_string().contains("chat"), "{err}");
    }

    #[test]
    fn a_terminal_on_stdin_is_not_read_when_the_prompt_is_given() {
        let drafted = draft(&parse(&["-p", "hi"]).expect("parses"), true).expect("drafted");
        assert_eq!(drafted.prompt.as_deref(), Some("hi"));
        assert_eq!(
            Value::Object(drafted.body),
            json!({"messages": [{"role": "user", "content": "hi"}]})
        );
        let gemini = parse(&["-e", "gemini", "-p", "hi"]).expect("parses");
        let drafted = draft(&gemini, true).expect("drafted");
        assert_eq!(
            drafted.body.get("contents"),
            Some(&json!([{"role": "user", "parts": [{"text": "hi"}]}]))
        );
    }

    #[test]
    fn no_prompt_and_a_terminal_on_stdin_leaves_the_body_without_one() {
        let drafted = draft(&parse(&[]).expect("parses"), true).expect("drafted");
        assert_eq!(drafted.prompt, None);
        assert!(drafted.body.is_empty(), "{:?}", drafted.body);
    }

    #[test]
    fn stdin_taken_by_an_attachment_is_not_read_for_the_prompt() {
        let body = Map::new();
        // Piped stdin (not a terminal) stays the attachment's: no prompt, nothing read.
        assert_eq!(
            prompt_of(None, &body, true, false).expect("no prompt"),
            None
        );
        let given = prompt_of(Some("describe"), &body, true, false).expect("given");
        assert_eq!(given.as_deref(), Some("describe"));
        let err = prompt_of(Some("-"), &body, true, false).expect_err("stdin is taken");
        assert_eq!(err.exit.code(), 2);
        assert!(
            err.message.contains("`--attach -` reads stdin"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_blank_prompt_is_a_usage_error_whatever_stdin_is() {
        for terminal in [true, false] {
            let err = prompt_of(Some("  "), &Map::new(), false, terminal).expect_err("blank");
            assert_eq!(
                (err.exit.code(), err.message.as_str()),
                (2, "--prompt is empty")
            );
        }
    }
}
