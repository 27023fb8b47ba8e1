//! The fake server's model endpoints: `GET /v1/models`, OpenAI chat completions
//! (whole and streamed), the Responses API, Anthropic `/v1/messages`, Gemini
//! `/v1beta/models/{m}:generateContent` (and `:streamGenerateContent`), and the
//! OpenAI billing routes. Every reply echoes the last user message (`echo: ...`), with
//! token counts derived from its length.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::{json, Value};

use super::{
    guarded, require_json, Auth, Call, Events, FakeServer, Recorded, Reply, State, FIXED_CREATED,
};

/// The knobs of streamed chat replies.
#[derive(Default)]
pub(super) struct Chat {
    /// Generated deltas per streamed reply (0: the echo).
    stream_chunks: AtomicUsize,
    /// These deltas instead of the echo.
    reply_deltas: Mutex<Option<Vec<String>>>,
}

impl FakeServer {
    /// Make streamed chat replies `n` generated deltas (`"tok "` each, 64 events per
    /// write) plus the finish, usage and `[DONE]` events, produced lazily (benchmarks).
    /// 0 restores the echo reply.
    pub fn set_stream_chunks(&self, n: usize) {
        self.state.chat.stream_chunks.store(n, Ordering::SeqCst);
    }

    /// Make streamed chat replies these deltas, in order, instead of the echo (a
    /// Markdown reply arriving in pieces, for rendering tests). `None` restores the echo.
    pub fn set_reply_deltas(&self, deltas: Option<Vec<String>>) {
        *self.state.chat.reply_deltas.lock().expect("deltas mutex") = deltas;
    }
}

/// The reply to a request for one of the routes here, `None` for any other path.
pub(super) fn route(call: &Call) -> Option<Reply> {
    let Call {
        state,
        req,
        path,
        id,
    } = *call;
    let key = Auth::BearerKey;
    Some(match (req.method.as_str(), path) {
        ("GET", "/v1/models") => guarded(req, key, openai_models),
        ("POST", "/v1/chat/completions") => guarded(req, key, || chat_completions(state, req, id)),
        ("POST", "/v1/responses") => guarded(req, key, || responses(req, id)),
        ("POST", "/v1/messages") => guarded(req, Auth::Anthropic, || anthropic_messages(req, id)),
        ("GET", "/v1/dashboard/billing/subscription") => guarded(req, key, billing_subscription),
        ("GET", "/v1/dashboard/billing/usage") => guarded(req, key, billing_usage),
        ("POST", p) => {
            let (model, action) = gemini_target(p)?;
            guarded(req, Auth::Google, || gemini(req, &model, &action))
        }
        _ => return None,
    })
}

/// `/v1beta/models/{model}:{action}` → (model, action) for the Gemini actions we serve.
fn gemini_target(path: &str) -> Option<(String, String)> {
    let rest = path.strip_prefix("/v1beta/models/")?;
    let (model, action) = rest.rsplit_once(':')?;
    let known = action == "generateContent" || action == "streamGenerateContent";
    (known && !model.is_empty() && !model.contains('/'))
        .then(|| (model.to_string(), action.to_string()))
}

fn openai_models() -> Reply {
    let owned = [
        ("gpt-5.4", "openai"),
        ("gpt-5.2", "openai"),
        ("gpt-4o", "openai"),
        ("gpt-4o-mini", "openai"),
        ("claude-sonnet-4-6", "anthropic"),
        ("claude-opus-4-5", "anthropic"),
        ("gemini-2.5-pro", "google"),
        ("deepseek-v4-pro", "deepseek"),
    ];
    let data: Vec<Value> = owned
        .iter()
        .map(|(id, by)| json!({"id": id, "object": "model", "created": 1_767_225_600, "owned_by": by}))
        .collect();
    Reply::json(200, json!({"object": "list", "data": data}))
}

/// Rough token count: a quarter of the characters, at least 1.
fn tokens_of(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4).max(1)
}

/// Text of a message `content`: a string, or an array of parts with `text`.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Last `role: user` message's text in an OpenAI/Anthropic `messages` array.
fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| content_text(m.get("content").unwrap_or(&Value::Null)))
        .unwrap_or_default()
}

