//! End-to-end tests: the built `cometapi` binary against the in-repo fake
//! CometAPI server, each test in its own temporary HOME.

#[path = "../support/fake_server.rs"]
mod fake_server;
mod sandbox;

mod account;
mod balance;
mod chat;
mod cli;
mod config;
mod doctor;
mod errors;
mod http;
mod logs;
mod model_info;
mod models;
mod run;
mod tasks;
mod tokens;
