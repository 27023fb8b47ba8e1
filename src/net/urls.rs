//! URL helpers: a path segment percent-encoded, query parameters appended, a password
//! masked for showing, and the path or origin of a URL for messages.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::Url;

/// `url` with the password of its `user:password@` part replaced by `****`, for
/// anything shown (traces, doctor, config show) or stored (cache keys).
pub fn redact_url(url: &str) -> Cow<'_, str> {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            Cow::Owned(parsed.to_string())
        }
        _ => Cow::Borrowed(url),
    }
}

/// The path of `url` (`/v1/models`), for messages; `url` itself when it does not parse.
pub fn path_of(url: &str) -> String {
    Url::parse(url)
        .map(|u| u.path().to_string())
        .unwrap_or_else(|_| url.to_string())
}

/// `scheme://host:port`, without the path: where a request tried to connect.
pub(super) fn host_of(url: &str) -> String {
    Url::parse(url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| url.to_string())
}

/// RFC 3986 unreserved characters stay; everything else is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One path segment, percent-encoded (`a/b:c` → `a%2Fb%3Ac`): everything but
/// unreserved characters.
pub fn path_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Appends query parameters, percent-encoded, in the order given; `None` values are left out.
pub fn with_query(url: &str, params: &[(&str, Option<String>)]) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_string();
    };
    if params.iter().any(|(_, value)| value.is_some()) {
        let mut pairs = parsed.query_pairs_mut();
        for (name, value) in params {
            if let Some(value) = value {
                pairs.append_pair(name, value);
            }
        }
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("gemini-2.5-pro"), "gemini-2.5-pro");
        assert_eq!(path_segment("a/b:c d"), "a%2Fb%3Ac%20d");
        assert_eq!(path_segment("é~"), "%C3%A9~");
    }

    #[test]
    fn path_and_host_are_read_from_the_url_or_it_is_kept_whole() {
        assert_eq!(path_of("http://h:8080/v1/models?x=1"), "/v1/models");
        assert_eq!(host_of("http://h:8080/v1/models?x=1"), "http://h:8080");
        assert_eq!(host_of("https://user:pw@h/v1"), "https://h");
        for odd in ["not a url", "", "http://[::1"] {
            assert_eq!(path_of(odd), odd);
            assert_eq!(host_of(odd), odd);
        }
    }

    #[test]
    fn query_is_encoded_and_none_skipped() {
        let params = [
            ("p", Some("1".to_string())),
            ("x", None),
            ("q", Some("a b&c".to_string())),
        ];
        assert_eq!(
            with_query("http://h/api/log/self", &params),
            "http://h/api/log/self?p=1&q=a+b%26c"
        );
        assert_eq!(with_query("http://h/a", &[("x", None)]), "http://h/a");
    }
}
