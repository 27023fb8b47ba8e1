//! Output formats. Each module registers one `FormatterSpec`; adding a format
//! means adding a module here and its `mod` line, nothing else.

mod csv;
mod json;
mod markdown;
mod table;
mod yaml;
