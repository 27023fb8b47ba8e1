//! Failures as the user reads them: an HTTP status or a transport failure mapped to
//! its exit code, message and hint, the server's own words found in an error body of
//! the common shapes, and the time-limit errors.

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::secret;
use crate::config::timeout;
use crate::error::{CliError, ExitCode};
use crate::net::client::Http;
use crate::net::request::{Auth, Request};
use crate::net::sse::{Decoder, Event, Flow};
use crate::net::urls::{host_of, path_of};

const TIMEOUT_HINT: &str =
    "allow more time with --timeout (for example --timeout 2m) or `cometapi config set timeout 2m`";
pub(super) const BASE_URL_HINT: &str =
    "the base URL should end in /v1 (e.g. https://api.cometapi.com/v1); check `cometapi config show`";

/// The error for a reply with a status other than 2xx.
pub(super) fn status_error(
    request: &Request,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> CliError {
    let said = server_message(headers, body);
    let message = format!(
        "HTTP {status} from {} {}: {}",
        request.method,
        path_of(&request.url),
        secret::redact(&said, request.auth.secret().as_slice())
    );
    let err = status_error_of(request, status, body, message);
    let err = CliError {
        http_status: Some(status),
        ..err
    };
    if status != 404 && looks_like_html(headers, body) {
        return err.with_hint(BASE_URL_HINT);
    }
    err
}

fn status_error_of(request: &Request, status: u16, body: &[u8], message: String) -> CliError {
    match status {
        // No credential was sent (a result URL on another host): nothing to check on our side.
        401 | 403 if matches!(request.auth, Auth::None) => CliError::failure(message).with_hint(
            "the host refused the download; a result link may have expired, so fetch the job again",
        ),
        401 | 403 => CliError::auth(message).with_hint(request.auth.rejected_hint()),
        404 => CliError::failure(message).with_hint(not_found_hint(&request.url)),
        429 if error_type(body).as_deref() == Some("insufficient_quota") => {
            CliError::failure(message)
                .with_hint("the account is out of quota; top up, then try again")
        }
        429 => CliError::failure(message)
            .with_hint("rate limited: wait a little and try again")
            .transient(),
        408 => CliError::failure(message).transient(),
        500..=599 => CliError::unavailable(message)
            .with_hint("the service is having trouble; try again shortly")
            .transient(),
        _ => CliError::failure(message),
    }
}

/// What a 404 most likely means, read from the path asked for: with a `/v1` or
/// `/v1beta` in it the base URL was right (a model or an endpoint is missing); a
/// console `/api/...` path means a server without the CometAPI console; otherwise
/// the base URL lacks its `/v1`.
fn not_found_hint(url: &str) -> &'static str {
    let path = path_of(url);
    let has = |segment: &str| path.split('/').any(|s| s == segment);
    if has("v1") || has("v1beta") {
        "check the model id and that the server offers this endpoint"
    } else if has("api") {
        "this server has no CometAPI catalog or console (another OpenAI-compatible gateway?); `cometapi models --source openai` lists its models"
    } else {
        BASE_URL_HINT
    }
}

/// The error for a request that got no answer: a refused redirect, an untrusted
/// certificate, or a host that could not be reached.
pub(super) fn transport_error(request: &Request, err: &reqwest::Error) -> CliError {
    if err.is_redirect() {
        return CliError::failure(format!(
            "{} {} was not followed: {}",
            request.method,
            path_of(&request.url),
            describe(err)
        ))
        .with_hint("a redirect to another host is refused so that the credential is never sent there; point the base URL at the API itself");
    }
    let failed = CliError::new(
        ExitCode::Unavailable,
        format!("cannot reach {}: {}", host_of(&request.url), describe(err)),
    );
    if is_certificate_failure(err) {
        // Trying again meets the same certificate.
        return failed.with_hint(
            "the server's TLS certificate is not trusted here; behind a proxy that inspects \
             HTTPS, name its CA certificate in SSL_CERT_FILE",
        );
    }
    failed
        .with_hint("check the network and the base URL (`cometapi doctor` diagnoses both)")
        .transient()
}

impl Http {
    /// The server took the request but no reply came in time (a read timeout: the
    /// server was reached, so this is not a network problem).
    pub(super) fn no_answer(&self, request: &Request) -> CliError {
        CliError::unavailable(format!(
            "timed out: {} did not answer {} {} within {} (the server was reached but sent no reply in time)",
            host_of(&request.url),
            request.method,
            path_of(&request.url),
            timeout::show(self.timeout)
        ))
        .with_hint(TIMEOUT_HINT)
        .transient()
    }

    /// A streamed reply began but no text came in time.
    pub(super) fn no_text(&self) -> CliError {
        CliError::unavailable(format!(
            "timed out: the reply did not start within {} (the server answered but sent no text)",
            timeout::show(self.timeout)
        ))
        .with_hint(TIMEOUT_HINT)
    }

    /// A body went silent after it had begun.
    pub(super) fn stalled(&self, what: &str) -> CliError {
        CliError::unavailable(format!(
            "{what}: nothing received for {}",
            timeout::show(self.timeout)
        ))
        .with_hint(TIMEOUT_HINT)
    }
}

