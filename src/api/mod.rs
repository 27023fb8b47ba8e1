//! What is CometAPI-specific: the base URL and the URLs derived from it
//! ([`base_url`]), chat request bodies ([`chat_body`], [`message`]), the
//! reader of streamed replies in the four wire formats ([`stream`]), the console's
//! `/api/...` envelope ([`envelope`]) and its list and paging helpers
//! ([`web_console`]), the hints the client's errors carry ([`hints`]), the download of
//! result URLs ([`download`]), the model catalog, money in quota units, attachments,
//! long-running jobs (video, Midjourney, Suno) and bulk requests (`batch`).
//!
//! May use `net`, `config`, `output`, `term`, `store` and `error`; the context it is
//! handed comes from `cli`.

pub mod attach;
pub mod base_url;
pub mod bulk;
pub mod catalog;
pub mod chat_body;
pub mod download;
pub mod envelope;
pub mod hints;
pub mod jobs;
pub mod message;
pub mod money;
pub mod stream;
pub mod web_console;
