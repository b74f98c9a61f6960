//! Typed messages: one struct per message kind, each with an encoder and a decoder that check
//! the same limits and rules, and [`Message`], the sum of them all.
//!
//! Every decoder reads the whole body and refuses trailing bytes, unknown tags, over-limit
//! lengths and values that break a protocol rule, so a message that decodes is one an honest
//! peer could have sent. Encoders run the same checks first, so we never send what we would
//! refuse. Messages never interpret JSON or operation bytes; they carry them.

mod changes;
mod cluster;
mod handshake;
mod index;
mod lease;
mod remote_error;
mod snapshot;
#[cfg(test)]
pub(crate) mod strategies;
#[cfg(test)]
mod tests;

use bytes::Bytes;

pub use changes::{
    MetadataVersions, OpsBatch, ShardChangesRequest, ShardChangesResponse, ShardTarget,
};
pub use cluster::{
    IndexList, IndexState, IndexSummary, ListIndicesRequest, RemoteClusterInfo,
    RemoteClusterInfoRequest,
};
pub use handshake::{negotiate_version, Handshake, HandshakeAck, NodeIdentity};
pub use index::{IndexMetadata, IndexMetadataRequest, VersionedJson};
pub use lease::{LeaseAction, RetentionLeaseRequest};
pub use remote_error::{ErrorKind, RemoteError};
pub use snapshot::{
    FileChunk, FileChunkRequest, SnapshotFile, SnapshotManifest, SnapshotRelease, SnapshotStart,
};

use crate::codec::{BodyReader, BodyWriter};
use crate::frame::{EncodedFrame, Frame, FrameFlags};
use crate::{MessageKind, WireError};

/// A message type with its own frame kind. Implemented by every message struct.
pub trait WireMessage: Sized {
    /// The frame kind this message travels under.
    const KIND: MessageKind;

    /// Encodes the message as a frame with the given flags.
    fn encode_with_flags(&self, flags: FrameFlags) -> Result<EncodedFrame, WireError>;

    /// Decodes the message from a frame body (the whole body, nothing left over).
    fn decode_body(body: Bytes) -> Result<Self, WireError>;

    /// Encodes the message as a frame without flags.
    fn encode(&self) -> Result<EncodedFrame, WireError> {
        self.encode_with_flags(FrameFlags::NONE)
    }

    /// Decodes the message from a frame, which must be of [`WireMessage::KIND`].
    fn decode_frame(frame: &Frame) -> Result<Self, WireError> {
        if frame.kind != Self::KIND {
            return Err(WireError::UnexpectedKind {
                expected: Self::KIND.name(),
                found: frame.kind.name(),
            });
        }
        Self::decode_body(frame.body.clone())
    }
}

/// Implements [`WireMessage`] on top of a type's `write_body` and `read_body`.
macro_rules! wire_message {
    ($ty:ty, $kind:expr) => {
        impl $crate::messages::WireMessage for $ty {
            const KIND: $crate::MessageKind = $kind;

            fn encode_with_flags(
                &self,
                flags: $crate::FrameFlags,
            ) -> Result<$crate::EncodedFrame, $crate::WireError> {
                let mut writer = $crate::codec::BodyWriter::new();
                self.write_body(&mut writer)?;
                let (chunks, len) = writer.finish();
                $crate::frame::encode_frame(Self::KIND, flags, chunks, len)
            }

            fn decode_body(body: bytes::Bytes) -> Result<Self, $crate::WireError> {
                let mut reader = $crate::codec::BodyReader::new(body);
                let message = Self::read_body(&mut reader)?;
                reader.finish(Self::KIND.name())?;
                Ok(message)
            }
        }
    };
}
pub(crate) use wire_message;

/// Success answer without content (snapshot release, retention lease changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ack;

impl Ack {
    pub(crate) fn write_body(&self, _writer: &mut BodyWriter) -> Result<(), WireError> {
        Ok(())
    }

