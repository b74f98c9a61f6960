//! Trust over real QUIC on loopback: certificate pinning in demo mode, mutual TLS with a
//! `nodes_dn` allowlist, missing or foreign client certificates, host name verification.

use std::sync::atomic::Ordering;
use std::time::Duration;

use rcgen::DnType;
use tandem_transport::{Identity, PinStore, TransportError, Trust};
use tandem_wire::{Message, MessageKind, SnapshotRelease};

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(5);

fn release() -> Message {
    Message::SnapshotRelease(SnapshotRelease { pin_id: 5 })
}

fn node_dn(cn: &'static str) -> Vec<(DnType, &'static str)> {
    vec![
        (DnType::CountryName, "US"),
        (DnType::OrganizationName, "Example"),
        (DnType::OrganizationalUnitName, "ops"),
        (DnType::CommonName, cn),
    ]
}

#[tokio::test]
async fn first_connect_pins_and_a_changed_certificate_is_refused_until_the_alias_is_removed() {
    let first_identity = Identity::generate("leader").expect("identity");
    let first = start_server(&first_identity, Trust::Pinned);
    let (client, pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![first.seed()])
        .await
        .expect("connect");
    remote.request(&release(), TIMEOUT).await.expect("request");
    assert_eq!(pins.pinned("leader"), Some(first_identity.fingerprint()));
    first.server.shutdown().await;
    // Let the client see the close, so the next connect dials instead of reusing it.
    for _ in 0..100 {
        if !remote.is_connected() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!remote.is_connected());

    // The leader comes back with a newly generated identity (its data folder was wiped).
    let second_identity = Identity::generate("leader").expect("identity");
    let second = start_server(&second_identity, Trust::Pinned);
    let error = client
        .connect_alias("leader", vec![second.seed()])
        .await
        .expect_err("changed certificate refused");
    match &error {
        TransportError::PinMismatch {
            alias,
            expected,
            found,
        } => {
            assert_eq!(alias, "leader");
            assert_eq!(*expected, first_identity.fingerprint());
            assert_eq!(*found, second_identity.fingerprint());
        }
        other => panic!("expected a pin mismatch, got {other}"),
    }
    assert!(!error.is_retryable());
    assert!(error
        .to_string()
        .contains(&first_identity.fingerprint().to_string()));
    assert_eq!(second.handler.served.load(Ordering::SeqCst), 0);

    client.remove_alias("leader");
    assert_eq!(pins.pinned("leader"), None);
    let remote = client
        .connect_alias("leader", vec![second.seed()])
        .await
        .expect("re-pinned");
    remote.request(&release(), TIMEOUT).await.expect("request");
    assert_eq!(pins.pinned("leader"), Some(second_identity.fingerprint()));
    client.shutdown().await;
    second.server.shutdown().await;
}