fn prompt_tokens(messages: &[Value]) -> u64 {
    messages
        .iter()
        .map(|m| 4 + tokens_of(&content_text(m.get("content").unwrap_or(&Value::Null))))
        .sum()
}

fn chat_completions(state: &State, req: &Recorded, id: u64) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            ("messages", Value::is_array, "an array"),
        ],
    ) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = last_user_text(&messages);
    let reply = format!("echo: {user}");
    let prompt = prompt_tokens(&messages);
    let completion = tokens_of(&reply);
    let usage = json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    });
    let chat_id = format!("chatcmpl-fake-{id:04}");
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let include_usage = body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        let chunk = |choices: Value| {
            json!({
                "id": chat_id, "object": "chat.completion.chunk",
                "created": FIXED_CREATED, "model": model, "choices": choices,
            })
        };
        return chat_stream(state, &chunk, &user, include_usage.then_some(usage));
    }
    Reply::json(
        200,
        json!({
            "id": chat_id,
            "object": "chat.completion",
            "created": FIXED_CREATED,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": reply},
                "finish_reason": "stop",
            }],
            "usage": usage,
        }),
    )
}

/// A streamed chat reply: the deltas (the echo of `user`, the deltas a test set, or
/// generated ones), the finish chunk, the usage chunk when asked for, and `[DONE]`.
fn chat_stream(
    state: &State,
    chunk: &dyn Fn(Value) -> Value,
    user: &str,
    usage: Option<Value>,
) -> Reply {
    let given = state
        .chat
        .reply_deltas
        .lock()
        .expect("deltas mutex")
        .clone();
    let deltas = given.unwrap_or_else(|| vec!["echo: ".to_string(), user.to_string()]);
    let mut events: Vec<Value> = deltas
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let delta = if i == 0 {
                json!({"role": "assistant", "content": d})
            } else {
                json!({"content": d})
            };
            chunk(json!([{"index": 0, "delta": delta, "finish_reason": null}]))
        })
        .collect();
    events.push(chunk(
        json!([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
    ));
    if let Some(usage) = usage {
        let foreign = state.foreign.load(Ordering::SeqCst);
        let mut last = chunk(if foreign {
            json!([{"index": 0, "delta": {}}])
        } else {
            json!([])
        });
        last["usage"] = usage;
        events.push(last);
    }
    let tail: Vec<String> = events
        .iter()
        .map(|e| format!("data: {e}\n\n"))
        .chain(std::iter::once("data: [DONE]\n\n".to_string()))
        .collect();
    let n = state.chat.stream_chunks.load(Ordering::SeqCst);
    if n == 0 {
        return Reply::sse(Box::new(tail.into_iter()));
    }
    // Generated deltas, 64 events per write, then the finish/usage/[DONE] tail.
    let delta = chunk(json!([{"index": 0, "delta": {"content": "tok "}, "finish_reason": null}]));
    let line = format!("data: {delta}\n\n");
    let batch = line.repeat(64);
    let generated = std::iter::repeat_n(batch, n / 64)
        .chain((n % 64 > 0).then(|| line.repeat(n % 64)))
        .chain(tail.into_iter().skip(2));
    Reply::sse(Box::new(generated))
}

fn responses(req: &Recorded, id: u64) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            (
                "input",
                |v| v.is_string() || v.is_array(),
                "a string or an array",
            ),
        ],
    ) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let model = body["model"].as_str().unwrap_or_default();
    let input = match &body["input"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            // Either messages ({role, content}) or bare content parts.
            let user = last_user_text(items);
            if user.is_empty() {
                content_text(&body["input"])
            } else {
                user
            }
        }
        _ => String::new(),
    };
    let text = format!("echo: {input}");
    let (inp, out) = (tokens_of(&input), tokens_of(&text));
    let response = json!({
            "id": format!("resp_fake_{id:04}"),
            "object": "response",
            "created_at": FIXED_CREATED,
            "status": "completed",
            "model": model,
            "output": [{
                "type": "message",
                "id": format!("msg_fake_{id:04}"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }],
            "output_text": text,
            "usage": {"input_tokens": inp, "output_tokens": out, "total_tokens": inp + out},
    });
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let created = json!({"type": "response.created", "response": {
            "id": response["id"], "object": "response", "status": "in_progress", "model": model,
        }});
        let delta = |d: &str| json!({"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": d});
        let events = [
            created,
            delta("echo: "),
            delta(&input),
            json!({"type": "response.output_text.done", "output_index": 0, "content_index": 0, "text": text}),
            json!({"type": "response.completed", "response": response}),
        ];
        return Reply::sse(named_events(&events));
    }
    Reply::json(200, response)
}

