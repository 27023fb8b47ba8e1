//! The request model: how a request proves who it is ([`Auth`]), what it sends and the
//! rules it is sent under ([`Request`]), and the 2xx reply read whole ([`Response`]).

use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

use crate::config::secret::Secret;
use crate::error::{CliError, Result};
use crate::net::errors::looks_like_html;
use crate::net::multipart::Form;

/// How a request proves who it is.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    None,
    /// The API key, sent as `Authorization: Bearer` or in a provider header.
    ApiKey(&'a Secret, KeyHeader),
    /// The console access token, sent as `Authorization: Bearer`.
    AccessToken(&'a Secret),
}

#[derive(Clone, Copy, Debug)]
pub enum KeyHeader {
    Bearer,
    /// `x-api-key` (Anthropic Messages).
    XApiKey,
    /// `x-goog-api-key` (Gemini).
    GoogApiKey,
}

impl Auth<'_> {
    /// The header that carries the credential: its name, its value, and its value
    /// masked for traces.
    pub(super) fn header(&self) -> Option<(&'static str, String, String)> {
        let (name, secret, prefix) = match self {
            Auth::None => return None,
            Auth::ApiKey(secret, KeyHeader::Bearer) | Auth::AccessToken(secret) => {
                ("authorization", secret, "Bearer ")
            }
            Auth::ApiKey(secret, KeyHeader::XApiKey) => ("x-api-key", secret, ""),
            Auth::ApiKey(secret, KeyHeader::GoogApiKey) => ("x-goog-api-key", secret, ""),
        };
        Some((
            name,
            format!("{prefix}{}", secret.expose()),
            format!("{prefix}{}", secret.masked()),
        ))
    }

    /// The credential this request carries, to redact it from what the server says.
    pub fn secret(&self) -> Option<&Secret> {
        match self {
            Auth::None => None,
            Auth::ApiKey(secret, _) | Auth::AccessToken(secret) => Some(secret),
        }
    }
}

pub struct Request<'a> {
    pub method: Method,
    pub url: String,
    pub auth: Auth<'a>,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// A `multipart/form-data` body, built afresh for every attempt (its files are
    /// streamed from disk); takes the place of `body`.
    pub form: Option<&'a Form>,
    /// The request creates something (an image, speech, a task): once the server may
    /// have received it, it is never sent again (see [`Request::creates`]).
    pub creates: bool,
    /// The reply must be a binary body (see [`Request::binary`]).
    pub binary: bool,
    /// Redirects may lead to any host (see [`Request::get_anywhere`]).
    pub anywhere: bool,
}

impl<'a> Request<'a> {
    pub fn get(url: impl Into<String>, auth: Auth<'a>) -> Self {
        Request {
            method: Method::GET,
            url: url.into(),
            auth,
            headers: Vec::new(),
            body: None,
            form: None,
            creates: false,
            binary: false,
            anywhere: false,
        }
    }

    pub fn post_json(url: impl Into<String>, auth: Auth<'a>, body: &Value) -> Self {
        Request {
            method: Method::POST,
            url: url.into(),
            auth,
            headers: vec![("content-type", "application/json".to_string())],
            body: Some(body.to_string().into_bytes()),
            form: None,
            creates: false,
            binary: false,
            anywhere: false,
        }
    }

    /// A `multipart/form-data` POST; the files in `form` were checked when added.
    pub fn post_multipart(url: impl Into<String>, auth: Auth<'a>, form: &'a Form) -> Self {
        Request {
            method: Method::POST,
            url: url.into(),
            auth,
            headers: Vec::new(),
            body: None,
            form: Some(form),
            creates: false,
            binary: false,
            anywhere: false,
        }
    }

    /// A GET with no credential of a URL a server handed back (an image on a CDN).
    /// Unlike every other request it may be redirected to another host (at most 10
    /// times, http and https only): it carries nothing a host could misuse.
    pub fn get_anywhere(url: impl Into<String>) -> Self {
        let mut request = Request::get(url, Auth::None);
        request.anywhere = true;
        request
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Declares a request that creates something and costs money each time: it is
    /// retried only when the server cannot have acted on it (the connection was never
    /// made, or a 429 refused it); never after a 5xx, a timeout or a cut reply.
    pub fn creates(mut self) -> Self {
        self.creates = true;
        self
    }

    /// Declares that a 2xx reply must be a binary body (audio, an image) for
    /// [`Http::download`](crate::net::Http::download): one labelled JSON is an error
    /// object in a 200 and fails with the server's message instead of being written out.
    pub fn binary(mut self) -> Self {
        self.binary = true;
        self
    }
}

/// A successful (2xx) reply, read whole.
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// What to do when the body is an HTML page rather than JSON ([`crate::net::Hints`]).
    pub(super) html_hint: &'static str,
}

impl Response {
    pub fn json(&self) -> Result<Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            let err = CliError::failure(format!("the server's reply is not JSON: {e}"));
            if looks_like_html(&self.headers, &self.body) {
                err.with_hint(self.html_hint)
            } else {
                err
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn auth_header_is_redacted_for_traces() {
        let secret = Secret::new("sk-abcdefghijklmnop1234");
        let (name, value, redacted) = Auth::ApiKey(&secret, KeyHeader::Bearer)
            .header()
            .expect("header");
        assert_eq!(name, "authorization");
        assert_eq!(value, "Bearer sk-abcdefghijklmnop1234");
        assert_eq!(redacted, "Bearer ****1234");
    }

    #[test]
    fn a_reply_that_is_not_json_fails_with_the_html_hint_only_when_html() {
        let reply = |content_type: &'static str, body: &[u8]| {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static(content_type));
            Response {
                status: 200,
                headers,
                body: body.to_vec(),
                html_hint: "check the base URL",
            }
        };
        let page = reply("text/html", b"<!doctype html><p>login</p>");
        let err = page.json().expect_err("not JSON");
        assert_eq!(err.exit.code(), 1);
        assert_eq!(err.hint.as_deref(), Some("check the base URL"));
        let garbage = reply("application/json", b"{\"cut");
        assert_eq!(garbage.json().expect_err("cut").hint, None);
        let good = reply("application/json", b"{\"a\":1}");
        assert_eq!(good.json().expect("JSON")["a"], 1);
    }
}
