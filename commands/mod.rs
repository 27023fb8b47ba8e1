//! Built-in commands. Each module registers one `CommandSpec`; adding a command
//! means adding a module here and its `mod` line, nothing else.

mod account;
mod balance;
mod chat;
mod completion;
mod config;
mod doctor;
mod init;
mod logs;
mod model;
mod models;
mod repl;
mod run;
mod stats;
mod tasks;
mod tokens;
