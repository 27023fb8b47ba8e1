//! A streamed model reply, shared by `chat` and `run --stream`: the SSE events of
//! each wire format (OpenAI chat, OpenAI Responses, Anthropic Messages, Gemini) turned
//! into text written as it arrives, plus what is known about the reply (model, usage,
//! whether it finished).
//!
//! Failures are never silent: an error event is exit 1 with the server's message, a
//! `data:` payload that is not JSON is exit 1 showing it, and a stream that ends before
//! the reply finished is exit 69 ("stream interrupted"), the text already shown kept.
//! A JSON reply where a stream was asked for (a proxy ignoring `stream: true`, or an
//! error object) is taken whole: its text is written, its error reported. Whatever the
//! server says in an error has credentials and `sk-…` keys masked.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;

use crate::config::secret;
use crate::error::{CliError, ExitCode, Result};
use crate::net::sse::{Decoder, Event, Flow};
use crate::net::{message_in, ChunkFlow, Http, Request, StreamEnd};
use crate::term::markdown::Renderer;
use crate::term::sanitize::Neutralising;
use crate::term::streams;

/// The shape of the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI chat completions: `choices[0].delta.content`, ends with `data: [DONE]`.
    Chat,
    /// OpenAI Responses: `response.output_text.delta` events, ends with `response.completed`.
    Responses,
    /// Anthropic Messages: `content_block_delta` with `delta.text`, ends with `message_stop`.
    Anthropic,
    /// Gemini `streamGenerateContent?alt=sse`: `candidates[0].content.parts[].text`.
    Gemini,
}

/// What is known about a streamed reply, also after a failure.
#[derive(Debug, Default)]
pub struct Reply {
    pub model: Option<String>,
    pub usage: Option<Value>,
    /// A finish reason, completion event or `[DONE]` was seen.
    pub finished: bool,
    /// Characters of text written so far.
    pub chars: u64,
    /// Whether the last text written ended a line.
    pub ends_line: bool,
    /// The whole text, only when asked for (`keep`); otherwise never held.
    pub content: Option<String>,
    /// When the first text was written (latency to first token, for the conversation log).
    pub first_text_at: Option<std::time::Instant>,
    /// The most bytes of text `content` holds; the rest is only written.
    pub content_cap: usize,
    /// Some text was left out of `content` because of `content_cap`.
    pub content_cut: bool,
}

impl Reply {
    /// `keep`: hold the whole text (for `--json`) instead of only writing it.
    pub fn new(keep: bool) -> Reply {
        Reply {
            content: keep.then(String::new),
            ends_line: true,
            content_cap: usize::MAX,
            ..Reply::default()
        }
    }

    /// Keeps at most `cap` bytes of the text (whole characters), so a huge reply kept
    /// for the conversation log does not grow memory with it.
    pub fn keeping_at_most(cap: usize) -> Reply {
        Reply {
            content_cap: cap,
            ..Reply::new(true)
        }
    }
}

/// Sends `request` and streams the reply's text into `out`, flushing once per
/// network read. Retried only while nothing has been written.
pub fn run(
    http: &Http,
    request: &Request,
    wire: Wire,
    out: &mut dyn Write,
    reply: &mut Reply,
) -> Result<()> {
    let mut decoder = Decoder::new();
    let end = http.stream(request, &mut |chunk| {
        let flow = decoder.feed(chunk, &mut |event| on_event(wire, event, out, reply))?;
        out.flush().map_err(CliError::from_output)?;
        Ok(match flow {
            Flow::Stop => ChunkFlow::Done,
            Flow::Continue if reply.chars > 0 => ChunkFlow::Shown,
            Flow::Continue => ChunkFlow::Quiet,
        })
    });
    // A new attempt starts a new stream: its decoder state is per attempt.
    let result = match end {
        Ok(StreamEnd::Done) => Ok(()),
        Ok(StreamEnd::Eof) if reply.finished => Ok(()),
        Ok(StreamEnd::Eof) => Err(interrupted(
            "the connection closed before the reply was complete",
            reply,
        )),
        Ok(StreamEnd::NotStreamed(body)) => match serde_json::from_slice::<Value>(&body) {
            Ok(value) => whole(wire, &value, out, reply),
            // Labelled JSON but not JSON: read it as the event stream it may be.
            Err(_) => decoder
                .feed(&body, &mut |event| on_event(wire, event, out, reply))
                .and_then(|_| out.flush().map_err(CliError::from_output))
                .and_then(|()| match (reply.finished, reply.chars) {
                    (true, _) => Ok(()),
                    (false, 0) => Err(CliError::failure(format!(
                        "the server's reply is neither JSON nor an event stream: {}",
                        clip(&String::from_utf8_lossy(&body))
                    ))),
                    (false, _) => Err(interrupted("the reply ended before it was complete", reply)),
                }),
        },
        Err(err) if err.exit == ExitCode::Unavailable && reply.chars > 0 => {
            Err(with_known(err, reply))
        }
        Err(err) => Err(err),
    };
    result.map_err(|err| CliError {
        message: secret::redact(&err.message, request.auth.secret().as_slice()).into_owned(),
        ..err
    })
}

