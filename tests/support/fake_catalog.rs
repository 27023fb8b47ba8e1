//! The fake server's public model catalog: `GET /api/models` (ten fixed models of
//! every kind, plus as many synthetic ones as a test asks for) and
//! `GET /api/model/{code}` (one record with its Markdown overview). No credential.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{json, Map, Value};

use super::{console_fail, console_ok, Call, FakeServer, Reply, State};

/// The catalog knob.
#[derive(Default)]
pub(super) struct Catalog {
    /// Synthetic models appended to the fixed ones.
    extra: AtomicUsize,
}

impl FakeServer {
    /// Append `extra` synthetic models ("synthetic-model-00001", ...) to `/api/models`.
    pub fn set_catalog_size(&self, extra: usize) {
        self.state.catalog.extra.store(extra, Ordering::SeqCst);
    }
}

/// The reply to a request for one of the routes here, `None` for any other path.
pub(super) fn route(call: &Call) -> Option<Reply> {
    if call.req.method != "GET" {
        return None;
    }
    match call.path {
        "/api/models" => Some(console_ok(Value::Array(catalog(call.state)))),
        p => {
            let code = p.strip_prefix("/api/model/").filter(|c| !c.is_empty())?;
            Some(model_detail(call.state, code))
        }
    }
}

fn endpoints_string(endpoints: &[(&str, &str)]) -> String {
    let mut map = Map::new();
    for (name, path) in endpoints {
        map.insert((*name).into(), json!({"path": path, "method": "POST"}));
    }
    Value::Object(map).to_string()
}

fn token_pricing(input: f64, output: f64) -> Value {
    json!({"currency": "USD / M Tokens", "input": input, "output": output, "per_request": null, "per_second": null})
}

fn request_pricing(per_request: f64) -> Value {
    json!({"currency": "USD / Request", "input": null, "output": null, "per_request": per_request, "per_second": null})
}

#[allow(clippy::too_many_arguments)]
fn catalog_record(
    id: &str,
    code: &str,
    name: &str,
    (provider, provider_code): (&str, &str),
    model_type: &str,
    features: &[&str],
    endpoints: &[(&str, &str)],
    pricing: Value,
    (context_length, max_completion_tokens): (Value, Value),
) -> Value {
    json!({
        "id": id,
        "code": code,
        "name": name,
        "provider": provider,
        "provider_code": provider_code,
        "model_type": model_type,
        "features": features,
        "endpoints": endpoints_string(endpoints),
        "pricing": pricing,
        "context_length": context_length,
        "max_completion_tokens": max_completion_tokens,
        "api_doc_url": format!("https://apidoc.cometapi.com/models/{code}"),
    })
}

