//! Shared pieces of the loopback tests: a test handler that answers a few wire messages
//! (fast, slow, chunked, failing), a private CA minted with rcgen, and helpers that start
//! servers and clients on 127.0.0.1 ephemeral ports only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tandem_transport::{
    response_stream, BoxFuture, Identity, MemoryPinStore, PeerInfo, RequestHandler, Response,
    TransportClient, TransportConfig, TransportServer, Trust,
};
use tandem_wire::{
    negotiate_version, Ack, ErrorKind, FileChunk, HandshakeAck, IndexList, IndexState,
    IndexSummary, Message, NodeIdentity, RemoteError, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN,
};

/// Snapshot pin that makes the handler sleep: the "slow shard".
pub(crate) const SLOW_PIN: u64 = 1;
/// Snapshot pin that makes the handler panic (a bug on the leader).
pub(crate) const PANIC_PIN: u64 = 2;
/// Snapshot pin that takes a tenth of a second.
pub(crate) const BRIEF_PIN: u64 = 3;
/// Binds of a restarted server's port before giving up (10 ms apart).
const BIND_ATTEMPTS_MAX: u32 = 100;
/// How long the slow request takes.
pub(crate) const SLOW_MS: u64 = 1_500;
/// File name whose chunked answer fails after its first chunk.
pub(crate) const FAILING_FILE: &str = "failing.bin";

pub(crate) fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Fast test settings: short timeouts and backoff.
pub(crate) fn test_config() -> TransportConfig {
    TransportConfig {
        idle_timeout_ms: 5_000,
        keep_alive_interval_ms: 1_000,
        connect_timeout_ms: 2_000,
        request_read_ms_max: 2_000,
        backoff_initial_ms: 10,
        backoff_max_ms: 100,
        ..TransportConfig::default()
    }
}

pub(crate) fn node_identity(name: &str) -> NodeIdentity {
    NodeIdentity {
        cluster_name: "test-cluster".into(),
        cluster_uuid: "cluster-uuid".into(),
        node_id: format!("{name}-id"),
        node_name: name.into(),
        is_follower_node: false,
    }
}

/// The byte at `offset` of the test "file".
pub(crate) fn file_byte(offset: u64) -> u8 {
    (offset % 251) as u8
}

/// Answers requests and records what it saw.
#[derive(Default)]
pub(crate) struct TestHandler {
    pub(crate) served: AtomicUsize,
    pub(crate) last_dn: Mutex<Option<String>>,
    in_flight: AtomicUsize,
    pub(crate) in_flight_max: AtomicUsize,
}

impl RequestHandler for TestHandler {
    fn handle<'a>(&'a self, peer: PeerInfo, request: Message) -> BoxFuture<'a, Response> {
        Box::pin(async move {
            self.served.fetch_add(1, Ordering::SeqCst);
            *self.last_dn.lock() = peer.subject_dn.clone();
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.in_flight_max.fetch_max(now, Ordering::SeqCst);
            let response = answer(request).await;
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            response
        })
    }
}

