//! Loopback integration tests of tandem-transport: real quinn endpoints on 127.0.0.1
//! ephemeral ports, one binary with modules (requests, security, raw streams).

mod link;
mod raw;
mod requests;
mod security;
mod support;