#[tokio::test]
async fn mutual_tls_serves_allowed_dns_and_reports_the_peer_dn() {
    let ca = TestCa::new("test root");
    let leader = ca.issue(&node_dn("leader-1"), true);
    let server = start_server(&leader, ca.trust(&["CN=node-*,OU=ops,O=Example,C=US"]));
    let follower = ca.issue(&node_dn("node-1"), true);
    let (client, _pins) = start_client(&follower, ca.trust(&["CN=*"]));
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let frame = remote.request(&release(), TIMEOUT).await.expect("request");
    assert_eq!(frame.kind, MessageKind::Ack);
    assert_eq!(
        server.handler.last_dn.lock().as_deref(),
        Some("CN=node-1,OU=ops,O=Example,C=US")
    );
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_dn_outside_nodes_dn_is_closed_before_any_request_is_served() {
    let ca = TestCa::new("test root");
    let leader = ca.issue(&node_dn("leader-1"), true);
    let server = start_server(&leader, ca.trust(&["CN=node-*,OU=ops,O=Example,C=US"]));
    let intruder = ca.issue(&node_dn("intruder"), true);
    let (client, _pins) = start_client(&intruder, ca.trust(&["CN=*"]));
    let error = match client.connect_alias("leader", vec![server.seed()]).await {
        Ok(remote) => remote
            .request(&release(), TIMEOUT)
            .await
            .expect_err("refused"),
        Err(error) => error,
    };
    assert!(
        matches!(error, TransportError::NotAllowed { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("CN=intruder"), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(server.handler.served.load(Ordering::SeqCst), 0);
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_client_without_a_certificate_fails_the_handshake() {
    let ca = TestCa::new("test root");
    let leader = ca.issue(&node_dn("leader-1"), true);
    let server = start_server(&leader, ca.trust(&["CN=*"]));
    // Demo-mode trust presents no client certificate.
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let error = match client.connect_alias("leader", vec![server.seed()]).await {
        Ok(remote) => remote
            .request(&release(), TIMEOUT)
            .await
            .expect_err("refused"),
        Err(error) => error,
    };
    assert!(matches!(error, TransportError::Tls { .. }), "{error}");
    assert!(!error.is_retryable());
    assert_eq!(server.handler.served.load(Ordering::SeqCst), 0);
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_both_ways() {
    let ca = TestCa::new("test root");
    let other_ca = TestCa::new("other root");
    let leader = ca.issue(&node_dn("leader-1"), true);
    let server = start_server(&leader, ca.trust(&["CN=*"]));
    let stranger = other_ca.issue(&node_dn("node-1"), true);
    // The stranger trusts our CA for the server, but its own certificate is foreign.
    let (client, _pins) = start_client(&stranger, ca.trust(&["CN=*"]));
    let error = match client.connect_alias("leader", vec![server.seed()]).await {
        Ok(remote) => remote
            .request(&release(), TIMEOUT)
            .await
            .expect_err("refused"),
        Err(error) => error,
    };
    assert!(matches!(error, TransportError::Tls { .. }), "{error}");
    // And a follower of our CA refuses a leader signed by another.
    let foreign_leader = other_ca.issue(&node_dn("leader-1"), true);
    let foreign = start_server(&foreign_leader, other_ca.trust(&["CN=*"]));
    let follower = ca.issue(&node_dn("node-1"), true);
    let (client2, _pins) = start_client(&follower, ca.trust(&["CN=*"]));
    let error = client2
        .connect_alias("leader", vec![foreign.seed()])
        .await
        .expect_err("unknown ca");
    assert!(matches!(error, TransportError::Tls { .. }), "{error}");
    assert_eq!(server.handler.served.load(Ordering::SeqCst), 0);
    assert_eq!(foreign.handler.served.load(Ordering::SeqCst), 0);
    client.shutdown().await;
    client2.shutdown().await;
    server.server.shutdown().await;
    foreign.server.shutdown().await;
}

#[tokio::test]
async fn hostname_verification_can_be_turned_off_as_in_opensearch() {
    let ca = TestCa::new("test root");
    // The leader's certificate does not name 127.0.0.1.
    let leader = ca.issue(&node_dn("leader-1"), false);
    let server = start_server(&leader, ca.trust(&["CN=*"]));
    let follower = ca.issue(&node_dn("node-1"), true);
    let (strict, _pins) = start_client(&follower, ca.trust(&["CN=*"]));
    let error = strict
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect_err("name mismatch");
    assert!(matches!(error, TransportError::Tls { .. }), "{error}");

    let Trust::Ca(relaxed_trust) = ca.trust(&["CN=*"]) else {
        unreachable!()
    };
    let relaxed_trust = Trust::Ca(relaxed_trust.with_hostname_verification(false));
    let (relaxed, _pins) = start_client(&follower, relaxed_trust);
    let remote = relaxed
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("chain is enough");
    remote.request(&release(), TIMEOUT).await.expect("request");
    strict.shutdown().await;
    relaxed.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_leader_restarted_from_its_data_folder_keeps_its_pin() {
    let data = tempfile::tempdir().expect("data folder");
    let certs = data.path().join("certs");
    let identity = Identity::load_or_generate(&certs, "leader").expect("generate");
    let first = start_server(&identity, Trust::Pinned);
    let addr = first.addr;
    let (client, pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![first.seed()])
        .await
        .expect("connect");
    remote.request(&release(), TIMEOUT).await.expect("request");
    first.server.shutdown().await;

    let reloaded = Identity::load_or_generate(&certs, "leader").expect("reload");
    let second = restart_server_on(&reloaded, Trust::Pinned, addr).await;
    let mut answered = false;
    for _ in 0..50 {
        if remote
            .request(&release(), Duration::from_millis(500))
            .await
            .is_ok()
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "same certificate, same pin");
    assert_eq!(pins.pinned("leader"), Some(identity.fingerprint()));
    client.shutdown().await;
    second.server.shutdown().await;
}
