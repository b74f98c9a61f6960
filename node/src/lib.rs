//! tandem-node: the server (work in progress).