    pub(crate) fn read_body(_reader: &mut BodyReader) -> Result<Self, WireError> {
        Ok(Ack)
    }
}

wire_message!(Ack, MessageKind::Ack);

/// Any message, for code that dispatches on the kind of a received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Client hello.
    Handshake(Handshake),
    /// Server hello.
    HandshakeAck(HandshakeAck),
    /// Typed error answer.
    Error(RemoteError),
    /// Empty success answer.
    Ack(Ack),
    /// Asks for the leader cluster description.
    RemoteClusterInfoRequest(RemoteClusterInfoRequest),
    /// The leader cluster description.
    RemoteClusterInfo(RemoteClusterInfo),
    /// Asks for indices matching a pattern.
    ListIndicesRequest(ListIndicesRequest),
    /// Indices matching a pattern.
    IndexList(IndexList),
    /// Asks for one index's metadata.
    IndexMetadataRequest(IndexMetadataRequest),
    /// One index's metadata.
    IndexMetadata(IndexMetadata),
    /// Asks for operations of one shard.
    ShardChangesRequest(ShardChangesRequest),
    /// Operations of one shard and its checkpoints.
    ShardChanges(ShardChangesResponse),
    /// Pins a commit for bootstrap.
    SnapshotStart(SnapshotStart),
    /// The pinned commit's files.
    SnapshotManifest(SnapshotManifest),
    /// Asks for bytes of a pinned file.
    FileChunkRequest(FileChunkRequest),
    /// Bytes of a pinned file.
    FileChunk(FileChunk),
    /// Releases a pinned commit.
    SnapshotRelease(SnapshotRelease),
    /// Adds, renews or removes a retention lease.
    RetentionLease(RetentionLeaseRequest),
}

/// Runs `$body` with `$m` bound to the struct inside any [`Message`] variant.
macro_rules! with_inner {
    ($message:expr, $m:ident => $body:expr) => {
        match $message {
            Message::Handshake($m) => $body,
            Message::HandshakeAck($m) => $body,
            Message::Error($m) => $body,
            Message::Ack($m) => $body,
            Message::RemoteClusterInfoRequest($m) => $body,
            Message::RemoteClusterInfo($m) => $body,
            Message::ListIndicesRequest($m) => $body,
            Message::IndexList($m) => $body,
            Message::IndexMetadataRequest($m) => $body,
            Message::IndexMetadata($m) => $body,
            Message::ShardChangesRequest($m) => $body,
            Message::ShardChanges($m) => $body,
            Message::SnapshotStart($m) => $body,
            Message::SnapshotManifest($m) => $body,
            Message::FileChunkRequest($m) => $body,
            Message::FileChunk($m) => $body,
            Message::SnapshotRelease($m) => $body,
            Message::RetentionLease($m) => $body,
        }
    };
}

/// The kind of a message type, for use inside `with_inner!`.
fn kind_of<T: WireMessage>(_: &T) -> MessageKind {
    T::KIND
}

impl Message {
    /// The frame kind of this message.
    pub fn kind(&self) -> MessageKind {
        with_inner!(self, m => kind_of(m))
    }

    /// Encodes the message as a frame without flags.
    pub fn encode(&self) -> Result<EncodedFrame, WireError> {
        self.encode_with_flags(FrameFlags::NONE)
    }

    /// Encodes the message as a frame with the given flags.
    pub fn encode_with_flags(&self, flags: FrameFlags) -> Result<EncodedFrame, WireError> {
        with_inner!(self, m => m.encode_with_flags(flags))
    }

    /// Decodes the message a frame carries.
    pub fn decode(frame: &Frame) -> Result<Message, WireError> {
        Self::decode_body(frame.kind, frame.body.clone())
    }

