//! Many requests at once: the concurrent engine ([`engine`]), the gate that bounds and
//! adapts its concurrency ([`gate`]), and the statistics a bulk run reports ([`stats`]).

pub mod engine;
pub mod gate;
pub mod stats;