/// [`run`] into stdout: on any failure the text shown stays and the cursor is put on a
/// fresh line before the error is reported. On a terminal the reply's control
/// characters are made visible ([`Neutralising`]) and, with `render`, its Markdown is
/// rendered as it comes ([`Renderer`]); piped, its bytes pass as they are.
pub fn to_stdout(
    http: &Http,
    request: &Request,
    wire: Wire,
    reply: &mut Reply,
    render: bool,
) -> Result<()> {
    if !streams::process_terminals().stdout {
        return into(
            BufWriter::new(io::stdout().lock()),
            http,
            request,
            wire,
            reply,
        );
    }
    if !render {
        let out = BufWriter::new(Neutralising::new(io::stdout().lock()));
        return into(out, http, request, wire, reply);
    }
    let mut renderer = Renderer::on_terminal(io::stdout().lock());
    let result = into(&mut renderer, http, request, wire, reply);
    let finished = renderer.finish();
    result.and(finished.map(drop).map_err(CliError::from_output))
}

/// [`run`] into `out`, ending the last line when the reply did not.
fn into(
    mut out: impl Write,
    http: &Http,
    request: &Request,
    wire: Wire,
    reply: &mut Reply,
) -> Result<()> {
    let result = run(http, request, wire, &mut out, reply);
    if reply.chars > 0 && !reply.ends_line {
        let ended = writeln!(out).and_then(|_| out.flush());
        if result.is_ok() {
            ended.map_err(CliError::from_output)?;
        }
    }
    result
}

/// [`run`] with nothing written: the whole text kept in the returned [`Reply`] (`--json`).
pub fn collect(http: &Http, request: &Request, wire: Wire) -> Result<Reply> {
    let mut reply = Reply::new(true);
    run(http, request, wire, &mut io::sink(), &mut reply)?;
    Ok(reply)
}

/// A whole JSON reply where a stream was asked for: an error object is an error,
/// anything else has its text written as if it had been streamed.
fn whole(wire: Wire, value: &Value, out: &mut dyn Write, reply: &mut Reply) -> Result<()> {
    let error = value.get("error").is_some_and(|e| !e.is_null()) || value.get("detail").is_some();
    if error {
        let message = message_in(value).unwrap_or_else(|| clip(&value.to_string()));
        return Err(CliError::failure(format!(
            "the server reported an error: {message}"
        )));
    }
    let (model, usage) = match wire {
        Wire::Gemini => ("modelVersion", "usageMetadata"),
        _ => ("model", "usage"),
    };
    set_model(reply, value.get(model));
    set_usage(reply, value.get(usage));
    let text = text_of(wire, value).ok_or_else(|| {
        CliError::failure(format!(
            "the server answered with JSON that holds no reply text: {}",
            clip(&value.to_string())
        ))
    })?;
    write_text(&text, out, reply)?;
    reply.finished = true;
    out.flush().map_err(CliError::from_output)
}

/// A whole (non-streamed) reply's text in each format, or `None` when it has none.
pub fn text_of(wire: Wire, reply: &Value) -> Option<String> {
    let joined = |parts: Option<&Value>, kind: Option<&str>| {
        let parts = parts?.as_array()?;
        let texts: Vec<&str> = parts
            .iter()
            .filter(|p| kind.is_none_or(|k| p.get("type").and_then(Value::as_str) == Some(k)))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        (!texts.is_empty()).then(|| texts.concat())
    };
    match wire {
        Wire::Responses => reply
            .get("output_text")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                let items = reply.get("output")?.as_array()?;
                let texts: Vec<String> = items
                    .iter()
                    .filter_map(|item| joined(item.get("content"), None))
                    .collect();
                (!texts.is_empty()).then(|| texts.concat())
            }),
        Wire::Anthropic => joined(reply.get("content"), Some("text")),
        Wire::Gemini => joined(reply.pointer("/candidates/0/content/parts"), None),
        Wire::Chat => reply
            .pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_string),
    }
}