    /// Decodes a body of the given kind (no frame checks: meant for fuzzing and tests).
    pub fn decode_body(kind: MessageKind, body: Bytes) -> Result<Message, WireError> {
        Ok(match kind {
            MessageKind::Handshake => Message::Handshake(WireMessage::decode_body(body)?),
            MessageKind::HandshakeAck => Message::HandshakeAck(WireMessage::decode_body(body)?),
            MessageKind::Error => Message::Error(WireMessage::decode_body(body)?),
            MessageKind::Ack => Message::Ack(WireMessage::decode_body(body)?),
            MessageKind::RemoteClusterInfoRequest => {
                Message::RemoteClusterInfoRequest(WireMessage::decode_body(body)?)
            }
            MessageKind::RemoteClusterInfo => {
                Message::RemoteClusterInfo(WireMessage::decode_body(body)?)
            }
            MessageKind::ListIndicesRequest => {
                Message::ListIndicesRequest(WireMessage::decode_body(body)?)
            }
            MessageKind::IndexList => Message::IndexList(WireMessage::decode_body(body)?),
            MessageKind::IndexMetadataRequest => {
                Message::IndexMetadataRequest(WireMessage::decode_body(body)?)
            }
            MessageKind::IndexMetadata => Message::IndexMetadata(WireMessage::decode_body(body)?),
            MessageKind::ShardChangesRequest => {
                Message::ShardChangesRequest(WireMessage::decode_body(body)?)
            }
            MessageKind::ShardChanges => Message::ShardChanges(WireMessage::decode_body(body)?),
            MessageKind::SnapshotStart => Message::SnapshotStart(WireMessage::decode_body(body)?),
            MessageKind::SnapshotManifest => {
                Message::SnapshotManifest(WireMessage::decode_body(body)?)
            }
            MessageKind::FileChunkRequest => {
                Message::FileChunkRequest(WireMessage::decode_body(body)?)
            }
            MessageKind::FileChunk => Message::FileChunk(WireMessage::decode_body(body)?),
            MessageKind::SnapshotRelease => {
                Message::SnapshotRelease(WireMessage::decode_body(body)?)
            }
            MessageKind::RetentionLease => Message::RetentionLease(WireMessage::decode_body(body)?),
        })
    }
}

/// Decodes the answer to a request that expects `T`: `Ok(Ok(t))` for a success answer,
/// `Ok(Err(remote))` for a typed error from the peer, `Err` for anything else (a protocol
/// error: wrong kind or malformed body).
pub fn decode_response<T: WireMessage>(frame: &Frame) -> Result<Result<T, RemoteError>, WireError> {
    if frame.kind == MessageKind::Error {
        return Ok(Err(RemoteError::decode_frame(frame)?));
    }
    T::decode_frame(frame).map(Ok)
}

/// Refuses an empty string where the protocol needs a name.
pub(crate) fn non_empty(field: &'static str, value: &str) -> Result<(), WireError> {
    if value.is_empty() {
        return Err(WireError::invalid(field, "must not be empty"));
    }
    Ok(())
}

/// Refuses a seq-no below -1, OpenSearch's "no operation" value.
pub(crate) fn seq_no_or_none(field: &'static str, value: i64) -> Result<(), WireError> {
    if value < crate::SEQ_NO_NONE {
        return Err(WireError::invalid(field, "seq-no below -1"));
    }
    Ok(())
}

/// Writes `Some(blob)` or nothing behind a presence tag.
pub(crate) fn write_optional_blob(
    writer: &mut BodyWriter,
    field: &'static str,
    value: &Option<Bytes>,
    max: u32,
) -> Result<(), WireError> {
    writer.option_tag(value.is_some());
    match value {
        Some(blob) => writer.blob(field, blob, max),
        None => Ok(()),
    }
}

/// Reads what [`write_optional_blob`] wrote.
pub(crate) fn read_optional_blob(
    reader: &mut BodyReader,
    field: &'static str,
    max: u32,
) -> Result<Option<Bytes>, WireError> {
    if reader.option_tag(field)? {
        return Ok(Some(reader.blob(field, max)?));
    }
    Ok(None)
}
