//! `cometapi`: a command-line client for the CometAPI gateway.
//!
//! A run goes from argv to an exit code through these rooms, each a folder whose
//! `mod.rs` says what it is for and what it may use:
//!
//! - [`cli`]: argv to exit code: the clap front end built from the registry of
//!   commands and formats, the context a command runs with, plugins, completion.
//! - [`commands`] (the `commands/` folder): one file per command, each registering
//!   itself; a command reads its options, does its work through `api`, and returns data.
//! - [`api`]: what is CometAPI-specific: request bodies, the streamed reply reader, the
//!   console envelope, the model catalog, money, attachments, jobs and bulk requests.
//! - [`net`]: HTTP as a transport: requests, the client, retries and deadlines, error
//!   mapping, traces, URLs, multipart bodies, server-sent events.
//! - [`output`] and [`formatters`] (the `formatters/` folder): the data a command
//!   returns and the formats that render it; table fitting, dates.
//! - [`term`]: the terminal: Markdown rendering, text neutralising, styles, spinner,
//!   line input, Ctrl-C, the line editor of the shells.
//! - [`store`]: files on disk: atomic writes, saved results, the conversation log, roles.
//! - [`config`]: the config file, its keys, settings resolution, secrets, paths.
//! - [`error`]: the one error type, with its exit code and hint.
//!
//! The direction of use is `cli → commands → api → net`; `output`, `term`, `store` and
//! `config` never reach `net`.

pub mod api;
pub mod cli;
pub mod config;
pub mod error;
pub mod net;
pub mod output;
pub mod store;
pub mod term;

#[path = "../commands/mod.rs"]
pub mod commands;
#[path = "../formatters/mod.rs"]
pub mod formatters;