/// `event: {type}` + `data: {json}` blocks (Responses and Anthropic streams).
fn named_events(events: &[Value]) -> Events {
    let blocks: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "event: {}\ndata: {e}\n\n",
                e["type"].as_str().unwrap_or("message")
            )
        })
        .collect();
    Box::new(blocks.into_iter())
}

fn anthropic_messages(req: &Recorded, id: u64) -> Reply {
    let body = match require_json(
        req,
        &[
            ("model", Value::is_string, "a string"),
            ("max_tokens", Value::is_u64, "a positive integer"),
            ("messages", Value::is_array, "an array"),
        ],
    ) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let model = body["model"].as_str().unwrap_or_default();
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let user = last_user_text(&messages);
    let text = format!("echo: {user}");
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        let delta = |t: &str| json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}});
        let events = [
            json!({"type": "message_start", "message": {
                "id": format!("msg_fake_{id:04}"), "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": null,
                "usage": {"input_tokens": prompt_tokens(&messages), "output_tokens": 1},
            }}),
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            json!({"type": "ping"}),
            delta("echo: "),
            delta(&user),
            json!({"type": "content_block_stop", "index": 0}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                   "usage": {"output_tokens": tokens_of(&text)}}),
            json!({"type": "message_stop"}),
        ];
        return Reply::sse(named_events(&events));
    }
    Reply::json(
        200,
        json!({
            "id": format!("msg_fake_{id:04}"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": null,
            "usage": {
                "input_tokens": prompt_tokens(&messages),
                "output_tokens": tokens_of(&text),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
            },
        }),
    )
}

fn gemini(req: &Recorded, model: &str, action: &str) -> Reply {
    let body = match require_json(req, &[("contents", Value::is_array, "an array")]) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let contents = body["contents"].as_array().cloned().unwrap_or_default();
    let parts_text = |c: &Value| content_text(c.get("parts").unwrap_or(&Value::Null));
    let user = contents
        .iter()
        .rev()
        .find(|c| {
            c.get("role")
                .and_then(Value::as_str)
                .is_none_or(|r| r == "user")
        })
        .map(parts_text)
        .unwrap_or_default();
    let prompt: u64 = contents.iter().map(|c| tokens_of(&parts_text(c))).sum();
    let candidate = |text: &str, finish: Option<&str>| {
        let mut c = json!({"content": {"parts": [{"text": text}], "role": "model"}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = json!(f);
        }
        c
    };
    let text = format!("echo: {user}");
    let usage = json!({
        "promptTokenCount": prompt,
        "candidatesTokenCount": tokens_of(&text),
        "totalTokenCount": prompt + tokens_of(&text),
    });

    if action == "streamGenerateContent" {
        let chunks = [
            json!({"candidates": [candidate("echo: ", None)], "modelVersion": model}),
            json!({"candidates": [candidate(&user, Some("STOP"))], "usageMetadata": usage, "modelVersion": model}),
        ];
        if req.param("alt").as_deref() == Some("sse") {
            let blocks: Vec<String> = chunks.iter().map(|c| format!("data: {c}\n\n")).collect();
            return Reply::sse(Box::new(blocks.into_iter()));
        }
        return Reply::json(200, Value::Array(chunks.to_vec()));
    }

    Reply::json(
        200,
        json!({
            "candidates": [candidate(&text, Some("STOP"))],
            "usageMetadata": usage,
            "modelVersion": model,
        }),
    )
}

fn billing_subscription() -> Reply {
    Reply::json(
        200,
        json!({
            "object": "billing_subscription",
            "has_payment_method": true,
            "soft_limit_usd": 100.0,
            "hard_limit_usd": 100.0,
            "system_hard_limit_usd": 100.0,
            "access_until": 0,
        }),
    )
}

fn billing_usage() -> Reply {
    // Cents: 12.345 USD used of the 100 USD limit.
    Reply::json(200, json!({"object": "list", "total_usage": 1234.5}))
}
