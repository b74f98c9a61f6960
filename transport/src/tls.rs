//! The rustls configurations of both ends: TLS 1.3 only, the ring provider, our own ALPN,
//! no 0-RTT and no session resumption, and the certificate verifiers each [`Trust`] mode needs.
//!
//! It owns the verifiers. The pinned-mode verifier checks that the leader proves possession of
//! the key in its certificate (the TLS 1.3 signature) and leaves *which* certificate is
//! acceptable to the pin check after the handshake, where the error can name the alias and
//! both fingerprints. This module must never accept a handshake signature it did not verify,
//! and must never turn on early data.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::error::IdentityError;
use crate::identity::Identity;
use crate::trust::{CaTrust, Trust};

/// Our ALPN: the replication protocol, version 1 of its framing. A peer offering anything else
/// fails the handshake with `no_application_protocol`.
pub const ALPN: &[u8] = b"tandem-ccr/1";

/// The crypto provider of every config: ring (no aws-lc, so no cmake in the build).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's rustls config for `trust`.
pub fn server_tls_config(
    identity: &Identity,
    trust: &Trust,
) -> Result<rustls::ServerConfig, IdentityError> {
    let provider = provider();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])?;
    let builder = match trust {
        Trust::Pinned => builder.with_no_client_auth(),
        // No `allow_unauthenticated()`: a client without a certificate fails the handshake.
        Trust::Ca(ca) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(ca.roots.clone(), provider)
                .build()
                .map_err(|error| IdentityError::Verifier(error.to_string()))?,
        ),
    };
    let mut config = builder.with_single_cert(identity.chain().to_vec(), identity.key())?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    // 0-RTT data can be replayed (quinn's warning); replication requests are not all
    // idempotent, so none is ever accepted. Without tickets there is no resumption either.
    config.max_early_data_size = 0;
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(config)
}

/// The client's rustls config for `trust`.
pub fn client_tls_config(
    identity: &Identity,
    trust: &Trust,
) -> Result<rustls::ClientConfig, IdentityError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .dangerous();
    let mut config = match trust {
        Trust::Pinned => builder
            .with_custom_certificate_verifier(Arc::new(PinnedServerVerifier { provider }))
            .with_no_client_auth(),
        Trust::Ca(ca) => builder
            .with_custom_certificate_verifier(Arc::new(CaServerVerifier::new(ca, provider)?))
            .with_client_auth_cert(identity.chain().to_vec(), identity.key())?,
    };
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.enable_early_data = false;
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// Demo mode: any certificate, as long as the server signs the handshake with its key. The
/// pin check after the handshake decides whether this certificate is the expected one.
#[derive(Debug)]
struct PinnedServerVerifier {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // At least refuse bytes that are not a certificate; trust is the pin's job.
        x509_parser::parse_x509_certificate(end_entity.as_ref())
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // The config allows TLS 1.3 only; a TLS 1.2 signature is never acceptable here.
        Err(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::Tls13RequiredForQuic,
        ))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Mutual TLS: WebPKI chain validation against the private CA; the host name check is
/// optional, as OpenSearch's `enforce_hostname_verification`.
#[derive(Debug)]
struct CaServerVerifier {
    inner: Arc<WebPkiServerVerifier>,
    enforce_hostname_verification: bool,
}

impl CaServerVerifier {
    fn new(ca: &CaTrust, provider: Arc<CryptoProvider>) -> Result<Self, IdentityError> {
        let inner = WebPkiServerVerifier::builder_with_provider(ca.roots.clone(), provider)
            .build()
            .map_err(|error| IdentityError::Verifier(error.to_string()))?;
        Ok(Self {
            inner,
            enforce_hostname_verification: ca.enforce_hostname_verification,
        })
    }
}

impl ServerCertVerifier for CaServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verdict {
            // WebPKI checks the chain before the name, so a name error means the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.enforce_hostname_verification => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rtt_and_resumption_are_off_on_both_sides() {
        let identity = Identity::generate("node-a").expect("generate identity");
        let server = server_tls_config(&identity, &Trust::Pinned).expect("server config");
        assert_eq!(server.max_early_data_size, 0);
        assert_eq!(server.send_tls13_tickets, 0);
        assert_eq!(server.alpn_protocols, vec![ALPN.to_vec()]);
        let client = client_tls_config(&identity, &Trust::Pinned).expect("client config");
        assert!(!client.enable_early_data);
        assert_eq!(client.alpn_protocols, vec![ALPN.to_vec()]);
    }
}
