//! Failures as the user reads them: an HTTP status or a transport failure mapped to
//! its exit code, message and hint, the server's own words found in an error body of
//! the common shapes, and the time-limit errors. Hints whose words belong to the service
//! or the program (its URL layout, where its credentials are set) come from the
//! [`Hints`] the client was built with, so nothing here knows either.

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::secret;
use crate::config::timeout;
use crate::error::{CliError, ExitCode};
use crate::net::client::Http;
use crate::net::request::{Auth, Request};
use crate::net::sse::{Decoder, Event, Flow};
use crate::net::urls::{host_of, path_of};

/// What the user is told to do about a failure whose remedy lies with the service
/// behind the client or with the program's settings, not with HTTP: the client maps a
/// failure to its exit code and asks these for the hint.
pub trait Hints: Sync {
    /// The reply is an HTML page where the API should have answered.
    fn html_reply(&self) -> &'static str;
    /// A 404 for `url`.
    fn not_found(&self, url: &str) -> &'static str;
    /// A 401 or 403 for a request that carried `auth` ([`Auth::None`]: a download of a
    /// URL the server handed back).
    fn rejected(&self, auth: &Auth) -> &'static str;
    /// No reply, or no more of one, within the time limit.
    fn timed_out(&self) -> &'static str;
    /// The host could not be reached.
    fn unreachable(&self) -> &'static str;
}

/// The error for a reply with a status other than 2xx.
pub(super) fn status_error(
    request: &Request,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    hints: &dyn Hints,
) -> CliError {
    let said = server_message(headers, body);
    let message = format!(
        "HTTP {status} from {} {}: {}",
        request.method,
        path_of(&request.url),
        secret::redact(&said, request.auth.secret().as_slice())
    );
    let err = status_error_of(request, status, body, message, hints);
    let err = CliError {
        http_status: Some(status),
        ..err
    };
    if status != 404 && looks_like_html(headers, body) {
        return err.with_hint(hints.html_reply());
    }
    err
}

fn status_error_of(
    request: &Request,
    status: u16,
    body: &[u8],
    message: String,
    hints: &dyn Hints,
) -> CliError {
    match status {
        // No credential was sent (a result URL on another host): nothing to check on our side.
        401 | 403 if matches!(request.auth, Auth::None) => {
            CliError::failure(message).with_hint(hints.rejected(&request.auth))
        }
        401 | 403 => CliError::auth(message).with_hint(hints.rejected(&request.auth)),
        404 => CliError::failure(message).with_hint(hints.not_found(&request.url)),
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

/// The error for a request that got no answer: a refused redirect, an untrusted
/// certificate, or a host that could not be reached.
pub(super) fn transport_error(
    request: &Request,
    err: &reqwest::Error,
    hints: &dyn Hints,
) -> CliError {
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
    failed.with_hint(hints.unreachable()).transient()
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
        .with_hint(self.hints.timed_out())
        .transient()
    }

    /// A streamed reply began but no text came in time.
    pub(super) fn no_text(&self) -> CliError {
        CliError::unavailable(format!(
            "timed out: the reply did not start within {} (the server answered but sent no text)",
            timeout::show(self.timeout)
        ))
        .with_hint(self.hints.timed_out())
    }

    /// A body went silent after it had begun.
    pub(super) fn stalled(&self, what: &str) -> CliError {
        CliError::unavailable(format!(
            "{what}: nothing received for {}",
            timeout::show(self.timeout)
        ))
        .with_hint(self.hints.timed_out())
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
    use crate::config::secret::Secret;
    use crate::net::request::KeyHeader;
    use reqwest::header::HeaderValue;

    /// Hints that name what was asked, to see which one an error carries.
    struct Named;

    impl Hints for Named {
        fn html_reply(&self) -> &'static str {
            "html"
        }
        fn not_found(&self, url: &str) -> &'static str {
            if url.contains("/v1/") {
                "not found in v1"
            } else {
                "not found"
            }
        }
        fn rejected(&self, auth: &Auth) -> &'static str {
            match auth {
                Auth::None => "rejected without a credential",
                _ => "rejected",
            }
        }
        fn timed_out(&self) -> &'static str {
            "timed out"
        }
        fn unreachable(&self) -> &'static str {
            "unreachable"
        }
    }

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
    fn a_status_maps_to_its_exit_code_and_asks_the_hints_for_the_remedy() {
        let key = Secret::new("sk-abcdefghijklmnop1234");
        let keyed = Request::get("http://h/v1/models", Auth::ApiKey(&key, KeyHeader::Bearer));
        let plain = HeaderMap::new();
        let error = |request: &Request, status: u16, body: &str| {
            status_error(request, status, &plain, body.as_bytes(), &Named)
        };
        let rejected = error(&keyed, 401, r#"{"error":{"message":"bad key"}}"#);
        assert_eq!(rejected.exit, ExitCode::AuthRejected);
        assert_eq!(rejected.hint.as_deref(), Some("rejected"));
        assert_eq!(rejected.http_status, Some(401));
        assert!(rejected.message.ends_with("GET /v1/models: bad key"));
        let download = error(&Request::get_anywhere("http://cdn/x.png"), 403, "");
        assert_eq!(download.exit, ExitCode::Failure);
        assert_eq!(
            download.hint.as_deref(),
            Some("rejected without a credential")
        );
        let missing = error(&keyed, 404, "");
        assert_eq!(missing.hint.as_deref(), Some("not found in v1"));
        assert!(missing.message.ends_with("no details given"));
        let busy = error(&keyed, 503, "");
        assert_eq!((busy.exit, busy.transient), (ExitCode::Unavailable, true));
        let broke = error(&keyed, 429, r#"{"error":{"type":"insufficient_quota"}}"#);
        assert!(!broke.transient);
    }

    #[test]
    fn an_html_page_gets_the_html_hint_except_on_a_404() {
        let mut html = HeaderMap::new();
        html.insert("content-type", HeaderValue::from_static("text/html"));
        let request = Request::get("not a url", Auth::None);
        let page = b"<html><body>502 Bad Gateway</body></html>";
        let err = status_error(&request, 502, &html, page, &Named);
        assert_eq!(err.hint.as_deref(), Some("html"));
        assert!(err
            .message
            .contains("GET not a url: the server answered with an HTML page"));
        let err = status_error(&request, 404, &html, page, &Named);
        assert_eq!(err.hint.as_deref(), Some("not found"));
    }

    #[test]
    fn a_body_that_is_not_text_is_shown_cut_not_a_panic() {
        let plain = HeaderMap::new();
        let binary: Vec<u8> = (0..=255u8).cycle().take(2000).collect();
        let said = server_message(&plain, &binary);
        assert!(said.ends_with('…'), "{said}");
        assert_eq!(said.chars().count(), 201);
        assert_eq!(
            message_in(&serde_json::json!({"detail": [1, {"x": 2}]})),
            None
        );
    }
}
