//! HTTP as a transport, knowing nothing of CometAPI's replies: the request model, the
//! one client (built lazily, rustls, HTTP/2 by ALPN), retries with backoff under a
//! deadline, the mapping of failures to exit codes, `-v` traces; URLs derived from the
//! base URL ([`urls`]), streamed multipart bodies ([`multipart`]) and the server-sent
//! events decoder ([`sse`]).
//!
//! May use `config` (secrets, time limits), `term` (the spinner, Ctrl-C, neutralising
//! traces) and `error`; never `api` or `cli`.

mod http;
pub mod multipart;
pub mod sse;
pub mod urls;

pub use http::*;