#[rustfmt::skip]
fn base_catalog() -> Vec<Value> {
    const OPENAI: (&str, &str) = ("OpenAI", "openai");
    const ANTHROPIC: (&str, &str) = ("Anthropic", "anthropic");
    const GOOGLE: (&str, &str) = ("Google", "google");
    const DEEPSEEK: (&str, &str) = ("DeepSeek", "deepseek");
    const SUNO: (&str, &str) = ("Suno", "suno");
    const CHAT: (&str, &str) = ("openai-chat", "/v1/chat/completions");
    const RESPONSES: (&str, &str) = ("openai-responses", "/v1/responses");
    const MESSAGES: (&str, &str) = ("anthropic-messages", "/v1/messages");
    let reasoning = ["text-to-text", "function-calling", "vision", "reasoning"];
    let vision = ["text-to-text", "function-calling", "vision"];
    let limits = |ctx: u64, out: u64| (json!(ctx), json!(out));
    vec![
        catalog_record("gpt-5.4", "gpt-5.4", "GPT-5.4", OPENAI, "text", &reasoning,
            &[CHAT, RESPONSES], token_pricing(1.25, 10.0), limits(400_000, 128_000)),
        catalog_record("gpt-5.2", "gpt-5.2", "GPT-5.2", OPENAI, "text", &reasoning,
            &[CHAT, RESPONSES], token_pricing(1.0, 8.0), limits(400_000, 128_000)),
        catalog_record("gpt-4o", "gpt-4o", "GPT-4o", OPENAI, "text", &vision,
            &[CHAT, RESPONSES], token_pricing(2.0, 8.0), limits(128_000, 16_384)),
        catalog_record("gpt-4o-mini", "gpt-4o-mini", "GPT-4o mini", OPENAI, "text", &vision,
            &[CHAT, RESPONSES], token_pricing(0.12, 0.48), limits(128_000, 16_384)),
        catalog_record("claude-sonnet-4-6", "claude-sonnet-4-6-latest", "Claude Sonnet 4.6",
            ANTHROPIC, "text", &reasoning, &[CHAT, MESSAGES], token_pricing(2.4, 12.0),
            limits(200_000, 64_000)),
        catalog_record("claude-opus-4-5", "claude-opus-4-5", "Claude Opus 4.5", ANTHROPIC,
            "text", &reasoning, &[CHAT, MESSAGES], token_pricing(4.0, 20.0),
            limits(200_000, 32_000)),
        catalog_record("gemini-2.5-pro", "gemini-2-5-pro", "Gemini 2.5 Pro", GOOGLE, "text",
            &reasoning,
            &[CHAT, ("gemini-generate", "/v1beta/models/gemini-2.5-pro:generateContent")],
            token_pricing(1.0, 8.0), limits(1_048_576, 65_536)),
        catalog_record("deepseek-v4-pro", "deepseek-v4-pro", "DeepSeek V4 Pro", DEEPSEEK,
            "text", &["text-to-text", "function-calling", "reasoning"], &[CHAT],
            token_pricing(0.44, 1.75), limits(128_000, 8_192)),
        catalog_record("gpt-image-1", "gpt-image-1", "GPT Image 1", OPENAI, "image",
            &["text-to-image", "image-to-image"],
            &[("openai-images", "/v1/images/generations")], request_pricing(0.04),
            (Value::Null, Value::Null)),
        catalog_record("suno-v4", "suno-v4", "Suno V4", SUNO, "audio", &["text-to-music"],
            &[("suno-music", "/suno/submit/music")], request_pricing(0.1),
            (Value::Null, Value::Null)),
    ]
}

fn synthetic_record(n: usize) -> Value {
    let id = format!("synthetic-model-{n:05}");
    let input = ((n % 50) as f64 + 1.0) / 10.0;
    catalog_record(
        &id,
        &id,
        &format!("Synthetic Model {n:05}"),
        ("Synthetic", "synthetic"),
        "text",
        &["text-to-text"],
        &[("openai-chat", "/v1/chat/completions")],
        token_pricing(input, input * 4.0),
        (json!(32_768), json!(4_096)),
    )
}

fn catalog(state: &State) -> Vec<Value> {
    let extra = state.catalog.extra.load(Ordering::SeqCst);
    let mut records = base_catalog();
    records.extend((1..=extra).map(synthetic_record));
    records
}

fn overview(record: &Value) -> String {
    let s = |k: &str| record[k].as_str().unwrap_or_default().to_string();
    let context = match record["context_length"].as_u64() {
        Some(n) => format!("{n} tokens"),
        None => "n/a".to_string(),
    };
    format!(
        "# {name}\n\n**{name}** is a {kind} model from {provider}, served through CometAPI. \
         Call it as `{id}`; see the [API docs](https://example.com) for details.\n\n\
         - Provider: {provider}\n- Type: {kind}\n- Context window: {context}\n",
        name = s("name"),
        kind = s("model_type"),
        provider = s("provider"),
        id = s("id"),
    )
}

fn model_detail(state: &State, code: &str) -> Reply {
    let found = catalog(state)
        .into_iter()
        .find(|r| r["code"].as_str() == Some(code));
    match found {
        Some(mut record) => {
            record["overview"] = json!(overview(&record));
            console_ok(record)
        }
        None => console_fail(200, "model not found"),
    }
}
