//! The seam between the server and the node: [`RequestHandler`] receives one decoded request
//! with the [`PeerInfo`] of the authenticated connection and gives back a [`Response`], either
//! one message or a bounded stream of messages (file chunks).
//!
//! This module owns the shape of an answer. It must never write to a stream: the server writes
//! what the handler gives, sets the MORE flag on every streamed frame but the last, and stops at
//! the first frame of a kind that is not streamed (an error ends a chunked answer).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use tandem_wire::{EncodedFrame, Message};
use tokio::sync::mpsc;

use crate::config::RESPONSE_CHANNEL_FRAMES_MAX;
use crate::identity::Fingerprint;

/// A boxed, sendable future (what a handler returns, since async trait methods are not
/// object safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who sent a request, as established by the handshake and admission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The peer's UDP address.
    pub remote_addr: SocketAddr,
    /// Fingerprint of the peer's certificate (mutual TLS only).
    pub fingerprint: Option<Fingerprint>,
    /// The peer's certificate subject DN, OpenSearch-formatted (mutual TLS only).
    pub subject_dn: Option<String>,
    /// The negotiated ALPN (always ours on an admitted connection).
    pub alpn: Vec<u8>,
    /// Identifies the connection in logs: quinn's stable id.
    pub connection_id: u64,
}

/// What a handler answers.
#[derive(Debug)]
pub enum Response {
    /// One message: the request's success answer or a [`Message::Error`].
    Message(Message),
    /// One frame encoded by the handler (e.g. a changes answer whose operation bytes are
    /// shared with the translog, not copied).
    Frame(EncodedFrame),
    /// Several messages from [`response_stream`]; the answer ends when the sender is dropped.
    Stream(mpsc::Receiver<Message>),
}

/// Sends the messages of a streamed answer. Each `send` waits while the network is behind
/// (the channel holds [`RESPONSE_CHANNEL_FRAMES_MAX`] messages), so a slow follower slows its
/// own file copy and nothing else.
#[derive(Debug, Clone)]
pub struct ResponseSender {
    sender: mpsc::Sender<Message>,
}

/// The requester is gone (stream reset, connection lost, server shut down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("response stream closed by the transport")]
pub struct ResponseClosed;

impl ResponseSender {
    /// Queues the next message of the answer.
    pub async fn send(&self, message: Message) -> Result<(), ResponseClosed> {
        self.sender.send(message).await.map_err(|_| ResponseClosed)
    }
}

/// A streamed answer: feed the sender from a task, return the [`Response`] to the server.
pub fn response_stream() -> (ResponseSender, Response) {
    let (sender, receiver) = mpsc::channel(RESPONSE_CHANNEL_FRAMES_MAX);
    (ResponseSender { sender }, Response::Stream(receiver))
}

/// Serves requests. One call per request, each on its own task, so a slow call (a long poll)
/// never delays another. Implementations must answer within the configured handler time.
pub trait RequestHandler: Send + Sync + 'static {
    /// Answers `request` from `peer`.
    fn handle<'a>(&'a self, peer: PeerInfo, request: Message) -> BoxFuture<'a, Response>;
}
