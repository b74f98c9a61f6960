//! Translog tests: round trips, crash recovery against a model, corruption, read_ops, trim and
//! group commit. Each uses its own temp directory.

mod corruption;
mod crash_model;
mod read_ops;
mod roundtrip;
mod support;
mod trim;
