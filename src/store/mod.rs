//! Files on disk: atomic private writes under a lock ([`files`]), binary results saved
//! as they arrive ([`save`]) with their type read from the bytes ([`sniff`]), saved
//! roles ([`roles`]) and the conversation log ([`chatlog`], SQLite).
//!
//! May use `config` (paths) and `error`; never `net`. The conversation log is the one
//! part that sees more: it records the exchange `api` streamed (`api::stream::Reply`,
//! its cost from `api::catalog`) and reads its `log` setting from the command's context.

pub mod chatlog;
pub mod files;
pub mod roles;
pub mod save;
pub mod sniff;
