//! Serving one admitted connection: accept its bidirectional streams concurrently (quinn
//! bounds how many a peer may open), and on each read exactly one request frame, call the
//! handler, write its answer and finish the stream.
//!
//! A malformed request fails its own stream only: the peer gets an `invalid_request` error
//! frame when the stream is still writable, the stream's receive side is stopped with
//! [`codes::STREAM_PROTOCOL_ERROR`], and the connection and its other streams carry on. It must
//! never panic on input, never buffer more than one request frame per stream, and never let a
//! handler run past its time limit.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tandem_wire::{EncodedFrame, FrameDecoder, FrameFlags, Message, RemoteError, WireError};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::config::{TransportConfig, RESPONSE_FRAMES_MAX};
use crate::error::codes;
use crate::handler::{PeerInfo, RequestHandler, Response};

/// Time limits of one stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServeLimits {
    request_read: Duration,
    handler: Duration,
}

impl ServeLimits {
    pub(crate) fn from_config(config: &TransportConfig) -> Self {
        Self {
            request_read: Duration::from_millis(config.request_read_ms_max),
            handler: Duration::from_millis(config.handler_ms_max),
        }
    }
}

/// Serves the streams of `connection` until it closes or the server shuts down.
pub(crate) async fn serve_connection(
    connection: quinn::Connection,
    peer: PeerInfo,
    handler: Arc<dyn RequestHandler>,
    limits: ServeLimits,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut streams = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = streams.join_next(), if !streams.is_empty() => {}
            accepted = connection.accept_bi() => match accepted {
                Ok((send, recv)) => {
                    let peer = peer.clone();
                    let handler = handler.clone();
                    streams.spawn(serve_stream(send, recv, peer, handler, limits));
                }
                Err(error) => {
                    tracing::info!(connection_id = peer.connection_id, %error, "peer disconnected");
                    break;
                }
            },
        }
    }
    streams.shutdown().await;
}

/// Why a request could not be read.
#[derive(Debug)]
enum ReadFailure {
    /// Bad bytes: answer with an error frame and stop the stream.
    Protocol(WireError),
    /// The stream or connection went away, or the peer was too slow: nothing to answer.
    Gone(String),
}

async fn serve_stream(
    send: quinn::SendStream,
    mut recv: quinn::RecvStream,
    peer: PeerInfo,
    handler: Arc<dyn RequestHandler>,
    limits: ServeLimits,
) {
    let mut answer = AnswerStream {
        send,
        settled: false,
    };
    let stream_id = answer.send.id().index();
    let connection_id = peer.connection_id;
    let read = tokio::time::timeout(limits.request_read, read_request(&mut recv)).await;
    let request = match read {
        Ok(Ok(request)) => request,
        Ok(Err(ReadFailure::Protocol(error))) => {
            tracing::warn!(connection_id, stream_id, %error, "malformed request");
            let _ = recv.stop(codes::STREAM_PROTOCOL_ERROR);
            let reply = Message::Error(RemoteError::from_protocol_error(&error));
            let written = match reply.encode() {
                Ok(frame) => write_frame(&mut answer.send, frame).await.is_ok(),
                Err(_) => false,
            };
            if written {
                answer.finish();
            } else {
                answer.reset(codes::STREAM_PROTOCOL_ERROR);
            }
            return;
        }
        Ok(Err(ReadFailure::Gone(reason))) => {
            tracing::debug!(connection_id, stream_id, reason = %reason, "request stream gone");
            answer.reset(codes::STREAM_CANCELLED);
            return;
        }
        Err(_) => {
            tracing::info!(connection_id, stream_id, "request not received in time");
            let _ = recv.stop(codes::STREAM_CANCELLED);
            answer.reset(codes::STREAM_CANCELLED);
            return;
        }
    };
    let kind = request.kind();
    let response = match tokio::time::timeout(limits.handler, handler.handle(peer, request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(connection_id, stream_id, %kind, "handler overran its time limit");
            answer.reset(codes::STREAM_HANDLER_FAILED);
            return;
        }
    };
    match write_response(&mut answer.send, response).await {
        Ok(frames) => {
            answer.finish();
            tracing::trace!(connection_id, stream_id, %kind, frames, "request served");
        }
        Err(failure) => {
            tracing::debug!(
                connection_id,
                stream_id,
                %kind,
                failure = %failure,
                "answer not delivered"
            );
            answer.reset(codes::STREAM_HANDLER_FAILED);
        }
    }
}

/// The send side of a request stream. Unless finished or reset on purpose, it resets itself
/// with [`codes::STREAM_HANDLER_FAILED`] when dropped, so a task aborted at shutdown or a
/// handler that panicked leaves a reset (retryable for the client), never a clean end of
/// stream without an answer.
struct AnswerStream {
    send: quinn::SendStream,
    settled: bool,
}

