//! The transport's errors, one enum per failure domain: [`ConfigError`] (settings),
//! [`IdentityError`] (certificates, keys, patterns), [`SetupError`] (starting an endpoint) and
//! [`TransportError`] (a request or a connection at run time), plus the QUIC application
//! error codes we close connections and streams with ([`codes`]).
//!
//! This module owns classification: which failures are retryable (the peer may come back) and
//! which are fatal (retrying cannot help: wrong certificate, peer not allowed, protocol
//! mismatch). It must never log or retry anything itself.

use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

use crate::identity::Fingerprint;

/// QUIC application error codes of this protocol (connection closes and stream resets).
pub mod codes {
    use quinn::VarInt;

    /// Orderly close (shutdown, client dropped).
    pub const CLOSED: VarInt = VarInt::from_u32(0x00);
    /// The request on this stream was malformed (stream reset / stop code).
    pub const STREAM_PROTOCOL_ERROR: VarInt = VarInt::from_u32(0x01);
    /// The handler failed or overran its time; the stream is abandoned.
    pub const STREAM_HANDLER_FAILED: VarInt = VarInt::from_u32(0x02);
    /// The client gave up on the request (timeout, dropped receiver).
    pub const STREAM_CANCELLED: VarInt = VarInt::from_u32(0x03);
    /// The server is shutting down.
    pub const SERVER_SHUTDOWN: VarInt = VarInt::from_u32(0x04);
    /// The server serves no more connections now.
    pub const SERVER_BUSY: VarInt = VarInt::from_u32(0x05);
    /// The peer's certificate DN matches no `plugins.security.nodes_dn` pattern.
    pub const PEER_NOT_ALLOWED: VarInt = VarInt::from_u32(0x10);
    /// An unauthenticated peer (demo mode) connected from outside loopback.
    pub const UNAUTHENTICATED_REMOTE: VarInt = VarInt::from_u32(0x11);
    /// The client found a certificate other than the pinned one.
    pub const PIN_MISMATCH: VarInt = VarInt::from_u32(0x12);
    /// The peer negotiated no ALPN or another one.
    pub const ALPN_MISMATCH: VarInt = VarInt::from_u32(0x13);
}

/// A setting outside its bounds or breaking a relation with another.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// A value outside `min..=max`.
    #[error("transport setting {name} = {value} is outside {min}..={max}")]
    OutOfRange {
        /// The setting.
        name: &'static str,
        /// The value given.
        value: u64,
        /// Lowest value allowed.
        min: u64,
        /// Highest value allowed.
        max: u64,
    },
    /// Keep-alives too rare to keep the connection from idling out.
    #[error(
        "keep-alive interval {keep_alive_interval_ms} ms must be non-zero and fit at least \
         {keep_alives_min} times in the idle timeout of {idle_timeout_ms} ms"
    )]
    KeepAliveTooSlow {
        /// The keep-alive interval.
        keep_alive_interval_ms: u64,
        /// The idle timeout.
        idle_timeout_ms: u64,
        /// Keep-alives required per idle timeout.
        keep_alives_min: u64,
    },
    /// Not `cubic` or `bbr`.
    #[error("unknown congestion controller [{value}], expected cubic or bbr")]
    UnknownCongestionController {
        /// The value given.
        value: String,
    },
}

/// Certificates, keys and DN patterns that cannot be read, written or used.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A PEM file holds nothing usable.
    #[error("invalid pem in {path}: {reason}")]
    Pem {
        /// The file (or `<memory>`).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Exactly one of the generated certificate and key exists: refusing to guess.
    #[error(
        "{present} exists but {missing} does not; remove the certificate folder to generate a \
         new identity (followers that pinned the old one will refuse it)"
    )]
    HalfIdentity {
        /// The file found.
        present: PathBuf,
        /// The file missing.
        missing: PathBuf,
    },
    /// Generating a certificate failed.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A certificate could not be parsed as X.509.
    #[error("cannot parse certificate: {reason}")]
    Certificate {
        /// What is wrong.
        reason: String,
    },
    /// A `nodes_dn` pattern is not a valid regular expression.
    #[error("invalid nodes_dn pattern [{pattern}]: {reason}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        reason: String,
    },
    /// Mutual TLS needs at least one trusted CA.
    #[error("no trusted ca certificate in {path}")]
    NoTrustedCa {
        /// The file.
        path: PathBuf,
    },
    /// rustls refused the certificate, key or roots.
    #[error("tls configuration refused: {0}")]
    Tls(#[from] rustls::Error),
    /// rustls refused to build a WebPKI verifier.
    #[error("cannot build certificate verifier: {0}")]
    Verifier(String),
}