/// rustls refused the server's certificate: its errors say so in words
/// ("invalid peer certificate: UnknownIssuer"), the one thing they share across kinds.
fn is_certificate_failure(err: &reqwest::Error) -> bool {
    err.is_connect() && innermost_cause(err).is_some_and(|c| c.contains("certificate"))
}

/// A transport failure in a few words, with its innermost cause.
pub(super) fn describe(err: &reqwest::Error) -> String {
    if err.is_redirect() {
        return innermost_cause(err).unwrap_or_else(|| err.to_string());
    }
    if err.is_timeout() {
        return "timed out".to_string();
    }
    if err.is_connect() {
        return "connection failed".to_string() + &source_chain(err);
    }
    err.to_string() + &source_chain(err)
}

/// The innermost cause ("Connection refused"), which reqwest's own message leaves out.
fn source_chain(err: &reqwest::Error) -> String {
    innermost_cause(err)
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

fn innermost_cause(err: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(err);
    let mut innermost = None;
    while let Some(cause) = source {
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    innermost
}

pub(super) fn looks_like_html(headers: &HeaderMap, body: &[u8]) -> bool {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let start = String::from_utf8_lossy(&body[..body.len().min(64)])
        .trim_start()
        .to_ascii_lowercase();
    content_type.contains("text/html")
        || start.starts_with("<!doctype html")
        || start.starts_with("<html")
}

/// `error.type` of an OpenAI-style error object (`insufficient_quota`).
pub(super) fn error_type(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.pointer("/error/type")?.as_str().map(str::to_string)
}

/// The server's own words: `error.message`, a top-level `message`, FastAPI's `detail`,
/// the same inside an event-stream body (`data: {"error": ...}`), or the start of the body.
fn server_message(headers: &HeaderMap, body: &[u8]) -> String {
    if looks_like_html(headers, body) {
        return "the server answered with an HTML page".to_string();
    }
    let found = match serde_json::from_slice::<Value>(body) {
        Ok(value) => message_in(&value),
        Err(_) => event_stream_message(body),
    };
    if let Some(message) = found {
        return message;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None if text.is_empty() => "no details given".to_string(),
        None => text.to_string(),
    }
}

/// The message in an error document of any of the shapes gateways use:
/// `{"error": {"message"}}`, `{"message"}`, `{"error": "..."}`, FastAPI's `{"detail"}`.
pub fn message_in(value: &Value) -> Option<String> {
    let direct = value
        .pointer("/error/message")
        .or_else(|| value.get("message"))
        .or_else(|| value.get("error"))
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty());
    if let Some(message) = direct {
        return Some(message.to_string());
    }
    match value.get("detail")? {
        Value::String(detail) if !detail.is_empty() => Some(detail.clone()),
        // FastAPI validation errors: [{"loc": ["body", "model"], "msg": "field required"}]
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(detail_item).collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        }
        other @ Value::Object(_) => message_in(other),
        _ => None,
    }
}

fn detail_item(item: &Value) -> Option<String> {
    let msg = item.get("msg").and_then(Value::as_str)?;
    let place: Vec<String> = item
        .get("loc")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|part| {
            part.as_str()
                .map_or_else(|| part.to_string(), str::to_string)
        })
        .collect();
    Some(if place.is_empty() {
        msg.to_string()
    } else {
        format!("{}: {msg}", place.join("."))
    })
}

/// The first error message in an event-stream body.
fn event_stream_message(body: &[u8]) -> Option<String> {
    let mut found = None;
    let mut decoder = Decoder::new();
    let mut on_event = |event: &Event| {
        found = serde_json::from_str::<Value>(event.data)
            .ok()
            .and_then(|v| message_in(&v));
        Ok::<_, CliError>(if found.is_some() {
            Flow::Stop
        } else {
            Flow::Continue
        })
    };
    // The blank line dispatches a last event the body did not end.
    let _ = decoder
        .feed(body, &mut on_event)
        .and_then(|_| decoder.feed(b"\n\n", &mut on_event));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_messages_from_gateways_of_every_shape() {
        let plain = HeaderMap::new();
        let said = |body: &str| server_message(&plain, body.as_bytes());
        assert_eq!(said(r#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(
            said(r#"{"detail":[{"loc":["body","model"],"msg":"field required"},{"msg":"bad"}]}"#),
            "body.model: field required; bad"
        );
        assert_eq!(
            said("data: {\"error\":{\"message\":\"no such model\"}}\n\n"),
            "no such model"
        );
        assert_eq!(
            said("event: error\ndata: {\"message\":\"unterminated\"}"),
            "unterminated"
        );
        assert_eq!(said("data: [DONE]"), "data: [DONE]");
    }

    #[test]
    fn a_404_hint_reads_the_path() {
        assert_eq!(not_found_hint("http://h/chat/completions"), BASE_URL_HINT);
        assert!(
            not_found_hint("http://h/v1beta/models/x:streamGenerateContent?alt=sse")
                .contains("model id")
        );
        assert!(not_found_hint("http://h/v1/chat/completions").contains("model id"));
        assert!(not_found_hint("http://h/api/models").contains("--source openai"));
    }
}
