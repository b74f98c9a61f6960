//! tandem-wire: the replication protocol between a follower node and its leader, as pure
//! encode and decode over `bytes`.
//!
//! It owns the frame format, every message of the protocol, their limits, the typed errors a
//! leader answers with (and their OpenSearch `type`/status mapping), and the small pieces of
//! protocol state that can be tested without I/O: [`ChangesCursor`] (which seq-nos a follower
//! shard asks for next, and in which order answers may be applied) and [`ChunkSequence`] (is a
//! streamed file answer complete and in order).
//!
//! **It must never do I/O**: no tokio, no sockets, no files, no clock. Nothing here reads the
//! time; anything that ever needs it takes `now` as an argument. `node::transport` is the shell
//! that owns quinn, streams and timers, as `quinn` is to `quinn-proto`.
//!
//! # How a request travels
//!
//! One QUIC bidirectional stream per request. The client writes one request frame; the server
//! answers with one frame: the success answer ([`MessageKind::response_kind`]) or an
//! [`ErrorKind`]-typed [`RemoteError`]. A [`FileChunkRequest`] is answered by a sequence of
//! [`FileChunk`] frames, all but the last flagged [`FrameFlags::MORE`]. The first request on a
//! connection is a [`Handshake`]; versions are negotiated with [`negotiate_version`].
//!
//! ```text
//! encode:  message --WireMessage::encode--> EncodedFrame (chunks: header, body...) --> stream
//! decode:  stream --FrameDecoder::feed/decode--> Frame --Message::decode--> message
//!                                                    \-decode_response::<T>--> T or RemoteError
//! ```
//!
//! # Design choices
//!
//! - A frame has an 18-byte header (magic `TD`, frame format version, flags, kind, body
//!   length, body crc32, header crc32). The header crc means a corrupted length is caught from
//!   the header alone; the per-kind body limit ([`MessageKind::body_bytes_max`]) is enforced
//!   before a single body byte is buffered, and the decoder holds only bytes that arrived (a
//!   header claiming 64 MiB reserves nothing). [`FrameDecoder::for_requests`] (server side)
//!   also refuses answer kinds and anything above [`limits::CONTROL_BODY_BYTES_MAX`], since
//!   every request is a small control message; [`FrameDecoder::for_responses`] refuses
//!   request kinds.
//! - The frame format version (framing) and the protocol version (messages, negotiated in the
//!   handshake) are separate, so messages can evolve without touching framing.
//! - Decoders answer "need more bytes" as `Ok(None)` ([`FrameDecoder::decode`]) and everything
//!   else wrong as a [`WireError`]; a [`WireError`] always means "close the stream". Decoders
//!   never panic on input and never allocate more than a checked limit.
//! - Every string, blob and list has a named limit (see [`limits`]),
//!   checked against the bytes actually present before allocating; relations between limits
//!   are compile-time asserts. Encoders check the same limits and rules as decoders.
//! - Operations travel as opaque batches of the translog's own record bytes (storage owns that
//!   codec; the follower checks each record's crc before applying it). On decode they are a
//!   zero-copy slice of the received frame; on encode they are a separate chunk of the
//!   [`EncodedFrame`], never copied.
//! - Metadata (settings, mapping, aliases) is JSON text with a version number; the wire bounds
//!   its size and never parses it.
//! - Integers are big-endian; seq-nos are `i64` with [`SEQ_NO_NONE`] (-1) as OpenSearch's
//!   "no operation"; strings carry a u16 length prefix, blobs and lists a u32.
//! - A changes answer must cover a contiguous seq-no range that starts where the request did,
//!   stays within it, within the leader's global checkpoint and above its retained history;
//!   the leader sends at least one operation when it has one, even past the soft byte budget,
//!   so a huge document cannot stall a shard ([`limits::CHANGES_OPS_BYTES_MAX`] is the hard
//!   cap, which storage must respect per record).
//! - File names in snapshot messages are checked to be one safe path component, since they
//!   become paths on the follower.
//! - Shard-level requests name the index by uuid, so a leader index deleted and recreated
//!   under the same name answers `IndexNotFound` instead of serving unrelated history.
//! - Unknown kinds, flags, enum tags, trailing bytes: protocol errors, not ignored, because
//!   the protocol version is negotiated and a peer must not send what it did not agree to.

#![warn(missing_docs)]

mod chunks;
mod codec;
mod cursor;
mod error;
mod frame;
mod kind;
pub mod limits;
mod messages;

pub use chunks::{ChunkProgress, ChunkSequence};
pub use cursor::{ChangesCursor, CursorConfig, CursorError, PlannedRequest, RequestId};
pub use error::WireError;
pub use frame::{
    EncodedFrame, Frame, FrameDecoder, FrameFlags, FRAME_FORMAT_VERSION, FRAME_HEADER_BYTES,
    FRAME_MAGIC,
};
pub use kind::MessageKind;
pub use limits::{FRAME_BODY_BYTES_MAX, PROTOCOL_VERSION_MAX, PROTOCOL_VERSION_MIN};
pub use messages::{
    decode_response, negotiate_version, Ack, ErrorKind, FileChunk, FileChunkRequest, Handshake,
    HandshakeAck, IndexList, IndexMetadata, IndexMetadataRequest, IndexState, IndexSummary,
    LeaseAction, ListIndicesRequest, Message, MetadataVersions, NodeIdentity, OpsBatch,
    RemoteClusterInfo, RemoteClusterInfoRequest, RemoteError, RetentionLeaseRequest,
    ShardChangesRequest, ShardChangesResponse, ShardTarget, SnapshotFile, SnapshotManifest,
    SnapshotRelease, SnapshotStart, VersionedJson, WireMessage,
};

/// OpenSearch's seq-no for "no operation": the checkpoint of an empty shard.
pub const SEQ_NO_NONE: i64 = -1;
