//! Settings: the keys the CLI knows ([`keys`], [`kind`]), the config file ([`file`]), how a setting is
//! resolved from flag, environment, file and default ([`settings`]), secrets that never
//! show themselves ([`secret`]), time limits ([`timeout`]) and where files live
//! ([`paths`]).
//!
//! May use `error` and `store` (the config file is written atomically under a lock);
//! never `net`.

pub mod file;
mod keys;
mod kind;
pub mod paths;
pub mod secret;
pub mod settings;
pub mod timeout;

pub use file::ConfigFile;
pub use keys::{key_names, key_spec, Key, KeySpec, DEFAULT_BASE_URL, DEFAULT_MODEL, KEYS};
pub use kind::Kind;