impl AnswerStream {
    fn finish(mut self) {
        self.settled = true;
        let _ = self.send.finish();
    }

    fn reset(mut self, code: quinn::VarInt) {
        self.settled = true;
        let _ = self.send.reset(code);
    }
}

impl Drop for AnswerStream {
    fn drop(&mut self) {
        if !self.settled {
            let _ = self.send.reset(codes::STREAM_HANDLER_FAILED);
        }
    }
}

/// Reads exactly one request frame and the end of the stream after it.
async fn read_request(recv: &mut quinn::RecvStream) -> Result<Message, ReadFailure> {
    let mut decoder = FrameDecoder::for_requests();
    let frame = loop {
        match decoder.decode() {
            Ok(Some(frame)) => break frame,
            Ok(None) => {}
            Err(error) => return Err(ReadFailure::Protocol(error)),
        }
        // Never read past the frame: the decoder holds at most one request.
        match recv.read_chunk(decoder.bytes_wanted(), true).await {
            Ok(Some(chunk)) => decoder.feed(&chunk.bytes),
            Ok(None) => {
                let error = decoder
                    .finish()
                    .err()
                    .unwrap_or(WireError::StreamEndedMidFrame {
                        buffered: decoder.buffered_bytes(),
                    });
                return Err(ReadFailure::Protocol(error));
            }
            Err(error) => return Err(ReadFailure::Gone(error.to_string())),
        }
    };
    // One request per stream: the client finishes its side right after the frame.
    match recv.read_chunk(1, true).await {
        Ok(None) => {}
        Ok(Some(chunk)) => {
            return Err(ReadFailure::Protocol(WireError::TrailingBytes {
                kind: "request stream",
                count: chunk.bytes.len(),
            }))
        }
        Err(error) => return Err(ReadFailure::Gone(error.to_string())),
    }
    Message::decode(&frame).map_err(ReadFailure::Protocol)
}

/// Writes the answer; the number of frames written, or why it stopped.
async fn write_response(send: &mut quinn::SendStream, response: Response) -> Result<u64, String> {
    match response {
        Response::Message(message) => {
            let frame = message
                .encode()
                .map_err(|error| format!("cannot encode answer: {error}"))?;
            write_frame(send, frame).await?;
            Ok(1)
        }
        Response::Frame(frame) => {
            write_frame(send, frame).await?;
            Ok(1)
        }
        Response::Stream(receiver) => write_stream(send, receiver).await,
    }
}

/// Writes a streamed answer. One message is held back so the last one can go without MORE;
/// a message of a kind that cannot stream (an error) ends the answer.
async fn write_stream(
    send: &mut quinn::SendStream,
    mut receiver: mpsc::Receiver<Message>,
) -> Result<u64, String> {
    let mut frames = 0u64;
    let mut held: Option<Message> = None;
    loop {
        let next = tokio::select! {
            next = receiver.recv() => next,
            stopped = send.stopped() => {
                return Err(format!("peer stopped reading: {stopped:?}"));
            }
        };
        let Some(previous) = held.take() else {
            match next {
                Some(message) => {
                    held = Some(message);
                    continue;
                }
                None => return Err("handler ended a streamed answer without any message".into()),
            }
        };
        let Some(message) = next else {
            write_message(send, &previous, FrameFlags::NONE).await?;
            return Ok(frames + 1);
        };
        if !previous.kind().is_streamed() {
            write_message(send, &previous, FrameFlags::NONE).await?;
            tracing::warn!(
                kind = %message.kind(),
                "handler sent more after a final answer; dropped"
            );
            return Ok(frames + 1);
        }
        if frames + 1 >= RESPONSE_FRAMES_MAX {
            return Err(format!("answer exceeds {RESPONSE_FRAMES_MAX} frames"));
        }
        write_message(send, &previous, FrameFlags::MORE).await?;
        frames += 1;
        held = Some(message);
    }
}

async fn write_message(
    send: &mut quinn::SendStream,
    message: &Message,
    flags: FrameFlags,
) -> Result<(), String> {
    let frame = message
        .encode_with_flags(flags)
        .map_err(|error| format!("cannot encode {}: {error}", message.kind()))?;
    write_frame(send, frame).await
}

/// Writes a frame's chunks (header and body pieces) without joining them.
async fn write_frame(send: &mut quinn::SendStream, frame: EncodedFrame) -> Result<(), String> {
    let mut chunks: Vec<Bytes> = frame.into_chunks();
    send.write_all_chunks(&mut chunks)
        .await
        .map_err(|error| error.to_string())
}
