//! `MessageKind`: the u16 in every frame header that names the message in the body, with what
//! the protocol knows about each kind before reading the body (its body limit, whether it is a
//! request, which success answer it expects, whether it may be streamed).
//!
//! Numbers are part of the protocol: never reuse or renumber one; add new kinds behind a new
//! protocol version.

use crate::limits::{
    CHANGES_FIXED_BYTES_MAX, CHANGES_OPS_BYTES_MAX, CONTROL_BODY_BYTES_MAX, FILE_CHUNK_BYTES_MAX,
    FILE_CHUNK_FIXED_BYTES_MAX, FRAME_BODY_BYTES_MAX, INDEX_METADATA_FIXED_BYTES_MAX,
    METADATA_JSON_BYTES_MAX,
};
use crate::WireError;

/// The kind of message a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u16)]
pub enum MessageKind {
    /// Client hello: protocol versions and identity. First request on a connection.
    Handshake = 0x0001,
    /// Server hello: chosen version and the server's identity.
    HandshakeAck = 0x0002,
    /// A typed error answering any request.
    Error = 0x0003,
    /// Empty success answer (snapshot release, retention lease changes).
    Ack = 0x0004,
    /// Asks for the leader cluster's description.
    RemoteClusterInfoRequest = 0x0010,
    /// The leader cluster's description.
    RemoteClusterInfo = 0x0011,
    /// Asks for the leader indices matching a pattern.
    ListIndicesRequest = 0x0012,
    /// Leader index names and uuids.
    IndexList = 0x0013,
    /// Asks for one leader index's metadata.
    IndexMetadataRequest = 0x0014,
    /// One leader index's metadata.
    IndexMetadata = 0x0015,
    /// Asks for operations of one shard from a seq-no.
    ShardChangesRequest = 0x0020,
    /// A batch of operations and the leader shard's checkpoints.
    ShardChanges = 0x0021,
    /// Pins a commit of one leader shard for bootstrap.
    SnapshotStart = 0x0030,
    /// The pinned commit's checkpoints and file list.
    SnapshotManifest = 0x0031,
    /// Asks for a byte range of one pinned file.
    FileChunkRequest = 0x0032,
    /// A slice of a pinned file; a response may be several of these.
    FileChunk = 0x0033,
    /// Releases a pinned commit.
    SnapshotRelease = 0x0034,
    /// Adds, renews or removes a retention lease.
    RetentionLease = 0x0040,
}

impl MessageKind {
    /// Every kind, in number order.
    pub const ALL: [MessageKind; 18] = [
        MessageKind::Handshake,
        MessageKind::HandshakeAck,
        MessageKind::Error,
        MessageKind::Ack,
        MessageKind::RemoteClusterInfoRequest,
        MessageKind::RemoteClusterInfo,
        MessageKind::ListIndicesRequest,
        MessageKind::IndexList,
        MessageKind::IndexMetadataRequest,
        MessageKind::IndexMetadata,
        MessageKind::ShardChangesRequest,
        MessageKind::ShardChanges,
        MessageKind::SnapshotStart,
        MessageKind::SnapshotManifest,
        MessageKind::FileChunkRequest,
        MessageKind::FileChunk,
        MessageKind::SnapshotRelease,
        MessageKind::RetentionLease,
    ];

