//! The configured base URL, from which every URL the CLI calls is derived (so that a
//! proxy or a test server sees all of them): the OpenAI-compatible endpoints under
//! `/v1`, the provider-native ones at the root, and CometAPI's console `/api/...`.

use std::fmt;

use reqwest::Url;

use crate::net::urls::redact_url;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl {
    /// The OpenAI-compatible base, e.g. `https://api.cometapi.com/v1`.
    base: String,
    /// The API root: the base without a trailing `/v1` or `/v1beta`.
    root: String,
}

impl BaseUrl {
    pub fn parse(raw: &str) -> std::result::Result<BaseUrl, String> {
        let base = raw.trim().trim_end_matches('/').to_string();
        let parsed = Url::parse(&base).map_err(|e| format!("`{raw}` is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(format!("`{raw}` is not an http(s) URL"));
        }
        let root = ["/v1", "/v1beta"]
            .iter()
            .find_map(|suffix| base.strip_suffix(suffix))
            .unwrap_or(&base)
            .to_string();
        Ok(BaseUrl { base, root })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// `{base}/{path}`: the OpenAI-compatible endpoints (`models`, `chat/completions`).
    pub fn v1(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// `{root}/{path}`: the provider-native endpoints (`v1/messages`, `v1beta/models/...`).
    pub fn at_root(&self, path: &str) -> String {
        format!("{}/{}", self.root, path.trim_start_matches('/'))
    }

    /// `{root}/api/{path}`: the console endpoints.
    pub fn console(&self, path: &str) -> String {
        format!("{}/api/{}", self.root, path.trim_start_matches('/'))
    }

    /// Whether `url` is on the API's own origin (scheme, host and port), the only place
    /// a credential may go; a URL the server hands back (an image on a CDN) may not be.
    pub fn same_origin(&self, url: &str) -> bool {
        match (Url::parse(&self.base), Url::parse(url)) {
            (Ok(base), Ok(other)) => base.origin() == other.origin(),
            _ => false,
        }
    }
}

/// A base URL as people may see it: a password in it (`user:pw@host`) masked.
impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_api_origin_is_the_same_origin() {
        let base = BaseUrl::parse("https://api.cometapi.com/v1").expect("base");
        assert!(base.same_origin("https://api.cometapi.com/mj/image/1"));
        assert!(base.same_origin("https://API.cometapi.com:443/x"));
        for other in [
            "http://api.cometapi.com/x",
            "https://api.cometapi.com:8443/x",
            "https://cdn.example.com/x.png",
            "https://api.cometapi.com.evil.test/x",
            "not a url",
        ] {
            assert!(!base.same_origin(other), "{other}");
        }
    }

    #[test]
    fn root_drops_version_suffix() {
        let url = BaseUrl::parse("https://api.cometapi.com/v1/").expect("parse");
        assert_eq!(url.v1("models"), "https://api.cometapi.com/v1/models");
        assert_eq!(url.console("models"), "https://api.cometapi.com/api/models");
        let proxy = BaseUrl::parse("http://127.0.0.1:9/proxy/v1beta").expect("parse");
        assert_eq!(
            proxy.console("user/self"),
            "http://127.0.0.1:9/proxy/api/user/self"
        );
        assert_eq!(
            proxy.at_root("v1/messages"),
            "http://127.0.0.1:9/proxy/v1/messages"
        );
        let bare = BaseUrl::parse("http://localhost:8080").expect("parse");
        assert_eq!(bare.console("models"), "http://localhost:8080/api/models");
    }

    #[test]
    fn a_password_in_the_url_is_masked_when_shown() {
        let url = BaseUrl::parse("https://user:hunter2secret@proxy.example/v1").expect("parse");
        assert_eq!(url.to_string(), "https://user:****@proxy.example/v1");
        assert!(!redact_url(&url.console("models")).contains("hunter2"));
        assert_eq!(redact_url("http://h/v1"), "http://h/v1");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn rejects_what_is_not_http() {
        assert!(BaseUrl::parse("api.cometapi.com/v1").is_err());
        assert!(BaseUrl::parse("ftp://x/v1").is_err());
    }
}
