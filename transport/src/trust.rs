//! Whom a node trusts, and the pure decisions that follow from it: which connections a server
//! admits ([`admit_unauthenticated`], [`admit_dn`]) and whether a client accepts the
//! certificate a leader presents ([`check_pin`]).
//!
//! Two modes, as the issue asks. With OpenSearch's transport PEM settings, [`Trust::Ca`]:
//! mutual TLS against `pemtrustedcas_filepath`, then the peer's subject DN must match
//! `plugins.security.nodes_dn`. Without them (demos), [`Trust::Pinned`]: the client pins the
//! leader's certificate fingerprint on first connect (trust on first use) and the server serves
//! unauthenticated peers on loopback only, unless `allow_unauthenticated_remote` is set. This
//! module decides; it must never touch a socket or close a connection itself.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;
use quinn::VarInt;
use rustls_pki_types::CertificateDer;

use crate::dn::NodesDn;
use crate::error::{codes, IdentityError, TransportError};
use crate::identity::{read_certificates, Fingerprint};

/// How peers are authenticated.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Demo mode: generated certificates, trust on first use by the client, loopback-only
    /// server unless configured otherwise.
    Pinned,
    /// Mutual TLS under a private CA with a DN allowlist.
    Ca(CaTrust),
}

/// Mutual TLS settings: trusted roots and `nodes_dn`.
#[derive(Debug, Clone)]
pub struct CaTrust {
    pub(crate) roots: Arc<rustls::RootCertStore>,
    pub(crate) nodes_dn: NodesDn,
    pub(crate) enforce_hostname_verification: bool,
}

impl CaTrust {
    /// Trusts `ca_certificates` and allows peers whose DN matches one of `nodes_dn`.
    /// Hostname verification of the leader is on, as OpenSearch's
    /// `plugins.security.ssl.transport.enforce_hostname_verification` default.
    pub fn new(
        ca_certificates: Vec<CertificateDer<'static>>,
        nodes_dn: &[String],
    ) -> Result<Self, IdentityError> {
        let mut roots = rustls::RootCertStore::empty();
        for certificate in ca_certificates {
            roots.add(certificate)?;
        }
        if roots.is_empty() {
            return Err(IdentityError::NoTrustedCa {
                path: "<memory>".into(),
            });
        }
        Ok(Self {
            roots: Arc::new(roots),
            nodes_dn: NodesDn::new(nodes_dn)?,
            enforce_hostname_verification: true,
        })
    }

    /// Reads `plugins.security.ssl.transport.pemtrustedcas_filepath`.
    pub fn from_pem_file(path: &Path, nodes_dn: &[String]) -> Result<Self, IdentityError> {
        let certificates = read_certificates(path)?;
        Self::new(certificates, nodes_dn).map_err(|error| match error {
            IdentityError::NoTrustedCa { .. } => IdentityError::NoTrustedCa { path: path.into() },
            other => other,
        })
    }

    /// `plugins.security.ssl.transport.enforce_hostname_verification`: whether the leader's
    /// certificate must name the seed host the follower dialled.
    pub fn with_hostname_verification(mut self, enforce: bool) -> Self {
        self.enforce_hostname_verification = enforce;
        self
    }

    /// The compiled DN allowlist.
    pub fn nodes_dn(&self) -> &NodesDn {
        &self.nodes_dn
    }
}

/// A server's verdict on a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Serve it.
    Admit,
    /// Close it with this application code and reason before reading any request.
    Refuse {
        /// Application error code.
        code: VarInt,
        /// Reason sent to the peer and logged.
        reason: String,
    },
}

/// Demo mode: an unauthenticated peer is served from loopback only, unless allowed.
pub fn admit_unauthenticated(remote: SocketAddr, allow_unauthenticated_remote: bool) -> Admission {
    // An IPv4 loopback peer reaching a dual-stack socket shows as ::ffff:127.x.y.z.
    let loopback = remote.ip().to_canonical().is_loopback();
    if loopback || allow_unauthenticated_remote {
        return Admission::Admit;
    }
    Admission::Refuse {
        code: codes::UNAUTHENTICATED_REMOTE,
        reason: format!(
            "peer {remote} is not on loopback and no transport certificates are configured; \
             configure plugins.security.ssl.transport.* or allow unauthenticated remote peers"
        ),
    }
}

/// Mutual TLS: the verified peer's DN must match `nodes_dn`.
pub fn admit_dn(dn: Option<&str>, nodes_dn: &NodesDn) -> Admission {
    match dn {
        Some(dn) if nodes_dn.matches(dn) => Admission::Admit,
        Some(dn) => Admission::Refuse {
            code: codes::PEER_NOT_ALLOWED,
            reason: format!("certificate dn [{dn}] matches no plugins.security.nodes_dn pattern"),
        },
        None => Admission::Refuse {
            code: codes::PEER_NOT_ALLOWED,
            reason: "no client certificate".to_owned(),
        },
    }
}