    /// The kind with this number, or [`WireError::UnknownKind`].
    pub fn from_u16(number: u16) -> Result<Self, WireError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_u16() == number)
            .ok_or(WireError::UnknownKind { kind: number })
    }

    /// The number written in frame headers.
    pub fn as_u16(self) -> u16 {
        self as u16
    }

    /// A short lowercase name for errors and logs.
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Handshake => "handshake",
            MessageKind::HandshakeAck => "handshake_ack",
            MessageKind::Error => "error",
            MessageKind::Ack => "ack",
            MessageKind::RemoteClusterInfoRequest => "remote_cluster_info_request",
            MessageKind::RemoteClusterInfo => "remote_cluster_info",
            MessageKind::ListIndicesRequest => "list_indices_request",
            MessageKind::IndexList => "index_list",
            MessageKind::IndexMetadataRequest => "index_metadata_request",
            MessageKind::IndexMetadata => "index_metadata",
            MessageKind::ShardChangesRequest => "shard_changes_request",
            MessageKind::ShardChanges => "shard_changes",
            MessageKind::SnapshotStart => "snapshot_start",
            MessageKind::SnapshotManifest => "snapshot_manifest",
            MessageKind::FileChunkRequest => "file_chunk_request",
            MessageKind::FileChunk => "file_chunk",
            MessageKind::SnapshotRelease => "snapshot_release",
            MessageKind::RetentionLease => "retention_lease",
        }
    }

    /// The success answer a request kind expects (any request may also get
    /// [`MessageKind::Error`]); `None` for answers.
    pub fn response_kind(self) -> Option<MessageKind> {
        match self {
            MessageKind::Handshake => Some(MessageKind::HandshakeAck),
            MessageKind::RemoteClusterInfoRequest => Some(MessageKind::RemoteClusterInfo),
            MessageKind::ListIndicesRequest => Some(MessageKind::IndexList),
            MessageKind::IndexMetadataRequest => Some(MessageKind::IndexMetadata),
            MessageKind::ShardChangesRequest => Some(MessageKind::ShardChanges),
            MessageKind::SnapshotStart => Some(MessageKind::SnapshotManifest),
            MessageKind::FileChunkRequest => Some(MessageKind::FileChunk),
            MessageKind::SnapshotRelease | MessageKind::RetentionLease => Some(MessageKind::Ack),
            MessageKind::HandshakeAck
            | MessageKind::Error
            | MessageKind::Ack
            | MessageKind::RemoteClusterInfo
            | MessageKind::IndexList
            | MessageKind::IndexMetadata
            | MessageKind::ShardChanges
            | MessageKind::SnapshotManifest
            | MessageKind::FileChunk => None,
        }
    }

    /// Whether a client sends this kind (a server must refuse anything else on a new stream).
    pub fn is_request(self) -> bool {
        self.response_kind().is_some()
    }

    /// Whether frames of this kind may carry [`FrameFlags::MORE`](crate::FrameFlags::MORE),
    /// i.e. whether one answer may span several frames.
    pub fn is_streamed(self) -> bool {
        self == MessageKind::FileChunk
    }

    /// The largest body a frame of this kind may carry; the frame decoder enforces it as soon
    /// as the header is in, before buffering the body.
    pub fn body_bytes_max(self) -> u32 {
        match self {
            MessageKind::ShardChanges => {
                CHANGES_OPS_BYTES_MAX + 3 * METADATA_JSON_BYTES_MAX + CHANGES_FIXED_BYTES_MAX
            }
            MessageKind::IndexMetadata => {
                3 * METADATA_JSON_BYTES_MAX + INDEX_METADATA_FIXED_BYTES_MAX
            }
            MessageKind::FileChunk => FILE_CHUNK_BYTES_MAX + FILE_CHUNK_FIXED_BYTES_MAX,
            MessageKind::IndexList | MessageKind::SnapshotManifest => FRAME_BODY_BYTES_MAX,
            MessageKind::Handshake
            | MessageKind::HandshakeAck
            | MessageKind::Error
            | MessageKind::Ack
            | MessageKind::RemoteClusterInfoRequest
            | MessageKind::RemoteClusterInfo
            | MessageKind::ListIndicesRequest
            | MessageKind::IndexMetadataRequest
            | MessageKind::ShardChangesRequest
            | MessageKind::SnapshotStart
            | MessageKind::FileChunkRequest
            | MessageKind::SnapshotRelease
            | MessageKind::RetentionLease => CONTROL_BODY_BYTES_MAX,
        }
    }
}

impl std::fmt::Display for MessageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_number() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::from_u16(kind.as_u16()), Ok(kind));
        }
    }

    #[test]
    fn kind_numbers_are_unique_and_sorted() {
        let numbers: Vec<u16> = MessageKind::ALL.iter().map(|k| k.as_u16()).collect();
        assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn unknown_numbers_are_typed_errors() {
        for number in [0u16, 5, 0x0041, u16::MAX] {
            assert_eq!(
                MessageKind::from_u16(number),
                Err(WireError::UnknownKind { kind: number })
            );
        }
    }

    #[test]
    fn every_request_expects_an_answer_kind_that_is_not_a_request() {
        for kind in MessageKind::ALL.into_iter().filter(|k| k.is_request()) {
            let answer = kind.response_kind().expect("requests have answers");
            assert!(!answer.is_request(), "{kind} answered by a request kind");
        }
    }

    #[test]
    fn every_request_is_a_control_message() {
        for kind in MessageKind::ALL.into_iter().filter(|k| k.is_request()) {
            assert_eq!(kind.body_bytes_max(), CONTROL_BODY_BYTES_MAX, "{kind}");
        }
    }

    #[test]
    fn body_limits_never_exceed_the_frame_limit() {
        for kind in MessageKind::ALL {
            assert!(kind.body_bytes_max() <= FRAME_BODY_BYTES_MAX, "{kind}");
            assert!(kind.body_bytes_max() > 0, "{kind}");
        }
    }
}
