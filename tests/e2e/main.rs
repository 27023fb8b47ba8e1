//! End-to-end tests: the built `cometapi` binary against the in-repo fake
//! CometAPI server, each test in its own temporary HOME.

#[path = "../support/fake_server.rs"]
mod fake_server;
mod sandbox;
#[path = "../support/tls_front.rs"]
mod tls_front;

mod account;
mod attach;
mod balance;
mod batch;
mod chat;
mod chat_repl;
mod cli;
mod compare;
mod completion;
mod config;
mod config_hardening;
mod console_hardening;
mod conversations;
mod doctor;
mod dropin;
mod embed;
mod errors;
mod escapes;
mod every_command;
mod http;
mod http2;
mod image;
mod init;
mod jobs;
mod logs;
mod model_info;
mod models;
mod network;
mod plugins;
mod pty;
mod render;
mod repl;
mod roles;
mod run;
mod shell;
mod speech;
mod stubs;
mod surface_hardening;
mod surfaces;
mod tables;
mod tasks;
mod tokens;
mod transcribe;
mod waits;
