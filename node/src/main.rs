//! The `tandem` binary (work in progress).
fn main() {}