async fn answer(request: Message) -> Response {
    match request {
        Message::Handshake(hello) => {
            match negotiate_version(&hello, PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX) {
                Ok(protocol_version) => Response::Message(Message::HandshakeAck(HandshakeAck {
                    protocol_version,
                    identity: node_identity("leader"),
                })),
                Err(error) => Response::Message(Message::Error(error)),
            }
        }
        Message::ListIndicesRequest(list) => Response::Message(Message::IndexList(IndexList {
            indices: vec![IndexSummary {
                name: list.pattern.replace('*', "-1"),
                uuid: "index-uuid".into(),
                state: IndexState::Open,
                is_follower_index: false,
                is_hidden: false,
            }],
        })),
        Message::SnapshotRelease(release) => {
            assert_ne!(release.pin_id, PANIC_PIN, "test handler panics on purpose");
            if release.pin_id == BRIEF_PIN {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if release.pin_id == SLOW_PIN {
                tokio::time::sleep(Duration::from_millis(SLOW_MS)).await;
            }
            Response::Message(Message::Ack(Ack))
        }
        Message::RetentionLease(lease) => Response::Message(Message::Error(
            RemoteError::retention_lease_not_found(&lease.lease_id),
        )),
        Message::FileChunkRequest(request) => {
            let (sender, response) = response_stream();
            tokio::spawn(async move {
                let end = request.offset + request.length;
                let mut offset = request.offset;
                while offset < end {
                    let len = (end - offset).min(u64::from(request.chunk_bytes_max));
                    let data: Bytes = (offset..offset + len)
                        .map(file_byte)
                        .collect::<Vec<u8>>()
                        .into();
                    if sender
                        .send(Message::FileChunk(FileChunk::new(offset, data)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    offset += len;
                    if request.file_name == FAILING_FILE {
                        let error = RemoteError::new(ErrorKind::Internal, "disk read failed");
                        let _ = sender.send(Message::Error(error)).await;
                        return;
                    }
                }
            });
            response
        }
        other => Response::Message(Message::Error(RemoteError::new(
            ErrorKind::InvalidRequest,
            format!("test handler does not serve {}", other.kind()),
        ))),
    }
}

pub(crate) struct Server {
    pub(crate) server: TransportServer,
    pub(crate) addr: SocketAddr,
    pub(crate) handler: Arc<TestHandler>,
}

impl Server {
    pub(crate) fn seed(&self) -> String {
        self.addr.to_string()
    }
}

pub(crate) fn start_server(identity: &Identity, trust: Trust) -> Server {
    start_server_on(identity, trust, loopback())
}

pub(crate) fn start_server_on(identity: &Identity, trust: Trust, addr: SocketAddr) -> Server {
    start_server_with(identity, trust, addr, test_config())
}

pub(crate) fn start_server_with(
    identity: &Identity,
    trust: Trust,
    addr: SocketAddr,
    config: TransportConfig,
) -> Server {
    let handler = Arc::new(TestHandler::default());
    let (server, addr) =
        TransportServer::bind(config, identity, trust, handler.clone(), addr).expect("bind server");
    Server {
        server,
        addr,
        handler,
    }
}

/// Starts a server on the port of one that just shut down: quinn's driver task may need a
/// moment to close the old socket, so binding is retried while the runtime keeps running.
pub(crate) async fn restart_server_on(
    identity: &Identity,
    trust: Trust,
    addr: SocketAddr,
) -> Server {
    let handler = Arc::new(TestHandler::default());
    for _ in 0..BIND_ATTEMPTS_MAX {
        let bound = TransportServer::bind(
            test_config(),
            identity,
            trust.clone(),
            handler.clone(),
            addr,
        );
        if let Ok((server, addr)) = bound {
            return Server {
                server,
                addr,
                handler,
            };
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("port {addr} still busy after {BIND_ATTEMPTS_MAX} attempts");
}

pub(crate) fn start_client(
    identity: &Identity,
    trust: Trust,
) -> (TransportClient, Arc<MemoryPinStore>) {
    start_client_with(identity, trust, test_config())
}

pub(crate) fn start_client_with(
    identity: &Identity,
    trust: Trust,
    config: TransportConfig,
) -> (TransportClient, Arc<MemoryPinStore>) {
    let pins = Arc::new(MemoryPinStore::default());
    let client =
        TransportClient::new(config, identity, trust, pins.clone(), loopback()).expect("client");
    client.set_jitter_seed(7);
    (client, pins)
}

/// A private CA for mutual TLS tests.
pub(crate) struct TestCa {
    params: rcgen::CertificateParams,
    key: rcgen::KeyPair,
    pub(crate) cert_der: rustls_pki_types::CertificateDer<'static>,
}

impl TestCa {
    pub(crate) fn new(name: &str) -> Self {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        let key = rcgen::KeyPair::generate().expect("ca key");
        let cert = params.self_signed(&key).expect("ca cert");
        Self {
            cert_der: cert.der().clone(),
            params,
            key,
        }
    }

    /// A node identity signed by this CA; `dn` is given most general first (C, O, OU, CN).
    pub(crate) fn issue(&self, dn: &[(rcgen::DnType, &str)], with_loopback_san: bool) -> Identity {
        let names = if with_loopback_san {
            vec!["127.0.0.1".to_owned()]
        } else {
            vec!["node.invalid".to_owned()]
        };
        let mut params = rcgen::CertificateParams::new(names).expect("leaf params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (kind, value) in dn {
            params.distinguished_name.push(kind.clone(), *value);
        }
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = rcgen::KeyPair::generate().expect("leaf key");
        let issuer = rcgen::Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).expect("leaf cert");
        let memory = std::path::Path::new("<memory>");
        Identity::from_pem(
            cert.pem().as_bytes(),
            key.serialize_pem().as_bytes(),
            memory,
            memory,
        )
        .expect("identity")
    }

    pub(crate) fn trust(&self, nodes_dn: &[&str]) -> Trust {
        let patterns: Vec<String> = nodes_dn.iter().map(|p| p.to_string()).collect();
        Trust::Ca(
            tandem_transport::CaTrust::new(vec![self.cert_der.clone()], &patterns)
                .expect("ca trust"),
        )
    }
}
