//! The download of a result URL a server hands back (an image on a CDN, a finished
//! job's file): the API key goes with it only to the API's own origin.

use std::io::Write;

use reqwest::Url;

use crate::cli::context::Context;
use crate::error::{CliError, Result};
use crate::net::{Auth, KeyHeader, Request};

/// Downloads a URL the server handed back into `out`, streamed. The API key goes
/// with it only when the URL is on the API's own origin; anywhere else (a CDN, a
/// storage bucket) it is fetched without credentials, and may then be redirected to
/// any host (storage services do). Only http(s) URLs are fetched.
pub fn fetch_result(ctx: &Context, url: &str, out: &mut dyn Write) -> Result<u64> {
    check_result_url(url)?;
    let key;
    let request = if ctx.base_url()?.same_origin(url) {
        key = ctx.api_key()?;
        Request::get(url, Auth::ApiKey(&key, KeyHeader::Bearer))
    } else {
        Request::get_anywhere(url)
    };
    ctx.http()?.download(&request.binary(), out, &mut |_| {})
}

/// Only an http(s) URL is fetched.
fn check_result_url(url: &str) -> Result<()> {
    let parsed = Url::parse(url).map_err(|_| {
        CliError::failure(format!(
            "the server sent a result URL that is not a URL: {url}"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CliError::failure(format!(
            "the server sent a result URL that is not http(s): {url}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_result_urls_are_fetched() {
        assert!(check_result_url("https://cdn.example/a.png").is_ok());
        assert!(check_result_url("http://127.0.0.1:9/v1/files/x").is_ok());
        for (url, why) in [
            ("", "not a URL"),
            ("/relative/a.png", "not a URL"),
            ("file:///etc/passwd", "not http(s)"),
            ("data:image/png;base64,AAAA", "not http(s)"),
        ] {
            let err = check_result_url(url).expect_err(url);
            assert_eq!(err.exit.code(), 1);
            assert!(
                err.message.ends_with(&format!("{why}: {url}")),
                "{}",
                err.message
            );
        }
    }
}
