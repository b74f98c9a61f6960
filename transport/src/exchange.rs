//! The client side of one request: open a bidirectional stream, write the request frame,
//! finish, and read the answer frames with wire's response decoder.
//!
//! It owns the checks a client makes on an answer: the kind is the request's success kind or
//! an error, MORE appears only on streamed kinds of a streamed request, nothing follows the
//! last frame, and a streamed answer stays within [`RESPONSE_FRAMES_MAX`] frames. It must never
//! buffer more than one frame, and never retry: the caller decides.

use std::time::Duration;

use bytes::Bytes;
use tandem_wire::{Frame, FrameDecoder, FrameFlags, Message, MessageKind, FRAME_BODY_BYTES_MAX};

use crate::config::RESPONSE_FRAMES_MAX;
use crate::error::{codes, from_connection_error, TransportError};

/// Opens a stream on `connection` and sends `message` on it.
pub(crate) async fn send_request(
    connection: &quinn::Connection,
    alias: &str,
    message: &Message,
) -> Result<(quinn::SendStream, quinn::RecvStream), TransportError> {
    if !message.kind().is_request() {
        return Err(protocol(
            alias,
            format!("{} is not a request kind", message.kind()),
        ));
    }
    let frame = message
        .encode()
        .map_err(|error| protocol(alias, format!("cannot encode {}: {error}", message.kind())))?;
    let (mut send, recv) = connection
        .open_bi()
        .await
        .map_err(|error| from_connection_error(alias, &error))?;
    let mut chunks: Vec<Bytes> = frame.into_chunks();
    send.write_all_chunks(&mut chunks)
        .await
        .map_err(|error| write_error(alias, error))?;
    // One request per stream: finishing tells the server no more bytes follow.
    send.finish()
        .map_err(|_| lost(alias, "stream closed before the request was sent"))?;
    Ok((send, recv))
}

/// The answer frames of one request, read lazily as the caller asks for them.
#[derive(Debug)]
pub struct ResponseFrames {
    alias: String,
    request_kind: MessageKind,
    recv: quinn::RecvStream,
    // Kept so the stream is not reset before the server read the request.
    _send: quinn::SendStream,
    decoder: FrameDecoder,
    frame_timeout: Duration,
    frames: u64,
    done: bool,
}

impl ResponseFrames {
    pub(crate) fn new(
        alias: &str,
        request_kind: MessageKind,
        send: quinn::SendStream,
        recv: quinn::RecvStream,
        frame_timeout: Duration,
    ) -> Self {
        Self {
            alias: alias.to_owned(),
            request_kind,
            recv,
            _send: send,
            decoder: FrameDecoder::for_responses(FRAME_BODY_BYTES_MAX),
            frame_timeout,
            frames: 0,
            done: false,
        }
    }

    /// The next frame of the answer, `None` after the last one. Each frame must arrive within
    /// the frame timeout given to the request.
    pub async fn next(&mut self) -> Option<Result<Frame, TransportError>> {
        if self.done {
            return None;
        }
        let result = match tokio::time::timeout(self.frame_timeout, self.next_frame()).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::TimedOut {
                alias: self.alias.clone(),
                timeout_ms: u64::try_from(self.frame_timeout.as_millis()).unwrap_or(u64::MAX),
            }),
        };
        if result.is_err() {
            self.done = true;
            let _ = self.recv.stop(codes::STREAM_CANCELLED);
        }
        Some(result)
    }

    /// Reads the whole answer, for answers that are one frame.
    pub(crate) async fn single(mut self) -> Result<Frame, TransportError> {
        let frame = match self.next().await {
            Some(result) => result?,
            None => return Err(protocol(&self.alias, "no answer frame".to_owned())),
        };
        if !self.done {
            let _ = self.recv.stop(codes::STREAM_CANCELLED);
            return Err(protocol(
                &self.alias,
                format!("streamed {} answer to a single-frame request", frame.kind),
            ));
        }
        Ok(frame)
    }

    async fn next_frame(&mut self) -> Result<Frame, TransportError> {
        let frame = self.read_frame().await?;
        let expected = self.request_kind.response_kind();
        if frame.kind != MessageKind::Error && Some(frame.kind) != expected {
            return Err(protocol(
                &self.alias,
                format!("{} answered with {}", self.request_kind, frame.kind),
            ));
        }
        self.frames += 1;
        if frame.flags.contains(FrameFlags::MORE) {
            if self.frames >= RESPONSE_FRAMES_MAX {
                return Err(protocol(
                    &self.alias,
                    format!("more than {RESPONSE_FRAMES_MAX} frames"),
                ));
            }
            return Ok(frame);
        }
        self.done = true;
        self.expect_end().await?;
        Ok(frame)
    }

    async fn read_frame(&mut self) -> Result<Frame, TransportError> {
        loop {
            match self.decoder.decode() {
                Ok(Some(frame)) => return Ok(frame),
                Ok(None) => {}
                Err(error) => return Err(protocol(&self.alias, error.to_string())),
            }
            match self
                .recv
                .read_chunk(self.decoder.bytes_wanted(), true)
                .await
            {
                Ok(Some(chunk)) => self.decoder.feed(&chunk.bytes),
                Ok(None) => {
                    let reason = match self.decoder.finish() {
                        Ok(()) => "stream ended before the answer".to_owned(),
                        Err(error) => error.to_string(),
                    };
                    return Err(protocol(&self.alias, reason));
                }
                Err(error) => return Err(read_error(&self.alias, error)),
            }
        }
    }

    async fn expect_end(&mut self) -> Result<(), TransportError> {
        if self.decoder.buffered_bytes() != 0 {
            return Err(protocol(
                &self.alias,
                "bytes after the last answer frame".to_owned(),
            ));
        }
        match self.recv.read_chunk(1, true).await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err(protocol(
                &self.alias,
                "bytes after the last answer frame".to_owned(),
            )),
            Err(error) => Err(read_error(&self.alias, error)),
        }
    }
}

fn protocol(alias: &str, reason: String) -> TransportError {
    TransportError::Protocol {
        alias: alias.to_owned(),
        reason,
    }
}

fn lost(alias: &str, reason: &str) -> TransportError {
    TransportError::ConnectionLost {
        alias: alias.to_owned(),
        reason: reason.to_owned(),
    }
}

fn write_error(alias: &str, error: quinn::WriteError) -> TransportError {
    match error {
        quinn::WriteError::Stopped(code) => TransportError::StreamReset {
            alias: alias.to_owned(),
            code: code.into_inner(),
        },
        quinn::WriteError::ConnectionLost(error) => from_connection_error(alias, &error),
        other => lost(alias, &other.to_string()),
    }
}

fn read_error(alias: &str, error: quinn::ReadError) -> TransportError {
    match error {
        quinn::ReadError::Reset(code) => TransportError::StreamReset {
            alias: alias.to_owned(),
            code: code.into_inner(),
        },
        quinn::ReadError::ConnectionLost(error) => from_connection_error(alias, &error),
        other => lost(alias, &other.to_string()),
    }
}
