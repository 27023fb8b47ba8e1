//! What a command returns ([`model`]: records, tables, listings, text) for a formatter
//! to render; tables fitted to the terminal's width ([`fit`]); dates as people read
//! them ([`dates`]).
//!
//! May use `error`; never `net`, `api` or `cli`.

pub mod dates;
pub mod fit;
pub mod model;

pub use model::{
    display, group_thousands, trimmed_decimal, Cell, Column, Field, Fit, Listing, Outcome, Output,
    Record, Table, Tone, MISSING,
};
