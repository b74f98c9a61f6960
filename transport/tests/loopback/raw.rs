//! Tests that speak QUIC directly with quinn (below `TransportClient`) to send what an honest
//! client never would: malformed frames, answer kinds, trailing bytes, a foreign ALPN.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use quinn::crypto::rustls::QuicClientConfig;
use tandem_transport::tls::client_tls_config;
use tandem_transport::{Identity, Trust};
use tandem_wire::{
    decode_response, Ack, ErrorKind, Frame, FrameDecoder, Message, SnapshotRelease,
    FRAME_BODY_BYTES_MAX,
};

use crate::support::*;

async fn raw_connection(
    server: &Server,
    alpn: &[u8],
) -> Result<(quinn::Endpoint, quinn::Connection), quinn::ConnectionError> {
    let identity = Identity::generate("raw").expect("identity");
    let mut tls = client_tls_config(&identity, &Trust::Pinned).expect("tls");
    tls.alpn_protocols = vec![alpn.to_vec()];
    let crypto = QuicClientConfig::try_from(tls).expect("quic tls");
    let mut endpoint = quinn::Endpoint::client(loopback()).expect("client endpoint");
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    let connection = endpoint
        .connect(server.addr, "localhost")
        .expect("connect")
        .await?;
    Ok((endpoint, connection))
}

/// Sends `bytes` on a new stream and reads the one answer frame, or the reset code.
async fn exchange(connection: &quinn::Connection, bytes: &[u8]) -> Result<Frame, String> {
    let (mut send, mut recv) = connection.open_bi().await.map_err(|e| e.to_string())?;
    send.write_all(bytes).await.map_err(|e| e.to_string())?;
    send.finish().map_err(|e| e.to_string())?;
    let body = tokio::time::timeout(Duration::from_secs(5), recv.read_to_end(1 << 20))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let mut decoder = FrameDecoder::for_responses(FRAME_BODY_BYTES_MAX);
    decoder.feed(&body);
    decoder
        .decode()
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "no frame".to_owned())
}

fn valid_request() -> Bytes {
    Message::SnapshotRelease(SnapshotRelease { pin_id: 5 })
        .encode()
        .expect("encode")
        .to_bytes()
}

#[tokio::test]
async fn a_malformed_request_fails_only_its_own_stream() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (_endpoint, connection) = raw_connection(&server, tandem_transport::ALPN)
        .await
        .expect("connect");

    let mut corrupted = valid_request().to_vec();
    let last = corrupted.len() - 1;
    corrupted[last] ^= 0xff;
    let answer_kind = Message::Ack(Ack).encode().expect("encode").to_bytes();
    let mut trailing = valid_request().to_vec();
    trailing.extend_from_slice(b"extra");
    let cases: [(&str, Vec<u8>); 5] = [
        ("garbage", vec![0x42; 40]),
        ("body crc", corrupted),
        ("answer kind sent as request", answer_kind.to_vec()),
        ("trailing bytes", trailing),
        ("truncated", valid_request()[..10].to_vec()),
    ];
    for (name, bytes) in cases {
        // The server answers an `invalid_request` error frame before closing the stream.
        let frame = exchange(&connection, &bytes).await.expect(name);
        let error = decode_response::<Ack>(&frame)
            .expect("error frame")
            .expect_err(name);
        assert_eq!(error.kind, ErrorKind::InvalidRequest, "{name}");
        assert!(
            error.reason.starts_with("malformed request"),
            "{name}: {}",
            error.reason
        );
        // The connection and a fresh stream still work.
        let frame = exchange(&connection, &valid_request())
            .await
            .expect("valid request after a bad one");
        assert_eq!(
            decode_response::<Ack>(&frame).expect("ack"),
            Ok(Ack),
            "{name}"
        );
    }
    assert!(connection.close_reason().is_none());
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_foreign_alpn_fails_the_handshake() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let result = raw_connection(&server, b"h3").await;
    let error = result.expect_err("alpn refused");
    let text = error.to_string();
    assert!(
        text.contains("120") || text.to_lowercase().contains("application protocol"),
        "{text}"
    );
    assert_eq!(
        server
            .handler
            .served
            .load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    server.server.shutdown().await;
}
