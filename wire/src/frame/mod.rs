//! The frame layer: how one message is delimited and checked on a stream.
//!
//! Layout (18-byte header, big-endian integers, then the body):
//!
//! ```text
//! 0  magic          2 bytes  "TD"
//! 2  format version u8       FRAME_FORMAT_VERSION
//! 3  flags          u8       FrameFlags (bit 0: MORE)
//! 4  kind           u16      MessageKind
//! 6  body length    u32      <= the kind's body limit
//! 10 body crc32     u32      crc32 of the body bytes
//! 14 header crc32   u32      crc32 of bytes 0..14
//! 18 body
//! ```
//!
//! The header has its own crc so a corrupted length is caught as soon as the header is in,
//! instead of making the reader wait for (or buffer) bytes that will never come. The body limit
//! depends on the kind and is checked before any body byte is buffered.
//!
//! This module owns framing only: it never looks inside a body.

mod decoder;
#[cfg(test)]
mod tests;

use bytes::{BufMut, Bytes, BytesMut};

pub use decoder::FrameDecoder;

use crate::{MessageKind, WireError};

/// The two bytes every frame starts with.
pub const FRAME_MAGIC: [u8; 2] = *b"TD";
/// Version of the frame layout above (not of the messages, which the handshake negotiates).
pub const FRAME_FORMAT_VERSION: u8 = 1;
/// Size of the frame header.
pub const FRAME_HEADER_BYTES: usize = 18;
/// Bytes covered by the header crc: everything before it.
const HEADER_CRC_COVERED_BYTES: usize = 14;

/// Flag bits of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FrameFlags(u8);

impl FrameFlags {
    /// No flag set.
    pub const NONE: FrameFlags = FrameFlags(0);
    /// More frames of the same answer follow on this stream (streamed kinds only).
    pub const MORE: FrameFlags = FrameFlags(0b0000_0001);
    const KNOWN_BITS: u8 = Self::MORE.0;

    /// The flags in `bits`, or [`WireError::UnknownFlags`] if a bit is unknown.
    pub fn from_bits(bits: u8) -> Result<Self, WireError> {
        if bits & !Self::KNOWN_BITS != 0 {
            return Err(WireError::UnknownFlags { flags: bits });
        }
        Ok(FrameFlags(bits))
    }

    /// The raw bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: FrameFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

/// One decoded frame: a kind, its flags and its body, a zero-copy slice of the received bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What the body holds.
    pub kind: MessageKind,
    /// Frame flags.
    pub flags: FrameFlags,
    /// The body bytes, checked against the body crc.
    pub body: Bytes,
}

impl Frame {
    /// Encodes this frame; fails if the body is over its kind's limit or the flags do not suit
    /// the kind.
    pub fn encode(&self) -> Result<EncodedFrame, WireError> {
        encode_frame(
            self.kind,
            self.flags,
            vec![self.body.clone()],
            self.body.len() as u64,
        )
    }

    /// Decodes exactly one frame from `bytes`: missing bytes are
    /// [`WireError::StreamEndedMidFrame`] and extra bytes [`WireError::TrailingBytes`]. For a
    /// stream use [`FrameDecoder`], which tells "need more" apart.
    pub fn decode_exact(bytes: Bytes) -> Result<Frame, WireError> {
        let mut decoder = FrameDecoder::new(crate::limits::FRAME_BODY_BYTES_MAX);
        decoder.feed(&bytes);
        let Some(frame) = decoder.decode()? else {
            return Err(WireError::StreamEndedMidFrame {
                buffered: bytes.len(),
            });
        };
        if decoder.buffered_bytes() != 0 {
            return Err(WireError::TrailingBytes {
                kind: "frame",
                count: decoder.buffered_bytes(),
            });
        }
        Ok(frame)
    }
}

/// An encoded frame as a list of chunks: the header first, then body chunks. Large blobs
/// (operation batches, file data) are shared with the message, not copied, so a shell can
/// hand the chunks to a vectored write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    chunks: Vec<Bytes>,
    len: usize,
}

impl EncodedFrame {
    /// Total length in bytes, header included.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a frame has at least its header.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The chunks, in order.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// The chunks, in order, by value.
    pub fn into_chunks(self) -> Vec<Bytes> {
        self.chunks
    }