/// An endpoint that could not start.
#[derive(Debug, Error)]
pub enum SetupError {
    /// Bad settings.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad identity or trust material.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The UDP socket could not be bound or used.
    #[error("cannot bind transport socket {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The rustls config has no cipher suite QUIC can start with.
    #[error("tls configuration unusable for quic: {0}")]
    Quic(String),
}

/// Why a request or connection failed. [`TransportError::is_retryable`] splits the variants.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    /// No answer within the time given.
    #[error("request to [{alias}] timed out after {timeout_ms} ms")]
    TimedOut {
        /// The remote alias.
        alias: String,
        /// The timeout.
        timeout_ms: u64,
    },
    /// The connection broke or closed (idle timeout, reset, peer shutdown).
    #[error("connection to [{alias}] lost: {reason}")]
    ConnectionLost {
        /// The remote alias.
        alias: String,
        /// What quinn said.
        reason: String,
    },
    /// No seed could be reached.
    #[error("cannot connect to [{alias}]: {reason}")]
    Unreachable {
        /// The remote alias.
        alias: String,
        /// What happened with the last seed tried.
        reason: String,
    },
    /// The peer reset or stopped the stream of this request.
    #[error("request to [{alias}] reset by the peer with code {code}")]
    StreamReset {
        /// The remote alias.
        alias: String,
        /// The application error code.
        code: u64,
    },
    /// The server presented a certificate other than the one pinned for this alias.
    #[error(
        "certificate of [{alias}] changed: pinned {expected}, found {found}; if the leader was \
         re-created on purpose, remove and re-add the remote alias to pin the new certificate"
    )]
    PinMismatch {
        /// The remote alias.
        alias: String,
        /// The pinned fingerprint.
        expected: Fingerprint,
        /// The fingerprint presented.
        found: Fingerprint,
    },
    /// The peer refused us or we refused the peer (DN not allowed, unauthenticated remote).
    #[error("peer [{alias}] not allowed: {reason}")]
    NotAllowed {
        /// The remote alias.
        alias: String,
        /// Why.
        reason: String,
    },
    /// The TLS handshake failed (unknown CA, missing client certificate, bad signature).
    #[error("tls handshake with [{alias}] failed: {reason}")]
    Tls {
        /// The remote alias.
        alias: String,
        /// What TLS said.
        reason: String,
    },
    /// The peer does not speak our ALPN.
    #[error("peer [{alias}] does not speak {expected}")]
    AlpnMismatch {
        /// The remote alias.
        alias: String,
        /// Our ALPN, as text.
        expected: String,
    },
    /// The peer sent bytes that break the protocol, or we could not encode a request.
    #[error("protocol error with [{alias}]: {reason}")]
    Protocol {
        /// The remote alias.
        alias: String,
        /// The wire error.
        reason: String,
    },
    /// The client was shut down.
    #[error("transport client is shut down")]
    Shutdown,
}

impl TransportError {
    /// Whether trying again later may succeed. Fatal errors need an operator (a certificate,
    /// an allowlist, a version) and should pause replication with the reason.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::TimedOut { .. }
            | TransportError::ConnectionLost { .. }
            | TransportError::Unreachable { .. }
            | TransportError::StreamReset { .. } => true,
            TransportError::PinMismatch { .. }
            | TransportError::NotAllowed { .. }
            | TransportError::Tls { .. }
            | TransportError::AlpnMismatch { .. }
            | TransportError::Protocol { .. }
            | TransportError::Shutdown => false,
        }
    }
}

