//! `cometapi`: a command-line client for the CometAPI gateway.
//!
//! The core lives in `src/`; each command is one module in `commands/` and each
//! output format one module in `formatters/`, registered through `inventory`.

pub mod app;
pub mod attach;
pub mod bulk;
pub mod catalog;
pub mod chat_body;
pub mod chat_scan;
pub mod chatlog;
pub mod cli;
pub mod columns;
pub mod completion;
pub mod config;
pub mod console;
pub mod context;
pub mod dates;
#[cfg(test)]
mod docgen;
pub mod error;
pub mod fit;
pub mod fsutil;
pub mod http;
pub mod inputs;
pub mod interrupt;
pub mod jobs;
pub mod message;
pub mod money;
pub mod multipart;
pub mod output;
pub mod paths;
pub mod plugins;
pub mod progress;
pub mod prompt;
pub mod registry;
pub mod render;
pub mod roles;
pub mod save;
pub mod secret;
pub mod settings;
pub mod shell;
pub mod sniff;
pub mod sse;
pub mod stream;
pub mod suggest;
pub mod terminal_text;
pub mod timeout;
pub mod urls;

#[path = "../commands/mod.rs"]
pub mod commands;
#[path = "../formatters/mod.rs"]
pub mod formatters;
