//! `FrameDecoder`: turns bytes fed in arbitrary pieces into whole, checked frames.
//!
//! It answers `Ok(None)` while a frame is incomplete and a [`WireError`] as soon as the bytes
//! are known to be wrong; after an error it stays failed, because the stream must be closed.
//! It holds only bytes that actually arrived (a header claiming a large body reserves
//! nothing), and a shell that reads at most [`FrameDecoder::bytes_wanted`] bytes at a time
//! never holds more than one frame. A server reading requests should use
//! [`FrameDecoder::for_requests`]: every request is a small control message, so a peer cannot
//! make it buffer more than [`CONTROL_BODY_BYTES_MAX`] per stream.

use bytes::{Bytes, BytesMut};

use super::{parse_header, Frame, FrameHeader, FRAME_HEADER_BYTES};
use crate::limits::{CONTROL_BODY_BYTES_MAX, FRAME_BODY_BYTES_MAX};
use crate::WireError;

/// Which kinds a decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accept {
    Any,
    Requests,
    Responses,
}

/// Incremental frame decoder for one stream.
#[derive(Debug)]
pub struct FrameDecoder {
    buffer: BytesMut,
    body_bytes_max: u32,
    accept: Accept,
    header: Option<FrameHeader>,
    poisoned: bool,
}

impl FrameDecoder {
    /// A decoder that refuses bodies above `body_bytes_max` (and above each kind's own limit).
    /// The cap is clamped to [`FRAME_BODY_BYTES_MAX`].
    pub fn new(body_bytes_max: u32) -> Self {
        Self::with(body_bytes_max, Accept::Any)
    }

    /// A decoder for the server side of a stream: request kinds only, each at most
    /// [`CONTROL_BODY_BYTES_MAX`]; any other kind fails from its header alone.
    pub fn for_requests() -> Self {
        Self::with(CONTROL_BODY_BYTES_MAX, Accept::Requests)
    }

    /// A decoder for the client side of a stream: answer kinds only, each within
    /// `body_bytes_max` and its kind's limit.
    pub fn for_responses(body_bytes_max: u32) -> Self {
        Self::with(body_bytes_max, Accept::Responses)
    }

    fn with(body_bytes_max: u32, accept: Accept) -> Self {
        Self {
            buffer: BytesMut::new(),
            body_bytes_max: body_bytes_max.min(FRAME_BODY_BYTES_MAX),
            accept,
            header: None,
            poisoned: false,
        }
    }

    /// Appends received bytes. Decoding happens in [`FrameDecoder::decode`].
    pub fn feed(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next whole frame, `Ok(None)` if more bytes are needed, or the protocol error.
    pub fn decode(&mut self) -> Result<Option<Frame>, WireError> {
        if self.poisoned {
            return Err(WireError::DecoderPoisoned);
        }
        let result = self.decode_inner();
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }

    /// Called at the end of the stream: fails if a frame was left unfinished.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.poisoned {
            return Err(WireError::DecoderPoisoned);
        }
        if !self.buffer.is_empty() {
            return Err(WireError::StreamEndedMidFrame {
                buffered: self.buffer.len(),
            });
        }
        Ok(())
    }

    /// How many more bytes complete the header or frame being read (at least one), so a shell
    /// can read exactly that much.
    pub fn bytes_wanted(&self) -> usize {
        let target = match self.header {
            Some(header) => FRAME_HEADER_BYTES + header.body_len as usize,
            None => FRAME_HEADER_BYTES,
        };
        target.saturating_sub(self.buffer.len()).max(1)
    }

    /// Bytes fed but not yet returned as frames.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len()
    }

    fn decode_inner(&mut self) -> Result<Option<Frame>, WireError> {
        let header = match self.header {
            Some(header) => header,
            None => {
                if self.buffer.len() < FRAME_HEADER_BYTES {
                    return Ok(None);
                }
                let mut raw = [0u8; FRAME_HEADER_BYTES];
                raw.copy_from_slice(&self.buffer[..FRAME_HEADER_BYTES]);
                let header = parse_header(&raw, self.body_bytes_max)?;
                self.check_direction(header)?;
                self.header = Some(header);
                header
            }
        };
        let frame_len = FRAME_HEADER_BYTES + header.body_len as usize;
        if self.buffer.len() < frame_len {
            // The header passed this decoder's body limit (requests: a control message; large
            // frames only come back on streams this side opened): room for the whole frame at
            // once, instead of doubling (and copying) the buffer as it arrives chunk by chunk.
            self.buffer.reserve(frame_len - self.buffer.len());
            return Ok(None);
        }
        let frame_bytes: Bytes = self.buffer.split_to(frame_len).freeze();
        let body = frame_bytes.slice(FRAME_HEADER_BYTES..);
        let computed = crc32fast::hash(&body);
        if computed != header.body_crc32 {
            return Err(WireError::BodyChecksum {
                stored: header.body_crc32,
                computed,
            });
        }
        self.header = None;
        Ok(Some(Frame {
            kind: header.kind,
            flags: header.flags,
            body,
        }))
    }

    fn check_direction(&self, header: FrameHeader) -> Result<(), WireError> {
        let expected = match self.accept {
            Accept::Any => return Ok(()),
            Accept::Requests if header.kind.is_request() => return Ok(()),
            Accept::Responses if !header.kind.is_request() => return Ok(()),
            Accept::Requests => "request",
            Accept::Responses => "response",
        };
        Err(WireError::UnexpectedKind {
            expected,
            found: header.kind.name(),
        })
    }
}
