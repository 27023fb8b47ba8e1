//! From argv to an exit code. [`app`] runs a command line; [`front`] builds the clap
//! command from the [`registry`] (every command and format registers itself there
//! through `inventory`); [`context`] is what a command runs with (settings, the lazily
//! built HTTP client, the streams). Also plugins (`cometapi-<name>` on `PATH`), shell
//! completion scripts, "did you mean" suggestions, and the generated command docs.
//!
//! May use every other room; nothing outside `commands/` uses `cli` but `main.rs`, except
//! for the registry types and the context a command is handed.

pub mod app;
pub mod completion;
pub mod context;
#[cfg(test)]
mod docgen;
pub mod front;
pub mod plugins;
pub mod registry;
pub mod suggest;
