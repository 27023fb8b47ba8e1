//! Reading a 2xx reply's body: whole under a size cap ([`read_capped`]), or as it
//! arrives, into a writer ([`Http::download`]) or through a callback that says what it
//! made of each read ([`Http::stream`], [`ChunkFlow`]).

use std::io::Write;
use std::time::Instant;

use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::secret;
use crate::error::{CliError, Result};
use crate::net::client::{waiting_for, Http};
use crate::net::errors::{describe, message_in};
use crate::net::request::Request;
use crate::net::retry::{within, Failure};
use crate::net::urls::path_of;
use crate::term::progress;

/// The most a reply read whole (JSON, an error body) may hold.
const MAX_BODY_BYTES: usize = 64 << 20;
const WAITING_FOR_TEXT: &str = "waiting for the first token";

/// What a streaming callback made of one network read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkFlow {
    /// Nothing shown yet: a failure may still be retried.
    Quiet,
    /// Output was shown: no retry from now on.
    Shown,
    /// The reply is complete; stop reading.
    Done,
}

/// How a stream ended without an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEnd {
    /// The callback said the reply was complete.
    Done,
    /// The server closed the body; whether the reply was complete is the caller's call.
    Eof,
    /// The server answered with a JSON document instead of an event stream (an error
    /// object, or a whole reply from a proxy that ignored `stream: true`): here it is.
    NotStreamed(Vec<u8>),
}