/// Where followers keep the leader fingerprints they pinned, per remote alias. The node
/// persists them with its remote cluster settings; removing an alias must unpin it.
pub trait PinStore: Send + Sync + 'static {
    /// The pinned fingerprint of `alias`, if any.
    fn pinned(&self, alias: &str) -> Option<Fingerprint>;
    /// Pins `fingerprint` for `alias` (first successful connect).
    fn pin(&self, alias: &str, fingerprint: Fingerprint);
    /// Forgets the pin of `alias`.
    fn unpin(&self, alias: &str);
}

/// A [`PinStore`] in memory (tests, and nodes that re-pin after every restart).
#[derive(Debug, Default)]
pub struct MemoryPinStore {
    pins: Mutex<HashMap<String, Fingerprint>>,
}

impl PinStore for MemoryPinStore {
    fn pinned(&self, alias: &str) -> Option<Fingerprint> {
        self.pins.lock().get(alias).copied()
    }

    fn pin(&self, alias: &str, fingerprint: Fingerprint) {
        self.pins.lock().insert(alias.to_owned(), fingerprint);
    }

    fn unpin(&self, alias: &str) {
        self.pins.lock().remove(alias);
    }
}

/// What [`check_pin`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// No pin existed; `found` is now pinned.
    PinnedNow,
    /// The pin matched.
    Matched,
}

/// Trust on first use: pins `found` if `alias` has no pin, accepts it if it equals the pin,
/// and fails with both fingerprints otherwise.
pub fn check_pin(
    store: &dyn PinStore,
    alias: &str,
    found: Fingerprint,
) -> Result<PinOutcome, TransportError> {
    match store.pinned(alias) {
        None => {
            store.pin(alias, found);
            Ok(PinOutcome::PinnedNow)
        }
        Some(expected) if expected == found => Ok(PinOutcome::Matched),
        Some(expected) => Err(TransportError::PinMismatch {
            alias: alias.to_owned(),
            expected,
            found,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn unauthenticated_peers_are_served_on_loopback_only() {
        for loopback in [
            "127.0.0.1:9300",
            "127.8.9.10:1",
            "[::1]:9300",
            "[::ffff:127.0.0.1]:5",
        ] {
            assert_eq!(
                admit_unauthenticated(addr(loopback), false),
                Admission::Admit,
                "{loopback}"
            );
        }
        for remote in [
            "10.0.0.7:9300",
            "192.168.1.2:1",
            "[2001:db8::1]:9300",
            "[::ffff:10.0.0.1]:1",
        ] {
            let Admission::Refuse { code, reason } = admit_unauthenticated(addr(remote), false)
            else {
                panic!("{remote} admitted");
            };
            assert_eq!(code, codes::UNAUTHENTICATED_REMOTE);
            assert!(reason.contains("not on loopback"), "{reason}");
        }
    }

    #[test]
    fn allow_unauthenticated_remote_admits_any_address() {
        assert_eq!(
            admit_unauthenticated(addr("10.0.0.7:9300"), true),
            Admission::Admit
        );
    }

    #[test]
    fn dn_admission_follows_nodes_dn() {
        let nodes_dn =
            NodesDn::new(&["CN=node-*,OU=ops,O=Example,C=US".to_owned()]).expect("valid pattern");
        assert_eq!(
            admit_dn(Some("CN=node-1,OU=ops,O=Example,C=US"), &nodes_dn),
            Admission::Admit
        );
        assert!(matches!(
            admit_dn(Some("CN=intruder,OU=ops,O=Example,C=US"), &nodes_dn),
            Admission::Refuse { code, .. } if code == codes::PEER_NOT_ALLOWED
        ));
        assert!(matches!(
            admit_dn(None, &nodes_dn),
            Admission::Refuse { .. }
        ));
    }

    #[test]
    fn first_use_pins_then_a_change_is_refused_until_unpinned() {
        let store = MemoryPinStore::default();
        let first = Fingerprint::of(b"first");
        let second = Fingerprint::of(b"second");
        assert_eq!(
            check_pin(&store, "leader", first),
            Ok(PinOutcome::PinnedNow)
        );
        assert_eq!(check_pin(&store, "leader", first), Ok(PinOutcome::Matched));
        assert_eq!(
            check_pin(&store, "leader", second),
            Err(TransportError::PinMismatch {
                alias: "leader".into(),
                expected: first,
                found: second
            })
        );
        // Another alias has its own pin.
        assert_eq!(
            check_pin(&store, "other", second),
            Ok(PinOutcome::PinnedNow)
        );
        store.unpin("leader");
        assert_eq!(
            check_pin(&store, "leader", second),
            Ok(PinOutcome::PinnedNow)
        );
    }
}
