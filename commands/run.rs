//! `run [MODEL]`: one request in OpenAI chat, OpenAI Responses, Anthropic Messages or
//! Gemini format, the body built from `--input-file` < `-i key=value` < `-p` < MODEL.
//! Prints the reply's text (or the whole reply when it has none); `--json` the raw
//! reply; `--stream` streams the text of each format's events.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::builder::{EnumValueParser, PossibleValue};
use clap::{value_parser, Arg, ArgAction, ArgMatches, ValueEnum};
use serde_json::{json, Map, Value};

use crate::api::attach::{self, Attachment};
use crate::api::base_url::BaseUrl;
use crate::api::stream::{self, Reply, Wire};
use crate::cli::context::Context;
use crate::cli::front;
use crate::cli::registry::{CommandSpec, Credential};
use crate::error::{CliError, Result};
use crate::net::urls::path_segment;
use crate::net::{Auth, KeyHeader, Request};
use crate::output::{Outcome, Output};
use crate::store::chatlog::{self, Exchange, Status};
mod inputs;
use crate::api::message;
use crate::term::markdown;

/// The request formats `-e` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endpoint {
    Chat,
    Responses,
    Anthropic,
    Gemini,
}

impl ValueEnum for Endpoint {
    fn value_variants<'a>() -> &'a [Self] {
        &[
            Endpoint::Chat,
            Endpoint::Responses,
            Endpoint::Anthropic,
            Endpoint::Gemini,
        ]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Endpoint::Chat => PossibleValue::new("chat").help("{base}/chat/completions"),
            Endpoint::Responses => PossibleValue::new("responses").help("{base}/responses"),
            Endpoint::Anthropic => PossibleValue::new("anthropic").help("{root}/v1/messages"),
            Endpoint::Gemini => {
                PossibleValue::new("gemini").help("{root}/v1beta/models/MODEL:generateContent")
            }
        })
    }
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
                .value_parser(EnumValueParser::<Endpoint>::new())
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

fn run(ctx: &Context, m: &ArgMatches) -> Result<Outcome> {
    let endpoint = m
        .get_one::<Endpoint>("endpoint")
        .copied()
        .unwrap_or(Endpoint::Chat);
    let mut body = match m.get_one::<PathBuf>("input_file") {
        Some(path) => inputs::from_file(path)?,
        None => Map::new(),
    };
    for input in m.get_many::<String>("input").into_iter().flatten() {
        inputs::apply(&mut body, input)?;
    }
    let specs = || m.get_many::<String>("attach").into_iter().flatten();
    let attachments = attach::load_all(specs())?;
    let prompt = prompt_of(m, &body, attach::takes_stdin(specs()))?;
    match &prompt {
        Some(prompt) => set_prompt(endpoint, &mut body, prompt, &attachments)?,
        None if !attachments.is_empty() => {
            return Err(
                CliError::usage("--attach needs a prompt to go with").with_hint("add `-p TEXT`")
            )
        }
        None => {}
    }
    // What the log records as the prompt: the text given, else the body's messages.
    let logged_prompt =
        chatlog::enabled(ctx, m).then(|| prompt.unwrap_or_else(|| prompt_in(&body)));
    let model = match m
        .get_one::<String>("model")
        .or_else(|| m.get_one::<String>("model_option"))
    {
        Some(model) => model.clone(),
        None => match body.get("model").and_then(Value::as_str) {
            Some(model) => model.to_string(),
            None => ctx.default_model()?,
        },
    };
    let streaming = m.get_flag("stream");
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
    let render = ctx.render(m.get_flag("raw"))?;
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
            let mut out = std::io::stdout().lock();
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
/// `--attach -` takes stdin, only `-p TEXT` will do.
fn prompt_of(
    m: &ArgMatches,
    body: &Map<String, Value>,
    stdin_taken: bool,
) -> Result<Option<String>> {
    let given = m.get_one::<String>("prompt").map(String::as_str);
    if given.is_some_and(|p| p.trim().is_empty()) {
        return Err(CliError::usage("--prompt is empty"));
    }
    let has_prompt = ["messages", "input", "contents"]
        .iter()
        .any(|k| body.contains_key(*k));
    match given {
        Some(_) if stdin_taken => message::argument_only(given).map(Some),
        None if stdin_taken => Ok(None),
        Some(prompt) => message::read(Some(prompt)).map(Some),
        None if has_prompt => Ok(None),
        None => message::piped(),
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