fn interrupted(why: &str, reply: &Reply) -> CliError {
    with_known(
        CliError::unavailable(format!("stream interrupted: {why}")),
        reply,
    )
}

/// Adds what is known (characters received, finish state) as the hint.
fn with_known(err: CliError, reply: &Reply) -> CliError {
    let model = reply
        .model
        .as_deref()
        .map(|m| format!(" from {m}"))
        .unwrap_or_default();
    err.with_hint(format!(
        "{} characters{model} were received before the cut; the reply above is incomplete",
        reply.chars
    ))
}

fn on_event(wire: Wire, event: &Event, out: &mut dyn Write, reply: &mut Reply) -> Result<Flow> {
    if event.data == "[DONE]" {
        reply.finished = true;
        return Ok(Flow::Stop);
    }
    if wire == Wire::Chat && event.kind == "message" {
        return chat_chunk(event.data, out, reply);
    }
    let value: Value = serde_json::from_str(event.data).map_err(|_| not_json(event))?;
    if let Some(message) = error_message(event.kind, &value) {
        return Err(CliError::failure(format!(
            "the server reported an error mid-stream: {message}"
        )));
    }
    let stop = match wire {
        Wire::Chat => chat(&value, reply, out)?,
        Wire::Responses => responses(event.kind, &value, reply, out)?,
        Wire::Anthropic => anthropic(event.kind, &value, reply, out)?,
        Wire::Gemini => gemini(&value, reply, out)?,
    };
    Ok(if stop { Flow::Stop } else { Flow::Continue })
}

fn not_json(event: &Event) -> CliError {
    if event.kind == "error" {
        CliError::failure(format!("the server reported an error: {}", event.data))
    } else {
        CliError::failure(format!(
            "the stream sent data that is not JSON: {}",
            clip(event.data)
        ))
    }
}

/// An OpenAI chat chunk, borrowed from the event where it can be: the hot path of a
/// streamed chat, parsed without building a `Value` per event.
#[derive(Deserialize)]
struct ChatChunk<'a> {
    #[serde(borrow, default)]
    model: Option<Text<'a>>,
    #[serde(borrow, default)]
    choices: Option<FirstChoice<'a>>,
    #[serde(default)]
    usage: Option<Value>,
    #[serde(default)]
    error: Option<Value>,
}

/// A JSON string borrowed from the event when it has no escapes, owned otherwise.
/// (serde borrows a bare `Cow<str>` field but always allocates one inside an `Option`.)
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visit<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(text)))
            }
            fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(text.to_string())))
            }
        }
        deserializer.deserialize_str(Visit(std::marker::PhantomData))
    }
}