/// TLS alert `no_application_protocol` (RFC 7301), as a QUIC crypto error code.
const ALERT_NO_APPLICATION_PROTOCOL: u8 = 120;
/// QUIC carries TLS alerts as transport error codes `0x100 + alert`.
const CRYPTO_ERROR_CODES: std::ops::RangeInclusive<u64> = 0x100..=0x1ff;

/// Classifies why a connection ended, from the client's point of view.
pub(crate) fn from_connection_error(alias: &str, error: &quinn::ConnectionError) -> TransportError {
    use quinn::ConnectionError as E;
    let alias = alias.to_owned();
    match error {
        E::TransportError(transport) => {
            classify_transport_code(alias, u64::from(transport.code), transport.to_string())
        }
        E::ConnectionClosed(close) => {
            classify_transport_code(alias, u64::from(close.error_code), close.to_string())
        }
        E::ApplicationClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            match close.error_code {
                code if code == codes::PEER_NOT_ALLOWED
                    || code == codes::UNAUTHENTICATED_REMOTE =>
                {
                    TransportError::NotAllowed { alias, reason }
                }
                code if code == codes::ALPN_MISMATCH => TransportError::AlpnMismatch {
                    alias,
                    expected: String::from_utf8_lossy(crate::tls::ALPN).into_owned(),
                },
                code => TransportError::ConnectionLost {
                    alias,
                    reason: format!("closed by peer with code {code}: {reason}"),
                },
            }
        }
        E::VersionMismatch => TransportError::Protocol {
            alias,
            reason: "peer speaks no supported quic version".to_owned(),
        },
        E::TimedOut => TransportError::ConnectionLost {
            alias,
            reason: "idle timeout".to_owned(),
        },
        E::Reset | E::LocallyClosed | E::CidsExhausted => TransportError::ConnectionLost {
            alias,
            reason: error.to_string(),
        },
    }
}

fn classify_transport_code(alias: String, code: u64, reason: String) -> TransportError {
    if code == 0x100 + u64::from(ALERT_NO_APPLICATION_PROTOCOL) {
        return TransportError::AlpnMismatch {
            alias,
            expected: String::from_utf8_lossy(crate::tls::ALPN).into_owned(),
        };
    }
    if CRYPTO_ERROR_CODES.contains(&code) {
        return TransportError::Tls { alias, reason };
    }
    // CONNECTION_REFUSED and friends: the server may take us later.
    TransportError::ConnectionLost { alias, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_and_fatal_are_separate() {
        let alias = "leader".to_owned();
        let retryable = [
            TransportError::TimedOut {
                alias: alias.clone(),
                timeout_ms: 1,
            },
            TransportError::ConnectionLost {
                alias: alias.clone(),
                reason: "idle".into(),
            },
            TransportError::Unreachable {
                alias: alias.clone(),
                reason: "refused".into(),
            },
            TransportError::StreamReset {
                alias: alias.clone(),
                code: 2,
            },
        ];
        assert!(retryable.iter().all(TransportError::is_retryable));
        let fatal = [
            TransportError::PinMismatch {
                alias: alias.clone(),
                expected: Fingerprint::of(b"a"),
                found: Fingerprint::of(b"b"),
            },
            TransportError::NotAllowed {
                alias: alias.clone(),
                reason: "dn".into(),
            },
            TransportError::Tls {
                alias: alias.clone(),
                reason: "unknown ca".into(),
            },
            TransportError::AlpnMismatch {
                alias: alias.clone(),
                expected: "x".into(),
            },
            TransportError::Protocol {
                alias,
                reason: "bad magic".into(),
            },
        ];
        assert!(fatal.iter().all(|error| !error.is_retryable()));
    }

    #[test]
    fn pin_mismatch_names_alias_and_both_fingerprints() {
        let expected = Fingerprint::of(b"old");
        let found = Fingerprint::of(b"new");
        let message = TransportError::PinMismatch {
            alias: "eu-leader".into(),
            expected,
            found,
        }
        .to_string();
        assert!(message.contains("eu-leader"), "{message}");
        assert!(message.contains(&expected.to_string()), "{message}");
        assert!(message.contains(&found.to_string()), "{message}");
    }
}
