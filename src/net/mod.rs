//! HTTP as a transport, knowing nothing of the service it talks to:
//!
//! - `request`: the request model: [`Auth`], [`Request`] (method, URL, headers, a
//!   JSON or multipart body, its retry and redirect rules) and the whole [`Response`].
//! - `client`: the one client, [`Http`] (rustls, HTTP/2 by ALPN, redirects kept on
//!   the origin, built lazily by the context), and a reply read whole.
//! - `body`: bodies read as they arrive, into a file or through a callback
//!   ([`ChunkFlow`], [`StreamEnd`]), and the cap on a body read whole.
//! - `retry`: attempts under one deadline: backoff with jitter, `Retry-After`, and
//!   which failures are tried again ([`Failure`]).
//! - `errors`: failures mapped to exit codes and messages, the server's words found
//!   in an error body ([`message_in`]); the hints that name the service or the program
//!   come from the [`Hints`] the client is built with.
//! - `trace`: the `-v` trace, credentials redacted ([`request_ids`]).
//! - [`urls`]: URL helpers (paths, hosts, query strings, masked passwords);
//!   [`multipart`]: streamed `multipart/form-data` bodies; [`sse`]: the server-sent
//!   events decoder.
//!
//! May use `config` (secrets, time limits), `term` (the spinner, Ctrl-C, neutralising
//! traces), `store::files` (a multipart file part is checked to be a regular file before
//! it is streamed) and `error`; never `api` or `cli`.

mod body;
mod client;
mod errors;
pub mod multipart;
mod request;
mod retry;
pub mod sse;
mod trace;
pub mod urls;

pub use body::{ChunkFlow, StreamEnd};
pub use client::Http;
pub use errors::{message_in, Hints};
pub use request::{Auth, KeyHeader, Request, Response};
pub use retry::{server_delay, Failure, MAX_ATTEMPTS};
pub use trace::request_ids;
