//! Requests over real QUIC on loopback: round trips, concurrency (a slow request never blocks
//! others), chunked answers, timeouts, malformed requests, seeds, reconnects.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tandem_transport::{Identity, TransportError, Trust};
use tandem_wire::{
    decode_response, Ack, ChunkProgress, ChunkSequence, ErrorKind, FileChunk, FileChunkRequest,
    FrameFlags, Handshake, HandshakeAck, IndexList, LeaseAction, ListIndicesRequest, Message,
    MessageKind, RetentionLeaseRequest, ShardTarget, SnapshotRelease, WireMessage,
};

use crate::support::*;

const TIMEOUT: Duration = Duration::from_secs(5);

fn lease_request() -> Message {
    Message::RetentionLease(RetentionLeaseRequest {
        shard: ShardTarget {
            index_uuid: "uuid".into(),
            shard_id: 0,
        },
        lease_id: "lease-1".into(),
        action: LeaseAction::Remove,
    })
}

#[tokio::test]
async fn several_messages_round_trip() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");

    let hello = Handshake::new(node_identity("follower"));
    let frame = remote
        .request(&Message::Handshake(hello.clone()), TIMEOUT)
        .await
        .expect("handshake");
    let ack = decode_response::<HandshakeAck>(&frame)
        .expect("decodes")
        .expect("success");
    assert!(ack.is_answer_to(&hello));
    assert_eq!(ack.identity.node_name, "leader");

    let list = Message::ListIndicesRequest(ListIndicesRequest {
        pattern: "logs*".into(),
    });
    let frame = remote.request(&list, TIMEOUT).await.expect("list");
    let indices = decode_response::<IndexList>(&frame)
        .expect("decodes")
        .expect("success");
    assert_eq!(indices.indices[0].name, "logs-1");

    let release = Message::SnapshotRelease(SnapshotRelease { pin_id: 9 });
    let frame = remote.request(&release, TIMEOUT).await.expect("release");
    assert_eq!(decode_response::<Ack>(&frame).expect("decodes"), Ok(Ack));
    assert_eq!(remote.call::<Ack>(&release, TIMEOUT).await, Ok(Ok(Ack)));

    // A typed error answer is a successful exchange carrying the peer's error.
    let frame = remote
        .request(&lease_request(), TIMEOUT)
        .await
        .expect("lease");
    let error = decode_response::<Ack>(&frame)
        .expect("decodes")
        .expect_err("remote error");
    assert_eq!(error.kind, ErrorKind::RetentionLeaseNotFound);
    assert_eq!(server.handler.served.load(Ordering::SeqCst), 5);
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_slow_request_never_blocks_the_others() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");

    let slow_remote = remote.clone();
    let slow = tokio::spawn(async move {
        let release = Message::SnapshotRelease(SnapshotRelease { pin_id: SLOW_PIN });
        slow_remote.request(&release, TIMEOUT).await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let mut fast = Vec::new();
    for pin_id in 10..42 {
        let remote = remote.clone();
        fast.push(tokio::spawn(async move {
            let release = Message::SnapshotRelease(SnapshotRelease { pin_id });
            remote.request(&release, TIMEOUT).await
        }));
    }
    for task in fast {
        let frame = task.await.expect("task").expect("fast request");
        assert_eq!(frame.kind, MessageKind::Ack);
    }
    let fast_elapsed = started.elapsed();
    assert!(
        !slow.is_finished(),
        "the slow request should still be running"
    );
    assert!(
        fast_elapsed < Duration::from_millis(SLOW_MS),
        "fast requests took {fast_elapsed:?}"
    );
    let frame = slow.await.expect("task").expect("slow request");
    assert_eq!(frame.kind, MessageKind::Ack);
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn chunked_answers_stream_in_order_with_more_flags() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");

    let request = FileChunkRequest {
        pin_id: 3,
        file_name: "segment.bin".into(),
        offset: 100,
        length: 10_000,
        chunk_bytes_max: 3_000,
    };
    let mut sequence = ChunkSequence::new(&request, 1_000_000);
    let mut frames = remote
        .request_stream(&Message::FileChunkRequest(request), TIMEOUT)
        .await
        .expect("stream");
    let mut received = Vec::new();
    let mut flags = Vec::new();
    while let Some(frame) = frames.next().await {
        let frame = frame.expect("chunk frame");
        let chunk = FileChunk::decode_frame(&frame).expect("file chunk");
        flags.push(frame.flags.contains(FrameFlags::MORE));
        let progress = sequence.accept(&chunk, frame.flags).expect("in order");
        received.extend_from_slice(&chunk.data);
        if progress == ChunkProgress::Done {
            assert!(frames.next().await.is_none());
            break;
        }
    }
    assert_eq!(flags, vec![true, true, true, false]);
    assert!(sequence.is_done());
    let expected: Vec<u8> = (100..10_100).map(file_byte).collect();
    assert_eq!(received, expected);
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn an_error_ends_a_chunked_answer() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let request = FileChunkRequest {
        pin_id: 3,
        file_name: FAILING_FILE.into(),
        offset: 0,
        length: 10_000,
        chunk_bytes_max: 1_000,
    };
    let mut frames = remote
        .request_stream(&Message::FileChunkRequest(request), TIMEOUT)
        .await
        .expect("stream");
    let first = frames.next().await.expect("first").expect("chunk");
    assert_eq!(
        (first.kind, first.flags.contains(FrameFlags::MORE)),
        (MessageKind::FileChunk, true)
    );
    let last = frames.next().await.expect("second").expect("error frame");
    assert_eq!(
        (last.kind, last.flags),
        (MessageKind::Error, FrameFlags::NONE)
    );
    assert!(frames.next().await.is_none());
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_timed_out_request_is_retryable_and_the_connection_survives() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let slow = Message::SnapshotRelease(SnapshotRelease { pin_id: SLOW_PIN });
    let error = remote
        .request(&slow, Duration::from_millis(100))
        .await
        .expect_err("times out");
    assert!(matches!(error, TransportError::TimedOut { .. }), "{error}");
    assert!(error.is_retryable());
    let fast = Message::SnapshotRelease(SnapshotRelease { pin_id: 5 });
    remote
        .request(&fast, TIMEOUT)
        .await
        .expect("connection still usable");
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn seeds_are_tried_in_order_and_one_connection_serves_an_alias() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    // A port with nothing behind it: bind, note, close.
    let dead = std::net::UdpSocket::bind(loopback())
        .expect("bind")
        .local_addr()
        .expect("addr");
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let seeds = vec!["not-a-seed".to_owned(), dead.to_string(), server.seed()];
    let remote = client
        .connect_alias("leader", seeds.clone())
        .await
        .expect("third seed answers");
    let again = client
        .connect_alias("leader", seeds)
        .await
        .expect("same alias");
    assert!(std::sync::Arc::ptr_eq(&remote, &again));
    assert_eq!(remote.peer_fingerprint(), Some(identity.fingerprint()));
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn a_lost_leader_is_retryable_and_reconnected_after_it_returns() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let addr = server.addr;
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let release = Message::SnapshotRelease(SnapshotRelease { pin_id: 5 });
    remote
        .request(&release, TIMEOUT)
        .await
        .expect("first request");
    server.server.shutdown().await;

    let error = remote
        .request(&release, Duration::from_millis(500))
        .await
        .expect_err("leader gone");
    assert!(error.is_retryable(), "{error}");

    let restarted = restart_server_on(&identity, Trust::Pinned, addr).await;
    let mut answered = false;
    for _ in 0..50 {
        if remote
            .request(&release, Duration::from_millis(500))
            .await
            .is_ok()
        {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(answered, "reconnected to the restarted leader");
    client.shutdown().await;
    restarted.server.shutdown().await;
}

#[tokio::test]
async fn a_panicking_handler_resets_its_stream_only() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let panics = Message::SnapshotRelease(SnapshotRelease { pin_id: PANIC_PIN });
    let error = remote
        .request(&panics, TIMEOUT)
        .await
        .expect_err("handler panicked");
    assert!(
        matches!(error, TransportError::StreamReset { .. }),
        "{error}"
    );
    assert!(error.is_retryable());
    let fine = Message::SnapshotRelease(SnapshotRelease { pin_id: 5 });
    remote
        .request(&fine, TIMEOUT)
        .await
        .expect("connection still serves");
    client.shutdown().await;
    server.server.shutdown().await;
}

#[tokio::test]
async fn server_shutdown_fails_in_flight_requests_as_retryable() {
    let identity = Identity::generate("leader").expect("identity");
    let server = start_server(&identity, Trust::Pinned);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let in_flight = tokio::spawn(async move {
        let slow = Message::SnapshotRelease(SnapshotRelease { pin_id: SLOW_PIN });
        remote.request(&slow, TIMEOUT).await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.server.shutdown().await;
    let error = in_flight
        .await
        .expect("task")
        .expect_err("server went away");
    assert!(error.is_retryable(), "{error}");
    client.shutdown().await;
}

#[tokio::test]
async fn the_stream_limit_queues_requests_instead_of_failing_them() {
    let identity = Identity::generate("leader").expect("identity");
    let limited = tandem_transport::TransportConfig {
        concurrent_streams_max: 4,
        ..test_config()
    };
    let server = start_server_with(&identity, Trust::Pinned, loopback(), limited);
    let (client, _pins) = start_client(&Identity::generate("follower").expect("id"), Trust::Pinned);
    let remote = client
        .connect_alias("leader", vec![server.seed()])
        .await
        .expect("connect");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let remote = remote.clone();
        tasks.push(tokio::spawn(async move {
            let brief = Message::SnapshotRelease(SnapshotRelease { pin_id: BRIEF_PIN });
            remote.request(&brief, TIMEOUT).await
        }));
    }
    for task in tasks {
        task.await.expect("task").expect("queued request answered");
    }
    let in_flight_max = server.handler.in_flight_max.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&in_flight_max),
        "{in_flight_max} handlers ran at once"
    );
    client.shutdown().await;
    server.server.shutdown().await;
}
