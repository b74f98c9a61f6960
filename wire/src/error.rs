//! `WireError`: everything that can be wrong with bytes on the wire or with a message we are
//! asked to encode.
//!
//! Every variant is a protocol error: the stream that produced it must be closed, and nothing
//! decoded from it may be applied. "Not enough bytes yet" is not an error; the frame decoder
//! reports it as `Ok(None)`. Errors a peer reports on purpose travel as
//! [`RemoteError`](crate::RemoteError) instead, and are not protocol errors.

use thiserror::Error;

/// A protocol error: malformed, oversized, truncated or unknown input, or a message that breaks
/// a limit when encoded. Messages are lowercase without a final period, as everywhere in tandem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WireError {
    /// The frame does not start with tandem's magic bytes: the peer speaks something else.
    #[error("bad frame magic {found:02x?}")]
    BadMagic {
        /// The two bytes found where the magic belongs.
        found: [u8; 2],
    },
    /// The frame layout version is one this build cannot read.
    #[error("unsupported frame format version {found}")]
    UnsupportedFrameVersion {
        /// The version byte found.
        found: u8,
    },
    /// The header checksum does not match the header bytes.
    #[error("frame header crc32 mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    HeaderChecksum {
        /// Checksum stored in the header.
        stored: u32,
        /// Checksum of the bytes received.
        computed: u32,
    },
    /// The body checksum does not match the body bytes.
    #[error("frame body crc32 mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    BodyChecksum {
        /// Checksum stored in the header.
        stored: u32,
        /// Checksum of the bytes received.
        computed: u32,
    },
    /// The message kind is not one this build knows.
    #[error("unknown message kind {kind:#06x}")]
    UnknownKind {
        /// The kind number found.
        kind: u16,
    },
    /// Flag bits this build does not know are set.
    #[error("unknown frame flags {flags:#04x}")]
    UnknownFlags {
        /// The flag byte found.
        flags: u8,
    },
    /// The body length is above the limit for this kind of message.
    #[error("frame body of {len} bytes exceeds the limit of {max} bytes for {kind}")]
    BodyTooLarge {
        /// Name of the message kind.
        kind: &'static str,
        /// Length claimed or produced.
        len: u64,
        /// The limit that applied.
        max: u32,
    },
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame with {buffered} bytes buffered")]
    StreamEndedMidFrame {
        /// Bytes received of the unfinished frame.
        buffered: usize,
    },
    /// The decoder already failed once; the stream must be closed.
    #[error("frame decoder used after a protocol error")]
    DecoderPoisoned,
    /// A message body ended before one of its fields.
    #[error("message body ended before field {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A message body has bytes after its last field.
    #[error("{count} trailing bytes after a {kind} body")]
    TrailingBytes {
        /// Name of the message kind.
        kind: &'static str,
        /// Number of unread bytes.
        count: usize,
    },
    /// A string or byte field is longer than its limit.
    #[error("field {field} has {len} bytes, the limit is {max}")]
    FieldTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: u64,
        /// Its limit.
        max: u64,
    },
    /// A list has more items than its limit.
    #[error("field {field} has {count} items, the limit is {max}")]
    TooManyItems {
        /// The field.
        field: &'static str,
        /// Items claimed or present.
        count: u64,
        /// Its limit.
        max: u64,
    },
    /// An enum or option tag is not one this build knows.
    #[error("unknown tag {tag} in field {field}")]
    UnknownTag {
        /// The field.
        field: &'static str,
        /// The tag found.
        tag: u16,
    },
    /// A string field is not valid UTF-8.
    #[error("field {field} is not valid utf-8")]
    InvalidUtf8 {
        /// The field.
        field: &'static str,
    },
    /// A field breaks a rule of the protocol (a negative seq-no, an unsafe file name...).
    #[error("invalid field {field}: {rule}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A frame of another kind arrived where a specific kind was expected.
    #[error("expected a {expected} message, got {found}")]
    UnexpectedKind {
        /// Name of the expected kind.
        expected: &'static str,
        /// Name of the kind received.
        found: &'static str,
    },
}

impl WireError {
    /// Shorthand for [`WireError::InvalidValue`].
    pub(crate) fn invalid(field: &'static str, rule: &'static str) -> Self {
        WireError::InvalidValue { field, rule }
    }
}
