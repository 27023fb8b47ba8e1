//! What the user is told to do about a failure whose remedy is CometAPI's layout or
//! this program's settings and commands: the [`Hints`] the client is built with.

use crate::net::urls::path_of;
use crate::net::{Auth, Hints};

/// The hints for CometAPI and its CLI.
pub struct CometApi;

const BASE_URL_HINT: &str =
    "the base URL should end in /v1 (e.g. https://api.cometapi.com/v1); check `cometapi config show`";

impl Hints for CometApi {
    fn html_reply(&self) -> &'static str {
        BASE_URL_HINT
    }

    /// What a 404 most likely means, read from the path asked for: with a `/v1` or
    /// `/v1beta` in it the base URL was right (a model or an endpoint is missing); a
    /// console `/api/...` path means a server without the CometAPI console; otherwise
    /// the base URL lacks its `/v1`.
    fn not_found(&self, url: &str) -> &'static str {
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

    fn rejected(&self, auth: &Auth) -> &'static str {
        match auth {
            Auth::None => "the host refused the download; a result link may have expired, so fetch the job again",
            Auth::AccessToken(_) => "check the access token (COMETAPI_ACCESS_TOKEN or `cometapi config set access_token`); `cometapi doctor` tests it",
            Auth::ApiKey(..) => "check the API key (COMETAPI_KEY or `cometapi config set api_key`); `cometapi doctor` tests it",
        }
    }

    fn timed_out(&self) -> &'static str {
        "allow more time with --timeout (for example --timeout 2m) or `cometapi config set timeout 2m`"
    }

    fn unreachable(&self) -> &'static str {
        "check the network and the base URL (`cometapi doctor` diagnoses both)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::secret::Secret;
    use crate::net::KeyHeader;

    fn not_found_hint(url: &str) -> &'static str {
        CometApi.not_found(url)
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

    #[test]
    fn a_404_for_what_is_not_a_url_points_at_the_base_url() {
        for odd in ["", "not a url", "http://[::1"] {
            assert_eq!(not_found_hint(odd), BASE_URL_HINT, "{odd:?}");
        }
    }

    #[test]
    fn a_refusal_names_the_credential_that_was_sent() {
        let secret = Secret::new("sk-abcdefghijklmnop1234");
        let key = CometApi.rejected(&Auth::ApiKey(&secret, KeyHeader::XApiKey));
        assert!(key.contains("COMETAPI_KEY"), "{key}");
        let token = CometApi.rejected(&Auth::AccessToken(&secret));
        assert!(token.contains("COMETAPI_ACCESS_TOKEN"), "{token}");
        assert!(CometApi
            .rejected(&Auth::None)
            .contains("fetch the job again"));
    }
}