/// The first of a chunk's `choices`, the others skipped: no `Vec` is allocated (and
/// freed) per event.
struct FirstChoice<'a>(Option<ChatChoice<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for FirstChoice<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct First<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for First<'a> {
            type Value = FirstChoice<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of choices")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let first = seq.next_element::<ChatChoice<'a>>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstChoice(first))
            }
        }
        deserializer.deserialize_seq(First(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
struct ChatChoice<'a> {
    #[serde(borrow, default)]
    delta: Option<ChatDelta<'a>>,
    #[serde(default)]
    finish_reason: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct ChatDelta<'a> {
    #[serde(borrow, default)]
    content: Option<Text<'a>>,
}

/// A chat chunk, read borrowing from the event's data: no allocation for plain text.
fn chat_chunk(data: &str, out: &mut dyn Write, reply: &mut Reply) -> Result<Flow> {
    let chunk: ChatChunk = serde_json::from_str(data).map_err(|_| {
        not_json(&Event {
            kind: "message",
            data,
        })
    })?;
    if let Some(error) = chunk.error.filter(|e| !e.is_null()) {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .or(error.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| clip(&error.to_string()));
        return Err(CliError::failure(format!(
            "the server reported an error mid-stream: {message}"
        )));
    }
    if reply.model.is_none() {
        reply.model = chunk
            .model
            .map(|m| m.0)
            .filter(|m| !m.is_empty())
            .map(Cow::into_owned);
    }
    if let Some(usage) = chunk.usage.filter(Value::is_object) {
        reply.usage = Some(usage);
    }
    if let Some(choice) = chunk.choices.as_ref().and_then(|c| c.0.as_ref()) {
        if let Some(text) = choice.delta.as_ref().and_then(|d| d.content.as_ref()) {
            let text = text.0.as_ref();
            write_text(text, out, reply)?;
        }
        if choice.finish_reason.is_some() {
            reply.finished = true;
        }
    }
    Ok(Flow::Continue)
}

/// `event: error`, `{"error": ...}`, or a Responses `response.failed`.
fn error_message(kind: &str, value: &Value) -> Option<String> {
    let error = value
        .get("error")
        .filter(|e| !e.is_null())
        .or_else(|| value.pointer("/response/error").filter(|e| !e.is_null()));
    let failed = kind == "error"
        || matches!(
            value.get("type").and_then(Value::as_str),
            Some("error" | "response.failed")
        );
    if error.is_none() && !failed {
        return None;
    }
    let message = error
        .and_then(|e| e.get("message").and_then(Value::as_str).or(e.as_str()))
        .or_else(|| value.get("message").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| clip(&value.to_string()));
    Some(message)
}

/// A whole (non-streamed) reply that carries an error is an error, whatever its status:
/// exit 1 with the server's message.
pub fn check_whole_reply(value: &Value) -> Result<()> {
    match error_message("", value) {
        Some(message) => Err(CliError::failure(format!(
            "the server reported an error: {message}"
        ))),
        None => Ok(()),
    }
}

fn clip(text: &str) -> String {
    const MAX: usize = 300;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

fn write_text(text: &str, out: &mut dyn Write, reply: &mut Reply) -> Result<()> {
    if text.is_empty() {
        return Ok(());
    }
    out.write_all(text.as_bytes())
        .map_err(CliError::from_output)?;
    reply
        .first_text_at
        .get_or_insert_with(std::time::Instant::now);
    reply.chars += text.chars().count() as u64;
    reply.ends_line = text.ends_with('\n');
    if let Some(content) = &mut reply.content {
        let mut room = reply
            .content_cap
            .saturating_sub(content.len())
            .min(text.len());
        while !text.is_char_boundary(room) {
            room -= 1;
        }
        content.push_str(text.get(..room).unwrap_or_default());
        reply.content_cut |= room < text.len();
    }
    Ok(())
}

fn set_model(reply: &mut Reply, model: Option<&Value>) {
    if reply.model.is_none() {
        if let Some(model) = model.and_then(Value::as_str).filter(|m| !m.is_empty()) {
            reply.model = Some(model.to_string());
        }
    }
}

fn set_usage(reply: &mut Reply, usage: Option<&Value>) {
    if let Some(usage) = usage.filter(|u| u.is_object()) {
        reply.usage = Some(usage.clone());
    }
}

fn chat(value: &Value, reply: &mut Reply, out: &mut dyn Write) -> Result<bool> {
    set_model(reply, value.get("model"));
    set_usage(reply, value.get("usage"));
    if let Some(choice) = value.pointer("/choices/0") {
        if let Some(delta) = choice.pointer("/delta/content").and_then(Value::as_str) {
            write_text(delta, out, reply)?;
        }
        if choice.get("finish_reason").is_some_and(|f| !f.is_null()) {
            reply.finished = true;
        }
    }
    Ok(false)
}

fn responses(kind: &str, value: &Value, reply: &mut Reply, out: &mut dyn Write) -> Result<bool> {
    let kind = value.get("type").and_then(Value::as_str).unwrap_or(kind);
    match kind {
        "response.output_text.delta" => {
            if let Some(delta) = value.get("delta").and_then(Value::as_str) {
                write_text(delta, out, reply)?;
            }
        }
        "response.created" | "response.in_progress" => {
            set_model(reply, value.pointer("/response/model"));
        }
        "response.completed" | "response.incomplete" => {
            set_model(reply, value.pointer("/response/model"));
            set_usage(reply, value.pointer("/response/usage"));
            reply.finished = true;
            return Ok(true);
        }
        _ => {}
    }
    Ok(false)
}

fn anthropic(kind: &str, value: &Value, reply: &mut Reply, out: &mut dyn Write) -> Result<bool> {
    let kind = value.get("type").and_then(Value::as_str).unwrap_or(kind);
    match kind {
        "message_start" => {
            set_model(reply, value.pointer("/message/model"));
            set_usage(reply, value.pointer("/message/usage"));
        }
        "content_block_delta" => {
            if let Some(delta) = value.pointer("/delta/text").and_then(Value::as_str) {
                write_text(delta, out, reply)?;
            }
        }
        "message_delta" => {
            // Output tokens arrive here; keep the input side from message_start.
            if let (Some(Value::Object(known)), Some(Value::Object(more))) =
                (&mut reply.usage, value.get("usage"))
            {
                for (k, v) in more {
                    known.insert(k.clone(), v.clone());
                }
            } else {
                set_usage(reply, value.get("usage"));
            }
            if value
                .pointer("/delta/stop_reason")
                .is_some_and(|r| !r.is_null())
            {
                reply.finished = true;
            }
        }
        "message_stop" => {
            reply.finished = true;
            return Ok(true);
        }
        _ => {}
    }
    Ok(false)
}

fn gemini(value: &Value, reply: &mut Reply, out: &mut dyn Write) -> Result<bool> {
    set_model(reply, value.get("modelVersion"));
    set_usage(reply, value.get("usageMetadata"));
    if let Some(candidate) = value.pointer("/candidates/0") {
        if let Some(parts) = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
        {
            for part in parts {
                if let Some(t) = part.get("text").and_then(Value::as_str) {
                    write_text(t, out, reply)?;
                }
            }
        }
        if candidate.get("finishReason").is_some_and(|f| !f.is_null()) {
            reply.finished = true;
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(wire: Wire, body: &str) -> (Result<()>, String, Reply) {
        let mut out = Vec::new();
        let mut reply = Reply::new(true);
        let mut decoder = Decoder::new();
        let result = decoder
            .feed::<CliError>(body.as_bytes(), &mut |e| {
                on_event(wire, e, &mut out, &mut reply)
            })
            .map(|_| ());
        (result, String::from_utf8_lossy(&out).into_owned(), reply)
    }

    #[test]
    fn a_capped_reply_keeps_whole_characters_and_writes_everything() {
        let mut out = Vec::new();
        let mut reply = Reply::keeping_at_most(4);
        for text in ["h\u{e9}", "llo"] {
            write_text(text, &mut out, &mut reply).expect("write");
        }
        assert_eq!(out, "h\u{e9}llo".as_bytes());
        assert_eq!(reply.content.as_deref(), Some("h\u{e9}l"));
        assert!(reply.content_cut);
        let mut reply = Reply::keeping_at_most(2);
        write_text("h\u{e9}", &mut out, &mut reply).expect("write");
        assert_eq!(
            reply.content.as_deref(),
            Some("h"),
            "never half a character"
        );
        assert!(reply.first_text_at.is_some());
    }

    #[test]
    fn chat_text_with_and_without_escapes_and_extra_choices() {
        let body = concat!(
            "data: {\"model\":\"m\\u0031\",\"choices\":[{\"delta\":{\"content\":\"plain \"}},{\"delta\":{\"content\":\"ignored\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"line\\nnext \\u00e9\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n",
        );
        let (result, out, reply) = feed(Wire::Chat, body);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(out, "plain line\nnext \u{e9}");
        assert_eq!(
            reply.model.as_deref(),
            Some("m1"),
            "an escaped model id is decoded"
        );
        assert!(reply.finished && reply.usage.is_some());
    }

    #[test]
    fn chat_deltas_usage_and_done() {
        let body = "data: {\"model\":\"m\",\"choices\":[{\"delta\":{\"content\":\"he\"}}]}\n\n\
                    : keep-alive\n\n\
                    data: {\"choices\":[{\"delta\":{\"content\":\"llo\"},\"finish_reason\":\"stop\"}]}\n\n\
                    data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3}}\n\n\
                    data: [DONE]\n\n";
        let (result, out, reply) = feed(Wire::Chat, body);
        assert!(result.is_ok());
        assert_eq!(out, "hello");
        assert_eq!(reply.model.as_deref(), Some("m"));
        assert_eq!(reply.usage, Some(serde_json::json!({"prompt_tokens": 3})));
        assert!(reply.finished);
        assert_eq!(reply.chars, 5);
    }

    #[test]
    fn errors_and_bad_payloads_fail_with_the_servers_words() {
        let (result, out, _) = feed(
            Wire::Chat,
            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"upstream died\"}}\n\n",
        );
        assert_eq!(out, "a");
        let err = result.expect_err("error event");
        assert!(err.message.contains("upstream died"), "{}", err.message);
        let (result, _, _) = feed(Wire::Chat, "event: error\ndata: overloaded\n\n");
        assert!(result.expect_err("error").message.contains("overloaded"));
        let (result, _, _) = feed(
            Wire::Responses,
            "event: error\ndata: {\"type\":\"error\",\"code\":\"x\",\"message\":\"rate limit hit\"}\n\n",
        );
        assert!(result
            .expect_err("error")
            .message
            .contains("rate limit hit"));
        let (result, _, _) = feed(Wire::Chat, "data: not json\n\n");
        assert!(result.expect_err("bad").message.contains("not json"));
    }

    #[test]
    fn responses_anthropic_and_gemini_text() {
        let (_, out, reply) = feed(
            Wire::Responses,
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"hi\"}\n\n\
             event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"model\":\"r\",\"usage\":{\"input_tokens\":1}}}\n\n",
        );
        assert_eq!((out.as_str(), reply.finished), ("hi", true));
        let (_, out, reply) = feed(
            Wire::Anthropic,
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"c\",\"usage\":{\"input_tokens\":2}}}\n\n\
             event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"yo\"}}\n\n\
             event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1}}\n\n\
             event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        assert_eq!(out, "yo");
        assert_eq!(
            reply.usage,
            Some(serde_json::json!({"input_tokens": 2, "output_tokens": 1}))
        );
        let (_, out, reply) = feed(
            Wire::Gemini,
            "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"g\"},{\"text\":\"!\"}]},\"finishReason\":\"STOP\"}]}\n\n",
        );
        assert_eq!((out.as_str(), reply.finished), ("g!", true));
    }

    #[test]
    fn text_of_each_format() {
        let chat = serde_json::json!({"choices": [{"message": {"content": "c"}}]});
        assert_eq!(text_of(Wire::Chat, &chat).as_deref(), Some("c"));
        let responses =
            serde_json::json!({"output": [{"content": [{"type": "output_text", "text": "r"}]}]});
        assert_eq!(text_of(Wire::Responses, &responses).as_deref(), Some("r"));
        let anthropic =
            serde_json::json!({"content": [{"type": "tool_use"}, {"type": "text", "text": "a"}]});
        assert_eq!(text_of(Wire::Anthropic, &anthropic).as_deref(), Some("a"));
        let gemini = serde_json::json!({"candidates": [{"content": {"parts": [{"text": "g"}, {"text": "!"}]}}]});
        assert_eq!(text_of(Wire::Gemini, &gemini).as_deref(), Some("g!"));
        assert_eq!(text_of(Wire::Chat, &serde_json::json!({"data": []})), None);
    }

    #[test]
    fn a_whole_json_reply_is_written_or_its_error_reported() {
        let mut out = Vec::new();
        let mut reply = Reply::new(false);
        let body = serde_json::json!({"model":"m","choices":[{"message":{"content":"whole"}}],"usage":{"total_tokens":3}});
        whole(Wire::Chat, &body, &mut out, &mut reply).expect("text");
        assert_eq!((out.as_slice(), reply.finished), (&b"whole"[..], true));
        assert_eq!(reply.model.as_deref(), Some("m"));
        let err = whole(
            Wire::Gemini,
            &serde_json::json!({"error": {"message": "quota gone"}}),
            &mut out,
            &mut reply,
        )
        .expect_err("error object");
        assert!(err.message.contains("quota gone"), "{}", err.message);
        let err = whole(
            Wire::Chat,
            &serde_json::json!({"detail": [{"loc": ["body", "model"], "msg": "field required"}]}),
            &mut out,
            &mut reply,
        )
        .expect_err("detail");
        assert!(
            err.message.contains("body.model: field required"),
            "{}",
            err.message
        );
    }
}