    /// The frame as one contiguous buffer (copies; meant for tests and small frames).
    pub fn to_bytes(&self) -> Bytes {
        let mut joined = BytesMut::with_capacity(self.len);
        for chunk in &self.chunks {
            joined.put_slice(chunk);
        }
        joined.freeze()
    }
}

/// The fixed header fields, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    pub(crate) kind: MessageKind,
    pub(crate) flags: FrameFlags,
    pub(crate) body_len: u32,
    pub(crate) body_crc32: u32,
}

/// Checks and parses a header; `body_bytes_max` is the reader's own cap on top of the kind's.
pub(crate) fn parse_header(
    header: &[u8; FRAME_HEADER_BYTES],
    body_bytes_max: u32,
) -> Result<FrameHeader, WireError> {
    // Magic and version first, so a peer speaking another protocol gets a clear error rather
    // than a checksum mismatch.
    let magic = [header[0], header[1]];
    if magic != FRAME_MAGIC {
        return Err(WireError::BadMagic { found: magic });
    }
    if header[2] != FRAME_FORMAT_VERSION {
        return Err(WireError::UnsupportedFrameVersion { found: header[2] });
    }
    let stored = u32::from_be_bytes([header[14], header[15], header[16], header[17]]);
    let computed = crc32fast::hash(&header[..HEADER_CRC_COVERED_BYTES]);
    if stored != computed {
        return Err(WireError::HeaderChecksum { stored, computed });
    }
    let kind = MessageKind::from_u16(u16::from_be_bytes([header[4], header[5]]))?;
    let flags = FrameFlags::from_bits(header[3])?;
    check_flags_suit_kind(kind, flags)?;
    let body_len = u32::from_be_bytes([header[6], header[7], header[8], header[9]]);
    let max = kind.body_bytes_max().min(body_bytes_max);
    if body_len > max {
        return Err(WireError::BodyTooLarge {
            kind: kind.name(),
            len: u64::from(body_len),
            max,
        });
    }
    let body_crc32 = u32::from_be_bytes([header[10], header[11], header[12], header[13]]);
    Ok(FrameHeader {
        kind,
        flags,
        body_len,
        body_crc32,
    })
}

/// Frames `body` (given as chunks) under a checked header.
pub(crate) fn encode_frame(
    kind: MessageKind,
    flags: FrameFlags,
    body: Vec<Bytes>,
    body_len: u64,
) -> Result<EncodedFrame, WireError> {
    FrameFlags::from_bits(flags.bits())?;
    check_flags_suit_kind(kind, flags)?;
    let max = kind.body_bytes_max();
    let body_len_u32 = u32::try_from(body_len)
        .ok()
        .filter(|len| *len <= max)
        .ok_or(WireError::BodyTooLarge {
            kind: kind.name(),
            len: body_len,
            max,
        })?;
    let mut body_hasher = crc32fast::Hasher::new();
    for chunk in &body {
        body_hasher.update(chunk);
    }
    let mut header = BytesMut::with_capacity(FRAME_HEADER_BYTES);
    header.put_slice(&FRAME_MAGIC);
    header.put_u8(FRAME_FORMAT_VERSION);
    header.put_u8(flags.bits());
    header.put_u16(kind.as_u16());
    header.put_u32(body_len_u32);
    header.put_u32(body_hasher.finalize());
    header.put_u32(crc32fast::hash(&header[..HEADER_CRC_COVERED_BYTES]));
    debug_assert_eq!(header.len(), FRAME_HEADER_BYTES);
    let mut chunks = Vec::with_capacity(body.len() + 1);
    chunks.push(header.freeze());
    chunks.extend(body.into_iter().filter(|chunk| !chunk.is_empty()));
    let len = FRAME_HEADER_BYTES + body_len_u32 as usize;
    debug_assert_eq!(chunks.iter().map(Bytes::len).sum::<usize>(), len);
    Ok(EncodedFrame { chunks, len })
}

fn check_flags_suit_kind(kind: MessageKind, flags: FrameFlags) -> Result<(), WireError> {
    if flags.contains(FrameFlags::MORE) && !kind.is_streamed() {
        return Err(WireError::invalid(
            "flags",
            "more flag on a kind that is not streamed",
        ));
    }
    Ok(())
}
