//! The pieces of the `steward` binary that tests and benchmarks reuse.

pub mod demo;
pub mod report;
