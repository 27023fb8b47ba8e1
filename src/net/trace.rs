//! The `-v` trace on stderr: each request and attempt, each reply's status, protocol,
//! time and request ids, and with `-vv` the bodies, every credential redacted and every
//! line neutralised for the terminal.

use std::time::Instant;

use reqwest::header::HeaderMap;

use crate::config::secret;
use crate::net::client::{Head, Http};
use crate::net::request::Request;
use crate::net::retry::MAX_ATTEMPTS;
use crate::net::urls::redact_url;
use crate::term::sanitize;

impl Http {
    pub fn trace_request(&self, request: &Request, attempt: u32) {
        if self.verbose == 0 {
            return;
        }
        let retry = if attempt > 1 {
            format!(" (attempt {attempt} of {MAX_ATTEMPTS})")
        } else {
            String::new()
        };
        let url = redact_url(&request.url);
        self.trace(format_args!("> {} {url}{retry}", request.method));
        if let Some((name, _, redacted)) = request.auth.header() {
            self.trace(format_args!("> {name}: {redacted}"));
        }
        if let Some(body) = &request.body {
            self.trace_body(">", body, request);
        }
        if let (Some(form), true) = (request.form, self.verbose >= 2) {
            for field in form.describe() {
                let field = secret::redact(&field, request.auth.secret().as_slice());
                self.trace(format_args!("> {field}"));
            }
        }
    }

    /// With `-vv`: a body, its credentials and `sk-…` keys redacted, cut when long.
    pub(super) fn trace_body(&self, direction: &str, body: &[u8], request: &Request) {
        const SHOWN: usize = 2000;
        if self.verbose < 2 || body.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(body);
        let text = secret::redact(&text, request.auth.secret().as_slice());
        let (shown, cut) = match text.char_indices().nth(SHOWN) {
            Some((at, _)) => (&text[..at], format!(" … ({} bytes in all)", body.len())),
            None => (&text[..], String::new()),
        };
        for line in shown.lines().filter(|l| !l.trim().is_empty()) {
            self.trace(format_args!("{direction} {line}"));
        }
        if !cut.is_empty() {
            self.trace(format_args!("{direction}{cut}"));
        }
    }

    /// `< 200 (HTTP/2.0, 12 ms, 345 bytes) request-id …`: the protocol shows whether
    /// the server took HTTP/2.
    pub(super) fn trace_reply(&self, head: &Head, started: Instant, bytes: Option<usize>) {
        if self.verbose == 0 {
            return;
        }
        let Head {
            status,
            version,
            headers,
        } = head;
        let size = bytes.map(|n| format!(", {n} bytes")).unwrap_or_default();
        let ids: String = request_ids(headers)
            .map(|(name, id)| format!(" {name} {id}"))
            .collect();
        let ms = started.elapsed().as_millis();
        self.trace(format_args!("< {status} ({version:?}, {ms} ms{size}){ids}"));
    }

    pub(super) fn trace(&self, line: std::fmt::Arguments) {
        if self.verbose > 0 {
            eprintln!("{}", sanitize::for_stderr(&line.to_string()));
        }
    }
}

/// Every request-id header the server sent (`x-request-id`, `request-id`, a gateway's
/// own `x-…-request-id`), for the `-v` trace and bulk results.
pub fn request_ids(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers.iter().filter_map(|(name, value)| {
        let name = name.as_str();
        let is_id = name.ends_with("request-id") || name.ends_with("requestid");
        is_id.then(|| Some((name, value.to_str().ok()?))).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn every_request_id_header_is_found() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("a"));
        headers.insert("x-cometapi-request-id", HeaderValue::from_static("b"));
        headers.insert("content-type", HeaderValue::from_static("c"));
        let ids: Vec<_> = request_ids(&headers).collect();
        assert_eq!(ids, [("x-request-id", "a"), ("x-cometapi-request-id", "b")]);
    }

    #[test]
    fn a_request_id_that_is_not_text_is_left_out() {
        let mut headers = HeaderMap::new();
        let opaque = HeaderValue::from_bytes(b"\xff\xfe").expect("opaque bytes are a value");
        headers.insert("request-id", opaque);
        headers.insert("x-amzn-requestid", HeaderValue::from_static("d"));
        let ids: Vec<_> = request_ids(&headers).collect();
        assert_eq!(ids, [("x-amzn-requestid", "d")]);
    }
}
