//! Files on disk: atomic private writes under a lock ([`files`]), binary results saved
//! as they arrive ([`save`]) with their type read from the bytes ([`sniff`]), saved
//! roles ([`roles`]) and the conversation log ([`chatlog`], SQLite).
//!
//! May use `config` (paths) and `error`.

pub mod chatlog;
pub mod files;
pub mod roles;
pub mod save;
pub mod sniff;