impl Http {
    /// Streams a 2xx reply's body into `out` as it arrives, never holding it whole,
    /// and reports the byte count so far to `progress`. Retried like [`Http::send`]
    /// only until the first byte has been written; a cut after that is exit 69. The
    /// first byte must come within the time limit, and no later gap may be longer.
    pub fn download(
        &self,
        request: &Request,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64> {
        self.with_retries(request, &waiting_for(request), |deadline| {
            self.interruptible(async {
                let mut response = self.open_within(request, deadline).await?;
                if request.binary && is_json(response.headers()) {
                    return Err(Failure::Final(
                        self.json_instead(request, response, deadline).await,
                    ));
                }
                let mut written = 0u64;
                loop {
                    let limit = self.body_limit(written > 0, deadline);
                    let Some(next) = within(limit, response.chunk()).await else {
                        return Err(Failure::Final(match written {
                            0 => self.no_answer(request),
                            _ => {
                                self.stalled(&format!("the download stalled after {written} bytes"))
                            }
                        }));
                    };
                    match next {
                        Ok(Some(chunk)) => {
                            progress::hide();
                            out.write_all(&chunk)
                                .map_err(|e| Failure::Final(CliError::from_output(e)))?;
                            written += chunk.len() as u64;
                            progress(written);
                        }
                        Ok(None) => return Ok(written),
                        Err(err) if written == 0 => return Err(Failure::Transport(err)),
                        Err(err) => {
                            return Err(Failure::Final(CliError::unavailable(format!(
                                "the download was cut off after {written} bytes: {}",
                                describe(&err)
                            ))))
                        }
                    }
                }
            })
        })
    }

    /// Streams a 2xx reply's body through `on_chunk`, one call per network read, until
    /// the body ends or `on_chunk` says [`ChunkFlow::Done`]. Retried like [`Http::send`]
    /// only while `on_chunk` has shown nothing ([`ChunkFlow::Quiet`]); once output was
    /// shown, a cut is final (exit 69, "stream interrupted"). Something must be shown
    /// within the time limit, and after that no gap between reads may be longer (a
    /// server trickling bytes that never make text is cut off). Ctrl-C while waiting
    /// or reading ends the stream with exit 130
    /// ([`ExitCode::Interrupted`](crate::error::ExitCode::Interrupted)).
    pub fn stream(
        &self,
        request: &Request,
        on_chunk: &mut dyn FnMut(&[u8]) -> Result<ChunkFlow>,
    ) -> Result<StreamEnd> {
        let mut shown = false;
        self.with_retries(request, WAITING_FOR_TEXT, |deadline| {
            self.interruptible(self.stream_once(request, on_chunk, &mut shown, deadline))
        })
    }

    async fn stream_once(
        &self,
        request: &Request<'_>,
        on_chunk: &mut dyn FnMut(&[u8]) -> Result<ChunkFlow>,
        shown: &mut bool,
        deadline: Instant,
    ) -> std::result::Result<StreamEnd, Failure> {
        let mut response = self.open_within(request, deadline).await?;
        if is_json(response.headers()) {
            let body = within(deadline, read_capped(response))
                .await
                .unwrap_or_else(|| Err(Failure::Final(self.no_answer(request))))?;
            self.trace_body("<", &body, request);
            return Ok(StreamEnd::NotStreamed(body));
        }
        loop {
            let limit = self.body_limit(*shown, deadline);
            let Some(next) = within(limit, response.chunk()).await else {
                return Err(Failure::Final(if *shown {
                    self.stalled("stream interrupted")
                } else {
                    self.no_text()
                }));
            };
            match next {
                Ok(Some(chunk)) => {
                    self.trace_body("<", &chunk, request);
                    // The callback may write: the spinner's line must not be in the way.
                    progress::hide();
                    match on_chunk(&chunk).map_err(Failure::Final)? {
                        ChunkFlow::Quiet => self.spin(WAITING_FOR_TEXT.to_string()),
                        ChunkFlow::Shown => *shown = true,
                        ChunkFlow::Done => return Ok(StreamEnd::Done),
                    }
                }
                Ok(None) => return Ok(StreamEnd::Eof),
                Err(err) if !*shown => return Err(Failure::Transport(err)),
                Err(err) => {
                    return Err(Failure::Final(CliError::unavailable(format!(
                        "stream interrupted: {}",
                        describe(&err)
                    ))))
                }
            }
        }
    }

    /// The error for a JSON reply where a binary body was expected: the server's message
    /// when it has one.
    async fn json_instead(
        &self,
        request: &Request<'_>,
        response: reqwest::Response,
        deadline: Instant,
    ) -> CliError {
        let body = match within(deadline, read_capped(response)).await {
            Some(Ok(body)) => body,
            Some(Err(Failure::Final(err))) => return err,
            _ => Vec::new(),
        };
        self.trace_body("<", &body, request);
        let said = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| message_in(&v))
            .unwrap_or_else(|| "a JSON document instead of the file".to_string());
        CliError::failure(format!(
            "{} {} answered 200 with an error: {}",
            request.method,
            path_of(&request.url),
            secret::redact(&said, request.auth.secret().as_slice())
        ))
    }
}

/// The whole body, refused past [`MAX_BODY_BYTES`] (by its Content-Length first, then
/// as it arrives) so a huge reply cannot exhaust memory; held once, never copied whole.
pub(super) async fn read_capped(
    mut response: reqwest::Response,
) -> std::result::Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::Final(CliError::failure(format!(
            "the server's reply is larger than {} MB; not read",
            MAX_BODY_BYTES >> 20
        )))
    };
    let declared = response.content_length().unwrap_or(0);
    if declared > MAX_BODY_BYTES as u64 {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(declared as usize);
    while let Some(chunk) = response.chunk().await.map_err(Failure::Transport)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A reply labelled JSON (where an event stream or a file was asked for).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().contains("json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn only_a_reply_labelled_json_is_json() {
        let labelled = |value: &'static [u8]| {
            let mut headers = HeaderMap::new();
            headers.insert(
                "content-type",
                HeaderValue::from_bytes(value).expect("a header value"),
            );
            is_json(&headers)
        };
        assert!(labelled(b"application/json; charset=utf-8"));
        assert!(labelled(b"Application/Problem+JSON"));
        assert!(!labelled(b"text/event-stream"));
        assert!(!labelled(b"\xffjson"), "a value that is not text");
        assert!(!is_json(&HeaderMap::new()));
    }
}
